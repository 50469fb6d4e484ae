package inventory

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/gs1"
	"batchtrack/idempotency"
	"batchtrack/quantity"
)

// NewBatch is the input for CreateBatch.
type NewBatch struct {
	BatchNumber      string // generated when empty
	ProductID        uuid.UUID
	LocationID       uuid.UUID
	ProductionDate   time.Time
	ExpiryDate       *time.Time
	BestBeforeDate   *time.Time
	QuantityProduced quantity.Quantity
	UnitOfMeasure    string // a Rec 20 code or its name ("KGM", "kg"); default: the product's unit
	QualityStatus    string // default pending
	Notes            string
}

// CreateBatch stores a batch with quantity_available = quantity_produced
// and records its commissioning event in the same transaction.
func (s *Service) CreateBatch(ctx context.Context, actor Actor, in NewBatch) (Batch, error) {
	var v ValidationError
	checkNewBatch(&v, "", &in)
	if err := v.OrNil(); err != nil {
		return Batch{}, err
	}
	if b, ok, err := idempotency.Replay[Batch](ctx); ok {
		return b, err
	}
	var b Batch
	err := s.store.InTx(ctx, db.TxOptions{}, func(q *db.Queries) error {
		id, err := s.insertBatch(ctx, q, actor, "system", "batch created", "", in)
		if err != nil {
			return err
		}
		if b, err = batchInTx(ctx, q, id); err != nil {
			return err
		}
		return idempotency.Keep(ctx, q, b)
	})
	if err != nil {
		return Batch{}, unwrapDomain(err)
	}
	s.changed(ctx, Change{Batches: []uuid.UUID{b.ID}, List: true, Events: true})
	return b, nil
}

// checkNewBatch holds CreateBatch's input rules, with field names under
// prefix; it fills in the default quality status and turns a unit name
// into its Rec 20 code.
func checkNewBatch(v *ValidationError, prefix string, in *NewBatch) {
	if in.BatchNumber != "" {
		if err := gs1.ValidateLot(in.BatchNumber); err != nil {
			v.Add(prefix+"batch_number", err.Error())
		}
	}
	if in.ProductID == uuid.Nil {
		v.Add(prefix+"product_id", "is required")
	}
	if in.LocationID == uuid.Nil {
		v.Add(prefix+"location_id", "is required")
	}
	if in.ProductionDate.IsZero() {
		v.Add(prefix+"production_date", "is required")
	}
	var dv ValidationError
	checkDates(&dv, in.ProductionDate, in.ExpiryDate, in.BestBeforeDate)
	checkAmount(&dv, "quantity_produced", in.QuantityProduced)
	checkText(&dv, "notes", in.Notes, 0, 5000)
	for _, f := range dv.Fields {
		v.Add(prefix+f.Field, f.Message)
	}
	if in.UnitOfMeasure != "" {
		if u, ok := gs1.LookupUnit(in.UnitOfMeasure); ok {
			in.UnitOfMeasure = u.Code
		} else {
			v.Add(prefix+"unit_of_measure", unitChoices)
		}
	}
	if in.QualityStatus == "" {
		in.QualityStatus = string(StatusPending)
	}
	if !QualityStatus(in.QualityStatus).Valid() {
		v.Add(prefix+"quality_status", "must be one of "+qualityStatusList())
	}
}

