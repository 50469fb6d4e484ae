package inventory

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/gs1"
	"batchtrack/idempotency"
	"batchtrack/quantity"
)

// ConsumeRequest takes Quantity units from one batch.
type ConsumeRequest struct {
	BatchID         uuid.UUID
	Quantity        quantity.Quantity
	Reason          string
	ExpectedVersion *int64
}

func (r ConsumeRequest) validate(v *ValidationError, prefix string) {
	if r.BatchID == uuid.Nil {
		v.Add(prefix+"batch_id", "is required")
	}
	checkAmount(v, prefix+"quantity_to_consume", r.Quantity)
	checkText(v, "reason", r.Reason, 0, 1000)
	if r.ExpectedVersion != nil && *r.ExpectedVersion < 1 {
		v.Add("expected_version", "must be at least 1")
	}
}

// Consume takes a quantity from a batch: one transaction that locks the
// row (bounded by the lock timeout), checks it, updates the balance and
// version, and appends the ledger row and a dispensing event. A refusal
// changes nothing.
func (s *Service) Consume(ctx context.Context, actor Actor, r ConsumeRequest) (Batch, Consumption, error) {
	var v ValidationError
	r.validate(&v, "")
	if err := v.OrNil(); err != nil {
		return Batch{}, Consumption{}, err
	}
	if rec, ok, err := idempotency.Replay[consumeRecord](ctx); ok {
		if err != nil {
			return Batch{}, Consumption{}, err
		}
		b, c := rec.result(r, actor)
		s.replayed(ctx, b)
		return b, c, nil
	}
	start := time.Now()
	now := s.now()
	idem := idempotency.FromContext(ctx)
	caller, key := idempotency.Caller(ctx)
	arg := db.ConsumeBatchParams{
		BatchID: r.BatchID, Quantity: r.Quantity, Today: dateOnly(now), ExpectedVersion: r.ExpectedVersion,
		EventTimezone: timezoneOffset(now), Actor: actor.name(), Reason: r.Reason, AllowPending: s.release == ReleaseNotRequired,
		IdempotencyCaller: caller, IdempotencyKey: key,
	}
	if idem != nil {
		arg.RequestHash = idem.Hash
	}
	row, waited, err := s.consumeGrouped(ctx, arg)
	lockWait := -1.0
	switch {
	case errors.Is(err, db.ErrNotFound):
		err = &NotFoundError{What: "batch", Field: "batch_id"}
	case errors.Is(err, db.ErrLockTimeout):
		err = ErrLockTimeout
		lockWait = s.lockTimeout.Seconds()
	case err == nil:
		lockWait = waited.Seconds()
		switch {
		case row.KeyTaken:
			err = idempotency.ErrKeyTaken
		case row.ConsumptionID == nil:
			err = refusal(r, row.AvailableBefore, row.VersionBefore, QualityStatus(row.QualityStatus), row.ExpiryDate, dateOnly(now), s.release, -1)
		}
	}
	err = keyConflict(err)
	s.metrics.observeConsume(start, lockWait, err)
	if err != nil {
		return Batch{}, Consumption{}, err
	}
	if idem != nil {
		idem.MarkKept() // by the statement itself
	}
	s.metrics.UnitsConsumed.Add(float64(r.Quantity.Milli()))
	s.changed(ctx, Change{Batches: []uuid.UUID{r.BatchID}, List: true, Events: true})
	b, c := batchConsumed(r, actor, row)
	return b, c, nil
}

// batchConsumed is the batch as the consume left it and its ledger row,
// from the statement's row.
func batchConsumed(r ConsumeRequest, actor Actor, row db.ConsumeBatchRow) (Batch, Consumption) {
	c := Consumption{
		ID: *row.ConsumptionID, BatchID: r.BatchID, Kind: "consume", Quantity: r.Quantity,
		QuantityAvailableAfter: *row.QuantityAvailableAfter, VersionAfter: *row.VersionAfter,
		Reason: r.Reason, Actor: actor.name(), EventID: row.EventID,
	}
	if row.ConsumedAt != nil {
		c.CreatedAt = *row.ConsumedAt
	}
	b := Batch{
		ID: r.BatchID, BatchNumber: *row.BatchNumber, ProductID: *row.ProductID, ProductGTIN: *row.ProductGtin,
		ProductName: *row.ProductName, LocationID: *row.LocationID, LocationGLN: *row.LocationGln,
		LocationName: *row.LocationName, ProductionDate: *row.ProductionDate, ExpiryDate: row.ExpiryDate,
		BestBeforeDate: row.BestBeforeDate, QuantityProduced: *row.QuantityProduced,
		QuantityAvailable: *row.QuantityAvailableAfter, UOM: *row.UnitOfMeasure,
		QualityStatus: QualityStatus(row.QualityStatus), Notes: *row.Notes, Version: *row.VersionAfter,
		CreatedAt: *row.CreatedAt, UpdatedAt: *row.UpdatedAt,
	}
	return b, c
}

