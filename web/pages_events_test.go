package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNewEventFormAdaptsToType(t *testing.T) {
	a := newTestApp(t)
	tests := []struct {
		eventType   string
		wantAction  bool
		wantRows    []string
		wantNotRows []string
	}{
		{"ObjectEvent", true, []string{"rows-quantity"}, []string{"rows-input", "rows-output"}},
		{"AggregationEvent", true, []string{"rows-quantity"}, []string{"rows-input"}},
		{"TransformationEvent", false, []string{"rows-input", "rows-output"}, []string{"rows-quantity"}},
	}
	for _, tt := range tests {
		t.Run(tt.eventType, func(t *testing.T) {
			resp := a.get("/events/new?event_type="+tt.eventType+"&notes=kept", true)
			wantStatus(t, resp, http.StatusOK)
			body, doc := parseDoc(t, resp)
			if strings.Contains(body, "<html") {
				t.Error("the type switch gets the form fragment only")
			}
			if got := doc.Find("#ev-action").Length() == 1; got != tt.wantAction {
				t.Errorf("action offered = %v, want %v", got, tt.wantAction)
			}
			for _, r := range tt.wantRows {
				if testid(doc, r).Length() != 1 {
					t.Errorf("no %s", r)
				}
			}
			for _, r := range tt.wantNotRows {
				if testid(doc, r).Length() != 0 {
					t.Errorf("unexpected %s", r)
				}
			}
			if got := doc.Find(`textarea[name="notes"]`).Text(); got != "kept" {
				t.Errorf("notes lost on the type switch: %q", got)
			}
			// Only CBV values are offered.
			steps := doc.Find(`select[name="biz_step"] option`)
			if steps.Length() != 42 || doc.Find(`select[name="biz_step"] option[value="transforming"]`).Length() != 0 {
				t.Errorf("biz steps offered: %d", steps.Length())
			}
		})
	}
}

