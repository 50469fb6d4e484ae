package metrics

import (
	"context"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"batchtrack/db"
	"batchtrack/periodic"
	"batchtrack/web/cache"
)

// Sample is what happened during one interval: counts are deltas of the
// Prometheus counters between two gathers; gauges are read at its end.
type Sample struct {
	At               time.Time
	Seconds          float64
	Requests         float64
	Errors           float64   // 5xx
	RateLimited      float64   // 429s
	Latency          []float64 // per-bucket counts (not cumulative), LatencyBuckets + Inf
	CacheHits        float64
	CacheMisses      float64
	LockWaits        float64
	LockWaitSum      float64
	LockWait         []float64 // per-bucket counts, LockWaitBuckets + Inf
	VersionConflicts float64
	LockTimeouts     float64
	PoolInUse        float64
	PoolIdle         float64
	PoolMax          float64
	WaitingNow       float64
}

// LockWaiterLister reads the sessions waiting on locks right now; a
// *db.Store is one.
type LockWaiterLister interface {
	ListLockWaiters(ctx context.Context) ([]db.LockWaiter, error)
}

// CacheSnapshotter is the cache's own view of its counters; a
// *cache.Cache is one.
type CacheSnapshotter interface {
	Snapshot() cache.Snapshot
}

// RecorderConfig configures a Recorder; zero values take the defaults.
type RecorderConfig struct {
	Interval time.Duration // between samples; default 5s
	Size     int           // samples kept; default 720 (an hour of 5s)
	// Pool, when set, is read at the end of every interval.
	Pool PoolStater
	// LockWaiters, when set, is asked at every interval which sessions wait
	// on locks; the latest list is kept for the dashboard.
	LockWaiters LockWaiterLister
	// Cache, when set, is where cache hits and misses are read (its
	// Snapshot); otherwise the registry's batchtrack_cache_* counters are.
	Cache CacheSnapshotter
	// Registerer, when set, gets the gauge batchtrack_db_lock_waiters.
	Registerer prometheus.Registerer
	// ProbeTimeout bounds the lock-waiter query; default 2s.
	ProbeTimeout time.Duration
	Logger       *slog.Logger
}

// Recorder samples the registry every interval into a fixed ring.
type Recorder struct {
	reg     prometheus.Gatherer
	cfg     RecorderConfig
	waiting prometheus.Gauge

	// sampling serialises SampleNow: deltas need one previous total.
	sampling sync.Mutex

	mu    sync.Mutex
	ring  []Sample
	next  int
	full  bool
	prev  totals
	since time.Time
	// lockWaitBounds are the lock-wait histogram's bucket bounds.
	lockWaitBounds []float64
	waiters        LockWaiters
}

// LockWaiters is the latest answer to "who waits on a lock right now".
type LockWaiters struct {
	At      time.Time
	Waiters []db.LockWaiter
	Failed  bool // the query failed (logged); Waiters is from before
}

// NewRecorder keeps cfg.Size samples of cfg.Interval each.
func NewRecorder(reg prometheus.Gatherer, cfg RecorderConfig) (*Recorder, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Size <= 0 {
		cfg.Size = 720
	}
	if cfg.ProbeTimeout <= 0 {
		cfg.ProbeTimeout = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Recorder{reg: reg, cfg: cfg, ring: make([]Sample, cfg.Size), since: time.Now(),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "batchtrack_db_lock_waiters",
			Help: "Database sessions waiting on a lock, sampled every few seconds (pg_stat_activity, wait_event_type Lock).",
		})}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(r.waiting); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Interval is the sampling period.
func (r *Recorder) Interval() time.Duration { return r.cfg.Interval }

// Size is how many samples the ring keeps.
func (r *Recorder) Size() int { return len(r.ring) }

// Run samples every interval until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	periodic.Every(ctx, r.cfg.Interval, func(ctx context.Context) { r.SampleNow(ctx, time.Now()) })
}

