package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"batchtrack/epcis/epcistest"
	"batchtrack/gs1"
)

func gs1File(t *testing.T, parts ...string) string {
	t.Helper()
	return filepath.Join(append([]string{epcistest.Dir(t)}, parts...)...)
}

// officialDocuments are the example EPCIS documents that the official
// schema accepts and whose events are all distinct (SOURCES.md says
// which two repeat another's events: those are left out here).
func officialDocuments(t *testing.T) []string {
	t.Helper()
	root := gs1File(t, "examples")
	var docs []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case strings.Contains(rel, "Invalid"), strings.Contains(rel, "JSON-Schema"):
			return nil
		case strings.HasSuffix(rel, "Example_9.6.1-ObjectEvent.jsonld"), strings.HasSuffix(rel, "EPCISQueryDocument.jsonld"):
			return nil
		}
		docs = append(docs, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 20 {
		t.Fatalf("found only %d example documents under %s", len(docs), root)
	}
	return docs
}

func invalidDocuments(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join(gs1File(t, "examples", "openepcis", "Capture", "Invalid"), "*.json"))
	if err != nil || len(docs) != 15 {
		t.Fatalf("want the 15 OpenEPCIS invalid documents, found %d (%v)", len(docs), err)
	}
	return docs
}

// captureJob is the binding's capture job as a client reads it.
type captureJob struct {
	CaptureID             string `json:"captureID"`
	Running               bool   `json:"running"`
	Success               bool   `json:"success"`
	CaptureErrorBehaviour string `json:"captureErrorBehaviour"`
	EventCount            int    `json:"eventCount"`
	StoredCount           int    `json:"storedCount"`
	Errors                []struct {
		Type       string `json:"type"`
		Detail     string `json:"detail"`
		EventIndex int    `json:"eventIndex"`
	} `json:"errors"`
}

