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
)

// step is one request of a scripted scenario, after advancing the clock.
type step struct {
	after          time.Duration
	wantAllowed    bool
	wantRemaining  int
	wantRetryAfter time.Duration
	wantResetAfter time.Duration
}

func TestMemoryScenarios(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		steps  []step
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			m := NewMemory(MemoryConfig{Now: clock.Now})
			for i, s := range tt.steps {
				clock.Advance(s.after)
				got := mustAllow(t, m, "caller", tt.policy)
				want := Decision{
					Allowed: s.wantAllowed, Limit: tt.policy.Limit, Remaining: s.wantRemaining,
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

func TestMemoryRefusalsAreFreeAndRetryAfterIsHonest(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryConfig{Now: clock.Now})
	p := Policy{Name: "p", Limit: 2, Window: time.Second}
	mustAllow(t, m, "k", p)
	clock.Advance(300 * time.Millisecond)
	mustAllow(t, m, "k", p)

	var first Decision
	for i := 0; i < 100; i++ { // a client ignoring Retry-After
		d := mustAllow(t, m, "k", p)
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
	if d := mustAllow(t, m, "k", p); !d.Allowed {
		t.Fatalf("refused at now+RetryAfter (%v): %+v", first.RetryAfter, d)
	}
}

// The memory store must agree with the textbook exact log on every request
// of a random arrival sequence, for limits the log holds at millisecond
// precision; and Retry-After must be exact.
func TestMemoryMatchesExactLog(t *testing.T) {
	for _, limit := range []int{1, 2, 7, 50, maxLogEntries} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			clock := newFakeClock()
			m := NewMemory(MemoryConfig{Now: clock.Now})
			p := Policy{Name: "p", Limit: limit, Window: 1000 * time.Millisecond}
			ref := &referenceLog{limit: limit, window: 1000}
			rng := rand.New(rand.NewPCG(1, uint64(limit)))
			for i := 0; i < 20000; i++ {
				clock.Advance(time.Duration(rng.ExpFloat64()*float64(2*time.Second)/float64(limit)) / time.Millisecond * time.Millisecond)
				now := clock.Now().UnixMilli()
				wantAllowed, wantRetry := ref.allow(now)
				d := mustAllow(t, m, "k", p)
				if d.Allowed != wantAllowed || d.RetryAfter != time.Duration(wantRetry)*time.Millisecond {
					t.Fatalf("request %d: allowed=%v retry=%v, exact log says allowed=%v retry=%dms", i, d.Allowed, d.RetryAfter, wantAllowed, wantRetry)
				}
			}
		})
	}
}

// Above maxLogEntries the log groups requests into granules: it must still
// never admit more than the limit in any window, answer honest
// Retry-Afters, and hold a bounded number of entries.
func TestMemoryLargeLimitStaysBoundedAndSafe(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryConfig{Now: clock.Now})
	p := Policy{Name: "p", Limit: 10000, Window: time.Minute}
	windowMs := p.Window.Milliseconds()
	rng := rand.New(rand.NewPCG(2, 3))
	var admitted []int64
	refusedHonestly := 0
	for i := 0; i < 60000; i++ {
		clock.Advance(time.Duration(rng.IntN(12)) * time.Millisecond)
		d := mustAllow(t, m, "k", p)
		if d.Allowed {
			admitted = append(admitted, clock.Now().UnixMilli())
			continue
		}
		clock.Advance(d.RetryAfter)
		if !mustAllow(t, m, "k", p).Allowed {
			t.Fatalf("request %d: refused at now+RetryAfter (%v)", i, d.RetryAfter)
		}
		admitted = append(admitted, clock.Now().UnixMilli())
		refusedHonestly++
	}
	if refusedHonestly == 0 {
		t.Fatal("the scenario never reached the limit; it tests nothing")
	}
	if n, from := maxInAnyWindow(admitted, windowMs); n > p.Limit {
		t.Fatalf("%d requests admitted in the window starting at %d, limit %d", n, from, p.Limit)
	}
	keys := 0
	for i := range m.shards {
		for _, head := range m.shards[i].logs {
			for l := head; l != nil; l = l.next {
				keys++
				if len(l.ring) > maxLogEntries+2 {
					t.Errorf("log holds %d entries for a limit of %d, want at most %d", len(l.ring), p.Limit, maxLogEntries+2)
				}
			}
		}
	}
	if keys != 1 {
		t.Fatalf("found %d keys, want 1", keys)
	}
}

