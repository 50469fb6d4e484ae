package eventhash

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzHashID checks that no input panics and that any accepted event has a
// well-formed, deterministic hash ID.
func FuzzHashID(f *testing.F) {
	for _, name := range referenceDocs {
		for _, event := range loadReference(f, name).events {
			f.Add([]byte(event))
		}
	}
	f.Add([]byte(`{"type":"ObjectEvent","quantity":1e400,"x":null,"ext:y":[[1,[true]]],"@xmlns:ext":"http://e/"}`))
	f.Add([]byte(`{"type":"ObjectEvent","bizTransactionList":[{"bizTransaction":"x"},{"type":"po"},"s",[]],"readPoint":"urn:epc:id:sgln:4012345.00011.0"}`))
	ctx := map[string]string{"ext": "http://ns.example.com/ext/", "example": "https://ns.example.com/epcis/"}
	f.Fuzz(func(t *testing.T, event []byte) {
		id, err := HashID(json.RawMessage(event), ctx)
		if err != nil {
			return
		}
		if !strings.HasPrefix(id, "ni:///sha-256;") || !strings.HasSuffix(id, "?ver=CBV2.0") {
			t.Fatalf("HashID = %q", id)
		}
		again, err := HashID(json.RawMessage(event), ctx)
		if err != nil || again != id {
			t.Fatalf("HashID not deterministic: %q then %q, %v", id, again, err)
		}
	})
}

// FuzzCanonicalValue drives the value rules (numbers, times, EPC and
// Digital Link URIs) with arbitrary strings.
func FuzzCanonicalValue(f *testing.F) {
	for _, s := range []string{"200.0", "1e-5", "urn:epc:id:sgtin:4012345.011111.98%22", "https://example.com/gtin/09780345418913/22/x/10/a/21/b?q",
		"https://id.gs1.org/01/09780345418913/22/", "2023-02-02T11:04:03.1415+01:00", "urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		canonicalValue(s)
		canonicalTime(s)
	})
}
