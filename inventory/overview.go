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
	var v ValidationError
	if !slices.Contains(BatchSorts, sort) {
		v.Add("sort", "must be one of number, expiry, available (or empty for newest first)")
	}
	limit := opts.limit(&v)
	p := db.ListBatchesParams{
		Q: optText(f.Q), ProductID: f.ProductID, LocationID: f.LocationID,
		QualityStatus: optText(f.QualityStatus), ExpiringBefore: datePtr(f.ExpiringBefore),
		SortBy: sort, RowLimit: limit + 1,
	}
	// Newest first keeps its own cursor shape: API clients hold such cursors.
	if sort == SortNewest {
		if cur := decodeCursor(opts.Cursor, "t", &v); cur != nil {
			key := cur.Time.Format(time.RFC3339Nano)
			p.AfterKey, p.AfterID = &key, &cur.ID
		}
	} else if cur := decodeSortCursor(opts.Cursor, sort, &v); cur != nil {
		if _, err := quantity.Parse(cur.Key); sort == SortAvailable && err != nil {
			v.Add("cursor", "is not a cursor from this list")
		}
		p.AfterKey, p.AfterID = &cur.Key, &cur.ID
	}
	if f.QualityStatus != "" && !QualityStatus(f.QualityStatus).Valid() {
		v.Add("quality_status", "must be one of "+qualityStatusList())
	}
	if err := v.OrNil(); err != nil {
		return Page[Batch]{}, err
	}
	rows, err := s.store.ListBatches(ctx, p)
	if err != nil {
		return Page[Batch]{}, err
	}
	item := func(r db.ListBatchesRow) Batch {
		return batchFromRow(r.Batch, r.ProductGtin, r.ProductName, r.LocationGln, r.LocationName)
	}
	return pageOf(rows, limit, item, func(last Batch) string {
		c := sortCursor{Sort: sort, ID: last.ID}
		switch sort {
		case SortNewest:
			return cursor{Time: &last.CreatedAt, ID: last.ID}.encode()
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
		return c.encode()
	}), nil
}
