package inventory_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/inventory"
)

// seedTraceChain writes, in bulk SQL, a chain of depth transformations
// (lot C-0 → C-1 → … → C-depth) and unrelated transformations (U-i-in →
// U-i-out), each with the event_batches and event_epcs rows a captured
// transformation has. It returns the chain's root batch.
func seedTraceChain(tb testing.TB, pool *pgxpool.Pool, depth, unrelated int) uuid.UUID {
	tb.Helper()
	ctx := context.Background()
	for _, stmt := range []string{
		`INSERT INTO products (gtin, name, unit) VALUES ('09506000134352', 'Passata', 'KGM')`,
		`INSERT INTO locations (gln, name, type) VALUES ('9506000000019', 'Plant', 'factory')`,
		// Lots: the chain's C-0..C-depth, then U-i-in and U-i-out.
		`INSERT INTO batches (batch_number, product_id, location_id, production_date, quantity_produced, quantity_available,
		                     unit_of_measure, quality_status)
		 SELECT n, (SELECT id FROM products), (SELECT id FROM locations), date '2026-01-01', 100, 100, 'KGM', 'approved'
		 FROM (SELECT 'C-' || i AS n FROM generate_series(0, $1::int) i
		       UNION ALL SELECT 'U-' || i || '-' || s FROM generate_series(1, $2::int) i, unnest(ARRAY['in', 'out']) s) l`,
		`INSERT INTO events (id, event_type, event_time, event_timezone, source_type, actor, transformation_id)
		 SELECT gen_random_uuid(), 'TransformationEvent', timestamptz '2026-01-02' + i * interval '1 second', '+00:00',
		        'system', 'seed', t
		 FROM (SELECT i, 'C-' || i AS t FROM generate_series(1, $1::int) i
		       UNION ALL SELECT $1::int + i, 'U-' || i FROM generate_series(1, $2::int) i) x`,
		// Event i takes C-(i-1) (or U-i-in) and makes C-i (or U-i-out).
		`INSERT INTO event_batches (event_id, batch_id, role, quantity, uom, event_time)
		 SELECT e.id, b.id, r.role, 10, 'KGM', e.event_time
		 FROM events e
		 CROSS JOIN LATERAL (VALUES ('input', CASE WHEN e.transformation_id LIKE 'C-%'
		                                          THEN 'C-' || (substr(e.transformation_id, 3)::int - 1)
		                                          ELSE e.transformation_id || '-in' END),
		                            ('output', CASE WHEN e.transformation_id LIKE 'C-%' THEN e.transformation_id
		                                          ELSE e.transformation_id || '-out' END)) r(role, lot)
		 JOIN batches b ON b.batch_number = r.lot
		 WHERE e.event_type = 'TransformationEvent'`,
		`INSERT INTO event_epcs (event_id, role, key, is_class, quantity, uom, event_time)
		 SELECT eb.event_id, eb.role, lot_key(p.gtin, b.batch_number), true, eb.quantity, eb.uom, eb.event_time
		 FROM event_batches eb JOIN batches b ON b.id = eb.batch_id JOIN products p ON p.id = b.product_id`,
		// Moves (a row at a second location, created by the move) and
		// transfers (shipped from the first, received into the second).
		`INSERT INTO locations (gln, name, type) VALUES ('9506000000026', 'Warehouse', 'warehouse')`,
		`INSERT INTO batches (batch_number, product_id, location_id, production_date, quantity_produced, quantity_available,
		                     unit_of_measure, quality_status)
		 SELECT k || '-' || i, (SELECT id FROM products), (SELECT id FROM locations WHERE gln = '9506000000019'),
		        date '2026-01-01', 100, 90, 'KGM', 'approved'
		 FROM generate_series(1, $2::int / 4) i, unnest(ARRAY['M', 'T']) k`,
		`INSERT INTO events (id, event_type, action, biz_step, event_time, event_timezone, source_type, actor, transformation_id)
		 SELECT gen_random_uuid(), 'ObjectEvent', 'OBSERVE', s, timestamptz '2026-01-03' + i * interval '1 second', '+00:00',
		        'system', 'seed', k || '-' || i
		 FROM generate_series(1, $2::int / 4) i,
		      (VALUES ('M', 'transporting'), ('T', 'shipping'), ('R', 'receiving')) v(k, s)`,
		`INSERT INTO batches (batch_number, product_id, location_id, production_date, quantity_produced, quantity_available,
		                     unit_of_measure, quality_status, origin, created_event_id)
		 SELECT b.batch_number, b.product_id, (SELECT id FROM locations WHERE gln = '9506000000026'), b.production_date,
		        10, 10, 'KGM', 'approved', 'moved',
		        (SELECT id FROM events e WHERE e.transformation_id = CASE WHEN b.batch_number LIKE 'M-%' THEN b.batch_number
		                                                                  ELSE 'R' || substr(b.batch_number, 2) END)
		 FROM batches b WHERE b.batch_number ~ '^[MT]-'`,
		`INSERT INTO consumptions (batch_id, kind, quantity, quantity_available_after, version_after, actor, event_id)
		 SELECT b.id, CASE WHEN e.biz_step = 'shipping' THEN 'ship' ELSE 'move_out' END, 10, 90, 2, 'seed', e.id
		 FROM batches b JOIN events e ON e.transformation_id = b.batch_number WHERE b.quantity_available = 90`,
		`INSERT INTO event_batches (event_id, batch_id, role, quantity, uom, event_time)
		 SELECT e.id, b.id, 'object', 10, 'KGM', e.event_time
		 FROM batches b JOIN events e ON e.transformation_id = b.batch_number WHERE b.quantity_available = 90
		 UNION ALL
		 SELECT b.created_event_id, b.id, 'object', 10, 'KGM', timestamptz '2026-01-04' FROM batches b WHERE b.origin = 'moved'`,
		`INSERT INTO transfers (ship_event_id, from_batch_id, product_id, batch_number, to_location_id, quantity, quantity_open,
		                       unit_of_measure)
		 SELECT c.event_id, c.batch_id, b.product_id, b.batch_number, (SELECT id FROM locations WHERE gln = '9506000000026'),
		        10, 0, 'KGM'
		 FROM consumptions c JOIN batches b ON b.id = c.batch_id WHERE c.kind = 'ship'`,
		`INSERT INTO transfer_receipts (transfer_id, receive_event_id, quantity)
		 SELECT t.id, b.created_event_id, 10
		 FROM transfers t JOIN batches b ON b.batch_number = t.batch_number AND b.location_id = t.to_location_id`,
		`ANALYZE`,
	} {
		var args []any
		switch {
		case strings.Contains(stmt, "$1"):
			args = []any{depth, unrelated}
		case strings.Contains(stmt, "$2"):
			stmt = strings.ReplaceAll(stmt, "$2", "$1")
			args = []any{unrelated}
		}
		if _, err := pool.Exec(ctx, stmt, args...); err != nil {
			tb.Fatalf("%.60s: %v", stmt, err)
		}
	}
	var root uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT id FROM batches WHERE batch_number = 'C-0'`).Scan(&root); err != nil {
		tb.Fatal(err)
	}
	return root
}

// The trace walk looks up only its frontier's edges: on many unrelated
// transformations its plan scans none of the edge tables whole (a
// whole-table CTE would). No timings are asserted.
func TestTraceWalkUsesIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 20k transformations")
	}
	_, pool := newService(t, 4, 0)
	rootID := seedTraceChain(t, pool, 10, 20000)
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var moves, receipts int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM consumptions WHERE kind = 'move_out'),
		(SELECT count(*) FROM transfer_receipts)`).Scan(&moves, &receipts); err != nil || moves != 5000 || receipts != 5000 {
		t.Fatalf("seeded %d moves, %d receipts: %v", moves, receipts, err)
	}
	root := "'{b:" + rootID.String() + "}'"
	for _, q := range []struct {
		name string
		sql  string
		args string
	}{
		{"walk down", inventory.TraceWalkSQL, root + ", false, true, 0, 5000"},
		{"walk up", inventory.TraceWalkSQL, root + ", true, false, 0, 5000"},
		{"edges among", inventory.TraceEdgesAmongSQL, root},
	} {
		// Trace runs a connection's generic plan (see Service.Trace); with
		// the simple protocol every execution gets a custom plan.
		for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
			t.Run(q.name+" "+mode, func(t *testing.T) {
				text := explainPrepared(t, conn, mode, q.sql, q.args)
				if strings.Contains(text, "Function Scan on trace_edges") {
					t.Errorf("trace_edges_* is not inlined, its plan is hidden:\n%s", text)
				}
				for _, table := range []string{"event_batches", "event_epcs", "consumptions", "transfers", "transfer_receipts",
					"events", "batches"} {
					if strings.Contains(text, "Seq Scan on "+table+" ") {
						t.Errorf("plan scans %s whole:\n%s", table, text)
					}
				}
				// An index scan without a condition reads the table whole too.
				plan := strings.Split(text, "\n")
				for i, line := range plan {
					if !strings.Contains(line, "Index Scan using ") && !strings.Contains(line, "Index Only Scan using ") {
						continue
					}
					cond := false
					for _, next := range plan[i+1:] {
						if strings.Contains(next, "->") || strings.Contains(next, "SubPlan") || strings.Contains(next, "InitPlan") {
							break
						}
						cond = cond || strings.Contains(next, "Index Cond:")
					}
					if !cond {
						t.Errorf("index scan without a condition: %s\n%s", strings.TrimSpace(line), text)
					}
				}
			})
		}
	}
}

// explainPrepared is the plan of sql prepared and executed with args (SQL
// literals) under a plan_cache_mode.
func explainPrepared(t *testing.T, conn *pgxpool.Conn, mode, sql, args string) string {
	t.Helper()
	ctx := context.Background()
	for _, stmt := range []string{"SET plan_cache_mode = " + mode, "PREPARE explained AS " + sql} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	defer conn.Exec(ctx, "DEALLOCATE explained") //nolint:errcheck
	rows, err := conn.Query(ctx, "EXPLAIN EXECUTE explained("+args+")")
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
	return strings.Join(plan, "\n")
}

// BenchmarkTrace times a downstream trace of depth 10 among 2,000
// unrelated transformations (make bench; docs/benchmarks.md).
func BenchmarkTrace(b *testing.B) {
	svc, pool := newService(b, 4, 0)
	root := seedTraceChain(b, pool, 10, 2000)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		g, err := svc.Trace(ctx, inventory.TraceRequest{BatchIDs: []uuid.UUID{root}, Direction: inventory.TraceDown})
		if err != nil {
			b.Fatal(err)
		}
		if len(g.Nodes) != 11 {
			b.Fatalf("%d nodes, want 11", len(g.Nodes))
		}
	}
}
