package inventory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

var baseTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// captured builds an ObjectEvent as the epcis parser would hand it over:
// Raw JSON plus the projection fields. Its hash is derived from its id
// unless a mod sets one.
func captured(id string, mods ...func(*epcis.Event)) epcis.Event {
	ev := epcis.Event{
		Type: "ObjectEvent", EventID: id, EventTime: baseTime, TimeZoneOffset: "+00:00",
		Action: "OBSERVE", BizStep: "shipping", Disposition: "in_transit",
		HashID: "ni:///sha-256;" + id + "?ver=CBV2.0",
	}
	for _, m := range mods {
		m(&ev)
	}
	if ev.Raw == nil {
		doc := map[string]any{"type": ev.Type, "eventTime": ev.EventTime.Format(time.RFC3339Nano),
			"eventTimeZoneOffset": ev.TimeZoneOffset}
		if ev.EventID != "" {
			doc["eventID"] = ev.EventID
		}
		if ev.Action != "" {
			doc["action"] = ev.Action
		}
		if ev.BizStep != "" {
			doc["bizStep"] = ev.BizStep
		}
		ev.Raw, _ = json.Marshal(doc)
	}
	return ev
}

func at(d time.Duration) func(*epcis.Event) {
	return func(e *epcis.Event) { e.EventTime = baseTime.Add(d) }
}

func ids(list ...epcis.Identifier) func(*epcis.Event) {
	return func(e *epcis.Event) { e.Identifiers = append(e.Identifiers, list...) }
}

func instance(role, key string) epcis.Identifier {
	return epcis.Identifier{Role: role, Key: key, URI: "https://id.gs1.org/" + key}
}

func class(role, key, qty, uom string) epcis.Identifier {
	return epcis.Identifier{Role: role, Key: key, URI: "https://id.gs1.org/" + key, Class: true, Quantity: qty, UOM: uom}
}

func capture(t *testing.T, svc *inventory.Service, proceed bool, evs ...epcis.Event) inventory.CaptureResult {
	t.Helper()
	res, err := svc.CaptureEvents(context.Background(), inventory.Actor{Name: "capture-test"}, slices.All(evs),
		inventory.CaptureOptions{Proceed: proceed})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func countEvents(t *testing.T, pool *pgxpool.Pool, where string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM events WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func errorIndexes(res inventory.CaptureResult) []int {
	var out []int
	for _, e := range res.Errors {
		out = append(out, e.Index)
	}
	return out
}

func TestCaptureDuplicates(t *testing.T) {
	svc, pool := newService(t, 10, time.Second)
	capture(t, svc, false, captured("urn:uuid:stored-1"), captured("urn:uuid:stored-2"))
	sameHash := func(e *epcis.Event) { e.HashID = "ni:///sha-256;urn:uuid:stored-2?ver=CBV2.0" }
	tests := []struct {
		name        string
		proceed     bool
		doc         []epcis.Event
		wantStored  []string
		wantErrors  []int
		wantErrType string
	}{
		{"rollback: one stored eventID stores nothing", false,
			[]epcis.Event{captured("urn:uuid:a1"), captured("urn:uuid:a2"), captured("urn:uuid:stored-1"), captured("urn:uuid:a3")},
			nil, []int{2}, inventory.ExceptionAlreadyExists},
		{"proceed: the others are stored", true,
			[]epcis.Event{captured("urn:uuid:b1"), captured("urn:uuid:stored-1"), captured("urn:uuid:b2")},
			[]string{"urn:uuid:b1", "urn:uuid:b2"}, []int{1}, inventory.ExceptionAlreadyExists},
		{"rollback: repeated within the document", false,
			[]epcis.Event{captured("urn:uuid:c1"), captured("urn:uuid:c2"), captured("urn:uuid:c1")},
			nil, []int{2}, inventory.ExceptionAlreadyExists},
		{"proceed: repeated within the document", true,
			[]epcis.Event{captured("urn:uuid:d1"), captured("urn:uuid:d1"), captured("urn:uuid:d2")},
			[]string{"urn:uuid:d1", "urn:uuid:d2"}, []int{1}, inventory.ExceptionAlreadyExists},
		{"same hash under another eventID", true,
			[]epcis.Event{captured("urn:uuid:e1", sameHash), captured("urn:uuid:e2")},
			[]string{"urn:uuid:e2"}, []int{0}, inventory.ExceptionAlreadyExists},
		{"same hash twice in the document", true,
			[]epcis.Event{captured("urn:uuid:f1"), captured("urn:uuid:f2", func(e *epcis.Event) { e.HashID = "ni:///sha-256;urn:uuid:f1?ver=CBV2.0" })},
			[]string{"urn:uuid:f1"}, []int{1}, inventory.ExceptionAlreadyExists},
		{"invalid event, rollback", false,
			[]epcis.Event{captured("urn:uuid:g1"), captured("urn:uuid:g2", func(e *epcis.Event) { e.Action = "" })},
			nil, []int{1}, inventory.ExceptionValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := capture(t, svc, tt.proceed, tt.doc...)
			if diff := cmp.Diff(tt.wantErrors, errorIndexes(res)); diff != "" {
				t.Errorf("error indexes (-want +got):\n%s\n%+v", diff, res.Errors)
			}
			for _, e := range res.Errors {
				if e.Type != tt.wantErrType || e.Message == "" {
					t.Errorf("error %+v, want type %s", e, tt.wantErrType)
				}
			}
			if res.Stored != len(tt.wantStored) || len(res.IDs) != len(tt.wantStored) {
				t.Errorf("stored %d (%d ids), want %d", res.Stored, len(res.IDs), len(tt.wantStored))
			}
			var docIDs []string
			for _, e := range tt.doc {
				docIDs = append(docIDs, e.EventID)
			}
			var got []string
			rows, err := pool.Query(context.Background(), "SELECT event_id FROM events WHERE event_id = ANY($1) AND event_id NOT LIKE 'urn:uuid:stored-%' ORDER BY event_id", docIDs)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				_ = rows.Scan(&id)
				got = append(got, id)
			}
			if diff := cmp.Diff(tt.wantStored, got); diff != "" {
				t.Errorf("stored events (-want +got):\n%s", diff)
			}
		})
	}
}