// SampleNow takes one sample ending at now (the ticker calls it; tests
// call it directly).
func (r *Recorder) SampleNow(ctx context.Context, now time.Time) {
	r.sampling.Lock()
	defer r.sampling.Unlock()
	var s Sample
	if r.cfg.Pool != nil {
		st := r.cfg.Pool.Stat()
		s.PoolInUse, s.PoolIdle, s.PoolMax = float64(st.AcquiredConns()), float64(st.IdleConns()), float64(st.MaxConns())
	}
	waiters, waitersOK := r.readWaiters(ctx, now)
	cur := r.gather()
	if r.cfg.Cache != nil {
		cur.cacheHits, cur.cacheMisses = 0, 0
		for _, k := range r.cfg.Cache.Snapshot().Kinds {
			cur.cacheHits += float64(k.Hits)
			cur.cacheMisses += float64(k.Misses)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if waitersOK {
		r.waiters = waiters
	} else {
		r.waiters.Failed = true
	}
	s.WaitingNow = float64(len(r.waiters.Waiters))
	prev := r.prev
	if prev.at.IsZero() {
		prev = totals{at: r.since}
	}
	s.At = now
	s.Seconds = now.Sub(prev.at).Seconds()
	s.Requests = cur.requests - prev.requests
	s.Errors = cur.errors - prev.errors
	s.RateLimited = cur.rateLimited - prev.rateLimited
	s.CacheHits = cur.cacheHits - prev.cacheHits
	s.CacheMisses = cur.cacheMisses - prev.cacheMisses
	s.LockWaits = cur.lockWaits - prev.lockWaits
	s.LockWaitSum = cur.lockWaitSum - prev.lockWaitSum
	s.VersionConflicts = cur.versionConflicts - prev.versionConflicts
	s.LockTimeouts = cur.lockTimeouts - prev.lockTimeouts
	s.Latency = deltas(cur.latency, prev.latency)
	s.LockWait = deltas(cur.lockWait, prev.lockWait)
	cur.at = now
	r.prev = cur
	if cur.lockWaitBounds != nil {
		r.lockWaitBounds = cur.lockWaitBounds
	}
	r.ring[r.next] = s
	r.next = (r.next + 1) % len(r.ring)
	if r.next == 0 {
		r.full = true
	}
}

// readWaiters asks the database who waits on a lock; ok is false when it
// could not say (the failure is logged once, not every interval).
func (r *Recorder) readWaiters(ctx context.Context, now time.Time) (LockWaiters, bool) {
	if r.cfg.LockWaiters == nil {
		return LockWaiters{At: now}, true
	}
	qctx, cancel := context.WithTimeout(ctx, r.cfg.ProbeTimeout)
	defer cancel()
	list, err := r.cfg.LockWaiters.ListLockWaiters(qctx)
	if err != nil {
		r.mu.Lock()
		failedBefore := r.waiters.Failed
		r.mu.Unlock()
		if !failedBefore && ctx.Err() == nil {
			r.cfg.Logger.Warn("lock waiters: query failed; the dashboard shows the last answer", "err", err)
		}
		return LockWaiters{}, false
	}
	r.waiting.Set(float64(len(list)))
	return LockWaiters{At: now, Waiters: list}, true
}

// Samples returns the ring oldest first.
func (r *Recorder) Samples() []Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Sample
	if r.full {
		out = append(out, r.ring[r.next:]...)
	}
	return append(out, r.ring[:r.next]...)
}

// LockWaiters returns the latest list of sessions waiting on locks.
func (r *Recorder) LockWaiters() LockWaiters {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.waiters
	w.Waiters = append([]db.LockWaiter(nil), w.Waiters...)
	return w
}

// Since is when recording started.
func (r *Recorder) Since() time.Time { return r.since }

func (r *Recorder) bounds() []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lockWaitBounds
}

func deltas(cur, prev []float64) []float64 {
	out := make([]float64, len(cur))
	for i := range cur {
		p := 0.0
		if i < len(prev) {
			p = prev[i]
		}
		out[i] = cur[i] - p
	}
	// Cumulative bucket counts to per-bucket counts.
	for i := len(out) - 1; i > 0; i-- {
		out[i] -= out[i-1]
	}
	return out
}

// totals are the cumulative values of one gather.
type totals struct {
	at                                                     time.Time
	requests, errors, rateLimited, cacheHits, cacheMisses  float64
	lockWaits, lockWaitSum, versionConflicts, lockTimeouts float64
	latency, lockWait                                      []float64 // cumulative bucket counts incl. +Inf
	lockWaitBounds                                         []float64
}

// The metric names the dashboard reads, from this package, inventory, the
// cache and the limiter.
const (
	nameRequests         = "batchtrack_http_requests_total"
	nameDuration         = "batchtrack_http_request_duration_seconds"
	nameCacheHits        = "batchtrack_cache_hits_total"
	nameCacheMisses      = "batchtrack_cache_misses_total"
	nameLockWait         = "batchtrack_consume_lock_wait_seconds"
	nameVersionConflicts = "batchtrack_batch_version_conflicts_total"
	nameLockTimeouts     = "batchtrack_consume_lock_timeouts_total"
)

// dashboardRoutes are left out of the dashboard's request figures: the
// dashboard polling itself would otherwise dominate a quiet system.
var dashboardRoutes = map[string]bool{"/dashboard": true, "/dashboard/live": true, "/api/metrics": true, "/metrics": true}

