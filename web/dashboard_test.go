package web

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"batchtrack/views"
	"batchtrack/web/cache"
	"batchtrack/web/metrics"
	"batchtrack/web/ratelimit"
)

// metricsApp is the test app wired as main wires it: one registry with the
// consume path's, the cache's and the limiter's metrics, the pool
// collector, and a recorder the test samples by hand.
type metricsApp struct {
	*testApp
	reg *prometheus.Registry
	rec *metrics.Recorder
}

type metricsOptions struct {
	policies map[string]ratelimit.Policy // nil: no rate limits
	interval time.Duration
}

func newMetricsApp(t *testing.T, o metricsOptions) *metricsApp {
	t.Helper()
	opts := appOptions{lockTimeout: 5 * time.Second, recorderInterval: o.interval, instance: "test-instance-1"}
	if o.policies != nil {
		opts.limits = memoryLimits(o.policies)
	}
	a := newTestApp(t, opts)
	return &metricsApp{testApp: a, reg: a.reg, rec: a.rec}
}

// scrape reads /metrics with the library's own parser.
func (a *metricsApp) scrape() map[string]*dto.MetricFamily {
	a.t.Helper()
	resp := a.do("GET", "/metrics", nil)
	if resp.StatusCode != 200 {
		a.t.Fatalf("/metrics: %d %s", resp.StatusCode, readBody(a.t, resp))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		a.t.Errorf("Content-Type %q", ct)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		a.t.Fatalf("/metrics does not parse as Prometheus text: %v", err)
	}
	return fams
}

// value is the sample of family name whose labels include want (counter,
// gauge, or a histogram's count).
func value(t testing.TB, fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
	total := 0.0
	found := false
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	if !found {
		return 0
	}
	return total
}

func histogramSum(t testing.TB, fams map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok || len(f.Metric) == 0 {
		t.Fatalf("no histogram %s", name)
	}
	return f.Metric[0].GetHistogram().GetSampleSum()
}

func (a *metricsApp) snapshot() snapshot {
	a.t.Helper()
	resp := a.do("GET", "/api/metrics", nil)
	if resp.StatusCode != 200 {
		a.t.Fatalf("/api/metrics: %d %s", resp.StatusCode, readBody(a.t, resp))
	}
	return decode[snapshot](a.t, resp)
}

func (a *metricsApp) sample() { a.rec.SampleNow(context.Background(), time.Now()) }

