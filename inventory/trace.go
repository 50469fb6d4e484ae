package inventory

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"batchtrack/gs1"
	"batchtrack/quantity"
)

// Trace directions.
const (
	TraceUp   = "up"
	TraceDown = "down"
	TraceBoth = "both"
)

// TraceNodeLimit bounds a trace's lot nodes; a larger graph is cut at the
// nearest nodes and marked truncated.
const TraceNodeLimit = 5000

// Node and edge kinds of a trace graph.
const (
	NodeLot         = "lot"
	NodeExternalLot = "external_lot"
	NodeLocation    = "location"

	EdgeTransformation = "transformation"
	EdgeMovement       = "movement"
	EdgeShipment       = "shipment"
	EdgeReceipt        = "receipt"
)

// TraceRequest asks for the graph around root batches.
type TraceRequest struct {
	BatchIDs  []uuid.UUID
	Direction string // up, down or both (default)
	Depth     int    // 0: unbounded
	Limit     int    // 0: TraceNodeLimit
}

// TraceGraph is every lot reachable from the roots, the edges between
// them, and the partner locations their shipments and receipts name.
type TraceGraph struct {
	Roots     []string
	Direction string
	Depth     int
	Truncated bool
	Nodes     []TraceNode
	Edges     []TraceEdge
}

// TraceNode is a lot at one of our locations (a batch row), a lot known
// only from partners' events, or a partner location.
type TraceNode struct {
	ID            string // b:<batch id>, x:<lot key>, l:<gln> or p:<pgln>
	Kind          string
	BatchID       *uuid.UUID
	GTIN          string
	Lot           string
	Product       string
	LocationGLN   string
	LocationName  string
	PartyPGLN     string
	PartyName     string
	Quantities    *TraceQuantities // lots we hold only
	QualityStatus string
	UOM           string // the Rec 20 unit the quantities are in (lots we hold)
	Depth         int
}

// TraceQuantities is a lot row's ledger by kind, reversals netted.
type TraceQuantities struct {
	Produced    quantity.Quantity // opening quantity and what came in (produced, received, moved in)
	OnHand      quantity.Quantity
	Shipped     quantity.Quantity
	Consumed    quantity.Quantity
	Transformed quantity.Quantity
}

// TraceEdge is stock going from one node to another by an event.
type TraceEdge struct {
	From           string
	To             string
	Kind           string
	EventID        uuid.UUID
	EventTime      time.Time
	Quantity       *quantity.Quantity
	InputQuantity  *quantity.Quantity
	OutputQuantity *quantity.Quantity
	References     []BizTransaction
}

// traceWalk walks the lot edges (trace_edges_down and trace_edges_up,
// migration 00012) breadth first from the roots ($1), up and down as asked
// ($2, $3), to depth $4 (0: unbounded), stopping once more than $5 nodes
// are found. Each step looks up only the edges of its frontier, through
// indexes, and carries the nodes visited so far, so a node is reached once
// at its least depth: cycles end the walk and diamonds do not multiply
// paths (a per-path CYCLE clause would cut cycles but still follow every
// path).
const traceWalk = `WITH RECURSIVE
down (frontier, visited, depth) AS (
    SELECT $1::text[], $1::text[], 0 WHERE $3::boolean
    UNION ALL
    SELECT x.next, d.visited || x.next, d.depth + 1
    FROM down d, LATERAL (
        SELECT array_agg(DISTINCT e.dst) AS next
        FROM trace_edges_down(d.frontier) e
        WHERE NOT e.dst = ANY (d.visited)
    ) x
    WHERE x.next IS NOT NULL AND ($4::int = 0 OR d.depth < $4::int) AND cardinality(d.visited) <= $5::int
),
up (frontier, visited, depth) AS (
    SELECT $1::text[], $1::text[], 0 WHERE $2::boolean
    UNION ALL
    SELECT x.next, u.visited || x.next, u.depth + 1
    FROM up u, LATERAL (
        SELECT array_agg(DISTINCT e.src) AS next
        FROM trace_edges_up(u.frontier) e
        WHERE NOT e.src = ANY (u.visited)
    ) x
    WHERE x.next IS NOT NULL AND ($4::int = 0 OR u.depth < $4::int) AND cardinality(u.visited) <= $5::int
)
SELECT node, min(depth)::int AS depth
FROM (SELECT unnest(frontier) AS node, depth FROM down
      UNION ALL
      SELECT unnest(frontier), depth FROM up) n
GROUP BY node
ORDER BY 2, 1
LIMIT $5::int + 1`

