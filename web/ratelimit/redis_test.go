package ratelimit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"batchtrack/redistest"
)

func newRedisStore(t *testing.T, srv *redistest.Server) *Redis {
	t.Helper()
	// A generous timeout: the shared CI machine may be slow; outages are
	// tested separately.
	return NewRedis(srv.Client(), RedisConfig{Timeout: 2 * time.Second})
}

func TestRedisBoundaries(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedisStore(t, srv)
	p := Policy{Name: "p", Limit: 5, Window: time.Minute}
	for i := 0; i < p.Limit; i++ {
		d := mustAllow(t, r, "k", p)
		if !d.Allowed || d.Remaining != p.Limit-1-i || d.Limit != p.Limit || d.RetryAfter != 0 {
			t.Fatalf("request %d: %+v", i, d)
		}
		if d.ResetAfter <= 0 || d.ResetAfter > p.Window {
			t.Fatalf("request %d: ResetAfter %v outside (0, %v]", i, d.ResetAfter, p.Window)
		}
	}
	d := mustAllow(t, r, "k", p)
	if d.Allowed || d.Remaining != 0 {
		t.Fatalf("request limit+1: %+v", d)
	}
	if d.RetryAfter <= p.Window-10*time.Second || d.RetryAfter > p.Window || d.RetryAfter != d.ResetAfter {
		t.Fatalf("refusal RetryAfter %v ResetAfter %v, want just under %v", d.RetryAfter, d.ResetAfter, p.Window)
	}
	if got := mustAllow(t, r, "other", p); !got.Allowed || got.Remaining != p.Limit-1 {
		t.Fatalf("another caller shares the quota: %+v", got)
	}
}