func TestMemoryConcurrentFirstRequests(t *testing.T) {
	m := NewMemory(MemoryConfig{})
	p := Policy{Name: "p", Limit: 37, Window: time.Minute}
	var allowed atomic.Int64
	var start, done sync.WaitGroup
	start.Add(1)
	for i := 0; i < 200; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			d, err := m.Allow(t.Context(), "same caller", p)
			if err != nil {
				t.Error(err)
			}
			if d.Allowed {
				allowed.Add(1)
			}
		}()
	}
	start.Done()
	done.Wait()
	if got := allowed.Load(); got != int64(p.Limit) {
		t.Fatalf("%d of 200 concurrent requests allowed, want exactly %d", got, p.Limit)
	}
}

func TestMemoryKeysArePerPolicyAndCaller(t *testing.T) {
	m := NewMemory(MemoryConfig{Now: newFakeClock().Now})
	read := Policy{Name: "read", Limit: 1, Window: time.Minute}
	write := Policy{Name: "write", Limit: 1, Window: time.Minute}
	for _, c := range []struct {
		key  string
		p    Policy
		want bool
	}{
		{"a", read, true}, {"a", read, false}, {"a", write, true}, {"b", read, true},
	} {
		if d := mustAllow(t, m, c.key, c.p); d.Allowed != c.want {
			t.Errorf("%s/%s: allowed=%v, want %v", c.p.Name, c.key, d.Allowed, c.want)
		}
	}
}

func TestMemoryStaysBounded(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryConfig{MaxKeys: 640, Now: clock.Now})
	p := Policy{Name: "p", Limit: 1, Window: time.Hour}
	// A caller that keeps hammering its limit must survive a flood of
	// one-off callers: eviction is least recently used.
	mustAllow(t, m, "hot", p)
	for i := 0; i < 20000; i++ {
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

func TestMemorySweepsExpiredKeys(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryConfig{SweepEvery: 30 * time.Second, Now: clock.Now})
	short := Policy{Name: "short", Limit: 5, Window: 10 * time.Second}
	long := Policy{Name: "long", Limit: 5, Window: time.Hour}
	for i := 0; i < 1000; i++ {
		mustAllow(t, m, fmt.Sprint("k", i), short)
	}
	mustAllow(t, m, "keeper", long)
	if got := m.Len(); got != 1001 {
		t.Fatalf("Len = %d, want 1001", got)
	}

	clock.Advance(10*time.Second - time.Millisecond)
	m.Sweep()
	if got := m.Len(); got != 1001 {
		t.Fatalf("after a sweep inside the window Len = %d, want 1001", got)
	}
	clock.Advance(time.Millisecond)
	m.Sweep()
	if got := m.Len(); got != 1 {
		t.Fatalf("after the window Len = %d, want 1 (the long-window key)", got)
	}

	// Without calling Sweep: traffic sweeps the shards it touches.
	for i := 0; i < 1000; i++ {
		mustAllow(t, m, fmt.Sprint("k", i), short)
	}
	clock.Advance(time.Minute)
	for i := 0; i < 64*20; i++ { // touch every shard, with fresh keys
		mustAllow(t, m, fmt.Sprint("new", i), short)
	}
	if got := m.Len(); got != 1+64*20 {
		t.Fatalf("Len = %d after traffic, want %d (old keys swept)", got, 1+64*20)
	}
}

