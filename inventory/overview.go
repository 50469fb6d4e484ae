package inventory

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/quantity"
)

// Overview is what the start page shows: batches by quality status, the
// ones low on stock and the ones expiring soon.
type Overview struct {
	Counts   map[string]int64 // by quality status, every status present
	LowStock []Batch          // usable, not empty, below 10% of the quantity produced
	Expiring []Batch          // usable, with stock left, expiring within ExpiringWithin
}

// ExpiringWithin is the overview's horizon for expiring batches.
const ExpiringWithin = 14 * 24 * time.Hour

// Overview reads the start page's numbers; limit bounds each list.
func (s *Service) Overview(ctx context.Context, limit int) (Overview, error) {
	if limit < 1 || limit > maxLimit {
		limit = 10
	}
	counts, err := s.store.OverviewCounts(ctx)
	if err != nil {
		return Overview{}, err
	}
	o := Overview{Counts: map[string]int64{}}
	for _, st := range QualityStatuses {
		o.Counts[string(st)] = 0
	}
	for _, c := range counts {
		o.Counts[c.QualityStatus] = c.Batches
	}
	today := s.today()
	low, err := s.store.ListLowStockBatches(ctx, db.ListLowStockBatchesParams{Today: today, RowLimit: int32(limit)})
	if err != nil {
		return Overview{}, err
	}
	for _, r := range low {
		o.LowStock = append(o.LowStock, batchFromRow(r.Batch, r.ProductGtin, r.ProductName, r.LocationGln, r.LocationName))
	}
	exp, err := s.store.ListExpiringBatches(ctx, db.ListExpiringBatchesParams{
		FromDate: today, BeforeDate: today.Add(ExpiringWithin), RowLimit: int32(limit),
	})
	if err != nil {
		return Overview{}, err
	}
	for _, r := range exp {
		o.Expiring = append(o.Expiring, batchFromRow(r.Batch, r.ProductGtin, r.ProductName, r.LocationGln, r.LocationName))
	}
	return o, nil
}

// BatchName is how a person recognises a batch.
type BatchName struct {
	BatchNumber string
	ProductName string
}

// BatchNames names the given batches; unknown ids are left out.
func (s *Service) BatchNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]BatchName, error) {
	out := map[uuid.UUID]BatchName{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.store.BatchNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = BatchName{BatchNumber: r.BatchNumber, ProductName: r.ProductName}
	}
	return out, nil
}

// BatchIDsByNumber resolves batch numbers (as people type them) to ids;
// unknown numbers are left out.
func (s *Service) BatchIDsByNumber(ctx context.Context, numbers []string) (map[string]uuid.UUID, error) {
	out := map[string]uuid.UUID{}
	if len(numbers) == 0 {
		return out, nil
	}
	rows, err := s.store.BatchIDsByNumber(ctx, numbers)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.BatchNumber] = r.ID
	}
	return out, nil
}

// RecentBatchNumbers lists the newest batch numbers, for suggestions.
func (s *Service) RecentBatchNumbers(ctx context.Context, n int) ([]string, error) {
	return s.store.RecentBatchNumbers(ctx, int32(min(max(n, 1), 1000)))
}

// Batch list orders besides the default (newest first).
const (
	SortNewest    = ""
	SortNumber    = "number"    // batch number ascending
	SortExpiry    = "expiry"    // soonest expiry first, none last
	SortAvailable = "available" // least available first
)

// BatchSorts are the accepted sort keys.
var BatchSorts = []string{SortNewest, SortNumber, SortExpiry, SortAvailable}

// sortCursor is the keyset position of a sorted list: the sort key of the
// last row as text, and its id.
type sortCursor struct {
	Sort string    `json:"s"`
	Key  string    `json:"k"`
	ID   uuid.UUID `json:"id"`
}

