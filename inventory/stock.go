package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/gs1"
	"batchtrack/idempotency"
	"batchtrack/quantity"
)

// Every stock movement (receive, ship, transform, destroy, commission,
// move) is one EPCIS event and its ledger rows, written in one transaction
// by move: rows created first (in key order, without locking existing
// ones), then every row locked in id order as consume locks them, checked,
// changed.

// Ledger kinds a movement writes, besides consume, adjust and reversal.
const (
	KindReceive     = "receive"
	KindProduce     = "produce"
	KindShip        = "ship"
	KindTransformIn = "transform_in"
	KindDestroy     = "destroy"
	KindMoveOut     = "move_out"
	KindMoveIn      = "move_in"
)

// Batch origins: how a location's stock of a lot began.
const (
	OriginProduced = "produced"
	OriginReceived = "received"
	OriginMoved    = "moved"
)

// StockItem is a quantity of one batch (a lot at a location).
type StockItem struct {
	BatchID  uuid.UUID
	Quantity quantity.Quantity
}

// BizTransaction is a business document a movement refers to: a CBV type
// (po, desadv, bol, inv, ...) and its number or URI.
type BizTransaction struct {
	Type string
	ID   string
}

// Movement is what an operation did: its event, the ledger rows it wrote
// and every batch it touched, as they are afterwards.
type Movement struct {
	EventID      uuid.UUID
	EPCISEventID string
	Operation    string // receive, ship, transform, destroy, commission, move
	Batches      []Batch
	Ledger       []Consumption
	Created      []uuid.UUID // batches this movement created
	InTransit    bool        // a shipment to another of our locations
	Yield        *float64    // a transformation's output over input, in a common unit
}

// take is a quantity leaving a batch.
type take struct {
	StockItem
	kind   string
	field  string // the input field naming it, for errors
	usable string // "" when any status may go (destroy, move); else the refusal's action
}

// add is a quantity arriving at a lot's row at a location, created when
// the location has none.
type add struct {
	productID      uuid.UUID
	lot            string
	locationID     uuid.UUID
	quantity       quantity.Quantity
	uom            string
	kind           string // receive, produce, move_in
	origin         string
	status         QualityStatus
	statusReason   string
	productionDate time.Time
	expiry         *time.Time
	bestBefore     *time.Time
	tlcSource      string
	kdes           map[string]string
	notes          string
	field          string
	// newLot: the movement makes the lot (commission, transformation
	// output): its number may not exist at another location.
	newLot bool
}

// stockPlan is a movement ready to run in a transaction.
type stockPlan struct {
	operation string
	takes     []take
	adds      []add
	// shipTo is set for a shipment to another of our locations: every take
	// goes in transit there.
	shipTo *uuid.UUID
	// fromTransfer is set for a receipt of stock in transit from another
	// of our locations (adds[0] draws from the open transfers).
	fromTransfer bool
	event        eventRecord // quantity lists are filled from takes and adds
	// prepared is a captured event to store as received instead of event
	// (its lists and batch links are filled from takes and adds).
	prepared *eventRow
	// alsoNamed are quantity items (object, input, output) the event names
	// without moving them: lots we do not hold.
	alsoNamed [3][]QuantityItem
	reason    string
	// yieldCheck, for a transformation: a yield outside an output
	// product's range needs yieldReason.
	yieldCheck  bool
	yieldReason string
}

