package loadtest

import (
	"fmt"
	"strings"

	"batchtrack/gs1"
)

// withCheckDigit appends the GS1 check digit to data (digits only).
func withCheckDigit(data string) string {
	return data + string(gs1.CheckDigit(data))
}

// runGTIN builds a GTIN-14 unique to a run from a numeric nonce; the leading
// indicator digit 1 keeps it clear of the demo data's GTIN-13s.
func runGTIN(nonce uint64, attempt int) string {
	return withCheckDigit(fmt.Sprintf("1%012d", (nonce+uint64(attempt))%1_000_000_000_000))
}

// runGLN builds a GLN-13 unique to a run; the leading 9 keeps it apart
// from real company prefixes in the demo data.
func runGLN(nonce uint64, attempt int) string {
	return withCheckDigit(fmt.Sprintf("9%011d", (nonce+uint64(attempt))%100_000_000_000))
}

// lotNumber builds a batch number unique to a run; with an 8-character run
// id it stays within AI (10)'s 20 characters for n below 10^9.
func lotNumber(runID string, kind string, n int) string {
	return strings.ToUpper(fmt.Sprintf("LT%s%s%d", runID, kind, n))
}