func TestMemoryRejectsInvalidPolicy(t *testing.T) {
	m := NewMemory(MemoryConfig{})
	for _, p := range []Policy{{Name: "zero", Limit: 0, Window: time.Second}, {Name: "tiny", Limit: 1, Window: time.Microsecond}} {
		if _, err := m.Allow(t.Context(), "k", p); err == nil {
			t.Errorf("%v: no error", p)
		}
	}
	if d := mustAllow(t, m, "k", Policy{Off: true}); !d.Allowed {
		t.Errorf("off policy refused")
	}
}

// Keys whose hashes collide are chained: they must stay apart, and
// eviction and sweeping must keep the chains intact.
// Callers' names are held in the log itself up to inlineCaller bytes and
// apart past it: in one hash chain, names that differ only past that
// point, only in length, or not at all but for the policy are told apart.
func TestMemoryCallerNamesInAndOutOfLine(t *testing.T) {
	m := NewMemory(MemoryConfig{Now: newFakeClock().Now})
	m.hash = func(string, string) uint64 { return 7 } // one chain
	p := Policy{Name: "p", Limit: 2, Window: time.Minute}
	q := Policy{Name: "q", Limit: 2, Window: time.Minute}
	prefix := strings.Repeat("x", inlineCaller)
	callers := []string{
		"", "x", prefix[:inlineCaller-1], prefix, prefix + "a", prefix + "b", prefix + "ab",
		"token:" + strings.Repeat("0", 36), "token:" + strings.Repeat("0", 35) + "1",
	}
	for round, wantRemaining := range []int{1, 0} {
		for _, c := range callers {
			for _, pol := range []Policy{p, q} {
				// Built anew each time, so no comparison succeeds on
				// pointers alone.
				key := strings.Clone(c)
				if d := mustAllow(t, m, key, pol); !d.Allowed || d.Remaining != wantRemaining {
					t.Fatalf("round %d, %s %q (%d bytes): %+v, want allowed with %d remaining", round, pol.Name, c, len(c), d, wantRemaining)
				}
			}
		}
	}
	if got, want := m.Len(), 2*len(callers); got != want {
		t.Fatalf("Len = %d, want %d", got, want)
	}
}

func TestMemoryHashCollisions(t *testing.T) {
	clock := newFakeClock()
	m := NewMemory(MemoryConfig{MaxKeys: 64 * 4, Now: clock.Now})
	m.hash = func(string, string) uint64 { return 7 } // everything in one chain, one shard
	p := Policy{Name: "p", Limit: 2, Window: time.Minute}
	short := Policy{Name: "short", Limit: 2, Window: time.Second}

	for _, k := range []string{"a", "b", "c"} {
		mustAllow(t, m, k, p)
	}
	mustAllow(t, m, "a", short)
	if got := m.Len(); got != 4 {
		t.Fatalf("Len = %d, want 4", got)
	}
	if d := mustAllow(t, m, "a", p); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("a's second request: %+v", d)
	}
	if d := mustAllow(t, m, "a", p); d.Allowed {
		t.Fatalf("a's third request allowed: %+v", d)
	}
	if d := mustAllow(t, m, "b", p); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("b shares a's count: %+v", d)
	}

	clock.Advance(time.Second) // "short"/a expires; the shard is full (4)
	mustAllow(t, m, "d", p)    // evicts the expired one first
	if got := m.Len(); got != 4 {
		t.Fatalf("Len = %d after eviction, want 4", got)
	}
	if d := mustAllow(t, m, "a", p); d.Allowed {
		t.Fatalf("eviction took a live key instead of the expired one: %+v", d)
	}

	clock.Advance(time.Minute)
	m.Sweep()
	if got := m.Len(); got != 0 || len(m.shards[7].logs) != 0 {
		t.Fatalf("after sweeping Len = %d, map %d, want 0", got, len(m.shards[7].logs))
	}
}