// runMovement runs the plan plan builds in one transaction, with the
// request's idempotency key, and tells caches what changed.
// after, if given, runs in the same transaction once the movement is done
// (a recall records its recovery there).
func (s *Service) runMovement(ctx context.Context, actor Actor, build func(q *db.Queries) (stockPlan, error),
	after ...func(ctx context.Context, q *db.Queries, m Movement) error) (Movement, error) {
	if m, ok, err := idempotency.Replay[Movement](ctx); ok {
		s.replayed(ctx, m.Batches...)
		return m, err
	}
	start := time.Now()
	var out Movement
	err := s.store.InTx(ctx, db.TxOptions{LockTimeout: s.lockTimeout}, func(q *db.Queries) error {
		plan, err := build(q)
		if err != nil {
			return err
		}
		if out, err = s.move(ctx, q, actor, plan); err != nil {
			return err
		}
		for _, f := range after {
			if err := f(ctx, q, out); err != nil {
				return err
			}
		}
		return idempotency.Keep(ctx, q, out)
	})
	if errors.Is(err, db.ErrLockTimeout) {
		s.metrics.LockTimeouts.Inc()
		err = ErrLockTimeout
	}
	err = keyConflict(unwrapDomain(err))
	s.metrics.observeMovement(out.Operation, start, err)
	if err != nil {
		return Movement{}, err
	}
	ids := make([]uuid.UUID, len(out.Batches))
	for i, b := range out.Batches {
		ids[i] = b.ID
	}
	s.changed(ctx, Change{Batches: ids, List: true, Events: true})
	return out, nil
}

