package ratelimit

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestResetTextCache(t *testing.T) {
	var c resetTextCache
	base := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC).Unix()
	// Same slot, different seconds: each must come back as itself, again
	// after the other took the slot.
	for _, unix := range []int64{base, base + resetSlots, base, base + 1, base + resetSlots} {
		want := time.Unix(unix, 0).UTC().Format(time.RFC3339)
		if got := string(c.text(unix)); got != want {
			t.Errorf("text(%d) = %q, want %q", unix, got, want)
		}
	}
}

func TestPolicyTexts(t *testing.T) {
	read := Policy{Name: "read", Limit: 100, Window: time.Minute}
	for _, tc := range []struct {
		p     Policy
		limit int
		want  string
	}{
		{read, 100, `"read";q=100;w=60`},
		{read, 5000, `"read";q=5000;w=60`}, // a token's override: same name, its own field
		{Policy{Name: "read", Limit: 100, Window: 10 * time.Second}, 100, `"read";q=100;w=10`},
		{Policy{Name: "burst", Limit: 10, Window: 500 * time.Millisecond}, 10, `"burst";q=10;w=1`},
		{read, 100, `"read";q=100;w=60`}, // from the cache now
	} {
		f := policyTextsFor(tc.p, tc.limit)
		if got := string(f.policyText); got != tc.want {
			t.Errorf("policyTextsFor(%+v, %d) policy = %s, want %s", tc.p, tc.limit, got, tc.want)
		}
		if got, want := string(f.limitText), strconv.Itoa(tc.limit); got != want {
			t.Errorf("policyTextsFor(%+v, %d) limit = %s, want %s", tc.p, tc.limit, got, want)
		}
		if got, want := string(f.rateLimitStart), tc.want[:strings.Index(tc.want, ";")]+";r="; got != want {
			t.Errorf("policyTextsFor(%+v, %d) RateLimit start = %s, want %s", tc.p, tc.limit, got, want)
		}
	}
}

func TestCeilUnixSecond(t *testing.T) {
	at := time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{at, at.Unix()},
		{at.Add(time.Nanosecond), at.Unix() + 1},
		{at.Add(999 * time.Millisecond), at.Unix() + 1},
		{at.Add(-time.Millisecond), at.Unix()},
	} {
		if got := ceilUnixSecond(tc.t); got != tc.want {
			t.Errorf("ceilUnixSecond(%s) = %d, want %d", tc.t, got, tc.want)
		}
	}
}