func (c sortCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSortCursor(s, sort string, v *ValidationError) *sortCursor {
	if s == "" {
		return nil
	}
	var c sortCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID == uuid.Nil || c.Sort != sort {
		v.Add("cursor", "is not a cursor from this list")
		return nil
	}
	return &c
}

// ListBatchesSorted is ListBatches in one of BatchSorts, keyset-paginated
// in that order.
func (s *Service) ListBatchesSorted(ctx context.Context, f BatchFilter, sort string, opts ListOptions) (Page[Batch], error) {
	if sort == SortNewest {
		return s.ListBatches(ctx, f, opts)
	}
	var v ValidationError
	if !slices.Contains(BatchSorts, sort) {
		v.Add("sort", "must be one of number, expiry, available (or empty for newest first)")
	}
	limit := opts.limit(&v)
	cur := decodeSortCursor(opts.Cursor, sort, &v)
	if f.QualityStatus != "" && !QualityStatus(f.QualityStatus).Valid() {
		v.Add("quality_status", "must be one of "+qualityStatusList())
	}
	var afterQty *quantity.Quantity
	if cur != nil && sort == SortAvailable {
		q, err := quantity.Parse(cur.Key)
		if err != nil {
			v.Add("cursor", "is not a cursor from this list")
		}
		afterQty = &q
	}
	if err := v.OrNil(); err != nil {
		return Page[Batch]{}, err
	}
	var afterKey *string
	var afterID *uuid.UUID
	if cur != nil {
		afterKey, afterID = &cur.Key, &cur.ID
	}
	q, productID, locationID, status, before := optText(f.Q), f.ProductID, f.LocationID, optText(f.QualityStatus), datePtr(f.ExpiringBefore)
	type row struct {
		b                       db.Batch
		gtin, pname, gln, lname string
	}
	var rows []row
	switch sort {
	case SortNumber:
		rs, err := s.store.ListBatchesByNumber(ctx, db.ListBatchesByNumberParams{
			Q: q, ProductID: productID, LocationID: locationID, QualityStatus: status, ExpiringBefore: before,
			AfterNumber: afterKey, AfterID: afterID, RowLimit: limit + 1,
		})
		if err != nil {
			return Page[Batch]{}, err
		}
		for _, r := range rs {
			rows = append(rows, row{r.Batch, r.ProductGtin, r.ProductName, r.LocationGln, r.LocationName})
		}
	case SortExpiry:
		rs, err := s.store.ListBatchesByExpiry(ctx, db.ListBatchesByExpiryParams{
			Q: q, ProductID: productID, LocationID: locationID, QualityStatus: status, ExpiringBefore: before,
			AfterExpiry: afterKey, AfterID: afterID, RowLimit: limit + 1,
		})
		if err != nil {
			return Page[Batch]{}, err
		}
		for _, r := range rs {
			rows = append(rows, row{r.Batch, r.ProductGtin, r.ProductName, r.LocationGln, r.LocationName})
		}
	case SortAvailable:
		rs, err := s.store.ListBatchesByAvailable(ctx, db.ListBatchesByAvailableParams{
			Q: q, ProductID: productID, LocationID: locationID, QualityStatus: status, ExpiringBefore: before,
			AfterAvailable: afterQty, AfterID: afterID, RowLimit: limit + 1,
		})
		if err != nil {
			return Page[Batch]{}, err
		}
		for _, r := range rs {
			rows = append(rows, row{r.Batch, r.ProductGtin, r.ProductName, r.LocationGln, r.LocationName})
		}
	}
	page := Page[Batch]{Items: make([]Batch, 0, len(rows))}
	for _, r := range rows {
		page.Items = append(page.Items, batchFromRow(r.b, r.gtin, r.pname, r.gln, r.lname))
	}
	if len(page.Items) > int(limit) {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		c := sortCursor{Sort: sort, ID: last.ID}
		switch sort {
		case SortNumber:
			c.Key = last.BatchNumber
		case SortExpiry:
			c.Key = "infinity"
			if last.ExpiryDate != nil {
				c.Key = last.ExpiryDate.Format(time.DateOnly)
			}
		case SortAvailable:
			c.Key = last.QuantityAvailable.String()
		}
		page.NextCursor = c.encode()
	}
	return page, nil
}
