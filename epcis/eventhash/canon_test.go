package eventhash

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The expected values are what the reference's Python gives:
// str(Decimal(s).to_integral_value()) for whole numbers,
// format(Decimal(s).normalize(), 'f') for the others.
func TestCanonicalValueNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"200", "200"},
		{"200.0", "200"},
		{"+5", "5"},
		{"0005", "5"},
		{"23.10", "23.1"},
		{".5", "0.5"},
		{"5.", "5"},
		{"-0.50", "-0.5"},
		{"-0.0", "-0"},
		{"0.000", "0"},
		{"1e3", "1E+3"},
		{"1.0E+3", "1.0E+3"},
		{"1.5e3", "1.5E+3"},
		{"12e-1", "1.2"},
		{"1e-5", "0.00001"},
		{"1_000", "1000"},
		{"1__0", "10"},
		{"_1", "1"},
		{"_", "_"},
		{"Infinity", "Infinity"},
		{"NaN", "NaN"},
		{"1e", "1e"},
		{"abc", "abc"},
		{"2019-10-21", "2019-10-21"},
		{"1e99999", "1e99999"},
	}
	for _, tt := range tests {
		if got := canonicalValue(tt.in); got != tt.want {
			t.Errorf("canonicalValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The expected values are Python's str(json.loads(n)).
func TestPythonNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"200", "200"},
		{"-0", "0"},
		{"200.0", "200.0"},
		{"25.0", "25.0"},
		{"26.2", "26.2"},
		{"0.1", "0.1"},
		{"1e15", "1000000000000000.0"},
		{"1e16", "1e+16"},
		{"1.5e16", "1.5e+16"},
		{"0.0001", "0.0001"},
		{"0.00001", "1e-05"},
		{"-0.0", "-0.0"},
		{"1e400", "inf"},
		{"-1e400", "-inf"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
	}
	for _, tt := range tests {
		if got := pythonNumber(json.Number(tt.in)); got != tt.want {
			t.Errorf("pythonNumber(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2005-04-05T02:33:31.116Z", "2005-04-05T02:33:31.116Z"},
		{"2019-10-21T11:00:30.000+01:00", "2019-10-21T10:00:30.000Z"},
		{"2019-10-21T00:05:00-06:00", "2019-10-21T06:05:00.000Z"},
		{"2022-02-15T01:33:31.116000-06:00", "2022-02-15T07:33:31.116Z"},
		{"2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"},
		{"2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z"},
		{"2023-12-31T23:59:59.9995Z", "2024-01-01T00:00:00.000Z"},
		{"2023-02-02T11:04:03.99949999Z", "2023-02-02T11:04:03.999Z"},
		{"2023-02-02T11:04:03+0130", "2023-02-02T09:34:03.000Z"},
		{"2023-02-02T11:04Z", "2023-02-02T11:04:00.000Z"},
		{"2023-02-02", "2023-02-02T00:00:00.000Z"},
		{"2023-02-30T11:04:03Z", "2023-02-30T11:04:03Z"},
		{"yesterday", "yesterday"},
		{"0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00"},
	}
	for _, tt := range tests {
		if got := canonicalTime(tt.in); got != tt.want {
			t.Errorf("canonicalTime(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDigitalLink(t *testing.T) {
	tests := []struct{ in, want string }{
		{"urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876"},
		{"urn:epc:id:sscc:4012345.0000000333", "https://id.gs1.org/00/040123450000003338"},
		{"urn:epc:id:sgln:4012345.00011.987", "https://id.gs1.org/414/4012345000115/254/987"},
		{"urn:epc:id:sgln:4012345.00011.0", "https://id.gs1.org/414/4012345000115"},
		{"urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/04012345123456/10/998877"},
		{"urn:epc:idpat:sgtin:4012345.066666.*", "https://id.gs1.org/01/04012345666663"},
		{"https://id.gs1.org/gtin/9780345418913", "https://id.gs1.org/01/09780345418913"},
		{"https://example.com/01/09780345418913/10/LOT/21/SER?x=1", "https://id.gs1.org/01/09780345418913/21/SER"},
		{"https://id.gs1.org/01/09780345418913/22/CPV/21/SER", "https://id.gs1.org/01/09780345418913/21/SER"},
		{"https://id.gs1.org/01/09780345418913/22/CPV", "https://id.gs1.org/01/09780345418913"},
		{"urn:epc:id:sgtin:4012345.011111", ""},
		{"https://example.com/taxonomy/1126011", ""},
		{"geo:50.9,6.9", ""},
		{"OBSERVE", ""},
	}
	for _, tt := range tests {
		got, ok := digitalLink(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("digitalLink(%q) = %q, %v, want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestPreHashRejects(t *testing.T) {
	tests := []struct {
		name, event string
		want        error
	}{
		{"array", `[]`, ErrNotObject},
		{"string", `"ObjectEvent"`, ErrNotObject},
		{"no type", `{"eventTime": "2020-01-01T00:00:00Z"}`, ErrNoType},
		{"type not a string", `{"type": 5}`, ErrNoType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := HashID(json.RawMessage(tt.event), nil); !errors.Is(err, tt.want) {
				t.Errorf("HashID = %v, want %v", err, tt.want)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{} {}`, `{"type": "ObjectEvent"} x`, `{"type": "ObjectEvent"}]`} {
		if _, err := HashID(json.RawMessage(bad), nil); err == nil {
			t.Errorf("HashID(%q) accepted malformed JSON", bad)
		}
	}
}

// What the hash must not depend on: key order, recordTime, eventID,
// errorDeclaration, list order, the spelling of EPCs, CBV values and times.
func TestHashIDIgnoresPresentation(t *testing.T) {
	base := `{"type":"ObjectEvent","eventTime":"2020-03-04T11:00:30.000+01:00","eventTimeZoneOffset":"+01:00",
		"epcList":["urn:epc:id:sgtin:4012345.011111.9876","urn:epc:id:sgtin:4012345.011111.5432"],
		"action":"OBSERVE","bizStep":"shipping","quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.998877","quantity":200}]}`
	same := []string{
		`{"action":"OBSERVE","bizStep":"urn:epcglobal:cbv:bizstep:shipping","type":"ObjectEvent",
		"eventTimeZoneOffset":"+01:00","eventTime":"2020-03-04T10:00:30Z","recordTime":"2021-01-01T00:00:00Z",
		"eventID":"urn:uuid:1","epcList":["https://id.gs1.org/01/04012345111118/21/5432","urn:epc:id:sgtin:4012345.011111.9876"],
		"quantityList":[{"epcClass":"https://id.gs1.org/01/04012345123456/10/998877","quantity":200.0}],
		"errorDeclaration":{"declarationTime":"2021-01-01T00:00:00Z"}}`,
		`{"type":"ObjectEvent","eventTime":"2020-03-04T11:00:30.0004+01:00","eventTimeZoneOffset":"+01:00",
		"epcList":["urn:epc:id:sgtin:4012345.011111.5432","urn:epc:id:sgtin:4012345.011111.9876"],
		"action":"OBSERVE","bizStep":"https://ref.gs1.org/cbv/BizStep-shipping",
		"quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.998877","quantity":"200"}]}`,
	}
	want, err := HashID(json.RawMessage(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(want, "ni:///sha-256;") || !strings.HasSuffix(want, "?ver=CBV2.0") || len(want) != len("ni:///sha-256;?ver=CBV2.0")+64 {
		t.Fatalf("HashID = %q, not an ni URI of a SHA-256", want)
	}
	for i, ev := range same {
		if got, err := HashID(json.RawMessage(ev), nil); err != nil || got != want {
			pre, _ := PreHash(json.RawMessage(ev), nil)
			basePre, _ := PreHash(json.RawMessage(base), nil)
			t.Errorf("variant %d: HashID = %s, %v; want %s\nours: %s\nbase: %s", i, got, err, want, pre, basePre)
		}
	}
	different := strings.Replace(base, `"quantity":200`, `"quantity":201`, 1)
	if got, _ := HashID(json.RawMessage(different), nil); got == want {
		t.Error("a different quantity gave the same hash ID")
	}
}

func TestContextPrefixes(t *testing.T) {
	got, err := ContextPrefixes(json.RawMessage(`["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
		{"example": "http://ns.example.com/epcis/"}, {"n": 5}, {}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["example"] != "http://ns.example.com/epcis/" {
		t.Errorf("ContextPrefixes = %v", got)
	}
	if _, err := ContextPrefixes(json.RawMessage(`[`)); err == nil {
		t.Error("ContextPrefixes accepted malformed JSON")
	}
}
