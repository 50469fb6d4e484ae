package inventory

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"batchtrack/db"
	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/idempotency"
	"batchtrack/quantity"
)

// Recall classifications: the FDA's classes by how serious the hazard is,
// and a market withdrawal (a problem that is no violation).
var RecallClassifications = []string{"unclassified", "class_i", "class_ii", "class_iii", "market_withdrawal"}

// Recall case states.
const (
	RecallOpen   = "open"
	RecallClosed = "closed"
)

// Recovery kinds: stock a customer returned to one of our locations, or
// stock destroyed.
const (
	RecoveryReturned  = "returned"
	RecoveryDestroyed = "destroyed"
)

// recallNodeLimit bounds a recall's reach. A recall is never cut short:
// one that reaches more lots than this is refused, to be split.
const recallNodeLimit = 50000

// maxRecallRoots bounds the lots one recall may name.
const maxRecallRoots = 100

// RecallImpact is everything a recall of some lots reaches: the lot rows
// we hold (with their mass balance), lots known only from partners'
// events, stock to pull per location, shipments to notify per customer.
type RecallImpact struct {
	Roots        []uuid.UUID         `json:"roots"`
	Lots         []RecallLot         `json:"lots"`
	ExternalLots []RecallExternalLot `json:"external_lots"`
	OnHand       []RecallLocation    `json:"on_hand"`
	Customers    []RecallCustomer    `json:"customers"`
	Summary      RecallSummary       `json:"summary"`
	ComputedAt   time.Time           `json:"computed_at"`
	DurationMs   float64             `json:"duration_ms"`
}

// RecallLot is one lot row a recall reaches, and its mass balance.
type RecallLot struct {
	BatchID      uuid.UUID         `json:"batch_id"`
	GTIN         string            `json:"gtin"`
	Lot          string            `json:"lot"`
	Product      string            `json:"product"`
	LocationGLN  string            `json:"location_gln"`
	LocationName string            `json:"location_name"`
	Role         string            `json:"role"` // root or downstream
	Depth        int               `json:"depth"`
	Status       QualityStatus     `json:"quality_status"`
	StatusBefore QualityStatus     `json:"status_before,omitempty"` // in a recall case: before the recall
	UOM          string            `json:"uom"`
	Unit         string            `json:"unit"`
	In           quantity.Quantity `json:"in"` // produced, received, moved in and adjusted
	OnHand       quantity.Quantity `json:"on_hand"`
	Shipped      quantity.Quantity `json:"shipped"`
	Consumed     quantity.Quantity `json:"consumed"`
	Transformed  quantity.Quantity `json:"transformed"`
	Destroyed    quantity.Quantity `json:"destroyed"`
	MovedOut     quantity.Quantity `json:"moved_out"`
	InTransit    quantity.Quantity `json:"in_transit"`
	Balanced     bool              `json:"balanced"`
}

// RecallExternalLot is a lot a recall reaches that we do not hold: known
// from a partner's transformation event.
type RecallExternalLot struct {
	GTIN    string `json:"gtin"`
	Lot     string `json:"lot"`
	Product string `json:"product,omitempty"`
	Depth   int    `json:"depth"`
}

// RecallLocation is stock to pull at one of our locations.
type RecallLocation struct {
	GLN    string        `json:"gln"`
	Name   string        `json:"name"`
	Stock  []RecallStock `json:"stock"`
	Totals []UnitTotal   `json:"totals"`
}

// RecallStock is a lot's quantity on hand at a location.
type RecallStock struct {
	BatchID  uuid.UUID         `json:"batch_id"`
	GTIN     string            `json:"gtin"`
	Lot      string            `json:"lot"`
	Product  string            `json:"product"`
	Quantity quantity.Quantity `json:"quantity"`
	UOM      string            `json:"uom"`
	Unit     string            `json:"unit"`
}

// RecallCustomer is a partner that received affected stock, to notify.
type RecallCustomer struct {
	PartyID     *uuid.UUID       `json:"party_id,omitempty"`
	PGLN        string           `json:"pgln"`
	Name        string           `json:"name"`
	ContactName string           `json:"contact_name"`
	Email       string           `json:"email"`
	Phone       string           `json:"phone"`
	Shipments   []RecallShipment `json:"shipments"`
	Totals      []UnitTotal      `json:"totals"`
}

// RecallShipment is one lot in one shipment to a customer.
type RecallShipment struct {
	EventID    uuid.UUID         `json:"event_id"`
	EventTime  time.Time         `json:"event_time"`
	BatchID    uuid.UUID         `json:"batch_id"`
	GTIN       string            `json:"gtin"`
	Lot        string            `json:"lot"`
	Product    string            `json:"product"`
	Quantity   quantity.Quantity `json:"quantity"`
	UOM        string            `json:"uom"`
	Unit       string            `json:"unit"`
	ShipToGLN  string            `json:"ship_to_gln"`
	ShipToName string            `json:"ship_to_name"`
	References string            `json:"references"` // "desadv 4711, po 1001"
}

// UnitTotal is a sum in one unit: stock of different products only adds
// up per unit.
type UnitTotal struct {
	Quantity quantity.Quantity `json:"quantity"`
	UOM      string            `json:"uom"`
	Unit     string            `json:"unit"`
}