// insertBatch stores one validated batch and its commissioning event
// (recorded with source and note) inside the caller's transaction.
func (s *Service) insertBatch(ctx context.Context, q *db.Queries, actor Actor, source, note, prefix string, in NewBatch) (uuid.UUID, error) {
	product, err := q.GetProduct(ctx, in.ProductID)
	if err != nil {
		return uuid.Nil, notFound(err, "product", prefix+"product_id")
	}
	location, err := q.GetLocation(ctx, in.LocationID)
	if err != nil {
		return uuid.Nil, notFound(err, "location", prefix+"location_id")
	}
	w, err := loadWorld(ctx, q, []uuid.UUID{location.ID}, nil, nil)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := w.ourLocation(location.ID, prefix+"location_id"); err != nil {
		return uuid.Nil, err
	}
	if in.UnitOfMeasure == "" {
		in.UnitOfMeasure = product.Unit
	}
	if in.BatchNumber == "" {
		in.BatchNumber = generateBatchNumber(in.ProductionDate)
	} else if err := lotElsewhere(ctx, q, in.ProductID, in.BatchNumber, nil, prefix); err != nil {
		var taken *ConflictError
		if errors.As(err, &taken) {
			return uuid.Nil, &ConflictError{Field: prefix + "batch_number",
				Message: "product " + product.Gtin + " already has a batch with lot number " + in.BatchNumber}
		}
		return uuid.Nil, err
	}
	eventID := newEventUUID()
	id, err := q.CreateBatch(ctx, db.CreateBatchParams{
		CreatedEventID: &eventID,
		BatchNumber:    in.BatchNumber, ProductID: in.ProductID, LocationID: in.LocationID,
		ProductionDate: dateOnly(in.ProductionDate), ExpiryDate: datePtr(in.ExpiryDate),
		BestBeforeDate: datePtr(in.BestBeforeDate), QuantityProduced: in.QuantityProduced,
		UnitOfMeasure: in.UnitOfMeasure, QualityStatus: in.QualityStatus, Notes: in.Notes,
	})
	if err != nil {
		if errors.Is(db.Translate(err), db.ErrConflict) {
			return uuid.Nil, &ConflictError{Field: prefix + "batch_number",
				Message: "product " + product.Gtin + " already has a batch with lot number " + in.BatchNumber}
		}
		return uuid.Nil, err
	}
	uom := in.UnitOfMeasure
	now := s.now()
	_, err = insertEvent(ctx, q, eventRecord{ID: eventID,
		EventType: "ObjectEvent", Action: ptr("ADD"), EventTime: now, EventTimezone: timezoneOffset(now),
		BizStep: ptr("commissioning"), Disposition: ptr("active"),
		ReadPointID: &location.ID, BizLocationID: &location.ID,
		QuantityList: []QuantityItem{{BatchID: id, Quantity: in.QuantityProduced, UOM: uom}},
		SourceType:   source, Actor: actor.name(), Notes: note,
	})
	return id, err
}

// generateBatchNumber makes a lot number such as "L260112-7KQ2M4": the
// production date and six random characters, unique in practice (the
// unique constraint, per product, catches the rest).
func generateBatchNumber(production time.Time) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	var sb strings.Builder
	sb.WriteString("L" + production.Format("060102") + "-")
	for _, c := range b {
		sb.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return sb.String()
}

// GetBatch returns one batch with its product and location.
func (s *Service) GetBatch(ctx context.Context, id uuid.UUID) (Batch, error) {
	row, err := s.store.GetBatch(ctx, id)
	if err != nil {
		return Batch{}, notFound(err, "batch", "")
	}
	return batchFromRow(row.Batch, row.ProductGtin, row.ProductName, row.LocationGln, row.LocationName), nil
}

// FindBatchByDigitalLink resolves a GS1 Digital Link (GTIN, lot) to a batch.
func (s *Service) FindBatchByDigitalLink(ctx context.Context, gtin, lot string) (uuid.UUID, error) {
	g, l, err := gs1.ParseDigitalLinkPath(gtin, lot)
	if err != nil {
		return uuid.Nil, &NotFoundError{What: "batch"}
	}
	id, err := s.store.GetBatchByDigitalLink(ctx, db.GetBatchByDigitalLinkParams{Gtin: g, BatchNumber: l})
	if err != nil {
		return uuid.Nil, notFound(err, "batch", "")
	}
	return id, nil
}

// BatchFilter narrows ListBatches.
type BatchFilter struct {
	Q              string
	ProductID      *uuid.UUID
	LocationID     *uuid.UUID
	QualityStatus  string
	ExpiringBefore *time.Time
}

// ListBatches lists batches, newest first.
func (s *Service) ListBatches(ctx context.Context, f BatchFilter, opts ListOptions) (Page[Batch], error) {
	return s.ListBatchesSorted(ctx, f, SortNewest, opts)
}