// A capture larger than one write batch, in one transaction: a duplicate
// in the second batch rolls back the first too.
func TestCaptureManyRollsBackWhole(t *testing.T) {
	svc, pool := newService(t, 10, time.Second)
	capture(t, svc, false, captured("urn:uuid:many-700"))
	var doc []epcis.Event
	for i := range 1200 {
		doc = append(doc, captured(fmt.Sprintf("urn:uuid:many-%d", i), at(time.Duration(i)*time.Second),
			ids(instance(epcis.RoleEPC, fmt.Sprintf("01/09521234543213/21/%d", i)))))
	}
	res := capture(t, svc, false, doc...)
	if res.Stored != 0 || !slices.Equal(errorIndexes(res), []int{700}) {
		t.Fatalf("rollback capture: stored %d, errors %+v", res.Stored, res.Errors)
	}
	if n := countEvents(t, pool, "source_type = 'capture'"); n != 1 {
		t.Fatalf("%d captured events stored, want the 1 from before", n)
	}
	res = capture(t, svc, true, doc...)
	if res.Stored != 1199 || !slices.Equal(errorIndexes(res), []int{700}) {
		t.Fatalf("proceed capture: stored %d, errors %+v", res.Stored, res.Errors)
	}
	var epcs int
	_ = pool.QueryRow(context.Background(), "SELECT count(*) FROM event_epcs WHERE key LIKE '01/09521234543213/21/%'").Scan(&epcs)
	if epcs != 1199 {
		t.Errorf("%d identifiers projected, want 1199", epcs)
	}
}

// Racers capturing the same events store each exactly once: the others
// hit the unique indexes after the pre-check and report the duplicates.
func TestConcurrentCaptureStoresOnce(t *testing.T) {
	svc, pool := newService(t, 20, time.Second)
	ctx := context.Background()
	one := captured("urn:uuid:race-single")
	doc := []epcis.Event{captured("urn:uuid:race-1"), captured("urn:uuid:race-2"), captured("urn:uuid:race-3")}
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored, conflicts, batchStored := 0, 0, 0
	for range 8 {
		wg.Go(func() {
			_, err := svc.CaptureEvent(ctx, inventory.Actor{Name: "racer"}, one)
			res, err2 := svc.CaptureEvents(ctx, inventory.Actor{Name: "racer"}, slices.All(doc), inventory.CaptureOptions{Proceed: true})
			mu.Lock()
			defer mu.Unlock()
			var ce *inventory.ConflictError
			switch {
			case err == nil:
				stored++
			case errors.As(err, &ce):
				conflicts++
			default:
				t.Error(err)
			}
			if err2 != nil {
				t.Error(err2)
			}
			batchStored += res.Stored
			for _, e := range res.Errors {
				if e.Type != inventory.ExceptionAlreadyExists {
					t.Errorf("racer error %+v", e)
				}
			}
		})
	}
	wg.Wait()
	if stored != 1 || conflicts != 7 {
		t.Errorf("CaptureEvent: %d stored, %d conflicts; want 1 and 7", stored, conflicts)
	}
	if batchStored != 3 {
		t.Errorf("CaptureEvents: %d stored in all, want 3", batchStored)
	}
	if n := countEvents(t, pool, "event_id LIKE 'urn:uuid:race-%'"); n != 4 {
		t.Errorf("%d events stored, want 4", n)
	}
}

