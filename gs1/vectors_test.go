package gs1

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// syntaxEngineVectors are the test strings of GS1's reference
// implementation, the GS1 Syntax Engine, kept in ../shared/gs1 (never
// copied into this repository).
type syntaxEngineVectors struct {
	Escape []struct {
		Raw, Path, Query, Source string
	} `json:"dl_escape"`
	CSET82 []struct {
		Valid         bool
		Value, Source string
	} `json:"cset82"`
	Csum []struct {
		Valid         bool
		Value, Source string
	} `json:"csum"`
}

func loadVectors(t *testing.T) syntaxEngineVectors {
	t.Helper()
	path := filepath.Join("..", "..", "shared", "gs1", "digital-link", "syntax-engine-vectors.json")
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("GS1 Syntax Engine vectors not found at %s (the shared/gs1 folder beside the checkout): skipped", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var v syntaxEngineVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Escape) == 0 || len(v.CSET82) == 0 || len(v.Csum) == 0 {
		t.Fatalf("%s holds no escape, CSET 82 or check-digit vectors", path)
	}
	return v
}

func TestDigitalLinkEscapeVectors(t *testing.T) {
	for _, v := range loadVectors(t).Escape {
		if got := EscapeDigitalLink(v.Raw, false); got != v.Path {
			t.Errorf("path escape of %q = %q, want %q (%s)", v.Raw, got, v.Path, v.Source)
		}
		if got := EscapeDigitalLink(v.Raw, true); got != v.Query {
			t.Errorf("query escape of %q = %q, want %q (%s)", v.Raw, got, v.Query, v.Source)
		}
	}
}

func TestCSET82Vectors(t *testing.T) {
	for _, v := range loadVectors(t).CSET82 {
		if got := IsCSET82(v.Value); got != v.Valid {
			t.Errorf("IsCSET82(%q) = %v, want %v (%s)", v.Value, got, v.Valid, v.Source)
		}
	}
}

func TestCheckDigitVectors(t *testing.T) {
	for _, v := range loadVectors(t).Csum {
		if got := ValidCheckDigit(v.Value); got != v.Valid {
			t.Errorf("ValidCheckDigit(%q) = %v, want %v (%s)", v.Value, got, v.Valid, v.Source)
		}
	}
}

// A lot with characters that need escaping gets the canonical link, and
// the resolver's parse gives the lot back, from that link and from the
// older, loosely escaped one.
func TestDigitalLinkLotRoundTrip(t *testing.T) {
	exp := time.Date(2027, 3, 9, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ lot, path string }{
		{"ABC+123", "ABC%2B123"},
		{"A&B=C:D", "A%26B%3DC%3AD"},
		{"LOT/1", "LOT%2F1"},
		{"x_y.z-1", "x_y.z-1"},
	} {
		link := DigitalLink("https://example.com", "04006381333931", tt.lot, &exp)
		if want := "https://example.com/01/04006381333931/10/" + tt.path + "?17=270309"; link != want {
			t.Errorf("DigitalLink(%q) = %q, want %q", tt.lot, link, want)
		}
		for _, p := range []string{tt.path, tt.lot} {
			if p == "LOT/1" {
				continue // a literal slash is another path segment, never a lot
			}
			if _, l, err := ParseDigitalLinkPath("04006381333931", p); err != nil || l != tt.lot {
				t.Errorf("ParseDigitalLinkPath(%q) = %q, %v; want %q", p, l, err, tt.lot)
			}
		}
	}
}
