package inventory

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/gs1"
	"batchtrack/idempotency"
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
	checkImportRows(&v, rows)
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	if out, ok, err := idempotency.Replay[[]Batch](ctx); ok {
		return out, err
	}
	out := make([]Batch, 0, len(rows))
	err := s.store.InTx(ctx, db.TxOptions{}, func(q *db.Queries) error {
		for i := range rows {
			id, err := s.insertBatch(ctx, q, actor, actor.source(), "batch imported", "rows["+itoa(i)+"].", rows[i])
			if err != nil {
				return err
			}
			b, err := batchInTx(ctx, q, id)
			if err != nil {
				return err
			}
			out = append(out, b)
		}
		return idempotency.Keep(ctx, q, out)
	})
	if err != nil {
		return nil, unwrapDomain(err)
	}
	ids := make([]uuid.UUID, len(out))
	for i, b := range out {
		ids[i] = b.ID
	}
	s.changed(ctx, Change{Batches: ids, List: true, Events: true})
	return out, nil
}

// checkImportRows holds the rules of every row and of the rows together
// (no lot twice for one product); it returns the batch numbers given.
func checkImportRows(v *ValidationError, rows []NewBatch) []string {
	type lotKey struct {
		product uuid.UUID
		number  string
	}
	seen := map[lotKey]int{}
	var numbers []string
	for i := range rows {
		p := "rows[" + itoa(i) + "]."
		checkNewBatch(v, p, &rows[i])
		if n := rows[i].BatchNumber; n != "" {
			k := lotKey{rows[i].ProductID, n}
			if j, dup := seen[k]; dup {
				v.Add(p+"batch_number", "repeats the lot number of row "+itoa(j+1)+" for the same product")
			}
			seen[k] = i
			numbers = append(numbers, n)
		}
	}
	return numbers
}

// CheckImport validates rows as ImportBatches would, without writing, and
// also reports lots their product already has: the preview before a commit.
func (s *Service) CheckImport(ctx context.Context, rows []NewBatch) error {
	var v ValidationError
	numbers := checkImportRows(&v, rows)
	taken, err := s.LotsByNumber(ctx, numbers)
	if err != nil {
		return err
	}
	for i, r := range rows {
		if r.BatchNumber == "" || r.ProductID == uuid.Nil {
			continue
		}
		for _, l := range taken[r.BatchNumber] {
			if l.ProductID == r.ProductID {
				v.Add("rows["+itoa(i)+"].batch_number", "is already a lot of this product")
				break
			}
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
	return s.GetLocation(ctx, row.ID)
}
