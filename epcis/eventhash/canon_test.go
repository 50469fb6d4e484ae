package eventhash

import (
	"encoding/json"
	"testing"
)

// The expected values are what the reference's Python gives:
// str(Decimal(s).to_integral_value()) for whole numbers,
// format(Decimal(s).normalize(), 'f') for the others.
func TestCanonicalValueNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"200", "200"},
		{"200.0", "200"},
		{"+5", "5"},
		{"0005", "5"},
		{"23.10", "23.1"},
		{".5", "0.5"},
		{"5.", "5"},
		{"-0.50", "-0.5"},
		{"-0.0", "-0"},
		{"0.000", "0"},
		{"1e3", "1E+3"},
		{"1.0E+3", "1.0E+3"},
		{"1.5e3", "1.5E+3"},
		{"12e-1", "1.2"},
		{"1e-5", "0.00001"},
		{"1_000", "1000"},
		{"1__0", "10"},
		{"_1", "1"},
		{"_", "_"},
		{"Infinity", "Infinity"},
		{"NaN", "NaN"},
		{"1e", "1e"},
		{"abc", "abc"},
		{"2019-10-21", "2019-10-21"},
		{"1e99999", "1e99999"},
	}
	for _, tt := range tests {
		if got := canonicalValue(tt.in); got != tt.want {
			t.Errorf("canonicalValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The expected values are Python's str(json.loads(n)).
func TestPythonNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"200", "200"},
		{"-0", "0"},
		{"200.0", "200.0"},
		{"25.0", "25.0"},
		{"26.2", "26.2"},
		{"0.1", "0.1"},
		{"1e15", "1000000000000000.0"},
		{"1e16", "1e+16"},
		{"1.5e16", "1.5e+16"},
		{"0.0001", "0.0001"},
		{"0.00001", "1e-05"},
		{"-0.0", "-0.0"},
		{"1e400", "inf"},
		{"-1e400", "-inf"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
	}
	for _, tt := range tests {
		if got := pythonNumber(json.Number(tt.in)); got != tt.want {
			t.Errorf("pythonNumber(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCanonicalTime(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2005-04-05T02:33:31.116Z", "2005-04-05T02:33:31.116Z"},
		{"2019-10-21T11:00:30.000+01:00", "2019-10-21T10:00:30.000Z"},
		{"2019-10-21T00:05:00-06:00", "2019-10-21T06:05:00.000Z"},
		{"2022-02-15T01:33:31.116000-06:00", "2022-02-15T07:33:31.116Z"},
		{"2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"},
		{"2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z"},
		{"2023-12-31T23:59:59.9995Z", "2024-01-01T00:00:00.000Z"},
		{"2023-02-02T11:04:03.99949999Z", "2023-02-02T11:04:03.999Z"},
		{"2023-02-02T11:04:03+0130", "2023-02-02T09:34:03.000Z"},
		{"2023-02-02T11:04Z", "2023-02-02T11:04:00.000Z"},
		{"2023-02-02", "2023-02-02T00:00:00.000Z"},
		{"2023-02-30T11:04:03Z", "2023-02-30T11:04:03Z"},
		{"yesterday", "yesterday"},
		{"0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00"},
	}
	for _, tt := range tests {
		if got := canonicalTime(tt.in); got != tt.want {
			t.Errorf("canonicalTime(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDigitalLink(t *testing.T) {
	tests := []struct{ in, want string }{
		{"urn:epc:id:sgtin:4012345.011111.9876", "https://id.gs1.org/01/04012345111118/21/9876"},
		{"urn:epc:id:sscc:4012345.0000000333", "https://id.gs1.org/00/040123450000003338"},
		{"urn:epc:id:sgln:4012345.00011.987", "https://id.gs1.org/414/4012345000115/254/987"},
		{"urn:epc:id:sgln:4012345.00011.0", "https://id.gs1.org/414/4012345000115"},
		{"urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/04012345123456/10/998877"},
		{"urn:epc:idpat:sgtin:4012345.066666.*", "https://id.gs1.org/01/04012345666663"},
		{"https://id.gs1.org/gtin/9780345418913", "https://id.gs1.org/01/09780345418913"},
		{"https://example.com/01/09780345418913/10/LOT/21/SER?x=1", "https://id.gs1.org/01/09780345418913/21/SER"},
		{"https://id.gs1.org/01/09780345418913/22/CPV/21/SER", "https://id.gs1.org/01/09780345418913/21/SER"},
		{"https://id.gs1.org/01/09780345418913/22/CPV", "https://id.gs1.org/01/09780345418913"},
		{"urn:epc:id:sgtin:4012345.011111", ""},
		{"https://example.com/taxonomy/1126011", ""},
		{"geo:50.9,6.9", ""},
		{"OBSERVE", ""},
	}
	for _, tt := range tests {
		got, ok := digitalLink(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("digitalLink(%q) = %q, %v, want %q", tt.in, got, ok, tt.want)
		}
	}
}
