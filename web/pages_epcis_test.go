package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"batchtrack/gs1"
)

// ldJSON is the content type of an EPCIS JSON-LD request.
var ldJSON = []string{"Content-Type", "application/ld+json"}

// sampleEventID is sampleEvent's eventID.
const sampleEventID = "urn:uuid:0b3f1b76-2a52-4b6c-9a64-5c7c0c1d2e01"

// captureEvent stores one event through POST /epcis/events and returns
// its row id (the staff pages' /events/{id}).
func (a *testApp) captureEvent(t *testing.T, event []byte) uuid.UUID {
	t.Helper()
	resp := a.do("POST", "/epcis/events", event, ldJSON...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("capture: %d %s", resp.StatusCode, readBody(t, resp))
	}
	var m map[string]any
	_ = json.Unmarshal(event, &m)
	return a.eventRowID(t, m["eventID"].(string))
}

func (a *testApp) eventRowID(t *testing.T, eventID string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := a.pool.QueryRow(context.Background(), "SELECT id FROM events WHERE event_id = $1", eventID).Scan(&id); err != nil {
		t.Fatalf("event %s: %v", eventID, err)
	}
	return id
}

// declareInError captures the error declaration of a stored event: the
// same event with an errorDeclaration.
func (a *testApp) declareInError(t *testing.T, event string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(event), &m); err != nil {
		t.Fatal(err)
	}
	m["errorDeclaration"] = map[string]any{"declarationTime": "2026-03-02T09:00:00.000Z",
		"reason": "urn:epcglobal:cbv:er:incorrect_data", "correctiveEventIDs": []string{"urn:uuid:5c8a0c6e-1111-4222-8333-444455556666"}}
	body, _ := json.Marshal(m)
	if resp := a.do("POST", "/epcis/events", body, ldJSON...); resp.StatusCode != http.StatusCreated {
		t.Fatalf("declaration: %d %s", resp.StatusCode, readBody(t, resp))
	}
}

// otherEvent is a second captured event: another lot, a despatch advice.
const otherEvent = `{
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
  "type": "ObjectEvent",
  "eventID": "urn:uuid:0b3f1b76-2a52-4b6c-9a64-5c7c0c1d2e02",
  "eventTime": "2026-03-03T10:00:00.000+01:00",
  "eventTimeZoneOffset": "+01:00",
  "action": "OBSERVE",
  "bizStep": "receiving",
  "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.111", "quantity": 5, "uom": "KGM"}],
  "bizTransactionList": [{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:DA-77"}]
}`

// The event page of a captured event shows every section of it; after an
// error declaration is captured, a banner says so.
func TestEventPage(t *testing.T) {
	a := newTestApp(t)
	id := a.captureEvent(t, []byte(sampleEvent))
	page := "/events/" + id.String()
	check := func(t *testing.T, wantBanner bool) {
		t.Helper()
		resp := a.get(page, false)
		wantStatus(t, resp, http.StatusOK)
		_, doc := parseDoc(t, resp)
		tests := []struct{ testid, want string }{
			{"event-title", "Shipping"},
			{"event-type", "ObjectEvent"},
			{"event-action", "OBSERVE"},
			{"event-what", "urn:epc:id:sgtin:0614141.107346.2017"},
			{"quantity-list", "200"},
			{"event-when", "2026"},
			{"event-time-utc", "09:00"},
			{"record-time", ""},
			{"event-where", ""},
			{"read-point", ""},
			{"biz-location", "0614141073467"},
			{"event-why", ""},
			{"biz-step", "hipping"},
			{"disposition", "ransit"},
			{"biz-transactions", "http://transaction.acme.com/po/12345678"},
			{"event-who", ""},
			{"source-type", "capture"},
			{"event-id", sampleEventID},
			{"hash-id", "ni:///sha-256;"},
			{"event-extensions", "kept"},
			{"raw-json", "ex:note"},
		}
		for _, tt := range tests {
			sel := testid(doc, tt.testid)
			if sel.Length() == 0 {
				t.Errorf("no %s", tt.testid)
				continue
			}
			if !strings.Contains(sel.Text(), tt.want) {
				t.Errorf("%s = %q, want %q in it", tt.testid, strings.Join(strings.Fields(sel.Text()), " "), tt.want)
			}
		}
		banner := testid(doc, "error-declaration")
		if got := banner.Length() == 1; got != wantBanner {
			t.Fatalf("declared-in-error banner shown %v, want %v", got, wantBanner)
		}
		if wantBanner {
			if got := testid(doc, "error-reason").Text(); !strings.Contains(got, "ncorrect") {
				t.Errorf("error reason %q", got)
			}
			if got := testid(doc, "corrective-event").Text(); !strings.Contains(got, "5c8a0c6e-1111-4222-8333-444455556666") {
				t.Errorf("corrective event %q", got)
			}
		}
	}
	t.Run("as captured", func(t *testing.T) { check(t, false) })
	a.declareInError(t, sampleEvent)
	t.Run("declared in error", func(t *testing.T) { check(t, true) })
	t.Run("unknown", func(t *testing.T) {
		wantStatus(t, a.get("/events/"+uuid.NewString(), false), http.StatusNotFound)
	})
}