// traceEdgesAmong is the edges between the nodes found ($1): those
// leaving them that reach one of them.
const traceEdgesAmong = `
SELECT e.src, e.dst, e.kind, e.event_id, ev.event_time, e.quantity, e.input_quantity, e.output_quantity
FROM trace_edges_down($1::text[]) e
JOIN events ev ON ev.id = e.event_id
WHERE e.dst = ANY ($1::text[])
ORDER BY ev.event_time, e.event_id, e.src, e.dst`

// traceBatches is the details of the lot rows found.
const traceBatches = `
SELECT b.id, p.gtin, b.batch_number, p.name, l.gln, l.name,
       coalesce(pa.pgln, (SELECT pgln FROM parties WHERE is_own ORDER BY created_at LIMIT 1), ''),
       coalesce(pa.name, (SELECT name FROM parties WHERE is_own ORDER BY created_at LIMIT 1), ''),
       b.quality_status, b.quantity_available,
       b.quantity_produced + coalesce(sum(ledger_delta(c.kind, c.quantity)) FILTER (
           WHERE (CASE WHEN c.kind = 'reversal' THEN c.reverses_kind ELSE c.kind END) IN ('produce', 'receive', 'move_in')), 0),
       -coalesce(sum(ledger_delta(c.kind, c.quantity)) FILTER (
           WHERE (CASE WHEN c.kind = 'reversal' THEN c.reverses_kind ELSE c.kind END) = 'ship'), 0),
       -coalesce(sum(ledger_delta(c.kind, c.quantity)) FILTER (
           WHERE (CASE WHEN c.kind = 'reversal' THEN c.reverses_kind ELSE c.kind END) = 'consume'), 0),
       -coalesce(sum(ledger_delta(c.kind, c.quantity)) FILTER (
           WHERE (CASE WHEN c.kind = 'reversal' THEN c.reverses_kind ELSE c.kind END) = 'transform_in'), 0),
       b.unit_of_measure
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
LEFT JOIN parties pa ON pa.id = l.party_id
LEFT JOIN consumptions c ON c.batch_id = b.id
WHERE b.id = ANY ($1::uuid[])
GROUP BY b.id, p.id, l.id, pa.id`

// traceLeaves is the shipments to and receipts from partners of the lot
// rows found ($1) with their references' document numbers, shipments when tracing down ($2), receipts when tracing
// up ($3): transfers between our own locations are movements.
const traceLeaves = `
SELECT e.id, e.event_time, e.biz_step, eb.batch_id, eb.quantity,
       coalesce(l.gln, substr(loc.key, 5), ''), coalesce(l.name, ''),
       coalesce(pa.pgln, substr(own.key, 5), ''), coalesce(pa.name, lp.name, ''),
       coalesce((SELECT jsonb_agg(jsonb_build_object('type', bt.type,
                     'id', regexp_replace(bt.id, '^urn:epcglobal:cbv:bt:[0-9]{13}:', '')) ORDER BY bt.type, bt.id)
                 FROM event_biz_transactions bt WHERE bt.event_id = e.id), '[]')
FROM event_batches eb
JOIN events e ON e.id = eb.event_id
LEFT JOIN LATERAL (SELECT key FROM event_parties ep
                   WHERE ep.event_id = e.id AND ep.type = 'location'
                     AND ep.kind = CASE e.biz_step WHEN 'shipping' THEN 'destination' ELSE 'source' END
                   LIMIT 1) loc ON true
LEFT JOIN LATERAL (SELECT key FROM event_parties ep
                   WHERE ep.event_id = e.id AND ep.type = 'owning_party'
                     AND ep.kind = CASE e.biz_step WHEN 'shipping' THEN 'destination' ELSE 'source' END
                   LIMIT 1) own ON true
LEFT JOIN locations l ON l.gln = substr(loc.key, 5)
LEFT JOIN parties lp ON lp.id = l.party_id
LEFT JOIN parties pa ON pa.pgln = substr(own.key, 5)
WHERE eb.batch_id = ANY ($1::uuid[]) AND eb.role = 'object' AND e.declared_in_error_at IS NULL
  AND e.event_type = 'ObjectEvent'
  AND (($2::boolean AND e.biz_step = 'shipping' AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.ship_event_id = e.id))
    OR ($3::boolean AND e.biz_step = 'receiving' AND NOT EXISTS (SELECT 1 FROM transfer_receipts tr WHERE tr.receive_event_id = e.id)))
ORDER BY e.event_time, e.id`

