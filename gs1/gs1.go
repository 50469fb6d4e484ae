// Package gs1 holds the GS1 rules batchtrack relies on: check digits for
// GTINs and GLNs, the AI (10) lot character set, Digital Link URIs and the
// Core Business Vocabulary 2.0.
package gs1

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

var (
	ErrDigits     = errors.New("must contain digits only")
	ErrLength     = errors.New("must have 8, 12, 13 or 14 digits")
	ErrGLNLength  = errors.New("must have 13 digits")
	ErrCheckDigit = errors.New("has a wrong check digit")
	ErrLot        = errors.New("must be 1 to 20 characters of the GS1 AI character set (letters, digits and !\"%&'()*+,-./:;<=>?_, no spaces)")
)

// CheckDigit computes the GS1 mod-10 check digit for the digits before it.
func CheckDigit(body string) byte {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

func validDigits(s string) error {
	if s == "" {
		return ErrDigits
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ErrDigits
		}
	}
	if CheckDigit(s[:len(s)-1]) != s[len(s)-1] {
		return ErrCheckDigit
	}
	return nil
}

// ValidCheckDigit says whether s is digits ending in their GS1 mod-10
// check digit (GTIN, GLN, SSCC and the other keys that carry one).
func ValidCheckDigit(s string) bool { return validDigits(s) == nil }

// NormalizeGTIN validates a GTIN-8, -12, -13 or -14 and returns it as 14
// digits, left-padded with zeros.
func NormalizeGTIN(s string) (string, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", ErrDigits
		}
	}
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return "", ErrLength
	}
	if err := validDigits(s); err != nil {
		return "", err
	}
	return strings.Repeat("0", 14-len(s)) + s, nil
}

// ValidateGLN checks a 13-digit GLN and its check digit.
func ValidateGLN(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ErrDigits
		}
	}
	if len(s) != 13 {
		return ErrGLNLength
	}
	return validDigits(s)
}

// cset82 is GS1 AI encodable character set 82.
const cset82 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!\"%&'()*+,-./:;<=>?_"

// IsCSET82 says whether every character of s is in character set 82.
func IsCSET82(s string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(cset82, rune(s[i])) {
			return false
		}
	}
	return true
}

// ValidateLot checks a batch/lot number against AI (10): 1 to 20
// characters of GS1 AI encodable character set 82.
func ValidateLot(s string) error {
	if len(s) < 1 || len(s) > 20 || !IsCSET82(s) {
		return ErrLot
	}
	return nil
}

// EscapeDigitalLink percent-encodes an AI value for a Digital Link the
// canonical way GS1's Syntax Engine does: everything but A-Z a-z 0-9 and
// "-._~" as %XX in upper case; a space is %20 in the path and + in the
// query string.
func EscapeDigitalLink(s string, inQuery bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == ' ' && inQuery:
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// DigitalLink is the GS1 Digital Link URI of a lot:
// {base}/01/{gtin14}/10/{lot}[?17=YYMMDD].
func DigitalLink(base, gtin14, lot string, expiry *time.Time) string {
	u := strings.TrimRight(base, "/") + "/01/" + gtin14 + "/10/" + EscapeDigitalLink(lot, false)
	if expiry != nil {
		u += "?17=" + expiry.Format("060102")
	}
	return u
}

// ParseDigitalLinkPath reads the GTIN and lot from a Digital Link path
// "/01/{gtin}/10/{lot}" (the lot still percent-encoded or not).
func ParseDigitalLinkPath(gtin, lot string) (string, string, error) {
	g, err := NormalizeGTIN(gtin)
	if err != nil {
		return "", "", err
	}
	l, err := url.PathUnescape(lot)
	if err != nil {
		return "", "", ErrLot
	}
	if err := ValidateLot(l); err != nil {
		return "", "", err
	}
	return g, l, nil
}

// CheckDigitalLinkQuery checks the query string of a Digital Link: every
// numeric key is a GS1 Application Identifier that may appear once, with
// a value of character set 82 (an expiry date, AI 17, as YYMMDD). Other
// keys (linkType, context...) are the resolver's and pass as they are.
func CheckDigitalLinkQuery(rawQuery string) error {
	seen := map[string]bool{}
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		if key == "" || strings.Trim(key, "0123456789") != "" {
			continue
		}
		if seen[key] {
			return fmt.Errorf("AI (%s) appears more than once", key)
		}
		seen[key] = true
		v, err := url.QueryUnescape(value)
		if err != nil || v == "" || !IsCSET82(v) {
			return fmt.Errorf("AI (%s) must be characters of the GS1 AI character set, no spaces", key)
		}
		if key == "17" {
			if len(v) == 6 && v[4:] == "00" {
				v = v[:4] + "01" // day 00: the end of the month
			}
			if _, err := time.Parse("060102", v); err != nil {
				return fmt.Errorf("AI (17) must be a date as YYMMDD")
			}
		}
	}
	return nil
}