// consumeRecord is a consume's result as ConsumeBatch keeps it for its
// idempotency key: to_jsonb of the statement's row.
type consumeRecord struct {
	QualityStatus          string            `json:"quality_status"`
	ExpiryDate             *pgDate           `json:"expiry_date"`
	ConsumptionID          uuid.UUID         `json:"consumption_id"`
	ConsumedAt             time.Time         `json:"consumed_at"`
	QuantityAvailableAfter quantity.Quantity `json:"quantity_available_after"`
	VersionAfter           int64             `json:"version_after"`
	EventID                *uuid.UUID        `json:"event_id"`
	BatchNumber            string            `json:"batch_number"`
	ProductID              uuid.UUID         `json:"product_id"`
	LocationID             uuid.UUID         `json:"location_id"`
	ProductionDate         pgDate            `json:"production_date"`
	BestBeforeDate         *pgDate           `json:"best_before_date"`
	QuantityProduced       quantity.Quantity `json:"quantity_produced"`
	UnitOfMeasure          string            `json:"unit_of_measure"`
	Notes                  string            `json:"notes"`
	CreatedAt              time.Time         `json:"created_at"`
	UpdatedAt              time.Time         `json:"updated_at"`
	ProductGTIN            string            `json:"product_gtin"`
	ProductName            string            `json:"product_name"`
	LocationGLN            string            `json:"location_gln"`
	LocationName           string            `json:"location_name"`
}

func (k consumeRecord) result(r ConsumeRequest, actor Actor) (Batch, Consumption) {
	// Results kept before units became Rec 20 codes hold the unit's name.
	if u, ok := gs1.LookupUnit(k.UnitOfMeasure); ok {
		k.UnitOfMeasure = u.Code
	}
	return batchConsumed(r, actor, db.ConsumeBatchRow{
		QualityStatus: k.QualityStatus, ExpiryDate: k.ExpiryDate.time(), ConsumptionID: &k.ConsumptionID,
		ConsumedAt: &k.ConsumedAt, QuantityAvailableAfter: &k.QuantityAvailableAfter, VersionAfter: &k.VersionAfter,
		EventID: k.EventID, BatchNumber: &k.BatchNumber, ProductID: &k.ProductID, LocationID: &k.LocationID,
		ProductionDate: k.ProductionDate.time(), BestBeforeDate: k.BestBeforeDate.time(),
		QuantityProduced: &k.QuantityProduced, UnitOfMeasure: &k.UnitOfMeasure, Notes: &k.Notes,
		CreatedAt: &k.CreatedAt, UpdatedAt: &k.UpdatedAt, ProductGtin: &k.ProductGTIN, ProductName: &k.ProductName,
		LocationGln: &k.LocationGLN, LocationName: &k.LocationName,
	})
}

// pgDate is a date as PostgreSQL writes it in JSON: "2026-12-07".
type pgDate struct{ time.Time }

func (d *pgDate) UnmarshalJSON(b []byte) error {
	t, err := time.Parse(`"2006-01-02"`, string(b))
	d.Time = t
	return err
}

func (d *pgDate) time() *time.Time {
	if d == nil {
		return nil
	}
	return &d.Time
}

// keyConflict names what a unique violation on an idempotency key means:
// another attempt with the key committed first (its record, or the
// ledger's row for the key, was there before this one's).
func keyConflict(err error) error {
	if errors.Is(err, db.ErrConflict) {
		switch db.ConstraintOf(err) {
		case "idempotency_keys_pkey", "consumptions_idempotency_key":
			return idempotency.ErrKeyTaken
		}
	}
	return err
}

