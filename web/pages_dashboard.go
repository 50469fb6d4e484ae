package web

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"batchtrack/static"
	"batchtrack/views"
	"batchtrack/web/cache"
	"batchtrack/web/metrics"
	"batchtrack/web/peers"
)

// operations holds what the dashboard, /metrics and /api/metrics read.
type operations struct {
	registry   *prometheus.Registry
	http       *metrics.HTTP
	recorder   *metrics.Recorder
	thresholds metrics.Thresholds
	// window is what the tiles sum over; the charts show the whole ring.
	window time.Duration
	// assets fingerprint the dashboard's stylesheet links when the staff
	// UI has not attached its own (the dashboard's routes come first).
	assets *static.Assets
}

// dashboardRoutesShown bounds the per-route table; /api/metrics has all.
const dashboardRoutesShown = 15

// newOperations fills in what deps leave out: a caller that passes neither
// a registry nor a recorder gets working ones that sample only when asked
// (Recorder.SampleNow) and list no lock waiters (main and the test app
// pass a recorder that does).
func newOperations(deps *Deps) *operations {
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.HTTPMetrics == nil {
		deps.HTTPMetrics = metrics.NewHTTP(deps.Registry)
	}
	if deps.Recorder == nil {
		cfg := metrics.RecorderConfig{Registerer: deps.Registry, Logger: deps.Logger}
		if deps.Caching.Cache != nil {
			cfg.Cache = deps.Caching.Cache
		}
		if deps.Pool != nil {
			cfg.Pool = deps.Pool
		}
		rec, err := metrics.NewRecorder(deps.Registry, cfg)
		if err != nil {
			// Only a second recorder on the same registry fails: a wiring bug.
			panic(err)
		}
		deps.Recorder = rec
	}
	assets, err := static.New()
	if err != nil {
		panic(err) // embedded at build time: failing here is a broken build
	}
	return &operations{registry: deps.Registry, http: deps.HTTPMetrics, recorder: deps.Recorder,
		thresholds: metrics.DefaultThresholds, window: time.Minute, assets: assets}
}

// snapshot is one reading of everything the dashboard shows; /api/metrics
// sends it as JSON.
type snapshot struct {
	Instance        string                `json:"instance"`
	GeneratedAt     time.Time             `json:"generated_at"`
	RecordingSince  time.Time             `json:"recording_since"`
	IntervalSeconds float64               `json:"interval_seconds"`
	Tiles           metrics.Tiles         `json:"tiles"`
	Series          []metrics.Point       `json:"series"`
	Routes          []metrics.RouteStats  `json:"routes"`
	Cache           *cache.Snapshot       `json:"cache"`       // null: no cache on this instance
	RateLimits      *rateLimitSnapshot    `json:"rate_limits"` // null: limits off
	LockWaiters     lockWaitersSnapshot   `json:"lock_waiters"`
	Pool            *metrics.PoolStats    `json:"pool"`
	Cluster         *clusterSnapshot      `json:"cluster"` // null: no shared board (one instance)
	Alerts          []metrics.Alert       `json:"alerts"`
	Thresholds      thresholdsDescription `json:"thresholds"`
}

// clusterSnapshot is every instance's latest reading, from the shared
// board, and their total.
type clusterSnapshot struct {
	Instances []peers.Reading `json:"instances"`
	Total     peers.Reading   `json:"total"`
	Error     string          `json:"error,omitempty"` // the board could not be read
}

// PeerBoard is where instances publish their readings and read each
// other's (package peers, on Redis).
type PeerBoard interface {
	Publish(ctx context.Context, r peers.Reading) error
	All(ctx context.Context) ([]peers.Reading, error)
}