// SGLN is the EPC URI of a location given its GLN, with extension 0:
// urn:epc:id:sgln:{company prefix}.{location ref}.0. Without the company
// prefix length we cannot split the GLN, so the GS1 Digital Link form
// (https://id.gs1.org/414/{gln}) is what exports use instead.
func GLNDigitalLink(gln string) string { return "https://id.gs1.org/414/" + gln }

// Unit is a unit of measure. batchtrack stores its UN/ECE Recommendation 20
// common code, the vocabulary EPCIS quantity lists use; people and the
// API's unit_of_measure field see its short name.
type Unit struct {
	Code  string // Rec 20 common code: "KGM"
	Name  string // short name: "kg"
	Title string // Rec 20 name: "kilogram"
	// Dimension and Base say how to compare it: mass in kg, volume in L,
	// count in pieces, length in m (1 g is mass 0.001).
	Dimension string
	Base      float64
}

// units are the units a batch or product may have, in display order; the
// first six were batchtrack's unit names before it stored Rec 20 codes.
var units = []Unit{
	{"H87", "unit", "piece", "count", 1},
	{"KGM", "kg", "kilogram", "mass", 1},
	{"GRM", "g", "gram", "mass", 0.001},
	{"LTR", "L", "litre", "volume", 1},
	{"MLT", "mL", "millilitre", "volume", 0.001},
	{"MTR", "m", "metre", "length", 1},
	{"TNE", "t", "tonne (metric ton)", "mass", 1000},
	{"LBR", "lb", "pound", "mass", 0.45359237},
	{"ONZ", "oz", "ounce (avoirdupois)", "mass", 0.028349523125},
	{"DZN", "dozen", "dozen", "count", 12},
}

// Units lists the units of measure a batch or product may have.
func Units() []Unit { return slices.Clone(units) }

// UnitCodes lists the Rec 20 codes of Units, in the same order.
func UnitCodes() []string {
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = u.Code
	}
	return out
}

// LookupUnit finds a unit by its Rec 20 code ("KGM") or its name ("kg").
func LookupUnit(s string) (Unit, bool) {
	for _, u := range units {
		if u.Code == s || u.Name == s {
			return u, true
		}
	}
	return Unit{}, false
}

// UnitName shows a Rec 20 code as people read it ("KGM" -> "kg"); a code
// batchtrack does not know is shown as it is.
func UnitName(code string) string {
	if u, ok := LookupUnit(code); ok {
		return u.Name
	}
	return code
}

// UNECECode returns the Rec 20 code of a unit given by name or code
// ("kg" -> "KGM", "KGM" -> "KGM").
func UNECECode(unit string) (string, bool) {
	u, ok := LookupUnit(unit)
	return u.Code, ok
}

// UnitForCode maps a Rec 20 code or a unit name to the unit's name.
func UnitForCode(s string) (string, bool) {
	u, ok := LookupUnit(s)
	return u.Name, ok
}

