package inventory_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// Events recorded through the staff form, the JSON API, batch changes and
// consumes carry an EPCIS document built in Go (or, for the one-statement
// consume, by the events_fill_epcis trigger): the same as migration
// 00009's legacy_document builds from the columns, with their projection.
func TestLegacyDocumentsMatchSQL(t *testing.T) {
	svc, pool := newService(t, 10, time.Second)
	ctx := context.Background()
	w := newWorld(t, svc)
	b := w.batch("100", func(nb *inventory.NewBatch) { nb.BatchNumber = "LOT/1%A" })
	// The transformation's output: new production joins an unreleased lot.
	other := w.batch("80", func(nb *inventory.NewBatch) { nb.QualityStatus = "pending" })
	when := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	ev, err := svc.RecordEvent(ctx, inventory.Actor{Name: "ana", Source: "api"}, inventory.NewEvent{
		EventType: "TransformationEvent", EventTime: &when, EventTimezone: "+05:30", BizStep: "commissioning",
		ReadPoint: w.location.GLN, BizLocation: w.location.GLN, EPCList: []string{"https://id.gs1.org/01/" + w.product.GTIN + "/21/7"},
		InputQuantityList:  []inventory.QuantityItem{{BatchID: b.ID, Quantity: quantity.MustParse("12.5")}, {BatchID: b.ID, Quantity: quantity.MustParse("1")}},
		OutputQuantityList: []inventory.QuantityItem{{BatchID: other.ID, Quantity: quantity.MustParse("3")}},
		BatchIDs:           []uuid.UUID{other.ID},
		ILMD:               json.RawMessage(`{"bestBefore": "2026-05-01", "ex:x": [1, null]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventID != "urn:uuid:"+ev.ID.String() {
		t.Errorf("EventID %q", ev.EventID)
	}
	if _, _, err := svc.Consume(ctx, inventory.Actor{Name: "ana"}, inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.MustParse("2")}); err != nil {
		t.Fatal(err)
	}
	approved := "approved"
	if _, err := svc.UpdateBatch(ctx, inventory.System, other.ID, inventory.BatchUpdate{QualityStatus: &approved}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.ConsumeMany(ctx, inventory.Actor{Name: "ana"}, []inventory.ConsumeItem{{BatchID: b.ID, Quantity: quantity.MustParse("1")}, {BatchID: other.ID, Quantity: quantity.MustParse("1")}}, "mix"); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT e.id::text, e.document::text, legacy_document(e)::text,
		       e.context IS NOT DISTINCT FROM legacy_context(e.ilmd),
		       (SELECT count(*) FROM event_epcs ee WHERE ee.event_id = e.id)
		FROM events e ORDER BY e.recorded_at, e.id`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var id, doc, sqlDoc string
		var sameContext bool
		var epcs int
		if err := rows.Scan(&id, &doc, &sqlDoc, &sameContext, &epcs); err != nil {
			t.Fatal(err)
		}
		n++
		if doc != sqlDoc {
			t.Errorf("event %s:\n Go:  %s\n SQL: %s", id, doc, sqlDoc)
		}
		if !sameContext {
			t.Errorf("event %s: context differs", id)
		}
		if epcs == 0 {
			t.Errorf("event %s: no identifiers projected", id)
		}
	}
	if n != 6 { // two batches created, the event, a release, two consumes
		t.Errorf("%d events, want 6", n)
	}
	var links int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM event_epcs WHERE event_id = $1`, ev.ID).Scan(&links)
	// The EPC, two inputs, the output, and the batch named without a
	// quantity (an object of the event, not only its output).
	if links != 5 {
		t.Errorf("identifiers of the recorded event: %d, want 5", links)
	}
}
