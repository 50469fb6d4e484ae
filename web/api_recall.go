package web

import (
	"cmp"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// Recalls (api.md "Recalls"): the impact report, mock recalls kept as a
// record of readiness, and recall cases with their recoveries.

type recallLotsRequest struct {
	BatchIDs []uuid.UUID `json:"batch_ids"`
	Note     string      `json:"note"`
}

type recallRequest struct {
	BatchIDs       []uuid.UUID `json:"batch_ids"`
	Reason         string      `json:"reason"`
	Classification string      `json:"classification"` // optional: unclassified
	DecidedBy      string      `json:"decided_by"`     // optional: the caller
	Mock           bool        `json:"mock"`           // a mock recall: the report, nothing changed
}

// recallSummaryJSON is the part of a recall or mock recall answer that
// api.md names: how long it took, the lots it reached, the customers.
type recallSummaryJSON struct {
	Mock      bool                 `json:"mock"`
	TookMs    float64              `json:"took_ms"`
	Affected  []affectedLotJSON    `json:"affected"`
	Customers []recallCustomerJSON `json:"customers"`
}

type affectedLotJSON struct {
	BatchID      uuid.UUID         `json:"batch_id"`
	GTIN         string            `json:"gtin"`
	BatchNumber  string            `json:"batch_number"`
	OnHand       quantity.Quantity `json:"on_hand"`
	Shipped      quantity.Quantity `json:"shipped"`
	Consumed     quantity.Quantity `json:"consumed"`
	UOM          string            `json:"uom"`
	StatusBefore string            `json:"status_before"` // "" for a mock recall
}

type recallCustomerJSON struct {
	PartyID   *uuid.UUID                 `json:"party_id"`
	Name      string                     `json:"name"`
	Quantity  *quantity.Quantity         `json:"quantity"` // null when it received several units (see totals)
	UOM       string                     `json:"uom"`
	Totals    []inventory.UnitTotal      `json:"totals"`
	Shipments []inventory.RecallShipment `json:"shipments"`
}

func toRecallSummaryJSON(im *inventory.RecallImpact, mock bool, tookMs float64) recallSummaryJSON {
	out := recallSummaryJSON{Mock: mock, TookMs: tookMs, Affected: []affectedLotJSON{}, Customers: []recallCustomerJSON{}}
	if im == nil {
		return out
	}
	for _, l := range im.Lots {
		out.Affected = append(out.Affected, affectedLotJSON{BatchID: l.BatchID, GTIN: l.GTIN, BatchNumber: l.Lot,
			OnHand: l.OnHand, Shipped: l.Shipped, Consumed: l.Consumed, UOM: l.UOM, StatusBefore: string(l.StatusBefore)})
	}
	for _, c := range im.Customers {
		cj := recallCustomerJSON{PartyID: c.PartyID, Name: c.Name, Totals: c.Totals, Shipments: c.Shipments}
		if len(c.Totals) == 1 {
			cj.Quantity, cj.UOM = &c.Totals[0].Quantity, c.Totals[0].UOM
		}
		out.Customers = append(out.Customers, cj)
	}
	return out
}

type recallJSON struct {
	recallSummaryJSON
	StartedAt      time.Time               `json:"started_at"` // = opened_at
	ID             uuid.UUID               `json:"id"`
	Code           string                  `json:"code"`
	Status         string                  `json:"status"`
	Reason         string                  `json:"reason"`
	Classification string                  `json:"classification"`
	DecidedBy      string                  `json:"decided_by"`
	OpenedBy       string                  `json:"opened_by"`
	OpenedAt       time.Time               `json:"opened_at"`
	DurationMs     float64                 `json:"duration_ms"`
	ClosedBy       string                  `json:"closed_by,omitempty"`
	ClosedAt       *time.Time              `json:"closed_at,omitempty"`
	ClosingNote    string                  `json:"closing_note,omitempty"`
	Lots           int64                   `json:"lots"`
	Summary        inventory.RecallSummary `json:"summary"`
	Impact         *inventory.RecallImpact `json:"impact,omitempty"`
	Current        *inventory.RecallImpact `json:"current,omitempty"`
	Recoveries     []recoveryJSON          `json:"recoveries,omitempty"`
}

type recoveryJSON struct {
	ID        uuid.UUID         `json:"id"`
	Kind      string            `json:"kind"`
	BatchID   uuid.UUID         `json:"batch_id"`
	GTIN      string            `json:"gtin"`
	Lot       string            `json:"lot"`
	Product   string            `json:"product"`
	Location  string            `json:"location"`
	PartyID   *uuid.UUID        `json:"party_id"`
	PartyName string            `json:"party_name"`
	Quantity  quantity.Quantity `json:"quantity"`
	UOM       string            `json:"uom"`
	EventID   uuid.UUID         `json:"event_id"`
	Note      string            `json:"note"`
	Actor     string            `json:"actor"`
	CreatedAt time.Time         `json:"created_at"`
	Corrected bool              `json:"corrected"`
}

type mockRecallJSON struct {
	recallSummaryJSON
	ID         uuid.UUID               `json:"id"`
	BatchIDs   []uuid.UUID             `json:"batch_ids"`
	Note       string                  `json:"note"`
	Actor      string                  `json:"actor"`
	StartedAt  time.Time               `json:"started_at"`
	DurationMs float64                 `json:"duration_ms"`
	Summary    inventory.RecallSummary `json:"summary"`
	Impact     *inventory.RecallImpact `json:"impact,omitempty"`
}

func toRecallJSON(r inventory.Recall, whole bool) recallJSON {
	out := recallJSON{ID: r.ID, Code: r.Code(), Status: r.Status, Reason: r.Reason, Classification: r.Classification,
		DecidedBy: r.DecidedBy, OpenedBy: r.OpenedBy, OpenedAt: r.OpenedAt, DurationMs: r.DurationMs,
		ClosedBy: r.ClosedBy, ClosedAt: r.ClosedAt, ClosingNote: r.ClosingNote, Lots: r.LotCount, Summary: r.Impact.Summary}
	out.StartedAt = r.OpenedAt
	out.recallSummaryJSON = toRecallSummaryJSON(&r.Impact, false, r.DurationMs)
	if whole {
		out.Impact, out.Current = &r.Impact, r.Current
		out.Recoveries = make([]recoveryJSON, len(r.Recoveries))
		for i, rc := range r.Recoveries {
			out.Recoveries[i] = toRecoveryJSON(rc)
		}
	}
	return out
}

func toRecoveryJSON(r inventory.Recovery) recoveryJSON {
	return recoveryJSON{ID: r.ID, Kind: r.Kind, BatchID: r.BatchID, GTIN: r.GTIN, Lot: r.Lot, Product: r.Product,
		Location: r.Location, PartyID: r.PartyID, PartyName: r.PartyName, Quantity: r.Quantity, UOM: r.UOM,
		EventID: r.EventID, Note: r.Note, Actor: r.Actor, CreatedAt: r.CreatedAt, Corrected: r.Corrected}
}

func toMockRecallJSON(m inventory.MockRecall) mockRecallJSON {
	return mockRecallJSON{recallSummaryJSON: toRecallSummaryJSON(m.Impact, true, m.DurationMs), ID: m.ID, BatchIDs: m.BatchIDs,
		Note: m.Note, Actor: m.Actor, StartedAt: m.StartedAt, DurationMs: m.DurationMs, Summary: m.Summary, Impact: m.Impact}
}

// showRecallImpact answers what a recall of the lots would reach.
func (s *Server) showRecallImpact(c *fiber.Ctx) error {
	var req recallLotsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	im, err := s.deps.Inventory.RecallImpact(c.UserContext(), req.BatchIDs)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, im)
}