// capture posts a document and waits for its job to finish.
func (a *testApp) capture(doc []byte, headers ...string) (*http.Response, captureJob) {
	a.t.Helper()
	resp := a.do("POST", "/epcis/capture", doc, append([]string{"Content-Type", "application/ld+json"}, headers...)...)
	if resp.StatusCode != http.StatusAccepted {
		return resp, captureJob{}
	}
	loc := resp.Header.Get("Location")
	resp.Body.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		job := decode[captureJob](a.t, a.do("GET", loc, nil))
		if !job.Running {
			return resp, job
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("capture job %s still running after 30s", loc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// queryDoc fetches an EPCISQueryDocument; resp's body is read.
func (a *testApp) queryDoc(path string, headers ...string) (map[string]any, *http.Response) {
	doc, _, resp := a.queryDocBytes(path, headers...)
	return doc, resp
}

func (a *testApp) queryDocBytes(path string, headers ...string) (map[string]any, []byte, *http.Response) {
	a.t.Helper()
	resp := a.do("GET", path, nil, headers...)
	body := readBody(a.t, resp)
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		a.t.Fatal(err)
	}
	return doc, []byte(body), resp
}

func eventList(doc map[string]any) []any {
	body, _ := doc["epcisBody"].(map[string]any)
	if l, ok := body["eventList"].([]any); ok {
		return l
	}
	qr, _ := body["queryResults"].(map[string]any)
	rb, _ := qr["resultsBody"].(map[string]any)
	l, _ := rb["eventList"].([]any)
	return l
}

// asStored is an event as the server documents its normalisation: CBV
// values bare, recordTime its own, eventID its own when none was sent.
func asStored(t *testing.T, ev map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	for k, v := range ev {
		out[k] = v
	}
	delete(out, "recordTime")
	bare := func(voc gs1.Vocabulary, v any) any {
		s, ok := v.(string)
		if !ok {
			return v
		}
		b, err := voc.Normalize(s)
		if err != nil {
			return s // an extension as a compact IRI (ext1:summarising_discharge) stays as sent
		}
		return b
	}
	for field, voc := range map[string]gs1.Vocabulary{"bizStep": gs1.BizStepVocabulary, "disposition": gs1.DispositionVocabulary} {
		if v, ok := out[field]; ok {
			out[field] = bare(voc, v)
		}
	}
	if pd, ok := out["persistentDisposition"].(map[string]any); ok {
		for _, k := range []string{"set", "unset"} {
			if l, ok := pd[k].([]any); ok {
				for i := range l {
					l[i] = bare(gs1.DispositionVocabulary, l[i])
				}
			}
		}
	}
	for field, voc := range map[string]gs1.Vocabulary{
		"bizTransactionList": gs1.BizTransactionTypeVocabulary,
		"sourceList":         gs1.SourceDestTypeVocabulary, "destinationList": gs1.SourceDestTypeVocabulary,
	} {
		if l, ok := out[field].([]any); ok {
			for _, it := range l {
				if m, ok := it.(map[string]any); ok {
					if _, has := m["type"]; has {
						m["type"] = bare(voc, m["type"])
					}
				}
			}
		}
	}
	if ed, ok := out["errorDeclaration"].(map[string]any); ok {
		if _, has := ed["reason"]; has {
			ed["reason"] = bare(gs1.ErrorReasonVocabulary, ed["reason"])
		}
	}
	return out
}

// Every official example document is captured whole and comes back from
// the query interface equal as JSON (after the documented normalisation),
// in a query document the official schema accepts.
func TestEPCISOfficialExamplesRoundTrip(t *testing.T) {
	schema := epcistest.OfficialSchema(t)
	for _, path := range officialDocuments(t) {
		name, _ := filepath.Rel(epcistest.Dir(t), path)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var sent map[string]any
			if err := json.Unmarshal(raw, &sent); err != nil {
				t.Fatal(err)
			}
			want := eventList(sent)
			a := newTestApp(t)
			resp, job := a.capture(raw)
			if resp.StatusCode != http.StatusAccepted || !job.Success || job.StoredCount != len(want) {
				t.Fatalf("capture: %d, job %+v", resp.StatusCode, job)
			}
			doc, body, _ := a.queryDocBytes("/epcis/events?perPage=1000", "GS1-EPC-Format", "Never_Translates")
			if err := epcistest.Validate(schema, body); err != nil {
				t.Errorf("the query document fails the official schema: %v", err)
			}
			got := eventList(doc)
			if len(got) != len(want) {
				t.Fatalf("%d events back, want %d", len(got), len(want))
			}
			// Match each sent event with one returned, in any order.
			remaining := slices.Clone(got)
			for i, w := range want {
				exp := asStored(t, w.(map[string]any))
				found := -1
				var diff string
				for j, g := range remaining {
					act := asStored(t, g.(map[string]any))
					if _, sentID := exp["eventID"]; !sentID {
						delete(act, "eventID")
					}
					d := cmp.Diff(exp, act)
					if d == "" {
						found = j
						break
					}
					if diff == "" || len(d) < len(diff) {
						diff = d
					}
				}
				if found < 0 {
					t.Errorf("event %d did not come back whole; closest (-sent +returned):\n%s", i, diff)
					continue
				}
				remaining = slices.Delete(remaining, found, found+1)
			}
			for _, g := range got {
				m := g.(map[string]any)
				if _, err := time.Parse(time.RFC3339Nano, m["recordTime"].(string)); err != nil {
					t.Errorf("recordTime %v: %v", m["recordTime"], err)
				}
				if id, _ := m["eventID"].(string); id == "" {
					t.Errorf("an event came back without an eventID")
				}
			}
			// The default output is Digital Link, and it also validates.
			dl, dlBody, _ := a.queryDocBytes("/epcis/events?perPage=1000")
			if err := epcistest.Validate(schema, dlBody); err != nil {
				t.Errorf("the Digital Link query document fails the official schema: %v", err)
			}
			if b, _ := json.Marshal(eventList(dl)); strings.Contains(string(b), "urn:epc:id:sgtin:") {
				t.Errorf("default output still has EPC URNs: %.300s", b)
			}
		})
	}
}

// Every OpenEPCIS invalid document is refused whole: 400, nothing stored.
func TestEPCISInvalidDocumentsAreRefusedWhole(t *testing.T) {
	a := newTestApp(t)
	for _, path := range invalidDocuments(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			resp, job := a.capture(raw)
			p := decode[Problem](t, resp)
			if resp.StatusCode != http.StatusBadRequest || p.Type != "epcisException:ValidationException" {
				t.Errorf("%d %s %s (job %+v)", resp.StatusCode, p.Type, p.Detail, job)
			}
			if resp.Header.Get("GS1-EPCIS-Version") != epcisVersion {
				t.Errorf("error without GS1-EPCIS-Version")
			}
		})
	}
	doc, _ := a.queryDoc("/epcis/events")
	if n := len(eventList(doc)); n != 0 {
		t.Errorf("%d events stored from invalid documents", n)
	}
}

