package loadtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Quantity is an exact decimal amount in thousandths: the API allows at most
// three fractional digits, and a ledger check done in floating point could
// hide (or invent) a lost thousandth.
type Quantity int64

// maxQuantityThousandths is 999 999 999 999.999, the API's upper bound.
const maxQuantityThousandths = 999_999_999_999_999

// ParseQuantity parses a decimal string such as "12", "-0.5" or "12.125".
// Exponents, more than three decimals and values beyond the API's range are
// rejected.
func ParseQuantity(s string) (Quantity, error) {
	orig := s
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") || len(frac) > 3 || !allDigits(intPart) || !allDigits(frac) {
		return 0, fmt.Errorf("quantity %q: want a decimal with at most 3 fractional digits", orig)
	}
	if len(strings.TrimLeft(intPart, "0")) > 12 {
		return 0, fmt.Errorf("quantity %q: out of range", orig)
	}
	whole, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("quantity %q: %w", orig, err)
	}
	frac += strings.Repeat("0", 3-len(frac))
	thousandths, _ := strconv.ParseInt(frac, 10, 64)
	v := whole*1000 + thousandths
	if v > maxQuantityThousandths {
		return 0, fmt.Errorf("quantity %q: out of range", orig)
	}
	if neg {
		v = -v
	}
	return Quantity(v), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats q with the fewest fractional digits that keep it exact.
func (q Quantity) String() string {
	v := int64(q)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	s := fmt.Sprintf("%s%d.%03d", sign, v/1000, v%1000)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// MarshalJSON writes q as a decimal string, the API's output form.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return json.Marshal(q.String())
}

// UnmarshalJSON accepts a decimal string or a bare JSON number, as the API's
// input rules do; the digits are parsed directly, never through float64.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := ParseQuantity(s)
	if err != nil {
		return err
	}
	*q = v
	return nil
}
