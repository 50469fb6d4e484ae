package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestMemoryStaysBounded(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryConfig{MaxKeys: 640, Now: clock.Now})
	p := Policy{Name: "p", Limit: 1, Window: time.Hour}
	// A caller that keeps hammering its limit must survive a flood of
	// one-off callers: eviction is least recently used.
	mustAllow(t, m, "hot", p)
	for i := range 20000 {
		clock.Advance(time.Millisecond)
		mustAllow(t, m, fmt.Sprint("flood-", i), p)
		if i%5 == 0 {
			if d := mustAllow(t, m, "hot", p); d.Allowed {
				t.Fatalf("after %d flood keys the hot caller was forgotten and allowed again", i)
			}
		}
		if n := m.Len(); n > 640 {
			t.Fatalf("%d keys held, MaxKeys 640", n)
		}
	}
}

func TestMemoryEvictsExpiredKeysFirst(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryConfig{MaxKeys: 4, SweepEvery: time.Hour, Now: clock.Now})
	p := Policy{Name: "p", Limit: 1, Window: time.Minute}
	short := Policy{Name: "short", Limit: 1, Window: time.Second}
	for _, k := range []string{"a", "b", "c"} {
		mustAllow(t, m, k, p)
	}
	mustAllow(t, m, "a", short)
	clock.Advance(time.Second) // short/a expires; the store is full
	mustAllow(t, m, "d", p)
	if got := m.Len(); got != 4 {
		t.Fatalf("Len = %d, want 4", got)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if d := mustAllow(t, m, k, p); d.Allowed {
			t.Fatalf("%s was evicted instead of the expired key: %+v", k, d)
		}
	}
}

func TestMemorySweepsExpiredKeys(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryConfig{SweepEvery: 30 * time.Second, Now: clock.Now})
	short := Policy{Name: "short", Limit: 5, Window: 10 * time.Second}
	long := Policy{Name: "long", Limit: 5, Window: time.Hour}
	fill := func() {
		for i := range 1000 {
			mustAllow(t, m, fmt.Sprint("k", i), short)
		}
	}
	fill()
	mustAllow(t, m, "keeper", long)
	for _, tc := range []struct {
		name    string
		advance time.Duration
		then    func()
		want    int
	}{
		{"Sweep inside the window", 10*time.Second - time.Millisecond, m.Sweep, 1001},
		{"Sweep after it", time.Millisecond, m.Sweep, 1},
		{"refill", 0, fill, 1001},
		{"traffic sweeps", time.Minute, func() { mustAllow(t, m, "new", short) }, 2},
		{"not before SweepEvery", 15 * time.Second, func() { mustAllow(t, m, "newer", short) }, 3},
		{"again after it", 15 * time.Second, func() { mustAllow(t, m, "newest", short) }, 2},
	} {
		clock.Advance(tc.advance)
		tc.then()
		if got := m.Len(); got != tc.want {
			t.Fatalf("%s: Len = %d, want %d", tc.name, got, tc.want)
		}
	}
}
