package web

import (
	"net/http"
	"testing"
)

// QR codes and labels carry validators: a client with a current copy gets
// 304 and no body; a changed batch (label) or size (QR) gets the new one.
func TestQRAndLabelValidators(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	for _, path := range []string{
		"/api/batches/" + b.ID.String() + "/qr.png?size=128",
		"/api/batches/" + b.ID.String() + "/qr.svg",
		"/batches/" + b.ID.String() + "/label",
	} {
		first := a.do("GET", path, nil)
		tag, modified := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
		if first.StatusCode != http.StatusOK || tag == "" || modified == "" || first.Header.Get("Cache-Control") == "" {
			t.Fatalf("%s: %d, ETag %q, Last-Modified %q, Cache-Control %q", path, first.StatusCode, tag, modified, first.Header.Get("Cache-Control"))
		}
		if cc := first.Header.Get("Cache-Control"); cc[:7] != "private" {
			t.Errorf("%s: Cache-Control %q; behind a login it must be private", path, cc)
		}
		again := a.do("GET", path, nil, "If-None-Match", tag)
		if again.StatusCode != http.StatusNotModified || readBody(t, again) != "" {
			t.Errorf("%s with its ETag: %d", path, again.StatusCode)
		}
		since := a.do("GET", path, nil, "If-Modified-Since", modified)
		if since.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-Modified-Since: %d", path, since.StatusCode)
		}
		if other := a.do("GET", path, nil, "If-None-Match", `"stale"`); other.StatusCode != http.StatusOK {
			t.Errorf("%s with a stale ETag: %d", path, other.StatusCode)
		}
	}
	// Another size is another image.
	small := a.do("GET", "/api/batches/"+b.ID.String()+"/qr.png?size=128", nil).Header.Get("ETag")
	large := a.do("GET", "/api/batches/"+b.ID.String()+"/qr.png?size=512", nil).Header.Get("ETag")
	if small == large {
		t.Error("two sizes share an ETag")
	}
}
