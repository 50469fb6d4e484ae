package db_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"batchtrack/db"
	"batchtrack/db/pgtest"
)

// Migration 00009 gives every event recorded before it an EPCIS document
// built from its columns, and its projection: nothing is lost.
func TestMigrationBuildsEPCISDocuments(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	// Start again from an empty schema, migrated up to 00007: the data is
	// seeded in its shape then and goes through every later migration
	// (00008 changes batches and their units) before the store's.
	if _, err := pool.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"); err != nil {
		t.Fatal(err)
	}
	if err := db.MigrateTo(ctx, pool, nil, 7); err != nil {
		t.Fatal(err)
	}
	const gln = "9521234000006"
	var loc, b1, b2 string
	seed := []struct {
		sql  string
		args []any
		into *string
	}{
		{`INSERT INTO products (gtin, name, unit) VALUES ('09521234543213', 'Coffee', 'kg') RETURNING id::text`, nil, nil},
		{`INSERT INTO locations (gln, name, type) VALUES ($1, 'Roastery', 'factory') RETURNING id::text`, []any{gln}, &loc},
		{`INSERT INTO batches (batch_number, product_id, location_id, production_date, quantity_produced, quantity_available, unit_of_measure)
		  SELECT 'LOT/1%A', id, $1::uuid, '2026-01-01', 100, 100, 'kg' FROM products RETURNING id::text`, []any{&loc}, &b1},
		{`INSERT INTO batches (batch_number, product_id, location_id, production_date, quantity_produced, quantity_available, unit_of_measure)
		  SELECT 'B2', id, $1::uuid, '2026-01-01', 100, 100, 'kg' FROM products RETURNING id::text`, []any{&loc}, &b2},
	}
	for _, s := range seed {
		var out string
		args := make([]any, len(s.args))
		for i, a := range s.args {
			if p, ok := a.(*string); ok {
				a = *p
			}
			args[i] = a
		}
		if err := pool.QueryRow(ctx, s.sql, args...).Scan(&out); err != nil {
			t.Fatalf("%s: %v", s.sql, err)
		}
		if s.into != nil {
			*s.into = out
		}
	}
	var ev1, ev2, ev3 string
	err := pool.QueryRow(ctx, `INSERT INTO events (event_type, action, event_time, event_timezone, biz_step, disposition,
		read_point_id, biz_location_id, epc_list, quantity_list, ilmd, notes, source_type, actor)
		VALUES ('ObjectEvent', 'ADD', '2026-03-01 10:00:00.123+00', '+02:00', 'commissioning', 'active', $1, $1,
		        '["https://id.gs1.org/01/09521234543213/21/7"]',
		        jsonb_build_array(jsonb_build_object('batch_id', $2::text, 'quantity', '12.5', 'uom', 'KGM')),
		        '{"bestBefore": "2026-05-01", "ex:x": 1, "n": null}', 'made', 'manual', 'ana')
		RETURNING id::text`, loc, b1).Scan(&ev1)
	if err != nil {
		t.Fatal(err)
	}
	err = pool.QueryRow(ctx, `INSERT INTO events (event_type, event_time, event_timezone, input_quantity_list, output_quantity_list, source_type, actor)
		VALUES ('TransformationEvent', '2026-03-02 13:30:00+00', '-05:00',
		        jsonb_build_array(jsonb_build_object('batch_id', $1::text, 'quantity', '3', 'uom', 'kg')),
		        jsonb_build_array(jsonb_build_object('batch_id', $2::text, 'quantity', '2', 'uom', '')), 'api', 'bob')
		RETURNING id::text`, b1, b2).Scan(&ev2)
	if err != nil {
		t.Fatal(err)
	}
	err = pool.QueryRow(ctx, `INSERT INTO events (event_type, action, event_time, event_timezone, source_type, actor)
		VALUES ('ObjectEvent', 'OBSERVE', '2026-03-03 00:00:00+00', '+00:00', 'system', 'system') RETURNING id::text`).Scan(&ev3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO event_batches (event_id, batch_id, role, quantity, uom, event_time)
		VALUES ($1, $3, 'object', 12.5, 'KGM', '2026-03-01 10:00:00.123+00'),
		       ($2, $3, 'input', 3, 'KGM', '2026-03-02 13:30:00+00'), ($2, $4, 'output', 2, 'KGM', '2026-03-02 13:30:00+00'),
		       ($5, $3, 'object', NULL, '', '2026-03-03 00:00:00+00')`, ev1, ev2, b1, b2, ev3); err != nil {
		t.Fatal(err)
	}

	if err := db.Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}

	lot1 := "01/09521234543213/10/LOT%2F1%25A"
	lot2 := "01/09521234543213/10/B2"
	want := map[string]map[string]any{
		ev1: {
			"type": "ObjectEvent", "eventID": "urn:uuid:" + ev1, "eventTime": "2026-03-01T12:00:00.123+02:00",
			"eventTimeZoneOffset": "+02:00", "action": "ADD", "bizStep": "commissioning", "disposition": "active",
			"readPoint": map[string]any{"id": "https://id.gs1.org/414/" + gln}, "bizLocation": map[string]any{"id": "https://id.gs1.org/414/" + gln},
			"epcList":      []any{"https://id.gs1.org/01/09521234543213/21/7"},
			"quantityList": []any{map[string]any{"epcClass": "https://id.gs1.org/" + lot1, "quantity": 12.5, "uom": "KGM"}},
			"ilmd":         map[string]any{"bt:bestBefore": "2026-05-01", "ex:x": 1.0, "bt:n": nil},
		},
		ev2: {
			"type": "TransformationEvent", "eventID": "urn:uuid:" + ev2, "eventTime": "2026-03-02T08:30:00-05:00",
			"eventTimeZoneOffset": "-05:00",
			"inputQuantityList":   []any{map[string]any{"epcClass": "https://id.gs1.org/" + lot1, "quantity": 3.0, "uom": "KGM"}},
			"outputQuantityList":  []any{map[string]any{"epcClass": "https://id.gs1.org/" + lot2, "quantity": 2.0, "uom": "KGM"}},
		},
		ev3: {
			"type": "ObjectEvent", "eventID": "urn:uuid:" + ev3, "eventTime": "2026-03-03T00:00:00+00:00",
			"eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
		},
	}
	wantContext := map[string]string{ev1: `{"bt": "https://batchtrack.dev/epcis/ns/"}`}
	for id, wantDoc := range want {
		var doc []byte
		var eventID string
		var context, readPoint, bizLocation *string
		if err := pool.QueryRow(ctx, `SELECT document, event_id, context::text, read_point, biz_location FROM events WHERE id = $1`, id).
			Scan(&doc, &eventID, &context, &readPoint, &bizLocation); err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(doc, &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantDoc, got); diff != "" {
			t.Errorf("document of %s (-want +got):\n%s", id, diff)
		}
		if eventID != "urn:uuid:"+id {
			t.Errorf("event_id %s", eventID)
		}
		if c, ok := wantContext[id]; ok != (context != nil) || (ok && *context != c) {
			t.Errorf("context of %s: %v, want %q", id, context, c)
		}
		if id == ev1 && (readPoint == nil || *readPoint != "414/"+gln || bizLocation == nil || *bizLocation != "414/"+gln) {
			t.Errorf("location keys %v %v", readPoint, bizLocation)
		}
	}

	type epc struct {
		Event, Role, Key string
		Class            bool
		Qty, UOM         *string
	}
	rows, err := pool.Query(ctx, `SELECT event_id::text, role, key, is_class, quantity::text, uom FROM event_epcs ORDER BY event_time, role, key`)
	if err != nil {
		t.Fatal(err)
	}
	var got []epc
	for rows.Next() {
		var e epc
		if err := rows.Scan(&e.Event, &e.Role, &e.Key, &e.Class, &e.Qty, &e.UOM); err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	s := func(v string) *string { return &v }
	wantEPCs := []epc{
		{ev1, "epc", "01/09521234543213/10/LOT%2F1%25A", true, s("12.5"), s("KGM")},
		{ev1, "epc", "01/09521234543213/21/7", false, nil, nil},
		{ev2, "input", lot1, true, s("3"), s("KGM")},
		{ev2, "output", lot2, true, s("2"), s("KGM")},
		{ev3, "epc", lot1, true, nil, nil},
	}
	if diff := cmp.Diff(wantEPCs, got); diff != "" {
		t.Errorf("event_epcs (-want +got):\n%s", diff)
	}

	// Events inserted the old way afterwards get theirs from the trigger.
	var doc []byte
	err = pool.QueryRow(ctx, `INSERT INTO events (event_type, action, event_time, event_timezone, biz_location_id, source_type, actor)
		VALUES ('ObjectEvent', 'OBSERVE', now(), '+00:00', $1, 'system', 'system') RETURNING document`, loc).Scan(&doc)
	if err != nil || len(doc) == 0 {
		t.Fatalf("trigger: %s %v", doc, err)
	}
	// Escaping as gs1.EscapeDigitalLink does.
	var esc string
	if err := pool.QueryRow(ctx, `SELECT gs1_escape('a b/~é%')`).Scan(&esc); err != nil || esc != "a%20b%2F~%C3%A9%25" {
		t.Errorf("gs1_escape: %q %v", esc, err)
	}
}
