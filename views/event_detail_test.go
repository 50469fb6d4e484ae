package views

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// gs1Examples is the folder of the official EPCIS 2.0 JSON examples,
// kept beside the checkout and never copied into it.
var gs1Examples = filepath.Join("..", "..", "shared", "gs1", "examples", "gs1", "JSON")

type exampleEvent struct {
	name string
	doc  json.RawMessage
}

// officialEvents reads every event of every example document.
func officialEvents(t *testing.T) []exampleEvent {
	t.Helper()
	if _, err := os.Stat(gs1Examples); err != nil {
		t.Skipf("GS1 EPCIS examples not found at %s (the shared/gs1 folder beside the checkout): skipped", gs1Examples)
	}
	var out []exampleEvent
	err := filepath.WalkDir(gs1Examples, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !(strings.HasSuffix(path, ".jsonld") || strings.HasSuffix(path, ".json")) {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc struct {
			EPCISBody struct {
				EventList    []json.RawMessage `json:"eventList"`
				QueryResults struct {
					ResultsBody struct {
						EventList []json.RawMessage `json:"eventList"`
					} `json:"resultsBody"`
				} `json:"queryResults"`
			} `json:"epcisBody"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		rel, _ := filepath.Rel(gs1Examples, path)
		events := append(doc.EPCISBody.EventList, doc.EPCISBody.QueryResults.ResultsBody.EventList...)
		if len(events) == 0 {
			t.Errorf("%s: no events found", rel)
		}
		for i, ev := range events {
			out = append(out, exampleEvent{name: rel + "#" + itoa64(int64(i)), doc: ev})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func renderDoc(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// shownText is the page's text without the raw JSON block, which would
// otherwise show every value whatever the rest of the page does.
func shownText(doc *goquery.Document) string {
	doc.Find(`[data-testid="raw-json"]`).Remove()
	return doc.Find("main").Text()
}

// leaves calls fn with every scalar of a JSON value and its path; keys
// of objects are passed with key=true.
func leaves(path string, v any, fn func(path string, s string, key bool)) {
	switch x := v.(type) {
	case map[string]any:
		for k, vv := range x {
			fn(path+"/"+k, k, true)
			leaves(path+"/"+k, vv, fn)
		}
	case []any:
		for i, vv := range x {
			leaves(path+"/"+itoa64(int64(i)), vv, fn)
		}
	case string:
		fn(path, x, false)
	case json.Number:
		fn(path, x.String(), false)
	case bool:
		if x {
			fn(path, "true", false)
		} else {
			fn(path, "false", false)
		}
	}
}

func TestEventDetailShowsEveryValueOfTheOfficialExamples(t *testing.T) {
	events := officialEvents(t)
	if len(events) < 20 {
		t.Fatalf("found only %d events in the examples", len(events))
	}
	for _, ev := range events {
		t.Run(ev.name, func(t *testing.T) {
			d, err := NewEventDetail(ev.doc, EventMeta{ID: "0b5d0a4e-0000-4000-8000-000000000001", SourceType: "api", Actor: "tester"})
			if err != nil {
				t.Fatalf("NewEventDetail: %v", err)
			}
			page := renderDoc(t, EventDetailPage(Chrome{Title: "Event"}, d))
			checkStructure(t, page)
			text := shownText(page)

			dec := json.NewDecoder(bytes.NewReader(ev.doc))
			dec.UseNumber()
			var tree map[string]any
			if err := dec.Decode(&tree); err != nil {
				t.Fatal(err)
			}
			leaves("", tree, func(path, s string, key bool) {
				switch {
				case key:
					// Extension names are shown as written; standard keys become words.
					if strings.Contains(s, ":") && !strings.Contains(text, s) {
						t.Errorf("extension field name %s not shown", path)
					}
				case path == "/eventTime":
					tm, err := time.Parse(time.RFC3339Nano, s)
					if err != nil {
						if !strings.Contains(text, s) {
							t.Errorf("unreadable eventTime %q not shown as written", s)
						}
						return
					}
					if utc := tm.UTC().Format("2006-01-02 15:04:05.999") + " UTC"; !strings.Contains(text, utc) {
						t.Errorf("eventTime %s not shown in UTC as %q", s, utc)
					}
				case strings.Contains(text, s):
				case InWords(s) != "" && strings.Contains(text, InWords(s)):
				default:
					t.Errorf("value at %s, %q, is not shown", path, s)
				}
			})
		})
	}
}

// checkStructure asserts what assistive technology relies on: headings
// that never skip a level, and table headers that say what they head.
func checkStructure(t *testing.T, page *goquery.Document) {
	t.Helper()
	level := 0
	page.Find("main h1, main h2, main h3, main h4, main h5, main h6").Each(func(_ int, h *goquery.Selection) {
		n := int(goquery.NodeName(h)[1] - '0')
		if n > level+1 {
			t.Errorf("heading %q is h%d after h%d", strings.TrimSpace(h.Text()), n, level)
		}
		level = n
	})
	page.Find("main th").Each(func(_ int, th *goquery.Selection) {
		if scope := th.AttrOr("scope", ""); scope != "col" && scope != "row" {
			t.Errorf("table header %q has no scope", strings.TrimSpace(th.Text()))
		}
	})
}

func TestEventDetailShowsTheEventTimeInItsOffsetAndUTC(t *testing.T) {
	doc := json.RawMessage(`{"type":"ObjectEvent","action":"OBSERVE","eventTime":"2005-04-05T02:33:31.116Z","eventTimeZoneOffset":"-06:00","epcList":[]}`)
	d, err := NewEventDetail(doc, EventMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "2005-04-04 20:33:31.116 -06:00"; d.EventTimeLocal != want {
		t.Errorf("local = %q, want %q", d.EventTimeLocal, want)
	}
	if want := "2005-04-05 02:33:31.116 UTC"; d.EventTimeUTC != want {
		t.Errorf("UTC = %q, want %q", d.EventTimeUTC, want)
	}
	text := renderDoc(t, EventDetailPage(Chrome{}, d)).Find(`[data-testid="event-time"]`).Text()
	for _, want := range []string{"2005-04-04 20:33:31.116 -06:00", "2005-04-05 02:33:31.116 UTC"} {
		if !strings.Contains(text, want) {
			t.Errorf("event time shows %q, want %q in it", text, want)
		}
	}
}

func TestEventDetailErrorDeclarationBanner(t *testing.T) {
	declared := json.RawMessage(`{"type":"ObjectEvent","action":"OBSERVE","eventTime":"2020-01-01T10:00:00Z","eventTimeZoneOffset":"+01:00",
		"epcList":["urn:epc:id:sgtin:0614141.107346.2017"],
		"errorDeclaration":{"declarationTime":"2020-02-01T10:00:00Z","reason":"did_not_occur","correctiveEventIDs":["urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"]}}`)
	plain := json.RawMessage(`{"type":"ObjectEvent","action":"OBSERVE","eventTime":"2020-01-01T10:00:00Z","eventTimeZoneOffset":"+01:00","epcList":[]}`)
	tests := []struct {
		name       string
		doc        json.RawMessage
		meta       EventMeta
		banner     bool
		reason     string
		correction string // the href of a corrective event
	}{
		{name: "errorDeclaration with a known correction", doc: declared,
			meta:   EventMeta{CorrectedBy: []EventLink{{Label: "urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8", Href: "/events/e2"}}},
			banner: true, reason: "Did not occur", correction: "/events/e2"},
		{name: "errorDeclaration alone", doc: declared, banner: true, reason: "Did not occur"},
		{name: "declared in error by the server", doc: plain,
			meta:   EventMeta{DeclaredInError: true, CorrectedBy: []EventLink{{Label: "the correction", Href: "/events/e3"}}},
			banner: true, correction: "/events/e3"},
		{name: "not declared", doc: plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewEventDetail(tt.doc, tt.meta)
			if err != nil {
				t.Fatal(err)
			}
			page := renderDoc(t, EventDetailPage(Chrome{}, d))
			banner := page.Find(`[data-testid="error-declaration"]`)
			if got := banner.Length() == 1; got != tt.banner {
				t.Fatalf("banner shown = %v, want %v", got, tt.banner)
			}
			if !tt.banner {
				return
			}
			if banner.AttrOr("role", "") != "alert" {
				t.Error("the banner is not an alert")
			}
			if tt.reason != "" && strings.TrimSpace(banner.Find(`[data-testid="error-reason"]`).Text()) != tt.reason {
				t.Errorf("reason = %q, want %q", banner.Find(`[data-testid="error-reason"]`).Text(), tt.reason)
			}
			if tt.correction != "" {
				if href := banner.Find(`[data-testid="corrective-event"] a`).AttrOr("href", ""); href != tt.correction {
					t.Errorf("corrective event links to %q, want %q", href, tt.correction)
				}
			}
		})
	}
}

func TestEventDetailLinksOurLotsAndNamesUnits(t *testing.T) {
	doc := json.RawMessage(`{"type":"TransformationEvent","eventTime":"2024-05-01T08:00:00+02:00","eventTimeZoneOffset":"+02:00",
		"inputQuantityList":[{"epcClass":"https://id.gs1.org/01/09506000134352/10/LOT-1","quantity":12.5,"uom":"KGM"}],
		"outputQuantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.998877","quantity":40,"uom":"H87"},{"epcClass":"urn:epc:class:lgtin:4012345.012345.1","quantity":3,"uom":"XYZ"}],
		"bizStep":"urn:epcglobal:cbv:bizstep:commissioning","disposition":"in_transit"}`)
	d, err := NewEventDetail(doc, EventMeta{Lots: []LotLink{{Label: "https://id.gs1.org/01/09506000134352/10/LOT-1", Href: "/batches/b1"}}})
	if err != nil {
		t.Fatal(err)
	}
	page := renderDoc(t, EventDetailPage(Chrome{}, d))
	if href := page.Find(`[data-testid="event-inputs"] [data-testid="lot-link"]`).AttrOr("href", ""); href != "/batches/b1" {
		t.Errorf("input lot links to %q, want /batches/b1", href)
	}
	if n := page.Find(`[data-testid="event-outputs"] [data-testid="lot-link"]`).Length(); n != 0 {
		t.Errorf("%d output lots linked, want none (not ours)", n)
	}
	in := page.Find(`[data-testid="event-inputs"]`).Text()
	out := page.Find(`[data-testid="event-outputs"]`).Text()
	for _, c := range []struct{ text, want string }{{in, "12.5"}, {in, "kg"}, {out, "pieces"}, {out, "XYZ"}} {
		if !strings.Contains(c.text, c.want) {
			t.Errorf("%q not in %q", c.want, c.text)
		}
	}
	if got := d.Title(); got != "Commissioning" {
		t.Errorf("title = %q, want Commissioning", got)
	}
	if got := strings.TrimSpace(page.Find(`[data-testid="disposition"]`).Text()); got != "In transit" {
		t.Errorf("disposition = %q, want In transit", got)
	}
	if th := page.Find(`table[data-testid="input-quantity-list"] th[scope="col"]`).Length(); th != 3 {
		t.Errorf("quantity table has %d column headers, want 3", th)
	}
}

func TestEventDetailKeepsFieldsOfUnexpectedShape(t *testing.T) {
	doc := json.RawMessage(`{"type":"ObjectEvent","epcList":"not-a-list","readPoint":"urn:epc:id:sgln:1.2.3","quantityList":[1,2],"@context":{"ex":"https://example.com/"}}`)
	d, err := NewEventDetail(doc, EventMeta{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range d.Extensions {
		names = append(names, f.Name)
	}
	if got, want := strings.Join(names, ","), "epcList,readPoint,quantityList,@context"; got != want {
		t.Errorf("extensions = %s, want %s (in document order)", got, want)
	}
}

func TestNewEventDetailRefusesWhatIsNotAnObject(t *testing.T) {
	for _, doc := range []string{`[]`, `"x"`, `{"a":`, `{} {}`, ``} {
		if _, err := NewEventDetail(json.RawMessage(doc), EventMeta{}); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
	if _, err := NewEventDetail(json.RawMessage(`[1]`), EventMeta{}); !errors.Is(err, ErrNotAnEvent) {
		t.Errorf("array: err = %v, want ErrNotAnEvent", err)
	}
}

func TestInWords(t *testing.T) {
	tests := []struct{ in, want string }{
		{"receiving", "Receiving"},
		{"in_transit", "In transit"},
		{"incorrect_data", "Incorrect data"},
		{"did_not_occur", "Did not occur"},
		{"urn:epcglobal:cbv:bizstep:shipping", "Shipping"},
		{"https://ref.gs1.org/cbv/BizStep-receiving", "Receiving"},
		{"https://ref.gs1.org/cbv/Disp-in_progress", "In progress"},
		{"po", "Purchase order"},
		{"https://example.com/my-step", ""},
	}
	for _, tt := range tests {
		if got := InWords(tt.in); got != tt.want {
			t.Errorf("InWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzNewEventDetail: whatever the document, the builder answers an error
// or a detail that renders, and never panics.
func FuzzNewEventDetail(f *testing.F) {
	for _, seed := range []string{
		`{"type":"ObjectEvent","epcList":["urn:epc:id:sgtin:0614141.107346.2017"],"eventTime":"2020-01-01T00:00:00Z","eventTimeZoneOffset":"+01:00"}`,
		`{"sensorElementList":[{"sensorReport":[{"value":1e400,"uom":7}]}],"errorDeclaration":{"reason":5}}`,
		`{"quantityList":[{"quantity":"x"}],"readPoint":{"id":{"a":[null]}},"eventTimeZoneOffset":"+99:99"}`,
		`{"a":{"b":{"c":[[[]]]}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := NewEventDetail(doc, EventMeta{})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := EventDetailPage(Chrome{}, d).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
	})
}
