package ratelimit

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
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
	keys, err := srv.Client().Keys(t.Context(), "batchtrack:ratelimit:*:log:v2").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	size, err := srv.Client().StrLen(t.Context(), keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	// The total and the newest entry, then 16 bytes per older entry.
	if length := (size-24)/16 + 1; length > maxLogEntries+2 || (size-24)%16 != 0 {
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

// The stored log is the total, the newest entry (count, stamp) and the
// older (stamp, count) entries that add up to it: an entry that miscounted
// would hand back the wrong quota when it expires.
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
		v, err := srv.Client().Get(t.Context(), "batchtrack:ratelimit:"+p.Name+":k:log:v2").Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if len(v) < 24 || (len(v)-24)%16 != 0 {
			t.Fatalf("%s: log of %d bytes", p.Name, len(v))
		}
		num := func(at int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(v[at:])) }
		newestCount, newestStamp := num(8), num(16)
		sum, prev := newestCount, 0.0
		for at := 24; at < len(v); at += 16 {
			stamp, count := num(at), num(at+8)
			if stamp <= prev || stamp >= newestStamp || count < 1 {
				t.Fatalf("%s: older entry at byte %d: stamp %v after %v (newest %v), count %v", p.Name, at, stamp, prev, newestStamp, count)
			}
			prev, sum = stamp, sum+count
		}
		if total := num(0); total != sent || sum != sent || newestCount < 1 {
			t.Fatalf("%s: total %v, entries add up to %v (newest %v), want both %d", p.Name, total, sum, newestCount, sent)
		}
		if entries := (len(v)-24)/16 + 1; p.Name == "granules" && entries > 2 {
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

// storedEntry is an entry of a log a test writes: at is its stamp in
// milliseconds from Redis's now (negative: before it).
type storedEntry struct{ at, count int64 }

// storeLog writes a log in the script's layout: the total, the newest
// entry (count, stamp), then the older entries (stamp, count).
func storeLog(t *testing.T, c *redis.Client, key string, now int64, newest storedEntry, older ...storedEntry) {
	t.Helper()
	total := newest.count
	for _, e := range older {
		total += e.count
	}
	buf := binary.LittleEndian.AppendUint64(nil, math.Float64bits(float64(total)))
	buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(float64(newest.count)))
	buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(float64(now+newest.at)))
	for _, e := range older {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(float64(now+e.at)))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(float64(e.count)))
	}
	if err := c.Set(t.Context(), key, buf, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
}

// loadLog reads a stored log back: the total, the newest entry's count
// and the older entries' counts, oldest first.
func loadLog(t *testing.T, c *redis.Client, key string) (total, newestCount int64, older []int64) {
	t.Helper()
	v, err := c.Get(t.Context(), key).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	num := func(at int) int64 { return int64(math.Float64frombits(binary.LittleEndian.Uint64(v[at:]))) }
	for at := 24; at+16 <= len(v); at += 16 {
		older = append(older, num(at+8))
	}
	return num(0), num(8), older
}

// The script's every path, from logs written in place: which entries it
// drops, how it records a request, and how long a refusal says to wait.
// Stamps are minutes apart in a one-hour window, so the milliseconds
// between reading Redis's clock and the script's own TIME do not matter.
func TestRedisScriptOnStoredLogs(t *testing.T) {
	const m = int64(time.Minute / time.Millisecond)
	srv := redistest.Start(t)
	c := srv.Client()
	r := newRedisStore(t, srv)
	for _, tc := range []struct {
		name   string
		limit  int
		newest storedEntry
		older  []storedEntry

		allowed   bool
		remaining int
		wait      time.Duration // ResetAfter; RetryAfter too when refused
		// the log afterwards
		total, newestCount int64
		olderCounts        []int64
	}{
		{name: "expired older entry dropped", limit: 5, newest: storedEntry{-30 * m, 1}, older: []storedEntry{{-90 * m, 2}},
			allowed: true, remaining: 3, wait: 30 * time.Minute, total: 2, newestCount: 1, olderCounts: []int64{1}},
		{name: "all expired", limit: 5, newest: storedEntry{-70 * m, 4}, older: []storedEntry{{-90 * m, 1}},
			allowed: true, remaining: 4, wait: time.Hour, total: 1, newestCount: 1},
		{name: "oldest live entry sets the reset", limit: 5, newest: storedEntry{-10 * m, 1}, older: []storedEntry{{-50 * m, 1}, {-40 * m, 2}},
			allowed: true, remaining: 0, wait: 10 * time.Minute, total: 5, newestCount: 1, olderCounts: []int64{1, 2, 1}},
		{name: "refused: the oldest unit returns first", limit: 5, newest: storedEntry{-30 * m, 1}, older: []storedEntry{{-50 * m, 2}, {-40 * m, 2}},
			allowed: false, remaining: 0, wait: 10 * time.Minute, total: 5, newestCount: 1, olderCounts: []int64{2, 2}},
		{name: "refused after the limit was lowered: three units back", limit: 3, newest: storedEntry{-30 * m, 1}, older: []storedEntry{{-50 * m, 2}, {-40 * m, 2}},
			allowed: false, remaining: 0, wait: 20 * time.Minute, total: 5, newestCount: 1, olderCounts: []int64{2, 2}},
		{name: "refused: the units come back with the newest entry", limit: 3, newest: storedEntry{-30 * m, 4}, older: []storedEntry{{-50 * m, 1}},
			allowed: false, remaining: 0, wait: 30 * time.Minute, total: 5, newestCount: 4, olderCounts: []int64{1}},
		{name: "refused with the newest entry alone", limit: 2, newest: storedEntry{-45 * m, 2},
			allowed: false, remaining: 0, wait: 15 * time.Minute, total: 2, newestCount: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Policy{Name: "stored", Limit: tc.limit, Window: time.Hour}
			key := "batchtrack:ratelimit:stored:k:log:v2"
			now, err := c.Time(t.Context()).Result()
			if err != nil {
				t.Fatal(err)
			}
			storeLog(t, c, key, now.UnixMilli(), tc.newest, tc.older...)
			d := mustAllow(t, r, "k", p)
			if d.Allowed != tc.allowed || d.Remaining != tc.remaining {
				t.Fatalf("decision %+v, want allowed %v remaining %d", d, tc.allowed, tc.remaining)
			}
			if diff := d.ResetAfter - tc.wait; diff < -5*time.Second || diff > 5*time.Second {
				t.Fatalf("ResetAfter %v, want about %v", d.ResetAfter, tc.wait)
			}
			if !tc.allowed && d.RetryAfter != d.ResetAfter {
				t.Fatalf("RetryAfter %v, ResetAfter %v", d.RetryAfter, d.ResetAfter)
			}
			total, newestCount, older := loadLog(t, c, key)
			if total != tc.total || newestCount != tc.newestCount || !slices.Equal(older, tc.olderCounts) {
				t.Fatalf("log afterwards: total %d, newest %d, older %v; want %d, %d, %v", total, newestCount, older, tc.total, tc.newestCount, tc.olderCounts)
			}
		})
	}
}