// RecallSummary is the impact in a few figures.
type RecallSummary struct {
	Lots         int         `json:"lots"`
	ExternalLots int         `json:"external_lots"`
	Locations    int         `json:"locations"`
	Customers    int         `json:"customers"`
	Shipments    int         `json:"shipments"`
	OnHand       []UnitTotal `json:"on_hand"`
	Shipped      []UnitTotal `json:"shipped"`
	Consumed     []UnitTotal `json:"consumed"`
	Transformed  []UnitTotal `json:"transformed"`
	Destroyed    []UnitTotal `json:"destroyed"`
	InTransit    []UnitTotal `json:"in_transit"`
	// Balanced: every lot's in - out = on hand.
	Balanced bool `json:"balanced"`
}

// RecallRequest opens a recall.
type RecallRequest struct {
	BatchIDs       []uuid.UUID
	Reason         string
	Classification string
	DecidedBy      string
}

// Recall is a recall case.
type Recall struct {
	ID             uuid.UUID
	Number         int64
	Status         string
	Reason         string
	Classification string
	DecidedBy      string
	OpenedBy       string
	OpenedAt       time.Time
	DurationMs     float64
	ClosedBy       string
	ClosedAt       *time.Time
	ClosingNote    string
	LotCount       int64
	// Impact is as it stood at confirmation; Current (GetRecall only) is
	// the same lots now, with what was pulled and recovered since.
	Impact     RecallImpact
	Current    *RecallImpact
	Recoveries []Recovery
}

// Code is the case's reference, "RC-0007".
func (r Recall) Code() string { return RecallCode(r.Number) }

// RecallCode formats a recall number.
func RecallCode(n int64) string {
	s := strconv.FormatInt(n, 10)
	if len(s) < 4 {
		s = strings.Repeat("0", 4-len(s)) + s
	}
	return "RC-" + s
}

// Recovery is stock recovered against a recall.
type Recovery struct {
	ID        uuid.UUID
	Kind      string
	BatchID   uuid.UUID
	GTIN      string
	Lot       string
	Product   string
	Location  string
	PartyID   *uuid.UUID
	PartyName string
	Quantity  quantity.Quantity
	UOM       string
	EventID   uuid.UUID
	Note      string
	Actor     string
	CreatedAt time.Time
	Corrected bool // its event was declared in error since
}

// RecoveryRequest records stock returned by a customer into one of our
// locations, or destroyed, against an open recall.
type RecoveryRequest struct {
	Kind       string
	BatchID    uuid.UUID  // returned: the recalled lot (any of its rows); destroyed: the row destroyed from
	LocationID *uuid.UUID // returned: where it arrives (default: the named row's location)
	PartyID    *uuid.UUID // returned: the customer it comes from
	Quantity   quantity.Quantity
	Note       string
	EventTime  *time.Time
}

// MockRecall is a timed impact report that changed nothing.
type MockRecall struct {
	ID         uuid.UUID
	BatchIDs   []uuid.UUID
	Note       string
	Actor      string
	StartedAt  time.Time
	DurationMs float64
	Impact     *RecallImpact // nil in lists
	Summary    RecallSummary
}

func checkRoots(v *ValidationError, ids []uuid.UUID) {
	switch {
	case len(ids) == 0:
		v.Add("batch_ids", "must name at least one lot")
	case len(ids) > maxRecallRoots:
		v.Add("batch_ids", "must name at most "+strconv.Itoa(maxRecallRoots)+" lots")
	}
	if slices.Contains(ids, uuid.Nil) {
		v.Add("batch_ids", "must be batch ids")
	}
}

// RecallImpact computes what recalling the lots would reach, changing
// nothing.
func (s *Service) RecallImpact(ctx context.Context, batchIDs []uuid.UUID) (RecallImpact, error) {
	var v ValidationError
	checkRoots(&v, batchIDs)
	if err := v.OrNil(); err != nil {
		return RecallImpact{}, err
	}
	start := time.Now()
	var out RecallImpact
	err := s.readOnly(ctx, func(tx pgx.Tx, q *db.Queries) error {
		roots, err := rootRows(ctx, q, batchIDs)
		if err != nil {
			return err
		}
		reach, err := walkDown(ctx, tx, roots)
		if err != nil {
			return err
		}
		out, err = s.impactOf(ctx, q, roots, reach, nil)
		return err
	})
	out.DurationMs = msSince(start)
	return out, err
}

// MockRecall runs the impact report for the lots, times it, and keeps it.
func (s *Service) MockRecall(ctx context.Context, actor Actor, batchIDs []uuid.UUID, note string) (MockRecall, error) {
	var v ValidationError
	checkRoots(&v, batchIDs)
	checkText(&v, "note", note, 0, 1000)
	if err := v.OrNil(); err != nil {
		return MockRecall{}, err
	}
	if out, ok, err := idempotency.Replay[MockRecall](ctx); ok {
		return out, err
	}
	impact, err := s.RecallImpact(ctx, batchIDs)
	if err != nil {
		return MockRecall{}, err
	}
	doc, err := json.Marshal(impact)
	if err != nil {
		return MockRecall{}, err
	}
	var out MockRecall
	err = s.store.InTx(ctx, db.TxOptions{}, func(q *db.Queries) error {
		row, err := q.InsertMockRecall(ctx, db.InsertMockRecallParams{BatchIds: batchIDs, Note: note,
			Actor: actor.name(), DurationMs: impact.DurationMs, Impact: doc})
		if err != nil {
			return err
		}
		out = MockRecall{ID: row.ID, BatchIDs: row.BatchIds, Note: row.Note, Actor: row.Actor, StartedAt: row.StartedAt,
			DurationMs: row.DurationMs, Impact: &impact, Summary: impact.Summary}
		return idempotency.Keep(ctx, q, out)
	})
	if err != nil {
		return MockRecall{}, unwrapDomain(err)
	}
	return out, nil
}

