package ratelimit

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"

	"batchtrack/redistest"
)

// newApp serves GET /api/things limited by l under p, per X-Caller, and
// /health unlimited; refusals are rendered by a custom error handler that
// writes a body, as the real app's will.
func newApp(t *testing.T, l Limiter, p Policy, failClosed bool, m *Metrics) *fiber.App {
	t.Helper()
	app := fiber.New(fiber.Config{
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			var refused *RefusedError
			if errors.As(err, &refused) {
				c.Set(fiber.HeaderContentType, "application/problem+json")
				return c.Status(fiber.StatusTooManyRequests).SendString(`{"type":"/problems/rate-limited","policy":"` + refused.Policy + `"}`)
			}
			return c.Status(fiber.StatusInternalServerError).SendString(err.Error())
		},
	})
	app.Use(Middleware(MiddlewareConfig{
		Limiter: l,
		PolicyFor: func(c *fiber.Ctx) (Policy, bool) {
			return p, c.Path() != "/health"
		},
		KeyFor:     func(c *fiber.Ctx) string { return c.Get("X-Caller") },
		FailClosed: failClosed,
		Metrics:    m,
		Logger:     slog.New(slog.DiscardHandler),
	}))
	ok := func(c *fiber.Ctx) error { return c.SendString("ok") }
	app.Get("/api/things", ok)
	app.Get("/health", ok)
	return app
}

func get(t *testing.T, app *fiber.App, path, caller string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("X-Caller", caller)
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

type rateHeaders struct {
	Status            int
	Limit, Remaining  string
	Reset             string
	RateLimit, Policy string
	RetryAfter        string
}

func headersOf(resp *http.Response) rateHeaders {
	return rateHeaders{
		Status:     resp.StatusCode,
		Limit:      resp.Header.Get("X-RateLimit-Limit"),
		Remaining:  resp.Header.Get("X-RateLimit-Remaining"),
		Reset:      resp.Header.Get("X-RateLimit-Reset"),
		RateLimit:  resp.Header.Get("RateLimit"),
		Policy:     resp.Header.Get("RateLimit-Policy"),
		RetryAfter: resp.Header.Get("Retry-After"),
	}
}

func TestMiddlewareHeadersOnSuccessAndRefusal(t *testing.T) {
	clock := newFakeClock() // 2026-01-26T13:44:00.0005Z
	app := newApp(t, NewMemory(MemoryConfig{Now: clock.Now}), Policy{Name: "read", Limit: 3, Window: time.Minute}, false, nil)

	var got []rateHeaders
	var bodies []string
	for i := 0; i < 3; i++ {
		resp, body := get(t, app, "/api/things", "alice")
		got, bodies = append(got, headersOf(resp)), append(bodies, body)
		clock.Advance(10 * time.Second)
	}
	clock.Advance(4500 * time.Millisecond) // t=34.5s: the first request leaves at t=60s
	resp, body := get(t, app, "/api/things", "alice")
	got, bodies = append(got, headersOf(resp)), append(bodies, body)

	policy := `"read";q=3;w=60`
	reset := "2026-01-26T13:45:00Z" // decisions are on the millisecond grid
	want := []rateHeaders{
		{200, "3", "2", reset, `"read";r=2;t=60`, policy, ""},
		{200, "3", "1", reset, `"read";r=1;t=50`, policy, ""},
		{200, "3", "0", reset, `"read";r=0;t=40`, policy, ""},
		{429, "3", "0", reset, `"read";r=0;t=26`, policy, "26"}, // 25.5s, rounded up
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("headers (-want +got):\n%s", diff)
	}
	if bodies[3] != `{"type":"/problems/rate-limited","policy":"read"}` || bodies[0] != "ok" {
		t.Fatalf("bodies %q", bodies)
	}

	// Retry-After is honest: 25.5s later the request goes through.
	clock.Advance(25500 * time.Millisecond)
	if resp, _ := get(t, app, "/api/things", "alice"); resp.StatusCode != 200 {
		t.Fatalf("after Retry-After: %d", resp.StatusCode)
	}
	// Other callers and unlimited routes are untouched.
	if resp, _ := get(t, app, "/api/things", "bob"); headersOf(resp).Remaining != "2" {
		t.Fatalf("bob: %+v", headersOf(resp))
	}
	if resp, _ := get(t, app, "/health", "alice"); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("unlimited route: %d %+v", resp.StatusCode, headersOf(resp))
	}
}

func TestMiddlewareHeadersAgreeUnderRealTime(t *testing.T) {
	p := Policy{Name: "events_write", Limit: 4, Window: time.Minute}
	app := newApp(t, NewMemory(MemoryConfig{}), p, false, nil)
	prevRemaining := p.Limit
	for i := 0; i < p.Limit+2; i++ {
		resp, _ := get(t, app, "/api/things", "c")
		h := headersOf(resp)
		remaining, _ := strconv.Atoi(h.Remaining)
		reset, err := time.Parse(time.RFC3339, h.Reset)
		if err != nil {
			t.Fatalf("request %d: X-RateLimit-Reset %q: %v", i, h.Reset, err)
		}
		if until := time.Until(reset); until <= 0 || until > p.Window+time.Second {
			t.Fatalf("request %d: reset %v from now", i, until)
		}
		if h.Limit != "4" || h.Policy != `"events_write";q=4;w=60` {
			t.Fatalf("request %d: %+v", i, h)
		}
		refused := i >= p.Limit
		if (h.Status == 429) != refused || (h.RetryAfter != "") != refused {
			t.Fatalf("request %d: %+v", i, h)
		}
		if !refused && remaining != prevRemaining-1 || refused && remaining != 0 {
			t.Fatalf("request %d: remaining %d after %d", i, remaining, prevRemaining)
		}
		prevRemaining = remaining
		if refused && h.RateLimit != `"events_write";r=0;t=`+h.RetryAfter {
			t.Fatalf("request %d: RateLimit %q and Retry-After %q disagree", i, h.RateLimit, h.RetryAfter)
		}
	}
}

