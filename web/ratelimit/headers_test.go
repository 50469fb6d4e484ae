package ratelimit

import (
	"testing"
	"time"
)

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

func TestSFString(t *testing.T) {
	for in, want := range map[string]string{
		"read":    `"read"`,
		"":        `"default"`,
		`a"b\c`:   `"a\"b\\c"`,
		"caf\xc3": `"caf?"`,
	} {
		if got := sfString(in); got != want {
			t.Errorf("sfString(%q) = %s, want %s", in, got, want)
		}
	}
}