// PublishReadings puts this instance's figures on the shared board every
// sampling interval, until ctx ends; main runs it when there is a board.
func (s *Server) PublishReadings(ctx context.Context) {
	every := max(s.ops.recorder.Interval(), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		tiles := s.ops.recorder.Tiles(s.ops.recorder.Samples(), s.ops.window)
		r := peers.Reading{Instance: s.deps.Instance, GeneratedAt: time.Now(), Requests: tiles.Requests, RPS: tiles.RPS,
			Errors: tiles.Errors, P95: tiles.P95, RateLimited: tiles.RateLimited, LockWaits: tiles.LockWaits, PoolInUse: tiles.PoolInUse}
		pctx, cancel := context.WithTimeout(ctx, every)
		if err := s.deps.Peers.Publish(pctx, r); err != nil && ctx.Err() == nil {
			s.deps.Logger.Debug("dashboard: reading not shared", "err", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type rateLimitSnapshot struct {
	Policies          []policyCounts   `json:"policies"`
	TopRefused        []callerRefusals `json:"top_refused"`
	StoreErrors       uint64           `json:"store_errors"`
	Outages           uint64           `json:"outages"`
	FallbackDecisions uint64           `json:"fallback_decisions"`
	FallbackActive    bool             `json:"fallback_active"`
}

type policyCounts struct {
	Policy  string `json:"policy"`
	Allowed uint64 `json:"allowed"`
	Refused uint64 `json:"refused"`
}

type callerRefusals struct {
	Caller  string `json:"caller"`
	Refused uint64 `json:"refused"`
}

type lockWaitersSnapshot struct {
	SampledAt *time.Time   `json:"sampled_at"` // null before the first sample
	Failed    bool         `json:"failed"`
	Waiters   []lockWaiter `json:"waiters"`
}

type lockWaiter struct {
	PID            int32   `json:"pid"`
	WaitEvent      string  `json:"wait_event"`
	WaitingSeconds float64 `json:"waiting_seconds"`
	BlockedBy      []int32 `json:"blocked_by"`
	Query          string  `json:"query"`
	BatchID        *string `json:"batch_id"`
}

type thresholdsDescription struct {
	ErrorRate      float64 `json:"error_rate"`
	P95Ms          float64 `json:"p95_ms"`
	CacheHitRatio  float64 `json:"cache_hit_ratio"`
	CacheWarmUp    float64 `json:"cache_warm_up_lookups"`
	LockWaitingNow float64 `json:"lock_waiting_now"`
	LockWaitP95Ms  float64 `json:"lock_wait_p95_ms"`
}

func (s *Server) takeSnapshot() snapshot {
	ops := s.ops
	rec := ops.recorder
	samples := rec.Samples()
	snap := snapshot{
		Instance: s.deps.Instance, GeneratedAt: time.Now(), RecordingSince: rec.Since(),
		IntervalSeconds: rec.Interval().Seconds(),
		Tiles:           rec.Tiles(samples, ops.window),
		Series:          rec.Points(samples),
		Routes:          metrics.Routes(ops.registry),
		Thresholds: thresholdsDescription{
			ErrorRate: ops.thresholds.ErrorRate, P95Ms: ms(ops.thresholds.P95), CacheHitRatio: ops.thresholds.CacheHitRatio,
			CacheWarmUp: ops.thresholds.CacheWarmUp, LockWaitingNow: ops.thresholds.LockWaitingNow, LockWaitP95Ms: ms(ops.thresholds.LockWaitP95),
		},
	}
	snap.Alerts = ops.thresholds.Alerts(snap.Tiles)
	if snap.Alerts == nil {
		snap.Alerts = []metrics.Alert{}
	}
	if s.deps.Caching.Cache != nil {
		c := s.deps.Caching.Cache.Snapshot()
		snap.Cache = &c
	}
	if rl := s.deps.RateLimits; rl.Policies != nil && rl.Limiter != nil {
		rs := rl.Metrics.Snapshot()
		out := &rateLimitSnapshot{StoreErrors: rs.StoreErrors, Outages: rs.Outages,
			FallbackDecisions: rs.FallbackDecisions, FallbackActive: rs.FallbackActive,
			Policies: []policyCounts{}, TopRefused: []callerRefusals{}}
		for _, p := range rs.Policies {
			out.Policies = append(out.Policies, policyCounts{p.Policy, p.Allowed, p.Refused})
		}
		for _, t := range rs.TopRefused {
			out.TopRefused = append(out.TopRefused, callerRefusals{t.Key, t.Refused})
		}
		snap.RateLimits = out
	}
	lw := rec.LockWaiters()
	snap.LockWaiters = lockWaitersSnapshot{Failed: lw.Failed, Waiters: []lockWaiter{}}
	if !lw.At.IsZero() {
		at := lw.At
		snap.LockWaiters.SampledAt = &at
	}
	for _, w := range lw.Waiters {
		out := lockWaiter{PID: w.PID, WaitEvent: w.WaitEvent, WaitingSeconds: w.WaitingSeconds, BlockedBy: w.BlockedBy, Query: w.Query}
		if out.BlockedBy == nil {
			out.BlockedBy = []int32{}
		}
		if w.BatchID != nil {
			id := w.BatchID.String()
			out.BatchID = &id
		}
		snap.LockWaiters.Waiters = append(snap.LockWaiters.Waiters, out)
	}
	if s.deps.Pool != nil {
		p := metrics.ReadPool(s.deps.Pool)
		snap.Pool = &p
	}
	if s.deps.Peers != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		all, err := s.deps.Peers.All(ctx)
		cancel()
		cs := &clusterSnapshot{Instances: all, Total: peers.Total(all)}
		if cs.Instances == nil {
			cs.Instances = []peers.Reading{}
		}
		if err != nil {
			cs.Error = "the shared board (Redis) cannot be read: " + err.Error()
		}
		snap.Cluster = cs
	}
	if snap.Series == nil {
		snap.Series = []metrics.Point{}
	}
	if snap.Routes == nil {
		snap.Routes = []metrics.RouteStats{}
	}
	return snap
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// showOpsDashboard is the operations dashboard.
func (s *Server) showOpsDashboard(c *fiber.Ctx) error {
	ch := chromeFor(c, "Dashboard", "dashboard")
	if ch.Assets == nil {
		ch.Assets = s.ops.assets
	}
	return render(c, fiber.StatusOK, views.OpsDashboardPage(ch, s.dashboardModel(s.takeSnapshot())))
}

// showDashboardLive is what the dashboard's poller swaps in: every part of
// the page, each by its id. Opened directly, it is the whole page.
func (s *Server) showDashboardLive(c *fiber.Ctx) error {
	if !isHTMX(c) {
		return s.showOpsDashboard(c)
	}
	c.Vary("HX-Request")
	return render(c, fiber.StatusOK, views.OpsDashboardLive(s.dashboardModel(s.takeSnapshot())))
}

// dashboardModel formats a snapshot for reading at a glance.
func (s *Server) dashboardModel(snap snapshot) views.OpsDashboardModel {
	rec := s.ops.recorder
	poll := max(rec.Interval(), time.Second)
	m := views.OpsDashboardModel{
		Instance:   orDefault(snap.Instance, "this instance"),
		Updated:    snap.GeneratedAt.Format("15:04:05"),
		Since:      snap.RecordingSince.Format("2006-01-02 15:04:05"),
		Interval:   fmtDuration(rec.Interval()),
		PollEvery:  strconv.FormatInt(int64(poll/time.Millisecond), 10) + "ms",
		Window:     "last " + fmtWindowWords(s.ops.window),
		HasSamples: len(snap.Series) > 0,
	}
	for _, a := range snap.Alerts {
		m.Alerts = append(m.Alerts, views.DashAlert{Level: a.Level, Key: a.Key, Message: a.Message})
	}
	if cs := snap.Cluster; cs != nil {
		m.Cluster.Enabled, m.Cluster.Error = true, cs.Error
		row := func(r peers.Reading) views.DashPeer {
			rate := 0.0
			if r.Requests > 0 {
				rate = r.Errors / r.Requests
			}
			return views.DashPeer{Name: r.Instance, RPS: fmtRate(r.RPS), Requests: fmtCount(r.Requests),
				ErrorRate: fmtPercent(rate), P95: fmtMs(r.P95), RateLimited: fmtCount(r.RateLimited),
				Age: fmtDuration(time.Since(r.GeneratedAt).Round(time.Second)), This: r.Instance == snap.Instance}
		}
		for _, r := range cs.Instances {
			m.Cluster.Rows = append(m.Cluster.Rows, row(r))
		}
		m.Cluster.Total = row(cs.Total)
	}
	m.Tiles = dashboardTiles(snap, s.ops.thresholds)
	for i, r := range snap.Routes {
		if i == dashboardRoutesShown {
			m.RoutesMore = len(snap.Routes) - i
			break
		}
		note := ""
		if r.Route == "/api" {
			// metrics.HTTP labels a request with the last handler it reached.
			note = "refused before routing (rate limit)"
		}
		m.Routes = append(m.Routes, views.DashRoute{
			Method: r.Method, Route: r.Route, Note: note, Requests: fmtCount(r.Requests), Errors: fmtCount(r.Errors),
			ClientErrors: fmtCount(r.ClientErrors), P50: fmtMs(r.P50), P95: fmtMs(r.P95), P99: fmtMs(r.P99),
			HasErrors: r.Errors > 0,
		})
	}
	if snap.Cache != nil {
		m.Cache.Enabled = true
		switch {
		case !snap.Cache.RedisEnabled:
			m.Cache.Redis = "not used (memory only)"
		case snap.Cache.RedisUp:
			m.Cache.Redis = "up"
		default:
			m.Cache.Redis = "down, serving from memory (" + fmtCount(float64(snap.Cache.RedisOutages)) + " outages)"
		}
		for _, k := range snap.Cache.Kinds {
			lookups := k.Hits + k.Misses
			ratio := "—"
			if lookups > 0 {
				ratio = fmtPercent(k.HitRatio)
			}
			m.Cache.Rows = append(m.Cache.Rows, views.DashCacheRow{
				Kind: k.Kind, Hits: fmtCount(float64(k.Hits)), Misses: fmtCount(float64(k.Misses)), HitRatio: ratio,
				Loads: fmtCount(float64(k.Loads)), LoadMean: fmtMs(ms(k.LoadTime.Mean)),
				Evictions:     fmtCount(float64(k.Evictions + k.Expirations)),
				Invalidations: fmtCount(float64(k.Invalidations.Keys + k.Invalidations.Namespaces)),
				Entries:       fmtCount(float64(k.Entries)), Size: fmtBytes(k.Bytes),
				LowRatio: lookups >= uint64(s.ops.thresholds.CacheWarmUp) && k.HitRatio < s.ops.thresholds.CacheHitRatio,
			})
		}
	}
	if rl := snap.RateLimits; rl != nil {
		m.Limits.Enabled = true
		if rl.FallbackActive {
			m.Limits.Note = "The shared rate-limit store is unreachable: limits are kept per instance until it answers."
		}
		for _, p := range rl.Policies {
			share := "—"
			if total := p.Allowed + p.Refused; total > 0 {
				share = fmtPercent(float64(p.Refused) / float64(total))
			}
			m.Limits.Policies = append(m.Limits.Policies, views.DashPolicy{Name: p.Policy,
				Allowed: fmtCount(float64(p.Allowed)), Refused: fmtCount(float64(p.Refused)), RefusedShare: share})
		}
		for _, t := range rl.TopRefused {
			m.Limits.Top = append(m.Limits.Top, views.DashCaller{Caller: t.Caller, Refused: fmtCount(float64(t.Refused)) + " refused"})
		}
	}
	m.Waiters.Failed = snap.LockWaiters.Failed
	m.Waiters.At = "no sample yet"
	if at := snap.LockWaiters.SampledAt; at != nil {
		m.Waiters.At = at.Format("15:04:05")
	}
	for _, w := range snap.LockWaiters.Waiters {
		row := views.DashWaiter{PID: strconv.Itoa(int(w.PID)), Waiting: fmtMs(w.WaitingSeconds * 1000),
			WaitEvent: orDefault(w.WaitEvent, "—"), BlockedBy: joinPIDs(w.BlockedBy), Query: w.Query}
		if w.BatchID != nil {
			row.BatchID, row.BatchHref = *w.BatchID, "/batches/"+*w.BatchID
		}
		m.Waiters.Rows = append(m.Waiters.Rows, row)
	}
	return m
}

// dashboardTiles are the headline figures, each with its chart of the
// last hour.
func dashboardTiles(snap snapshot, th metrics.Thresholds) []views.DashTile {
	t := snap.Tiles
	alerting := map[string]bool{}
	for _, a := range snap.Alerts {
		alerting[a.Key] = true
	}
	level := func(key, kind string) string {
		if alerting[key] {
			return kind
		}
		return ""
	}
	to := snap.GeneratedAt
	if n := len(snap.Series); n > 0 && snap.Series[n-1].At.After(to) {
		to = snap.Series[n-1].At
	}
	// The charts span the last hour, or the time since recording started
	// when that is shorter, so a young instance's lines are not a sliver.
	from, fromLabel := to.Add(-time.Hour), "60 min ago"
	if snap.RecordingSince.After(from) {
		from = snap.RecordingSince
		fromLabel = from.Format("15:04:05")
	}
	hour := func(pick func(metrics.Point) float64) (out float64) {
		for _, p := range snap.Series {
			if !p.At.Before(from) {
				out += pick(p)
			}
		}
		return out
	}
	chart := func(unit func(float64) string, floor float64, series ...views.DashSeries) views.DashChart {
		top := floor
		for _, s := range series {
			for _, p := range s.Points {
				if !p.At.Before(from) {
					top = max(top, p.V)
				}
			}
		}
		top = niceCeil(top)
		return views.DashChart{From: from, To: to, FromLabel: fromLabel, Max: top, MaxLabel: unit(top), Series: series}
	}
	line := func(name, class string, pick func(metrics.Point) float64) views.DashSeries {
		s := views.DashSeries{Name: name, Class: class, Points: make([]views.DashPoint, 0, len(snap.Series))}
		for _, p := range snap.Series {
			s.Points = append(s.Points, views.DashPoint{At: p.At, V: pick(p)})
		}
		return s
	}
	none := func(v string, has bool) string {
		if !has {
			return "—"
		}
		return v
	}
	hasSamples := len(snap.Series) > 0
	hasRequests := t.Requests > 0
	window := fmtWindowWords(t.Window)

	cacheValue, cacheDetail := "—", []string{"no lookups · last " + window}
	switch {
	case snap.Cache == nil:
		cacheDetail = []string{"the cache is not enabled on this instance"}
	case t.CacheLookups > 0:
		cacheValue = fmtPercentNumber(t.CacheHitRatio)
		cacheDetail = []string{fmtCount(t.CacheLookups) + " lookups · last " + window}
		if t.CacheLookups < th.CacheWarmUp {
			cacheDetail = append(cacheDetail, "warming up: alert after "+fmtCount(th.CacheWarmUp)+" lookups")
		} else {
			cacheDetail = append(cacheDetail, "alert below "+fmtPercent(th.CacheHitRatio))
		}
	}
	lockMax := "—"
	if t.LockWaits > 0 {
		lockMax = "≤ " + fmtMs(t.LockWaitMax)
		if t.LockWaitMaxOver {
			lockMax = "> " + fmtMs(t.LockWaitMax)
		}
	}
	poolDetail := []string{"no pool"}
	if p := snap.Pool; p != nil {
		poolDetail = []string{fmtCount(float64(p.Idle)) + " idle · " + fmtCount(float64(p.Total)) + " open · max " + fmtCount(float64(p.Max)),
			fmtCount(float64(p.EmptyAcquires)) + " of " + fmtCount(float64(p.AcquireCount)) + " acquires waited"}
		if p.Max > 0 && p.Acquired >= p.Max {
			poolDetail[1] = "all connections in use: requests queue"
		}
	}
	poolValue := "—"
	if snap.Pool != nil {
		poolValue = fmtCount(float64(snap.Pool.Acquired))
	}

	return []views.DashTile{
		{Key: "requests", Label: "Requests", Value: none(fmtRate(t.RPS), hasSamples), Unit: "req/s",
			Detail: []string{fmtCount(t.Requests) + " req · last " + window, fmtCount(hour(func(p metrics.Point) float64 {
				return p.Requests
			})) + " req · last hour"},
			Chart: chart(func(v float64) string { return fmtRate(v) + " req/s" }, 1, line("req/s", "s1", func(p metrics.Point) float64 { return p.RPS }))},
		{Key: "error_rate", Label: "Error rate (5xx)", Value: none(fmtPercentNumber(t.ErrorRate), hasRequests), Unit: "%",
			Level:  level("error_rate", "bad"),
			Detail: []string{fmtCount(t.Errors) + " of " + fmtCount(t.Requests) + " req · last " + window, "alert above " + fmtPercent(th.ErrorRate)},
			Chart: chart(func(v float64) string { return fmtPercent(v) }, 0.1, line("5xx share", "s3", func(p metrics.Point) float64 {
				return p.ErrorRate
			}))},
		{Key: "latency", Label: "Response time", Value: none(fmtMsNumber(t.P95), hasRequests), Unit: "ms P95",
			Level:  level("p95", "warn"),
			Detail: []string{"P50 " + none(fmtMs(t.P50), hasRequests) + " · P99 " + none(fmtMs(t.P99), hasRequests), "alert: P95 above " + fmtMs(ms(th.P95))},
			Chart: chart(func(v float64) string { return fmtMs(v) }, 1,
				line("P50", "s1", func(p metrics.Point) float64 { return p.P50 }),
				line("P95", "s2", func(p metrics.Point) float64 { return p.P95 }),
				line("P99", "s3", func(p metrics.Point) float64 { return p.P99 }))},
		{Key: "cache_hit_ratio", Label: "Cache hit ratio", Value: cacheValue, Unit: "%", Level: level("cache_hit_ratio", "warn"),
			Detail: cacheDetail,
			Chart: chart(func(v float64) string { return fmtPercent(v) }, 1, line("hit ratio", "s1", func(p metrics.Point) float64 {
				return p.CacheHitRatio
			}))},
		{Key: "rate_limited", Label: "Rate-limit refusals", Value: none(fmtRate(t.RateLimitedPerM), hasSamples), Unit: "/min",
			Detail: []string{fmtCount(t.RateLimited) + " refused (429) · last " + window,
				fmtCount(hour(func(p metrics.Point) float64 { return p.RateLimited })) + " · last hour"},
			Chart: chart(func(v float64) string { return fmtRate(v) + "/min" }, 1, line("429/min", "s2", func(p metrics.Point) float64 {
				return p.RateLimitedPerM
			}))},
		{Key: "lock_waits", Label: "Lock waits · last " + window, Value: none(fmtCount(t.LockWaits), hasSamples), Unit: "waits", Level: level("lock_waits", "warn"),
			Detail: []string{"P95 " + none(fmtMs(t.LockWaitP95), t.LockWaits > 0) + " · max " + lockMax, "alert: P95 above " + fmtMs(ms(th.LockWaitP95))},
			Chart: chart(func(v float64) string { return fmtMs(v) }, 1, line("P95 wait", "s2", func(p metrics.Point) float64 {
				return p.LockWaitP95
			}))},
		{Key: "waiting_now", Label: "Waiting on locks now", Value: none(fmtCount(t.WaitingNow), hasSamples), Unit: pluralUnit(t.WaitingNow, "session"),
			Level:  level("lock_waits", "warn"),
			Detail: []string{"pg_stat_activity, every " + fmtDuration(time.Duration(snap.IntervalSeconds*float64(time.Second))), "alert at " + fmtCount(th.LockWaitingNow) + " or more"},
			Chart:  chart(fmtCount, 2, line("waiting", "s2", func(p metrics.Point) float64 { return p.WaitingNow }))},
		{Key: "version_conflicts", Label: "Version conflicts", Value: none(fmtCount(t.VersionConflicts), hasSamples), Unit: "last " + window,
			Detail: []string{fmtCount(hour(func(p metrics.Point) float64 { return p.VersionConflicts })) + " · last hour", "stale expected_version"},
			Chart:  chart(fmtCount, 2, line("conflicts", "s2", func(p metrics.Point) float64 { return p.VersionConflicts }))},
		{Key: "lock_timeouts", Label: "Lock timeouts", Value: none(fmtCount(t.LockTimeouts), hasSamples), Unit: "last " + window,
			Level:  level("lock_waits", "warn"),
			Detail: []string{fmtCount(hour(func(p metrics.Point) float64 { return p.LockTimeouts })) + " · last hour", "answered 503 lock-timeout"},
			Chart:  chart(fmtCount, 2, line("timeouts", "s3", func(p metrics.Point) float64 { return p.LockTimeouts }))},
		{Key: "pool", Label: "Database pool", Value: poolValue, Unit: "in use", Detail: poolDetail,
			Chart: chart(fmtCount, 2,
				line("in use", "s1", func(p metrics.Point) float64 { return p.PoolInUse }),
				line("idle", "s2", func(p metrics.Point) float64 { return p.PoolIdle }))},
	}
}

// Number formats: thousands separators, a unit, and as many decimals as
// the size of the number deserves.

func fmtCount(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return groupThousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
}

// fmtRate: "0", "0.35", "2.5", "12.5", "1,234".
func fmtRate(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case v == 0:
		return "0"
	case math.Abs(v) < 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case math.Abs(v) < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return fmtCount(v)
}

func fmtMsNumber(v float64) string { return fmtRate(v) }

// fmtMs: "0.25 ms", "12.5 ms", "1,234 ms", "12.3 s".
func fmtMs(v float64) string {
	if v >= 10_000 {
		return fmtRate(v/1000) + " s"
	}
	return fmtMsNumber(v) + " ms"
}

// fmtPercentNumber: a ratio as a percentage with one decimal: "97.3".
func fmtPercentNumber(r float64) string {
	if math.IsNaN(r) || r < 0 {
		return "—"
	}
	return strconv.FormatFloat(r*100, 'f', 1, 64)
}

func fmtPercent(r float64) string {
	n := fmtPercentNumber(r)
	if n == "—" {
		return n
	}
	return n + " %"
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

func fmtDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.Itoa(int(d/time.Second)) + " s"
	}
	return fmtMs(ms(d))
}

func fmtWindowWords(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "minute"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
	return fmtDuration(d)
}

// groupThousands puts commas into the integer part of a formatted number.
func groupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i:]
	}
	if len(intPart) <= 3 {
		return sign + intPart + frac
	}
	var b strings.Builder
	lead := len(intPart) % 3
	if lead > 0 {
		b.WriteString(intPart[:lead])
	}
	for i := lead; i < len(intPart); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(intPart[i : i+3])
	}
	return sign + b.String() + frac
}

// niceCeil rounds a chart's top up to 1, 2 or 5 times a power of ten, so
// the scale reads as a round number.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

func pluralUnit(n float64, unit string) string {
	if n == 1 {
		return unit
	}
	return unit + "s"
}

func joinPIDs(pids []int32) string {
	if len(pids) == 0 {
		return "—"
	}
	parts := make([]string, len(pids))
	for i, p := range pids {
		parts[i] = strconv.Itoa(int(p))
	}
	return strings.Join(parts, ", ")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