const sampleEvent = `{
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://example.com/ns/"}],
  "type": "ObjectEvent",
  "eventID": "urn:uuid:0b3f1b76-2a52-4b6c-9a64-5c7c0c1d2e01",
  "eventTime": "2026-03-01T10:00:00.000+01:00",
  "eventTimeZoneOffset": "+01:00",
  "action": "OBSERVE",
  "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
  "disposition": "in_transit",
  "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
  "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200, "uom": "KGM"}],
  "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
  "bizLocation": {"id": "https://id.gs1.org/414/0614141073467"},
  "bizTransactionList": [{"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}],
  "ex:note": "kept"
}`

func withEventID(t *testing.T, event, id string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(event), &m); err != nil {
		t.Fatal(err)
	}
	if id == "" {
		delete(m, "eventID")
	} else {
		m["eventID"] = id
	}
	b, _ := json.Marshal(m)
	return b
}

// One event: 201 with Location; the same eventID or the same event under
// another eventID (its hash) is 409 ResourceAlreadyExistsException.
func TestEPCISCaptureOneEventAndDuplicates(t *testing.T) {
	a := newTestApp(t)
	ld := []string{"Content-Type", "application/ld+json"}
	resp := a.do("POST", "/epcis/events", sampleEvent, ld...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, readBody(t, resp))
	}
	loc := resp.Header.Get("Location")
	if want := "/epcis/events/" + url.PathEscape("urn:uuid:0b3f1b76-2a52-4b6c-9a64-5c7c0c1d2e01"); loc != want {
		t.Errorf("Location %q, want %q", loc, want)
	}
	doc, _ := a.queryDoc(loc, "GS1-EPC-Format", "Never_Translates")
	evs := eventList(doc)
	if len(evs) != 1 || evs[0].(map[string]any)["bizStep"] != "shipping" || evs[0].(map[string]any)["ex:note"] != "kept" {
		t.Fatalf("stored event: %v", evs)
	}
	for _, tc := range []struct{ name, body string }{
		{"same eventID", sampleEvent},
		{"same event, another eventID", string(withEventID(t, sampleEvent, "urn:uuid:7d0a7c5e-0000-4000-8000-000000000001"))},
		{"same event, no eventID", string(withEventID(t, sampleEvent, ""))},
	} {
		resp := a.do("POST", "/epcis/events", tc.body, ld...)
		p := decode[Problem](t, resp)
		if resp.StatusCode != http.StatusConflict || p.Type != "epcisException:ResourceAlreadyExistsException" {
			t.Errorf("%s: %d %s %s", tc.name, resp.StatusCode, p.Type, p.Detail)
		}
	}
	if resp := a.do("GET", "/epcis/events/"+url.PathEscape("urn:uuid:00000000-0000-4000-8000-00000000dead"), nil); resp.StatusCode != 404 {
		t.Errorf("unknown event: %d", resp.StatusCode)
	} else if p := decode[Problem](t, resp); p.Type != "epcisException:NoSuchResourceException" {
		t.Errorf("unknown event: %s", p.Type)
	}
}

// A document repeating a stored event: rollback stores nothing; proceed
// stores the rest and reports the repeat by its position.
func TestEPCISCaptureErrorBehaviour(t *testing.T) {
	a := newTestApp(t)
	if resp := a.do("POST", "/epcis/events", sampleEvent, "Content-Type", "application/ld+json"); resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, readBody(t, resp))
	}
	fresh := func(id, step string) string {
		return strings.Replace(string(withEventID(t, sampleEvent, id)), `"urn:epcglobal:cbv:bizstep:shipping"`, `"`+step+`"`, 1)
	}
	doc := `{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://example.com/ns/"}],
	  "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-01T10:00:00Z",
	  "epcisBody": {"eventList": [` + fresh("urn:uuid:11111111-1111-4111-8111-111111111111", "receiving") + `,` +
		sampleEvent + `,` + fresh("urn:uuid:22222222-2222-4222-8222-222222222222", "storing") + `]}}`
	count := func() int {
		d, _ := a.queryDoc("/epcis/events")
		return len(eventList(d))
	}

	_, job := a.capture([]byte(doc))
	if job.Success || job.Running || job.StoredCount != 0 || len(job.Errors) != 1 ||
		job.Errors[0].EventIndex != 1 || job.Errors[0].Type != "epcisException:ResourceAlreadyExistsException" {
		t.Errorf("rollback job: %+v", job)
	}
	if n := count(); n != 1 {
		t.Errorf("rollback stored something: %d events", n)
	}

	_, job = a.capture([]byte(doc), "GS1-Capture-Error-Behaviour", "proceed")
	if job.Success || job.StoredCount != 2 || len(job.Errors) != 1 || job.Errors[0].EventIndex != 1 ||
		job.CaptureErrorBehaviour != "proceed" {
		t.Errorf("proceed job: %+v", job)
	}
	if n := count(); n != 3 {
		t.Errorf("proceed: %d events, want 3", n)
	}
}