// move carries out plan inside the caller's transaction.
func (s *Service) move(ctx context.Context, q *db.Queries, actor Actor, plan stockPlan) (Movement, error) {
	now := s.now()
	today := dateOnly(now)
	eventID := plan.event.ID
	if eventID == uuid.Nil {
		eventID = newEventUUID()
	}
	plan.event.ID = eventID
	out := Movement{EventID: eventID, EPCISEventID: "urn:uuid:" + eventID.String(), Operation: plan.operation}

	// Stock in transit to the receiving location: what it may take in, and
	// the state the lot left with.
	var transfers []db.LockOpenTransfersRow
	if plan.fromTransfer {
		a := &plan.adds[0]
		var err error
		transfers, err = q.LockOpenTransfers(ctx, db.LockOpenTransfersParams{ProductID: a.productID, BatchNumber: a.lot, ToLocationID: a.locationID})
		if err != nil {
			return Movement{}, err
		}
		var open quantity.Quantity
		for _, t := range transfers {
			open += t.QuantityOpen
		}
		if open < a.quantity {
			msg := "only " + open.String() + " " + gs1.UnitName(a.uom) + " of lot " + a.lot + " is in transit to this location"
			return Movement{}, &ConflictError{Field: a.field + "quantity", Message: msg + "; " + a.quantity.String() + " cannot arrive",
				FieldMessage: msg}
		}
		from := transfers[0]
		a.status, a.statusReason = QualityStatus(from.QualityStatus), from.StatusReason
		// The lock may have waited on a recall of the lot: this statement
		// began before it committed, so read the status the lot left with again.
		if cur, err := q.GetBatch(ctx, from.FromBatchID); err == nil {
			a.status, a.statusReason = QualityStatus(cur.Batch.QualityStatus), cur.Batch.StatusReason
		}
		a.productionDate, a.expiry, a.bestBefore = from.ProductionDate, from.ExpiryDate, from.BestBeforeDate
		a.tlcSource = from.TlcSource
		_ = json.Unmarshal(from.Kdes, &a.kdes)
		a.uom = from.UnitOfMeasure
	}

	// Rows that receive stock: created (with their opening quantity) where
	// the location has none, in key order.
	order := make([]int, len(plan.adds))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := plan.adds[i], plan.adds[j]
		if c := strings.Compare(a.productID.String(), b.productID.String()); c != 0 {
			return c
		}
		if c := strings.Compare(a.lot, b.lot); c != 0 {
			return c
		}
		return strings.Compare(a.locationID.String(), b.locationID.String())
	})
	addIDs := make([]uuid.UUID, len(plan.adds))
	created := map[uuid.UUID]bool{}
	for _, i := range order {
		a := plan.adds[i]
		if a.newLot {
			if err := lotElsewhere(ctx, q, a.productID, a.lot, &a.locationID, a.field); err != nil {
				return Movement{}, err
			}
		}
		id, isNew, err := ensureBatch(ctx, q, a, eventID)
		if err != nil {
			return Movement{}, err
		}
		if created[id] || (!isNew && slices.Contains(addIDs, id)) {
			return Movement{}, Invalid(a.field+"batch_number", "names the same lot at the same location as another output")
		}
		addIDs[i] = id
		if isNew {
			created[id] = true
			out.Created = append(out.Created, id)
		}
	}

	// Every row, locked in id order.
	ids := make([]uuid.UUID, 0, len(plan.takes)+len(addIDs))
	for _, t := range plan.takes {
		ids = append(ids, t.BatchID)
	}
	ids = append(ids, addIDs...)
	rows, err := q.LockStock(ctx, ids)
	if err != nil {
		return Movement{}, err
	}
	locked := make(map[uuid.UUID]db.LockStockRow, len(rows))
	for _, r := range rows {
		locked[r.Batch.ID] = r
	}
	balance := map[uuid.UUID]quantity.Quantity{}
	for id, r := range locked {
		balance[id] = r.Batch.QuantityAvailable
	}

	// Takes: present, ours, usable where it matters, enough of it.
	for i, t := range plan.takes {
		r, ok := locked[t.BatchID]
		if !ok {
			return Movement{}, &NotFoundError{What: "batch", Field: t.field + "batch_id"}
		}
		if !r.Ours {
			return Movement{}, Invalid(t.field+"batch_id", "is at "+r.LocationName+", which is not one of our locations")
		}
		b := r.Batch
		if t.usable != "" {
			if why := QualityStatus(b.QualityStatus).Unusable(b.ExpiryDate, today, s.release); why != Usable {
				return Movement{}, &NotConsumableError{BatchID: b.ID.String(), QualityStatus: QualityStatus(b.QualityStatus),
					Expired: why == UnusableExpired, Why: why, Action: t.usable, StatusReason: b.StatusReason, Item: i}
			}
		}
		if balance[b.ID] < t.Quantity {
			return Movement{}, &InsufficientQuantityError{BatchID: b.ID.String(), Requested: t.Quantity,
				QuantityAvailable: balance[b.ID], Item: i, Lot: b.BatchNumber, Field: t.field + "quantity"}
		}
		balance[b.ID] -= t.Quantity
	}
	// Adds: units agree; balances stay in range.
	for i, a := range plan.adds {
		r := locked[addIDs[i]]
		if a.uom != "" && r.Batch.UnitOfMeasure != a.uom {
			return Movement{}, Invalid(a.field+"unit", "must be "+gs1.UnitName(r.Batch.UnitOfMeasure)+
				", the unit of lot "+a.lot+" at "+r.LocationName)
		}
		plan.adds[i].uom = r.Batch.UnitOfMeasure
		if !created[addIDs[i]] {
			// Stock joining a row takes the row's status: it must not
			// release unreleased stock, or free held stock, by mixing.
			incoming := a.status
			if incoming == "" {
				incoming = StatusPending
			}
			if have := QualityStatus(r.Batch.QualityStatus); have != incoming && !s.sameUse(have, incoming) {
				return Movement{}, &ConflictError{Field: a.field + "batch_number",
					Message: "lot " + a.lot + " at " + r.LocationName + " is " + string(have) + "; the stock arriving is " +
						string(incoming) + " and cannot join it: change the lot's status first, or use another lot number",
					FieldMessage: "is " + string(have) + " at " + r.LocationName + "; the arriving stock is " + string(incoming)}
			}
			balance[addIDs[i]] += a.quantity
			if balance[addIDs[i]] > quantity.Max {
				return Movement{}, Invalid(a.field+"quantity", "would take the lot's balance above "+quantity.Max.String())
			}
		}
	}

	// The yield, where inputs and outputs share a dimension.
	if plan.operation == "transform" {
		out.Yield = transformationYield(plan.takes, plan.adds, locked, addIDs)
		// The staff's transformations record their yield in the document;
		// an event recorded as given (API, capture) keeps its own fields.
		if out.Yield != nil && plan.yieldCheck {
			plan.event.Extensions = map[string]any{"bt:yield": roundYield(*out.Yield)}
			if plan.yieldReason != "" {
				plan.event.Extensions["bt:yieldReason"] = plan.yieldReason
			}
		}
		if plan.yieldCheck && out.Yield != nil && plan.yieldReason == "" {
			for i, a := range plan.adds {
				p, err := q.GetProduct(ctx, a.productID)
				if err != nil {
					return Movement{}, err
				}
				if outside(*out.Yield, p.YieldMin, p.YieldMax) {
					return Movement{}, Invalid("yield_reason", "is required: the yield "+formatYieldNumber(*out.Yield)+
						" is outside "+p.Name+"'s expected range "+yieldRange(p.YieldMin, p.YieldMax)+
						" (output "+itoa(i)+")")
				}
			}
		}
	}

	// The event, naming every row with its quantity.
	ev := plan.event
	var taken, arrived []QuantityItem
	for _, t := range plan.takes {
		taken = append(taken, QuantityItem{BatchID: t.BatchID, Quantity: t.Quantity, UOM: locked[t.BatchID].Batch.UnitOfMeasure})
	}
	for i, a := range plan.adds {
		arrived = append(arrived, QuantityItem{BatchID: addIDs[i], Quantity: a.quantity, UOM: plan.adds[i].uom})
	}
	if ev.EventType == "TransformationEvent" {
		ev.InputQuantityList, ev.OutputQuantityList = taken, arrived
	} else {
		ev.QuantityList = append(taken, arrived...)
	}
	ev.QuantityList = append(ev.QuantityList, plan.alsoNamed[0]...)
	ev.InputQuantityList = append(ev.InputQuantityList, plan.alsoNamed[1]...)
	ev.OutputQuantityList = append(ev.OutputQuantityList, plan.alsoNamed[2]...)
	ev.SourceType, ev.Actor = actor.source(), actor.name()
	if ev.EventTimezone == "" {
		ev.EventTimezone = timezoneOffset(ev.EventTime)
	}
	if plan.prepared != nil {
		r := preparedRow(*plan.prepared, ev, locked)
		if err := writeEvents(ctx, q, []eventRow{r}); err != nil {
			return Movement{}, err
		}
		out.EPCISEventID = r.EventID
	} else if _, err := insertEvent(ctx, q, ev); err != nil {
		return Movement{}, err
	}

	// The ledger.
	caller, key := idempotency.Caller(ctx)
	write := func(id uuid.UUID, kind string, qty quantity.Quantity) error {
		r := locked[id]
		after := ledgerAfter(r.Batch.QuantityAvailable, kind, qty)
		version, err := q.SetBatchBalance(ctx, db.SetBatchBalanceParams{ID: id, QuantityAvailable: after})
		if err != nil {
			return err
		}
		r.Batch.QuantityAvailable, r.Batch.Version = after, version
		locked[id] = r
		row, err := q.InsertLedgerRow(ctx, db.InsertLedgerRowParams{BatchID: id, Kind: kind, Quantity: qty,
			QuantityAvailableAfter: after, VersionAfter: version, Reason: plan.reason, Actor: actor.name(),
			IdempotencyCaller: caller, IdempotencyKey: key, EventID: &eventID})
		if err != nil {
			return err
		}
		out.Ledger = append(out.Ledger, consumptionFromRow(row))
		return nil
	}
	for _, t := range plan.takes {
		if err := write(t.BatchID, t.kind, t.Quantity); err != nil {
			return Movement{}, err
		}
		if plan.shipTo != nil {
			b := locked[t.BatchID].Batch
			if err := q.InsertTransfer(ctx, db.InsertTransferParams{ShipEventID: eventID, FromBatchID: b.ID,
				ProductID: b.ProductID, BatchNumber: b.BatchNumber, ToLocationID: *plan.shipTo,
				Quantity: t.Quantity, UnitOfMeasure: b.UnitOfMeasure}); err != nil {
				return Movement{}, err
			}
			out.InTransit = true
		}
	}
	for i, a := range plan.adds {
		if created[addIDs[i]] {
			continue
		}
		if err := write(addIDs[i], a.kind, a.quantity); err != nil {
			return Movement{}, err
		}
	}
	if plan.fromTransfer {
		need := plan.adds[0].quantity
		for _, t := range transfers {
			if need == 0 {
				break
			}
			n := min(need, t.QuantityOpen)
			if err := q.DrawTransfer(ctx, db.DrawTransferParams{ID: t.ID, Quantity: n}); err != nil {
				return Movement{}, err
			}
			if err := q.InsertTransferReceipt(ctx, db.InsertTransferReceiptParams{TransferID: t.ID, ReceiveEventID: eventID, Quantity: n}); err != nil {
				return Movement{}, err
			}
			need -= n
		}
	}
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		b, err := batchInTx(ctx, q, id)
		if err != nil {
			return Movement{}, err
		}
		out.Batches = append(out.Batches, b)
	}
	for _, l := range out.Ledger {
		s.metrics.unitsMoved(l.Kind, l.Quantity)
	}
	return out, nil
}

