package metrics

import (
	"context"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
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

// Gauges reads the values sampled at the end of each interval.
type Gauges func(ctx context.Context) (poolInUse, poolIdle, poolMax, waitingNow float64)

// Recorder samples the registry every interval into a fixed ring.
type Recorder struct {
	reg      prometheus.Gatherer
	interval time.Duration
	gauges   Gauges

	mu    sync.Mutex
	ring  []Sample
	next  int
	full  bool
	prev  totals
	since time.Time
	// lockWaitBounds are the lock-wait histogram's bucket bounds.
	lockWaitBounds []float64
}

// NewRecorder keeps size samples of interval each (720 x 5s = 1 hour).
func NewRecorder(reg prometheus.Gatherer, interval time.Duration, size int, gauges Gauges) *Recorder {
	return &Recorder{reg: reg, interval: interval, gauges: gauges, ring: make([]Sample, size), since: time.Now()}
}

// Interval is the sampling period.
func (r *Recorder) Interval() time.Duration { return r.interval }

// Run samples until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	r.mu.Lock()
	r.prev = r.gather()
	r.mu.Unlock()
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.SampleNow(ctx, now)
		}
	}
}

// SampleNow takes one sample (the ticker calls it; tests call it directly).
func (r *Recorder) SampleNow(ctx context.Context, now time.Time) {
	cur := r.gather()
	var s Sample
	if r.gauges != nil {
		s.PoolInUse, s.PoolIdle, s.PoolMax, s.WaitingNow = r.gauges(ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.prev
	if prev.at.IsZero() {
		prev = totals{at: r.since, latency: make([]float64, len(cur.latency)), lockWait: make([]float64, len(cur.lockWait))}
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

// Since is when recording started.
func (r *Recorder) Since() time.Time { return r.since }

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
	Route, Method                string
	Requests, Errors, ClientErrs float64
	P50, P95, P99                float64 // seconds
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
					rs.ClientErrs += v
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
			rs.P50 = Quantile(.5, LatencyBuckets, h)
			rs.P95 = Quantile(.95, LatencyBuckets, h)
			rs.P99 = Quantile(.99, LatencyBuckets, h)
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
