package metrics

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"batchtrack/db"
)

// counterValues reads a counter family as "label=value,..." -> value.
func counterValues(t *testing.T, g prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	return metricValues(t, g, name, func(m *dto.Metric) float64 { return m.GetCounter().GetValue() })
}

// histogramCounts reads a histogram family's sample counts the same way.
func histogramCounts(t *testing.T, g prometheus.Gatherer, name string) map[string]uint64 {
	t.Helper()
	return metricValues(t, g, name, func(m *dto.Metric) uint64 { return m.GetHistogram().GetSampleCount() })
}

func metricValues[V any](t *testing.T, g prometheus.Gatherer, name string, value func(*dto.Metric) V) map[string]V {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]V{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.Metric {
			var parts []string
			for _, l := range m.Label {
				parts = append(parts, l.GetName()+"="+l.GetValue())
			}
			out[strings.Join(parts, ",")] = value(m)
		}
	}
	return out
}

// testApp mimics web's stack: metrics outermost, then a request wrapper
// that renders errors itself (as web.withRequest does), then routes.
func testApp(h *HTTP) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(h.Middleware, func(c *fiber.Ctx) error {
		if err := c.Next(); err != nil {
			var fe *fiber.Error
			code := 500
			if errors.As(err, &fe) {
				code = fe.Code
			}
			return c.Status(code).SendString(err.Error())
		}
		return nil
	})
	api := app.Group("/api", func(c *fiber.Ctx) error {
		if c.Get("X-Refuse") != "" {
			return fiber.NewError(fiber.StatusTooManyRequests, "slow down")
		}
		return c.Next()
	})
	api.Get("/items/:id", func(c *fiber.Ctx) error {
		if c.Params("id") == "boom" {
			return errors.New("boom")
		}
		return c.SendString("ok")
	})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("home") })
	app.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	return app
}

func TestMiddlewareLabelsByPatternMethodAndFinalStatus(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewHTTP(reg)
	app := testApp(h)
	requests := []struct {
		method, path string
		header       string
	}{
		{"GET", "/api/items/1", ""},
		{"GET", "/api/items/2", ""},
		{"GET", "/api/items/boom", ""},
		{"GET", "/api/items/3", "X-Refuse"},
		{"HEAD", "/api/items/1", ""},
		{"GET", "/", ""},
		{"GET", "/no/such/path", ""},
		{"GET", "/another/unknown", ""},
	}
	for _, r := range requests {
		req := httptest.NewRequest(r.method, r.path, nil)
		if r.header != "" {
			req.Header.Set(r.header, "1")
		}
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	got := counterValues(t, reg, "batchtrack_http_requests_total")
	want := map[string]float64{
		"method=GET,route=/api/items/:id,status=200":  2,
		"method=GET,route=/api/items/:id,status=500":  1,
		"method=GET,route=/api,status=429":            1, // refused by the group's middleware
		"method=HEAD,route=/api/items/:id,status=200": 1,
		"method=GET,route=/,status=200":               1,
		"method=GET,route=unmatched,status=404":       2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	hist := histogramCounts(t, reg, "batchtrack_http_request_duration_seconds")
	if hist["method=GET,route=/api/items/:id"] != 3 || hist["method=GET,route=unmatched"] != 2 {
		t.Errorf("durations %v", hist)
	}
}

// Label values must not alias Fiber's reused request buffers.
func TestMiddlewareLabelsSurviveBufferReuse(t *testing.T) {
	reg := prometheus.NewRegistry()
	app := testApp(NewHTTP(reg))
	for _, p := range []string{"/api/items/1", "/zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "/api/items/2"} {
		resp, err := app.Test(httptest.NewRequest("GET", p, nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for k := range counterValues(t, reg, "batchtrack_http_requests_total") {
		if strings.Contains(k, "zzz") {
			t.Errorf("label taken from the request path: %s", k)
		}
	}
}

// fakeSource is a registry whose counters the test moves by hand.
type fakeSource struct {
	reg                    *prometheus.Registry
	requests               *prometheus.CounterVec
	duration               *prometheus.HistogramVec
	lockWait               prometheus.Histogram
	conflicts, timeouts    prometheus.Counter
	cacheHits, cacheMisses *prometheus.CounterVec
	waiters                []db.LockWaiter
}

func newFakeSource(t *testing.T) *fakeSource {
	t.Helper()
	f := &fakeSource{reg: prometheus.NewRegistry()}
	f.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: nameRequests}, []string{"route", "method", "status"})
	f.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: nameDuration, Buckets: LatencyBuckets}, []string{"route", "method"})
	f.reg.MustRegister(f.requests, f.duration)
	f.lockWait = prometheus.NewHistogram(prometheus.HistogramOpts{Name: nameLockWait, Buckets: []float64{.001, .01, .1, 1}})
	f.conflicts = prometheus.NewCounter(prometheus.CounterOpts{Name: nameVersionConflicts})
	f.timeouts = prometheus.NewCounter(prometheus.CounterOpts{Name: nameLockTimeouts})
	f.cacheHits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: nameCacheHits}, []string{"kind"})
	f.cacheMisses = prometheus.NewCounterVec(prometheus.CounterOpts{Name: nameCacheMisses}, []string{"kind"})
	f.reg.MustRegister(f.lockWait, f.conflicts, f.timeouts, f.cacheHits, f.cacheMisses)
	return f
}