// lotElsewhere refuses a lot number the product has at another location
// (any location when at is nil): a lot is made once, then moves.
func lotElsewhere(ctx context.Context, q *db.Queries, productID uuid.UUID, lot string, at *uuid.UUID, field string) error {
	if err := q.LockLotNumber(ctx, productID.String()+"/"+lot); err != nil {
		return err
	}
	where, err := q.LotLocationsElsewhere(ctx, db.LotLocationsElsewhereParams{ProductID: productID, BatchNumber: lot, LocationID: at})
	if err != nil || len(where) == 0 {
		return err
	}
	return &ConflictError{Field: field + "batch_number",
		Message:      "the product already has lot " + lot + " at " + strings.Join(where, ", ") + ": move stock from there, or use another lot number",
		FieldMessage: "is already a lot of this product at " + strings.Join(where, ", ")}
}

// sameUse says whether stock of statuses a and b may share a row: only
// pending and approved, where the site uses pending lots anyway.
func (s *Service) sameUse(a, b QualityStatus) bool {
	usable := func(q QualityStatus) bool { return q == StatusApproved || q == StatusPending }
	return s.release == ReleaseNotRequired && usable(a) && usable(b)
}

// ensureBatch returns the row of a's lot at a's location, creating it with
// a's quantity as its opening quantity when there is none.
func ensureBatch(ctx context.Context, q *db.Queries, a add, eventID uuid.UUID) (uuid.UUID, bool, error) {
	kdes := a.kdes
	if kdes == nil {
		kdes = map[string]string{}
	}
	kdeJSON, err := json.Marshal(kdes)
	if err != nil {
		return uuid.Nil, false, err
	}
	status := a.status
	if status == "" {
		status = StatusPending
	}
	row, err := q.EnsureBatch(ctx, db.EnsureBatchParams{
		BatchNumber: a.lot, ProductID: a.productID, LocationID: a.locationID, ProductionDate: dateOnly(a.productionDate),
		ExpiryDate: datePtr(a.expiry), BestBeforeDate: datePtr(a.bestBefore), Quantity: a.quantity,
		UnitOfMeasure: a.uom, QualityStatus: string(status), Notes: a.notes, Origin: a.origin,
		CreatedEventID: &eventID, TlcSource: a.tlcSource, Kdes: kdeJSON,
	})
	if errors.Is(db.Translate(err), db.ErrNotFound) { // inside the transaction errors are the driver's
		// Created by a transaction that committed after this statement's
		// snapshot: a new statement sees it.
		id, err := q.FindBatchAt(ctx, db.FindBatchAtParams{ProductID: a.productID, BatchNumber: a.lot, LocationID: a.locationID})
		return id, false, err
	}
	if err != nil {
		var dv ValidationError
		if db.ConstraintOf(err) == "batches_check" || db.ConstraintOf(err) == "batches_check1" {
			dv.Add(a.field+"expiry_date", "must not be before the production date")
			return uuid.Nil, false, &dv
		}
		return uuid.Nil, false, err
	}
	return row.ID, row.Created, nil
}

