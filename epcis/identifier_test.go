package epcis

import "testing"

func TestKey(t *testing.T) {
	tests := []struct{ in, want string }{
		// TDS 2.0: the first digit of "107346" is the GTIN's indicator digit.
		{"urn:epc:id:sgtin:0614141.107346.2017", "01/10614141073464/21/2017"},
		{"https://id.gs1.org/01/10614141073464/21/2017", "01/10614141073464/21/2017"},
		{"urn:epc:id:sgtin:0614141.012345.62852", "01/00614141123452/21/62852"},
		{"https://id.gs1.org/01/00614141073467/21/2017", "01/00614141073467/21/2017"},
		{"https://example.com/01/00614141073467/21/2017?17=201225", "01/00614141073467/21/2017"},
		{"https://example.com/some/prefix/01/614141073467/21/2017", "01/00614141073467/21/2017"},
		{"https://id.gs1.org/01/00614141073467/21/2017/10/LOT", "01/00614141073467/10/LOT/21/2017"},
		{"urn:epc:id:sgtin:4012345.011111.A%2FB", "01/04012345111118/21/A%2FB"},
		{"https://id.gs1.org/01/04012345111118/21/A%2fB", "01/04012345111118/21/A%2FB"},
		{"urn:epc:class:lgtin:4012345.012345.998877", "01/04012345123456/10/998877"},
		{"urn:epc:idpat:sgtin:4012345.012345.*", "01/04012345123456"},
		{"urn:epc:id:sgln:0012345.11111.400", "414/0012345111112/254/400"},
		{"urn:epc:id:sgln:0012345.11111.0", "414/0012345111112"},
		{"https://id.gs1.org/414/0012345111112/254/400", "414/0012345111112/254/400"},
		{"https://id.gs1.org/414/0012345111118", "https://id.gs1.org/414/0012345111118"}, // bad check digit
		{"urn:epc:id:pgln:4012345.00225", "417/4012345002256"},
		{"urn:epc:id:sscc:0614141.1234567890", "00/106141412345678908"},
		{"urn:epc:id:grai:0614141.12345.400", "8003/00614141123452400"},
		{"urn:epc:id:giai:0614141.12345400", "8004/061414112345400"},
		{"urn:epc:id:gdti:0614141.12345.400", "253/0614141123452400"},
		{"urn:epc:id:gsrn:0614141.1234567890", "8018/061414112345678902"},
		{"urn:epc:id:sgcn:4012345.67890.04711", "255/401234567890104711"},
		{"urn:epc:id:cpi:0614141.123ABC.123456789", "8010/0614141123ABC/8011/123456789"},
		{"urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB", "01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7%27SDB"},
		{"urn:epc:id:itip:4012345.012345.01.02.987", "8006/040123451234560102/21/987"},
		{"urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		{"http://transaction.acme.com/po/12345678", "http://transaction.acme.com/po/12345678"},
		{"urn:epcglobal:cbv:bt:0614141073467:1152", "urn:epcglobal:cbv:bt:0614141073467:1152"},
		{"https://id.gs1.org/01/00614141073468/21/2017", "https://id.gs1.org/01/00614141073468/21/2017"}, // bad check digit
		{"https://id.gs1.org/01/00614141073467/99/2017", "https://id.gs1.org/01/00614141073467/99/2017"}, // not a qualifier
		{"urn:epc:id:sgtin:0614141.107346", "urn:epc:id:sgtin:0614141.107346"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Key(tt.in); got != tt.want {
			t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatchKey(t *testing.T) {
	tests := []struct {
		in     string
		key    string
		prefix bool
	}{
		{"urn:epc:idpat:sgtin:0614141.107346.*", "01/10614141073464", true},
		{"urn:epc:idpat:sgtin:0614141.107346.2017", "01/10614141073464/21/2017", false},
		{"urn:epc:idpat:sgtin:0614141.*.*", "urn:epc:idpat:sgtin:0614141.*.*", false},
		{"urn:epc:class:lgtin:4012345.012345.998877", "01/04012345123456/10/998877", true},
		{"https://id.gs1.org/01/04012345123456", "01/04012345123456", true},
		{"urn:epc:id:sgtin:0614141.107346.2017", "01/10614141073464/21/2017", false},
		{"urn:uuid:x", "urn:uuid:x", false},
	}
	for _, tt := range tests {
		key, prefix := MatchKey(tt.in)
		if key != tt.key || prefix != tt.prefix {
			t.Errorf("MatchKey(%q) = %q, %v; want %q, %v", tt.in, key, prefix, tt.key, tt.prefix)
		}
	}
	if !IsPattern("urn:epc:idpat:sgtin:0614141.107346.*") || IsPattern("urn:epc:id:sgtin:0614141.107346.1") {
		t.Error("IsPattern")
	}
}

func TestDigitalLinkAndURN(t *testing.T) {
	if got := DigitalLink("01/00614141073467/21/2017"); got != "https://id.gs1.org/01/00614141073467/21/2017" {
		t.Errorf("DigitalLink = %q", got)
	}
	if got := DigitalLink("urn:uuid:x"); got != "urn:uuid:x" {
		t.Errorf("DigitalLink(urn:uuid) = %q", got)
	}
	if got, ok := URN("urn:epc:id:sgtin:0614141.107346.2017"); !ok || got != "urn:epc:id:sgtin:0614141.107346.2017" {
		t.Errorf("URN(urn) = %q, %v", got, ok)
	}
	if got, ok := URN("https://id.gs1.org/01/00614141073467/21/2017"); ok {
		t.Errorf("URN(digital link) = %q, true; want false (no company prefix length)", got)
	}
}