// Each new filter of the events list narrows it; the list marks events
// declared in error and links every row to its page; a bad value is an
// inline error. The CSV export and GET /api/events take the same filters.
func TestEventsListEPCISFilters(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10") // a commissioning event of its lot
	other := a.fixture("3")
	p, err := a.svc.GetProduct(context.Background(), b.ProductID)
	if err != nil {
		t.Fatal(err)
	}
	declared := a.captureEvent(t, []byte(sampleEvent))
	a.declareInError(t, sampleEvent)
	received := a.captureEvent(t, []byte(otherEvent))
	lotLink := "https://id.gs1.org/01/" + p.GTIN + "/10/" + gs1.EscapeDigitalLink(b.BatchNumber, false)
	q := url.QueryEscape
	tests := []struct {
		name   string
		query  string
		status int
		rows   int
		errMsg string
	}{
		{"all", "", 200, 4, ""},
		{"declared shown", "declared_in_error=show", 200, 4, ""},
		{"declared hidden", "declared_in_error=hide", 200, 3, ""},
		{"declared only", "declared_in_error=only", 200, 1, ""},
		{"by product", "product_id=" + b.ProductID.String(), 200, 1, ""},
		{"by other product", "product_id=" + other.ProductID.String(), 200, 1, ""},
		{"by EPC class URN", "epc_class=" + q("urn:epc:class:lgtin:4012345.012345.998877"), 200, 1, ""},
		{"by EPC class Digital Link", "epc_class=" + q("https://id.gs1.org/01/04012345123456/10/998877"), 200, 1, ""},
		{"by a fixture lot's Digital Link", "epc_class=" + q(lotLink), 200, 1, ""},
		{"by unknown lot", "epc_class=" + q("urn:epc:class:lgtin:4012345.012345.000"), 200, 0, ""},
		{"by PO", "biz_transaction=" + q("http://transaction.acme.com/po/12345678"), 200, 1, ""},
		{"by despatch advice", "biz_transaction=" + q("urn:epcglobal:cbv:bt:0614141073467:DA-77"), 200, 1, ""},
		{"by unknown transaction", "biz_transaction=PO-NONE", 200, 0, ""},
		{"filters combine", "biz_transaction=" + q("http://transaction.acme.com/po/12345678") + "&declared_in_error=hide", 200, 0, ""},
		{"a batch and its lot", "batch_id=" + b.ID.String() + "&epc_class=" + q(lotLink), 200, 1, ""},
		{"a batch and another product", "batch_id=" + b.ID.String() + "&product_id=" + other.ProductID.String(), 200, 0, ""},
		{"a batch, declarations hidden", "batch_id=" + b.ID.String() + "&declared_in_error=hide", 200, 1, ""},
		{"a batch, declarations only", "batch_id=" + b.ID.String() + "&declared_in_error=only", 200, 0, ""},
		{"a batch and a PO", "batch_id=" + b.ID.String() + "&biz_transaction=" + q("http://transaction.acme.com/po/12345678"), 200, 0, ""},
		{"bad EPC class", "epc_class=coffee", 422, 0, "EPC class must be a lot's GS1 Digital Link"},
		{"an instance is no class", "epc_class=" + q("urn:epc:id:sgtin:0614141.107346.2017"), 422, 0, "EPC class must be"},
		{"bad declared", "declared_in_error=maybe", 422, 0, "Declared in error must be show, hide or only"},
		{"bad product", "product_id=coffee", 422, 0, "Product must be one of the list"},
		{"long transaction", "biz_transaction=" + strings.Repeat("x", 501), 422, 0, "at most 500 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.get("/events?"+tt.query, true)
			wantStatus(t, resp, tt.status)
			body, doc := parseDoc(t, resp)
			if got := testid(doc, "event-row").Length(); got != tt.rows {
				t.Errorf("rows %d, want %d", got, tt.rows)
			}
			if tt.errMsg != "" && !strings.Contains(testid(doc, "filter-errors").Text(), tt.errMsg) {
				t.Errorf("want %q in %s", tt.errMsg, body)
			}
			if tt.status != 200 {
				return
			}
			// The export lists the same events (a header, then a row per batch or one per event).
			csvResp := a.get("/events.csv?"+tt.query, false)
			wantStatus(t, csvResp, http.StatusOK)
			rows, err := csv.NewReader(strings.NewReader(readBody(t, csvResp))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if got := len(rows) - 1; got != tt.rows {
				t.Errorf("CSV rows %d, want %d", got, tt.rows)
			}
			api := decode[listJSON[eventJSON]](t, a.get("/api/events?"+tt.query, false))
			if got := len(api.Items); got != tt.rows {
				t.Errorf("API items %d, want %d", got, tt.rows)
			}
		})
	}

	t.Run("rows link to their page and mark declarations", func(t *testing.T) {
		_, doc := parseDoc(t, a.get("/events", false))
		for _, id := range []uuid.UUID{declared, received} {
			row := doc.Find(`[data-testid="event-row"][data-event-id="` + id.String() + `"]`)
			if href, _ := row.Find(`[data-testid="event-link"]`).Attr("href"); href != "/events/"+id.String() {
				t.Errorf("row %s links to %q", id, href)
			}
			marked := row.Find(`[data-testid="declared-in-error"]`).Length() == 1
			if want := id == declared; marked != want {
				t.Errorf("row %s marked declared in error: %v, want %v", id, marked, want)
			}
		}
		if got := testid(doc, "declared-in-error").Text(); got != "declared in error" {
			t.Errorf("badge %q", got)
		}
		// The filters keep their values in the form.
		_, doc = parseDoc(t, a.get("/events?declared_in_error=only&biz_transaction=PO-1", false))
		if v, _ := doc.Find(`#ef-biz-transaction`).Attr("value"); v != "PO-1" {
			t.Errorf("biz transaction field %q", v)
		}
		if doc.Find(`#ef-declared option[value="only"][selected]`).Length() != 1 {
			t.Error("declared in error: only is not selected")
		}
		if doc.Find(`#ef-product option[value="`+b.ProductID.String()+`"]`).Length() != 1 {
			t.Error("the product filter does not offer the fixture's product")
		}
	})

	t.Run("API", func(t *testing.T) {
		api := decode[listJSON[eventJSON]](t, a.get("/api/events?declared_in_error=only", false))
		if len(api.Items) != 1 || api.Items[0].DeclaredInErrorAt == nil || api.Items[0].EventID != sampleEventID {
			t.Errorf("declared events %+v", api.Items)
		}
		for _, bad := range []string{"epc_class=coffee", "declared_in_error=maybe", "product_id=coffee"} {
			resp := a.get("/api/events?"+bad, false)
			field, _, _ := strings.Cut(bad, "=")
			if p := decode[Problem](t, resp); resp.StatusCode != 422 || !hasField(p, field) {
				t.Errorf("%s: %d %+v", bad, resp.StatusCode, p)
			}
		}
	})
}