// refusal explains why a locked batch could not give quantity r.Quantity,
// in the order a person would want to hear it.
func refusal(r ConsumeRequest, available quantity.Quantity, version int64, status QualityStatus, expiry *time.Time, today time.Time, rule Release, item int) error {
	id := r.BatchID.String()
	why := status.Unusable(expiry, today, rule)
	switch {
	case r.ExpectedVersion != nil && *r.ExpectedVersion != version:
		return &VersionConflictError{BatchID: id, ExpectedVersion: *r.ExpectedVersion, CurrentVersion: version}
	case why != Usable:
		return &NotConsumableError{BatchID: id, QualityStatus: status, Expired: why == UnusableExpired, Why: why, Item: item}
	case available < r.Quantity:
		return &InsufficientQuantityError{BatchID: id, Requested: r.Quantity, QuantityAvailable: available, Item: item}
	}
	return errors.New("consume refused for an unknown reason")
}

// ConsumeItem is one line of a multi-batch consumption.
type ConsumeItem struct {
	BatchID  uuid.UUID
	Quantity quantity.Quantity
}

// ConsumeMany takes quantities from several batches, all or nothing. Rows
// are locked in id order, so concurrent requests naming the same batches
// in any order cannot deadlock. One dispensing event names every batch.
func (s *Service) ConsumeMany(ctx context.Context, actor Actor, items []ConsumeItem, reason string) ([]Batch, []Consumption, error) {
	var v ValidationError
	if len(items) == 0 {
		v.Add("items", "must name at least one batch")
	}
	if len(items) > 100 {
		v.Add("items", "must have at most 100 entries")
	}
	ids := make([]uuid.UUID, 0, len(items))
	for i, it := range items {
		p := "items[" + itoa(i) + "]."
		ConsumeRequest{BatchID: it.BatchID, Quantity: it.Quantity, Reason: reason}.validate(&v, p)
		if slices.Contains(ids, it.BatchID) && it.BatchID != uuid.Nil {
			v.Add(p+"batch_id", "names a batch already in the list")
		}
		ids = append(ids, it.BatchID)
	}
	if err := v.OrNil(); err != nil {
		return nil, nil, err
	}
	if out, ok, err := idempotency.Replay[manyResult](ctx); ok {
		s.replayed(ctx, out.Batches...)
		return out.Batches, out.Consumptions, err
	}
	start := time.Now()
	now := s.now()
	caller, key := idempotency.Caller(ctx)
	var out manyResult
	lockWait := -1.0
	err := s.store.InTx(ctx, db.TxOptions{LockTimeout: s.lockTimeout}, func(q *db.Queries) error {
		lockStart := time.Now()
		rows, err := q.LockBatches(ctx, ids)
		if err != nil {
			return err
		}
		lockWait = time.Since(lockStart).Seconds()
		byID := map[uuid.UUID]db.LockBatchesRow{}
		for _, r := range rows {
			byID[r.ID] = r
		}
		for i, it := range items {
			if _, ok := byID[it.BatchID]; !ok {
				return &NotFoundError{What: "batch", Field: "items[" + itoa(i) + "].batch_id"}
			}
		}
		var quantityList []QuantityItem
		for i, it := range items {
			b := byID[it.BatchID]
			if b.QuantityAvailable < it.Quantity || QualityStatus(b.QualityStatus).Unusable(b.ExpiryDate, now, s.release) != Usable {
				return refusal(ConsumeRequest{BatchID: it.BatchID, Quantity: it.Quantity}, b.QuantityAvailable, b.Version,
					QualityStatus(b.QualityStatus), b.ExpiryDate, dateOnly(now), s.release, i)
			}
			quantityList = append(quantityList, QuantityItem{BatchID: it.BatchID, Quantity: it.Quantity, UOM: b.UnitOfMeasure})
		}
		// Each batch's location is where it is dispensed; the event names
		// the first batch's location.
		first := byID[items[0].BatchID]
		disposition := "partially_dispensed"
		allEmpty := true
		for _, it := range items {
			if byID[it.BatchID].QuantityAvailable != it.Quantity {
				allEmpty = false
			}
		}
		if allEmpty {
			disposition = "dispensed"
		}
		eventID, err := insertEvent(ctx, q, eventRecord{
			EventType: "ObjectEvent", Action: ptr("OBSERVE"), EventTime: now, EventTimezone: timezoneOffset(now),
			BizStep: ptr("dispensing"), Disposition: &disposition, ReadPointID: &first.LocationID,
			BizLocationID: &first.LocationID, QuantityList: quantityList,
			SourceType: "system", Actor: actor.name(), Notes: reason,
		})
		if err != nil {
			return err
		}
		for _, it := range items {
			after := byID[it.BatchID].QuantityAvailable - it.Quantity
			version, err := q.SetBatchBalance(ctx, db.SetBatchBalanceParams{ID: it.BatchID, QuantityAvailable: after})
			if err != nil {
				return err
			}
			row, err := q.InsertConsumption(ctx, db.InsertConsumptionParams{
				BatchID: it.BatchID, Kind: "consume", Quantity: it.Quantity, QuantityAvailableAfter: after,
				VersionAfter: version, Reason: reason, Actor: actor.name(), EventID: &eventID,
				IdempotencyCaller: caller, IdempotencyKey: key,
			})
			if err != nil {
				return err
			}
			batch, err := batchInTx(ctx, q, it.BatchID)
			if err != nil {
				return err
			}
			out.Batches = append(out.Batches, batch)
			out.Consumptions = append(out.Consumptions, consumptionFromRow(row))
		}
		return idempotency.Keep(ctx, q, out)
	})
	if errors.Is(err, db.ErrLockTimeout) {
		err = ErrLockTimeout
		lockWait = s.lockTimeout.Seconds()
	}
	err = keyConflict(unwrapDomain(err))
	s.metrics.observeConsume(start, lockWait, err)
	if err != nil {
		return nil, nil, err
	}
	s.changed(ctx, Change{Batches: ids, List: true, Events: true})
	for _, it := range items {
		s.metrics.UnitsConsumed.Add(float64(it.Quantity.Milli()))
	}
	return out.Batches, out.Consumptions, nil
}

