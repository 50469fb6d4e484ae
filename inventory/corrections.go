package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/gs1"
	"batchtrack/idempotency"
	"batchtrack/quantity"
)

// CorrectionRequest declares an event in error (EPCIS errorDeclaration).
type CorrectionRequest struct {
	EventID            uuid.UUID
	Reason             string   // CBV error reason: did_not_occur or incorrect_data
	CorrectiveEventIDs []string // EPCIS eventIDs of events recorded to replace it
	Note               string
}

// Correction is what a correction did: the declaration and the reversal
// of the original's stock effects.
type Correction struct {
	EventID   uuid.UUID
	Reason    string
	Reversals []Consumption
	Batches   []Batch
}

// CorrectEvent declares an event in error and reverses its stock effects
// by reversal ledger rows, in one transaction under the rows' locks;
// nothing is edited or deleted. A correction that would take a lot below
// zero (its stock moved on since) is refused, naming the lot.
func (s *Service) CorrectEvent(ctx context.Context, actor Actor, r CorrectionRequest) (Correction, error) {
	var v ValidationError
	required(&v, "event_id", r.EventID)
	if r.Reason == "" {
		v.Add("reason", "is required: did_not_occur or incorrect_data")
	} else {
		r.Reason = normalizeCBV(&v, "reason", gs1.ErrorReasonVocabulary, r.Reason)
	}
	if len(r.CorrectiveEventIDs) > 100 {
		v.Add("corrective_event_ids", "must have at most 100 entries")
	}
	for i, id := range r.CorrectiveEventIDs {
		if !gs1.ValidVocabulary(nil, id) {
			v.Add("corrective_event_ids["+itoa(i)+"]", "must be an event ID URI such as urn:uuid:...")
		}
	}
	checkText(&v, "note", r.Note, 0, 1000)
	if err := v.OrNil(); err != nil {
		return Correction{}, err
	}
	if c, ok, err := idempotency.Replay[Correction](ctx); ok {
		return c, err
	}
	out := Correction{EventID: r.EventID, Reason: r.Reason}
	err := s.store.InTx(ctx, db.TxOptions{LockTimeout: s.lockTimeout}, func(q *db.Queries) error {
		stored, err := q.GetStoredEvent(ctx, r.EventID)
		if err != nil {
			return notFound(err, "event", "event_id")
		}
		now := s.now()
		decl := map[string]any{"declarationTime": now.UTC().Format(time.RFC3339Nano), "reason": r.Reason}
		if len(r.CorrectiveEventIDs) > 0 {
			decl["correctiveEventIDs"] = r.CorrectiveEventIDs
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(stored.Document, &doc); err != nil {
			return err
		}
		doc["errorDeclaration"], _ = json.Marshal(decl)
		document, _ := json.Marshal(doc)
		if out.Reversals, out.Batches, err = s.reverse(ctx, q, actor, r.EventID, r.Note); err != nil {
			return err
		}
		ids := r.CorrectiveEventIDs
		if ids == nil {
			ids = []string{}
		}
		n, err := q.DeclareEventInError(ctx, db.DeclareEventInErrorParams{ID: r.EventID, DeclarationTime: now,
			Reason: &r.Reason, CorrectiveEventIds: ids, Document: document, Actor: actor.name()})
		if err != nil {
			return err
		}
		if n == 0 {
			return &ConflictError{Field: "event_id", Message: "the event is declared in error already",
				FieldMessage: "is declared in error already"}
		}
		return idempotency.Keep(ctx, q, out)
	})
	if errors.Is(err, db.ErrLockTimeout) {
		s.metrics.LockTimeouts.Inc()
		return Correction{}, ErrLockTimeout
	}
	if err != nil {
		return Correction{}, keyConflict(unwrapDomain(err))
	}
	ids := make([]uuid.UUID, len(out.Batches))
	for i, b := range out.Batches {
		ids[i] = b.ID
	}
	s.changed(ctx, Change{Batches: ids, List: true, Events: true})
	return out, nil
}

// reverse writes the reversal rows of event id's stock effects inside the
// caller's transaction: every ledger row it wrote, the opening quantity of
// every batch it created, its transfers in transit (cancelled, or refused
// once arrived) and the transfers its receipt drew from (put back). The
// event row is locked first, so two corrections of it queue.
func (s *Service) reverse(ctx context.Context, q *db.Queries, actor Actor, id uuid.UUID, note string) ([]Consumption, []Batch, error) {
	ev, err := q.LockEventForCorrection(ctx, id)
	if err != nil {
		return nil, nil, notFound(err, "event", "event_id")
	}
	if ev.DeclaredInErrorAt != nil {
		return nil, nil, &ConflictError{Field: "event_id", Message: "the event is declared in error already",
			FieldMessage: "is declared in error already"}
	}
	ledger, err := q.EventLedgerRows(ctx, &id)
	if err != nil {
		return nil, nil, err
	}
	created, err := q.BatchesCreatedByEvent(ctx, &id)
	if err != nil {
		return nil, nil, err
	}
	transfers, err := q.LockTransfersOfShipment(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range transfers {
		if t.QuantityOpen != t.Quantity {
			return nil, nil, &ConflictError{Field: "event_id",
				Message:      "part of this shipment has arrived at its destination: correct that receipt first",
				FieldMessage: "has stock that arrived already"}
		}
	}
	receipts, err := q.TransferReceiptsOfEvent(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if len(receipts) > 0 {
		drawn := make([]uuid.UUID, len(receipts))
		for i, r := range receipts {
			drawn[i] = r.TransferID
		}
		if _, err := q.LockTransfers(ctx, drawn); err != nil {
			return nil, nil, err
		}
	}
	var ids []uuid.UUID
	for _, l := range ledger {
		ids = append(ids, l.BatchID)
	}
	for _, b := range created {
		ids = append(ids, b.ID)
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	rows, err := q.LockStock(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	balance := map[uuid.UUID]quantity.Quantity{}
	names := map[uuid.UUID]db.LockStockRow{}
	for _, r := range rows {
		balance[r.Batch.ID] = r.Batch.QuantityAvailable
		names[r.Batch.ID] = r
	}
	type reversal struct {
		batchID  uuid.UUID
		delta    quantity.Quantity
		reverses *uuid.UUID
		kind     string
	}
	var plan []reversal
	for _, l := range ledger {
		plan = append(plan, reversal{l.BatchID, -ledgerDelta(l.Kind, l.Quantity), &l.ID, l.Kind})
	}
	for _, b := range created {
		plan = append(plan, reversal{b.ID, -b.QuantityProduced, nil, openingKind(b.Origin)})
	}
	for _, p := range plan {
		balance[p.batchID] += p.delta
	}
	for id, after := range balance {
		if after < 0 {
			r := names[id]
			return nil, nil, &ConflictError{Field: "event_id",
				Message: "lot " + r.Batch.BatchNumber + " at " + r.LocationName + " has only " +
					r.Batch.QuantityAvailable.String() + " " + gs1.UnitName(r.Batch.UnitOfMeasure) +
					" left; reversing this event would take it below zero: correct the later movements first",
				FieldMessage: "would take lot " + r.Batch.BatchNumber + " below zero"}
		}
	}
	reason := "correction of event " + id.String()
	if note != "" {
		reason += ": " + note
	}
	var out []Consumption
	current := map[uuid.UUID]quantity.Quantity{}
	for _, r := range rows {
		current[r.Batch.ID] = r.Batch.QuantityAvailable
	}
	for _, p := range plan {
		if p.delta == 0 {
			continue
		}
		after := current[p.batchID] + p.delta
		version, err := q.SetBatchBalance(ctx, db.SetBatchBalanceParams{ID: p.batchID, QuantityAvailable: after})
		if err != nil {
			return nil, nil, err
		}
		current[p.batchID] = after
		kind := p.kind
		row, err := q.InsertLedgerRow(ctx, db.InsertLedgerRowParams{BatchID: p.batchID, Kind: "reversal", Quantity: p.delta,
			QuantityAvailableAfter: after, VersionAfter: version, Reason: reason, Actor: actor.name(),
			EventID: &id, ReversesID: p.reverses, ReversesKind: &kind})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, consumptionFromRow(row))
		s.metrics.unitsMoved("reversal", p.delta)
	}
	for _, t := range transfers {
		if err := q.CancelTransfer(ctx, t.ID); err != nil {
			return nil, nil, err
		}
	}
	for _, r := range receipts {
		if err := q.ReopenTransfer(ctx, db.ReopenTransferParams{ID: r.TransferID, Quantity: r.Quantity}); err != nil {
			return nil, nil, err
		}
	}
	var batches []Batch
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		b, err := batchInTx(ctx, q, id)
		if err != nil {
			return nil, nil, err
		}
		batches = append(batches, b)
	}
	slices.SortFunc(batches, func(a, b Batch) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, batches, nil
}

// openingKind is the ledger kind a batch's opening quantity counts as.
func openingKind(origin string) string {
	switch origin {
	case OriginReceived:
		return KindReceive
	case OriginMoved:
		return KindMoveIn
	}
	return KindProduce
}

// MassBalance is a batch's stock explained: what came in, what went out,
// what is on hand.
type MassBalance struct {
	BatchID     uuid.UUID
	UOM         string
	Origin      string
	Produced    quantity.Quantity // commissioned, created, made by transformations
	Received    quantity.Quantity // from partners, and from our locations in transit
	MovedIn     quantity.Quantity
	Adjusted    quantity.Quantity // signed: stock counts
	Consumed    quantity.Quantity
	Shipped     quantity.Quantity
	Transformed quantity.Quantity // used as transformation input
	Destroyed   quantity.Quantity
	MovedOut    quantity.Quantity
	OnHand      quantity.Quantity
	InTransit   quantity.Quantity // shipped to our locations, not arrived yet
	Entries     int64
	// Balanced: in - out = on hand, exactly.
	Balanced bool
}

// In is everything that came in, adjustments included.
func (m MassBalance) In() quantity.Quantity { return m.Produced + m.Received + m.MovedIn + m.Adjusted }

// Out is everything that went out.
func (m MassBalance) Out() quantity.Quantity {
	return m.Consumed + m.Shipped + m.Transformed + m.Destroyed + m.MovedOut
}

// Balance explains a batch's balance from its ledger; reversals count
// against the kind they undo.
func (s *Service) Balance(ctx context.Context, id uuid.UUID) (MassBalance, error) {
	b, err := s.store.GetBatch(ctx, id)
	if err != nil {
		return MassBalance{}, notFound(err, "batch", "")
	}
	rows, err := s.store.MassBalance(ctx, id)
	if err != nil {
		return MassBalance{}, err
	}
	transit, err := s.store.InTransitFrom(ctx, id)
	if err != nil {
		return MassBalance{}, err
	}
	var open quantity.Quantity
	for _, t := range transit {
		open += t.QuantityOpen
	}
	return massBalanceOf(b.Batch, rows, open), nil
}

// massBalanceOf explains a row's balance from its ledger by category and
// what it has in transit.
func massBalanceOf(b db.Batch, rows []db.MassBalanceRow, inTransit quantity.Quantity) MassBalance {
	m := MassBalance{BatchID: b.ID, UOM: b.UnitOfMeasure, Origin: b.Origin, OnHand: b.QuantityAvailable, InTransit: inTransit}
	switch b.Origin {
	case OriginReceived:
		m.Received = b.QuantityProduced
	case OriginMoved:
		m.MovedIn = b.QuantityProduced
	default:
		m.Produced = b.QuantityProduced
	}
	for _, r := range rows {
		m.Entries += r.Entries
		switch r.Category {
		case KindProduce:
			m.Produced += r.Delta
		case KindReceive:
			m.Received += r.Delta
		case KindMoveIn:
			m.MovedIn += r.Delta
		case "adjust":
			m.Adjusted += r.Delta
		case "consume":
			m.Consumed -= r.Delta
		case KindShip:
			m.Shipped -= r.Delta
		case KindTransformIn:
			m.Transformed -= r.Delta
		case KindDestroy:
			m.Destroyed -= r.Delta
		case KindMoveOut:
			m.MovedOut -= r.Delta
		default:
			m.Adjusted += r.Delta
		}
	}
	m.Balanced = m.In()-m.Out() == m.OnHand && m.OnHand >= 0
	return m
}

// FEFOPick is one lot a first-expired-first-out choice takes from.
type FEFOPick struct {
	Batch Batch
	Take  quantity.Quantity
}

// FEFOPlan is the lots to take a quantity of a product from, at a
// location, first expiry first; Short is what the usable lots lack.
type FEFOPlan struct {
	Picks     []FEFOPick
	Requested quantity.Quantity
	Short     quantity.Quantity
}

// FEFO suggests which usable lots of a product at a location to take qty
// from: first expired, first out (lots without expiry last, then the
// oldest). qty 0 lists every usable lot.
func (s *Service) FEFO(ctx context.Context, productID, locationID uuid.UUID, qty quantity.Quantity) (FEFOPlan, error) {
	var v ValidationError
	required(&v, "product_id", productID)
	required(&v, "location_id", locationID)
	if qty < 0 || qty > quantity.Max {
		v.Add("quantity", "must be between 0 and "+quantity.Max.String())
	}
	if err := v.OrNil(); err != nil {
		return FEFOPlan{}, err
	}
	if _, err := s.store.GetProduct(ctx, productID); err != nil {
		return FEFOPlan{}, notFound(err, "product", "product_id")
	}
	if _, err := s.store.GetLocation(ctx, locationID); err != nil {
		return FEFOPlan{}, notFound(err, "location", "location_id")
	}
	today := s.today()
	rows, err := s.store.FEFOCandidates(ctx, db.FEFOCandidatesParams{ProductID: productID, LocationID: locationID,
		Today: today, RowLimit: 200})
	if err != nil {
		return FEFOPlan{}, err
	}
	plan := FEFOPlan{Requested: qty, Picks: []FEFOPick{}}
	need := qty
	for _, r := range rows {
		b := batchFromRow(r.Batch, r.ProductGtin, r.ProductName, r.LocationGln, r.LocationName)
		if b.Unusable(today, s.release) != Usable {
			continue
		}
		if qty == 0 {
			plan.Picks = append(plan.Picks, FEFOPick{Batch: b})
			continue
		}
		if need == 0 {
			break
		}
		n := min(need, b.QuantityAvailable)
		plan.Picks = append(plan.Picks, FEFOPick{Batch: b, Take: n})
		need -= n
	}
	plan.Short = need
	if qty == 0 {
		plan.Short = 0
	}
	return plan, nil
}