// The protocol: versions on every answer, 406, OPTIONS limits, 413, 415,
// roles, unknown parameters.
func TestEPCISProtocol(t *testing.T) {
	a := newTestApp(t)
	viewer := bearer(a.tokenFor(a.newUser(roleViewer)))
	for _, tc := range []struct {
		name    string
		resp    *http.Response
		status  int
		problem string
	}{
		{"query", a.do("GET", "/epcis/events", nil), 200, ""},
		{"top level", a.do("GET", "/epcis/", nil), 200, ""},
		{"EPCIS 1.2 required", a.do("GET", "/epcis/events", nil, "GS1-EPCIS-Version", "1.2"), 406, "epcisException:NotAcceptableException"},
		{"EPCIS min 3.0", a.do("GET", "/epcis/events", nil, "GS1-EPCIS-Min", "3.0.0"), 406, "epcisException:NotAcceptableException"},
		{"XML only", a.do("GET", "/epcis/events", nil, "Accept", "application/xml"), 406, "epcisException:NotAcceptableException"},
		{"bad EPC format", a.do("GET", "/epcis/events", nil, "GS1-EPC-Format", "Sometimes"), 400, "epcisException:ValidationException"},
		{"unknown parameter", a.do("GET", "/epcis/events?EQ_colour=red", nil), 400, "epcisException:QueryParameterException"},
		{"bad time", a.do("GET", "/epcis/events?GE_eventTime=yesterday", nil), 400, "epcisException:QueryParameterException"},
		{"CBV non-value", a.do("GET", "/epcis/events?EQ_bizStep=urn:epcglobal:cbv:bizstep:teleporting", nil), 400, "epcisException:QueryParameterException"},
		{"limit without order", a.do("GET", "/epcis/events?eventCountLimit=1", nil), 400, "epcisException:QueryParameterException"},
		{"bad token", a.do("GET", "/epcis/events?nextPageToken=garbage", nil), 400, "epcisException:QueryParameterException"},
		{"XML body", a.do("POST", "/epcis/capture", "<epcis/>", "Content-Type", "application/xml"), 415, "epcisException:UnsupportedMediaTypeException"},
		{"not EPCIS", a.do("POST", "/epcis/capture", `{"type": "Nothing"}`), 400, "epcisException:ValidationException"},
		{"bad behaviour", a.do("POST", "/epcis/capture", `{}`, "GS1-Capture-Error-Behaviour", "sometimes"), 400, "epcisException:ValidationException"},
		{"viewer captures", a.doAs(viewer, "POST", "/epcis/events", sampleEvent), 403, "epcisException:SecurityException"},
		{"anonymous", a.doAs(credential{}, "GET", "/epcis/events", nil), 401, "epcisException:SecurityException"},
		{"unknown job", a.do("GET", "/epcis/capture/00000000-0000-4000-8000-000000000000", nil), 404, "epcisException:NoSuchResourceException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.resp.Header.Get("GS1-EPCIS-Version") != "2.0.0" || tc.resp.Header.Get("GS1-CBV-Version") != "2.0.0" {
				t.Errorf("versions: %q %q", tc.resp.Header.Get("GS1-EPCIS-Version"), tc.resp.Header.Get("GS1-CBV-Version"))
			}
			body := readBody(t, tc.resp)
			if tc.resp.StatusCode != tc.status {
				t.Fatalf("%d, want %d: %s", tc.resp.StatusCode, tc.status, body)
			}
			if tc.problem != "" {
				var p Problem
				_ = json.Unmarshal([]byte(body), &p)
				if p.Type != tc.problem || tc.resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("problem %q (%s), want %q", p.Type, tc.resp.Header.Get("Content-Type"), tc.problem)
				}
			}
		})
	}

	resp := a.do("OPTIONS", "/epcis/capture", nil)
	if resp.StatusCode != 204 || resp.Header.Get("GS1-EPCIS-Capture-Limit") == "" ||
		resp.Header.Get("GS1-EPCIS-Capture-File-Size-Limit") == "" {
		t.Errorf("OPTIONS /epcis/capture: %d %v", resp.StatusCode, resp.Header)
	}

	// Past the file size limit: 413 CaptureLimitExceededException, through
	// a real socket.
	base := a.listen()
	big := `{"type":"EPCISDocument","pad":"` + strings.Repeat("a", CaptureFileSizeLimit) + `"}`
	req, _ := http.NewRequest("POST", base+"/epcis/capture", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/ld+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if p := decode[Problem](t, resp); resp.StatusCode != 413 || p.Type != "epcisException:CaptureLimitExceededException" {
		t.Errorf("oversized document: %d %s", resp.StatusCode, p.Type)
	}
}

