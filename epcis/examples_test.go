package epcis

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"batchtrack/epcis/epcistest"
)

// gs1Dir is ../shared/gs1 beside the repository root, or the test is
// skipped: the official GS1 files are not part of the project.
func gs1Dir(t testing.TB) string { return epcistest.Dir(t) }

// documents lists the JSON files under dir/sub.
func documents(t testing.TB, dir string, subs ...string) []string {
	t.Helper()
	var files []string
	for _, sub := range subs {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonld")) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) == 0 {
		t.Fatalf("no documents under %s %v", dir, subs)
	}
	return files
}

// validDocuments are the official documents every EPCIS 2.0 repository
// must capture; JSON-Schema/test/ObjectEvent.json is a bare event.
func validDocuments(t testing.TB) []string {
	dir := gs1Dir(t)
	return documents(t, dir, "examples/gs1/JSON", "examples/openepcis/Capture/Documents")
}

func TestOfficialExamplesAreAccepted(t *testing.T) {
	for _, path := range validDocuments(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var events []Event
			h, err := ReadDocument(bytes.NewReader(data), func(i int, ev Event) error {
				if i != len(events) {
					t.Errorf("event %d handed over as %d", len(events), i)
				}
				events = append(events, ev)
				return nil
			})
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if h.Type == "" || len(events) == 0 {
				t.Fatalf("header %+v, %d events", h, len(events))
			}
			for i, ev := range events {
				if ev.Type == "" || ev.EventTime.IsZero() || ev.TimeZoneOffset == "" || len(ev.Raw) == 0 {
					t.Errorf("event %d not projected: %+v", i, ev)
				}
				if ev.Type != "TransformationEvent" && ev.Action == "" {
					t.Errorf("event %d has no action", i)
				}
				for _, id := range ev.Identifiers {
					if id.Key == "" || id.URI == "" || id.Role == "" {
						t.Errorf("event %d: identifier %+v", i, id)
					}
				}
			}
		})
	}
}

func TestOpenEPCISInvalidDocumentsAreRefused(t *testing.T) {
	dir := gs1Dir(t)
	files := documents(t, dir, "examples/openepcis/Capture/Invalid")
	if len(files) != 15 {
		t.Errorf("%d invalid documents, want 15", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			called := 0
			_, err = ReadDocument(bytes.NewReader(data), func(int, Event) error { called++; return nil })
			var docErr *DocumentError
			if !errors.As(err, &docErr) {
				t.Fatalf("accepted (err %v)", err)
			}
			if called > 0 {
				t.Errorf("rollback handed over %d events of an invalid document", called)
			}
			for _, e := range docErr.Errors {
				t.Logf("%d %s: %s", e.Index, e.Path, e.Message)
			}
		})
	}
}

// Every GS1 identifier of the official examples, URN or Digital Link,
// has a GS1 key, and the key's Digital Link keys back to it.
func TestOfficialIdentifiersHaveKeys(t *testing.T) {
	seen := 0
	for _, path := range validDocuments(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ReadDocument(bytes.NewReader(data), func(i int, ev Event) error {
			uris := []string{}
			for _, id := range ev.Identifiers {
				uris = append(uris, id.URI)
			}
			for _, list := range [][]Typed{ev.BizTransactions, ev.Sources, ev.Destinations} {
				for _, typed := range list {
					uris = append(uris, typed.ID)
				}
			}
			for _, uri := range uris {
				_, known := epcURNScheme(uri)
				if !known && !strings.HasPrefix(uri, "https://id.gs1.org/") {
					continue
				}
				seen++
				k := Key(uri)
				if k == uri {
					t.Errorf("%s event %d: %s has no GS1 key", filepath.Base(path), i, uri)
				} else if back := Key(DigitalLink(k)); back != k {
					t.Errorf("%s: %s keys to %s, whose Digital Link keys to %s", filepath.Base(path), uri, k, back)
				}
			}
			return nil
		})
	}
	if seen < 50 {
		t.Errorf("only %d GS1 identifiers in the official examples", seen)
	}
}