// EventTypes are the EPCIS 2.0 event types.
var EventTypes = []string{"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}

// Actions are the EPCIS actions; TransformationEvent has none.
var Actions = []string{"ADD", "OBSERVE", "DELETE"}

// BizSteps are the CBV 2.0 business steps.
var BizSteps = []string{
	"accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
	"creating_class_instance", "cycle_counting", "decommissioning", "departing",
	"destroying", "disassembling", "dispensing", "encoding", "entering_exiting", "holding",
	"inspecting", "installing", "killing", "loading", "other", "packing", "picking", "receiving",
	"removing", "repackaging", "repairing", "replacing", "reserving", "retail_selling",
	"shipping", "staging_outbound", "stock_taking", "stocking", "storing", "transporting",
	"unloading", "unpacking", "void_shipping", "sensor_reporting", "sampling",
}

// Dispositions are the CBV 2.0 dispositions.
var Dispositions = []string{
	"active", "container_closed", "damaged", "destroyed", "dispensed", "disposed", "encoded",
	"expired", "in_progress", "in_transit", "inactive", "no_pedigree_match",
	"non_sellable_other", "partially_dispensed", "recalled", "reserved", "retail_sold",
	"returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unknown",
	"available", "completeness_verified", "completeness_inferred", "conformant",
	"container_open", "mismatch_instance", "mismatch_class", "mismatch_quantity",
	"needs_replacement", "non_conformant", "unavailable",
}

// Vocabulary is one CBV 2.0 vocabulary: its values and the two URI forms
// that name them (the EPC URN and the GS1 web URI).
type Vocabulary struct {
	Name    string // "business step"
	Example string // "shipping or receiving"
	Values  []string
	URN     string // "urn:epcglobal:cbv:bizstep:"
	WebURI  string // "https://ref.gs1.org/cbv/BizStep-"
}

var (
	BizStepVocabulary = Vocabulary{Name: "business step", Example: "shipping or receiving", Values: BizSteps,
		URN: "urn:epcglobal:cbv:bizstep:", WebURI: "https://ref.gs1.org/cbv/BizStep-"}
	DispositionVocabulary = Vocabulary{Name: "disposition", Example: "in_transit or active", Values: Dispositions,
		URN: "urn:epcglobal:cbv:disp:", WebURI: "https://ref.gs1.org/cbv/Disp-"}
)

// BizTransactionTypes are the CBV 2.0 business transaction types.
var BizTransactionTypes = []string{
	"bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma",
	"testprd", "testres", "upevt",
}

// SourceDestTypes are the CBV 2.0 source/destination types.
var SourceDestTypes = []string{"owning_party", "possessing_party", "location"}

// ErrorReasons are the CBV 2.0 error declaration reasons.
var ErrorReasons = []string{"did_not_occur", "incorrect_data"}

var (
	BizTransactionTypeVocabulary = Vocabulary{Name: "business transaction type", Example: "po or desadv", Values: BizTransactionTypes,
		URN: "urn:epcglobal:cbv:btt:", WebURI: "https://ref.gs1.org/cbv/BTT-"}
	SourceDestTypeVocabulary = Vocabulary{Name: "source/destination type", Example: "owning_party or location", Values: SourceDestTypes,
		URN: "urn:epcglobal:cbv:sdt:", WebURI: "https://ref.gs1.org/cbv/SDT-"}
	ErrorReasonVocabulary = Vocabulary{Name: "error reason", Example: "did_not_occur or incorrect_data", Values: ErrorReasons,
		URN: "urn:epcglobal:cbv:er:", WebURI: "https://ref.gs1.org/cbv/ER-"}
)

// The CBV's own namespaces: a URI in them must be a CBV value.
// ns.gs1.org/cbv/ is the namespace the EPCIS 2.0 JSON schema reserves.
var cbvNamespaces = []string{"urn:epcglobal:cbv:", "https://ref.gs1.org/cbv/", "http://ref.gs1.org/cbv/",
	"https://ns.gs1.org/cbv/", "http://ns.gs1.org/cbv/"}

// InCBVNamespace says whether v is a URI in one of the CBV's namespaces.
func InCBVNamespace(v string) bool {
	for _, ns := range cbvNamespaces {
		if strings.HasPrefix(v, ns) {
			return true
		}
	}
	return false
}

// Normalize returns v in the form batchtrack stores: a CBV value bare
// ("receiving"), whether it came bare, as a URN or as a GS1 web URI; an
// extension as the absolute URI it is. A URI in a CBV namespace that is
// not a value of this vocabulary ("urn:epcglobal:cbv:bizstep:teleporting")
// is refused, as is anything that is neither.
func (voc Vocabulary) Normalize(v string) (string, error) {
	if slices.Contains(voc.Values, v) {
		return v, nil
	}
	for _, prefix := range []string{voc.URN, voc.WebURI} {
		if bare, ok := strings.CutPrefix(v, prefix); ok && slices.Contains(voc.Values, bare) {
			return bare, nil
		}
	}
	if InCBVNamespace(v) {
		return "", fmt.Errorf("is in the CBV's namespace but is not a CBV 2.0 %s", voc.Name)
	}
	if !ValidVocabulary(nil, v) {
		return "", fmt.Errorf("must be a CBV 2.0 %s (such as %s) or an absolute URI naming an extension", voc.Name, voc.Example)
	}
	return v, nil
}

// ValidVocabulary reports whether v is a CBV value from list or an
// absolute URI naming a documented extension.
func ValidVocabulary(list []string, v string) bool {
	if slices.Contains(list, v) {
		return true
	}
	u, err := url.Parse(v)
	return err == nil && u.IsAbs() && (u.Host != "" || u.Scheme == "urn") && !strings.ContainsAny(v, " \t\r\n")
}
