package epcis

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// FuzzReadDocument: no input makes reading, parsing or rendering panic,
// and every event handed over renders as valid JSON.
func FuzzReadDocument(f *testing.F) {
	f.Add([]byte(lateContext))
	f.Add([]byte(`{}`))
	for _, m := range mutations[:10] {
		f.Add(mutatedDocument(f, m))
	}
	if dir, err := findGS1Dir(); err == nil { // seeds are welcome, not required
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
