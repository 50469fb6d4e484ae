package epcis

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"batchtrack/epcis/epcistest"
)

// baseEvent is a valid ObjectEvent the mutations start from.
func baseEvent() map[string]any {
	return map[string]any{
		"type":                "ObjectEvent",
		"eventID":             "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
		"action":              "OBSERVE",
		"bizStep":             "shipping",
		"disposition":         "in_transit",
		"epcList":             []any{"urn:epc:id:sgtin:0614141.107346.2017"},
		"eventTime":           "2005-04-03T20:33:31.116-06:00",
		"eventTimeZoneOffset": "-06:00",
		"readPoint":           map[string]any{"id": "urn:epc:id:sgln:0614141.07346.1234"},
		"quantityList":        []any{map[string]any{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200, "uom": "KGM"}},
	}
}

func baseDocument(events ...map[string]any) map[string]any {
	list := make([]any, len(events))
	for i, e := range events {
		list[i] = e
	}
	return map[string]any{
		"@context":      []any{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", map[string]any{"example": "http://ns.example.com/epcis/"}},
		"type":          "EPCISDocument",
		"schemaVersion": "2.0",
		"creationDate":  "2005-07-11T11:30:47.0Z",
		"epcisBody":     map[string]any{"eventList": list},
	}
}

// mutation is a change to a valid document, whether we accept the
// result, and why the official schema decides otherwise when it does.
type mutation struct {
	name          string
	change        func(doc, ev map[string]any)
	accept        bool
	schemaDiffers string // "" when the schema agrees
}

func set(field string, v any) func(doc, ev map[string]any) {
	return func(_, ev map[string]any) { ev[field] = v }
}

func del(field string) func(doc, ev map[string]any) {
	return func(_, ev map[string]any) { delete(ev, field) }
}

var mutations = []mutation{
	{"unchanged", func(doc, ev map[string]any) {}, true, ""},
	{"missing eventTime", del("eventTime"), false, ""},
	{"missing eventTimeZoneOffset", del("eventTimeZoneOffset"), false, ""},
	{"missing action", del("action"), false, ""},
	{"missing type", del("type"), false, ""},
	{"bad tz offset", set("eventTimeZoneOffset", "+2:00"), false, ""},
	{"tz offset beyond 14:00", set("eventTimeZoneOffset", "+14:30"), false, ""},
	{"tz offset Z", set("eventTimeZoneOffset", "Z"), false, ""},
	{"eventTime without offset", set("eventTime", "2005-04-03T20:33:31"), false, ""},
	{"eventTime as a date", set("eventTime", "2005-04-03"), false, ""},
	{"eventTime as a number", set("eventTime", 1112581011), false, ""},
	{"recordTime given", set("recordTime", "2005-04-03T20:33:31Z"), true, ""},
	{"bad recordTime", set("recordTime", "yesterday"), false, ""},
	{"quantity as string", set("quantityList", []any{map[string]any{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": "200"}}), false, ""},
	{"quantity decimal", set("quantityList", []any{map[string]any{"epcClass": "https://id.gs1.org/01/04012345123456/10/998877", "quantity": 12.5, "uom": "KGM"}}), true, ""},
	{"uom lower case", set("quantityList", []any{map[string]any{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 1, "uom": "kgm"}}), false, ""},
	{"quantity element without epcClass", set("quantityList", []any{map[string]any{"quantity": 1}}), false, ""},
	{"epcList relative URI", set("epcList", []any{"0614141.107346.2017"}), false, ""},
	{"epcList malformed sgtin", set("epcList", []any{"urn:epc:id:sgtin:0614141.107346"}), false, "the schema asks only for a URI; a malformed EPC URN would key to itself and break tracing"},
	{"epcList sgtin with too many digits", set("epcList", []any{"urn:epc:id:sgtin:0614141.1073460.1"}), false, "the schema asks only for a URI; a malformed EPC URN would key to itself and break tracing"},
	{"epcList unknown EPC scheme", set("epcList", []any{"urn:epc:id:gid:95100000.12345.400"}), true, ""},
	{"readPoint malformed sgln", set("readPoint", map[string]any{"id": "urn:epc:id:sgln:0614141.07346"}), false, "the schema asks only for a URI; a malformed EPC URN would key to itself and break tracing"},
	{"epcList duplicate", set("epcList", []any{"urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2017"}), false, ""},
	{"epcList not an array", set("epcList", "urn:epc:id:sgtin:0614141.107346.2017"), false, ""},
	{"empty epcList and no quantities", func(_, ev map[string]any) { ev["epcList"] = []any{}; delete(ev, "quantityList") }, true, ""},
	{"no what", func(_, ev map[string]any) { delete(ev, "epcList"); delete(ev, "quantityList") }, false, ""},
	{"bad action", set("action", "CREATE"), false, ""},
	{"bizStep URN form", set("bizStep", "urn:epcglobal:cbv:bizstep:shipping"), true, "the schema refuses every urn:epcglobal:cbv value; CBV 2.0 says the URN form names the same value"},
	{"bizStep web URI form", set("bizStep", "https://ref.gs1.org/cbv/BizStep-shipping"), true, ""},
	{"bizStep CBV non-value URN", set("bizStep", "urn:epcglobal:cbv:bizstep:teleporting"), false, ""},
	{"bizStep CBV non-value web URI", set("bizStep", "https://ref.gs1.org/cbv/BizStep-teleporting"), false, "the schema reserves ns.gs1.org/cbv, not ref.gs1.org/cbv where CBV 2.0 values live"},
	{"bizStep unknown bare", set("bizStep", "transforming"), false, ""},
	{"bizStep extension URI", set("bizStep", "https://example.com/steps/roasting"), true, ""},
	{"bizStep extension CURIE", set("bizStep", "example:roasting"), true, ""},
	{"bizStep undeclared CURIE", set("bizStep", "nowhere:roasting"), false, "the schema takes any scheme as a URI; we want a declared prefix, a host or a URN"},
	{"disposition URN form", set("disposition", "urn:epcglobal:cbv:disp:in_transit"), true, "the schema refuses every urn:epcglobal:cbv value; CBV 2.0 says the URN form names the same value"},
	{"disposition unknown", set("disposition", "in_transport"), false, ""},
	{"persistentDisposition", set("persistentDisposition", map[string]any{"set": []any{"completeness_verified"}, "unset": []any{"https://ref.gs1.org/cbv/Disp-active"}}), true, ""},
	{"persistentDisposition empty", set("persistentDisposition", map[string]any{}), false, ""},
	{"persistentDisposition empty set", set("persistentDisposition", map[string]any{"set": []any{}}), false, ""},
	{"persistentDisposition other field", set("persistentDisposition", map[string]any{"set": []any{"active"}, "keep": []any{"active"}}), false, ""},
	{"un-namespaced extension", set("foo", "bar"), false, ""},
	{"declared extension", set("example:foo", "bar"), true, ""},
	{"URI extension", set("http://ns.example.com/epcis/foo", map[string]any{"nested": 1}), true, ""},
	{"undeclared prefix extension", set("nowhere:foo", "bar"), false, "the schema takes any scheme as a URI; we want the prefix declared in @context"},
	{"ilmd un-namespaced", set("ilmd", map[string]any{"materialType": "soil"}), false, ""},
	{"ilmd on OBSERVE", set("ilmd", map[string]any{"example:materialType": "soil"}), false, ""},
	{"ilmd on ADD", func(_, ev map[string]any) {
		ev["action"] = "ADD"
		ev["ilmd"] = map[string]any{"example:materialType": "soil"}
	}, true, ""},
	{"readPoint without id", set("readPoint", map[string]any{}), false, ""},
	{"readPoint id relative", set("readPoint", map[string]any{"id": "somewhere"}), false, ""},
	{"bizTransaction untyped", set("bizTransactionList", []any{map[string]any{"bizTransaction": "http://transaction.acme.com/po/1"}}), true, ""},
	{"bizTransaction URN type", set("bizTransactionList", []any{map[string]any{"type": "urn:epcglobal:cbv:btt:po", "bizTransaction": "http://transaction.acme.com/po/1"}}), true, "the schema refuses every urn:epcglobal:cbv value; CBV 2.0 says the URN form names the same value"},
	{"bizTransaction unknown type", set("bizTransactionList", []any{map[string]any{"type": "purchase", "bizTransaction": "http://transaction.acme.com/po/1"}}), false, ""},
	{"bizTransaction without id", set("bizTransactionList", []any{map[string]any{"type": "po"}}), false, ""},
	{"bizTransaction extra field", set("bizTransactionList", []any{map[string]any{"type": "po", "bizTransaction": "http://transaction.acme.com/po/1", "note": "x"}}), false, ""},
	{"source", set("sourceList", []any{map[string]any{"type": "https://ref.gs1.org/cbv/SDT-owning_party", "source": "urn:epc:id:pgln:0614141.00777"}}), true, ""},
	{"source without type", set("sourceList", []any{map[string]any{"source": "urn:epc:id:pgln:0614141.00777"}}), false, ""},
	{"source unknown type", set("sourceList", []any{map[string]any{"type": "place", "source": "urn:epc:id:pgln:0614141.00777"}}), false, ""},
	{"destination wrong field", set("destinationList", []any{map[string]any{"type": "location", "source": "urn:epc:id:sgln:0614141.00777.0"}}), false, ""},
	{"certificationInfo string", set("certificationInfo", "https://accreditation-council.example.org/certificate/ABC12345"), true, ""},
	{"certificationInfo array", set("certificationInfo", []any{"https://example.org/c/1", "https://example.org/c/2"}), true, ""},
	{"certificationInfo object", set("certificationInfo", map[string]any{"id": "https://example.org/c/1"}), false, ""},
	{"errorDeclaration", set("errorDeclaration", map[string]any{"declarationTime": "2020-01-15T00:00:00+01:00", "reason": "incorrect_data", "correctiveEventIDs": []any{"urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"}, "example:vendorReason": "typo"}), true, ""},
	{"errorDeclaration URN reason", set("errorDeclaration", map[string]any{"declarationTime": "2020-01-15T00:00:00+01:00", "reason": "urn:epcglobal:cbv:er:did_not_occur"}), true, "the schema refuses every urn:epcglobal:cbv value; CBV 2.0 says the URN form names the same value"},
	{"errorDeclaration without time", set("errorDeclaration", map[string]any{"reason": "incorrect_data"}), false, ""},
	{"errorDeclaration unknown reason", set("errorDeclaration", map[string]any{"declarationTime": "2020-01-15T00:00:00+01:00", "reason": "typo"}), false, ""},
	{"errorDeclaration un-namespaced field", set("errorDeclaration", map[string]any{"declarationTime": "2020-01-15T00:00:00+01:00", "note": "typo"}), false, ""},
	{"sensorElementList", set("sensorElementList", []any{map[string]any{
		"sensorMetadata": map[string]any{"time": "2019-04-02T14:05:00.000+01:00", "example:someFurtherMetadata": "x"},
		"sensorReport":   []any{map[string]any{"type": "Temperature", "value": 26, "uom": "CEL", "component": "x", "booleanValue": true, "hexBinaryValue": "0AFF"}},
	}}), true, ""},
	{"sensorReport without type", set("sensorElementList", []any{map[string]any{"sensorReport": []any{map[string]any{"value": 26}}}}), false, ""},
	{"sensorReport empty", set("sensorElementList", []any{map[string]any{"sensorReport": []any{}}}), false, ""},
	{"sensorElement without report", set("sensorElementList", []any{map[string]any{"sensorMetadata": map[string]any{}}}), false, ""},
	{"sensorReport value as string", set("sensorElementList", []any{map[string]any{"sensorReport": []any{map[string]any{"type": "Temperature", "value": "26"}}}}), false, ""},
	{"sensorReport unknown measurement", set("sensorElementList", []any{map[string]any{"sensorReport": []any{map[string]any{"type": "Warmth"}}}}), false, ""},
	{"sensorReport gs1 voc measurement", set("sensorElementList", []any{map[string]any{"sensorReport": []any{map[string]any{"type": "https://gs1.org/voc/Warmth"}}}}), false, ""},
	{"sensorReport bad hex", set("sensorElementList", []any{map[string]any{"sensorReport": []any{map[string]any{"type": "Temperature", "hexBinaryValue": "XYZ"}}}}), false, ""},
	{"sensorReport un-namespaced field", set("sensorElementList", []any{map[string]any{"sensorReport": []any{map[string]any{"type": "Temperature", "colour": "red"}}}}), false, ""},
	{"unknown event type", set("type", "ThingEvent"), false, ""},
	{"extension event type", func(_, ev map[string]any) {
		ev["type"] = "https://example.com/ThingEvent"
		ev["foo"] = 1
	}, true, ""},
	{"AggregationEvent", func(_, ev map[string]any) {
		ev["type"] = "AggregationEvent"
		ev["parentID"] = "urn:epc:id:sscc:0614141.1234567890"
		ev["childEPCs"] = []any{"urn:epc:id:sgtin:0614141.107346.2017"}
		delete(ev, "epcList")
		delete(ev, "quantityList")
	}, true, ""},
	{"AggregationEvent without children", func(_, ev map[string]any) {
		ev["type"] = "AggregationEvent"
		ev["parentID"] = "urn:epc:id:sscc:0614141.1234567890"
		delete(ev, "epcList")
		delete(ev, "quantityList")
	}, false, ""},
	{"AggregationEvent DELETE without children", func(_, ev map[string]any) {
		ev["type"] = "AggregationEvent"
		ev["action"] = "DELETE"
		ev["parentID"] = "urn:epc:id:sscc:0614141.1234567890"
		delete(ev, "epcList")
		delete(ev, "quantityList")
	}, true, ""},
	{"AggregationEvent with epcList", func(_, ev map[string]any) {
		ev["type"] = "AggregationEvent"
		ev["childEPCs"] = []any{"urn:epc:id:sgtin:0614141.107346.2017"}
	}, false, ""},
	{"AssociationEvent without parentID", func(_, ev map[string]any) {
		ev["type"] = "AssociationEvent"
		ev["childEPCs"] = []any{"urn:epc:id:sgtin:0614141.107346.2017"}
		delete(ev, "epcList")
		delete(ev, "quantityList")
	}, false, ""},
	{"TransactionEvent without bizTransactionList", set("type", "TransactionEvent"), false, ""},
	{"TransactionEvent", func(_, ev map[string]any) {
		ev["type"] = "TransactionEvent"
		ev["bizTransactionList"] = []any{map[string]any{"type": "po", "bizTransaction": "http://transaction.acme.com/po/1"}}
	}, true, ""},
	{"TransactionEvent empty bizTransactionList", func(_, ev map[string]any) {
		ev["type"] = "TransactionEvent"
		ev["bizTransactionList"] = []any{}
	}, false, ""},
	{"TransformationEvent", func(_, ev map[string]any) {
		ev["type"] = "TransformationEvent"
		delete(ev, "action")
		delete(ev, "epcList")
		delete(ev, "quantityList")
		ev["inputEPCList"] = []any{"urn:epc:id:sgtin:0614141.107346.2017"}
		ev["outputQuantityList"] = []any{map[string]any{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 3, "uom": "KGM"}}
	}, true, ""},
	{"TransformationEvent with action", func(_, ev map[string]any) {
		ev["type"] = "TransformationEvent"
		delete(ev, "epcList")
		delete(ev, "quantityList")
		ev["inputEPCList"] = []any{"urn:epc:id:sgtin:0614141.107346.2017"}
		ev["outputEPCList"] = []any{"urn:epc:id:sgtin:0614141.107346.2018"}
	}, false, ""},
	{"TransformationEvent inputs only", func(_, ev map[string]any) {
		ev["type"] = "TransformationEvent"
		delete(ev, "action")
		delete(ev, "epcList")
		delete(ev, "quantityList")
		ev["inputEPCList"] = []any{"urn:epc:id:sgtin:0614141.107346.2017"}
	}, false, ""},
	{"TransformationEvent inputs and transformationID", func(_, ev map[string]any) {
		ev["type"] = "TransformationEvent"
		delete(ev, "action")
		delete(ev, "epcList")
		delete(ev, "quantityList")
		ev["inputEPCList"] = []any{"urn:epc:id:sgtin:0614141.107346.2017"}
		ev["transformationID"] = "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c9"
	}, true, ""},
	{"event @context", set("@context", map[string]any{"mine": "https://mine.example.com/"}), true, ""},
	{"event @context prefix used", func(_, ev map[string]any) {
		ev["@context"] = map[string]any{"mine": "https://mine.example.com/"}
		ev["mine:field"] = 1
	}, true, ""},
	{"document without @context", func(doc, _ map[string]any) { delete(doc, "@context") }, false, ""},
	{"document without eventList", func(doc, _ map[string]any) { doc["epcisBody"] = map[string]any{} }, false, ""},
	{"document without schemaVersion", func(doc, _ map[string]any) { delete(doc, "schemaVersion") }, false, ""},
	{"document bad creationDate", func(doc, _ map[string]any) { doc["creationDate"] = "today" }, false, ""},
	{"document un-namespaced field", func(doc, _ map[string]any) { doc["note"] = "x" }, false, ""},
	{"query document with a sender", func(doc, _ map[string]any) {
		doc["type"] = "EPCISQueryDocument"
		doc["sender"] = "urn:epc:id:pgln:0614141.00777"
		doc["epcisBody"] = map[string]any{"queryResults": map[string]any{"queryName": "SimpleEventQuery",
			"resultsBody": doc["epcisBody"]}}
	}, false, ""},
	{"query document", func(doc, _ map[string]any) {
		doc["type"] = "EPCISQueryDocument"
		doc["epcisBody"] = map[string]any{"queryResults": map[string]any{"queryName": "SimpleEventQuery",
			"resultsBody": doc["epcisBody"]}}
	}, true, ""},
	{"query document without queryName", func(doc, _ map[string]any) {
		doc["type"] = "EPCISQueryDocument"
		doc["epcisBody"] = map[string]any{"queryResults": map[string]any{"resultsBody": doc["epcisBody"]}}
	}, false, ""},
	{"epcisHeader with master data and an extension", func(doc, _ map[string]any) {
		doc["epcisHeader"] = map[string]any{"epcisMasterData": map[string]any{"vocabularyList": []any{}}, "example:note": "x"}
	}, true, ""},
	{"epcisHeader un-namespaced field", func(doc, _ map[string]any) {
		doc["epcisHeader"] = map[string]any{"note": "x"}
	}, false, ""},
	{"document @context late prefix", func(doc, ev map[string]any) {
		doc["@context"] = []any{"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", map[string]any{"late": "https://late.example.com/"}}
		ev["late:field"] = 1
	}, true, ""},
}

func mutatedDocument(t testing.TB, m mutation) []byte {
	t.Helper()
	ev := baseEvent()
	doc := baseDocument(ev)
	m.change(doc, ev)
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func accepts(data []byte) (bool, error) {
	_, err := ReadDocument(bytes.NewReader(data), func(int, Event) error { return nil })
	return err == nil, err
}

func TestMutations(t *testing.T) {
	for _, m := range mutations {
		ok, err := accepts(mutatedDocument(t, m))
		if ok != m.accept {
			t.Errorf("%s: accepted %v (%v), want %v", m.name, ok, err, m.accept)
		}
		var docErr *DocumentError
		if err != nil && !errors.As(err, &docErr) {
			t.Errorf("%s: %T %v, want a *DocumentError", m.name, err, err)
		}
	}
}

// officialSchema compiles the EPCIS 2.0 JSON schema with format
// assertions, uri included.
func officialSchema(t *testing.T) *jsonschema.Schema { return epcistest.OfficialSchema(t) }

func schemaAccepts(t *testing.T, s *jsonschema.Schema, data []byte) (bool, error) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return false, err
	}
	err = s.Validate(inst)
	return err == nil, err
}

// Our checks and the official schema agree on every official document,
// every OpenEPCIS invalid one and every mutation, but where a mutation
// says why we differ on purpose.
func TestAgreesWithOfficialSchema(t *testing.T) {
	s := officialSchema(t)
	dir := gs1Dir(t)
	files := slices.Concat(validDocuments(t), documents(t, dir, "examples/openepcis/Capture/Invalid"))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ours, ourErr := accepts(data)
		theirs, schemaErr := schemaAccepts(t, s, data)
		if ours != theirs {
			t.Errorf("%s: we accept %v (%v), the schema %v (%v)", filepath.Base(path), ours, ourErr, theirs, schemaErr)
		}
	}
	for _, m := range mutations {
		data := mutatedDocument(t, m)
		ours, ourErr := accepts(data)
		theirs, schemaErr := schemaAccepts(t, s, data)
		switch {
		case m.schemaDiffers == "" && ours != theirs:
			t.Errorf("%s: we accept %v (%v), the schema %v (%v)", m.name, ours, ourErr, theirs, firstLine(schemaErr))
		case m.schemaDiffers != "" && ours == theirs:
			t.Errorf("%s: listed as a difference (%s) but both accept %v", m.name, m.schemaDiffers, ours)
		}
	}
}

func firstLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// jsonPaths lists the paths (keys and indexes) of every value under v
// but those of events after the first of a list.
func jsonPaths(v any, prefix []any, out *[][]any) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			p := append(slices.Clone(prefix), k)
			*out = append(*out, p)
			jsonPaths(child, p, out)
		}
	case []any:
		for i, child := range x {
			if i > 0 && len(prefix) > 0 && prefix[len(prefix)-1] == "eventList" {
				break
			}
			p := append(slices.Clone(prefix), i)
			*out = append(*out, p)
			jsonPaths(child, p, out)
		}
	}
}

