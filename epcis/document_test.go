package epcis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"batchtrack/gs1"

	"github.com/google/go-cmp/cmp"
)

// lateContext has its @context after epcisBody, as the official examples
// do, and an event using a prefix only that @context declares.
const lateContext = `{
  "type": "EPCISDocument",
  "schemaVersion": "2.0",
  "creationDate": "2026-07-22T06:45:00Z",
  "epcisBody": {"eventList": [
    {"type": "ObjectEvent", "eventTime": "2026-07-22T06:45:00.5+02:00", "eventTimeZoneOffset": "+02:00",
     "recordTime": "2026-07-22T07:00:00Z", "action": "ADD",
     "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
     "bizStep": "urn:epcglobal:cbv:bizstep:commissioning",
     "disposition": "https://ref.gs1.org/cbv/Disp-active",
     "ilmd": {"late:bestBefore": "2026-08-01"}},
    {"type": "ObjectEvent", "eventTime": "2026-07-22T06:46:00+02:00", "eventTimeZoneOffset": "+02:00",
     "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"], "bizStep": "teleporting"},
    {"type": "ObjectEvent", "eventTime": "2026-07-22T06:47:00+02:00", "eventTimeZoneOffset": "+02:00",
     "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"], "unknown:field": 1}
  ]},
  "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"late": "https://late.example.com/"}],
  "sender": "urn:epc:id:pgln:0614141.00777"
}`

func TestReadDocumentBehaviours(t *testing.T) {
	tests := []struct {
		behaviour  ErrorBehaviour
		wantCalled []int
	}{
		{Rollback, nil},
		{Proceed, []int{0}},
	}
	for _, tt := range tests {
		var called []int
		h, err := ReadDocumentWith(strings.NewReader(lateContext), tt.behaviour, func(i int, ev Event) error {
			called = append(called, i)
			return nil
		})
		var docErr *DocumentError
		if !errors.As(err, &docErr) {
			t.Fatalf("behaviour %d: err %v, want a *DocumentError", tt.behaviour, err)
		}
		want := []EventError{
			{Index: 1, Path: "/epcisBody/eventList/1/bizStep"},
			{Index: 2, Path: "/epcisBody/eventList/2/unknown:field"},
		}
		got := make([]EventError, len(docErr.Errors))
		for i, e := range docErr.Errors {
			got[i] = EventError{Index: e.Index, Path: e.Path}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("behaviour %d: errors (-want +got):\n%s", tt.behaviour, diff)
		}
		if diff := cmp.Diff(tt.wantCalled, called); diff != "" {
			t.Errorf("behaviour %d: events handed over (-want +got):\n%s", tt.behaviour, diff)
		}
		wantHeader := DocumentHeader{Type: "EPCISDocument", SchemaVersion: "2.0",
			CreationDate: time.Date(2026, 7, 22, 6, 45, 0, 0, time.UTC),
			Context:      map[string]string{"late": "https://late.example.com/"}}
		if h.Type != wantHeader.Type || h.SchemaVersion != wantHeader.SchemaVersion || !h.CreationDate.Equal(wantHeader.CreationDate) ||
			!cmp.Equal(h.Context, wantHeader.Context) || string(h.Other["sender"]) != `"urn:epc:id:pgln:0614141.00777"` {
			t.Errorf("header %+v", h)
		}
	}
}

