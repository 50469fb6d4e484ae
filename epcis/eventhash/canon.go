package eventhash

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// strip trims what Python's str.strip trims, which includes the ASCII
// separators U+001C to U+001F.
func strip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) })
}

var cbvURNs = strings.NewReplacer(
	"urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-",
	"urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-",
	"urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-",
	"urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-",
	"urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-",
)

// canonicalValue applies the value rules in the reference's order: CBV URNs
// become web URIs, numbers lose redundant digits, GS1 keys become canonical
// Digital Link URIs.
func canonicalValue(text string) string {
	text = cbvURNs.Replace(text)
	if d, ok := parseDecimal(text); ok {
		text = d.canonical()
	}
	if dl, ok := digitalLink(text); ok {
		return dl
	}
	return text
}

// decimal is a number as Python's decimal.Decimal holds it: sign,
// coefficient digits without leading zeros, and exponent.
type decimal struct {
	neg   bool
	coeff string
	exp   int
}

// Exponents beyond this are left as text: the reference would expand them
// into strings of that many zeros.
const maxExponent = 4096

// parseDecimal accepts what decimal.Decimal accepts for finite numbers:
// an optional sign, digits with an optional point and an optional
// exponent, once all underscores are removed.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	s = strings.ReplaceAll(s, "_", "")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	digits := func() string {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return s[start:i]
	}
	intPart := digits()
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		frac = digits()
	}
	if intPart == "" && frac == "" {
		return d, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		neg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			neg = s[i] == '-'
			i++
		}
		e := digits()
		if e == "" {
			return d, false
		}
		n, err := strconv.Atoi(e)
		if err != nil || n > maxExponent {
			return d, false
		}
		if neg {
			n = -n
		}
		d.exp = n
	}
	if i != len(s) {
		return d, false
	}
	d.exp -= len(frac)
	d.coeff = strings.TrimLeft(intPart+frac, "0")
	if d.coeff == "" {
		d.coeff = "0"
	}
	if d.exp < -maxExponent || d.exp > maxExponent {
		return d, false
	}
	return d, true
}

// canonical is the reference's rendering: a whole number as
// str(d.to_integral_value()), any other as format(d.normalize(), 'f').
func (d decimal) canonical() string {
	sign := ""
	if d.neg {
		sign = "-"
	}
	c, e := d.coeff, d.exp
	if e >= 0 {
		if e == 0 {
			return sign + c
		}
		adjusted := e + len(c) - 1
		m := c[:1]
		if len(c) > 1 {
			m += "." + c[1:]
		}
		return sign + m + "E+" + strconv.Itoa(adjusted)
	}
	fracLen := -e
	if fracLen >= len(c) {
		if strings.Trim(c, "0") == "" {
			return sign + "0"
		}
	} else if strings.Trim(c[len(c)-fracLen:], "0") == "" {
		return sign + c[:len(c)-fracLen]
	}
	// not whole: drop trailing zeros and print in fixed notation
	for strings.HasSuffix(c, "0") {
		c = c[:len(c)-1]
		e++
	}
	if -e < len(c) {
		return sign + c[:len(c)+e] + "." + c[len(c)+e:]
	}
	return sign + "0." + strings.Repeat("0", -e-len(c)) + c
}

// pythonInt renders a JSON integer the way Python's str(int) does.
func pythonInt(lit string) string {
	s := strings.TrimPrefix(lit, "-")
	if strings.Trim(s, "0") == "" {
		return "0"
	}
	return lit
}

// pythonFloat renders a float64 the way Python's repr(float) does.
func pythonFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±dd
	sign := ""
	if e[0] == '-' {
		sign, e = "-", e[1:]
	}
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.Replace(mant, ".", "", 1)
	if f == 0 {
		return sign + "0.0"
	}
	if exp >= -4 && exp < 16 {
		if exp < 0 {
			return sign + "0." + strings.Repeat("0", -exp-1) + digits
		}
		if len(digits) <= exp+1 {
			return sign + digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
		}
		return sign + digits[:exp+1] + "." + digits[exp+1:]
	}
	m := digits[:1]
	if len(digits) > 1 {
		m += "." + digits[1:]
	}
	es := "+"
	if exp < 0 {
		es, exp = "-", -exp
	}
	x := strconv.Itoa(exp)
	if len(x) < 2 {
		x = "0" + x
	}
	return sign + m + "e" + es + x
}

// canonicalTime renders an ISO 8601 date-time in UTC at millisecond
// precision, rounding half up; text that is not a date-time is returned as
// it was, as the reference does.
func canonicalTime(text string) string {
	t, ok := parseTime(text)
	if !ok {
		return text
	}
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return text
	}
	return t.Format("2006-01-02T15:04:05.000") + "Z"
}

func parseTime(s string) (time.Time, bool) {
	num := func(s string, n int) (int, bool) {
		if len(s) < n {
			return 0, false
		}
		v := 0
		for i := 0; i < n; i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			v = v*10 + int(s[i]-'0')
		}
		return v, true
	}
	year, ok1 := num(s, 4)
	if !ok1 || len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	month, ok2 := num(s[5:], 2)
	day, ok3 := num(s[8:], 2)
	if !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return time.Time{}, false
	}
	rest := s[10:]
	var hour, minute, sec, micro int
	if rest != "" {
		if rest[0] != 'T' && rest[0] != ' ' {
			return time.Time{}, false
		}
		rest = rest[1:]
		var ok bool
		if hour, ok = num(rest, 2); !ok || hour > 23 {
			return time.Time{}, false
		}
		rest = rest[2:]
		if len(rest) < 3 || rest[0] != ':' {
			return time.Time{}, false
		}
		if minute, ok = num(rest[1:], 2); !ok || minute > 59 {
			return time.Time{}, false
		}
		rest = rest[3:]
		if len(rest) >= 3 && rest[0] == ':' {
			if sec, ok = num(rest[1:], 2); !ok || sec > 59 {
				return time.Time{}, false
			}
			rest = rest[3:]
			if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') {
				j := 1
				for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
					j++
				}
				if j == 1 {
					return time.Time{}, false
				}
				// Python's dateutil keeps microseconds, truncating the rest.
				f := (rest[1:j] + "000000")[:6]
				micro, _ = strconv.Atoi(f)
				rest = rest[j:]
			}
		}
	}
	loc := time.UTC
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case rest[0] == '+' || rest[0] == '-':
		off := strings.Replace(rest[1:], ":", "", 1)
		h, ok := num(off, 2)
		if !ok || (len(off) != 2 && len(off) != 4) {
			return time.Time{}, false
		}
		m := 0
		if len(off) == 4 {
			if m, ok = num(off[2:], 2); !ok {
				return time.Time{}, false
			}
		}
		secs := h*3600 + m*60
		if secs >= 24*3600 {
			return time.Time{}, false
		}
		if rest[0] == '-' {
			secs = -secs
		}
		loc = time.FixedZone("", secs)
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc)
	millis := (micro + 500) / 1000
	return t.Add(time.Duration(millis) * time.Millisecond), true
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