func TestCaptureEventStoredEvent(t *testing.T) {
	svc, _ := newService(t, 10, time.Second)
	ctx := context.Background()
	ev := captured("", func(e *epcis.Event) { e.Context = map[string]string{"ex": "https://example.com/ns/"} })
	got, err := svc.CaptureEvent(ctx, inventory.Actor{Name: "ana"}, ev)
	if err != nil {
		t.Fatal(err)
	}
	if got.EventID != "urn:uuid:"+got.ID.String() || got.SourceType != "capture" || got.Actor != "ana" ||
		got.Context["ex"] != "https://example.com/ns/" || got.RecordTime.IsZero() {
		t.Errorf("stored event %+v", got)
	}
	again, err := svc.GetEventByEventID(ctx, got.EventID)
	if err != nil || again.ID != got.ID || string(again.Document) == "" {
		t.Errorf("GetEventByEventID: %+v, %v", again, err)
	}
	if _, err := svc.GetEventByEventID(ctx, "urn:uuid:nope"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("unknown eventID: %v", err)
	}
	if _, err := svc.CaptureEvent(ctx, inventory.Actor{Name: "ana"}, ev); err == nil {
		t.Error("the same event (same hash) twice: no error")
	}
}

// Events naming our lots are linked to them and show in the batch's
// events; lots we do not hold are only recorded.
func TestCaptureLinksOurLots(t *testing.T) {
	svc, pool := newService(t, 10, time.Second)
	ctx := context.Background()
	w := newWorld(t, svc)
	in := w.batch("100")
	out := w.batch("50")
	key := func(b inventory.Batch) string {
		return "01/" + b.ProductGTIN + "/10/" + gs1.EscapeDigitalLink(b.BatchNumber, false)
	}
	ev := captured("urn:uuid:transform-1", func(e *epcis.Event) {
		e.Type, e.Action, e.BizStep = "TransformationEvent", "", "commissioning"
		e.ReadPoint = "414/" + w.location.GLN
		e.BizLocation = "414/" + w.location.GLN + "/254/1"
	}, ids(class(epcis.RoleInput, key(in), "12.5", "KGM"), class(epcis.RoleInput, key(in), "2.5", "KGM"),
		class(epcis.RoleOutput, key(out), "", ""),
		class(epcis.RoleInput, "01/09999999999999/10/NOTOURS", "1", "KGM")))
	res := capture(t, svc, false, ev)
	if res.Stored != 1 {
		t.Fatalf("%+v", res)
	}
	page, err := svc.ListEvents(ctx, inventory.EventFilter{BatchID: &in.ID}, inventory.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var found *inventory.Event
	for i, e := range page.Items {
		if e.EventID == "urn:uuid:transform-1" {
			found = &page.Items[i]
		}
	}
	if found == nil {
		t.Fatalf("captured event not among the batch's events: %+v", page.Items)
	}
	wantInputs := []inventory.QuantityItem{
		{BatchID: in.ID, Quantity: quantity.MustParse("12.5"), UOM: "KGM"},
		{BatchID: in.ID, Quantity: quantity.MustParse("2.5"), UOM: "KGM"},
	}
	if diff := cmp.Diff(wantInputs, found.InputQuantityList); diff != "" {
		t.Errorf("input quantity list (-want +got):\n%s", diff)
	}
	if found.ReadPointID == nil || *found.ReadPointID != w.location.ID || found.BizLocationID != nil || found.SourceType != "capture" {
		t.Errorf("locations/source: %+v", found)
	}
	type link struct {
		Batch uuid.UUID
		Role  string
		Qty   *string
	}
	var links []link
	rows, _ := pool.Query(ctx, `SELECT batch_id, role, quantity::text FROM event_batches eb JOIN events e ON e.id = eb.event_id
		WHERE e.event_id = 'urn:uuid:transform-1' ORDER BY role`)
	for rows.Next() {
		var l link
		if err := rows.Scan(&l.Batch, &l.Role, &l.Qty); err != nil {
			t.Fatal(err)
		}
		links = append(links, l)
	}
	fifteen := "15.000"
	if diff := cmp.Diff([]link{{in.ID, "input", &fifteen}, {out.ID, "output", nil}}, links); diff != "" {
		t.Errorf("event_batches (-want +got):\n%s", diff)
	}
	links2, err := svc.TraceLinks(ctx, in.ID)
	if err != nil || len(links2) != 1 || links2[0].BatchID != out.ID {
		t.Errorf("trace links of the input: %+v, %v", links2, err)
	}
}

func TestCaptureJobLifecycle(t *testing.T) {
	svc, pool := newService(t, 10, time.Second)
	ctx := context.Background()
	actor := inventory.Actor{Name: "jobs"}
	job, err := svc.StartCaptureJob(ctx, actor, "rollback", 2)
	if err != nil || job.Status != "running" {
		t.Fatalf("%+v %v", job, err)
	}
	res, err := svc.CaptureEvents(ctx, actor, slices.All([]epcis.Event{captured("urn:uuid:job-1"), captured("urn:uuid:job-2")}),
		inventory.CaptureOptions{JobID: job.ID})
	if err != nil || res.Stored != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	got, err := svc.GetCaptureJob(ctx, job.ID)
	if err != nil || got.Status != "success" || got.StoredCount != 2 || got.EventCount != 2 || got.FinishedAt == nil {
		t.Errorf("after success: %+v %v", got, err)
	}
	var jobOfEvent uuid.UUID
	_ = pool.QueryRow(ctx, "SELECT capture_job_id FROM events WHERE event_id = 'urn:uuid:job-1'").Scan(&jobOfEvent)
	if jobOfEvent != job.ID {
		t.Errorf("event's job %s, want %s", jobOfEvent, job.ID)
	}

	failed, _ := svc.StartCaptureJob(ctx, actor, "rollback", 2)
	res, err = svc.CaptureEvents(ctx, actor, slices.All([]epcis.Event{captured("urn:uuid:job-3"), captured("urn:uuid:job-1")}),
		inventory.CaptureOptions{JobID: failed.ID})
	if err != nil || res.Stored != 0 || len(res.Errors) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	got, _ = svc.GetCaptureJob(ctx, failed.ID)
	if got.Status != "failed" || got.StoredCount != 0 || len(got.Errors) != 1 || got.Errors[0].Index != 1 {
		t.Errorf("after rollback: %+v", got)
	}

	// A job that has been running for a minute: while its capture holds
	// the row lock it is running; once the lock is free it died.
	dead, _ := svc.StartCaptureJob(ctx, actor, "proceed", 1)
	if _, err := pool.Exec(ctx, "UPDATE capture_jobs SET created_at = now() - interval '1 minute' WHERE id = $1", dead.ID); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM capture_jobs WHERE id = $1 FOR UPDATE", dead.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.GetCaptureJob(ctx, dead.ID); got.Status != "running" {
		t.Errorf("locked job: %+v", got)
	}
	_ = tx.Rollback(ctx)
	got, _ = svc.GetCaptureJob(ctx, dead.ID)
	if got.Status != "failed" || len(got.Errors) != 1 || got.Errors[0].Message != "capture interrupted; nothing was stored" {
		t.Errorf("dead job: %+v", got)
	}
	fresh, _ := svc.StartCaptureJob(ctx, actor, "rollback", 0)
	if got, _ := svc.GetCaptureJob(ctx, fresh.ID); got.Status != "running" {
		t.Errorf("just started: %+v", got)
	}
	if _, err := svc.GetCaptureJob(ctx, uuid.New()); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("unknown job: %v", err)
	}
	if _, err := svc.StartCaptureJob(ctx, actor, "sometimes", 0); err == nil {
		t.Error("bad behaviour accepted")
	}

	var seen []uuid.UUID
	opts := inventory.ListOptions{Limit: 2}
	for {
		page, err := svc.ListCaptureJobs(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page.Items {
			seen = append(seen, j.ID)
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	if want := []uuid.UUID{fresh.ID, failed.ID, job.ID, dead.ID}; !slices.Equal(seen, want) {
		t.Errorf("jobs newest first: %v, want %v", seen, want)
	}
}