func TestMiddlewareDefaultErrorHandlerAnswers429(t *testing.T) {
	app := fiber.New()
	app.Use(Middleware(MiddlewareConfig{
		Limiter:   NewMemory(MemoryConfig{}),
		PolicyFor: func(*fiber.Ctx) (Policy, bool) { return Policy{Name: "p", Limit: 1, Window: time.Minute}, true },
	}))
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
	codes := []int{}
	for i := 0; i < 2; i++ {
		resp, err := app.Test(httptest.NewRequest(http.MethodGet, "/", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, resp.StatusCode)
		if resp.Header.Get("X-RateLimit-Limit") != "1" {
			t.Fatalf("response %d lacks the rate limit headers", i)
		}
	}
	if diff := cmp.Diff([]int{200, 429}, codes); diff != "" {
		t.Fatal(diff)
	}
}

func TestMiddlewareLimiterErrors(t *testing.T) {
	broken := NewRedis(deadRedisClient(t), RedisConfig{Timeout: 50 * time.Millisecond})
	p := Policy{Name: "p", Limit: 10, Window: time.Minute}
	tests := []struct {
		failClosed bool
		wantStatus int
	}{
		{false, 200},
		{true, 429},
	}
	for _, tt := range tests {
		m, _ := NewMetrics(nil)
		resp, _ := get(t, newApp(t, broken, p, tt.failClosed, m), "/api/things", "c")
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("failClosed=%v: status %d, want %d", tt.failClosed, resp.StatusCode, tt.wantStatus)
		}
		if tt.failClosed && resp.Header.Get("Retry-After") != "1" {
			t.Errorf("fail-closed refusal without Retry-After: %+v", headersOf(resp))
		}
		if got := m.Snapshot().StoreErrors; got != 1 {
			t.Errorf("failClosed=%v: %d store errors counted, want 1", tt.failClosed, got)
		}
	}
}

// Two instances (two apps, two clients) on one Redis share the limit.
func TestMiddlewareSharedAcrossInstances(t *testing.T) {
	srv := redistest.Start(t)
	p := Policy{Name: "read", Limit: 5, Window: time.Minute}
	apps := []*fiber.App{
		newApp(t, NewRedis(srv.Client(), RedisConfig{Timeout: 2 * time.Second}), p, false, nil),
		newApp(t, NewRedis(srv.Client(), RedisConfig{Timeout: 2 * time.Second}), p, false, nil),
	}
	var statuses []int
	var remaining []string
	for i := 0; i < 7; i++ {
		resp, _ := get(t, apps[i%2], "/api/things", "shared")
		statuses = append(statuses, resp.StatusCode)
		remaining = append(remaining, resp.Header.Get("X-RateLimit-Remaining"))
	}
	if diff := cmp.Diff([]int{200, 200, 200, 200, 200, 429, 429}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"4", "3", "2", "1", "0", "0", "0"}, remaining); diff != "" {
		t.Errorf("remaining (-want +got):\n%s", diff)
	}
}

func TestMiddlewareMetrics(t *testing.T) {
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	app := newApp(t, NewMemory(MemoryConfig{Now: clock.Now}), Policy{Name: "read", Limit: 2, Window: time.Minute}, false, m)
	for caller, n := range map[string]int{"heavy": 12, "light": 4, "fine": 1} {
		for i := 0; i < n; i++ {
			get(t, app, "/api/things", caller)
		}
	}
	want := Snapshot{
		Policies:   []PolicyCounts{{Policy: "read", Allowed: 5, Refused: 12}},
		TopRefused: []CallerRefusals{{Key: "heavy", Refused: 10}, {Key: "light", Refused: 2}},
	}
	if diff := cmp.Diff(want, m.Snapshot()); diff != "" {
		t.Fatalf("snapshot (-want +got):\n%s", diff)
	}
}

// Requests GiveBack names (writes refused for validation) do not use up
// the quota, on either store, and their answer says so.
func TestMiddlewareGivesBackRequestsThatDidNothing(t *testing.T) {
	srv := redistest.Start(t)
	errInvalid := fiber.NewError(fiber.StatusUnprocessableEntity, "invalid")
	for _, store := range []struct {
		name string
		l    Limiter
	}{
		{"memory", NewMemory(MemoryConfig{})},
		{"redis", NewRedis(srv.Client(), RedisConfig{Timeout: 2 * time.Second})},
	} {
		t.Run(store.name, func(t *testing.T) {
			app := fiber.New()
			app.Use(Middleware(MiddlewareConfig{
				Limiter:   store.l,
				PolicyFor: func(*fiber.Ctx) (Policy, bool) { return Policy{Name: "write", Limit: 2, Window: time.Minute}, true },
				GiveBack:  func(_ *fiber.Ctx, err error) bool { return errors.Is(err, errInvalid) },
			}))
			app.Post("/", func(c *fiber.Ctx) error {
				if c.Get("X-Invalid") != "" {
					return errInvalid
				}
				return c.SendString("ok")
			})
			type answer struct {
				Status    int
				Remaining string
			}
			var got []answer
			for _, invalid := range []bool{true, true, true, false, true, false, false} {
				req := httptest.NewRequest(http.MethodPost, "/", nil)
				if invalid {
					req.Header.Set("X-Invalid", "1")
				}
				resp, err := app.Test(req, -1)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, answer{resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining")})
			}
			want := []answer{{422, "2"}, {422, "2"}, {422, "2"}, {200, "1"}, {422, "1"}, {200, "0"}, {429, "0"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}
