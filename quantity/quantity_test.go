package quantity

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Quantity
		wantErr error
	}{
		{"12", 12000, nil},
		{"12.5", 12500, nil},
		{"0.125", 125, nil},
		{".5", 500, nil},
		{"0.100", 100, nil},
		{"-3.25", -3250, nil},
		{"+7", 7000, nil},
		{"007", 7000, nil},
		{"999999999999.999", Max, nil},
		{"1000000000000", 0, ErrRange},
		{"0.0001", 0, ErrPrecision},
		{"1.2345", 0, ErrPrecision},
		{"1e3", 0, ErrSyntax},
		{"0x10", 0, ErrSyntax},
		{"NaN", 0, ErrSyntax},
		{"Infinity", 0, ErrSyntax},
		{"", 0, ErrSyntax},
		{" 1", 0, ErrSyntax},
		{"1.", 0, ErrSyntax},
		{".", 0, ErrSyntax},
		{"-", 0, ErrSyntax},
		{"1,5", 0, ErrSyntax},
		{"１", 0, ErrSyntax},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestString(t *testing.T) {
	for q, want := range map[Quantity]string{0: "0", 12000: "12", 12500: "12.5", 125: "0.125", -3250: "-3.25", 1001: "1.001", Max: "999999999999.999"} {
		if got := q.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(q), got, want)
		}
		back, err := Parse(want)
		if err != nil || back != q {
			t.Errorf("Parse(%q) = %d, %v; want %d", want, back, err, q)
		}
	}
}

func TestJSON(t *testing.T) {
	var v struct{ Q Quantity }
	for _, in := range []string{`{"Q": 12.5}`, `{"Q": "12.5"}`} {
		if err := json.Unmarshal([]byte(in), &v); err != nil || v.Q != 12500 {
			t.Errorf("Unmarshal(%s) = %d, %v", in, v.Q, err)
		}
	}
	for _, in := range []string{`{"Q": 1e3}`, `{"Q": true}`, `{"Q": "abc"}`, `{"Q": 1.0001}`} {
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("Unmarshal(%s) accepted", in)
		}
	}
	out, _ := json.Marshal(struct{ Q Quantity }{12500})
	if string(out) != `{"Q":"12.5"}` {
		t.Errorf("Marshal = %s", out)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"12", "12.5", "0.125", "-3", "1e3", "NaN", "999999999999.999", "1000000000000", ".5", "1.", "0x1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			return
		}
		if q > Max || q < -Max {
			t.Fatalf("Parse(%q) = %d out of range", s, q)
		}
		back, err := Parse(q.String())
		if err != nil || back != q {
			t.Fatalf("round trip %q -> %q -> %d, %v", s, q.String(), back, err)
		}
	})
}