// manyResult is what ConsumeMany returns, as kept for its idempotency key.
type manyResult struct {
	Batches      []Batch
	Consumptions []Consumption
}

// batchAndConsumption is what Adjust returns, as kept for its idempotency key.
type batchAndConsumption struct {
	Batch       Batch
	Consumption Consumption
}

// batchInTx reads a batch inside the caller's transaction, so a result
// kept there shows the change.
func batchInTx(ctx context.Context, q *db.Queries, id uuid.UUID) (Batch, error) {
	row, err := q.GetBatch(ctx, id)
	if err != nil {
		return Batch{}, err
	}
	return batchFromRow(row.Batch, row.ProductGtin, row.ProductName, row.LocationGln, row.LocationName), nil
}

// Adjust corrects a balance by a signed delta (a stock count found more
// or less than the books say). A reason is required; the balance never
// goes below zero. The ledger row and a stock-taking event are written in
// the same transaction.
func (s *Service) Adjust(ctx context.Context, actor Actor, id uuid.UUID, delta quantity.Quantity, reason string, expectedVersion *int64) (Batch, Consumption, error) {
	var v ValidationError
	switch {
	case delta == 0:
		v.Add("quantity", "must not be 0")
	case delta > quantity.Max || delta < -quantity.Max:
		v.Add("quantity", quantity.ErrRange.Error())
	}
	checkText(&v, "reason", reason, 1, 1000)
	if err := v.OrNil(); err != nil {
		return Batch{}, Consumption{}, err
	}
	if out, ok, err := idempotency.Replay[batchAndConsumption](ctx); ok {
		s.replayed(ctx, out.Batch)
		return out.Batch, out.Consumption, err
	}
	now := s.now()
	caller, key := idempotency.Caller(ctx)
	var out batchAndConsumption
	err := s.store.InTx(ctx, db.TxOptions{LockTimeout: s.lockTimeout}, func(q *db.Queries) error {
		rows, err := q.LockBatches(ctx, []uuid.UUID{id})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return &NotFoundError{What: "batch"}
		}
		b := rows[0]
		if expectedVersion != nil && *expectedVersion != b.Version {
			return &VersionConflictError{BatchID: id.String(), ExpectedVersion: *expectedVersion, CurrentVersion: b.Version}
		}
		after := b.QuantityAvailable + delta
		if after < 0 {
			return &InsufficientQuantityError{BatchID: id.String(), Requested: -delta, QuantityAvailable: b.QuantityAvailable, Item: -1}
		}
		if after > quantity.Max {
			return Invalid("quantity", "would take the balance above "+quantity.Max.String())
		}
		abs := delta
		if abs < 0 {
			abs = -abs
		}
		uom := b.UnitOfMeasure
		eventID, err := insertEvent(ctx, q, eventRecord{
			EventType: "ObjectEvent", Action: ptr("OBSERVE"), EventTime: now, EventTimezone: timezoneOffset(now),
			BizStep: ptr("stock_taking"), Disposition: ptr("active"), ReadPointID: &b.LocationID,
			BizLocationID: &b.LocationID, QuantityList: []QuantityItem{{BatchID: id, Quantity: abs, UOM: uom}},
			SourceType: "system", Actor: actor.name(), Notes: "adjustment " + delta.String() + ": " + reason,
		})
		if err != nil {
			return err
		}
		version, err := q.SetBatchBalance(ctx, db.SetBatchBalanceParams{ID: id, QuantityAvailable: after})
		if err != nil {
			return err
		}
		row, err := q.InsertConsumption(ctx, db.InsertConsumptionParams{
			BatchID: id, Kind: "adjust", Quantity: delta, QuantityAvailableAfter: after,
			VersionAfter: version, Reason: reason, Actor: actor.name(), EventID: &eventID,
			IdempotencyCaller: caller, IdempotencyKey: key,
		})
		if err != nil {
			return err
		}
		out.Consumption = consumptionFromRow(row)
		if out.Batch, err = batchInTx(ctx, q, id); err != nil {
			return err
		}
		return idempotency.Keep(ctx, q, out)
	})
	if errors.Is(err, db.ErrLockTimeout) {
		s.metrics.LockTimeouts.Inc()
		return Batch{}, Consumption{}, ErrLockTimeout
	}
	if err != nil {
		return Batch{}, Consumption{}, keyConflict(unwrapDomain(err))
	}
	s.changed(ctx, Change{Batches: []uuid.UUID{id}, List: true, Events: true})
	return out.Batch, out.Consumption, nil
}