// BatchUpdate holds the fields a PATCH may change; nil leaves a field as is.
// ClearExpiry and ClearBestBefore remove a date.
type BatchUpdate struct {
	ProductionDate  *time.Time
	ExpiryDate      *time.Time
	ClearExpiry     bool
	BestBeforeDate  *time.Time
	ClearBestBefore bool
	QualityStatus   *string
	Notes           *string
	// Reason explains a quality status change; it goes into the event.
	Reason string
}

// UpdateBatch changes metadata and quality status. With expectedVersion
// set, a batch at another version is refused with VersionConflictError.
// A status change records an inspection event.
func (s *Service) UpdateBatch(ctx context.Context, actor Actor, id uuid.UUID, u BatchUpdate, expectedVersion *int64) (Batch, error) {
	var v ValidationError
	if u.QualityStatus != nil && !QualityStatus(*u.QualityStatus).Valid() {
		v.Add("quality_status", "must be one of "+qualityStatusList())
	}
	if u.Notes != nil {
		checkText(&v, "notes", *u.Notes, 0, 5000)
	}
	checkText(&v, "reason", u.Reason, 0, 1000)
	if u.QualityStatus != nil && QualityStatus(*u.QualityStatus) == StatusOnHold && strings.TrimSpace(u.Reason) == "" {
		v.Add("reason", "is required to put a lot on hold")
	}
	if err := v.OrNil(); err != nil {
		return Batch{}, err
	}
	if b, ok, err := idempotency.Replay[Batch](ctx); ok {
		s.replayed(ctx, b)
		return b, err
	}
	var out Batch
	err := s.store.InTx(ctx, db.TxOptions{LockTimeout: s.lockTimeout}, func(q *db.Queries) error {
		rows, err := q.LockBatches(ctx, []uuid.UUID{id})
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return &NotFoundError{What: "batch"}
		}
		cur, err := q.GetBatch(ctx, id)
		if err != nil {
			return err
		}
		b := cur.Batch
		if expectedVersion != nil && *expectedVersion != b.Version {
			return &VersionConflictError{BatchID: id.String(), ExpectedVersion: *expectedVersion, CurrentVersion: b.Version}
		}
		next := db.UpdateBatchParams{
			ID: id, ExpectedVersion: b.Version, ProductionDate: b.ProductionDate, ExpiryDate: b.ExpiryDate,
			BestBeforeDate: b.BestBeforeDate, QualityStatus: b.QualityStatus, Notes: b.Notes,
			StatusReason: b.StatusReason,
		}
		if u.ProductionDate != nil {
			next.ProductionDate = dateOnly(*u.ProductionDate)
		}
		if u.ClearExpiry {
			next.ExpiryDate = nil
		} else if u.ExpiryDate != nil {
			next.ExpiryDate = datePtr(u.ExpiryDate)
		}
		if u.ClearBestBefore {
			next.BestBeforeDate = nil
		} else if u.BestBeforeDate != nil {
			next.BestBeforeDate = datePtr(u.BestBeforeDate)
		}
		if u.QualityStatus != nil && *u.QualityStatus != b.QualityStatus {
			next.QualityStatus = *u.QualityStatus
			next.StatusReason = ""
			if QualityStatus(next.QualityStatus) != StatusApproved && QualityStatus(next.QualityStatus) != StatusPending {
				next.StatusReason = strings.TrimSpace(u.Reason)
			}
		}
		if u.Notes != nil {
			next.Notes = *u.Notes
		}
		var dv ValidationError
		checkDates(&dv, next.ProductionDate, next.ExpiryDate, next.BestBeforeDate)
		if err := dv.OrNil(); err != nil {
			return err
		}
		if _, err := q.UpdateBatch(ctx, next); err != nil {
			return err
		}
		if next.QualityStatus != b.QualityStatus {
			if err := s.recordStatusChange(ctx, q, actor, b, next.QualityStatus, u.Reason); err != nil {
				return err
			}
		}
		if out, err = batchInTx(ctx, q, id); err != nil {
			return err
		}
		return idempotency.Keep(ctx, q, out)
	})
	if err != nil {
		if errors.Is(err, db.ErrLockTimeout) {
			s.metrics.LockTimeouts.Inc()
			return Batch{}, ErrLockTimeout
		}
		if _, ok := err.(*VersionConflictError); ok {
			s.metrics.VersionConflicts.Inc()
		}
		return Batch{}, unwrapDomain(err)
	}
	s.changed(ctx, Change{Batches: []uuid.UUID{id}, List: true, Events: true})
	return out, nil
}