func (f *fakeSource) ListLockWaiters(context.Context) ([]db.LockWaiter, error) { return f.waiters, nil }

func TestRecorderSamplesDeltasIntoARing(t *testing.T) {
	f := newFakeSource(t)
	rec, err := NewRecorder(f.reg, RecorderConfig{Interval: time.Second, Size: 3, LockWaiters: f, Registerer: f.reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := rec.Since()

	f.requests.WithLabelValues("/api/batches", "GET", "200").Add(90)
	f.requests.WithLabelValues("/api/batches", "GET", "503").Add(10)
	f.requests.WithLabelValues("/api/batches", "GET", "429").Add(5)
	f.requests.WithLabelValues("/dashboard/live", "GET", "200").Add(1000) // the dashboard itself: left out
	for range 100 {
		f.duration.WithLabelValues("/api/batches", "GET").Observe(0.003)
	}
	f.cacheHits.WithLabelValues("batch").Add(30)
	f.cacheMisses.WithLabelValues("batch").Add(10)
	f.lockWait.Observe(0.05)
	f.conflicts.Inc()
	f.waiters = []db.LockWaiter{{PID: 7}, {PID: 8}}
	rec.SampleNow(ctx, t0.Add(10*time.Second))

	f.requests.WithLabelValues("/api/batches", "GET", "200").Add(20)
	f.timeouts.Inc()
	f.waiters = nil
	rec.SampleNow(ctx, t0.Add(20*time.Second))

	s := rec.Samples()
	if len(s) != 2 {
		t.Fatalf("%d samples", len(s))
	}
	first, second := s[0], s[1]
	if first.Requests != 105 || first.Errors != 10 || first.RateLimited != 5 || first.Seconds != 10 {
		t.Errorf("first sample %+v", first)
	}
	if first.CacheHits != 30 || first.CacheMisses != 10 || first.LockWaits != 1 || first.VersionConflicts != 1 || first.WaitingNow != 2 {
		t.Errorf("first sample %+v", first)
	}
	if second.Requests != 20 || second.Errors != 0 || second.LockTimeouts != 1 || second.LockWaits != 0 || second.WaitingNow != 0 {
		t.Errorf("second sample %+v", second)
	}
	var gauge float64
	fams, _ := f.reg.Gather()
	for _, fam := range fams {
		if fam.GetName() == "batchtrack_db_lock_waiters" {
			gauge = fam.Metric[0].GetGauge().GetValue()
		}
	}
	if gauge != 0 {
		t.Errorf("lock waiters gauge %v after the waiters left", gauge)
	}

	tiles := rec.Tiles(s, time.Minute)
	if tiles.Requests != 125 || tiles.RPS != 125.0/20 || tiles.ErrorRate != 10.0/125 || tiles.CacheHitRatio != 0.75 {
		t.Errorf("tiles %+v", tiles)
	}
	if tiles.RateLimitedPerM != 5.0/20*60 || tiles.LockTimeouts != 1 || tiles.VersionConflicts != 1 {
		t.Errorf("tiles %+v", tiles)
	}
	// One wait of 50ms: its bucket is (10ms, 100ms].
	if tiles.LockWaitMax != 100 || tiles.LockWaitP95 <= 10 || tiles.LockWaitP95 > 100 {
		t.Errorf("lock wait max %v, P95 %v", tiles.LockWaitMax, tiles.LockWaitP95)
	}
	// All requests took 3ms: P50..P99 lie in the (2.5ms, 5ms] bucket.
	for _, q := range []float64{tiles.P50, tiles.P95, tiles.P99} {
		if q <= 2.5 || q > 5 {
			t.Errorf("latency quantile %v ms outside (2.5, 5]", q)
		}
	}
	// The window keeps only samples after last-window: the first is out.
	if w := rec.Tiles(s, 5*time.Second); w.Requests != 20 || w.WindowSeconds != 10 {
		t.Errorf("5s window: %+v", w)
	}

	// The ring keeps the last Size samples, oldest first.
	rec.SampleNow(ctx, t0.Add(30*time.Second))
	rec.SampleNow(ctx, t0.Add(40*time.Second))
	s = rec.Samples()
	if len(s) != 3 || !s[0].At.Equal(t0.Add(20*time.Second)) || !s[2].At.Equal(t0.Add(40*time.Second)) {
		t.Errorf("ring after overflow: %v", sampleTimes(s))
	}
	if pts := rec.Points(s); len(pts) != 3 || pts[0].LockTimeouts != 1 || pts[1].CacheHitRatio != -1 {
		t.Errorf("points %+v", pts)
	}
}

func sampleTimes(s []Sample) []time.Time {
	out := make([]time.Time, len(s))
	for i := range s {
		out[i] = s[i].At
	}
	return out
}

func TestTilesWithNoSamplesAreEmptyNotNaN(t *testing.T) {
	rec, err := NewRecorder(prometheus.NewRegistry(), RecorderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tiles := rec.Tiles(nil, time.Minute)
	for name, v := range map[string]float64{"rps": tiles.RPS, "err": tiles.ErrorRate, "p95": tiles.P95, "lock": tiles.LockWaitP95, "max": tiles.LockWaitMax} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v != 0 {
			t.Errorf("%s = %v on a fresh start", name, v)
		}
	}
	if tiles.CacheHitRatio != -1 {
		t.Errorf("cache hit ratio %v without lookups, want -1", tiles.CacheHitRatio)
	}
	if a := DefaultThresholds.Alerts(tiles); len(a) != 0 {
		t.Errorf("alerts on a fresh start: %v", a)
	}
}

func TestQuantile(t *testing.T) {
	bounds := []float64{1, 2, 4}
	tests := []struct {
		q      float64
		counts []float64
		want   float64
	}{
		{.5, []float64{0, 10, 0, 0}, 1.5},
		{1, []float64{0, 10, 0, 0}, 2},
		{.5, []float64{10, 0, 0, 0}, .5},
		{.99, []float64{0, 0, 0, 5}, 4}, // +Inf bucket: its lower bound
		{.75, []float64{5, 0, 5, 0}, 3},
	}
	for _, tt := range tests {
		if got := Quantile(tt.q, bounds, tt.counts); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", tt.q, tt.counts, got, tt.want)
		}
	}
	if got := Quantile(.5, bounds, []float64{0, 0, 0, 0}); !math.IsNaN(got) {
		t.Errorf("no observations: %v, want NaN", got)
	}
}

// Each alert fires strictly past its threshold, and only after warm-up
// where there is one.
func TestAlertThresholdsAreExact(t *testing.T) {
	th := DefaultThresholds
	base := Tiles{Window: time.Minute, Requests: 10_000, CacheLookups: 1000, CacheHitRatio: 0.9}
	tests := []struct {
		name string
		edit func(*Tiles)
		want []string
	}{
		{"healthy", func(*Tiles) {}, nil},
		{"error rate exactly 5%", func(t *Tiles) { t.ErrorRate, t.Errors = 0.05, 500 }, nil},
		{"error rate 5.01%", func(t *Tiles) { t.ErrorRate, t.Errors = 0.0501, 501 }, []string{"error_rate"}},
		{"errors without requests", func(t *Tiles) { t.Requests, t.ErrorRate = 0, 1 }, nil},
		{"P95 exactly 500 ms", func(t *Tiles) { t.P95 = 500 }, nil},
		{"P95 500.01 ms", func(t *Tiles) { t.P95 = 500.01 }, []string{"p95"}},
		{"hit ratio exactly 60%", func(t *Tiles) { t.CacheHitRatio = 0.6 }, nil},
		{"hit ratio 59.99%", func(t *Tiles) { t.CacheHitRatio = 0.5999 }, []string{"cache_hit_ratio"}},
		{"hit ratio low while warming up (49 lookups)", func(t *Tiles) { t.CacheHitRatio, t.CacheLookups = 0.1, 49 }, nil},
		{"hit ratio low after warm-up (50 lookups)", func(t *Tiles) { t.CacheHitRatio, t.CacheLookups = 0.1, 50 }, []string{"cache_hit_ratio"}},
		{"no cache lookups", func(t *Tiles) { t.CacheHitRatio, t.CacheLookups = -1, 0 }, nil},
		{"2 waiting on locks", func(t *Tiles) { t.WaitingNow = 2 }, nil},
		{"3 waiting on locks", func(t *Tiles) { t.WaitingNow = 3 }, []string{"lock_waits"}},
		{"lock-wait P95 exactly 250 ms", func(t *Tiles) { t.LockWaits, t.LockWaitP95 = 10, 250 }, nil},
		{"lock-wait P95 250.01 ms", func(t *Tiles) { t.LockWaits, t.LockWaitP95 = 10, 250.01 }, []string{"lock_waits"}},
		{"a lock timeout", func(t *Tiles) { t.LockTimeouts = 1 }, []string{"lock_waits"}},
		{"everything at once", func(t *Tiles) {
			t.ErrorRate, t.P95, t.CacheHitRatio, t.WaitingNow = 0.2, 900, 0.3, 5
		}, []string{"error_rate", "p95", "cache_hit_ratio", "lock_waits"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tiles := base
			tt.edit(&tiles)
			var got []string
			for _, a := range th.Alerts(tiles) {
				got = append(got, a.Key)
				if a.Message == "" || (a.Level != "warning" && a.Level != "critical") {
					t.Errorf("alert %+v", a)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAlertMessagesNameTheFigures(t *testing.T) {
	a := DefaultThresholds.Alerts(Tiles{Window: time.Minute, Requests: 200, Errors: 20, ErrorRate: 0.1, P95: 812.5})
	if len(a) != 2 {
		t.Fatalf("alerts %v", a)
	}
	if want := "Error rate is 10.0%, above 5%, over the last minute: 20 of 200 requests failed with 5xx."; a[0].Message != want {
		t.Errorf("message %q, want %q", a[0].Message, want)
	}
	if want := "P95 response time is 812.5 ms, above 500 ms, over the last minute."; a[1].Message != want {
		t.Errorf("message %q, want %q", a[1].Message, want)
	}
}