// Trace returns the graph of lots reachable from the root batches.
func (s *Service) Trace(ctx context.Context, r TraceRequest) (TraceGraph, error) {
	var v ValidationError
	if len(r.BatchIDs) == 0 {
		v.Add("batch_ids", "must name at least one batch")
	}
	switch r.Direction {
	case "":
		r.Direction = TraceBoth
	case TraceUp, TraceDown, TraceBoth:
	default:
		v.Add("direction", "must be up, down or both")
	}
	if r.Depth < 0 || r.Depth > 1000 {
		v.Add("depth", "must be between 0 (unbounded) and 1000")
	}
	if err := v.OrNil(); err != nil {
		return TraceGraph{}, err
	}
	if r.Limit <= 0 {
		r.Limit = TraceNodeLimit
	}
	roots := make([]string, 0, len(r.BatchIDs))
	for _, id := range r.BatchIDs {
		if n := "b:" + id.String(); !slices.Contains(roots, n) {
			roots = append(roots, n)
		}
	}
	g := TraceGraph{Roots: roots, Direction: r.Direction, Depth: r.Depth, Nodes: []TraceNode{}, Edges: []TraceEdge{}}
	tx, err := s.store.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return g, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only

	// Planning the walk (trace_edges_* inlined, both directions) costs more
	// than running it; the trace statements are the same every time, so a
	// connection plans them once (the pool plans per execution, db.Open).
	var found int
	if err := tx.QueryRow(ctx, `SELECT count(*), set_config('plan_cache_mode', 'force_generic_plan', true)
		FROM batches WHERE id = ANY ($1::uuid[])`, r.BatchIDs).Scan(&found, nil); err != nil {
		return g, err
	}
	if found != len(roots) {
		return g, &NotFoundError{What: "batch"}
	}

	rows, err := tx.Query(ctx, traceWalk, roots, r.Direction != TraceDown, r.Direction != TraceUp, r.Depth, r.Limit)
	if err != nil {
		return g, err
	}
	depth := map[string]int{}
	var ids []string
	var batchIDs []uuid.UUID
	var gtins []string
	for rows.Next() {
		var n string
		var d int
		if err := rows.Scan(&n, &d); err != nil {
			rows.Close()
			return g, err
		}
		if len(ids) == r.Limit {
			g.Truncated = true
			continue
		}
		depth[n] = d
		ids = append(ids, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return g, err
	}

	nodes := make(map[string]*TraceNode, len(ids))
	for _, n := range ids {
		switch {
		case strings.HasPrefix(n, "b:"):
			id, err := uuid.Parse(n[2:])
			if err != nil {
				return g, err
			}
			batchIDs = append(batchIDs, id)
		case strings.HasPrefix(n, "x:"):
			gtin, lot, _ := parseLotKey(n[2:])
			nodes[n] = &TraceNode{ID: n, Kind: NodeExternalLot, GTIN: gtin, Lot: lot, Depth: depth[n]}
			gtins = append(gtins, gtin)
		}
	}

	rows, err = tx.Query(ctx, traceBatches, batchIDs)
	if err != nil {
		return g, err
	}
	for rows.Next() {
		var id uuid.UUID
		var gtin *string
		var q TraceQuantities
		nd := TraceNode{Kind: NodeLot}
		if err := rows.Scan(&id, &gtin, &nd.Lot, &nd.Product, &nd.LocationGLN, &nd.LocationName, &nd.PartyPGLN, &nd.PartyName,
			&nd.QualityStatus, &q.OnHand, &q.Produced, &q.Shipped, &q.Consumed, &q.Transformed, &nd.UOM); err != nil {
			rows.Close()
			return g, err
		}
		nd.ID = "b:" + id.String()
		nd.BatchID = &id
		if gtin != nil {
			nd.GTIN = *gtin
		}
		nd.Quantities = &q
		nd.Depth = depth[nd.ID]
		nodes[nd.ID] = &nd
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return g, err
	}

	if len(gtins) > 0 {
		rows, err = tx.Query(ctx, `SELECT gtin, name FROM products WHERE gtin = ANY ($1::text[])`, gtins)
		if err != nil {
			return g, err
		}
		names := map[string]string{}
		for rows.Next() {
			var gtin, name string
			if err := rows.Scan(&gtin, &name); err != nil {
				rows.Close()
				return g, err
			}
			names[gtin] = name
		}
		rows.Close()
		for _, n := range nodes {
			if n.Kind == NodeExternalLot {
				n.Product = names[n.GTIN]
			}
		}
	}

	rows, err = tx.Query(ctx, traceEdgesAmong, ids)
	if err != nil {
		return g, err
	}
	for rows.Next() {
		var e TraceEdge
		if err := rows.Scan(&e.From, &e.To, &e.Kind, &e.EventID, &e.EventTime, &e.Quantity, &e.InputQuantity, &e.OutputQuantity); err != nil {
			rows.Close()
			return g, err
		}
		e.References = []BizTransaction{}
		g.Edges = append(g.Edges, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return g, err
	}

	if err := s.traceLeaves(ctx, tx, batchIDs, r.Direction, nodes, &g); err != nil {
		return g, err
	}
	for _, n := range ids {
		if nd, ok := nodes[n]; ok {
			g.Nodes = append(g.Nodes, *nd)
		}
	}
	for _, nd := range nodes {
		if nd.Kind == NodeLocation {
			g.Nodes = append(g.Nodes, *nd)
		}
	}
	slices.SortStableFunc(g.Nodes, func(a, b TraceNode) int {
		if a.Depth != b.Depth {
			return a.Depth - b.Depth
		}
		return strings.Compare(a.ID, b.ID)
	})
	return g, tx.Commit(ctx)
}

// traceLeaves adds the partner locations the lots were shipped to (down)
// or received from (up), and those edges.
func (s *Service) traceLeaves(ctx context.Context, tx pgx.Tx, batchIDs []uuid.UUID, direction string, nodes map[string]*TraceNode, g *TraceGraph) error {
	if len(batchIDs) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, traceLeaves, batchIDs, direction != TraceUp, direction != TraceDown)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e TraceEdge
		var step *string
		var batchID uuid.UUID
		var gln, locName, pgln, partyName string
		var refs []byte
		if err := rows.Scan(&e.EventID, &e.EventTime, &step, &batchID, &e.Quantity, &gln, &locName, &pgln, &partyName, &refs); err != nil {
			return err
		}
		loc := "l:" + gln
		switch {
		case gln == "" && pgln == "":
			continue // an event that names no partner: nothing to draw
		case gln == "":
			loc = "p:" + pgln
		}
		lot := "b:" + batchID.String()
		owner, ok := nodes[lot]
		if !ok {
			continue
		}
		if _, ok := nodes[loc]; !ok {
			nodes[loc] = &TraceNode{ID: loc, Kind: NodeLocation, LocationGLN: gln, LocationName: locName, PartyPGLN: pgln,
				PartyName: partyName, Depth: owner.Depth + 1}
		} else if nodes[loc].Depth > owner.Depth+1 {
			nodes[loc].Depth = owner.Depth + 1
		}
		e.References = []BizTransaction{}
		if err := json.Unmarshal(refs, &e.References); err != nil {
			return err
		}
		if step != nil && *step == "shipping" {
			e.From, e.To, e.Kind = lot, loc, EdgeShipment
		} else {
			e.From, e.To, e.Kind = loc, lot, EdgeReceipt
		}
		g.Edges = append(g.Edges, e)
	}
	return rows.Err()
}

