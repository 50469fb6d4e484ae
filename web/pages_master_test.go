package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestProductForm(t *testing.T) {
	a := newTestApp(t)
	taken := validGTIN()
	resp := a.postForm("/products", url.Values{"gtin": {taken}, "name": {"Tea"}}, false)
	wantStatus(t, resp, http.StatusSeeOther)
	if resp.Header.Get("Location") != "/products" {
		t.Errorf("Location %q", resp.Header.Get("Location"))
	}
	resp = a.postForm("/products", url.Values{"gtin": {"4006381333931"}, "name": {"Beans"}, "unit": {"kg"}}, true)
	wantStatus(t, resp, http.StatusOK)
	if resp.Header.Get("HX-Redirect") != "/products" {
		t.Errorf("HX-Redirect %q", resp.Header.Get("HX-Redirect"))
	}
	tests := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"no gtin", url.Values{"name": {"x"}}, "error-np-gtin", "is required"},
		{"check digit", url.Values{"gtin": {"4006381333932"}, "name": {"x"}}, "error-np-gtin", "has a wrong check digit"},
		{"length", url.Values{"gtin": {"12345"}, "name": {"x"}}, "error-np-gtin", "must have 8, 12, 13 or 14 digits"},
		{"letters", url.Values{"gtin": {"40063813339AB"}, "name": {"x"}}, "error-np-gtin", "must contain digits only"},
		{"taken", url.Values{"gtin": {taken}, "name": {"x"}}, "error-np-gtin", "is already taken"},
		{"no name", url.Values{"gtin": {validGTIN()}}, "error-np-name", "is required"},
		{"bad unit", url.Values{"gtin": {validGTIN()}, "name": {"x"}, "unit": {"bushel"}}, "error-np-unit", "must be one of"},
		{"long category", url.Values{"gtin": {validGTIN()}, "name": {"x"}, "category": {strings.Repeat("c", 101)}}, "error-np-category", "at most 100 characters"},
		{"long description", url.Values{"gtin": {validGTIN()}, "name": {"x"}, "description": {strings.Repeat("d", 2001)}}, "error-np-description", "at most 2000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.postForm("/products", tt.form, true)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			_, doc := parseDoc(t, resp)
			if got := testid(doc, tt.field).Text(); !strings.Contains(got, tt.want) {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
			if got := testid(doc, "np-gtin").AttrOr("value", ""); got != tt.form.Get("gtin") {
				t.Errorf("GTIN typed %q came back as %q", tt.form.Get("gtin"), got)
			}
		})
	}
	_, doc := parseDoc(t, a.get("/products?q=Beans", true))
	if got := testid(doc, "product-row").Length(); got != 1 {
		t.Errorf("search found %d products", got)
	}
}

func TestLocationForm(t *testing.T) {
	a := newTestApp(t)
	taken := validGLN()
	resp := a.postForm("/locations", url.Values{"gln": {taken}, "name": {"Farm"}, "type": {"farm"}}, false)
	wantStatus(t, resp, http.StatusSeeOther)
	tests := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"no gln", url.Values{"name": {"x"}, "type": {"farm"}}, "error-nl-gln", "is required"},
		{"check digit", url.Values{"gln": {"0614141000013"}, "name": {"x"}, "type": {"farm"}}, "error-nl-gln", "has a wrong check digit"},
		{"length", url.Values{"gln": {"06141410000"}, "name": {"x"}, "type": {"farm"}}, "error-nl-gln", "must have 13 digits"},
		{"taken", url.Values{"gln": {taken}, "name": {"x"}, "type": {"farm"}}, "error-nl-gln", "is already taken"},
		{"no name", url.Values{"gln": {validGLN()}, "type": {"farm"}}, "error-nl-name", "is required"},
		{"no type", url.Values{"gln": {validGLN()}, "name": {"x"}}, "error-nl-type", "must be one of"},
		{"bad parent", url.Values{"gln": {validGLN()}, "name": {"x"}, "type": {"farm"}, "parent_id": {"7b0c2a3e-0000-4000-8000-000000000000"}}, "error-nl-parent", "names a parent location that does not exist"},
		{"long address", url.Values{"gln": {validGLN()}, "name": {"x"}, "type": {"farm"}, "address": {strings.Repeat("a", 501)}}, "error-nl-address", "at most 500 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.postForm("/locations", tt.form, true)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			_, doc := parseDoc(t, resp)
			if got := testid(doc, tt.field).Text(); !strings.Contains(got, tt.want) {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
		})
	}
}
