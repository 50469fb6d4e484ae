package epcis

import (
	"strings"
	"testing"
)

// hashVectorEvent is the event of the reference implementation's
// epcisDocWithSingleEvent test, whose hash is hashVector.
const hashVectorEvent = `{"@context": "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
	"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
	"epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
	"eventTime": "2022-02-16T20:33:31.116000-06:00", "eventTimeZoneOffset": "-06:00",
	"readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
	"bizTransactionList": [{"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}]}`

const hashVector = "ni:///sha-256;3e0f2437f4cb5e8a1b832b769c0eed1bf3e1421f14061132e9800ded03f10182?ver=CBV2.0"

func TestHashID(t *testing.T) {
	tests := []struct {
		name     string
		from, to string // a change to the vector's event
		same     bool   // whether the hash stays the reference one
	}{
		{"reference", "", "", true},
		{"eventID and recordTime do not count", `"action"`, `"eventID": "urn:uuid:1", "recordTime": "2030-01-01T00:00:00Z", "action"`, true},
		{"Digital Link EPCs", `"urn:epc:id:sgtin:0614141.107346.2017"`, `"https://example.com/01/10614141073464/21/2017?17=300101"`, true},
		{"EPC order does not count", `"urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"`, `"urn:epc:id:sgtin:0614141.107346.2018", "urn:epc:id:sgtin:0614141.107346.2017"`, true},
		{"CBV URN", `"shipping"`, `"urn:epcglobal:cbv:bizstep:shipping"`, true},
		{"CBV web URI", `"in_transit"`, `"https://ref.gs1.org/cbv/Disp-in_transit"`, true},
		{"same instant, other offset", `"2022-02-16T20:33:31.116000-06:00"`, `"2022-02-17T02:33:31.116Z"`, true},
		{"field order does not count", `"action": "OBSERVE", "bizStep": "shipping"`, `"bizStep": "shipping", "action": "OBSERVE"`, true},
		{"another EPC", `"urn:epc:id:sgtin:0614141.107346.2017"`, `"urn:epc:id:sgtin:0614141.107346.2019"`, false},
		{"another time", `31.116000`, `31.117000`, false},
		{"an extension", `"action"`, `"cbvmda:lotNumber": "L1", "action"`, false},
	}
	for _, tt := range tests {
		raw := hashVectorEvent
		if tt.from != "" {
			if !strings.Contains(raw, tt.from) {
				t.Fatalf("%s: %q not in the event", tt.name, tt.from)
			}
			raw = strings.Replace(raw, tt.from, tt.to, 1)
		}
		ev, err := ParseEvent([]byte(raw), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if (ev.HashID == hashVector) != tt.same {
			t.Errorf("%s: HashID %s, reference %s, want same=%v", tt.name, ev.HashID, hashVector, tt.same)
		}
	}
}