// ListConsumptions lists a batch's ledger, newest first.
func (s *Service) ListConsumptions(ctx context.Context, batchID uuid.UUID, opts ListOptions) (Page[Consumption], error) {
	var v ValidationError
	limit := opts.limit(&v)
	cur := decodeCursor(opts.Cursor, "v", &v)
	if err := v.OrNil(); err != nil {
		return Page[Consumption]{}, err
	}
	if _, err := s.store.GetBatchVersion(ctx, batchID); err != nil {
		return Page[Consumption]{}, notFound(err, "batch", "")
	}
	p := db.ListConsumptionsParams{BatchID: batchID, RowLimit: limit + 1}
	if cur != nil {
		p.BeforeVersion = cur.Version
	}
	rows, err := s.store.ListConsumptions(ctx, p)
	if err != nil {
		return Page[Consumption]{}, err
	}
	return pageOf(rows, limit, consumptionFromRow, func(last Consumption) string {
		return cursor{Version: &last.VersionAfter, ID: last.ID}.encode()
	}), nil
}

// Ledger is what the ledger says about a batch's balance.
type Ledger struct {
	QuantityProduced  quantity.Quantity
	QuantityAvailable quantity.Quantity
	LedgerAvailable   quantity.Quantity // opening quantity + every ledger row's change (ledger_delta)
	Version           int64
	Entries           int64
}

// Balanced is the invariant: the ledger explains the balance, and every
// version after the first has exactly one ledger row.
func (l Ledger) Balanced() bool {
	return l.LedgerAvailable == l.QuantityAvailable && l.QuantityAvailable >= 0 && l.Entries >= 0
}

// CheckLedger reads a batch's ledger totals.
func (s *Service) CheckLedger(ctx context.Context, id uuid.UUID) (Ledger, error) {
	r, err := s.store.LedgerTotals(ctx, id)
	if err != nil {
		return Ledger{}, notFound(err, "batch", "")
	}
	return Ledger{QuantityProduced: r.QuantityProduced, QuantityAvailable: r.QuantityAvailable,
		LedgerAvailable: r.LedgerAvailable, Version: r.Version, Entries: r.Entries}, nil
}

func consumptionFromRow(r db.Consumption) Consumption {
	return Consumption{ID: r.ID, BatchID: r.BatchID, Kind: r.Kind, Quantity: r.Quantity,
		QuantityAvailableAfter: r.QuantityAvailableAfter, VersionAfter: r.VersionAfter, Reason: r.Reason,
		Actor: r.Actor, EventID: r.EventID, CreatedAt: r.CreatedAt, ReversesID: r.ReversesID, ReversesKind: deref(r.ReversesKind)}
}
