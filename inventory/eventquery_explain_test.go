package inventory_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"batchtrack/db/pgtest"
	"batchtrack/inventory"
)

// Every EPCIS query filter is served by an index: on 200k events (and
// 400k identifiers) the plan of each query names the index meant for it
// and scans no table whole. No timings are asserted.
func TestEventQueriesUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 200k events")
	}
	pool := pgtest.New(t)
	ctx := context.Background()
	setup, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Release()
	// The projection rows' foreign key checks are most of the setup time;
	// skip them where allowed (superuser), the data is consistent anyway.
	if _, err := setup.Exec(ctx, "SET session_replication_role = replica"); err == nil {
		defer setup.Exec(ctx, "RESET session_replication_role") //nolint:errcheck
	}
	for _, stmt := range []string{
		`INSERT INTO events (id, event_id, hash_id, event_type, action, event_time, event_timezone, recorded_at, biz_step,
		                     disposition, read_point, biz_location, transformation_id, error_reason, declared_in_error_at,
		                     source_type, actor, document)
		 SELECT gen_random_uuid(), 'urn:uuid:ev-' || i, 'ni:///sha-256;' || i,
		        CASE WHEN i % 200 = 0 THEN 'TransactionEvent' WHEN i % 50 = 0 THEN 'TransformationEvent' ELSE 'ObjectEvent' END,
		        CASE WHEN i % 50 = 0 AND i % 200 <> 0 THEN NULL ELSE 'OBSERVE' END,
		        timestamptz '2026-01-01' + i * interval '1 minute', '+00:00', timestamptz '2026-01-01' + i * interval '1 second',
		        CASE WHEN i % 200 = 1 THEN 'packing' ELSE 'shipping' END,
		        CASE WHEN i % 100 = 3 THEN 'damaged' ELSE 'in_transit' END,
		        '414/' || lpad((i % 500)::text, 13, '0'), '414/' || lpad((i % 500)::text, 13, '0') || CASE WHEN i % 2 = 0 THEN '/254/' || (i % 7) ELSE '' END,
		        CASE WHEN i % 50 = 0 AND i % 200 <> 0 THEN 'urn:uuid:tx-' || i END,
		        CASE WHEN i % 1000 = 7 THEN 'incorrect_data' END, CASE WHEN i % 1000 = 7 THEN now() END,
		        'capture', 'test', '{}'
		 FROM generate_series(1, 200000) i`,
		`INSERT INTO event_epcs (event_id, role, key, is_class, quantity, uom, event_time)
		 SELECT id, 'epc', '01/09521234543213/21/' || substr(event_id, 13), false, NULL, NULL, event_time FROM events
		 UNION ALL
		 SELECT id, CASE WHEN event_type = 'TransformationEvent' THEN 'input' ELSE 'epc' END,
		        '01/' || lpad((abs(hashtext(event_id)) % 1000)::text, 14, '0') || '/10/L' || (abs(hashtext(event_id)) % 37),
		        true, 1 + abs(hashtext(event_id)) % 50, 'KGM', event_time FROM events`,
		`INSERT INTO event_biz_transactions (event_id, type, key, id)
		 SELECT id, CASE WHEN abs(hashtext(event_id)) % 3 = 0 THEN 'desadv' ELSE 'po' END, 'po-' || substr(event_id, 13), event_id
		 FROM events WHERE abs(hashtext(event_id)) % 10 = 0`,
		`ANALYZE`,
	} {
		start := time.Now()
		if _, err := setup.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		t.Logf("%.40s: %s", stmt, time.Since(start))
	}
	from := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	to := from.Add(6 * time.Hour)
	tests := []struct {
		name      string
		q         inventory.EventQuery
		wantIndex string
	}{
		{"no filter, newest first", inventory.EventQuery{}, "events_time_idx"},
		{"eventType, newest first", inventory.EventQuery{EventTypes: []string{"TransactionEvent"}}, "events_type_time_idx"},
		{"bizStep", inventory.EventQuery{BizSteps: []string{"packing"}}, "events_biz_step_time_idx"},
		{"disposition", inventory.EventQuery{Dispositions: []string{"damaged"}}, "events_disposition_time_idx"},
		{"MATCH_epc exact", inventory.EventQuery{EPC: []inventory.KeyMatch{{Key: "01/09521234543213/21/4242"}}}, "event_epcs_key_time_idx"},
		{"MATCH_epcClass prefix", inventory.EventQuery{EPCClass: []inventory.KeyMatch{{Key: "01/00000000000042/10/L3", Prefix: true}}}, "event_epcs_key_time_idx"},
		{"MATCH_anyEPCClass exact", inventory.EventQuery{AnyEPCClass: []inventory.KeyMatch{{Key: "01/00000000000042/10/L3"}}}, "event_epcs_key_time_idx"},
		{"EQ_bizLocation", inventory.EventQuery{BizLocations: []string{"414/0000000000043"}}, "events_biz_location_key_idx"},
		{"WD_bizLocation", inventory.EventQuery{BizLocationsWD: []string{"414/0000000000042/254/3"}}, "events_biz_location_key_idx"},
		{"EQ_readPoint", inventory.EventQuery{ReadPoints: []string{"414/0000000000042"}}, "events_read_point_idx"},
		{"EQ_bizTransaction_po", inventory.EventQuery{BizTransactions: map[string][]string{"po": {"po-4240"}}}, "event_biz_transactions_type_key_idx"},
		{"EQ_eventID", inventory.EventQuery{EventIDs: []string{"urn:uuid:ev-4242"}}, "events_event_id_key"},
		{"EQ_transformationID", inventory.EventQuery{TransformationIDs: []string{"urn:uuid:tx-4250"}}, "events_transformation_idx"},
		{"EQ_errorReason", inventory.EventQuery{ErrorReasons: []string{"incorrect_data"}}, "events_error_reason_idx"},
		{"recordTime, oldest first", inventory.EventQuery{OrderBy: "recordTime", Ascending: true}, "events_recorded_idx"},
		{"GE_eventTime and LT_eventTime", inventory.EventQuery{GEEventTime: &from, LTEventTime: &to}, "events_time_idx"},
		{"GE_recordTime, newest first by record time", inventory.EventQuery{OrderBy: "recordTime", GERecordTime: &from}, "events_recorded_idx"},
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, args, err := inventory.EventQuerySQL(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := conn.Query(ctx, "EXPLAIN "+sql, args...)
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
			for _, table := range []string{"events", "event_epcs", "event_biz_transactions", "event_parties"} {
				if strings.Contains(text, "Seq Scan on "+table+" ") {
					t.Errorf("plan scans %s whole:\n%s", table, text)
				}
			}
			t.Logf("%s", text)
			if !strings.Contains(text, tt.wantIndex) {
				t.Errorf("plan does not use %s:\n%s\n%s", tt.wantIndex, sql, text)
			}
		})
	}
}