func (r *Recorder) gather() totals {
	fams, _ := r.reg.Gather()
	t := totals{latency: make([]float64, len(LatencyBuckets)+1)}
	for _, f := range fams {
		switch f.GetName() {
		case nameRequests:
			for _, m := range f.Metric {
				if dashboardRoutes[label(m, "route")] {
					continue
				}
				v := m.GetCounter().GetValue()
				t.requests += v
				code, _ := strconv.Atoi(label(m, "status"))
				if code >= 500 {
					t.errors += v
				}
				if code == 429 {
					t.rateLimited += v
				}
			}
		case nameDuration:
			for _, m := range f.Metric {
				if dashboardRoutes[label(m, "route")] {
					continue
				}
				addBuckets(t.latency, m.GetHistogram())
			}
		case nameCacheHits:
			t.cacheHits += sum(f)
		case nameCacheMisses:
			t.cacheMisses += sum(f)
		case nameVersionConflicts:
			t.versionConflicts += sum(f)
		case nameLockTimeouts:
			t.lockTimeouts += sum(f)
		case nameLockWait:
			for _, m := range f.Metric {
				h := m.GetHistogram()
				t.lockWaits += float64(h.GetSampleCount())
				t.lockWaitSum += h.GetSampleSum()
				if t.lockWait == nil {
					t.lockWait = make([]float64, len(h.Bucket)+1)
					for _, b := range h.Bucket {
						t.lockWaitBounds = append(t.lockWaitBounds, b.GetUpperBound())
					}
				}
				addBuckets(t.lockWait, h)
			}
		}
	}
	return t
}

func addBuckets(into []float64, h *dto.Histogram) {
	for i, b := range h.Bucket {
		if i < len(into)-1 {
			into[i] += float64(b.GetCumulativeCount())
		}
	}
	into[len(into)-1] += float64(h.GetSampleCount())
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func sum(f *dto.MetricFamily) float64 {
	total := 0.0
	for _, m := range f.Metric {
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	return total
}

// Quantile estimates the q-quantile (0..1) from per-bucket counts whose
// upper bounds are bounds (the last bucket is +Inf), interpolating
// linearly inside the bucket. NaN when there are no observations.
func Quantile(q float64, bounds, counts []float64) float64 {
	total := 0.0
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	seen := 0.0
	for i, c := range counts {
		if c == 0 {
			continue
		}
		if seen+c >= rank {
			lower := 0.0
			if i > 0 {
				lower = bounds[i-1]
			}
			if i >= len(bounds) { // +Inf bucket: report its lower bound
				return lower
			}
			return lower + (bounds[i]-lower)*(rank-seen)/c
		}
		seen += c
	}
	return bounds[len(bounds)-1]
}

// RouteStats are one route's totals since the process started.
type RouteStats struct {
	Route        string  `json:"route"`
	Method       string  `json:"method"`
	Requests     float64 `json:"requests"`
	Errors       float64 `json:"errors"`        // 5xx
	ClientErrors float64 `json:"client_errors"` // 4xx
	P50          float64 `json:"p50_ms"`
	P95          float64 `json:"p95_ms"`
	P99          float64 `json:"p99_ms"`
}

// Routes reads per-route figures from the registry, busiest first.
func Routes(reg prometheus.Gatherer) []RouteStats {
	fams, _ := reg.Gather()
	byKey := map[string]*RouteStats{}
	hist := map[string][]float64{}
	get := func(route, method string) *RouteStats {
		k := method + " " + route
		if byKey[k] == nil {
			byKey[k] = &RouteStats{Route: route, Method: method}
		}
		return byKey[k]
	}
	for _, f := range fams {
		switch f.GetName() {
		case nameRequests:
			for _, m := range f.Metric {
				rs := get(label(m, "route"), label(m, "method"))
				v := m.GetCounter().GetValue()
				rs.Requests += v
				code, _ := strconv.Atoi(label(m, "status"))
				switch {
				case code >= 500:
					rs.Errors += v
				case code >= 400:
					rs.ClientErrors += v
				}
			}
		case nameDuration:
			for _, m := range f.Metric {
				k := label(m, "method") + " " + label(m, "route")
				cum := make([]float64, len(LatencyBuckets)+1)
				addBuckets(cum, m.GetHistogram())
				hist[k] = deltas(cum, nil)
			}
		}
	}
	out := make([]RouteStats, 0, len(byKey))
	for k, rs := range byKey {
		if h, ok := hist[k]; ok {
			rs.P50 = ms(Quantile(.5, LatencyBuckets, h))
			rs.P95 = ms(Quantile(.95, LatencyBuckets, h))
			rs.P99 = ms(Quantile(.99, LatencyBuckets, h))
		}
		out = append(out, *rs)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Requests != out[j].Requests {
			return out[i].Requests > out[j].Requests
		}
		return out[i].Method+out[i].Route < out[j].Method+out[j].Route
	})
	return out
}