// TraceLot traces every row of a lot (at any of our locations).
func (s *Service) TraceLot(ctx context.Context, gtin, lot, direction string, depth int) (TraceGraph, error) {
	var v ValidationError
	g, err := gs1.NormalizeGTIN(gtin)
	if err != nil {
		v.Add("gtin", "must be a GTIN-8, -12, -13 or -14 with a valid check digit")
	}
	if gs1.ValidateLot(lot) != nil {
		v.Add("lot", "must be 1 to 20 characters of GS1 character set 82")
	}
	if err := v.OrNil(); err != nil {
		return TraceGraph{}, err
	}
	rows, err := s.store.Pool.Query(ctx, `
		SELECT b.id FROM batches b JOIN products p ON p.id = b.product_id
		WHERE p.gtin = $1 AND b.batch_number = $2 ORDER BY b.created_at, b.id`, g, lot)
	if err != nil {
		return TraceGraph{}, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return TraceGraph{}, err
	}
	if len(ids) == 0 {
		return TraceGraph{}, &NotFoundError{What: "lot"}
	}
	return s.Trace(ctx, TraceRequest{BatchIDs: ids, Direction: direction, Depth: depth})
}

// ParseLotDigitalLink reads the GTIN and lot of a GS1 Digital Link such as
// https://id.gs1.org/01/09506000134352/10/ABC1 (any host, a query ignored).
func ParseLotDigitalLink(link string) (gtin, lot string, err error) {
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", Invalid("digital_link", "must be a GS1 Digital Link URL")
	}
	parts := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for i := 0; i+3 < len(parts); i++ {
		if parts[i] == "01" && parts[i+2] == "10" {
			g, l, err := gs1.ParseDigitalLinkPath(parts[i+1], parts[i+3])
			if err != nil {
				return "", "", Invalid("digital_link", "must name a valid GTIN (01) and lot (10)")
			}
			return g, l, nil
		}
	}
	return "", "", Invalid("digital_link", "must name a GTIN (01) and a lot (10)")
}