func TestRecordEventForm(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	out := a.unreleased(a.batch(b.ProductID.String(), b.LocationID.String(), "8"))
	base := func(eventType string) url.Values {
		return url.Values{"event_type": {eventType}, "action": {"OBSERVE"}, "event_timezone": {"+02:00"}}
	}
	t.Run("object event, htmx", func(t *testing.T) {
		f := base("ObjectEvent")
		f["quantity_batch"] = []string{b.BatchNumber, ""}
		f["quantity_qty"] = []string{"2", ""}
		f.Set("biz_step", "shipping")
		f.Set("disposition", "in_transit")
		f.Set("event_time", "2026-01-10T09:30")
		resp := a.postForm("/events", f, true)
		wantStatus(t, resp, http.StatusOK)
		if resp.Header.Get("HX-Redirect") != "/events" {
			t.Errorf("HX-Redirect %q", resp.Header.Get("HX-Redirect"))
		}
	})
	t.Run("transformation, plain form", func(t *testing.T) {
		f := base("TransformationEvent")
		f.Del("action")
		f["input_batch"], f["input_qty"] = []string{b.BatchNumber}, []string{"5"}
		f["output_batch"], f["output_qty"] = []string{out.BatchNumber}, []string{"4"}
		resp := a.postForm("/events", f, false)
		wantStatus(t, resp, http.StatusSeeOther)
		_, doc := parseDoc(t, a.get("/batches/"+out.ID.String(), false))
		if got := testid(doc, "trace-upstream").Text(); !strings.Contains(got, b.BatchNumber) {
			t.Errorf("upstream of the output = %q, want %s", got, b.BatchNumber)
		}
	})
	t.Run("transformation beyond the balance, inline", func(t *testing.T) {
		f := base("TransformationEvent")
		f.Del("action")
		f["input_batch"], f["input_qty"] = []string{b.BatchNumber}, []string{"100000"}
		f["output_batch"], f["output_qty"] = []string{out.BatchNumber}, []string{"4"}
		before := a.checkLedger(b)
		resp := a.postForm("/events", f, false)
		wantStatus(t, resp, http.StatusConflict)
		_, doc := parseDoc(t, resp)
		if got := testid(doc, "error-ev-input-0-batch").Text(); !strings.Contains(got, "3 available") {
			t.Errorf("error beside the input %q, want the lot's balance", got)
		}
		if got := testid(doc, "ev-input-0-qty").AttrOr("value", ""); got != "100000" {
			t.Errorf("entry not kept: %q", got)
		}
		if after := a.checkLedger(b); after.Entries != before.Entries {
			t.Errorf("the refused transformation wrote %d ledger rows", after.Entries-before.Entries)
		}
	})
	tests := []struct {
		name  string
		edit  func(url.Values)
		field string
		want  string
	}{
		{"bad type", func(f url.Values) { f.Set("event_type", "PartyEvent") }, "error-ev-type", "must be one of"},
		{"no action", func(f url.Values) { f.Set("action", "") }, "error-ev-action", "is required: one of ADD, OBSERVE, DELETE"},
		{"bad action", func(f url.Values) { f.Set("action", "MAYBE") }, "error-ev-action", "must be one of ADD, OBSERVE, DELETE"},
		{"bad step", func(f url.Values) { f.Set("biz_step", "transforming") }, "error-ev-step", "CBV 2.0 business step"},
		{"bad disposition", func(f url.Values) { f.Set("disposition", "fine") }, "error-ev-disposition", "CBV 2.0 disposition"},
		{"bad time", func(f url.Values) { f.Set("event_time", "yesterday") }, "error-ev-time", "must be a date and time"},
		{"future time", func(f url.Values) { f.Set("event_time", "2999-01-01T00:00") }, "error-ev-time", "more than a day in the future"},
		{"bad offset", func(f url.Values) { f.Set("event_timezone", "CET") }, "error-ev-tz", "must be an offset such as +02:00"},
		{"unknown read point", func(f url.Values) { f.Set("read_point", validGLN()) }, "error-ev-read-point", "names a location that does not exist"},
		{"bad gln", func(f url.Values) { f.Set("biz_location", "123") }, "error-ev-biz-location", "GLN must have 13 digits"},
		{"unknown batch", func(f url.Values) { f["quantity_batch"], f["quantity_qty"] = []string{"NOPE-1"}, []string{"1"} }, "error-ev-quantity-0-batch", "batch has no batch with number NOPE-1"},
		{"bad quantity", func(f url.Values) { f["quantity_batch"], f["quantity_qty"] = []string{b.BatchNumber}, []string{"x"} }, "error-ev-quantity-0-batch", "quantity must be a decimal number"},
		{"quantity without batch", func(f url.Values) { f["quantity_batch"], f["quantity_qty"] = []string{""}, []string{"1"} }, "error-ev-quantity-0-batch", "batch is required"},
		{"transformation without lists", func(f url.Values) { f.Set("event_type", "TransformationEvent"); f.Del("action") }, "error-input_quantity_list", "needs inputs or outputs"},
		{"long notes", func(f url.Values) { f.Set("notes", strings.Repeat("n", 5001)) }, "error-ev-notes", "at most 5000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base("ObjectEvent")
			tt.edit(f)
			resp := a.postForm("/events", f, true)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			body, doc := parseDoc(t, resp)
			if got := testid(doc, tt.field).Text(); !strings.Contains(got, tt.want) {
				t.Errorf("%s = %q, want %q\n%s", tt.field, got, tt.want, testid(doc, "form-errors").Text())
				_ = body
			}
		})
	}
}

func TestEventsListFilters(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	other := a.fixture("3")
	tests := []struct {
		name   string
		query  string
		status int
		rows   int
		errMsg string
	}{
		{"all", "", 200, 2, ""},
		{"by batch number", "batch=" + url.QueryEscape(b.BatchNumber), 200, 1, ""},
		{"by batch id", "batch_id=" + other.ID.String(), 200, 1, ""},
		{"by type", "event_type=ObjectEvent", 200, 2, ""},
		{"by step", "biz_step=commissioning", 200, 2, ""},
		{"none shipping", "biz_step=shipping", 200, 0, ""},
		{"by location", "location_id=" + b.LocationID.String(), 200, 1, ""},
		{"today", "start_date=" + todayText() + "&end_date=" + todayText(), 200, 2, ""},
		{"unknown batch", "batch=NOPE", 422, 0, "No batch has the number NOPE"},
		{"bad type", "event_type=Party", 422, 0, "Event type must be one of the list"},
		{"bad step", "biz_step=partying", 422, 0, "must be a CBV 2.0 business step"},
		{"bad date", "start_date=monday", 422, 0, "must be a date (YYYY-MM-DD)"},
		{"end before start", "start_date=2026-02-02&end_date=2026-02-01", 422, 0, "must not be before the start date"},
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
		})
	}
}

func todayText() string { return time.Now().Format(time.DateOnly) }