// ledgerAfter is a balance after a ledger row of kind (ledger_delta in SQL).
func ledgerAfter(before quantity.Quantity, kind string, q quantity.Quantity) quantity.Quantity {
	return before + ledgerDelta(kind, q)
}

// ledgerDelta is what a ledger row does to a balance: the same as the SQL
// function ledger_delta (migration 00011).
func ledgerDelta(kind string, q quantity.Quantity) quantity.Quantity {
	switch kind {
	case "consume", KindShip, KindTransformIn, KindDestroy, KindMoveOut:
		return -q
	}
	return q
}

// transformationYield is output over input where every input and output
// unit is of one dimension (mass, volume, count, length).
func transformationYield(takes []take, adds []add, locked map[uuid.UUID]db.LockStockRow, addIDs []uuid.UUID) *float64 {
	dim := ""
	sum := func(uom string, q quantity.Quantity) (float64, bool) {
		u, ok := gs1.LookupUnit(uom)
		if !ok || (dim != "" && u.Dimension != dim) {
			return 0, false
		}
		dim = u.Dimension
		return float64(q.Milli()) / 1000 * u.Base, true
	}
	var in, outQ float64
	for _, t := range takes {
		v, ok := sum(locked[t.BatchID].Batch.UnitOfMeasure, t.Quantity)
		if !ok {
			return nil
		}
		in += v
	}
	for i, a := range adds {
		v, ok := sum(locked[addIDs[i]].Batch.UnitOfMeasure, a.quantity)
		if !ok {
			return nil
		}
		outQ += v
	}
	if in == 0 || outQ == 0 {
		return nil
	}
	y := outQ / in
	return &y
}