func TestRedisKeysExpire(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedisStore(t, srv)
	p := Policy{Name: "p", Limit: 5, Window: 30 * time.Second}
	mustAllow(t, r, "k", p)
	c := srv.Client()
	keys, err := c.Keys(t.Context(), "batchtrack:ratelimit:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("keys %v, want one log", keys)
	}
	for _, k := range keys {
		ttl, err := c.PTTL(t.Context(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > p.Window {
			t.Errorf("%s: PTTL %v, want in (0, %v]", k, ttl, p.Window)
		}
	}
}

// With real time: refusals do not count, and waiting RetryAfter is enough.
func TestRedisSubSecondWindowAndHonestRetryAfter(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedisStore(t, srv)
	p := Policy{Name: "p", Limit: 5, Window: 300 * time.Millisecond}
	for round := 0; round < 3; round++ {
		allowed := 0
		var refusal Decision
		start := time.Now()
		for i := 0; i < 20; i++ { // 5 allowed, then refusals that must not count
			d := mustAllow(t, r, "k", p)
			if d.Allowed {
				allowed++
			} else {
				refusal = d
			}
		}
		// The exact count holds only if the burst fit in one window; a
		// stalled machine may legitimately spread it over two.
		if round == 0 && time.Since(start) < p.Window && allowed != p.Limit {
			t.Fatalf("round %d: %d allowed of 20 sent at once, want %d", round, allowed, p.Limit)
		}
		if refusal.Limit == 0 {
			t.Fatalf("round %d: no refusal among 20 requests", round)
		}
		if refusal.RetryAfter <= 0 || refusal.RetryAfter > p.Window {
			t.Fatalf("round %d: RetryAfter %v outside (0, %v]", round, refusal.RetryAfter, p.Window)
		}
		time.Sleep(refusal.RetryAfter + 2*time.Millisecond) // Redis TIME and ours tick apart
		if d := mustAllow(t, r, "k", p); !d.Allowed {
			t.Fatalf("round %d: refused after sleeping RetryAfter %v: %+v", round, refusal.RetryAfter, d)
		}
	}
	// Several windows later the whole quota is back.
	time.Sleep(3 * p.Window)
	if d := mustAllow(t, r, "k", p); !d.Allowed || d.Remaining != p.Limit-1 {
		t.Fatalf("after several windows: %+v", d)
	}
}

func TestRedisConcurrentFirstRequests(t *testing.T) {
	srv := redistest.Start(t)
	// Two clients, as two instances would have.
	stores := []*Redis{newRedisStore(t, srv), newRedisStore(t, srv)}
	p := Policy{Name: "p", Limit: 37, Window: time.Minute}
	var allowed atomic.Int64
	var start, done sync.WaitGroup
	start.Add(1)
	for i := 0; i < 200; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			d, err := stores[i%2].Allow(t.Context(), "same caller", p)
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

func TestRedisLargeLimitStaysBounded(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedisStore(t, srv)
	p := Policy{Name: "p", Limit: 1_000_000, Window: 500 * time.Millisecond}
	deadline := time.Now().Add(700 * time.Millisecond)
	n := 0
	for ; time.Now().Before(deadline); n++ {
		if d := mustAllow(t, r, "k", p); !d.Allowed {
			t.Fatalf("request %d refused: %+v", n, d)
		}
	}
	keys, err := srv.Client().Keys(t.Context(), "batchtrack:ratelimit:*:log").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	size, err := srv.Client().StrLen(t.Context(), keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	// The total, then 16 bytes per entry.
	if length := (size - 8) / 16; length > maxLogEntries+2 || (size-8)%16 != 0 {
		t.Fatalf("log holds %d entries after %d requests, want at most %d", length, n, maxLogEntries+2)
	}
}

// Both log resolutions (per millisecond up to maxLogEntries, granules
// above) count exactly up to the limit.
func TestRedisCountsAtTheLimit(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedisStore(t, srv)
	for _, limit := range []int{3, 200} {
		p := Policy{Name: fmt.Sprint("p", limit), Limit: limit, Window: time.Hour}
		for i := 0; i < limit+3; i++ {
			d := mustAllow(t, r, "k", p)
			wantAllowed := i < limit
			if d.Allowed != wantAllowed || d.Remaining != max(0, limit-1-i) {
				t.Fatalf("limit %d request %d: %+v", limit, i, d)
			}
		}
	}
}

func TestRedisUnreachableReturnsErrorQuickly(t *testing.T) {
	r := NewRedis(deadRedisClient(t), RedisConfig{Timeout: 50 * time.Millisecond})
	start := time.Now()
	_, err := r.Allow(t.Context(), "k", Policy{Name: "p", Limit: 1, Window: time.Second})
	if err == nil {
		t.Fatal("no error from a Redis nobody listens for")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %v despite a 50ms timeout", took)
	}
}

// deadRedisClient is a real client for an address nothing listens on.
func deadRedisClient(t *testing.T) *redis.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// The stored log is the total and (stamp, count) entries that add up to it:
// an entry that miscounted would hand back the wrong quota when it expires.
func TestRedisLogAddsUpToItsTotal(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedisStore(t, srv)
	for _, p := range []Policy{
		{Name: "per-ms", Limit: 50, Window: time.Hour},     // one entry per distinct millisecond
		{Name: "granules", Limit: 5000, Window: time.Hour}, // merged into 28 s granules
	} {
		const sent = 40
		for range sent {
			mustAllow(t, r, "k", p)
		}
		v, err := srv.Client().Get(t.Context(), "batchtrack:ratelimit:"+p.Name+":k:log").Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if len(v) < 8+16 || (len(v)-8)%16 != 0 {
			t.Fatalf("%s: log of %d bytes", p.Name, len(v))
		}
		num := func(at int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(v[at:])) }
		var sum, prev float64
		for at := 8; at < len(v); at += 16 {
			stamp, count := num(at), num(at+8)
			if stamp <= prev || count < 1 {
				t.Fatalf("%s: entry at byte %d: stamp %v after %v, count %v", p.Name, at, stamp, prev, count)
			}
			prev, sum = stamp, sum+count
		}
		if total := num(0); total != sent || sum != sent {
			t.Fatalf("%s: total %v, entries add up to %v, want both %d", p.Name, total, sum, sent)
		}
		if entries := (len(v) - 8) / 16; p.Name == "granules" && entries > 2 {
			t.Fatalf("%s: %d entries for requests within one or two granules", p.Name, entries)
		}
	}
}

// gateScripts holds the limiter's script calls until release is closed.
type gateScripts struct {
	entered chan struct{}
	release chan struct{}
}

func (g *gateScripts) DialHook(next redis.DialHook) redis.DialHook { return next }
func (g *gateScripts) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "evalsha" {
			g.entered <- struct{}{}
			<-g.release
		}
		return next(ctx, cmd)
	}
}
func (g *gateScripts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// While maxInFlight batches are on their way, callers queue. One that
// gives up leaves the queue at its deadline and its request is never
// counted; one that waits is promoted to lead the next batch.
func TestRedisQueuedCallers(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	gate := &gateScripts{entered: make(chan struct{}, 16), release: make(chan struct{})}
	client.AddHook(gate)
	r := NewRedis(client, RedisConfig{Timeout: 5 * time.Second})
	p := Policy{Name: "p", Limit: 10, Window: time.Minute}
	ctx := t.Context()

	results := make(chan error, maxInFlight+1)
	allow := func() {
		_, err := r.Allow(ctx, "k", p)
		results <- err
	}
	for range maxInFlight {
		go allow()
		<-gate.entered
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := r.Allow(short, "k", p)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued caller past its deadline: %v, want the deadline's error", err)
	}
	go allow()
	for deadline, queued := time.Now().Add(5*time.Second), 0; queued != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("%d callers queued, want the one that waits", queued)
		}
		time.Sleep(time.Millisecond)
		r.batch.mu.Lock()
		queued = len(r.batch.queue)
		r.batch.mu.Unlock()
	}
	close(gate.release)
	for range maxInFlight + 1 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if d := mustAllow(t, r, "k", p); d.Remaining != p.Limit-maxInFlight-2 {
		t.Fatalf("after %d counted requests and this one: %+v", maxInFlight+1, d)
	}
}

