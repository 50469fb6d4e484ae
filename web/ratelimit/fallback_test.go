package ratelimit

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"batchtrack/logtest"
	"batchtrack/redistest"
)

type instance struct {
	limiter *Fallback
	metrics *Metrics
	logs    *logtest.Buffer
}

// newInstance is one app instance's limiter over srv: Redis, with memory
// behind it.
func newInstance(t *testing.T, srv *redistest.Server, mode FailMode) instance {
	t.Helper()
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	f := NewFallback(FallbackConfig{
		Primary:    NewRedis(srv.Client(), RedisConfig{Timeout: 200 * time.Millisecond}),
		Fallback:   NewMemory(MemoryConfig{}),
		Mode:       mode,
		ProbeEvery: 100 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
		Metrics:    m,
	})
	return instance{limiter: f, metrics: m, logs: logs}
}

// countAllowed sends n requests and counts the allowed ones.
func countAllowed(t *testing.T, l Limiter, key string, p Policy, n int) int {
	t.Helper()
	allowed := 0
	for i := 0; i < n; i++ {
		if mustAllow(t, l, key, p).Allowed {
			allowed++
		}
	}
	return allowed
}

// waitRecovered makes requests until the instance is back on Redis.
func waitRecovered(t *testing.T, in instance) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for in.limiter.Down() {
		if time.Now().After(deadline) {
			t.Fatal("still on the fallback 10s after Redis came back")
		}
		mustAllow(t, in.limiter, "probe-trigger", Policy{Name: "probe", Limit: 1 << 30, Window: time.Second})
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFallbackOpenSurvivesOutageAndReturnsToSharedLimit(t *testing.T) {
	srv := redistest.Start(t)
	if !srv.CanRestart() {
		t.Skip("needs a Redis this test can stop (unset TEST_REDIS_URL)")
	}
	a, b := newInstance(t, srv, FailOpen), newInstance(t, srv, FailOpen)
	p := Policy{Name: "p", Limit: 4, Window: time.Minute}

	// Shared: two requests on each instance use up the quota for both.
	if got := countAllowed(t, a.limiter, "k", p, 2) + countAllowed(t, b.limiter, "k", p, 2); got != 4 {
		t.Fatalf("before the outage %d allowed, want 4", got)
	}
	if countAllowed(t, a.limiter, "k", p, 1)+countAllowed(t, b.limiter, "k", p, 1) != 0 {
		t.Fatal("the limit is not shared between instances")
	}

	srv.Stop()
	// Fail open: each instance limits on its own, from memory.
	if got := countAllowed(t, a.limiter, "k", p, 10); got != 4 {
		t.Fatalf("during the outage instance a allowed %d of 10, want its own 4", got)
	}
	if got := countAllowed(t, b.limiter, "k", p, 10); got != 4 {
		t.Fatalf("during the outage instance b allowed %d of 10, want its own 4", got)
	}
	if !a.limiter.Down() {
		t.Fatal("a does not know Redis is down")
	}
	time.Sleep(300 * time.Millisecond) // let probes fail a few times
	countAllowed(t, a.limiter, "k", p, 5)
	if n := strings.Count(a.logs.String(), "unreachable"); n != 1 {
		t.Fatalf("outage logged %d times, want once:\n%s", n, a.logs.String())
	}
	s := a.metrics.Snapshot()
	if s.Outages != 1 || !s.FallbackActive || s.StoreErrors < 1 || s.FallbackDecisions < 15 {
		t.Fatalf("snapshot during the outage: %+v", s)
	}

	srv.Restart()
	waitRecovered(t, a)
	waitRecovered(t, b)
	if got := countAllowed(t, a.limiter, "k2", p, 2) + countAllowed(t, b.limiter, "k2", p, 3); got != 4 {
		t.Fatalf("after recovery %d of 5 allowed across instances, want the shared 4", got)
	}
	if !strings.Contains(a.logs.String(), "reachable again") {
		t.Fatalf("recovery not logged:\n%s", a.logs.String())
	}
	if s := a.metrics.Snapshot(); s.FallbackActive || s.Outages != 1 {
		t.Fatalf("snapshot after recovery: %+v", s)
	}
}

func TestFallbackClosedRefusesDuringOutage(t *testing.T) {
	srv := redistest.Start(t)
	if !srv.CanRestart() {
		t.Skip("needs a Redis this test can stop (unset TEST_REDIS_URL)")
	}
	in := newInstance(t, srv, FailClosed)
	p := Policy{Name: "p", Limit: 100, Window: time.Minute}
	if got := countAllowed(t, in.limiter, "k", p, 3); got != 3 {
		t.Fatalf("before the outage %d of 3 allowed", got)
	}
	srv.Stop()
	for i := 0; i < 5; i++ {
		d := mustAllow(t, in.limiter, "k", p)
		if d.Allowed || d.RetryAfter <= 0 || d.Limit != p.Limit {
			t.Fatalf("request %d during the outage: %+v, want a refusal with a RetryAfter", i, d)
		}
	}
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for !mustAllow(t, in.limiter, "k", p).Allowed {
		if time.Now().After(deadline) {
			t.Fatal("still refusing 10s after Redis came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFallbackProbesAtMostEveryInterval(t *testing.T) {
	clock := newFakeClock()
	m, _ := NewMetrics(nil)
	f := NewFallback(FallbackConfig{
		Primary:    NewRedis(deadRedisClient(t), RedisConfig{Timeout: 20 * time.Millisecond}),
		Fallback:   NewMemory(MemoryConfig{Now: clock.Now}),
		ProbeEvery: time.Second,
		Logger:     slog.New(slog.DiscardHandler),
		Metrics:    m,
		Now:        clock.Now,
	})
	p := Policy{Name: "p", Limit: 1000, Window: time.Minute}
	mustAllow(t, f, "k", p) // fails over: one store error
	waitProbes := func() {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); f.probing.Load(); {
			if time.Now().After(deadline) {
				t.Fatal("probe did not finish")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for i := 0; i < 50; i++ {
		mustAllow(t, f, "k", p)
		clock.Advance(10 * time.Millisecond)
	}
	waitProbes()
	// 500ms of traffic: no probe yet. Then one per second of traffic.
	if got := m.Snapshot().StoreErrors; got != 1 {
		t.Fatalf("%d store errors after 500ms, want 1 (no probe within ProbeEvery)", got)
	}
	for i := 0; i < 3; i++ {
		clock.Advance(time.Second)
		for j := 0; j < 20; j++ {
			mustAllow(t, f, "k", p)
		}
		waitProbes()
	}
	if got := m.Snapshot().StoreErrors; got != 4 {
		t.Fatalf("%d store errors after 3 more seconds, want 4 (one probe a second)", got)
	}
}

func TestParseFailMode(t *testing.T) {
	for in, want := range map[string]FailMode{"": FailOpen, "open": FailOpen, "closed": FailClosed, " Closed ": FailClosed} {
		got, err := ParseFailMode(in)
		if err != nil || got != want {
			t.Errorf("ParseFailMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseFailMode("shut"); err == nil {
		t.Error("ParseFailMode(shut): no error")
	}
}
