package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/db/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Every filter and sort the API offers is served by an index: on tables
// of realistic size, the plan of each list query names the index meant
// for it and scans no table whole. (Text search, q=, goes through trigram
// indexes only once tables are large enough for the planner to prefer
// them over a scan; it is left out here.)
func TestListQueriesUseIndexes(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	// Realistic volumes, so the planner's choices are the ones production
	// would see: 2000 products, 500 locations, 5000 batches expiring over
	// five years, 20000 events.
	for _, stmt := range []string{
		`INSERT INTO products (gtin, name, category) SELECT lpad(i::text, 14, '0'), 'product ' || i, 'cat ' || (i % 4) FROM generate_series(1, 2000) i`,
		`INSERT INTO locations (gln, name, type) SELECT lpad(i::text, 13, '0'), 'location ' || i, CASE WHEN i % 50 = 0 THEN 'farm' ELSE 'retailer' END FROM generate_series(1, 500) i`,
		`INSERT INTO batches (batch_number, product_id, location_id, production_date, expiry_date, quantity_produced, quantity_available, quality_status, created_at)
		 SELECT 'B' || i, (SELECT id FROM products ORDER BY gtin OFFSET i % 20 LIMIT 1), (SELECT id FROM locations ORDER BY gln OFFSET i % 10 LIMIT 1),
		        date '2026-01-01', date '2026-01-01' + (i % 1800), 100, 50, CASE WHEN i % 100 = 0 THEN 'recalled' ELSE 'approved' END, now() - i * interval '1 minute'
		 FROM generate_series(1, 5000) i`,
		`INSERT INTO events (event_type, action, event_time, event_timezone, biz_step, biz_location_id, source_type, actor, declared_in_error_at)
		 SELECT CASE WHEN i % 200 = 0 THEN 'TransactionEvent' ELSE 'ObjectEvent' END, 'OBSERVE', now() - i * interval '1 minute', '+00:00',
		        CASE WHEN i % 200 = 1 THEN 'packing' ELSE 'shipping' END, (SELECT id FROM locations ORDER BY gln OFFSET i % 10 LIMIT 1),
		        CASE WHEN i % 200 = 2 THEN 'import' ELSE 'system' END, 'test', CASE WHEN i % 1000 = 7 THEN now() END
		 FROM generate_series(1, 20000) i`,
		`INSERT INTO event_batches (event_id, batch_id, role, event_time)
		 SELECT e.id, b.id, 'object', e.event_time FROM (SELECT id, event_time, row_number() OVER () AS n FROM events) e
		 JOIN (SELECT id, row_number() OVER () AS n FROM batches) b ON b.n = 1 + e.n % 5000`,
		`INSERT INTO event_epcs (event_id, role, key, is_class, quantity, uom, event_time)
		 SELECT eb.event_id, 'epc', lot_key(p.gtin, b.batch_number), true, 1, 'KGM', eb.event_time
		 FROM event_batches eb JOIN batches b ON b.id = eb.batch_id JOIN products p ON p.id = b.product_id`,
		`INSERT INTO event_biz_transactions (event_id, type, key, id)
		 SELECT id, CASE WHEN n % 3 = 0 THEN 'desadv' ELSE 'po' END, 'po-' || n, 'po-' || n
		 FROM (SELECT id, row_number() OVER () AS n FROM events) e WHERE n % 10 = 0`,
		`INSERT INTO consumptions (batch_id, kind, quantity, quantity_available_after, version_after, actor)
		 SELECT b.id, 'consume', 1, 50, v, 'test' FROM batches b, generate_series(2, 5) v`,
		`ANALYZE`,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	var id, productID uuid.UUID
	var lotKey string
	if err := pool.QueryRow(ctx, `SELECT b.id, b.product_id, lot_key(p.gtin, b.batch_number)
		FROM batches b JOIN products p ON p.id = b.product_id WHERE batch_number = 'B42'`).Scan(&id, &productID, &lotKey); err != nil {
		t.Fatal(err)
	}
	// events and batchEvents are ListEvents' and ListBatchEvents' arguments:
	// the filters by name, the rest NULL, 51 rows.
	events := func(named map[string]any) []any {
		args := make([]any, 0, 13)
		for _, n := range []string{"event_type", "biz_step", "location_id", "source_type", "start_time", "end_time",
			"product_id", "epc_class", "biz_transaction", "declared_in_error", "after_time", "after_id"} {
			args = append(args, named[n])
		}
		return append(args, 51)
	}
	batchEvents := func(batch uuid.UUID, named map[string]any) []any {
		return append(append([]any{batch, nil, nil}, events(named)[:10]...), 51)
	}
	now := time.Now()
	soon := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	status, typ := "recalled", "farm"
	tests := []struct {
		name      string
		sql       string
		args      []any
		wantIndex string
	}{
		// ListBatches: q, product, location, status, expiring before, after id, sort, after key, limit.
		{"batches newest first", db.ListBatchesSQL, []any{nil, nil, nil, nil, nil, nil, "", nil, 51}, "batches_created_idx"},
		{"batches by product", db.ListBatchesSQL, []any{nil, id, nil, nil, nil, nil, "", nil, 51}, "batches_product_created_idx"},
		{"batches by location", db.ListBatchesSQL, []any{nil, nil, id, nil, nil, nil, "", nil, 51}, "batches_location_created_idx"},
		{"batches by status", db.ListBatchesSQL, []any{nil, nil, nil, status, nil, nil, "", nil, 51}, "batches_status_created_idx"},
		{"batches expiring", db.ListBatchesSQL, []any{nil, nil, nil, nil, soon, nil, "", nil, 51}, "batches_expiry_idx"},
		{"batches next page", db.ListBatchesSQL, []any{nil, nil, nil, nil, nil, id, "", now.Format(time.RFC3339Nano), 51}, "batches_created_idx"},
		{"batches by number", db.ListBatchesSQL, []any{nil, nil, nil, nil, nil, nil, "number", nil, 51}, "batches_number_id_idx"},
		{"batches by number, next page", db.ListBatchesSQL, []any{nil, nil, nil, nil, nil, id, "number", "B42", 51}, "batches_number_id_idx"},
		{"batches by expiry", db.ListBatchesSQL, []any{nil, nil, nil, nil, nil, nil, "expiry", nil, 51}, "batches_expiry_sort_idx"},
		{"batches by expiry, next page", db.ListBatchesSQL, []any{nil, nil, nil, nil, nil, id, "expiry", "2027-01-01", 51}, "batches_expiry_sort_idx"},
		// Sorting by available scans on purpose: see migration 00004.
		{"events newest first", db.ListEventsSQL, events(nil), "events_time_idx"},
		{"events by type", db.ListEventsSQL, events(map[string]any{"event_type": "TransactionEvent"}), "events_type_time_idx"},
		{"events by biz step", db.ListEventsSQL, events(map[string]any{"biz_step": "packing"}), "events_biz_step_time_idx"},
		{"events by location", db.ListEventsSQL, events(map[string]any{"location_id": id}), "events_biz_location_time_idx"},
		{"events by source", db.ListEventsSQL, events(map[string]any{"source_type": "import"}), "events_source_time_idx"},
		{"events by date", db.ListEventsSQL, events(map[string]any{"start_time": now, "end_time": now}), "events_time_idx"},
		{"events by product", db.ListEventsSQL, events(map[string]any{"product_id": productID}), "event_batches_batch_time_idx"},
		{"events by EPC class", db.ListEventsSQL, events(map[string]any{"epc_class": lotKey}), "event_epcs_key_time_idx"},
		{"events by business transaction", db.ListEventsSQL, events(map[string]any{"biz_transaction": "po-420"}), "event_biz_transactions_type_key_idx"},
		{"events declared in error", db.ListEventsSQL, events(map[string]any{"declared_in_error": true}), "events_declared_idx"},
		{"events not declared in error", db.ListEventsSQL, events(map[string]any{"declared_in_error": false}), "events_time_idx"},
		{"events of a batch", db.ListBatchEventsSQL, batchEvents(id, nil), "event_batches_batch_"},
		{"events of a batch by business transaction", db.ListBatchEventsSQL, batchEvents(id, map[string]any{"biz_transaction": "po-420"}), "event_batches_batch_"},
		{"ledger of a batch", db.ListConsumptionsSQL, []any{id, nil, 51}, "consumptions_batch_id_version_after_key"},
		{"products by name", db.ListProductsSQL, []any{nil, nil, nil, nil, 51}, "products_name_idx"},
		{"products by category", db.ListProductsSQL, []any{nil, "Coffee", nil, nil, 51}, "products_category_name_idx"},
		{"locations by type", db.ListLocationsSQL, []any{nil, typ, nil, nil, 51}, "locations_type_name_idx"},
		{"trace links", db.ListTraceLinksSQL, []any{id}, "Index"},
		// Lots: by number alone (any product) and by GTIN + lot (00008: by
		// (product_id, batch_number) or, numbers being this selective, by number).
		{"lots by number", db.LotsByNumberSQL, []any{[]string{"B42"}}, "batches_number_id_idx"},
		{"lot by Digital Link", db.BatchByDigitalLinkSQL, []any{"00000000000001", "B42"}, "Index Scan using batches_"},
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := conn.Query(ctx, "EXPLAIN "+tt.sql, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if !strings.Contains(text, tt.wantIndex) || strings.Contains(text, "Seq Scan on "+mainTable(tt.sql)) {
				t.Errorf("plan does not use %s:\n%s", tt.wantIndex, text)
			}
		})
	}
}

func mainTable(sql string) string {
	for _, t := range []string{"events e", "batches b", "consumptions", "products", "locations"} {
		if strings.Contains(sql, "FROM "+t) {
			return strings.Fields(t)[0]
		}
	}
	return "?"
}
