package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"batchtrack/auth"
	"batchtrack/db"
	"batchtrack/db/pgtest"
	"batchtrack/idempotency"
	"batchtrack/inventory"
	"batchtrack/logtest"
	"batchtrack/web/cache"
	"batchtrack/web/metrics"
	"batchtrack/web/ratelimit"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testApp is the whole HTTP stack on a fresh database.
type testApp struct {
	t      testing.TB
	srv    *Server
	svc    *inventory.Service
	pool   *pgxpool.Pool
	logBuf *logtest.Buffer
	// auth holds the accounts; requests from do carry adminToken (a
	// seeded admin's API token) unless anonymous is set or the request
	// brings its own Authorization or Cookie header.
	auth       *auth.Service
	clock      *testClock
	adminToken string
	anonymous  bool
	opts       appOptions
	reg        *prometheus.Registry
	rec        *metrics.Recorder
}

type appOptions struct {
	maxConns    int32
	lockTimeout time.Duration
	// anonymous: do sends no credentials by default.
	anonymous bool
	// auth overrides the login throttles and the like.
	auth AuthConfig
	// limits turns on API rate limits (off by default in tests).
	limits RateLimits
	// cache replaces the default in-memory read cache.
	cache *cache.Cache
	// recorderInterval is the dashboard's sampling period (default 5s).
	recorderInterval time.Duration
	// instance names the app on the dashboard (default "test").
	instance string
	// publicURL is PUBLIC_URL (default http://batchtrack.test).
	publicURL string
	// peers is the shared dashboard board (default none).
	peers PeerBoard
}

func newTestApp(t testing.TB, opts ...appOptions) *testApp {
	t.Helper()
	var o appOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.lockTimeout == 0 {
		o.lockTimeout = 2 * time.Second
	}
	pool := pgtest.NewWithOptions(t, pgtest.Options{MaxConns: o.maxConns})
	a := buildTestApp(t, pool, o)
	a.adminToken = a.tokenFor(a.newUser(roleAdmin))
	return a
}

// sibling is a second instance of the app on the same database, with its
// own read cache (scale-out tests).
func (a *testApp) sibling(c *cache.Cache) *testApp {
	o := a.opts
	o.cache = c
	s := buildTestApp(a.t, a.pool, o)
	s.adminToken = a.adminToken
	return s
}

// buildTestApp wires the app as main does: one registry with the consume
// path's, the cache's and the limiter's metrics, the pool collector, and a
// recorder a test samples by hand (SampleNow) or runs.
func buildTestApp(t testing.TB, pool *pgxpool.Pool, o appOptions) *testApp {
	t.Helper()
	store := db.NewStore(pool)
	var logBuf logtest.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewPoolCollector(pool))
	cacheMetrics, err := cache.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	readCache := o.cache
	if readCache == nil {
		if readCache, err = cache.New(cache.Config{Enabled: true, Metrics: cacheMetrics, Logger: logger}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = readCache.Close() })
	}
	svc := inventory.New(store, inventory.Options{LockTimeout: o.lockTimeout, Logger: logger,
		Metrics: inventory.NewMetrics(reg), Changes: Invalidator{Cache: readCache}})
	if o.limits.Policies != nil && o.limits.Metrics == nil {
		if o.limits.Metrics, err = ratelimit.NewMetrics(reg); err != nil {
			t.Fatal(err)
		}
	}
	interval := o.recorderInterval
	if interval == 0 {
		interval = 5 * time.Second
	}
	rec, err := metrics.NewRecorder(reg, metrics.RecorderConfig{Interval: interval, Pool: pool, LockWaiters: store,
		Cache: readCache, Registerer: reg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	instance := o.instance
	if instance == "" {
		instance = "test"
	}
	publicURL := o.publicURL
	if publicURL == "" {
		publicURL = "http://batchtrack.test"
	}
	clock := newTestClock()
	accounts := newTestAuth(store.Queries, clock)
	o.auth.Service = accounts
	srv := New(Deps{
		Inventory: svc, Idempotency: idempotency.New(store.Queries), Pool: pool, Logger: logger,
		PublicURL: publicURL, LockTimeout: o.lockTimeout, Instance: instance, Auth: o.auth,
		RateLimits: o.limits, Caching: Caching{Cache: readCache, TTL: 2 * time.Minute},
		Registry: reg, HTTPMetrics: metrics.NewHTTP(reg), Recorder: rec, Peers: o.peers,
	})
	// Capture jobs still storing finish before the database goes away.
	t.Cleanup(func() { srv.waitForCaptures(time.Minute) })
	return &testApp{t: t, srv: srv, svc: svc, pool: pool, logBuf: &logBuf, auth: accounts, clock: clock,
		anonymous: o.anonymous, opts: o, reg: reg, rec: rec}
}

// do sends a request through app.Test (no network).
func (a *testApp) do(method, path string, body any, headers ...string) *http.Response {
	a.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		r = bytes.NewReader(js)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if !a.anonymous && req.Header.Get("Authorization") == "" && req.Header.Get("Cookie") == "" {
		req.Header.Set("Authorization", "Bearer "+a.adminToken)
	}
	resp, err := a.srv.App().Test(req, 30_000)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// listen serves the app on a loopback port for real HTTP clients and
// browsers, until the test ends. Unless the app is anonymous, the URL is a
// proxy in front of it that adds the admin token to requests bringing no
// Authorization and no Cookie (a browser that logged in sends its cookie).
func (a *testApp) listen() string {
	a.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.t.Fatal(err)
	}
	go func() { _ = a.srv.Serve(ln) }()
	a.t.Cleanup(func() { _ = a.srv.App().ShutdownWithTimeout(5 * time.Second) })
	direct := "http://" + ln.Addr().String()
	if a.anonymous {
		return direct
	}
	return a.authProxy(direct)
}

func decode[T any](t testing.TB, resp *http.Response) T {
	t.Helper()
	defer resp.Body.Close()
	var v T
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, b, err)
	}
	return v
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustUUID(t testing.TB, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
