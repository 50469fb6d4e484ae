package epcis

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"batchtrack/epcis/epcistest"
)

// FuzzReadDocument: no input makes reading, parsing or rendering panic,
// and every event handed over renders as valid JSON.
func FuzzReadDocument(f *testing.F) {
	f.Add([]byte(lateContext))
	f.Add([]byte(`{}`))
	for _, m := range mutations[:10] {
		f.Add(mutatedDocument(f, m))
	}
	if dir, err := epcistest.Find(); err == nil { // seeds are welcome, not required
		for _, path := range documents(f, dir, "examples/gs1/JSON", "examples/openepcis/Capture") {
			if data, err := os.ReadFile(path); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range []ErrorBehaviour{Rollback, Proceed} {
			ReadDocumentWith(bytes.NewReader(data), b, func(i int, ev Event) error {
				for _, format := range []Format{FormatDigitalLink, FormatURN, FormatAsReceived} {
					out, err := Render(ev.Raw, "urn:uuid:x", time.Unix(0, 0), format)
					if err != nil || !json.Valid(out) {
						t.Fatalf("event %d renders as %s, %v", i, out, err)
					}
				}
				return nil
			})
		}
		ParseEvent(data, nil)
		Key(string(data))
		MatchKey(string(data))
	})
}

// FuzzKey: a GS1 key is a fixed point: its Digital Link keys back to it.
func FuzzKey(f *testing.F) {
	for _, s := range []string{"urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:4012345.011111.A%2FB",
		"https://id.gs1.org/01/04012345111118/21/A%2fB", "urn:epc:class:lgtin:4012345.012345.998877",
		"urn:epc:id:sgln:0012345.11111.400", "urn:epc:id:grai:0614141.12345.400", "urn:epc:id:itip:4012345.012345.01.02.987",
		"https://example.com/p/414/0012345111112/254/x%20y", "urn:epc:id:cpi:0614141.123ABC.123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Key(s)
		if k == s {
			return
		}
		if back := Key(DigitalLink(k)); back != k {
			t.Fatalf("Key(%q) = %q, but its Digital Link %q keys to %q", s, k, DigitalLink(k), back)
		}
		MatchKey(s)
	})
}
