// Package quantity is the exact decimal used for every amount and balance:
// an integer count of thousandths, so no floating point ever touches a
// quantity on its way between a client and PostgreSQL's numeric(15,3).
package quantity

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
)

// Quantity is a decimal with exactly three fractional digits, stored as
// thousandths. The zero value is 0.
type Quantity int64

const (
	scale = 1000
	// Max is 999 999 999 999.999, the largest value numeric(15,3) holds.
	Max Quantity = 999_999_999_999_999
)

// ErrSyntax and its siblings let callers word the message for the field.
var (
	ErrSyntax    = errors.New("must be a decimal number such as 12 or 12.5")
	ErrPrecision = errors.New("must have at most 3 decimal places")
	ErrRange     = errors.New("must be at most 999999999999.999")
)

// Parse reads a plain decimal: an optional sign, digits, an optional point
// and at most three fractional digits. Exponents, hex, NaN, Infinity,
// spaces and empty strings are refused.
func Parse(s string) (Quantity, error) {
	if s == "" {
		return 0, ErrSyntax
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	intPart, fracPart, hasPoint := strings.Cut(s, ".")
	if intPart == "" && fracPart == "" {
		return 0, ErrSyntax
	}
	if hasPoint && fracPart == "" {
		return 0, ErrSyntax
	}
	if intPart == "" {
		intPart = "0"
	}
	if !allDigits(intPart) || !allDigits(fracPart) {
		return 0, ErrSyntax
	}
	fracPart = strings.TrimRight(fracPart, "0")
	if len(fracPart) > 3 {
		return 0, ErrPrecision
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 12 {
		return 0, ErrRange
	}
	var whole int64
	if intPart != "" {
		whole, _ = strconv.ParseInt(intPart, 10, 64)
	}
	frac := int64(0)
	if fracPart != "" {
		f, _ := strconv.ParseInt(fracPart, 10, 64)
		for i := len(fracPart); i < 3; i++ {
			f *= 10
		}
		frac = f
	}
	q := Quantity(whole*scale + frac)
	if neg {
		q = -q
	}
	return q, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MustParse is Parse for constants in tests and seed data.
func MustParse(s string) Quantity {
	q, err := Parse(s)
	if err != nil {
		panic(fmt.Sprintf("quantity %q: %v", s, err))
	}
	return q
}

// FromUnits is n whole units.
func FromUnits(n int64) Quantity { return Quantity(n * scale) }

// String is the canonical decimal form: no trailing fractional zeros, no
// exponent ("12", "12.5", "0.125", "-3").
func (q Quantity) String() string {
	var b [24]byte
	return string(q.appendTo(b[:0]))
}

func (q Quantity) appendTo(b []byte) []byte {
	v := int64(q)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/scale, 10)
	if frac := v % scale; frac != 0 {
		b = append(b, '.')
		d := strconv.AppendInt(nil, frac+scale, 10)[1:] // zero-padded to 3
		b = append(b, bytes.TrimRight(d, "0")...)
	}
	return b
}

// MarshalJSON writes the quantity as a decimal string, as the API promises.
func (q Quantity) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b = q.appendTo(b)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts a JSON number or a decimal string; null leaves
// the value alone, as it does for the standard types.
func (q *Quantity) UnmarshalJSON(data []byte) error {
	s := string(data)
	if s == "null" {
		return nil
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// ScanNumeric lets pgx scan a numeric column straight into a Quantity.
func (q *Quantity) ScanNumeric(n pgtype.Numeric) error {
	if !n.Valid || n.NaN || n.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("quantity: cannot scan %v", n)
	}
	v := new(big.Int).Set(n.Int)
	exp := n.Exp + 3
	switch {
	case exp > 0:
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil))
	case exp < 0:
		d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-exp)), nil)
		var r big.Int
		v.QuoRem(v, d, &r)
		if r.Sign() != 0 {
			return fmt.Errorf("quantity: %v has more than 3 decimals", n)
		}
	}
	if !v.IsInt64() {
		return fmt.Errorf("quantity: %v out of range", n)
	}
	*q = Quantity(v.Int64())
	return nil
}

// NumericValue lets pgx send a Quantity as an exact numeric.
func (q Quantity) NumericValue() (pgtype.Numeric, error) {
	return pgtype.Numeric{Int: big.NewInt(int64(q)), Exp: -3, Valid: true}, nil
}

// Milli is the number of thousandths.
func (q Quantity) Milli() int64 { return int64(q) }

// Ratio is q/of as a fraction in [0, 1] for progress bars; 0 when of <= 0.
func (q Quantity) Ratio(of Quantity) float64 {
	if of <= 0 {
		return 0
	}
	r := float64(q) / float64(of)
	return min(max(r, 0), 1)
}