func TestMetricsEndpointIsForAdminsAndParses(t *testing.T) {
	a := newMetricsApp(t, metricsOptions{})
	viewer := a.tokenFor(a.newUser(roleViewer))
	for _, tt := range []struct {
		name   string
		header []string
		want   int
	}{
		{"anonymous", []string{"Authorization", "Bearer nope"}, 401},
		{"viewer token", []string{"Authorization", "Bearer " + viewer}, 403},
	} {
		if resp := a.do("GET", "/metrics", nil, tt.header...); resp.StatusCode != tt.want {
			t.Errorf("%s: /metrics %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	b := a.fixture("10")
	a.do("GET", "/api/batches/"+b.ID.String(), nil)
	a.sample()
	fams := a.scrape()
	for _, name := range []string{
		"batchtrack_http_requests_total", "batchtrack_http_request_duration_seconds", "batchtrack_http_in_flight_requests",
		"batchtrack_db_pool_acquired_conns", "batchtrack_db_pool_idle_conns", "batchtrack_db_pool_total_conns",
		"batchtrack_db_pool_max_conns", "batchtrack_db_pool_acquires_total", "batchtrack_db_pool_acquire_duration_seconds_total",
		"batchtrack_db_pool_empty_acquires_total", "batchtrack_db_lock_waiters",
		"batchtrack_consume_lock_wait_seconds", "batchtrack_batch_version_conflicts_total", "batchtrack_consume_lock_timeouts_total",
		"batchtrack_cache_hits_total", "batchtrack_cache_misses_total",
	} {
		if _, ok := fams[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// The requests before this scrape are counted under their patterns;
	// the refused ones too, with their status.
	if v := value(t, fams, "batchtrack_http_requests_total", "route", "/api/batches/:id", "method", "GET", "status", "200"); v != 1 {
		t.Errorf("GET /api/batches/:id 200 counted %v times", v)
	}
	if v := value(t, fams, "batchtrack_http_requests_total", "route", "/metrics", "status", "403"); v != 1 {
		t.Errorf("403 of /metrics counted %v times", v)
	}
	if v := value(t, fams, "batchtrack_db_pool_max_conns"); v < 1 {
		t.Errorf("pool max %v", v)
	}
	if v := value(t, fams, "batchtrack_db_pool_acquires_total"); v < 1 {
		t.Errorf("pool acquires %v", v)
	}
}

// A cache hit and a miss count in the namespace kind they happened in, on
// /metrics, /api/metrics and the dashboard's table.
func TestCacheHitAndMissCountedInTheirNamespace(t *testing.T) {
	a := newMetricsApp(t, metricsOptions{})
	b := a.fixture("10")
	for range 2 {
		if resp := a.do("GET", "/api/batches/"+b.ID.String(), nil); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	fams := a.scrape()
	if hits, misses := value(t, fams, "batchtrack_cache_hits_total", "kind", "batch"), value(t, fams, "batchtrack_cache_misses_total", "kind", "batch"); hits != 1 || misses != 1 {
		t.Errorf("batch kind: %v hits, %v misses; want 1 and 1", hits, misses)
	}
	if v := value(t, fams, "batchtrack_cache_hits_total", "kind", "batches"); v != 0 {
		t.Errorf("batches kind has %v hits; nothing listed batches", v)
	}
	a.sample()
	snap := a.snapshot()
	if snap.Cache == nil {
		t.Fatal("no cache in /api/metrics")
	}
	var kind cache.KindSnapshot
	for _, k := range snap.Cache.Kinds {
		if k.Kind == "batch" {
			kind = k
		}
	}
	if kind.Hits != 1 || kind.Misses != 1 || kind.HitRatio != 0.5 {
		t.Errorf("batch kind in /api/metrics: %+v", kind)
	}
	if snap.Tiles.CacheLookups != 2 || snap.Tiles.CacheHitRatio != 0.5 {
		t.Errorf("cache tiles: %v lookups, ratio %v", snap.Tiles.CacheLookups, snap.Tiles.CacheHitRatio)
	}
	_, doc := dashboardDoc(t, a.testApp)
	row := doc.Find(`[data-testid="cache-row-batch"]`)
	if got := [2]string{row.Find(`[data-testid="cache-hits"]`).Text(), row.Find(`[data-testid="cache-misses"]`).Text()}; got != [2]string{"1", "1"} {
		t.Errorf("dashboard cache row hits/misses %v", got)
	}
	if got := tileValue(doc, "cache_hit_ratio"); got != "50.0" {
		t.Errorf("cache tile %q", got)
	}
}

// A consume that waits behind a held row lock records a wait of about
// the time the lock was held, and the waiter shows while it waits.
func TestContendedConsumeRecordsItsLockWait(t *testing.T) {
	a := newMetricsApp(t, metricsOptions{})
	b := a.fixture("10")
	ctx := context.Background()
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", b.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan int, 1)
	go func() {
		resp := a.do("POST", "/api/batches/"+b.ID.String()+"/consume", map[string]any{"quantity_to_consume": "1"})
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	// Wait until the consume is queued on the lock, then sample: the
	// dashboard lists it with the batch it waits for.
	deadline := time.Now().Add(30 * time.Second)
	for {
		a.sample()
		if lw := a.rec.LockWaiters(); len(lw.Waiters) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the consume never showed as waiting on a lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitingSince := time.Now()
	snap := a.snapshot()
	if n := len(snap.LockWaiters.Waiters); n != 1 || snap.LockWaiters.Waiters[0].BatchID == nil || *snap.LockWaiters.Waiters[0].BatchID != b.ID.String() {
		t.Errorf("lock waiters %+v, want one waiting for %s", snap.LockWaiters.Waiters, b.ID)
	}
	if snap.Tiles.WaitingNow != 1 {
		t.Errorf("waiting now %v", snap.Tiles.WaitingNow)
	}
	_, doc := dashboardDoc(t, a.testApp)
	if href, _ := doc.Find(`[data-testid="waiter-batch"]`).Attr("href"); href != "/batches/"+b.ID.String() {
		t.Errorf("waiter links to %q", href)
	}
	const hold = 300 * time.Millisecond
	time.Sleep(hold)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	held := time.Since(waitingSince)
	if status := <-done; status != 200 {
		t.Fatalf("consume: %d", status)
	}
	fams := a.scrape()
	if n := value(t, fams, "batchtrack_consume_lock_wait_seconds"); n != 1 {
		t.Fatalf("%v lock waits recorded", n)
	}
	wait := histogramSum(t, fams, "batchtrack_consume_lock_wait_seconds")
	if wait < hold.Seconds() || wait > held.Seconds()+10 {
		t.Errorf("lock wait %.3fs; the lock was held %.3fs after the consume queued", wait, held.Seconds())
	}
	a.sample()
	snap = a.snapshot()
	if snap.Tiles.LockWaits != 1 || snap.Tiles.LockWaitMax < hold.Seconds()*1000 || snap.Tiles.LockWaitP95 <= 0 {
		t.Errorf("lock tiles: %v waits, max %v ms, P95 %v ms", snap.Tiles.LockWaits, snap.Tiles.LockWaitMax, snap.Tiles.LockWaitP95)
	}
	if snap.Tiles.WaitingNow != 0 || len(snap.LockWaiters.Waiters) != 0 {
		t.Errorf("still waiting after the commit: %+v", snap.LockWaiters)
	}
}

func TestVersionConflictAndRateLimitCounted(t *testing.T) {
	a := newMetricsApp(t, metricsOptions{policies: map[string]ratelimit.Policy{
		ratelimit.PolicyRead:    {Name: ratelimit.PolicyRead, Limit: 2, Window: time.Minute},
		ratelimit.PolicyConsume: {Name: ratelimit.PolicyConsume, Limit: 100, Window: time.Minute},
	}})
	b := a.fixture("10")
	resp := a.do("POST", "/api/batches/"+b.ID.String()+"/consume", map[string]any{"quantity_to_consume": "1", "expected_version": 99})
	if resp.StatusCode != 409 {
		t.Fatalf("stale expected_version: %d", resp.StatusCode)
	}
	for i := range 3 {
		resp := a.do("GET", "/api/batches", nil)
		if want := map[bool]int{true: 429, false: 200}[i == 2]; resp.StatusCode != want {
			t.Fatalf("read %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	fams := a.scrape()
	if v := value(t, fams, "batchtrack_batch_version_conflicts_total"); v != 1 {
		t.Errorf("version conflicts %v", v)
	}
	if v := value(t, fams, "batchtrack_http_requests_total", "status", "429"); v != 1 {
		t.Errorf("429s %v", v)
	}
	if v := value(t, fams, "batchtrack_http_requests_total", "route", "/api/batches/:id/consume", "status", "409"); v != 1 {
		t.Errorf("409 of consume %v", v)
	}
	if v := value(t, fams, "batchtrack_ratelimit_decisions_total", "policy", ratelimit.PolicyRead, "result", "refused"); v != 1 {
		t.Errorf("refused reads %v", v)
	}
	a.sample()
	// /api/metrics is a read too, and the budget is spent: the snapshot
	// comes from the dashboard's own handler.
	snap := a.srv.takeSnapshot()
	if snap.Tiles.VersionConflicts != 1 || snap.Tiles.RateLimited != 1 {
		t.Errorf("tiles: %v conflicts, %v refused", snap.Tiles.VersionConflicts, snap.Tiles.RateLimited)
	}
	if snap.RateLimits == nil || len(snap.RateLimits.TopRefused) != 1 || snap.RateLimits.TopRefused[0].Refused != 1 ||
		!strings.HasPrefix(snap.RateLimits.TopRefused[0].Caller, "token:") {
		t.Errorf("top refused %+v", snap.RateLimits)
	}
	_, doc := dashboardDoc(t, a.testApp)
	if got := tileValue(doc, "version_conflicts"); got != "1" {
		t.Errorf("version conflicts tile %q", got)
	}
	if got := doc.Find(`[data-testid="policy-read"] [data-testid="policy-refused"]`).Text(); got != "1" {
		t.Errorf("refused reads on the dashboard %q", got)
	}
	if doc.Find(`[data-testid="top-refused"] li`).Length() != 1 {
		t.Error("the refused caller is not listed")
	}
}

func dashboardDoc(t *testing.T, a *testApp, headers ...string) (string, *goquery.Document) {
	t.Helper()
	resp := a.do("GET", "/dashboard", nil, headers...)
	if resp.StatusCode != 200 {
		t.Fatalf("/dashboard: %d %s", resp.StatusCode, readBody(t, resp))
	}
	return parseDoc(t, resp)
}

func tileValue(doc *goquery.Document, key string) string {
	return strings.TrimSpace(doc.Find(`[data-testid="tile-` + key + `"] [data-testid="tile-value"]`).Text())
}

var tileKeys = []string{"requests", "error_rate", "latency", "cache_hit_ratio", "rate_limited", "lock_waits",
	"waiting_now", "version_conflicts", "lock_timeouts", "pool"}

// A fresh start: every part renders, nothing is NaN, no alert fires.
func TestDashboardRendersWithNoData(t *testing.T) {
	a := newTestApp(t)
	body, doc := dashboardDoc(t, a)
	if strings.Contains(body, "NaN") || strings.Contains(body, "Inf") {
		t.Error("NaN or Inf on the page")
	}
	if got := doc.Find(`[data-testid="dash-instance"] strong`).Text(); got != "test" {
		t.Errorf("instance %q", got)
	}
	if !strings.Contains(doc.Find(".page-head").Text(), "Prometheus") {
		t.Error("the page does not say how instances aggregate")
	}
	if doc.Find(`[data-testid="dash-no-samples"]`).Length() != 1 {
		t.Error("no 'no samples yet' note")
	}
	for _, k := range tileKeys {
		tile := doc.Find(`[data-testid="tile-` + k + `"]`)
		if tile.Length() != 1 {
			t.Errorf("tile %s missing", k)
			continue
		}
		if k != "pool" && tileValue(doc, k) != "—" {
			t.Errorf("tile %s shows %q before any sample", k, tileValue(doc, k))
		}
		if tile.Find("svg path").Length() == 0 {
			t.Errorf("tile %s has no chart", k)
		}
	}
	if n := doc.Find(`[data-testid="dash-alerts"] .alert`).Length(); n != 0 {
		t.Errorf("%d alerts on a fresh start", n)
	}
	if doc.Find(`[data-testid="no-waiters"]`).Length() != 1 {
		t.Error("no 'no waiters' note")
	}
	poll := doc.Find(`[data-testid="dash-poll"]`)
	if get, _ := poll.Attr("hx-get"); get != "/dashboard/live" {
		t.Errorf("poller hx-get %q", get)
	}
	if trig, _ := poll.Attr("hx-trigger"); trig != "every 5000ms" {
		t.Errorf("poller hx-trigger %q", trig)
	}
	if doc.Find(`link[rel="stylesheet"][href*="dashboard"]`).Length() != 1 {
		t.Error("dashboard.css is not linked")
	}
	// No inline style anywhere: the CSP forbids it.
	if doc.Find("[style]").Length() != 0 || doc.Find("style").Length() != 0 {
		t.Error("inline style on the dashboard")
	}
	// The JSON snapshot of a fresh start has empty lists, not nulls.
	resp := a.do("GET", "/api/metrics", nil)
	raw := readBody(t, resp)
	var generic map[string]any
	if err := json.Unmarshal([]byte(raw), &generic); err != nil {
		t.Fatalf("/api/metrics: %v: %s", err, raw)
	}
	for _, key := range []string{"series", "routes", "alerts"} {
		if _, ok := generic[key].([]any); !ok {
			t.Errorf("%s is %v, want a list", key, generic[key])
		}
	}
	if generic["instance"] != "test" {
		t.Errorf("instance %v", generic["instance"])
	}
}

// The live fragment carries every part for an out-of-band swap, and only
// those: no layout, no second poller.
func TestDashboardLiveFragment(t *testing.T) {
	a := newMetricsApp(t, metricsOptions{})
	a.do("GET", "/api/batches", nil)
	a.sample()
	resp := a.do("GET", "/dashboard/live", nil, "HX-Request", "true")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	body, doc := parseDoc(t, resp)
	if strings.Contains(body, "<html") || strings.Contains(body, "dash-poll") {
		t.Error("the fragment carries the page")
	}
	var ids []string
	doc.Find("body").Children().Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		oob, _ := s.Attr("hx-swap-oob")
		ids = append(ids, id+":"+oob)
	})
	if diff := cmp.Diff([]string{"dash-alerts:true", "dash-tiles:true", "dash-tables:true"}, ids); diff != "" {
		t.Errorf("top-level parts (-want +got):\n%s", diff)
	}
	if got := tileValue(doc, "requests"); got == "—" || got == "" {
		t.Errorf("requests tile %q after a sample", got)
	}
	// Opened without htmx, the address shows the whole page.
	resp = a.do("GET", "/dashboard/live", nil)
	if body := readBody(t, resp); !strings.Contains(body, "<html") {
		t.Error("/dashboard/live without htmx is not the page")
	}
}

// With traffic, the figures and the charts fill in.
func TestDashboardRendersWithData(t *testing.T) {
	a := newMetricsApp(t, metricsOptions{})
	b := a.fixture("1000")
	a.sample()
	for range 20 {
		a.do("GET", "/api/batches/"+b.ID.String(), nil)
	}
	a.do("POST", "/api/batches/"+b.ID.String()+"/consume", map[string]any{"quantity_to_consume": "1"})
	a.do("GET", "/api/no-such-thing", nil)
	a.sample()
	body, doc := dashboardDoc(t, a.testApp)
	if strings.Contains(body, "NaN") || strings.Contains(body, "+Inf") {
		t.Error("NaN or Inf on the page")
	}
	if got := doc.Find(`[data-testid="dash-instance"] strong`).Text(); got != "test-instance-1" {
		t.Errorf("instance %q", got)
	}
	if got := tileValue(doc, "requests"); got == "—" || got == "0" {
		t.Errorf("requests tile %q", got)
	}
	detail := doc.Find(`[data-testid="tile-requests"] .tile-detail`).Text()
	if !strings.Contains(detail, "22 req · last minute") {
		t.Errorf("requests detail %q", detail)
	}
	if got := tileValue(doc, "error_rate"); got != "0.0" {
		t.Errorf("error rate %q", got)
	}
	if got := tileValue(doc, "lock_waits"); got != "1" {
		t.Errorf("lock waits %q", got)
	}
	if got := tileValue(doc, "pool"); got == "—" {
		t.Errorf("pool %q", got)
	}
	var routes []string
	doc.Find(`[data-testid="route-row"] td:first-child`).Each(func(_ int, s *goquery.Selection) {
		routes = append(routes, strings.Join(strings.Fields(s.Text()), " "))
	})
	if len(routes) == 0 || routes[0] != "GET /api/batches/:id" {
		t.Errorf("busiest route first: %v", routes)
	}
	if !contains(routes, "GET unmatched") || !contains(routes, "POST /api/batches/:id/consume") {
		t.Errorf("routes %v", routes)
	}
	path, _ := doc.Find(`[data-testid="tile-requests"] svg path`).Attr("d")
	if !strings.HasPrefix(path, "M") || !strings.Contains(path, "L") {
		t.Errorf("requests chart path %q", path)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The banners of the page follow Thresholds.Alerts exactly, at each
// threshold and just past it.
func TestDashboardAlertBannersAtThresholds(t *testing.T) {
	a := newTestApp(t)
	base := metrics.Tiles{Window: time.Minute, Requests: 1000, CacheLookups: 100, CacheHitRatio: 0.9}
	tests := []struct {
		name  string
		edit  func(*metrics.Tiles)
		alert string // "" none
	}{
		{"error rate 5.0%", func(t *metrics.Tiles) { t.ErrorRate, t.Errors = 0.05, 50 }, ""},
		{"error rate 5.01%", func(t *metrics.Tiles) { t.ErrorRate, t.Errors = 0.0501, 50.1 }, "error_rate"},
		{"P95 500 ms", func(t *metrics.Tiles) { t.P95 = 500 }, ""},
		{"P95 500.1 ms", func(t *metrics.Tiles) { t.P95 = 500.1 }, "p95"},
		{"hit ratio 60%", func(t *metrics.Tiles) { t.CacheHitRatio = 0.6 }, ""},
		{"hit ratio 59.9%", func(t *metrics.Tiles) { t.CacheHitRatio = 0.599 }, "cache_hit_ratio"},
		{"hit ratio 10% during warm-up", func(t *metrics.Tiles) { t.CacheHitRatio, t.CacheLookups = 0.1, 49 }, ""},
		{"2 waiting", func(t *metrics.Tiles) { t.WaitingNow = 2 }, ""},
		{"3 waiting", func(t *metrics.Tiles) { t.WaitingNow = 3 }, "lock_waits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tiles := base
			tt.edit(&tiles)
			snap := snapshot{Instance: "x", GeneratedAt: time.Now(), IntervalSeconds: 5, Tiles: tiles}
			snap.Alerts = a.srv.ops.thresholds.Alerts(tiles)
			var buf bytes.Buffer
			if err := views.OpsDashboardLive(a.srv.dashboardModel(snap)).Render(context.Background(), &buf); err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			doc.Find(`[data-testid="dash-alerts"] .alert`).Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("data-testid")
				got = append(got, strings.TrimPrefix(id, "alert-"))
			})
			var want []string
			if tt.alert != "" {
				want = []string{tt.alert}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("banners (-want +got):\n%s", diff)
			}
			// The tile of an alerting figure is marked too.
			if tt.alert == "error_rate" {
				if class, _ := doc.Find(`[data-testid="tile-error_rate"]`).Attr("class"); !strings.Contains(class, "bad") {
					t.Errorf("error-rate tile class %q", class)
				}
			}
		})
	}
}

func TestNumberFormats(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{fmtCount(0), "0"},
		{fmtCount(999), "999"},
		{fmtCount(1234), "1,234"},
		{fmtCount(1234567.4), "1,234,567"},
		{fmtCount(-1234), "-1,234"},
		{fmtCount(math.NaN()), "—"},
		{fmtRate(0), "0"},
		{fmtRate(0.345), "0.34"},
		{fmtRate(12.46), "12.5"},
		{fmtRate(4321.2), "4,321"},
		{fmtMs(12.5), "12.5 ms"},
		{fmtMs(0.25), "0.25 ms"},
		{fmtMs(1234), "1,234 ms"},
		{fmtMs(12345), "12.3 s"},
		{fmtPercent(0.973), "97.3 %"},
		{fmtPercent(0.05), "5.0 %"},
		{fmtPercent(-1), "—"},
		{fmtBytes(512), "512 B"},
		{fmtBytes(3 << 20), "3.0 MiB"},
		{fmtDuration(5 * time.Second), "5 s"},
		{groupThousands("1234567.25"), "1,234,567.25"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want float64 }{{0, 1}, {0.7, 1}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {12, 20}, {0.03, 0.05}} {
		if got := niceCeil(tt.in); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("niceCeil(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