func roundYield(y float64) json.Number {
	return json.Number(formatYieldNumber(y))
}

func outside(y float64, lo, hi *quantity.Quantity) bool {
	return (lo != nil && y < float64(lo.Milli())/1000) || (hi != nil && y > float64(hi.Milli())/1000)
}

func yieldRange(lo, hi *quantity.Quantity) string {
	switch {
	case lo != nil && hi != nil:
		return lo.String() + "–" + hi.String()
	case lo != nil:
		return "at least " + lo.String()
	case hi != nil:
		return "at most " + hi.String()
	}
	return "any"
}

// preparedRow is a captured row whose quantity lists and batch links name
// the rows the movement touched; lots it names but did not move keep the
// capture's links.
func preparedRow(r eventRow, ev eventRecord, locked map[uuid.UUID]db.LockStockRow) eventRow {
	moved := map[string]bool{}
	movedRows := map[uuid.UUID]bool{}
	var links []linkRow
	link := func(role string, items []QuantityItem) {
		for _, it := range items {
			b := locked[it.BatchID]
			key := lotKey(b.ProductGtin, b.Batch.BatchNumber)
			moved[key], movedRows[it.BatchID] = true, true
			links = append(links, linkRow{batchID: it.BatchID, role: role, quantity: it.Quantity, uom: it.UOM, lot: key})
		}
	}
	if ev.EventType == "TransformationEvent" {
		link("input", ev.InputQuantityList)
		link("output", ev.OutputQuantityList)
	} else {
		link("object", ev.QuantityList)
	}
	for _, l := range r.links {
		if !movedRows[l.batchID] && (l.lot == "" || !moved[l.lot]) {
			links = append(links, l)
		}
	}
	r.links = sumLinks(links)
	marshal := func(l []QuantityItem) json.RawMessage {
		if l == nil {
			l = []QuantityItem{}
		}
		b, _ := json.Marshal(l)
		return b
	}
	r.QuantityList = marshal(ev.QuantityList)
	r.InputQuantityList = marshal(ev.InputQuantityList)
	r.OutputQuantityList = marshal(ev.OutputQuantityList)
	return r
}
