package web

import (
	"net/http"
	"strings"
	"testing"
)

// Every list refuses a query parameter it does not know, naming it, so a
// misspelled filter never silently returns the whole list.
func TestListsRefuseUnknownQueryParameters(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	bid := b.ID.String()
	tests := []struct {
		name, path string
		unknown    []string
		shows      string // "": a problem+json; else the data-testid that names them
	}{
		{"products", "/api/products?q=x&categroy=fruit", []string{"categroy"}, ""},
		{"locations", "/api/locations?kind=farm", []string{"kind"}, ""},
		{"batches", "/api/batches?product=" + bid + "&limit=5", []string{"product"}, ""},
		{"events", "/api/events?product=" + bid, []string{"product"}, ""},
		{"events two", "/api/events?batch_id=" + bid + "&foo=1&bar=2&foo=3", []string{"foo", "bar"}, ""},
		{"consumptions", "/api/batches/" + bid + "/consumptions?kind=consume", []string{"kind"}, ""},
		{"batches page", "/batches?status=approved", []string{"status"}, "filter-errors"},
		{"events page", "/events?product=" + bid, []string{"product"}, "filter-errors"},
		{"products page", "/products?categroy=x", []string{"categroy"}, "error-page"},
		{"locations page", "/locations?kind=farm", []string{"kind"}, "error-page"},
		{"batches csv", "/batches.csv?status=approved", []string{"status"}, "error-page"},
		{"events csv", "/events.csv?product=" + bid, []string{"product"}, "error-page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.get(tt.path, false)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %s", resp.StatusCode, readBody(t, resp))
			}
			if tt.shows != "" {
				_, doc := parseDoc(t, resp)
				msg := testid(doc, tt.shows).Text()
				for _, name := range tt.unknown {
					if !strings.Contains(msg, name) {
						t.Errorf("filter errors %q do not name %s", msg, name)
					}
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q", ct)
			}
			p := decode[Problem](t, resp)
			if p.Type != "/problems/validation" || len(p.Errors) != len(tt.unknown) {
				t.Fatalf("problem %+v, want a validation problem naming %v", p, tt.unknown)
			}
			for _, name := range tt.unknown {
				if !hasField(p, name) {
					t.Errorf("errors %+v do not name %s", p.Errors, name)
				}
			}
		})
	}
}

// The parameters each list documents are all still accepted.
func TestListsAcceptTheirParameters(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	bid := b.ID.String()
	for _, path := range []string{
		"/api/products?q=x&category=c&limit=5&cursor=",
		"/api/locations?q=x&type=farm&limit=5&cursor=",
		"/api/batches?q=x&product_id=" + bid + "&location_id=" + bid + "&quality_status=approved&expiring_before=2030-01-01&limit=5&cursor=",
		"/api/events?event_type=ObjectEvent&biz_step=shipping&batch_id=" + bid + "&location_id=" + bid + "&source_type=api&start_date=2026-01-01&end_date=2030-01-01&limit=5&cursor=" +
			"&product_id=" + bid + "&epc_class=urn:epc:class:lgtin:4012345.012345.998877&biz_transaction=po-1&declared_in_error=hide",
		"/api/batches/" + bid + "/consumptions?limit=5&cursor=",
		"/batches?q=x&quality_status=approved&product_id=" + bid + "&location_id=" + bid + "&expiring_before=2030-01-01&sort=&cursor=",
		"/events?event_type=ObjectEvent&biz_step=shipping&batch=&batch_id=" + bid + "&location_id=" + bid + "&start_date=2026-01-01&end_date=2030-01-01&cursor=" +
			"&product_id=" + bid + "&epc_class=urn:epc:class:lgtin:4012345.012345.998877&biz_transaction=po-1&declared_in_error=only",
		"/products?q=x&category=c&cursor=",
		"/locations?q=x&type=farm&cursor=",
	} {
		if resp := a.get(path, false); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d: %s", path, resp.StatusCode, readBody(t, resp))
		}
	}
}
