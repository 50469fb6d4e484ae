package eventhash

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkHashIDLargeAggregation hashes a pallet of 10,000 serialised items.
func BenchmarkHashIDLargeAggregation(b *testing.B) {
	epcs := make([]string, 10000)
	for i := range epcs {
		epcs[i] = fmt.Sprintf("%q", fmt.Sprintf("urn:epc:id:sgtin:4012345.011111.%d", i))
	}
	event := json.RawMessage(`{"type":"AggregationEvent","eventTime":"2020-03-04T11:00:30.000+01:00",
		"eventTimeZoneOffset":"+01:00","parentID":"urn:epc:id:sscc:4012345.0000000333","action":"ADD",
		"bizStep":"packing","childEPCs":[` + strings.Join(epcs, ",") + `]}`)
	for b.Loop() {
		if _, err := HashID(event, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashIDDigitalLinkObjectEvent hashes an ObjectEvent whose
// identifiers are canonical Digital Links (what bench/epcisdoc sends).
func BenchmarkHashIDDigitalLinkObjectEvent(b *testing.B) {
	event := json.RawMessage(`{"type":"ObjectEvent","eventTime":"2026-01-01T06:00:00.000Z","eventTimeZoneOffset":"+01:00",
		"action":"OBSERVE","epcList":["https://id.gs1.org/01/04012340001995/21/r10","https://id.gs1.org/01/04012340001995/21/r11"],
		"quantityList":[{"epcClass":"https://id.gs1.org/01/04012340001995/10/Lr100512","quantity":143.5,"uom":"KGM"}],
		"bizStep":"shipping","disposition":"in_transit",
		"readPoint":{"id":"https://id.gs1.org/414/4012340000349"},"bizLocation":{"id":"https://id.gs1.org/414/4012340000349"},
		"bizTransactionList":[{"type":"po","bizTransaction":"urn:epcglobal:cbv:bt:4012345000009:POr10"}],
		"sourceList":[{"type":"owning_party","source":"https://id.gs1.org/417/4012340001186"}],
		"destinationList":[{"type":"owning_party","destination":"https://id.gs1.org/417/4012340002169"}]}`)
	for b.Loop() {
		if _, err := HashID(event, nil); err != nil {
			b.Fatal(err)
		}
	}
}