// twoEventDocument is an EPCIS document of two events: shipping, then
// receiving.
func twoEventDocument(t *testing.T) string {
	t.Helper()
	var first, second map[string]any
	_ = json.Unmarshal([]byte(sampleEvent), &first)
	_ = json.Unmarshal([]byte(otherEvent), &second)
	delete(first, "@context")
	delete(second, "@context")
	doc := map[string]any{
		"@context":      []any{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", map[string]any{"ex": "https://example.com/ns/"}},
		"type":          "EPCISDocument",
		"schemaVersion": "2.0",
		"creationDate":  "2026-03-03T12:00:00.000Z",
		"epcisBody":     map[string]any{"eventList": []any{first, second}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The upload page: operators only; a document refused whole is shown
// again with its errors and nothing is stored; a valid one goes to its
// job page, which polls (as a fragment) until every event is stored and
// then links to them.
func TestCaptureUploadPage(t *testing.T) {
	a := newTestApp(t)
	operator := bearer(a.tokenFor(a.newUser(roleOperator)))
	viewer := bearer(a.tokenFor(a.newUser(roleViewer)))

	t.Run("operator gets the form", func(t *testing.T) {
		resp := a.doAs(operator, "GET", "/events/upload", nil)
		wantStatus(t, resp, http.StatusOK)
		_, doc := parseDoc(t, resp)
		for _, id := range []string{"capture-form", "capture-file", "capture-document", "capture-behaviour", "capture-submit", "capture-jobs-empty"} {
			if testid(doc, id).Length() != 1 {
				t.Errorf("no %s", id)
			}
		}
	})
	t.Run("viewer is refused", func(t *testing.T) {
		for _, method := range []string{"GET", "POST"} {
			resp := a.doAs(viewer, method, "/events/upload", nil)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", method, resp.StatusCode)
			}
		}
	})

	form := func(doc string) url.Values { return url.Values{"document": {doc}, "behaviour": {"rollback"}} }
	invalid := []struct {
		name, doc, want string
	}{
		{"empty", "", "Choose a file or paste an EPCIS document."},
		{"not JSON", "{not json", ""},
		{"an event without its type", strings.Replace(twoEventDocument(t), `"type":"ObjectEvent"`, `"type":"PartyEvent"`, 1), ""},
	}
	for _, tt := range invalid {
		t.Run("invalid: "+tt.name, func(t *testing.T) {
			resp := a.postForm("/events/upload", form(tt.doc), true, "Authorization", "Bearer "+operator.Bearer)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			body, doc := parseDoc(t, resp)
			if strings.Contains(body, "<html") {
				t.Error("an htmx upload gets the form fragment only")
			}
			msg := testid(doc, "error-capture-document").Text()
			if msg == "" || !strings.Contains(msg, tt.want) {
				t.Errorf("document error %q, want %q", msg, tt.want)
			}
			if got := testid(doc, "capture-document").Text(); got != tt.doc {
				t.Errorf("the pasted document is not kept: %q", got)
			}
			if n := a.count("events"); n != 0 {
				t.Errorf("%d events stored from an invalid document", n)
			}
		})
	}

	var jobPage string
	t.Run("valid document", func(t *testing.T) {
		resp := a.postForm("/events/upload", form(twoEventDocument(t)), false, "Authorization", "Bearer "+operator.Bearer)
		wantStatus(t, resp, http.StatusSeeOther)
		jobPage = resp.Header.Get("Location")
		if !strings.HasPrefix(jobPage, "/events/upload/") {
			t.Fatalf("Location %q", jobPage)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp := a.get(jobPage, true)
			wantStatus(t, resp, http.StatusOK)
			body, doc := parseDoc(t, resp)
			if strings.Contains(body, "<html") || strings.Contains(body, "page-head") {
				t.Fatalf("the poll gets the status fragment only:\n%s", body)
			}
			if status, _ := testid(doc, "capture-job").Attr("data-status"); status != "running" {
				if status != "success" {
					t.Fatalf("status %q: %s", status, testid(doc, "capture-job").Text())
				}
				if _, polls := testid(doc, "capture-job").Attr("hx-trigger"); polls {
					t.Error("a finished job still polls")
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("capture still running after 30s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		resp = a.get(jobPage, false)
		wantStatus(t, resp, http.StatusOK)
		_, doc := parseDoc(t, resp)
		if got := testid(doc, "capture-summary").Text(); got != "All 2 events stored" {
			t.Errorf("summary %q", got)
		}
		links := testid(doc, "capture-event-link")
		if links.Length() != 2 {
			t.Fatalf("%d event links", links.Length())
		}
		href, _ := links.First().Attr("href")
		if want := "/events/" + a.eventRowID(t, sampleEventID).String(); href != want {
			t.Errorf("first event links to %q, want %q", href, want)
		}
		if n := a.count("events"); n != 2 {
			t.Errorf("%d events stored", n)
		}
		// The upload page lists the job.
		_, doc = parseDoc(t, a.doAs(operator, "GET", "/events/upload", nil))
		if got := testid(doc, "capture-job-row").Length(); got != 1 {
			t.Errorf("%d recent jobs", got)
		}
	})
	t.Run("htmx upload redirects by header", func(t *testing.T) {
		doc := strings.NewReplacer("2e01", "2e11", "2e02", "2e12", "2017", "2018", "DA-77", "DA-78").Replace(twoEventDocument(t))
		resp := a.postForm("/events/upload", form(doc), true, "Authorization", "Bearer "+operator.Bearer)
		wantStatus(t, resp, http.StatusOK)
		if loc := resp.Header.Get("HX-Redirect"); !strings.HasPrefix(loc, "/events/upload/") || loc == jobPage {
			t.Errorf("HX-Redirect %q", loc)
		}
	})
}
