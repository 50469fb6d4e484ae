package loadtest

import (
	"strings"
	"testing"

	"batchtrack/gs1"
)

func TestRunIdentifiers(t *testing.T) {
	seen := map[string]bool{}
	for _, nonce := range []uint64{0, 1000, 1 << 40, 1 << 62} {
		for attempt := range 3 {
			gtin, gln := runGTIN(nonce, attempt), runGLN(nonce, attempt)
			if len(gtin) != 14 || !validGTIN(gtin) {
				t.Errorf("GTIN %q: want 14 digits with a valid check digit", gtin)
			}
			if len(gln) != 13 || gs1.ValidateGLN(gln) != nil {
				t.Errorf("GLN %q: want 13 digits with a valid check digit", gln)
			}
			if seen[gtin] || seen[gln] {
				t.Errorf("repeated identifier %s / %s", gtin, gln)
			}
			seen[gtin], seen[gln] = true, true
		}
	}
	lot := lotNumber(newRunID(), "W", 999_999_999)
	if len(lot) > 20 || strings.ContainsAny(lot, " ") {
		t.Errorf("lot %q: want at most 20 characters of the AI 82 set", lot)
	}
}

func validGTIN(s string) bool {
	_, err := gs1.NormalizeGTIN(s)
	return err == nil
}
