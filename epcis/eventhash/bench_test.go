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