func (s *Server) createMockRecall(c *fiber.Ctx) error {
	var req recallLotsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := s.deps.Inventory.MockRecall(c.UserContext(), actor(c), req.BatchIDs, req.Note)
	if err != nil {
		return err
	}
	c.Location("/api/mock-recalls/" + m.ID.String())
	return sendJSON(c, fiber.StatusCreated, toMockRecallJSON(m))
}

func (s *Server) listMockRecalls(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	ms, err := s.deps.Inventory.ListMockRecalls(c.UserContext(), limit)
	if err != nil {
		return err
	}
	items := make([]mockRecallJSON, len(ms))
	for i, m := range ms {
		items[i] = toMockRecallJSON(m)
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": items})
}

func (s *Server) showMockRecall(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	m, err := s.deps.Inventory.GetMockRecall(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toMockRecallJSON(m))
}

func (s *Server) createRecall(c *fiber.Ctx) error {
	var req recallRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Mock {
		m, err := s.deps.Inventory.MockRecall(c.UserContext(), actor(c), req.BatchIDs, req.Reason)
		if err != nil {
			return err
		}
		c.Location("/api/recalls/" + m.ID.String())
		return sendJSON(c, fiber.StatusCreated, toMockRecallJSON(m))
	}
	r, err := s.deps.Inventory.OpenRecall(c.UserContext(), actor(c), inventory.RecallRequest{BatchIDs: req.BatchIDs,
		Reason: req.Reason, Classification: req.Classification, DecidedBy: req.DecidedBy})
	if err != nil {
		return err
	}
	c.Location("/api/recalls/" + r.ID.String())
	return sendJSON(c, fiber.StatusCreated, toRecallJSON(r, true))
}

func (s *Server) listRecalls(c *fiber.Ctx) error {
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	rs, err := s.deps.Inventory.ListRecalls(c.UserContext(), limit)
	if err != nil {
		return err
	}
	items := make([]recallJSON, len(rs))
	for i, r := range rs {
		items[i] = toRecallJSON(r, false)
	}
	return sendJSON(c, fiber.StatusOK, fiber.Map{"items": items})
}

func (s *Server) showRecall(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.deps.Inventory.GetRecall(c.UserContext(), id)
	if errors.Is(err, inventory.ErrNotFound) {
		// A mock recall opened through POST /api/recalls {"mock": true}.
		if m, merr := s.deps.Inventory.GetMockRecall(c.UserContext(), id); merr == nil {
			return sendJSON(c, fiber.StatusOK, toMockRecallJSON(m))
		}
	}
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toRecallJSON(r, true))
}

