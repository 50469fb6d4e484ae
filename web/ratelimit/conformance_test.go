package ratelimit

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"batchtrack/redistest"
)

// step is one request of a scripted scenario, after advancing the clock.
type step struct {
	after          time.Duration
	wantAllowed    bool
	wantRemaining  int
	wantRetryAfter time.Duration
	wantResetAfter time.Duration
}

// conformanceCases pin the behaviour every store must have. Each runs on
// a fresh store whose clock is the fake one.
var conformanceCases = []struct {
	name   string
	policy Policy
	steps  []step                                          // a scripted scenario, or
	run    func(t *testing.T, l Limiter, clock *fakeClock) // anything else
}{
	{
		name:   "limit allowed, limit+1 refused, back exactly one window later",
		policy: Policy{Name: "p", Limit: 3, Window: time.Minute},
		steps: []step{
			{0, true, 2, 0, time.Minute},
			{0, true, 1, 0, time.Minute},
			{0, true, 0, 0, time.Minute},
			{0, false, 0, time.Minute, time.Minute},
			{time.Minute - time.Millisecond, false, 0, time.Millisecond, time.Millisecond},
			{time.Millisecond, true, 2, 0, time.Minute}, // all three left at once
		},
	},
	{
		name:   "the window slides one request at a time",
		policy: Policy{Name: "p", Limit: 3, Window: 10 * time.Second},
		steps: []step{
			{0, true, 2, 0, 10 * time.Second},              // t=0
			{4 * time.Second, true, 1, 0, 6 * time.Second}, // t=4
			{4 * time.Second, true, 0, 0, 2 * time.Second}, // t=8
			{time.Second, false, 0, time.Second, time.Second},
			{time.Second, true, 0, 0, 4 * time.Second}, // t=10: t=0 left
			{3999 * time.Millisecond, false, 0, time.Millisecond, time.Millisecond},
			{time.Millisecond, true, 0, 0, 4 * time.Second}, // t=14: t=4 left
		},
	},
	{
		name:   "a jump of several windows restores the whole quota",
		policy: Policy{Name: "p", Limit: 2, Window: time.Second},
		steps: []step{
			{0, true, 1, 0, time.Second},
			{0, true, 0, 0, time.Second},
			{0, false, 0, time.Second, time.Second},
			{5 * time.Second, true, 1, 0, time.Second},
			{0, true, 0, 0, time.Second},
		},
	},
	{
		name:   "windows under a second",
		policy: Policy{Name: "p", Limit: 5, Window: 200 * time.Millisecond},
		steps: []step{
			{0, true, 4, 0, 200 * time.Millisecond},
			{0, true, 3, 0, 200 * time.Millisecond},
			{50 * time.Millisecond, true, 2, 0, 150 * time.Millisecond},
			{0, true, 1, 0, 150 * time.Millisecond},
			{0, true, 0, 0, 150 * time.Millisecond},
			{0, false, 0, 150 * time.Millisecond, 150 * time.Millisecond},
			{149 * time.Millisecond, false, 0, time.Millisecond, time.Millisecond},
			{time.Millisecond, true, 1, 0, 50 * time.Millisecond}, // both t=0 left
		},
	},
	{
		name:   "after the limit was lowered, a refusal waits for enough to leave",
		policy: Policy{Name: "p", Limit: 5, Window: time.Minute},
		run: func(t *testing.T, l Limiter, clock *fakeClock) {
			p := Policy{Name: "p", Limit: 5, Window: time.Minute}
			for range 5 { // at t=0, 10, 20, 30, 40s
				mustAllow(t, l, "k", p)
				clock.Advance(10 * time.Second)
			}
			clock.Advance(-5 * time.Second) // t=45s
			p.Limit = 3
			// Three of five must leave for one more: t=20s leaves at 80s.
			if d := mustAllow(t, l, "k", p); d.Allowed || d.Remaining != 0 || d.RetryAfter != 35*time.Second {
				t.Fatalf("refusal %+v, want RetryAfter 35s", d)
			}
			clock.Advance(35 * time.Second)
			if d := mustAllow(t, l, "k", p); !d.Allowed || d.Remaining != 0 {
				t.Fatalf("at RetryAfter: %+v", d)
			}
		},
	},
	{
		name: "refusals are free and Retry-After is honest",
		run: func(t *testing.T, l Limiter, clock *fakeClock) {
			p := Policy{Name: "p", Limit: 2, Window: time.Second}
			mustAllow(t, l, "k", p)
			clock.Advance(300 * time.Millisecond)
			mustAllow(t, l, "k", p)
			var first Decision
			for i := range 100 { // a client ignoring Retry-After
				d := mustAllow(t, l, "k", p)
				if d.Allowed {
					t.Fatalf("refusal %d was allowed", i)
				}
				if i == 0 {
					first = d
				}
				clock.Advance(time.Millisecond)
			}
			// 100ms were spent hammering; what was left of the wait is honest.
			clock.Advance(first.RetryAfter - 100*time.Millisecond)
			if d := mustAllow(t, l, "k", p); !d.Allowed {
				t.Fatalf("refused at now+RetryAfter (%v): %+v", first.RetryAfter, d)
			}
		},
	},
	{
		// Every answer, Retry-After included, is the textbook exact log's,
		// on random arrivals and for small and large limits.
		name: "agrees with the exact sliding log",
		run: func(t *testing.T, l Limiter, clock *fakeClock) {
			for _, limit := range []int{1, 2, 7, 50, 1000} {
				p := Policy{Name: fmt.Sprint("p", limit), Limit: limit, Window: time.Second}
				ref := &referenceLog{limit: limit, window: 1000}
				rng := rand.New(rand.NewPCG(1, uint64(limit)))
				for i := range 3000 {
					clock.Advance(time.Duration(rng.ExpFloat64()*float64(2*time.Second)/float64(limit)) / time.Millisecond * time.Millisecond)
					wantAllowed, wantRetry := ref.allow(clock.Now().UnixMilli())
					d := mustAllow(t, l, "k", p)
					if d.Allowed != wantAllowed || d.RetryAfter != time.Duration(wantRetry)*time.Millisecond {
						t.Fatalf("limit %d request %d: allowed=%v retry=%v, exact log says allowed=%v retry=%dms", limit, i, d.Allowed, d.RetryAfter, wantAllowed, wantRetry)
					}
				}
			}
		},
	},
	{
		name: "a refund gives back exactly the request's unit",
		run: func(t *testing.T, l Limiter, clock *fakeClock) {
			p := Policy{Name: "p", Limit: 2, Window: time.Minute}
			first := mustAllow(t, l, "k", p) // t=0
			clock.Advance(10 * time.Second)
			second := mustAllow(t, l, "k", p) // t=10s
			if err := l.(Refunder).Refund(t.Context(), "k", p, second); err != nil {
				t.Fatal(err)
			}
			clock.Advance(10 * time.Second) // t=20s: t=0 and t=20s in the log
			if d := mustAllow(t, l, "k", p); !d.Allowed || d.Remaining != 0 || d.ResetAfter != 40*time.Second {
				t.Fatalf("after giving back the second request: %+v, want allowed, 0 left, reset in 40s", d)
			}
			if err := l.(Refunder).Refund(t.Context(), "k", p, first); err != nil {
				t.Fatal(err)
			}
			if d := mustAllow(t, l, "k", p); !d.Allowed || d.Remaining != 0 || d.ResetAfter != time.Minute {
				t.Fatalf("after giving back the first: %+v, want allowed, 0 left, reset in 1m", d)
			}
			if d := mustAllow(t, l, "k", p); d.Allowed {
				t.Fatalf("third in the window allowed: %+v", d)
			}
		},
	},
	{
		name: "keys are per policy and caller",
		run: func(t *testing.T, l Limiter, _ *fakeClock) {
			read := Policy{Name: "read", Limit: 1, Window: time.Minute}
			write := Policy{Name: "write", Limit: 1, Window: time.Minute}
			for _, c := range []struct {
				key  string
				p    Policy
				want bool
			}{
				{"a", read, true}, {"a", read, false}, {"a", write, true}, {"b", read, true},
				{strings.Repeat("x", 100), read, true}, {strings.Repeat("x", 101), read, true},
			} {
				if d := mustAllow(t, l, c.key, c.p); d.Allowed != c.want {
					t.Errorf("%s/%s: allowed=%v, want %v", c.p.Name, c.key, d.Allowed, c.want)
				}
			}
		},
	},
	{
		name: "concurrent first requests admit exactly the limit",
		run: func(t *testing.T, l Limiter, _ *fakeClock) {
			p := Policy{Name: "p", Limit: 37, Window: time.Minute}
			var allowed atomic.Int64
			var wg sync.WaitGroup
			for range 200 {
				wg.Go(func() {
					d, err := l.Allow(t.Context(), "same caller", p)
					if err != nil {
						t.Error(err)
					}
					if d.Allowed {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			if got := allowed.Load(); got != int64(p.Limit) {
				t.Fatalf("%d of 200 concurrent requests allowed, want exactly %d", got, p.Limit)
			}
		},
	},
	{
		name: "invalid policies are refused, off allows",
		run: func(t *testing.T, l Limiter, _ *fakeClock) {
			for _, p := range []Policy{{Name: "zero", Limit: 0, Window: time.Second}, {Name: "tiny", Limit: 1, Window: time.Microsecond}} {
				if _, err := l.Allow(t.Context(), "k", p); err == nil {
					t.Errorf("%v: no error", p)
				}
			}
			if d := mustAllow(t, l, "k", Policy{Off: true}); !d.Allowed {
				t.Errorf("off policy refused")
			}
		},
	},
}

// TestConformance runs every case against the memory store and a real
// Redis.
func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	stores := []struct {
		name string
		new  func(clock *fakeClock, prefix string) Limiter
	}{
		{"memory", func(clock *fakeClock, _ string) Limiter { return NewMemory(MemoryConfig{Now: clock.Now}) }},
		{"redis", func(clock *fakeClock, prefix string) Limiter {
			// A generous timeout: the shared CI machine may be slow.
			r := NewRedis(srv.Client(), RedisConfig{Prefix: prefix, Timeout: 5 * time.Second})
			r.now = clock.Now
			return r
		}},
	}
	for _, store := range stores {
		for i, tc := range conformanceCases {
			t.Run(store.name+"/"+tc.name, func(t *testing.T) {
				clock := newFakeClock()
				l := store.new(clock, fmt.Sprintf("test:%d:", i))
				if tc.run != nil {
					tc.run(t, l, clock)
					return
				}
				for i, s := range tc.steps {
					clock.Advance(s.after)
					got := mustAllow(t, l, "caller", tc.policy)
					want := Decision{
						Allowed: s.wantAllowed, Limit: tc.policy.Limit, Remaining: s.wantRemaining,
						RetryAfter: s.wantRetryAfter, ResetAfter: s.wantResetAfter,
					}
					nowMs := time.UnixMilli(clock.Now().UnixMilli())
					if !got.Reset.Equal(nowMs.Add(s.wantResetAfter)) {
						t.Errorf("step %d: Reset = %v, want now+%v", i, got.Reset, s.wantResetAfter)
					}
					got.Reset = time.Time{}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("step %d (-want +got):\n%s", i, diff)
					}
				}
			})
		}
	}
}