// Queries: every kind of filter, URN and Digital Link forms matching each
// other, and pages walked with nextPageToken and Link.
func TestEPCISQueryParameters(t *testing.T) {
	a := newTestApp(t)
	raw, err := os.ReadFile(gs1File(t, "examples", "gs1", "JSON", "WithFullCombinationOfFields", "object_event_all_possible_fields.jsonld"))
	if err != nil {
		t.Fatal(err)
	}
	if _, job := a.capture(raw); !job.Success {
		t.Fatalf("job %+v", job)
	}
	for i, step := range []string{"receiving", "storing", "shipping"} {
		ev := strings.Replace(string(withEventID(t, sampleEvent, "urn:uuid:33333333-3333-4333-8333-00000000000"+string(rune('1'+i)))),
			`"urn:epcglobal:cbv:bizstep:shipping"`, `"`+step+`"`, 1)
		ev = strings.Replace(ev, `"2026-03-01T10:00:00.000+01:00"`, `"2026-03-0`+string(rune('1'+i))+`T10:00:00.000+01:00"`, 1)
		if resp := a.do("POST", "/epcis/events", ev, "Content-Type", "application/ld+json"); resp.StatusCode != 201 {
			t.Fatalf("%d %s", resp.StatusCode, readBody(t, resp))
		}
	}
	ids := func(path string) []string {
		doc, _ := a.queryDoc(path)
		var out []string
		for _, e := range eventList(doc) {
			out = append(out, e.(map[string]any)["eventID"].(string))
		}
		return out
	}
	all := "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"
	s1, s2, s3 := "urn:uuid:33333333-3333-4333-8333-000000000001", "urn:uuid:33333333-3333-4333-8333-000000000002", "urn:uuid:33333333-3333-4333-8333-000000000003"
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{s3, s2, s1, all}},
		{"orderBy=eventTime&orderDirection=ASC", []string{all, s1, s2, s3}},
		{"EQ_bizStep=shipping|storing", []string{s3, s2}},
		{"EQ_bizStep=urn:epcglobal:cbv:bizstep:receiving", []string{s1, all}},
		{"eventType=AggregationEvent", nil},
		{"EQ_action=ADD", []string{all}},
		{"GE_eventTime=2026-03-02T00:00:00Z&LT_eventTime=2026-03-03T00:00:00Z", []string{s2}},
		{"MATCH_epc=urn:epc:id:sgtin:0614141.107346.2017", []string{s3, s2, s1}},
		{"MATCH_epc=https://id.gs1.org/01/10614141073464/21/2017", []string{s3, s2, s1}},
		{"MATCH_anyEPC=urn:epc:idpat:sgtin:0614141.107346.*", []string{s3, s2, s1, all}},
		{"MATCH_epcClass=https://id.gs1.org/01/04012345123456/10/998877", []string{s3, s2, s1, all}},
		{"EQ_bizLocation=urn:epc:id:sgln:0614141.07346.0", []string{s3, s2, s1}},
		{"EQ_readPoint=https://id.gs1.org/414/0012345111112/254/400", []string{all}},
		{"EQ_bizTransaction_po=http://transaction.acme.com/po/12345678", []string{s3, s2, s1}},
		{"EQ_bizTransaction_urn:epcglobal:cbv:btt:pedigree=urn:epc:id:gsrn:0614141.0000010253", []string{all}},
		{"EQ_source_owning_party=urn:epc:id:pgln:4012345.00225", []string{all}},
		{"EQ_destination_location=urn:epc:id:sgln:0614141.00777.0", []string{all}},
		{"EQ_eventID=" + url.QueryEscape(s1+"|"+s2), []string{s2, s1}},
		{"EXISTS_errorDeclaration", []string{all}},
		{"EQ_errorReason=incorrect_data", []string{all}},
		{"GT_quantity=100", []string{s3, s2, s1, all}},
		{"LT_quantity=100", nil},
		{"orderBy=eventTime&eventCountLimit=1", []string{s3}},
	} {
		got := ids("/epcis/events?" + tc.query)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
		}
	}

	// maxEventCount: more matches than allowed is 413 QueryTooLargeException.
	resp := a.do("GET", "/epcis/events?maxEventCount=2", nil)
	if p := decode[Problem](t, resp); resp.StatusCode != 413 || p.Type != "epcisException:QueryTooLargeException" {
		t.Errorf("maxEventCount: %d %s", resp.StatusCode, p.Type)
	}

	// Pages of one: the Link header walks every event once, in order.
	var walked []string
	next := "/epcis/events?perPage=1"
	for next != "" && len(walked) < 10 {
		doc, resp := a.queryDoc(next)
		for _, e := range eventList(doc) {
			walked = append(walked, e.(map[string]any)["eventID"].(string))
		}
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			start, end := strings.Index(link, "<"), strings.Index(link, ">")
			if !strings.HasSuffix(link, `rel="next"`) || start < 0 || end < start {
				t.Fatalf("Link %q", link)
			}
			next = link[start+1 : end]
		}
	}
	if want := []string{s3, s2, s1, all}; !slices.Equal(walked, want) {
		t.Errorf("pages walked %v, want %v", walked, want)
	}
}

