package gs1

import (
	"errors"
	"testing"
	"time"
)

func TestNormalizeGTIN(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"4006381333931", "04006381333931", nil},
		{"0614141000012", "00614141000012", nil},
		{"00614141000012", "00614141000012", nil},
		{"96385074", "00000096385074", nil},
		{"036000291452", "00036000291452", nil},
		{"4006381333932", "", ErrCheckDigit},
		{"400638133393", "", ErrCheckDigit},
		{"12345", "", ErrLength},
		{"40063813339a1", "", ErrDigits},
		{"", "", ErrLength},
	}
	for _, tt := range tests {
		got, err := NormalizeGTIN(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("NormalizeGTIN(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestValidateGLN(t *testing.T) {
	for in, want := range map[string]error{
		"0614141000012": nil, "4006381333931": nil, "0614141000013": ErrCheckDigit,
		"061414100001": ErrGLNLength, "06141410000a2": ErrDigits,
	} {
		if err := ValidateGLN(in); !errors.Is(err, want) {
			t.Errorf("ValidateGLN(%q) = %v, want %v", in, err, want)
		}
	}
}

func TestValidateLot(t *testing.T) {
	for in, ok := range map[string]bool{
		"LOT-2026/01": true, "A": true, `a!"%&'()*+,-./:;<=>?_`[:20]: true,
		"": false, "has space": false, "123456789012345678901": false, "lot#1": false, "é": false,
	} {
		if err := ValidateLot(in); (err == nil) != ok {
			t.Errorf("ValidateLot(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestDigitalLink(t *testing.T) {
	exp := time.Date(2027, 3, 9, 0, 0, 0, 0, time.UTC)
	got := DigitalLink("http://127.0.0.1:3000/", "04006381333931", "LOT 1/A", &exp)
	want := "http://127.0.0.1:3000/01/04006381333931/10/LOT%201%2FA?17=270309"
	if got != want {
		t.Errorf("DigitalLink = %q, want %q", got, want)
	}
	g, l, err := ParseDigitalLinkPath("4006381333931", "LOT%2F1")
	if err != nil || g != "04006381333931" || l != "LOT/1" {
		t.Errorf("ParseDigitalLinkPath = %q %q %v", g, l, err)
	}
}

func TestValidVocabulary(t *testing.T) {
	for v, ok := range map[string]bool{
		"shipping": true, "transforming": false, "https://example.com/voc/bizstep/cooling": true,
		"urn:example:bizstep:cooling": true, "cooling": false, "": false, "http://": false,
	} {
		if got := ValidVocabulary(BizSteps, v); got != ok {
			t.Errorf("ValidVocabulary(%q) = %v, want %v", v, got, ok)
		}
	}
}

// Units are found by Rec 20 code or by name; the old helpers answer for
// both forms.
func TestUnits(t *testing.T) {
	for _, tc := range []struct{ in, code, name string }{
		{"KGM", "KGM", "kg"}, {"kg", "KGM", "kg"}, {"H87", "H87", "unit"}, {"unit", "H87", "unit"},
		{"g", "GRM", "g"}, {"L", "LTR", "L"}, {"mL", "MLT", "mL"}, {"m", "MTR", "m"}, {"TNE", "TNE", "t"},
		{"LBR", "LBR", "lb"}, {"ONZ", "ONZ", "oz"}, {"DZN", "DZN", "dozen"},
	} {
		u, ok := LookupUnit(tc.in)
		if !ok || u.Code != tc.code || u.Name != tc.name {
			t.Errorf("LookupUnit(%q) = %+v, %v", tc.in, u, ok)
		}
		if c, ok := UNECECode(tc.in); !ok || c != tc.code {
			t.Errorf("UNECECode(%q) = %q, %v", tc.in, c, ok)
		}
		if n, ok := UnitForCode(tc.in); !ok || n != tc.name {
			t.Errorf("UnitForCode(%q) = %q, %v", tc.in, n, ok)
		}
	}
	for _, s := range []string{"", "KG", "kilo", "kgm", "XCS"} {
		if u, ok := LookupUnit(s); ok {
			t.Errorf("LookupUnit(%q) = %+v, want none", s, u)
		}
	}
	if UnitName("ZZZ") != "ZZZ" || UnitName("MLT") != "mL" {
		t.Errorf("UnitName: %q %q", UnitName("ZZZ"), UnitName("MLT"))
	}
	if len(UnitCodes()) != len(Units()) {
		t.Error("UnitCodes and Units differ in length")
	}
}