type recoveryRequest struct {
	Kind       string             `json:"kind"`
	BatchID    *uuid.UUID         `json:"batch_id"`
	LocationID *uuid.UUID         `json:"location_id"`
	PartyID    *uuid.UUID         `json:"party_id"`
	Quantity   *quantity.Quantity `json:"quantity"`
	Note       string             `json:"note"`
	EventTime  *time.Time         `json:"event_time"`
}

func (s *Server) createRecovery(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	var req recoveryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "batch_id", req.BatchID)
	q := quantityOf(&v, "quantity", req.Quantity)
	if err := v.OrNil(); err != nil {
		return err
	}
	r, err := s.deps.Inventory.RecordRecovery(c.UserContext(), actor(c), id, inventory.RecoveryRequest{Kind: req.Kind,
		BatchID: *req.BatchID, LocationID: req.LocationID, PartyID: req.PartyID, Quantity: q, Note: req.Note,
		EventTime: req.EventTime})
	if err != nil {
		return err
	}
	c.Location("/api/events/" + r.EventID.String())
	return sendJSON(c, fiber.StatusCreated, toRecoveryJSON(r))
}

type closeRecallRequest struct {
	Note string `json:"note"`
}

func (s *Server) closeRecall(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	var req closeRecallRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.deps.Inventory.CloseRecall(c.UserContext(), actor(c), id, req.Note)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toRecallJSON(r, true))
}

// exportRecallCSV is the case as one sortable sheet: a row per affected
// lot, per lot to pull, per shipment to notify, per recovery.
func (s *Server) exportRecallCSV(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.deps.Inventory.GetRecall(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="recall-`+r.Code()+`.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return writeRecallCSV(c.Response().BodyWriter(), r)
}

var recallCSVHeader = []string{"recall", "section", "gtin", "lot", "product", "location or customer", "gln or pgln",
	"contact", "email", "phone", "quantity", "unit", "date", "references", "status before", "status now", "note"}

func writeRecallCSV(w io.Writer, r inventory.Recall) error {
	cw := csv.NewWriter(w)
	code := r.Code()
	row := func(cells ...string) {
		for i := range cells {
			cells[i] = csvCell(cells[i])
		}
		_ = cw.Write(append([]string{code}, cells...))
	}
	_ = cw.Write(recallCSVHeader)
	now := r.Current
	if now == nil {
		now = &r.Impact
	}
	for _, l := range now.Lots {
		row("affected lot", l.GTIN, l.Lot, l.Product, l.LocationName, l.LocationGLN, "", "", "", l.OnHand.String(),
			gs1.UnitName(l.UOM), "", "", string(l.StatusBefore), string(l.Status), l.Role+", depth "+strconv.Itoa(l.Depth))
	}
	for _, at := range now.OnHand {
		for _, st := range at.Stock {
			row("to pull", st.GTIN, st.Lot, st.Product, at.Name, at.GLN, "", "", "", st.Quantity.String(), st.Unit, "", "", "", "", "")
		}
	}
	for _, cu := range now.Customers {
		for _, sh := range cu.Shipments {
			row("to notify", sh.GTIN, sh.Lot, sh.Product, cu.Name+" ("+sh.ShipToName+")", cu.PGLN, cu.ContactName, cu.Email,
				cu.Phone, sh.Quantity.String(), sh.Unit, sh.EventTime.UTC().Format(time.DateOnly), sh.References, "", "", "")
		}
	}
	for _, l := range now.Lots {
		if l.Consumed > 0 {
			row("consumed", l.GTIN, l.Lot, l.Product, l.LocationName, l.LocationGLN, "", "", "", l.Consumed.String(), l.Unit, "", "", "", "", "")
		}
		if l.Transformed > 0 {
			row("transformed", l.GTIN, l.Lot, l.Product, l.LocationName, l.LocationGLN, "", "", "", l.Transformed.String(), l.Unit, "", "", "", "", "")
		}
	}
	for _, x := range now.ExternalLots {
		row("partner lot", x.GTIN, x.Lot, x.Product, "", "", "", "", "", "", "", "", "", "", "", "known only from partners' events")
	}
	for _, rc := range r.Recoveries {
		note := rc.Note
		if rc.Corrected {
			note = "corrected since; " + note
		}
		row("recovered: "+rc.Kind, rc.GTIN, rc.Lot, rc.Product, rc.Location+partyText(rc.PartyName), "", "", "", "",
			rc.Quantity.String(), gs1.UnitName(rc.UOM), rc.CreatedAt.UTC().Format(time.DateOnly), "", "", "", note)
	}
	cw.Flush()
	return cw.Error()
}

func partyText(name string) string {
	if name == "" {
		return ""
	}
	return " (from " + name + ")"
}

// listLimit reads the one parameter the recall lists take: limit (1-200,
// default 50), newest first.
func listLimit(c *fiber.Ctx) (int, error) {
	q := newQuery(c)
	limit := cmp.Or(q.limit(), 50)
	return limit, q.done()
}