// A correction: the same event with an errorDeclaration declares the
// stored one in error. The original stays as it was; queries show it with
// the declaration; declaring it twice is a duplicate.
func TestEPCISErrorDeclaration(t *testing.T) {
	a := newTestApp(t)
	ld := []string{"Content-Type", "application/ld+json"}
	if resp := a.do("POST", "/epcis/events", sampleEvent, ld...); resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, readBody(t, resp))
	}
	var declaration map[string]any
	if err := json.Unmarshal([]byte(sampleEvent), &declaration); err != nil {
		t.Fatal(err)
	}
	corrective := "urn:uuid:5c8a0c6e-1111-4222-8333-444455556666"
	declaration["errorDeclaration"] = map[string]any{
		"declarationTime": "2026-03-02T09:00:00.000Z", "reason": "urn:epcglobal:cbv:er:incorrect_data",
		"correctiveEventIDs": []string{corrective},
	}
	body, _ := json.Marshal(declaration)
	resp := a.do("POST", "/epcis/events", body, ld...)
	if resp.StatusCode != 201 {
		t.Fatalf("declaration: %d %s", resp.StatusCode, readBody(t, resp))
	}
	id := "urn:uuid:0b3f1b76-2a52-4b6c-9a64-5c7c0c1d2e01"
	if loc := resp.Header.Get("Location"); loc != eventURL(id) {
		t.Errorf("Location %q", loc)
	}
	doc, _ := a.queryDoc(eventURL(id), "GS1-EPC-Format", "Never_Translates")
	evs := eventList(doc)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	got := evs[0].(map[string]any)
	ed, _ := got["errorDeclaration"].(map[string]any)
	if ed["reason"] != "incorrect_data" || ed["declarationTime"] != "2026-03-02T09:00:00.000Z" {
		t.Errorf("errorDeclaration %v", got["errorDeclaration"])
	}
	delete(got, "errorDeclaration")
	var original map[string]any
	_ = json.Unmarshal([]byte(sampleEvent), &original)
	want := asStored(t, original)
	delete(want, "@context")
	delete(got, "@context")
	if d := cmp.Diff(want, asStored(t, got)); d != "" {
		t.Errorf("the original changed (-sent +now):\n%s", d)
	}
	for _, q := range []string{"EXISTS_errorDeclaration", "EQ_errorReason=incorrect_data", "EQ_correctiveEventID=" + url.QueryEscape(corrective)} {
		d, _ := a.queryDoc("/epcis/events?" + q)
		if n := len(eventList(d)); n != 1 {
			t.Errorf("%s: %d events", q, n)
		}
	}
	if n := a.count("events"); n != 1 {
		t.Errorf("%d event rows, want the original only", n)
	}
	again := a.do("POST", "/epcis/events", body, ld...)
	if p := decode[Problem](t, again); again.StatusCode != 409 || p.Type != "epcisException:ResourceAlreadyExistsException" {
		t.Errorf("second declaration: %d %s", again.StatusCode, p.Type)
	}
}

