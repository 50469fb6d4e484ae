package web

import (
	"cmp"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

type traceJSON struct {
	Root      *uuid.UUID      `json:"root"` // the first root's batch id (api.md); roots has them all
	Roots     []string        `json:"roots"`
	Direction string          `json:"direction"`
	Depth     int             `json:"depth"`
	Truncated bool            `json:"truncated"`
	Nodes     []traceNodeJSON `json:"nodes"`
	Edges     []traceEdgeJSON `json:"edges"`
}

type traceNodeJSON struct {
	ID            string               `json:"id"`
	Kind          string               `json:"kind"`
	BatchID       *uuid.UUID           `json:"batch_id,omitempty"`
	GTIN          string               `json:"gtin,omitempty"`
	Lot           string               `json:"lot,omitempty"`
	Product       string               `json:"product,omitempty"`
	Location      *traceLocationJSON   `json:"location,omitempty"`
	Party         *tracePartyJSON      `json:"party,omitempty"`
	Quantities    *traceQuantitiesJSON `json:"quantities,omitempty"`
	QualityStatus string               `json:"quality_status,omitempty"`
	Unit          string               `json:"unit,omitempty"` // the quantities' unit by name ("kg")
	UOM           string               `json:"uom,omitempty"`  // and as its Rec 20 code ("KGM")
	Depth         int                  `json:"depth"`
	// The same under the names api.md gives them.
	BatchNumber       string             `json:"batch_number,omitempty"`
	ProductName       string             `json:"product_name,omitempty"`
	QuantityProduced  *quantity.Quantity `json:"quantity_produced,omitempty"`
	QuantityAvailable *quantity.Quantity `json:"quantity_available,omitempty"`
	QuantityShipped   *quantity.Quantity `json:"quantity_shipped,omitempty"`
}

type traceLocationJSON struct {
	GLN  string `json:"gln"`
	Name string `json:"name"`
}

type tracePartyJSON struct {
	PGLN string `json:"pgln"`
	Name string `json:"name"`
}

type traceQuantitiesJSON struct {
	Produced    quantity.Quantity `json:"produced"`
	OnHand      quantity.Quantity `json:"on_hand"`
	Shipped     quantity.Quantity `json:"shipped"`
	Consumed    quantity.Quantity `json:"consumed"`
	Transformed quantity.Quantity `json:"transformed"`
}

type traceEdgeJSON struct {
	From           string               `json:"from"`
	To             string               `json:"to"`
	Kind           string               `json:"kind"`
	EventID        uuid.UUID            `json:"event_id"`
	EventTime      time.Time            `json:"event_time"`
	Quantity       *quantity.Quantity   `json:"quantity"`
	InputQuantity  *quantity.Quantity   `json:"input_quantity,omitempty"`
	OutputQuantity *quantity.Quantity   `json:"output_quantity,omitempty"`
	References     []traceReferenceJSON `json:"references"`
}

type traceReferenceJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func toTraceJSON(g inventory.TraceGraph) traceJSON {
	out := traceJSON{Roots: g.Roots, Direction: g.Direction, Depth: g.Depth, Truncated: g.Truncated,
		Nodes: make([]traceNodeJSON, 0, len(g.Nodes)), Edges: make([]traceEdgeJSON, 0, len(g.Edges))}
	for _, n := range g.Nodes {
		j := traceNodeJSON{ID: n.ID, Kind: n.Kind, BatchID: n.BatchID, GTIN: n.GTIN, Lot: n.Lot, Product: n.Product,
			QualityStatus: n.QualityStatus, Depth: n.Depth, BatchNumber: n.Lot, ProductName: n.Product}
		if out.Root == nil && len(g.Roots) > 0 && n.ID == g.Roots[0] {
			out.Root = n.BatchID
		}
		if n.UOM != "" {
			j.Unit, j.UOM = unitForms(n.UOM)
		}
		if n.LocationGLN != "" || n.LocationName != "" {
			j.Location = &traceLocationJSON{GLN: n.LocationGLN, Name: n.LocationName}
		}
		if n.PartyPGLN != "" || n.PartyName != "" {
			j.Party = &tracePartyJSON{PGLN: n.PartyPGLN, Name: n.PartyName}
		}
		if q := n.Quantities; q != nil {
			j.Quantities = &traceQuantitiesJSON{Produced: q.Produced, OnHand: q.OnHand, Shipped: q.Shipped,
				Consumed: q.Consumed, Transformed: q.Transformed}
			j.QuantityProduced, j.QuantityAvailable, j.QuantityShipped = &q.Produced, &q.OnHand, &q.Shipped
		}
		out.Nodes = append(out.Nodes, j)
	}
	for _, e := range g.Edges {
		j := traceEdgeJSON{From: e.From, To: e.To, Kind: e.Kind, EventID: e.EventID, EventTime: e.EventTime,
			Quantity: e.Quantity, InputQuantity: e.InputQuantity, OutputQuantity: e.OutputQuantity,
			References: make([]traceReferenceJSON, 0, len(e.References))}
		for _, r := range e.References {
			j.References = append(j.References, traceReferenceJSON{Type: r.Type, ID: r.ID})
		}
		out.Edges = append(out.Edges, j)
	}
	return out
}

// traceParams reads direction and depth, which every trace accepts.
func traceParams(q *query) (direction string, depth int) {
	switch direction = q.str("direction"); direction {
	case "", inventory.TraceUp, inventory.TraceDown, inventory.TraceBoth:
	default:
		q.err.Add("direction", "must be up, down or both")
	}
	if s := q.str("depth"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1000 {
			q.err.Add("depth", "must be a whole number between 0 (unbounded) and 1000")
		}
		depth = n
	}
	return direction, depth
}

func (s *Server) showBatchTrace(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	q := newQuery(c)
	direction, depth := traceParams(q)
	if err := q.done(); err != nil {
		return err
	}
	g, err := s.deps.Inventory.Trace(c.UserContext(), inventory.TraceRequest{BatchIDs: []uuid.UUID{id}, Direction: direction, Depth: depth})
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toTraceJSON(g))
}

// showLotTrace traces every row of a lot named by GTIN and lot, or by a
// GS1 Digital Link.
func (s *Server) showLotTrace(c *fiber.Ctx) error {
	q := newQuery(c)
	// dl is api.md's name for the Digital Link; digital_link is kept too.
	gtin, lot, link := q.str("gtin"), q.str("lot"), cmp.Or(q.str("digital_link"), q.str("dl"))
	direction, depth := traceParams(q)
	switch {
	case link != "" && (gtin != "" || lot != ""):
		q.err.Add("digital_link", "give either a Digital Link or gtin and lot, not both")
	case link != "":
		var err error
		if gtin, lot, err = inventory.ParseLotDigitalLink(link); err != nil {
			q.err.Add("digital_link", "must be a GS1 Digital Link naming a GTIN (01) and a lot (10)")
		}
	case gtin == "" && lot == "":
		q.err.Add("gtin", "give gtin and lot, or digital_link")
	}
	if err := q.done(); err != nil {
		return err
	}
	g, err := s.deps.Inventory.TraceLot(c.UserContext(), gtin, lot, direction, depth)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toTraceJSON(g))
}
