package inventory

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/gs1"
)

// MaxImportRows bounds one import, so its transaction stays short.
const MaxImportRows = 5000

// ImportBatches creates every batch or none: all rows are validated first
// (errors name the row as "rows[i].field"), then inserted with their
// commissioning events in one transaction. The events carry the actor's
// source (import, for a CSV import).
func (s *Service) ImportBatches(ctx context.Context, actor Actor, rows []NewBatch) ([]Batch, error) {
	var v ValidationError
	switch {
	case len(rows) == 0:
		v.Add("rows", "must have at least one batch")
	case len(rows) > MaxImportRows:
		v.Add("rows", "must have at most "+itoa(MaxImportRows)+" batches")
	}
	seen := map[string]int{}
	for i := range rows {
		p := "rows[" + itoa(i) + "]."
		checkNewBatch(&v, p, &rows[i])
		if n := rows[i].BatchNumber; n != "" {
			if j, dup := seen[n]; dup {
				v.Add(p+"batch_number", "repeats the batch number of row "+itoa(j+1))
			}
			seen[n] = i
		}
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(rows))
	err := s.store.InTx(ctx, db.TxOptions{}, func(q *db.Queries) error {
		for i := range rows {
			id, err := s.insertBatch(ctx, q, actor, "rows["+itoa(i)+"].", rows[i])
			if err != nil {
				return err
			}
			ids[i] = id
		}
		return nil
	})
	if err != nil {
		return nil, unwrapDomain(err)
	}
	out := make([]Batch, 0, len(ids))
	for _, id := range ids {
		b, err := s.GetBatch(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// checkNewBatch holds CreateBatch's input rules, with field names under
// prefix; it fills in the default quality status.
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
	if in.UnitOfMeasure != "" && !slices.Contains(gs1.Units(), in.UnitOfMeasure) {
		v.Add(prefix+"unit_of_measure", "must be one of "+strings.Join(gs1.Units(), ", "))
	}
	if in.QualityStatus == "" {
		in.QualityStatus = "pending"
	}
	if !slices.Contains(QualityStatuses, in.QualityStatus) {
		v.Add(prefix+"quality_status", "must be one of "+strings.Join(QualityStatuses, ", "))
	}
}

// insertBatch stores one validated batch and its commissioning event
// inside the caller's transaction.
func (s *Service) insertBatch(ctx context.Context, q *db.Queries, actor Actor, prefix string, in NewBatch) (uuid.UUID, error) {
	product, err := q.GetProduct(ctx, in.ProductID)
	if err != nil {
		return uuid.Nil, notFound(err, "product", prefix+"product_id")
	}
	location, err := q.GetLocation(ctx, in.LocationID)
	if err != nil {
		return uuid.Nil, notFound(err, "location", prefix+"location_id")
	}
	if in.UnitOfMeasure == "" {
		in.UnitOfMeasure = product.Unit
	}
	if in.BatchNumber == "" {
		in.BatchNumber = generateBatchNumber(in.ProductionDate)
	}
	id, err := q.CreateBatch(ctx, db.CreateBatchParams{
		BatchNumber: in.BatchNumber, ProductID: in.ProductID, LocationID: in.LocationID,
		ProductionDate: dateOnly(in.ProductionDate), ExpiryDate: datePtr(in.ExpiryDate),
		BestBeforeDate: datePtr(in.BestBeforeDate), QuantityProduced: in.QuantityProduced,
		UnitOfMeasure: in.UnitOfMeasure, QualityStatus: in.QualityStatus, Notes: in.Notes,
	})
	if err != nil {
		if errors.Is(db.Translate(err), db.ErrConflict) {
			return uuid.Nil, &ConflictError{Field: prefix + "batch_number", Message: "a batch with number " + in.BatchNumber + " already exists"}
		}
		return uuid.Nil, err
	}
	uom, _ := gs1.UNECECode(in.UnitOfMeasure)
	now := s.now()
	_, err = insertEvent(ctx, q, eventRecord{
		EventType: "ObjectEvent", Action: ptr("ADD"), EventTime: now, EventTimezone: timezoneOffset(now),
		BizStep: ptr("commissioning"), Disposition: ptr("active"),
		ReadPointID: &location.ID, BizLocationID: &location.ID,
		QuantityList: []QuantityItem{{BatchID: id, Quantity: in.QuantityProduced, UOM: uom}},
		SourceType:   actor.source(), Actor: actor.name(), Notes: "batch imported",
	})
	return id, err
}

// CheckImport validates rows as ImportBatches would, without writing, and
// also reports batch numbers already taken: the preview before a commit.
func (s *Service) CheckImport(ctx context.Context, rows []NewBatch) error {
	var v ValidationError
	seen := map[string]int{}
	var numbers []string
	for i := range rows {
		p := "rows[" + itoa(i) + "]."
		checkNewBatch(&v, p, &rows[i])
		if n := rows[i].BatchNumber; n != "" {
			if j, dup := seen[n]; dup {
				v.Add(p+"batch_number", "repeats the batch number of row "+itoa(j+1))
			}
			seen[n] = i
			numbers = append(numbers, n)
		}
	}
	taken, err := s.BatchIDsByNumber(ctx, numbers)
	if err != nil {
		return err
	}
	for i, r := range rows {
		if _, ok := taken[r.BatchNumber]; ok && r.BatchNumber != "" {
			v.Add("rows["+itoa(i)+"].batch_number", "is already taken by an existing batch")
		}
	}
	return v.OrNil()
}

// ProductByGTIN finds a product by its GTIN (any length; normalised to 14).
func (s *Service) ProductByGTIN(ctx context.Context, gtin string) (Product, error) {
	g, err := gs1.NormalizeGTIN(strings.TrimSpace(gtin))
	if err != nil {
		return Product{}, Invalid("gtin", err.Error())
	}
	row, err := s.store.GetProductByGTIN(ctx, g)
	if err != nil {
		return Product{}, notFound(err, "product", "gtin")
	}
	return productFromRow(row), nil
}

// LocationByGLN finds a location by its GLN.
func (s *Service) LocationByGLN(ctx context.Context, gln string) (Location, error) {
	gln = strings.TrimSpace(gln)
	if err := gs1.ValidateGLN(gln); err != nil {
		return Location{}, Invalid("gln", err.Error())
	}
	row, err := s.store.GetLocationByGLN(ctx, gln)
	if err != nil {
		return Location{}, notFound(err, "location", "gln")
	}
	return locationFromRow(row), nil
}
