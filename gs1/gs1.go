// Package gs1 holds the GS1 rules batchtrack relies on: check digits for
// GTINs and GLNs, the AI (10) lot character set, Digital Link URIs and the
// Core Business Vocabulary 2.0.
package gs1

import (
	"errors"
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

const lotChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!\"%&'()*+,-./:;<=>?_"

// ValidateLot checks a batch/lot number against AI (10): 1 to 20
// characters of GS1 AI encodable character set 82.
func ValidateLot(s string) error {
	if len(s) < 1 || len(s) > 20 {
		return ErrLot
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(lotChars, rune(s[i])) {
			return ErrLot
		}
	}
	return nil
}

// DigitalLink is the GS1 Digital Link URI of a lot:
// {base}/01/{gtin14}/10/{lot}[?17=YYMMDD].
func DigitalLink(base, gtin14, lot string, expiry *time.Time) string {
	u := strings.TrimRight(base, "/") + "/01/" + gtin14 + "/10/" + url.PathEscape(lot)
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

// SGLN is the EPC URI of a location given its GLN, with extension 0:
// urn:epc:id:sgln:{company prefix}.{location ref}.0. Without the company
// prefix length we cannot split the GLN, so the GS1 Digital Link form
// (https://id.gs1.org/414/{gln}) is what exports use instead.
func GLNDigitalLink(gln string) string { return "https://id.gs1.org/414/" + gln }

// Units the batches use, and their UN/ECE Recommendation 20 codes for EPCIS
// quantity lists.
var unitCodes = map[string]string{
	"unit": "H87", "kg": "KGM", "g": "GRM", "L": "LTR", "mL": "MLT", "m": "MTR",
}

// Units lists the units of measure a batch may have, in display order.
func Units() []string { return []string{"unit", "kg", "g", "L", "mL", "m"} }

// UNECECode returns the Rec 20 code of a unit ("kg" -> "KGM").
func UNECECode(unit string) (string, bool) {
	c, ok := unitCodes[unit]
	return c, ok
}

// UnitForCode maps a unit or its Rec 20 code back to the unit.
func UnitForCode(s string) (string, bool) {
	if _, ok := unitCodes[s]; ok {
		return s, true
	}
	for u, c := range unitCodes {
		if c == s {
			return u, true
		}
	}
	return "", false
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

// ValidVocabulary reports whether v is a CBV value from list or an
// absolute URI naming a documented extension.
func ValidVocabulary(list []string, v string) bool {
	if slices.Contains(list, v) {
		return true
	}
	u, err := url.Parse(v)
	return err == nil && u.IsAbs() && (u.Host != "" || u.Scheme == "urn") && !strings.ContainsAny(v, " \t\r\n")
}
