package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"batchtrack/gs1"
	"batchtrack/redistest"
	"batchtrack/web/ratelimit"
)

func memoryLimits(policies map[string]ratelimit.Policy) RateLimits {
	return RateLimits{Limiter: ratelimit.NewMemory(ratelimit.MemoryConfig{}), Policies: policies}
}

// Headers on success and on 429 agree with each other and the policy, and
// each route takes its policy.
func TestRateLimitHeadersAndPolicies(t *testing.T) {
	policies := map[string]ratelimit.Policy{
		ratelimit.PolicyRead:         {Name: ratelimit.PolicyRead, Limit: 3, Window: time.Minute},
		ratelimit.PolicyConsume:      {Name: ratelimit.PolicyConsume, Limit: 2, Window: time.Minute},
		ratelimit.PolicyEventsWrite:  {Name: ratelimit.PolicyEventsWrite, Limit: 5, Window: time.Minute},
		ratelimit.PolicyBatchesWrite: {Name: ratelimit.PolicyBatchesWrite, Limit: 5, Window: time.Minute},
	}
	a := newTestApp(t, appOptions{limits: memoryLimits(policies)})
	b := a.fixture("10")
	var lastReset string
	for i := range 4 {
		resp := a.do("GET", "/api/batches/"+b.ID.String(), nil)
		limit, remaining := resp.Header.Get("X-RateLimit-Limit"), resp.Header.Get("X-RateLimit-Remaining")
		reset := resp.Header.Get("X-RateLimit-Reset")
		if _, err := time.Parse(time.RFC3339, reset); err != nil {
			t.Fatalf("X-RateLimit-Reset %q: %v", reset, err)
		}
		if limit != "3" || resp.Header.Get("RateLimit-Policy") == "" || resp.Header.Get("RateLimit") == "" {
			t.Errorf("request %d: limit %q, policy %q", i, limit, resp.Header.Get("RateLimit-Policy"))
		}
		if i < 3 {
			if resp.StatusCode != 200 || remaining != strconv.Itoa(2-i) || resp.Header.Get("Retry-After") != "" {
				t.Errorf("request %d: status %d, remaining %q, Retry-After %q", i, resp.StatusCode, remaining, resp.Header.Get("Retry-After"))
			}
			lastReset = reset
			continue
		}
		if resp.StatusCode != 429 || remaining != "0" {
			t.Fatalf("request 4: status %d, remaining %q", resp.StatusCode, remaining)
		}
		retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || retry < 1 || retry > 60 {
			t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
		if reset < lastReset {
			t.Errorf("reset went back: %s after %s", reset, lastReset)
		}
		p := decode[Problem](t, resp)
		if p.Type != "/problems/rate-limited" || p.Status != 429 {
			t.Errorf("problem %+v", p)
		}
	}
	// Consume has its own budget, untouched by the reads.
	for i := range 3 {
		resp := a.do("POST", "/api/batches/"+b.ID.String()+"/consume", map[string]any{"quantity_to_consume": "0.1"})
		want := 200
		if i == 2 {
			want = 429
		}
		if resp.StatusCode != want || resp.Header.Get("X-RateLimit-Limit") != "2" {
			t.Errorf("consume %d: status %d, limit %q", i, resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"))
		}
	}
	// A refused consume consumed nothing.
	if l := a.checkLedger(b); l.Entries != 2 {
		t.Errorf("ledger has %d entries after 2 allowed consumes", l.Entries)
	}
}

func redisLimits(t *testing.T, url string, mode ratelimit.FailMode, policies map[string]ratelimit.Policy) RateLimits {
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.MaxRetries = 200*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond, 0
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return RateLimits{Policies: policies, Limiter: ratelimit.NewFallback(ratelimit.FallbackConfig{
		Primary: ratelimit.NewRedis(client, ratelimit.RedisConfig{}), Mode: mode, ProbeEvery: 100 * time.Millisecond,
		Fallback: ratelimit.NewMemory(ratelimit.MemoryConfig{}),
	})}
}

// Two app instances on one Redis share one limit; with Redis stopped they
// keep serving from memory (fail-open) or refuse (fail-closed); with Redis
// back the shared limit returns without a restart.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	policies := map[string]ratelimit.Policy{ratelimit.PolicyRead: {Name: ratelimit.PolicyRead, Limit: 10, Window: time.Minute}}
	// Anonymous callers: both instances see the same client address, so
	// they count against one key. (The guard answers 401 after the limiter.)
	one := newTestApp(t, appOptions{anonymous: true, limits: redisLimits(t, srv.URL, ratelimit.FailOpen, policies)})
	two := newTestApp(t, appOptions{anonymous: true, limits: redisLimits(t, srv.URL, ratelimit.FailOpen, policies)})
	closed := newTestApp(t, appOptions{anonymous: true, limits: redisLimits(t, srv.URL, ratelimit.FailClosed, policies)})

	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			app := one
			if i%2 == 1 {
				app = two
			}
			resp := app.do("GET", "/api/batches", nil)
			if resp.StatusCode == 429 {
				refused.Add(1)
			} else {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 10 || refused.Load() != 20 {
		t.Fatalf("across two instances: %d allowed, %d refused; want 10 and 20", allowed.Load(), refused.Load())
	}
	if !srv.CanRestart() {
		t.Skip("TEST_REDIS_URL names a server this test cannot stop")
	}
	srv.Stop()
	// Fail-open: served (from each instance's memory), not refused for the outage.
	if resp := one.do("GET", "/api/batches", nil); resp.StatusCode == 429 || resp.StatusCode >= 500 {
		t.Errorf("fail-open during the outage: %d", resp.StatusCode)
	}
	// Fail-closed: refused.
	if resp := closed.do("GET", "/api/batches", nil); resp.StatusCode != 429 {
		t.Errorf("fail-closed during the outage: %d", resp.StatusCode)
	}
	srv.Restart()
	// Back: the fresh Redis counts again for both; after the probe notices,
	// 10 more are allowed in all, then refusals.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := closed.do("GET", "/api/batches", nil)
		if resp.StatusCode != 429 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("fail-closed instance still refusing 10s after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := 1
	for range 20 {
		app := one
		if got%2 == 0 {
			app = two
		}
		if app.do("GET", "/api/batches", nil).StatusCode != 429 {
			got++
		}
	}
	// Each instance may serve a request or two from memory before its probe
	// sees Redis back; after that the shared count rules.
	if got < 10 || got > 14 {
		t.Errorf("after Redis came back: %d allowed, want about 10", got)
	}
	_ = http.StatusOK
}

// An admin can give a service account's token more than the default.
func TestTokenRateLimitOverride(t *testing.T) {
	policies := map[string]ratelimit.Policy{ratelimit.PolicyRead: {Name: ratelimit.PolicyRead, Limit: 2, Window: time.Minute}}
	a := newTestApp(t, appOptions{limits: memoryLimits(policies)})
	service := a.tokenFor(a.newUser(roleViewer))
	limits, err := ratelimit.ParseTokenRateLimits("read=5/1m")
	if err != nil {
		t.Fatal(err)
	}
	id, err := a.auth.TokenIDByPrefix(context.Background(), service[:11])
	if err != nil {
		t.Fatal(err)
	}
	if err := a.auth.SetTokenRateLimits(context.Background(), id, limits); err != nil {
		t.Fatal(err)
	}
	count := func(token string) (allowed int) {
		for range 8 {
			resp := a.do("GET", "/api/products", nil, "Authorization", "Bearer "+token)
			if resp.StatusCode == 200 {
				allowed++
			}
		}
		return allowed
	}
	if got := count(a.adminToken); got != 2 {
		t.Errorf("default token: %d allowed, want 2", got)
	}
	if got := count(service); got != 5 {
		t.Errorf("service token with read=5/1m: %d allowed, want 5", got)
	}
	for _, bad := range []string{"read=lots", "write=5/1m", "read"} {
		if _, err := ratelimit.ParseTokenRateLimits(bad); err == nil {
			t.Errorf("ratelimit.ParseTokenRateLimits(%q) accepted", bad)
		}
	}
}

// The admin page sets a token's limits, and refuses a bad spec inline.
func TestAdminSetsTokenLimits(t *testing.T) {
	a := newTestApp(t)
	service := a.tokenFor(a.newUser(roleOperator))
	id, err := a.auth.TokenIDByPrefix(context.Background(), service[:11])
	if err != nil {
		t.Fatal(err)
	}
	admin := a.sessionFor(a.newUser(roleAdmin))
	path := "/admin/tokens/" + id.String() + "/limits"
	resp := a.doAs(admin, "POST", path, url.Values{"rate_limits": {"consume=many"}}.Encode())
	if resp.StatusCode != 422 || !strings.Contains(readBody(t, resp), `data-testid="token-limits-error"`) {
		t.Fatalf("bad limits: status %d", resp.StatusCode)
	}
	resp = a.doAs(admin, "POST", path, url.Values{"rate_limits": {"consume=1000/1m, read=5000/1m"}}.Encode())
	if resp.StatusCode != 200 {
		t.Fatalf("set limits: %d %s", resp.StatusCode, readBody(t, resp))
	}
	toks, err := a.auth.ListTokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if tok.ID == id && ratelimit.FormatTokenRateLimits(tok.RateLimits) != "read=5000/1m,consume=1000/1m" {
			t.Errorf("stored limits %v", tok.RateLimits)
		}
	}
}

// Writes to products and locations take their own budget (master_write),
// and a write refused for validation (422) gives its unit back: only
// writes that could write count.
func TestRateLimitMasterWritesAndValidationRefusals(t *testing.T) {
	policies := map[string]ratelimit.Policy{
		ratelimit.PolicyMasterWrite:  {Name: ratelimit.PolicyMasterWrite, Limit: 2, Window: time.Minute},
		ratelimit.PolicyBatchesWrite: {Name: ratelimit.PolicyBatchesWrite, Limit: 1, Window: time.Minute},
	}
	a := newTestApp(t, appOptions{limits: memoryLimits(policies)})
	// Unique in the shared test database: twelve digits, then the check digit.
	digits := fmt.Sprintf("%010d", time.Now().UnixNano()%1e10)
	gtin := "40" + digits + string(gs1.CheckDigit("40"+digits))
	gln := "61" + digits + string(gs1.CheckDigit("61"+digits))
	for i, step := range []struct {
		path, body    string
		key           string // Idempotency-Key: the outcome is rendered before the limiter sees it
		wantStatus    int
		wantLimit     string
		wantRemaining string
	}{
		{"/api/products", `{"name": "no gtin"}`, "", 422, "2", "2"},
		{"/api/products", `{"gtin": "4006381333932", "name": "bad check digit"}`, "", 422, "2", "2"},
		{"/api/locations", `{"gln": "` + gln + `", "name": "x", "type": "moon"}`, "", 422, "2", "2"},
		{"/api/products", `{"name": "keyed"}`, "key-1", 422, "2", "2"},
		{"/api/products", `{"gtin": "` + gtin + `", "name": "Rye flour"}`, "", 201, "2", "1"},
		{"/api/products", `{"name": "still invalid"}`, "", 422, "2", "1"},
		{"/api/locations", `{"gln": "` + gln + `", "name": "Mill", "type": "farm"}`, "", 201, "2", "0"},
		{"/api/products", `{"name": "refused before validation"}`, "", 429, "2", "0"},
		{"/api/batches", `{}`, "", 422, "1", "1"}, // batches keep their own budget
	} {
		var headers []string
		if step.key != "" {
			headers = []string{"Idempotency-Key", step.key}
		}
		resp := a.do("POST", step.path, step.body, headers...)
		got := []string{strconv.Itoa(resp.StatusCode), resp.Header.Get("X-RateLimit-Limit"), resp.Header.Get("X-RateLimit-Remaining")}
		want := []string{strconv.Itoa(step.wantStatus), step.wantLimit, step.wantRemaining}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("step %d, POST %s %s: status, limit, remaining %v, want %v: %s", i, step.path, step.body, got, want, readBody(t, resp))
		}
	}
}