// A caller queued behind a batch that takes longer than the timeout is
// answered with a deadline error once the batch is back, even with no
// deadline of its own, and its request is not counted.
func TestRedisQueueBoundedByTimeout(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	gate := &gateScripts{entered: make(chan struct{}, 16), release: make(chan struct{})}
	client.AddHook(gate)
	const timeout = 100 * time.Millisecond
	r := NewRedis(client, RedisConfig{Timeout: timeout})
	p := Policy{Name: "p", Limit: 10, Window: time.Minute}

	for range maxInFlight {
		go func() { _, _ = r.Allow(context.Background(), "ahead", p) }()
		<-gate.entered
	}
	queued := make(chan error, 1)
	go func() {
		_, err := r.Allow(context.Background(), "queued", p)
		queued <- err
	}()
	time.Sleep(timeout + timeout/2)
	select {
	case err := <-queued:
		t.Fatalf("queued caller answered while the batch ahead was held: %v", err)
	default:
	}
	close(gate.release)
	select {
	case err := <-queued:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("queued past the timeout: %v, want a deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("queued caller still waiting 5s after the batch ahead came back")
	}
	if d := mustAllow(t, r, "queued", p); d.Remaining != p.Limit-1 {
		t.Fatalf("the timed-out request was counted: %+v", d)
	}
}

// A Redis that lost its scripts (restarted, SCRIPT FLUSH) gets the source
// again, within the same decisions.
func TestRedisScriptFlushed(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedisStore(t, srv)
	p := Policy{Name: "p", Limit: 100, Window: time.Minute}
	mustAllow(t, r, "k", p)
	if err := srv.Client().ScriptFlush(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := r.Allow(t.Context(), "k", p); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if d := mustAllow(t, r, "k", p); d.Remaining != p.Limit-22 {
		t.Fatalf("after 21 counted requests and this one: %+v", d)
	}
}
