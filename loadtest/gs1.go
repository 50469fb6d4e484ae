package loadtest

import (
	"fmt"
	"strings"
)

// gs1CheckDigit computes the GS1 mod-10 check digit for the data digits of
// a GTIN or GLN: from the right, weights 3,1,3,1...
func gs1CheckDigit(data string) byte {
	sum := 0
	for i := 0; i < len(data); i++ {
		d := int(data[len(data)-1-i] - '0')
		if i%2 == 0 {
			sum += 3 * d
		} else {
			sum += d
		}
	}
	return byte('0' + (10-sum%10)%10)
}

// withCheckDigit appends the check digit to data (digits only).
func withCheckDigit(data string) string {
	return data + string(gs1CheckDigit(data))
}

// validGS1 reports whether code ends in the right check digit.
func validGS1(code string) bool {
	if len(code) < 2 || !allDigits(code) {
		return false
	}
	return gs1CheckDigit(code[:len(code)-1]) == code[len(code)-1]
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
