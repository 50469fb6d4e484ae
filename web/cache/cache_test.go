package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"batchtrack/logtest"
	"batchtrack/redistest"

	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeClock drives memory-tier expiry; it never ticks, so otter does no
// periodic clean-up and expiry is observed on reads.
type fakeClock struct{ nanos atomic.Int64 }

func (f *fakeClock) NowNano() int64                      { return f.nanos.Load() }
func (f *fakeClock) Tick(time.Duration) <-chan time.Time { return nil }
func (f *fakeClock) Advance(d time.Duration)             { f.nanos.Add(int64(d)) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestCache(t *testing.T, cfg Config) *Cache {
	t.Helper()
	cfg.Enabled = true
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// source stands for the database: loaders read its current value.
type source struct {
	mu    sync.Mutex
	val   string
	calls atomic.Int64
}

func (s *source) set(v string) {
	s.mu.Lock()
	s.val = v
	s.mu.Unlock()
}

func (s *source) load(context.Context) ([]byte, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return []byte(s.val), nil
}

type tier struct {
	name string
	cfg  func(t *testing.T) Config
}

// tiers are the configurations every behaviour must hold in.
var tiers = []tier{
	{"memory", func(t *testing.T) Config { return Config{} }},
	{"redis", func(t *testing.T) Config { return Config{Redis: redistest.Start(t).Client()} }},
	{"redis+local", func(t *testing.T) Config {
		return Config{Redis: redistest.Start(t).Client(), LocalTTL: time.Minute}
	}},
}

func mustGet(t *testing.T, c *Cache, key Key, loader func(context.Context) ([]byte, error)) (string, bool) {
	t.Helper()
	v, hit, err := c.GetOrLoad(context.Background(), key, time.Minute, loader)
	if err != nil {
		t.Fatalf("GetOrLoad(%v): %v", key, err)
	}
	return string(v), hit
}

func TestGetOrLoadHitsAfterFirstLoad(t *testing.T) {
	for _, tr := range tiers {
		t.Run(tr.name, func(t *testing.T) {
			c := newTestCache(t, tr.cfg(t))
			src := &source{val: "v1"}
			key := Key{Namespace: "events", ID: "page=1"}
			type result struct {
				Value string
				Hit   bool
			}
			var got []result
			for range 3 {
				v, hit := mustGet(t, c, key, src.load)
				got = append(got, result{v, hit})
			}
			want := []result{{"v1", false}, {"v1", true}, {"v1", true}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			if n := src.calls.Load(); n != 1 {
				t.Errorf("loader calls = %d, want 1", n)
			}
		})
	}
}

func TestMemoryEntryExpiresAfterTTL(t *testing.T) {
	clock := &fakeClock{}
	clock.nanos.Store(time.Now().UnixNano())
	c := newTestCache(t, Config{clock: clock})
	src := &source{val: "v1"}
	key := Key{Namespace: "overview"}
	ctx := context.Background()
	get := func() bool {
		t.Helper()
		_, hit, err := c.GetOrLoad(ctx, key, 2*time.Minute, src.load)
		if err != nil {
			t.Fatal(err)
		}
		return hit
	}
	steps := []struct {
		advance time.Duration
		wantHit bool
	}{
		{0, false},
		{time.Minute, true},
		{59 * time.Second, true},
		{2 * time.Second, false}, // 2m01s after the load
		{time.Second, true},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if hit := get(); hit != s.wantHit {
			t.Errorf("step %d (+%v): hit = %v, want %v", i, s.advance, hit, s.wantHit)
		}
	}
	if snap := kindSnapshot(c, "overview"); snap.Expirations == 0 {
		// otter reports expiry when it removes the entry, which a replacing
		// write does at the latest.
		c.local.entries.CleanUp()
		if snap := kindSnapshot(c, "overview"); snap.Expirations == 0 {
			t.Errorf("expirations = 0, want > 0")
		}
	}
}

func kindSnapshot(c *Cache, kind string) KindSnapshot {
	for _, k := range c.Snapshot().Kinds {
		if k.Kind == kind {
			return k
		}
	}
	return KindSnapshot{Kind: kind}
}

func TestMemoryTierIsBoundedByBytes(t *testing.T) {
	const maxBytes = 64 << 10
	c := newTestCache(t, Config{MaxBytes: maxBytes})
	value := bytes.Repeat([]byte("x"), 1000)
	for i := range 500 {
		key := Key{Namespace: "batches", ID: fmt.Sprint(i)}
		if _, _, err := c.GetOrLoad(context.Background(), key, time.Hour, func(context.Context) ([]byte, error) {
			return value, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	c.local.entries.CleanUp()
	if w := c.local.entries.WeightedSize(); w > maxBytes {
		t.Errorf("weighted size = %d, want <= %d", w, maxBytes)
	}
	snap := kindSnapshot(c, "batches")
	if snap.Evictions == 0 {
		t.Errorf("evictions = 0, want > 0")
	}
	if snap.Bytes > maxBytes || snap.Bytes <= 0 {
		t.Errorf("bytes gauge = %d, want in (0, %d]", snap.Bytes, maxBytes)
	}
	if int(snap.Entries) != c.local.entries.EstimatedSize() {
		t.Errorf("entries gauge = %d, otter holds %d", snap.Entries, c.local.entries.EstimatedSize())
	}
}

// waitFor polls cond for up to d: for things that happen asynchronously
// (pub/sub delivery, recovery), never for speed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (g *flightGroup) waitersFor(prefix string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for k, f := range g.flights {
		if strings.HasPrefix(k, prefix) || prefix == "" {
			n += f.waiters
		}
	}
	return n
}

func TestConcurrentMissesShareOneLoad(t *testing.T) {
	for _, tr := range tiers {
		t.Run(tr.name, func(t *testing.T) {
			c := newTestCache(t, tr.cfg(t))
			release := make(chan struct{})
			var calls atomic.Int64
			loader := func(ctx context.Context) ([]byte, error) {
				calls.Add(1)
				<-release
				return []byte("shared"), nil
			}
			const callers = 100
			var wg sync.WaitGroup
			results := make([]string, callers)
			errs := make([]error, callers)
			for i := range callers {
				wg.Go(func() {
					v, _, err := c.GetOrLoad(context.Background(), Key{"events", "all"}, time.Minute, loader)
					results[i], errs[i] = string(v), err
				})
			}
			waitFor(t, 10*time.Second, "all callers waiting", func() bool { return c.flights.waitersFor("") == callers })
			close(release)
			wg.Wait()
			for i := range callers {
				if errs[i] != nil || results[i] != "shared" {
					t.Fatalf("caller %d: %q, %v", i, results[i], errs[i])
				}
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("loader calls = %d, want 1", n)
			}
			snap := kindSnapshot(c, "events")
			if snap.Loads != 1 || snap.Misses != callers {
				t.Errorf("loads = %d, misses = %d; want 1, %d", snap.Loads, snap.Misses, callers)
			}
		})
	}
}

func TestFailedLoadIsNotCached(t *testing.T) {
	errDB := errors.New("database down")
	for _, tr := range tiers {
		t.Run(tr.name, func(t *testing.T) {
			c := newTestCache(t, tr.cfg(t))
			key := Key{"batches", "list"}
			release := make(chan struct{})
			var calls atomic.Int64
			failing := func(context.Context) ([]byte, error) {
				calls.Add(1)
				<-release
				return nil, errDB
			}
			const callers = 20
			errs := make(chan error, callers)
			for range callers {
				go func() {
					_, _, err := c.GetOrLoad(context.Background(), key, time.Minute, failing)
					errs <- err
				}()
			}
			waitFor(t, 10*time.Second, "callers waiting", func() bool { return c.flights.waitersFor("") == callers })
			close(release)
			for range callers {
				if err := <-errs; !errors.Is(err, errDB) {
					t.Errorf("err = %v, want %v", err, errDB)
				}
			}
			src := &source{val: "ok"}
			if v, hit := mustGet(t, c, key, src.load); hit || v != "ok" {
				t.Errorf("after failure: %q hit=%v, want a fresh load", v, hit)
			}
			if snap := kindSnapshot(c, "batches"); snap.LoadErrors != 1 {
				t.Errorf("load errors = %d, want 1", snap.LoadErrors)
			}
		})
	}
}

func TestCancelledCallerLeavesLoadToOthers(t *testing.T) {
	c := newTestCache(t, Config{})
	key := Key{"overview", ""}
	release := make(chan struct{})
	loader := func(ctx context.Context) ([]byte, error) {
		select {
		case <-release:
			return []byte("done"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	first, cancelFirst := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, _, err := c.GetOrLoad(first, key, time.Minute, loader)
		firstErr <- err
	}()
	waitFor(t, 10*time.Second, "first caller waiting", func() bool { return c.flights.waitersFor("") == 1 })
	second := make(chan string, 1)
	go func() {
		v, _, err := c.GetOrLoad(context.Background(), key, time.Minute, loader)
		if err != nil {
			second <- "error: " + err.Error()
			return
		}
		second <- string(v)
	}()
	waitFor(t, 10*time.Second, "second caller waiting", func() bool { return c.flights.waitersFor("") == 2 })
	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Errorf("first caller: err = %v, want context.Canceled", err)
	}
	close(release)
	if got := <-second; got != "done" {
		t.Errorf("second caller got %q, want the shared load's value", got)
	}
}

func TestLoadCancelledByAllCallersIsNotCached(t *testing.T) {
	c := newTestCache(t, Config{})
	key := Key{"overview", ""}
	loadCancelled := make(chan struct{})
	blocking := func(ctx context.Context) ([]byte, error) {
		<-ctx.Done()
		close(loadCancelled)
		return []byte("partial"), nil // a loader that ignores its error must not be cached either
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := c.GetOrLoad(ctx, key, time.Minute, blocking)
		done <- err
	}()
	waitFor(t, 10*time.Second, "caller waiting", func() bool { return c.flights.waitersFor("") == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	select {
	case <-loadCancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the load was not cancelled when its only caller left")
	}
	waitFor(t, 10*time.Second, "flight finished", func() bool { return c.flights.waitersFor("") == 0 && len(c.flights.flights) == 0 })
	src := &source{val: "fresh"}
	if v, hit := mustGet(t, c, key, src.load); hit || v != "fresh" {
		t.Errorf("got %q hit=%v, want a fresh load", v, hit)
	}
}

func TestLoaderPanicBecomesError(t *testing.T) {
	c := newTestCache(t, Config{})
	_, _, err := c.GetOrLoad(context.Background(), Key{"events", "x"}, time.Minute, func(context.Context) ([]byte, error) {
		panic("boom")
	})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v, want the panic as an error", err)
	}
}

// TestInvalidationDuringLoadLeavesNoStaleValue runs the write-then-invalidate
// sequence while a load that read the old data is still in flight: neither
// that load's result nor a read joining it may survive the invalidation.
func TestInvalidationDuringLoadLeavesNoStaleValue(t *testing.T) {
	scopes := []struct {
		name       string
		invalidate func(c *Cache, key Key)
	}{
		{"key", func(c *Cache, key Key) { c.Invalidate(context.Background(), key) }},
		{"namespace", func(c *Cache, key Key) { c.InvalidateNamespace(context.Background(), key.Namespace) }},
		{"all", func(c *Cache, key Key) { c.InvalidateAll(context.Background()) }},
	}
	for _, tr := range tiers {
		for _, sc := range scopes {
			t.Run(tr.name+"/"+sc.name, func(t *testing.T) {
				c := newTestCache(t, tr.cfg(t))
				key := Key{"batch:0b7c", "detail"}
				src := &source{val: "old"}
				started := make(chan struct{})
				invalidated := make(chan struct{})
				var first atomic.Bool
				loader := func(ctx context.Context) ([]byte, error) {
					v, _ := src.load(ctx)
					if first.CompareAndSwap(false, true) {
						close(started)
						<-invalidated
					}
					return v, nil
				}
				staleRead := make(chan string, 1)
				go func() {
					v, _, err := c.GetOrLoad(context.Background(), key, time.Minute, loader)
					if err != nil {
						staleRead <- err.Error()
					}
					staleRead <- string(v)
				}()
				<-started
				src.set("new") // the write...
				sc.invalidate(c, key)
				// ...has returned: this read starts after it, while the old
				// load is still blocked. Joining that load would block too,
				// hence the deadline.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				v, _, err := c.GetOrLoad(ctx, key, time.Minute, loader)
				cancel()
				if err != nil || string(v) != "new" {
					t.Errorf("read during the old load = %q, %v; want new", v, err)
				}
				close(invalidated)
				if v := <-staleRead; v != "old" {
					t.Errorf("the read that started before the write got %q, want old", v)
				}
				// The old load has finished and tried to store "old".
				for range 3 {
					if v, _ := mustGet(t, c, key, loader); v != "new" {
						t.Fatalf("read after the old load finished = %q, want new", v)
					}
				}
			})
		}
	}
}

func TestRedisValueHasTTL(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	c := newTestCache(t, Config{Redis: rdb})
	key := Key{"events", "page=1"}
	if _, _, err := c.GetOrLoad(context.Background(), key, 2*time.Minute, (&source{val: "v"}).load); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(context.Background(), "batchtrack:cache:v:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("value keys = %v, %v; want one", keys, err)
	}
	ttl, err := rdb.PTTL(context.Background(), keys[0]).Result()
	if err != nil || ttl <= 0 || ttl > 2*time.Minute {
		t.Errorf("PTTL = %v, %v; want in (0, 2m]", ttl, err)
	}
}

// TestLostGenerationDoesNotResurrectValues: Redis may lose a generation
// (eviction, expiry); values stored under an older one must stay dead.
func TestLostGenerationDoesNotResurrectValues(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	c := newTestCache(t, Config{Redis: rdb})
	key := Key{"batches", "list"}
	src := &source{val: "v1"}
	mustGet(t, c, key, src.load)
	src.set("v2")
	c.InvalidateNamespace(context.Background(), "batches")
	mustGet(t, c, key, src.load)
	src.set("v3")
	c.InvalidateNamespace(context.Background(), "batches")
	if err := rdb.Del(context.Background(), "batchtrack:cache:g:7:batches").Err(); err != nil {
		t.Fatal(err)
	}
	if v, hit := mustGet(t, c, key, src.load); v != "v3" || hit {
		t.Errorf("after losing the generation: %q hit=%v, want a fresh load of v3", v, hit)
	}
}

// twoInstances returns two caches sharing one Redis through their own clients.
func twoInstances(t *testing.T, srv *redistest.Server, localTTL time.Duration) (a, b *Cache) {
	t.Helper()
	a = newTestCache(t, Config{Redis: srv.Client(), LocalTTL: localTTL})
	b = newTestCache(t, Config{Redis: srv.Client(), LocalTTL: localTTL})
	return a, b
}

func TestWriteOnOneInstanceIsSeenByAnother(t *testing.T) {
	scopes := []struct {
		name       string
		invalidate func(c *Cache, key Key)
	}{
		{"key", func(c *Cache, key Key) { c.Invalidate(context.Background(), key) }},
		{"namespace", func(c *Cache, key Key) { c.InvalidateNamespace(context.Background(), key.Namespace) }},
		{"all", func(c *Cache, key Key) { c.InvalidateAll(context.Background()) }},
	}
	for _, sc := range scopes {
		t.Run("local off/"+sc.name, func(t *testing.T) {
			a, b := twoInstances(t, redistest.Start(t), 0)
			key := Key{"events", "page=1"}
			src := &source{val: "v1"}
			mustGet(t, a, key, src.load)
			if v, hit := mustGet(t, b, key, src.load); v != "v1" || !hit {
				t.Fatalf("b before the write: %q hit=%v, want v1 shared through Redis", v, hit)
			}
			src.set("v2")
			sc.invalidate(a, key)
			// Bound zero: the very next read on b sees the write.
			if v, _ := mustGet(t, b, key, src.load); v != "v2" {
				t.Errorf("b right after the write = %q, want v2", v)
			}
		})
		t.Run("local on/"+sc.name, func(t *testing.T) {
			// LocalTTL far beyond the wait: only the broadcast can make b
			// drop its copy in time (the bound itself is tested below).
			a, b := twoInstances(t, redistest.Start(t), time.Hour)
			key := Key{"events", "page=1"}
			src := &source{val: "v1"}
			mustGet(t, a, key, src.load)
			mustGet(t, b, key, src.load)
			if v, hit := mustGet(t, b, key, src.load); v != "v1" || !hit {
				t.Fatalf("b before the write: %q hit=%v, want a hit on v1", v, hit)
			}
			src.set("v2")
			sc.invalidate(a, key)
			written := time.Now()
			waitFor(t, 5*time.Second, "b sees the write through pub/sub", func() bool {
				v, _ := mustGet(t, b, key, src.load)
				return v == "v2"
			})
			t.Logf("b saw the write after %v", time.Since(written))
			if v, _ := mustGet(t, a, key, src.load); v != "v2" {
				t.Errorf("a after its own write = %q, want v2", v)
			}
		})
	}
}

// TestLocalTTLBoundsStalenessWithoutBroadcasts checks the bound itself: with
// the broadcast lost, b's local copy still dies after LocalTTL.
func TestLocalTTLBoundsStalenessWithoutBroadcasts(t *testing.T) {
	const localTTL = 500 * time.Millisecond
	srv := redistest.Start(t)
	a := newTestCache(t, Config{Redis: srv.Client(), LocalTTL: localTTL})
	// b listens on another channel: it never hears of a's invalidations.
	b := newTestCache(t, Config{Redis: srv.Client(), LocalTTL: localTTL, channel: "elsewhere"})
	key := Key{"overview", ""}
	src := &source{val: "v1"}
	mustGet(t, a, key, src.load)
	mustGet(t, b, key, src.load)
	src.set("v2")
	a.InvalidateNamespace(context.Background(), "overview")
	time.Sleep(localTTL + 50*time.Millisecond)
	if v, _ := mustGet(t, b, key, src.load); v != "v2" {
		t.Errorf("b after LocalTTL = %q, want v2", v)
	}
}

func TestRedisOutageDegradesAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	if !srv.CanRestart() {
		t.Skip("needs a redis-server the test controls")
	}
	var logs logtest.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := func() Config {
		return Config{Redis: srv.Client(), LocalTTL: time.Second, RedisTimeout: 200 * time.Millisecond,
			ProbeInterval: 50 * time.Millisecond, Logger: logger}
	}
	a, b := newTestCache(t, cfg()), newTestCache(t, cfg())
	key := Key{"events", "page=1"}
	src := &source{val: "v1"}
	mustGet(t, a, key, src.load)

	srv.Stop()
	for i := range 20 {
		// Different keys, so each read misses the local tier and needs Redis.
		k := Key{"events", fmt.Sprint("outage-", i)}
		v, _, err := a.GetOrLoad(context.Background(), k, time.Minute, src.load)
		if err != nil || string(v) != "v1" {
			t.Fatalf("during the outage: %q, %v; want the loader's value and no error", v, err)
		}
	}
	a.InvalidateNamespace(context.Background(), "events") // must not block or fail
	if snap := a.Snapshot(); snap.RedisUp || snap.RedisOutages != 1 {
		t.Errorf("snapshot during outage: up=%v outages=%d, want down, 1", snap.RedisUp, snap.RedisOutages)
	}
	if n := strings.Count(logs.String(), "Redis unavailable"); n > 2 {
		t.Errorf("outage logged %d times by two caches, want at most once each", n)
	}

	srv.Restart()
	loadedByA := &source{val: "from-a"}
	var shared Key
	attempt := 0
	waitFor(t, 10*time.Second, "sharing resumes", func() bool {
		if !a.Snapshot().RedisUp || !b.Snapshot().RedisUp {
			return false
		}
		// A fresh key per attempt: recovery may wipe what an earlier one stored.
		attempt++
		shared = Key{"events", fmt.Sprint("after-restart-", attempt)}
		v, _, err := a.GetOrLoad(context.Background(), shared, time.Minute, loadedByA.load)
		if err != nil || string(v) != "from-a" {
			return false
		}
		got, hit, err := b.GetOrLoad(context.Background(), shared, time.Minute, func(context.Context) ([]byte, error) {
			return []byte("from-b"), nil
		})
		return err == nil && hit && string(got) == "from-a"
	})
	// Broadcasts flow again too.
	src.set("v2")
	b.InvalidateNamespace(context.Background(), "events")
	waitFor(t, 5*time.Second, "a sees b's invalidation", func() bool {
		v, _ := mustGet(t, a, shared, src.load)
		return v == "v2"
	})
}

// TestInvalidationLostInOutageIsReplayed: an instance that could not tell
// Redis about an invalidation invalidates everything when Redis is back.
func TestInvalidationLostInOutageIsReplayed(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	a := newTestCache(t, Config{Redis: srv.Client(), ProbeInterval: time.Second})
	b := newTestCache(t, Config{Redis: srv.Client()})
	key := Key{"batches", "list"}
	src := &source{val: "v1"}
	mustGet(t, b, key, src.load)
	epochBefore := rdb.Get(context.Background(), "batchtrack:cache:epoch").Val()

	// a alone loses Redis (a partition, as far as a can tell) and cannot
	// announce its write; its probe then finds Redis and recovers.
	a.redis.markDown(errors.New("partition"))
	src.set("v2")
	a.InvalidateNamespace(context.Background(), "batches")
	waitFor(t, 10*time.Second, "b sees the write after a recovers", func() bool {
		v, _ := mustGet(t, b, key, src.load)
		return v == "v2"
	})
	// a still tried Redis, so b may see the write before a recovers; the
	// recovery must start everything over all the same.
	waitFor(t, 10*time.Second, "a's recovery to replay the lost invalidation", func() bool {
		return rdb.Get(context.Background(), "batchtrack:cache:epoch").Val() != epochBefore
	})
}

func TestStartsWithRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	if !srv.CanRestart() {
		t.Skip("needs a redis-server the test controls")
	}
	client := srv.Client()
	srv.Stop()
	c := newTestCache(t, Config{Redis: client, ProbeInterval: 50 * time.Millisecond})
	src := &source{val: "v"}
	for range 3 {
		if v, _ := mustGet(t, c, Key{"overview", ""}, src.load); v != "v" {
			t.Fatalf("got %q", v)
		}
	}
	srv.Restart()
	waitFor(t, 10*time.Second, "Redis tier in use", func() bool { return c.Snapshot().RedisUp })
}

func TestMetricsCountPerNamespaceKind(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	c := newTestCache(t, Config{Metrics: m})
	src := &source{val: "v"}
	mustGet(t, c, Key{"batch:11111111", "detail"}, src.load) // miss
	mustGet(t, c, Key{"batch:11111111", "detail"}, src.load) // hit
	mustGet(t, c, Key{"batch:22222222", "detail"}, src.load) // miss
	mustGet(t, c, Key{"events", "page=1"}, src.load)         // miss
	c.InvalidateNamespace(context.Background(), "batch:22222222")

	type counts struct{ Hits, Misses, Loads, Entries, NSInvalidations int64 }
	got := map[string]counts{}
	for _, k := range c.Snapshot().Kinds {
		got[k.Kind] = counts{int64(k.Hits), int64(k.Misses), int64(k.Loads), k.Entries, int64(k.Invalidations.Namespaces)}
	}
	want := map[string]counts{
		"batch":  {Hits: 1, Misses: 2, Loads: 2, Entries: 2, NSInvalidations: 1},
		"events": {Misses: 1, Loads: 1, Entries: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]float64{}
	histograms := 0
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "," + l.GetName() + "=" + l.GetValue()
			}
			if m.GetCounter() != nil {
				series[name] = m.GetCounter().GetValue()
			}
			if f.GetName() == "batchtrack_cache_load_duration_seconds" {
				histograms++
			}
		}
	}
	wantSeries := map[string]float64{
		"batchtrack_cache_hits_total,kind=batch":                          1,
		"batchtrack_cache_hits_total,kind=events":                         0,
		"batchtrack_cache_misses_total,kind=batch":                        2,
		"batchtrack_cache_misses_total,kind=events":                       1,
		"batchtrack_cache_invalidations_total,kind=batch,scope=namespace": 1,
	}
	for name, want := range wantSeries {
		if got, ok := series[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if histograms != 2 {
		t.Errorf("load duration series = %d, want one per kind", histograms)
	}
}

func TestDisabledCacheAlwaysLoads(t *testing.T) {
	c, err := New(Config{Enabled: false, Redis: redistest.Start(t).Client()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	src := &source{val: "v"}
	for range 3 {
		if v, hit := mustGet(t, c, Key{"events", ""}, src.load); hit || v != "v" {
			t.Fatalf("got %q hit=%v, want a load", v, hit)
		}
	}
	if n := src.calls.Load(); n != 3 {
		t.Errorf("loader calls = %d, want 3", n)
	}
}

// TestKeysMayAliasReusedBuffers: Fiber hands out strings that point into
// buffers it reuses; the cache must keep copies.
func TestKeysMayAliasReusedBuffers(t *testing.T) {
	c := newTestCache(t, Config{})
	buf := []byte("batch:aaaa")
	ns := unsafe.String(&buf[0], len(buf))
	src := &source{val: "v"}
	mustGet(t, c, Key{ns, "detail"}, src.load)
	copy(buf, "batch:bbbb")
	if _, hit := mustGet(t, c, Key{"batch:aaaa", "detail"}, src.load); !hit {
		t.Errorf("entry lost when the caller's buffer was reused")
	}
	if _, hit := mustGet(t, c, Key{"batch:bbbb", "detail"}, src.load); hit {
		t.Errorf("entry found under the buffer's new contents")
	}
}

func TestGetOrLoadJSON(t *testing.T) {
	c := newTestCache(t, Config{})
	type overview struct {
		Batches int `json:"batches"`
	}
	var calls int
	loader := func(context.Context) (overview, error) {
		calls++
		return overview{Batches: 7}, nil
	}
	for i, wantHit := range []bool{false, true} {
		v, hit, err := GetOrLoadJSON(context.Background(), c, Key{"overview", ""}, time.Minute, loader)
		if err != nil || hit != wantHit || v.Batches != 7 {
			t.Errorf("call %d: %+v hit=%v err=%v", i, v, hit, err)
		}
	}
	if calls != 1 {
		t.Errorf("loader calls = %d, want 1", calls)
	}
}

func TestSendJSONSetsXCache(t *testing.T) {
	c := newTestCache(t, Config{})
	app := fiber.New()
	app.Get("/api/events", func(fc *fiber.Ctx) error {
		return c.SendJSON(fc, Key{"events", fc.OriginalURL()}, time.Minute, func(context.Context) ([]byte, error) {
			return []byte(`{"data":[]}`), nil
		})
	})
	for _, want := range []string{"MISS", "HIT"} {
		resp, err := app.Test(httptest.NewRequest("GET", "/api/events?page=1", nil))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("X-Cache"); got != want {
			t.Errorf("X-Cache = %q, want %q", got, want)
		}
		if string(body) != `{"data":[]}` || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("body %q, content type %q", body, resp.Header.Get("Content-Type"))
		}
	}
}