// GetMockRecall returns a kept mock recall with its report.
func (s *Service) GetMockRecall(ctx context.Context, id uuid.UUID) (MockRecall, error) {
	row, err := s.store.GetMockRecall(ctx, id)
	if err != nil {
		return MockRecall{}, notFound(err, "mock recall", "")
	}
	var impact RecallImpact
	if err := json.Unmarshal(row.Impact, &impact); err != nil {
		return MockRecall{}, err
	}
	return MockRecall{ID: row.ID, BatchIDs: row.BatchIds, Note: row.Note, Actor: row.Actor, StartedAt: row.StartedAt,
		DurationMs: row.DurationMs, Impact: &impact, Summary: impact.Summary}, nil
}

// ListMockRecalls returns the latest mock recalls, newest first.
func (s *Service) ListMockRecalls(ctx context.Context, limit int) ([]MockRecall, error) {
	rows, err := s.store.ListMockRecalls(ctx, int32(limit))
	if err != nil {
		return nil, err
	}
	out := make([]MockRecall, 0, len(rows))
	for _, r := range rows {
		m := MockRecall{ID: r.ID, BatchIDs: r.BatchIds, Note: r.Note, Actor: r.Actor, StartedAt: r.StartedAt, DurationMs: r.DurationMs}
		if err := json.Unmarshal(r.Summary, &m.Summary); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// OpenRecall recalls the lots and every lot downstream of them that we
// hold, in one transaction: the rows are locked, set recalled, a recall
// event is recorded per location, and the case keeps the impact as it
// stood. A movement that committed before the locks is in the impact; one
// waiting on them finds the lots recalled and is refused.
func (s *Service) OpenRecall(ctx context.Context, actor Actor, r RecallRequest) (Recall, error) {
	var v ValidationError
	checkRoots(&v, r.BatchIDs)
	r.Reason, r.DecidedBy = strings.TrimSpace(r.Reason), strings.TrimSpace(r.DecidedBy)
	// Scripts may leave both out (api.md): not yet classified, decided by
	// whoever opens it.
	r.Classification = cmp.Or(r.Classification, "unclassified")
	r.DecidedBy = cmp.Or(r.DecidedBy, actor.name())
	checkText(&v, "reason", r.Reason, 1, 1000)
	checkText(&v, "decided_by", r.DecidedBy, 1, 200)
	if !slices.Contains(RecallClassifications, r.Classification) {
		v.Add("classification", "must be one of "+strings.Join(RecallClassifications, ", "))
	}
	if err := v.OrNil(); err != nil {
		return Recall{}, err
	}
	if out, ok, err := idempotency.Replay[Recall](ctx); ok {
		s.changed(ctx, Change{Batches: lotIDs(out.Impact.Lots), List: true, Events: true})
		return out, err
	}
	start := time.Now()
	var out Recall
	var touched []uuid.UUID
	err := s.store.InTxWith(ctx, db.TxOptions{LockTimeout: s.lockTimeout}, func(tx pgx.Tx, q *db.Queries) error {
		roots, err := rootRows(ctx, q, r.BatchIDs)
		if err != nil {
			return err
		}
		reach, before, err := lockReach(ctx, tx, q, roots)
		if err != nil {
			return err
		}
		impact, err := s.impactOf(ctx, q, roots, reach, before)
		if err != nil {
			return err
		}
		impact.DurationMs = msSince(start)
		doc, err := json.Marshal(impact)
		if err != nil {
			return err
		}
		row, err := q.InsertRecall(ctx, db.InsertRecallParams{Reason: r.Reason, Classification: r.Classification,
			DecidedBy: r.DecidedBy, OpenedBy: actor.name(), DurationMs: impact.DurationMs, Impact: doc})
		if err != nil {
			return err
		}
		code := RecallCode(row.Number)
		ids := make([]uuid.UUID, len(impact.Lots))
		for i, l := range impact.Lots {
			ids[i] = l.BatchID
		}
		if err := q.MarkRecalled(ctx, db.MarkRecalledParams{Ids: ids, StatusReason: code + ": " + r.Reason}); err != nil {
			return err
		}
		events, err := s.recordRecallEvents(ctx, q, actor, code, r.Reason, impact.Lots)
		if err != nil {
			return err
		}
		for _, l := range impact.Lots {
			if err := q.InsertRecallLot(ctx, db.InsertRecallLotParams{RecallID: row.ID, BatchID: l.BatchID, Role: l.Role,
				Depth: int32(l.Depth), StatusBefore: string(l.StatusBefore), EventID: events[l.BatchID]}); err != nil {
				return err
			}
		}
		touched = ids
		out = recallFromRow(row, int64(len(ids)))
		out.Impact = impact
		return idempotency.Keep(ctx, q, out)
	})
	if errors.Is(err, db.ErrLockTimeout) {
		s.metrics.LockTimeouts.Inc()
		return Recall{}, ErrLockTimeout
	}
	if err != nil {
		return Recall{}, unwrapDomain(err)
	}
	s.changed(ctx, Change{Batches: touched, List: true, Events: true})
	return out, nil
}

// recordRecallEvents records one EPCIS event per location: an observation
// with disposition recalled of every lot there, with what it holds.
func (s *Service) recordRecallEvents(ctx context.Context, q *db.Queries, actor Actor, code, reason string, lots []RecallLot) (map[uuid.UUID]uuid.UUID, error) {
	type atLocation struct {
		id    uuid.UUID
		lots  []RecallLot
		empty []uuid.UUID
	}
	rows, err := q.BatchLocations(ctx, lotIDs(lots))
	if err != nil {
		return nil, err
	}
	locOf := map[uuid.UUID]uuid.UUID{}
	for _, r := range rows {
		locOf[r.ID] = r.LocationID
	}
	var order []uuid.UUID
	groups := map[uuid.UUID]*atLocation{}
	for _, l := range lots {
		loc := locOf[l.BatchID]
		g, ok := groups[loc]
		if !ok {
			g = &atLocation{id: loc}
			groups[loc] = g
			order = append(order, loc)
		}
		g.lots = append(g.lots, l)
	}
	now := s.now()
	out := map[uuid.UUID]uuid.UUID{}
	for _, loc := range order {
		g := groups[loc]
		rec := eventRecord{EventType: "ObjectEvent", Action: ptr("OBSERVE"), EventTime: now, EventTimezone: timezoneOffset(now),
			BizStep: ptr("holding"), Disposition: ptr("recalled"), ReadPointID: &g.id, BizLocationID: &g.id,
			SourceType: "system", Actor: actor.name(), Notes: "Recall " + code + ": " + reason,
			Extensions: map[string]any{"bt:recall": code}}
		for _, l := range g.lots {
			if l.OnHand > 0 {
				rec.QuantityList = append(rec.QuantityList, QuantityItem{BatchID: l.BatchID, Quantity: l.OnHand, UOM: l.UOM})
			} else {
				rec.ExtraBatchIDs = append(rec.ExtraBatchIDs, l.BatchID)
			}
		}
		id, err := insertEvent(ctx, q, rec)
		if err != nil {
			return nil, err
		}
		for _, l := range g.lots {
			out[l.BatchID] = id
		}
	}
	return out, nil
}

// rootRows is every row of the named lots, at all of our locations.
func rootRows(ctx context.Context, q *db.Queries, ids []uuid.UUID) ([]uuid.UUID, error) {
	rows, err := q.ExpandLots(ctx, ids)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, &NotFoundError{What: "batch", Field: "batch_ids"}
	}
	found, err := q.BatchLocations(ctx, ids)
	if err != nil {
		return nil, err
	}
	if len(found) != len(uniqueIDs(ids)) {
		return nil, &NotFoundError{What: "batch", Field: "batch_ids"}
	}
	return rows, nil
}

// lockReach walks down from the roots and locks what it finds (open
// transfers out of the rows first, then the rows in id order), and walks
// again until a walk finds nothing new: a movement that committed between
// a walk and the locks has added a lot, which the next round locks. It
// returns the depth of every node and each row's status before the recall.
func lockReach(ctx context.Context, tx pgx.Tx, q *db.Queries, roots []uuid.UUID) (map[string]int, map[uuid.UUID]QualityStatus, error) {
	locked := map[uuid.UUID]bool{}
	before := map[uuid.UUID]QualityStatus{}
	for round := 0; round < 10; round++ {
		reach, err := walkDown(ctx, tx, roots)
		if err != nil {
			return nil, nil, err
		}
		var fresh []uuid.UUID
		for n := range reach {
			if id, ok := batchNode(n); ok && !locked[id] {
				fresh = append(fresh, id)
			}
		}
		if len(fresh) == 0 {
			return reach, before, nil
		}
		slices.SortFunc(fresh, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
		if _, err := q.LockOpenTransfersFrom(ctx, fresh); err != nil {
			return nil, nil, err
		}
		rows, err := q.LockBatches(ctx, fresh)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rows {
			locked[r.ID] = true
			before[r.ID] = QualityStatus(r.QualityStatus)
		}
	}
	return nil, nil, ErrLockTimeout // the chain kept growing under us: try again
}

// walkDown is every node downstream of the roots (themselves included)
// with its least depth, uncut: a reach beyond recallNodeLimit is refused.
func walkDown(ctx context.Context, tx pgx.Tx, roots []uuid.UUID) (map[string]int, error) {
	nodes := make([]string, len(roots))
	for i, id := range roots {
		nodes[i] = "b:" + id.String()
	}
	rows, err := tx.Query(ctx, traceWalk, nodes, false, true, 0, recallNodeLimit)
	if err != nil {
		return nil, err
	}
	reach := map[string]int{}
	for rows.Next() {
		var n string
		var d int
		if err := rows.Scan(&n, &d); err != nil {
			rows.Close()
			return nil, err
		}
		reach[n] = d
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(reach) > recallNodeLimit {
		return nil, Invalid("batch_ids", "the recall reaches more than "+strconv.Itoa(recallNodeLimit)+
			" lots: recall fewer lots at a time")
	}
	return reach, nil
}

func batchNode(n string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(n, "b:")
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}

// impactOf reads the reached rows' balances and shipments. before, when
// set, is each row's status before the recall.
func (s *Service) impactOf(ctx context.Context, q *db.Queries, roots []uuid.UUID, reach map[string]int, before map[uuid.UUID]QualityStatus) (RecallImpact, error) {
	out := RecallImpact{Roots: roots, Lots: []RecallLot{}, ExternalLots: []RecallExternalLot{}, OnHand: []RecallLocation{},
		Customers: []RecallCustomer{}, ComputedAt: s.now()}
	isRoot := map[uuid.UUID]bool{}
	for _, id := range roots {
		isRoot[id] = true
	}
	var ids []uuid.UUID
	var gtins []string
	for n, d := range reach {
		if id, ok := batchNode(n); ok {
			ids = append(ids, id)
		} else if key, ok := strings.CutPrefix(n, "x:"); ok {
			gtin, lot, _ := parseLotKey(key)
			out.ExternalLots = append(out.ExternalLots, RecallExternalLot{GTIN: gtin, Lot: lot, Depth: d})
			gtins = append(gtins, gtin)
		}
	}
	if len(gtins) > 0 {
		names, err := q.ProductsByGTIN(ctx, gtins)
		if err != nil {
			return out, err
		}
		byGTIN := map[string]string{}
		for _, n := range names {
			byGTIN[n.Gtin] = n.Name
		}
		for i := range out.ExternalLots {
			out.ExternalLots[i].Product = byGTIN[out.ExternalLots[i].GTIN]
		}
		slices.SortFunc(out.ExternalLots, func(a, b RecallExternalLot) int {
			return cmp.Or(cmp.Compare(a.Depth, b.Depth), strings.Compare(a.GTIN, b.GTIN), strings.Compare(a.Lot, b.Lot))
		})
	}
	lots, err := q.ImpactLots(ctx, ids)
	if err != nil {
		return out, err
	}
	ledger, err := q.LedgerByCategory(ctx, ids)
	if err != nil {
		return out, err
	}
	transit, err := q.OpenTransfersFrom(ctx, ids)
	if err != nil {
		return out, err
	}
	byBatch := map[uuid.UUID][]db.MassBalanceRow{}
	for _, r := range ledger {
		byBatch[r.BatchID] = append(byBatch[r.BatchID], db.MassBalanceRow{Category: r.Category, Delta: r.Delta, Entries: r.Entries})
	}
	inTransit := map[uuid.UUID]quantity.Quantity{}
	for _, t := range transit {
		inTransit[t.FromBatchID] = t.QuantityOpen
	}
	info := map[uuid.UUID]db.ImpactLotsRow{}
	out.Summary.Balanced = true
	locations := map[string]*RecallLocation{}
	var locOrder []string
	for _, r := range lots {
		b := r.Batch
		info[b.ID] = r
		m := massBalanceOf(b, byBatch[b.ID], inTransit[b.ID])
		l := RecallLot{BatchID: b.ID, GTIN: r.ProductGtin, Lot: b.BatchNumber, Product: r.ProductName,
			LocationGLN: r.LocationGln, LocationName: r.LocationName, Role: "downstream", Depth: reach["b:"+b.ID.String()],
			Status: QualityStatus(b.QualityStatus), UOM: b.UnitOfMeasure, Unit: gs1.UnitName(b.UnitOfMeasure),
			In: m.In(), OnHand: m.OnHand, Shipped: m.Shipped, Consumed: m.Consumed, Transformed: m.Transformed,
			Destroyed: m.Destroyed, MovedOut: m.MovedOut, InTransit: m.InTransit, Balanced: m.Balanced}
		if isRoot[b.ID] {
			l.Role = "root"
		}
		if before != nil {
			l.StatusBefore = before[b.ID]
		}
		out.Summary.Balanced = out.Summary.Balanced && m.Balanced
		out.Lots = append(out.Lots, l)
		addTotal(&out.Summary.OnHand, l.OnHand, l.UOM)
		addTotal(&out.Summary.Consumed, l.Consumed, l.UOM)
		addTotal(&out.Summary.Transformed, l.Transformed, l.UOM)
		addTotal(&out.Summary.Destroyed, l.Destroyed, l.UOM)
		addTotal(&out.Summary.InTransit, l.InTransit, l.UOM)
		if l.OnHand > 0 {
			at, ok := locations[l.LocationGLN]
			if !ok {
				at = &RecallLocation{GLN: l.LocationGLN, Name: l.LocationName}
				locations[l.LocationGLN] = at
				locOrder = append(locOrder, l.LocationGLN)
			}
			at.Stock = append(at.Stock, RecallStock{BatchID: l.BatchID, GTIN: l.GTIN, Lot: l.Lot, Product: l.Product,
				Quantity: l.OnHand, UOM: l.UOM, Unit: l.Unit})
			addTotal(&at.Totals, l.OnHand, l.UOM)
		}
	}
	slices.SortStableFunc(out.Lots, func(a, b RecallLot) int { return cmp.Compare(a.Depth, b.Depth) })
	slices.SortFunc(locOrder, func(a, b string) int { return strings.Compare(locations[a].Name, locations[b].Name) })
	for _, gln := range locOrder {
		out.OnHand = append(out.OnHand, *locations[gln])
	}

	shipments, err := q.ShipmentsToPartners(ctx, ids)
	if err != nil {
		return out, err
	}
	customers := map[string]*RecallCustomer{}
	var custOrder []string
	for _, sh := range shipments {
		key := cmp.Or(sh.PartyPgln, "gln:"+sh.ShipToGln)
		c, ok := customers[key]
		if !ok {
			c = &RecallCustomer{PGLN: sh.PartyPgln, Name: cmp.Or(sh.PartyName, sh.ShipToName, sh.ShipToGln),
				ContactName: sh.ContactName, Email: sh.Email, Phone: sh.Phone}
			if id, err := uuid.Parse(sh.PartyID); err == nil {
				c.PartyID = &id
			}
			customers[key] = c
			custOrder = append(custOrder, key)
		}
		r := info[sh.BatchID]
		uom := r.Batch.UnitOfMeasure
		c.Shipments = append(c.Shipments, RecallShipment{EventID: sh.EventID, EventTime: sh.EventTime, BatchID: sh.BatchID,
			GTIN: r.ProductGtin, Lot: r.Batch.BatchNumber, Product: r.ProductName, Quantity: sh.Quantity, UOM: uom,
			Unit: gs1.UnitName(uom), ShipToGLN: sh.ShipToGln, ShipToName: sh.ShipToName, References: sh.Refs})
		addTotal(&c.Totals, sh.Quantity, uom)
		addTotal(&out.Summary.Shipped, sh.Quantity, uom)
		out.Summary.Shipments++
	}
	slices.SortStableFunc(custOrder, func(a, b string) int { return strings.Compare(customers[a].Name, customers[b].Name) })
	for _, k := range custOrder {
		out.Customers = append(out.Customers, *customers[k])
	}
	out.Summary.Lots = len(out.Lots)
	out.Summary.ExternalLots = len(out.ExternalLots)
	out.Summary.Locations = len(out.OnHand)
	out.Summary.Customers = len(out.Customers)
	return out, nil
}

// addTotal adds q to the total in uom.
func addTotal(totals *[]UnitTotal, q quantity.Quantity, uom string) {
	if q == 0 {
		return
	}
	for i := range *totals {
		if (*totals)[i].UOM == uom {
			(*totals)[i].Quantity += q
			return
		}
	}
	*totals = append(*totals, UnitTotal{Quantity: q, UOM: uom, Unit: gs1.UnitName(uom)})
	slices.SortFunc(*totals, func(a, b UnitTotal) int { return strings.Compare(a.UOM, b.UOM) })
}

// GetRecall returns a recall case: the impact at confirmation, the same
// lots now, and the recoveries.
func (s *Service) GetRecall(ctx context.Context, id uuid.UUID) (Recall, error) {
	var out Recall
	err := s.readOnly(ctx, func(_ pgx.Tx, q *db.Queries) error {
		var err error
		out, err = s.recallIn(ctx, q, id)
		return err
	})
	return out, err
}

// recallIn reads a case in the caller's transaction.
func (s *Service) recallIn(ctx context.Context, q *db.Queries, id uuid.UUID) (Recall, error) {
	var out Recall
	err := func() error {
		row, err := q.GetRecall(ctx, id)
		if err != nil {
			return notFound(err, "recall", "")
		}
		lots, err := q.RecallLots(ctx, id)
		if err != nil {
			return err
		}
		out = recallFromRow(row, int64(len(lots)))
		if err := json.Unmarshal(row.Impact, &out.Impact); err != nil {
			return err
		}
		reach := map[string]int{}
		before := map[uuid.UUID]QualityStatus{}
		var roots []uuid.UUID
		for _, l := range lots {
			reach["b:"+l.BatchID.String()] = int(l.Depth)
			before[l.BatchID] = QualityStatus(l.StatusBefore)
			if l.Role == "root" {
				roots = append(roots, l.BatchID)
			}
		}
		for _, x := range out.Impact.ExternalLots {
			reach["x:"+lotKey(x.GTIN, x.Lot)] = x.Depth
		}
		current, err := s.impactOf(ctx, q, roots, reach, before)
		if err != nil {
			return err
		}
		out.Current = &current
		recs, err := q.RecallRecoveries(ctx, id)
		if err != nil {
			return err
		}
		out.Recoveries = make([]Recovery, 0, len(recs))
		for _, r := range recs {
			out.Recoveries = append(out.Recoveries, Recovery{ID: r.ID, Kind: r.Kind, BatchID: r.BatchID, GTIN: r.ProductGtin,
				Lot: r.BatchNumber, Product: r.ProductName, Location: r.LocationName, PartyID: r.PartyID, PartyName: r.PartyName,
				Quantity: r.Quantity, UOM: r.UnitOfMeasure, EventID: r.EventID, Note: r.Note, Actor: r.Actor,
				CreatedAt: r.CreatedAt, Corrected: r.Corrected})
		}
		return nil
	}()
	return out, err
}

// ListRecalls returns the latest recall cases, newest first.
func (s *Service) ListRecalls(ctx context.Context, limit int) ([]Recall, error) {
	rows, err := s.store.ListRecalls(ctx, int32(limit))
	if err != nil {
		return nil, err
	}
	out := make([]Recall, 0, len(rows))
	for _, r := range rows {
		rc := recallFromRow(db.Recall{ID: r.ID, Number: r.Number, Status: r.Status, Reason: r.Reason,
			Classification: r.Classification, DecidedBy: r.DecidedBy, OpenedBy: r.OpenedBy, OpenedAt: r.OpenedAt,
			DurationMs: r.DurationMs, ClosedBy: r.ClosedBy, ClosedAt: r.ClosedAt, ClosingNote: r.ClosingNote}, r.Lots)
		var impact struct {
			Summary RecallSummary `json:"summary"`
		}
		if err := json.Unmarshal(r.Impact, &impact); err != nil {
			return nil, err
		}
		rc.Impact.Summary = impact.Summary
		out = append(out, rc)
	}
	return out, nil
}

// RecallsOfBatch is the recall cases that cover a lot row.
func (s *Service) RecallsOfBatch(ctx context.Context, id uuid.UUID) ([]Recall, error) {
	rows, err := s.store.RecallsOfBatch(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]Recall, len(rows))
	for i, r := range rows {
		out[i] = Recall{ID: r.ID, Number: r.Number, Status: r.Status, Reason: r.Reason}
	}
	return out, nil
}

// CloseRecall closes an open recall case.
func (s *Service) CloseRecall(ctx context.Context, actor Actor, id uuid.UUID, note string) (Recall, error) {
	var v ValidationError
	checkText(&v, "note", note, 0, 5000)
	if err := v.OrNil(); err != nil {
		return Recall{}, err
	}
	if out, ok, err := idempotency.Replay[Recall](ctx); ok {
		return out, err
	}
	var out Recall
	err := s.store.InTx(ctx, db.TxOptions{LockTimeout: s.lockTimeout}, func(q *db.Queries) error {
		row, err := q.LockRecall(ctx, id)
		if err != nil {
			return notFound(err, "recall", "")
		}
		if row.Status != RecallOpen {
			return &StateConflictError{Message: "recall " + RecallCode(row.Number) + " is already closed"}
		}
		if _, err = q.CloseRecall(ctx, db.CloseRecallParams{ID: id, ClosedBy: ptr(actor.name()), ClosingNote: note}); err != nil {
			return err
		}
		if out, err = s.recallIn(ctx, q, id); err != nil {
			return err
		}
		return idempotency.Keep(ctx, q, out)
	})
	if err != nil {
		return Recall{}, unwrapDomain(err)
	}
	return out, nil
}

// RecordRecovery records stock returned by a customer or destroyed
// against an open recall: the movement and its record in one transaction.
func (s *Service) RecordRecovery(ctx context.Context, actor Actor, recallID uuid.UUID, r RecoveryRequest) (Recovery, error) {
	var v ValidationError
	required(&v, "batch_id", r.BatchID)
	checkAmount(&v, "quantity", r.Quantity)
	checkText(&v, "note", r.Note, 0, 1000)
	eventTime := s.checkEventTime(&v, r.EventTime)
	switch r.Kind {
	case RecoveryReturned:
		if r.PartyID == nil || *r.PartyID == uuid.Nil {
			v.Add("party_id", "must name the customer who returned it")
		}
	case RecoveryDestroyed:
	default:
		v.Add("kind", "must be returned or destroyed")
	}
	if err := v.OrNil(); err != nil {
		return Recovery{}, err
	}
	var code string
	var source *db.RecallLotsRow // the recall's row for the named lot
	m, err := s.runMovement(ctx, actor, func(q *db.Queries) (stockPlan, error) {
		row, err := q.LockRecall(ctx, recallID)
		if err != nil {
			return stockPlan{}, notFound(err, "recall", "")
		}
		code = RecallCode(row.Number)
		if row.Status != RecallOpen {
			return stockPlan{}, &StateConflictError{Message: "recall " + code + " is closed: nothing more can be recorded against it"}
		}
		covered, err := q.RecallLots(ctx, recallID)
		if err != nil {
			return stockPlan{}, err
		}
		lot, err := q.GetBatch(ctx, r.BatchID)
		if err != nil {
			return stockPlan{}, notFound(err, "batch", "batch_id")
		}
		for _, c := range covered {
			if c.BatchID == r.BatchID {
				source = &c
			}
		}
		if source == nil {
			return stockPlan{}, Invalid("batch_id", "is not one of the lots recall "+code+" covers")
		}
		note := "Recall " + code
		if r.Note != "" {
			note += ": " + r.Note
		}
		if r.Kind == RecoveryDestroyed {
			return stockPlan{operation: "destroy", reason: note,
				takes: []take{{StockItem: StockItem{r.BatchID, r.Quantity}, kind: KindDestroy}},
				event: eventRecord{EventType: "ObjectEvent", Action: ptr("DELETE"), EventTime: eventTime,
					BizStep: ptr("destroying"), Disposition: ptr("destroyed"), ReadPointID: &lot.Batch.LocationID,
					BizLocationID: &lot.Batch.LocationID, Notes: note, Extensions: map[string]any{"bt:recall": code}}}, nil
		}
		at := lot.Batch.LocationID
		if r.LocationID != nil {
			at = *r.LocationID
		}
		w, err := loadWorld(ctx, q, []uuid.UUID{at}, nil, []uuid.UUID{*r.PartyID})
		if err != nil {
			return stockPlan{}, err
		}
		loc, err := w.ourLocation(at, "location_id")
		if err != nil {
			return stockPlan{}, err
		}
		customer, ok := w.parties[*r.PartyID]
		if !ok {
			return stockPlan{}, &NotFoundError{What: "party", Field: "party_id"}
		}
		destinations := []epcis.Typed{locationRef("location", loc.Gln)}
		if own, err := q.OwnParty(ctx); err == nil {
			destinations = append([]epcis.Typed{partyRef("owning_party", own.Pgln)}, destinations...)
		}
		return stockPlan{operation: "receive", reason: note,
			adds: []add{{productID: lot.Batch.ProductID, lot: lot.Batch.BatchNumber, locationID: at, quantity: r.Quantity,
				uom: lot.Batch.UnitOfMeasure, kind: KindReceive, origin: OriginReceived, status: StatusRecalled,
				statusReason: lot.Batch.StatusReason, productionDate: lot.Batch.ProductionDate, expiry: lot.Batch.ExpiryDate,
				bestBefore: lot.Batch.BestBeforeDate, tlcSource: lot.Batch.TlcSource, kdes: kdesOf(lot.Batch.Kdes),
				notes: note, field: ""}},
			event: eventRecord{EventType: "ObjectEvent", Action: ptr("OBSERVE"), EventTime: eventTime,
				BizStep: ptr("receiving"), Disposition: ptr("recalled"), ReadPointID: &loc.ID, BizLocationID: &loc.ID,
				Notes: note, Sources: []epcis.Typed{partyRef("owning_party", customer.Pgln)},
				Destinations: destinations, Extensions: map[string]any{"bt:recall": code}}}, nil
	}, func(ctx context.Context, q *db.Queries, m Movement) error {
		batchID := r.BatchID
		if r.Kind == RecoveryReturned && len(m.Batches) > 0 {
			batchID = m.Batches[0].ID
		}
		// A return to a location that had none of the lot makes a row
		// there: recalled, and covered by the case like the rest.
		for _, created := range m.Created {
			if err := q.InsertRecallLot(ctx, db.InsertRecallLotParams{RecallID: recallID, BatchID: created, Role: source.Role,
				Depth: source.Depth, StatusBefore: string(StatusRecalled), EventID: m.EventID}); err != nil {
				return err
			}
		}
		_, err := q.InsertRecovery(ctx, db.InsertRecoveryParams{RecallID: recallID, Kind: r.Kind, BatchID: batchID,
			PartyID: r.PartyID, Quantity: r.Quantity, EventID: m.EventID, Note: r.Note, Actor: actor.name()})
		return err
	})
	if err != nil {
		return Recovery{}, err
	}
	// Read back rather than kept from the transaction: a replayed request
	// (same idempotency key) ran no transaction this time.
	row, err := s.store.RecoveryByEvent(ctx, m.EventID)
	if err != nil {
		return Recovery{}, err
	}
	return Recovery{ID: row.ID, Kind: row.Kind, BatchID: row.BatchID, GTIN: row.ProductGtin, Lot: row.BatchNumber,
		Product: row.ProductName, Location: row.LocationName, PartyID: row.PartyID, PartyName: row.PartyName,
		Quantity: row.Quantity, UOM: row.UnitOfMeasure, EventID: row.EventID, Note: row.Note, Actor: row.Actor,
		CreatedAt: row.CreatedAt}, nil
}

func recallFromRow(r db.Recall, lots int64) Recall {
	out := Recall{ID: r.ID, Number: r.Number, Status: r.Status, Reason: r.Reason, Classification: r.Classification,
		DecidedBy: r.DecidedBy, OpenedBy: r.OpenedBy, OpenedAt: r.OpenedAt, DurationMs: r.DurationMs,
		ClosedAt: r.ClosedAt, ClosingNote: r.ClosingNote, LotCount: lots}
	if r.ClosedBy != nil {
		out.ClosedBy = *r.ClosedBy
	}
	return out
}

// readOnly runs fn in a read-only repeatable-read transaction: one
// snapshot for every statement of a report.
func (s *Service) readOnly(ctx context.Context, fn func(tx pgx.Tx, q *db.Queries) error) error {
	tx, err := s.store.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	if err := fn(tx, s.store.WithTx(tx)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func lotIDs(lots []RecallLot) []uuid.UUID {
	ids := make([]uuid.UUID, len(lots))
	for i, l := range lots {
		ids[i] = l.BatchID
	}
	return ids
}

func uniqueIDs(ids []uuid.UUID) []uuid.UUID {
	seen := map[uuid.UUID]bool{}
	var out []uuid.UUID
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