func TestReadDocumentProjectsAndNormalises(t *testing.T) {
	doc := strings.Replace(lateContext, `"bizStep": "teleporting"`, `"bizStep": "receiving"`, 1)
	doc = strings.Replace(doc, `"unknown:field": 1`, `"late:field": 1`, 1)
	var events []Event
	if _, err := ReadDocument(strings.NewReader(doc), func(i int, ev Event) error {
		events = append(events, ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 {
		t.Fatalf("%d events", len(events))
	}
	ev := events[0]
	wantRaw := `{"type": "ObjectEvent", "eventTime": "2026-07-22T06:45:00.5+02:00", "eventTimeZoneOffset": "+02:00",
     "action": "ADD",
     "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
     "bizStep": "commissioning",
     "disposition": "active",
     "ilmd": {"late:bestBefore": "2026-08-01"}}`
	if string(ev.Raw) != wantRaw {
		t.Errorf("Raw:\n%s\nwant\n%s", ev.Raw, wantRaw)
	}
	ev.Raw = nil
	if !strings.HasPrefix(ev.HashID, "ni:///sha-256;") {
		t.Errorf("HashID %q", ev.HashID)
	}
	ev.HashID = "" // TestHashID checks it
	want := Event{
		Context:        map[string]string{"late": "https://late.example.com/"},
		Type:           "ObjectEvent",
		EventTime:      time.Date(2026, 7, 22, 4, 45, 0, 5e8, time.UTC),
		TimeZoneOffset: "+02:00",
		Action:         "ADD",
		BizStep:        "commissioning",
		Disposition:    "active",
		Identifiers: []Identifier{{Role: RoleEPC, Key: "01/10614141073464/21/2017",
			URI: "urn:epc:id:sgtin:0614141.107346.2017"}},
	}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("projection (-want +got):\n%s", diff)
	}
}

func TestProjectionOfEveryField(t *testing.T) {
	raw := `{"@context": {"ex": "https://ex.example.com/"},
	"type": "TransformationEvent", "eventID": "urn:uuid:1", "eventTime": "2026-01-02T03:04:05Z", "eventTimeZoneOffset": "-05:00",
	"inputEPCList": ["https://id.gs1.org/01/10614141073464/21/2017"],
	"inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 12.50, "uom": "KGM"}],
	"outputQuantityList": [{"epcClass": "urn:epc:idpat:sgtin:4012345.012345.*", "quantity": 3}],
	"transformationID": "urn:uuid:2",
	"bizStep": "cbv:BizStep-commissioning", "persistentDisposition": {"set": ["urn:epcglobal:cbv:disp:completeness_verified"], "unset": ["active"]},
	"readPoint": {"id": "urn:epc:id:sgln:0012345.11111.400"}, "bizLocation": {"id": "https://example.com/414/0012345111112"},
	"bizTransactionList": [{"type": "urn:epcglobal:cbv:btt:po", "bizTransaction": "urn:epc:id:gdti:0614141.12345.400"}, {"bizTransaction": "http://transaction.acme.com/po/1"}],
	"sourceList": [{"type": "https://ref.gs1.org/cbv/SDT-owning_party", "source": "urn:epc:id:pgln:4012345.00225"}],
	"destinationList": [{"type": "ex:carrier", "destination": "https://id.gs1.org/417/4012345002256"}],
	"sensorElementList": [{"sensorReport": [{"type": "Temperature", "value": 4}, {"type": "gs1:Humidity", "value": 40}]}],
	"errorDeclaration": {"declarationTime": "2026-01-03T00:00:00+01:00", "reason": "urn:epcglobal:cbv:er:incorrect_data", "correctiveEventIDs": ["urn:uuid:3"]},
	"ex:note": "kept"}`
	ev, err := ParseEvent([]byte(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, bare := range []string{`"bizStep": "commissioning"`, `{"set": ["completeness_verified"], "unset": ["active"]}`,
		`"type": "po"`, `"type": "owning_party"`, `"reason": "incorrect_data"`, `"type": "ex:carrier"`} {
		if !bytes.Contains(ev.Raw, []byte(bare)) {
			t.Errorf("Raw lacks %s:\n%s", bare, ev.Raw)
		}
	}
	ev.Raw = nil
	if !strings.HasPrefix(ev.HashID, "ni:///sha-256;") {
		t.Errorf("HashID %q", ev.HashID)
	}
	ev.HashID = "" // TestHashID checks it
	want := Event{
		Context:                    map[string]string{"ex": "https://ex.example.com/"},
		Type:                       "TransformationEvent",
		EventID:                    "urn:uuid:1",
		EventTime:                  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		TimeZoneOffset:             "-05:00",
		BizStep:                    "commissioning",
		PersistentDispositionSet:   []string{"completeness_verified"},
		PersistentDispositionUnset: []string{"active"},
		ReadPoint:                  "414/0012345111112/254/400",
		BizLocation:                "414/0012345111112",
		TransformationID:           "urn:uuid:2",
		Identifiers: []Identifier{
			{Role: RoleInput, Key: "01/10614141073464/21/2017", URI: "https://id.gs1.org/01/10614141073464/21/2017"},
			{Role: RoleInput, Key: "01/04012345123456/10/998877", URI: "urn:epc:class:lgtin:4012345.012345.998877", Class: true, Quantity: "12.50", UOM: "KGM"},
			{Role: RoleOutput, Key: "01/04012345123456", URI: "urn:epc:idpat:sgtin:4012345.012345.*", Class: true, Quantity: "3"},
		},
		BizTransactions: []Typed{{Type: "po", ID: "urn:epc:id:gdti:0614141.12345.400", Key: "253/0614141123452400"},
			{ID: "http://transaction.acme.com/po/1", Key: "http://transaction.acme.com/po/1"}},
		Sources:       []Typed{{Type: "owning_party", ID: "urn:epc:id:pgln:4012345.00225", Key: "417/4012345002256"}},
		Destinations:  []Typed{{Type: "ex:carrier", ID: "https://id.gs1.org/417/4012345002256", Key: "417/4012345002256"}},
		SensorReports: 2,
		Error: &ErrorDeclaration{DeclarationTime: time.Date(2026, 1, 2, 23, 0, 0, 0, time.UTC), Reason: "incorrect_data",
			CorrectiveEventIDs: []string{"urn:uuid:3"}},
	}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("projection (-want +got):\n%s", diff)
	}
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name, raw string
		ctx       map[string]string
		wantErr   string // "" when accepted
	}{
		{"bare event", `{"@context": "https://ref.gs1.org/standards/epcis/epcis-context.jsonld", "type": "ObjectEvent", "action": "OBSERVE",
			"eventTime": "2026-01-02T03:04:05Z", "eventTimeZoneOffset": "+00:00", "epcList": []}`, nil, ""},
		{"without @context", `{"type": "ObjectEvent", "action": "OBSERVE",
			"eventTime": "2026-01-02T03:04:05Z", "eventTimeZoneOffset": "+00:00", "epcList": []}`, nil, "@context is required"},
		{"prefix from the caller", `{"@context": "https://ref.gs1.org/standards/epcis/epcis-context.jsonld", "type": "ObjectEvent", "action": "OBSERVE",
			"eventTime": "2026-01-02T03:04:05Z", "eventTimeZoneOffset": "+00:00", "epcList": [], "hdr:x": 1}`, map[string]string{"hdr": "https://h.example.com/"}, ""},
		{"undeclared prefix", `{"@context": "https://ref.gs1.org/standards/epcis/epcis-context.jsonld", "type": "ObjectEvent", "action": "OBSERVE",
			"eventTime": "2026-01-02T03:04:05Z", "eventTimeZoneOffset": "+00:00", "epcList": [], "hdr:x": 1}`, nil, "not declared"},
		{"not JSON", `{"type": `, nil, "not valid JSON"},
		{"trailing data", `{} {}`, nil, "not valid JSON"},
		{"an array", `[]`, nil, "must be an object"},
		{"duplicate field", `{"type": "ObjectEvent", "type": "ObjectEvent"}`, nil, "not valid JSON"},
	}
	for _, tt := range tests {
		_, err := ParseEvent([]byte(tt.raw), tt.ctx)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: %v, want an error saying %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestOfficialBareEvent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(gs1Dir(t), "examples", "gs1", "JSON-Schema", "test", "ObjectEvent.json"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseEvent(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ev.BizStep != "shipping" || len(ev.Identifiers) != 2 || ev.ReadPoint != "414/0614141073467/254/1234" {
		t.Errorf("%+v", ev)
	}
}

func TestReadDocumentErrors(t *testing.T) {
	bad := `{"type": "ObjectEvent", "eventTime": "x", "eventTimeZoneOffset": "+00:00", "action": "ADD", "epcList": []}`
	many := `{"@context": "https://ref.gs1.org/standards/epcis/epcis-context.jsonld", "type": "EPCISDocument", "schemaVersion": "2.0",
		"creationDate": "2026-01-01T00:00:00Z", "epcisBody": {"eventList": [` + strings.Repeat(bad+",", 1499) + bad + `]}}`
	_, err := ReadDocumentWith(strings.NewReader(many), Proceed, func(int, Event) error { return nil })
	var docErr *DocumentError
	if !errors.As(err, &docErr) || len(docErr.Errors) != MaxErrors || !docErr.Truncated {
		t.Errorf("1500 bad events: %v", err)
	}

	tests := []struct{ name, doc, wantPath string }{
		{"not JSON", `{"type": "EPCISDocument", "epcisBody": {"eventList": [{]}}`, "/epcisBody/eventList/0"},
		{"truncated", `{"type": "EPCISDocument", "epcisBody": {"eventList": [`, "/epcisBody/eventList"},
		{"an array", `[]`, ""},
		{"eventList not an array", `{"@context": "https://x.example/", "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z", "epcisBody": {"eventList": {}}}`, "/epcisBody/eventList"},
		{"query document without results", `{"@context": "https://x.example/", "type": "EPCISQueryDocument", "epcisBody": {"eventList": []}}`, "/epcisBody"},
	}
	for _, tt := range tests {
		_, err := ReadDocument(strings.NewReader(tt.doc), func(int, Event) error { return nil })
		if !errors.As(err, &docErr) {
			t.Errorf("%s: %v, want a *DocumentError", tt.name, err)
			continue
		}
		if !strings.HasPrefix(docErr.Errors[0].Path, tt.wantPath) {
			t.Errorf("%s: %+v, want a path under %q", tt.name, docErr.Errors, tt.wantPath)
		}
	}

	stop := errors.New("disk full")
	doc := strings.Replace(lateContext, `"bizStep": "teleporting"`, `"bizStep": "receiving"`, 1)
	doc = strings.Replace(doc, `"unknown:field": 1`, `"late:field": 1`, 1)
	calls := 0
	if _, err := ReadDocument(strings.NewReader(doc), func(int, Event) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("fn's error: %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func TestQueryDocument(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(gs1Dir(t), "examples", "gs1", "JSON", "EPCISQueryDocument.jsonld"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	h, err := ReadDocument(bytes.NewReader(data), func(int, Event) error { n++; return nil })
	if err != nil || h.Type != "EPCISQueryDocument" || n == 0 {
		t.Errorf("%v, %s, %d events", err, h.Type, n)
	}
}

// Render(FormatAsReceived) gives back every official event as sent, but
// for recordTime, eventID when it had none, and CBV values made bare.
func TestRenderAsReceived(t *testing.T) {
	recordTime := time.Date(2026, 12, 7, 10, 0, 0, 123e6, time.UTC)
	for _, path := range validDocuments(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			EPCISBody struct {
				EventList    []map[string]any `json:"eventList"`
				QueryResults struct {
					ResultsBody struct {
						EventList []map[string]any `json:"eventList"`
					} `json:"resultsBody"`
				} `json:"queryResults"`
			} `json:"epcisBody"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		originals := append(doc.EPCISBody.EventList, doc.EPCISBody.QueryResults.ResultsBody.EventList...)
		_, err = ReadDocument(bytes.NewReader(data), func(i int, ev Event) error {
			id := ev.EventID
			if id == "" {
				id = fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i)
			}
			out, err := Render(ev.Raw, id, recordTime, FormatAsReceived)
			if err != nil {
				return err
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				return fmt.Errorf("event %d renders as invalid JSON: %v\n%s", i, err, out)
			}
			want := originals[i]
			want["recordTime"] = "2026-12-07T10:00:00.123Z"
			want["eventID"] = id
			bareCBV(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s event %d (-sent +rendered):\n%s", filepath.Base(path), i, diff)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
		}
	}
}

func TestRenderFormats(t *testing.T) {
	raw := `{"type": "AggregationEvent", "recordTime": "2000-01-01T00:00:00Z",
		"parentID": "urn:epc:id:sscc:0614141.1234567890",
		"childEPCs": ["urn:epc:id:sgtin:0614141.107346.2017", "https://example.com/01/10614141073464/21/2018", "urn:uuid:x"],
		"childQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 1}, {"epcClass": "urn:epc:idpat:sgtin:4012345.012345.*"}],
		"readPoint": {"id": "urn:epc:id:sgln:0012345.11111.0"},
		"sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00225"}]}`
	rt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		f    Format
		want string
	}{
		{FormatAsReceived, raw},
		{FormatURN, raw},
		{FormatDigitalLink, `{"type": "AggregationEvent", "recordTime": "2000-01-01T00:00:00Z",
		"parentID": "https://id.gs1.org/00/106141412345678908",
		"childEPCs": ["https://id.gs1.org/01/10614141073464/21/2017", "https://example.com/01/10614141073464/21/2018", "urn:uuid:x"],
		"childQuantityList": [{"epcClass": "https://id.gs1.org/01/04012345123456/10/998877", "quantity": 1}, {"epcClass": "urn:epc:idpat:sgtin:4012345.012345.*"}],
		"readPoint": {"id": "https://id.gs1.org/414/0012345111112"},
		"sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/4012345002256"}]}`},
	}
	for _, tt := range tests {
		out, err := Render(json.RawMessage(raw), "urn:uuid:e", rt, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Replace(tt.want, `"2000-01-01T00:00:00Z"`, `"2026-01-01T00:00:00Z"`, 1)
		want = strings.TrimSuffix(want, "}") + `,"eventID":"urn:uuid:e"}`
		if string(out) != want {
			t.Errorf("format %d:\n%s\nwant\n%s", tt.f, out, want)
		}
	}
	if out, err := Render(json.RawMessage(`{}`), "", rt, FormatAsReceived); err != nil || string(out) != `{"recordTime":"2026-01-01T00:00:00Z"}` {
		t.Errorf("empty event: %s, %v", out, err)
	}
	if out, err := Render(json.RawMessage(`{"eventID": "urn:uuid:kept"}`), "", rt, FormatAsReceived); err != nil ||
		string(out) != `{"eventID": "urn:uuid:kept","recordTime":"2026-01-01T00:00:00Z"}` {
		t.Errorf("event with its own eventID: %s, %v", out, err)
	}
	if _, err := Render(json.RawMessage(`[`), "", rt, FormatAsReceived); err == nil {
		t.Error("invalid stored event rendered")
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		h       string
		want    Format
		wantErr bool
	}{
		{"", FormatDigitalLink, false},
		{"No_Preference", FormatDigitalLink, false},
		{"Always_GS1_Digital_Link", FormatDigitalLink, false},
		{"Always_EPC_URN", FormatURN, false},
		{"Never_Translates", FormatAsReceived, false},
		{"always_epc_urn", FormatDigitalLink, true},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.h)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseFormat(%q) = %d, %v", tt.h, got, err)
		}
	}
}

// bareCBV puts an event's CBV values (decoded as JSON) in bare form, as
// Raw has them.
func bareCBV(ev map[string]any) {
	bare := func(m map[string]any, field string, voc gs1.Vocabulary) {
		if s, ok := m[field].(string); ok {
			if b, err := voc.Normalize(s); err == nil {
				m[field] = b
			}
		}
	}
	bare(ev, "bizStep", gs1.BizStepVocabulary)
	bare(ev, "disposition", gs1.DispositionVocabulary)
	for list, voc := range map[string]gs1.Vocabulary{"bizTransactionList": gs1.BizTransactionTypeVocabulary,
		"sourceList": gs1.SourceDestTypeVocabulary, "destinationList": gs1.SourceDestTypeVocabulary} {
		items, _ := ev[list].([]any)
		for _, it := range items {
			if m, ok := it.(map[string]any); ok {
				bare(m, "type", voc)
			}
		}
	}
	if pd, ok := ev["persistentDisposition"].(map[string]any); ok {
		for _, k := range []string{"set", "unset"} {
			values, _ := pd[k].([]any)
			for i, v := range values {
				if s, ok := v.(string); ok {
					if b, err := gs1.DispositionVocabulary.Normalize(s); err == nil {
						values[i] = b
					}
				}
			}
		}
	}
	if ed, ok := ev["errorDeclaration"].(map[string]any); ok {
		bare(ed, "reason", gs1.ErrorReasonVocabulary)
	}
}
