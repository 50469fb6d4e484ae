package ratelimit

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"batchtrack/redistest"
)

// The log is a list no longer than the limit, and it expires one window
// after its newest request.
func TestRedisLogIsBoundedAndExpires(t *testing.T) {
	srv := redistest.Start(t)
	r := NewRedis(srv.Client(), RedisConfig{Timeout: 2 * time.Second})
	p := Policy{Name: "p", Limit: 5, Window: 30 * time.Second}
	for range 20 {
		mustAllow(t, r, "k", p)
	}
	c := srv.Client()
	keys, err := c.Keys(t.Context(), "batchtrack:ratelimit:*").Result()
	if err != nil || len(keys) != 1 || keys[0] != "batchtrack:ratelimit:p:k" {
		t.Fatalf("keys %v (%v), want one log", keys, err)
	}
	if n := c.LLen(t.Context(), keys[0]).Val(); n != int64(p.Limit) {
		t.Errorf("log holds %d entries, want %d", n, p.Limit)
	}
	if ttl := c.PTTL(t.Context(), keys[0]).Val(); ttl <= 0 || ttl > p.Window {
		t.Errorf("PTTL %v, want in (0, %v]", ttl, p.Window)
	}
}

// On Redis's own clock: refusals do not count, and waiting RetryAfter is
// enough.
func TestRedisClockRetryAfterIsHonest(t *testing.T) {
	srv := redistest.Start(t)
	r := NewRedis(srv.Client(), RedisConfig{Timeout: 2 * time.Second})
	p := Policy{Name: "p", Limit: 5, Window: 300 * time.Millisecond}
	var refusal Decision
	for range 20 {
		if d := mustAllow(t, r, "k", p); !d.Allowed {
			refusal = d
		}
	}
	if refusal.Limit == 0 || refusal.RetryAfter <= 0 || refusal.RetryAfter > p.Window {
		t.Fatalf("refusal %+v, want RetryAfter in (0, %v]", refusal, p.Window)
	}
	time.Sleep(refusal.RetryAfter + 2*time.Millisecond) // Redis TIME and ours tick apart
	if d := mustAllow(t, r, "k", p); !d.Allowed {
		t.Fatalf("refused after sleeping RetryAfter %v: %+v", refusal.RetryAfter, d)
	}
}

func TestRedisUnreachableReturnsError(t *testing.T) {
	r := NewRedis(deadRedisClient(t), RedisConfig{Timeout: 50 * time.Millisecond})
	if _, err := r.Allow(t.Context(), "k", Policy{Name: "p", Limit: 1, Window: time.Second}); err == nil {
		t.Fatal("no error from a Redis nobody listens on")
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

// A Redis that lost its scripts (restarted, SCRIPT FLUSH) gets the source
// again, within the same decisions.
func TestRedisScriptFlushed(t *testing.T) {
	srv := redistest.Start(t)
	r := NewRedis(srv.Client(), RedisConfig{Timeout: 2 * time.Second})
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