// recordStatusChange records the inspection event of a quality status
// change, inside the caller's transaction.
func (s *Service) recordStatusChange(ctx context.Context, q *db.Queries, actor Actor, b db.Batch, status, reason string) error {
	disposition := QualityStatus(status).Disposition()
	bizStep := QualityStatus(status).BizStep()
	now := s.now()
	notes := "quality status " + b.QualityStatus + " → " + status
	if reason != "" {
		notes += ": " + reason
	}
	_, err := insertEvent(ctx, q, eventRecord{
		EventType: "ObjectEvent", Action: ptr("OBSERVE"), EventTime: now, EventTimezone: timezoneOffset(now),
		BizStep: &bizStep, Disposition: &disposition,
		ReadPointID: &b.LocationID, BizLocationID: &b.LocationID,
		QuantityList: []QuantityItem{{BatchID: b.ID, Quantity: b.QuantityAvailable, UOM: b.UnitOfMeasure}},
		SourceType:   "system", Actor: actor.name(), Notes: notes,
	})
	return err
}

func batchFromRow(b db.Batch, gtin, productName, gln, locationName string) Batch {
	return Batch{
		ID: b.ID, BatchNumber: b.BatchNumber,
		ProductID: b.ProductID, ProductGTIN: gtin, ProductName: productName,
		LocationID: b.LocationID, LocationGLN: gln, LocationName: locationName,
		ProductionDate: b.ProductionDate, ExpiryDate: b.ExpiryDate, BestBeforeDate: b.BestBeforeDate,
		QuantityProduced: b.QuantityProduced, QuantityAvailable: b.QuantityAvailable,
		UOM: b.UnitOfMeasure, QualityStatus: QualityStatus(b.QualityStatus), StatusReason: b.StatusReason,
		Origin: b.Origin, TLCSource: b.TlcSource, KDEs: kdesOf(b.Kdes), Notes: b.Notes,
		Version: b.Version, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
	}
}

func kdesOf(raw []byte) map[string]string {
	var m map[string]string
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func checkDates(v *ValidationError, production time.Time, expiry, bestBefore *time.Time) {
	if production.IsZero() {
		return
	}
	if production.Year() < 1900 || production.Year() > 9999 {
		v.Add("production_date", "must be a date between 1900 and 9999")
	}
	if expiry != nil && dateOnly(*expiry).Before(dateOnly(production)) {
		v.Add("expiry_date", "must not be before the production date")
	}
	if bestBefore != nil && dateOnly(*bestBefore).Before(dateOnly(production)) {
		v.Add("best_before_date", "must not be before the production date")
	}
}

// checkAmount: amounts are > 0 and at most quantity.Max.
func checkAmount(v *ValidationError, field string, q quantity.Quantity) {
	switch {
	case q <= 0:
		v.Add(field, "must be greater than 0")
	case q > quantity.Max:
		v.Add(field, quantity.ErrRange.Error())
	}
}

func datePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	d := dateOnly(*t)
	return &d
}

// unwrapDomain returns the domain error inside a translated database error
// chain (InTx wraps what fn returned).
func unwrapDomain(err error) error {
	var (
		ve *ValidationError
		nf *NotFoundError
		ce *ConflictError
		vc *VersionConflictError
		iq *InsufficientQuantityError
		nc *NotConsumableError
	)
	switch {
	case errors.As(err, &ve):
		return ve
	case errors.As(err, &nf):
		return nf
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &vc):
		return vc
	case errors.As(err, &iq):
		return iq
	case errors.As(err, &nc):
		return nc
	}
	return err
}