// GS1-EPC-Format: Digital Link by default, EPC URNs on request (a
// Digital Link received as such stays one: its company prefix length is
// not in it), as received with Never_Translates.
func TestEPCISEPCFormat(t *testing.T) {
	a := newTestApp(t)
	if resp := a.do("POST", "/epcis/events", sampleEvent, "Content-Type", "application/ld+json"); resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, readBody(t, resp))
	}
	for _, tc := range []struct {
		format                          string
		epc, class, readPoint, location string
	}{
		{"", "https://id.gs1.org/01/10614141073464/21/2017", "https://id.gs1.org/01/04012345123456/10/998877",
			"https://id.gs1.org/414/0614141073467/254/1234", "https://id.gs1.org/414/0614141073467"},
		{"Always_GS1_Digital_Link", "https://id.gs1.org/01/10614141073464/21/2017", "https://id.gs1.org/01/04012345123456/10/998877",
			"https://id.gs1.org/414/0614141073467/254/1234", "https://id.gs1.org/414/0614141073467"},
		{"Always_EPC_URN", "urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:class:lgtin:4012345.012345.998877",
			"urn:epc:id:sgln:0614141.07346.1234", "https://id.gs1.org/414/0614141073467"},
		{"Never_Translates", "urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:class:lgtin:4012345.012345.998877",
			"urn:epc:id:sgln:0614141.07346.1234", "https://id.gs1.org/414/0614141073467"},
	} {
		var headers []string
		if tc.format != "" {
			headers = []string{"GS1-EPC-Format", tc.format}
		}
		doc, _ := a.queryDoc("/epcis/events", headers...)
		ev := eventList(doc)[0].(map[string]any)
		got := []any{ev["epcList"].([]any)[0], ev["quantityList"].([]any)[0].(map[string]any)["epcClass"],
			ev["readPoint"].(map[string]any)["id"], ev["bizLocation"].(map[string]any)["id"]}
		want := []any{tc.epc, tc.class, tc.readPoint, tc.location}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.format, d)
		}
	}
}

// Both doors lead to one store: an event captured through /epcis is in
// /api/events, and one recorded there is in /epcis/events, as an EPCIS
// document naming the lot by its Digital Link.
func TestEPCISAndAPIEventsAreOneStore(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("100")
	if resp := a.do("POST", "/epcis/events", sampleEvent, "Content-Type", "application/ld+json"); resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, readBody(t, resp))
	}
	resp := a.do("POST", "/api/events", `{"event_type": "ObjectEvent", "action": "OBSERVE", "biz_step": "inspecting",
		"quantity_list": [{"batch_id": "`+b.ID.String()+`", "quantity": "2.5"}]}`)
	if resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, readBody(t, resp))
	}
	recorded := decode[struct {
		EventID string `json:"event_id"`
	}](t, resp)
	list := decode[struct {
		Items []struct {
			EventID string `json:"event_id"`
		} `json:"items"`
	}](t, a.do("GET", "/api/events", nil))
	var ids []string
	for _, it := range list.Items {
		ids = append(ids, it.EventID)
	}
	// (the fixture's batch has its own commissioning event too)
	for _, want := range []string{recorded.EventID, "urn:uuid:0b3f1b76-2a52-4b6c-9a64-5c7c0c1d2e01"} {
		if !slices.Contains(ids, want) {
			t.Errorf("/api/events has %v, not %s", ids, want)
		}
	}
	doc, _ := a.queryDoc("/epcis/events?EQ_bizStep=inspecting")
	evs := eventList(doc)
	if len(evs) != 1 {
		t.Fatalf("%d inspecting events", len(evs))
	}
	ev := evs[0].(map[string]any)
	q := ev["quantityList"].([]any)[0].(map[string]any)
	if ev["eventID"] != recorded.EventID || !strings.HasPrefix(q["epcClass"].(string), "https://id.gs1.org/01/") ||
		q["quantity"] != 2.5 || q["uom"] != "KGM" {
		t.Errorf("the recorded event as EPCIS: %v", ev)
	}
}
