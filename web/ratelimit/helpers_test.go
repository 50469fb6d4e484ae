package ratelimit

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	// Half a millisecond past a whole one: decisions must work on the
	// millisecond grid no matter where in a millisecond "now" falls.
	return &fakeClock{now: time.Date(2026, 1, 26, 13, 44, 0, 500_000, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// referenceLog is the textbook exact sliding log: every admitted request's
// millisecond, admitted while fewer than limit lie in (now-window, now].
type referenceLog struct {
	limit  int
	window int64
	times  []int64
}

func (r *referenceLog) allow(now int64) (bool, int64) {
	live := r.times[:0]
	for _, t := range r.times {
		if t+r.window > now {
			live = append(live, t)
		}
	}
	r.times = live
	if len(r.times) < r.limit {
		r.times = append(r.times, now)
		return true, 0
	}
	return false, r.times[len(r.times)-r.limit] + r.window - now
}

func mustAllow(t *testing.T, l Limiter, key string, p Policy) Decision {
	t.Helper()
	d, err := l.Allow(t.Context(), key, p)
	if err != nil {
		t.Fatalf("Allow(%q, %v): %v", key, p, err)
	}
	return d
}