// setAt replaces (or, when remove, deletes) the value at path p in v.
func setAt(v any, p []any, value any, remove bool) {
	for i, k := range p {
		last := i == len(p)-1
		switch x := v.(type) {
		case map[string]any:
			switch {
			case last && remove:
				delete(x, k.(string))
			case last:
				x[k.(string)] = value
			default:
				v = x[k.(string)]
			}
		case []any:
			if last {
				x[k.(int)] = value
			} else {
				v = x[k.(int)]
			}
		}
	}
}

// Every value of the official documents' first events (and of their
// headers) replaced by a value of another kind, or removed: we and the
// official schema agree, but where we refuse a namespace prefix that
// @context does not declare (the schema takes any "scheme:" as a URI).
func TestAgreesWithOfficialSchemaOnEveryFieldChange(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of documents")
	}
	s := officialSchema(t)
	replacements := []any{nil, 1, "x", "https://example.com/x", []any{}, []any{"x"}, map[string]any{}, true,
		"2020-01-01T00:00:00Z", "urn:epcglobal:cbv:bizstep:x"}
	cases := 0
	for _, path := range validDocuments(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		var paths [][]any
		jsonPaths(doc, nil, &paths)
		for _, p := range paths {
			for r := -1; r < len(replacements); r++ {
				if _, index := p[len(p)-1].(int); index && r < 0 {
					continue
				}
				if cases++; raceEnabled && cases%10 != 0 {
					continue
				}
				var changed map[string]any
				json.Unmarshal(data, &changed)
				var with any = "(removed)"
				if r < 0 {
					setAt(changed, p, nil, true)
				} else {
					with = replacements[r]
					setAt(changed, p, with, false)
				}
				mutated, err := json.Marshal(changed)
				if err != nil {
					t.Fatal(err)
				}
				_, ourErr := ReadDocument(bytes.NewReader(mutated), func(int, Event) error { return nil })
				theirs, schemaErr := schemaAccepts(t, s, mutated)
				if (ourErr == nil) == theirs {
					continue
				}
				var docErr *DocumentError
				if theirs && errors.As(ourErr, &docErr) && allUndeclaredPrefix(docErr) {
					continue
				}
				t.Errorf("%s with %v = %v: we say %v, the schema %v", filepath.Base(path), p, with, ourErr, firstLine(schemaErr))
			}
		}
	}
	t.Logf("%d changed documents", cases)
}

func allUndeclaredPrefix(e *DocumentError) bool {
	for _, err := range e.Errors {
		if !strings.Contains(err.Message, "is not declared in @context") {
			return false
		}
	}
	return true
}