// A request in the newest entry's granule changes the counts in place and
// keeps the key's expiry; one that also drops expired entries rewrites
// the log but keeps the expiry too.
func TestRedisSameGranule(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	r := newRedisStore(t, srv)
	p := Policy{Name: "granules", Limit: 5000, Window: time.Hour}
	granule := granuleMillis(p.Limit, p.Window.Milliseconds())
	key := "batchtrack:ratelimit:granules:k:log:v2"
	for _, tc := range []struct {
		name        string
		older       []storedEntry
		olderCounts []int64
	}{
		{name: "in place", older: []storedEntry{{-40 * 60_000, 3}}, olderCounts: []int64{3}},
		{name: "expired entries dropped", older: []storedEntry{{-90 * 60_000, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var now int64
			for { // inside a granule and away from its end, so the script's TIME falls in the same one
				tm, err := c.Time(t.Context()).Result()
				if err != nil {
					t.Fatal(err)
				}
				now = tm.UnixMilli()
				if r := now % granule; r > 0 && granule-r > 2000 {
					break
				}
				time.Sleep(time.Second)
			}
			stamp := stampFor(now, granule)
			storeLog(t, c, key, now, storedEntry{stamp - now, 2}, tc.older...)
			if err := c.PExpire(t.Context(), key, 42*time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if d := mustAllow(t, r, "k", p); !d.Allowed {
				t.Fatalf("refused: %+v", d)
			}
			total, newestCount, older := loadLog(t, c, key)
			want := int64(3)
			for _, n := range tc.olderCounts {
				want += n
			}
			if total != want || newestCount != 3 || !slices.Equal(older, tc.olderCounts) {
				t.Fatalf("log afterwards: total %d, newest %d, older %v; want %d, 3, %v", total, newestCount, older, want, tc.olderCounts)
			}
			if ttl := c.PTTL(t.Context(), key).Val(); ttl > 42*time.Minute || ttl < 41*time.Minute {
				t.Fatalf("expiry %v after a request in the same granule, want the 42m it had", ttl)
			}
		})
	}
}

// One script call for calls of several policies, interleaved, with keys
// repeated: each decision as if made alone, in order.
func TestRedisBatchOfMixedPolicies(t *testing.T) {
	srv := redistest.Start(t)
	r := newRedisStore(t, srv)
	two := Policy{Name: "two", Limit: 2, Window: time.Minute}
	one := Policy{Name: "one", Limit: 1, Window: time.Minute}
	many := Policy{Name: "many", Limit: 1000, Window: time.Minute} // a granule log
	calls := []struct {
		key     string
		p       Policy
		allowed bool
		total   int64
	}{
		{"a", two, true, 1},
		{"a", two, true, 2},
		{"b", one, true, 1},
		{"a", two, false, 2},
		{"b", one, false, 1},
		{"a", many, true, 1}, // another policy's log for the same caller
		{"a", many, true, 2},
		{"c", two, true, 1},
	}
	batch := make([]*redisCall, len(calls))
	for i, c := range calls {
		batch[i] = &redisCall{key: c.key, p: c.p, wake: make(chan bool, 1)}
	}
	r.runBatch(batch)
	for i, c := range calls {
		got := batch[i]
		if got.err != nil || got.res.allowed != c.allowed || got.res.total != c.total {
			t.Errorf("call %d (%s, %s): allowed %v total %d err %v; want allowed %v total %d", i, c.key, c.p.Name, got.res.allowed, got.res.total, got.err, c.allowed, c.total)
		}
		if i > 0 && len(got.wake) != 1 {
			t.Errorf("call %d not woken", i)
		}
	}
}
