package metrics

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Point is one sample as the dashboard charts it.
type Point struct {
	At               time.Time `json:"at"`
	Seconds          float64   `json:"seconds"` // the interval this point covers
	Requests         float64   `json:"requests"`
	Errors           float64   `json:"errors"`
	RateLimited      float64   `json:"rate_limited"`
	RPS              float64   `json:"requests_per_second"`
	ErrorRate        float64   `json:"error_rate"` // 0..1, 5xx over requests
	P50              float64   `json:"p50_ms"`
	P95              float64   `json:"p95_ms"`
	P99              float64   `json:"p99_ms"`
	CacheHitRatio    float64   `json:"cache_hit_ratio"` // NaN-free: -1 when no lookups
	RateLimitedPerM  float64   `json:"rate_limited_per_minute"`
	LockWaits        float64   `json:"lock_waits"`
	LockWaitP95      float64   `json:"lock_wait_p95_ms"`
	VersionConflicts float64   `json:"version_conflicts"`
	LockTimeouts     float64   `json:"lock_timeouts"`
	PoolInUse        float64   `json:"pool_in_use"`
	PoolIdle         float64   `json:"pool_idle"`
	WaitingNow       float64   `json:"lock_waiting_now"`
}

// Tiles are the headline figures over a recent window.
type Tiles struct {
	Window          time.Duration `json:"-"`
	WindowSeconds   float64       `json:"window_seconds"`
	Requests        float64       `json:"requests"`
	RPS             float64       `json:"requests_per_second"`
	Errors          float64       `json:"errors"`     // 5xx
	ErrorRate       float64       `json:"error_rate"` // 0..1
	P50             float64       `json:"p50_ms"`
	P95             float64       `json:"p95_ms"`
	P99             float64       `json:"p99_ms"`
	CacheLookups    float64       `json:"cache_lookups"`
	CacheHitRatio   float64       `json:"cache_hit_ratio"`
	RateLimited     float64       `json:"rate_limited"` // 429s
	RateLimitedPerM float64       `json:"rate_limited_per_minute"`
	LockWaits       float64       `json:"lock_waits"`
	LockWaitP95     float64       `json:"lock_wait_p95_ms"`
	// LockWaitMax is the upper bound of the highest histogram bucket hit
	// (a histogram keeps no maximum); past the last bound it is that bound
	// and LockWaitMaxOver is set.
	LockWaitMax      float64 `json:"lock_wait_max_ms"`
	LockWaitMaxOver  bool    `json:"lock_wait_max_over"`
	WaitingNow       float64 `json:"lock_waiting_now"`
	VersionConflicts float64 `json:"version_conflicts"`
	LockTimeouts     float64 `json:"lock_timeouts"`
	PoolInUse        float64 `json:"pool_in_use"`
	PoolIdle         float64 `json:"pool_idle"`
	PoolMax          float64 `json:"pool_max"`
}

// Alert is a banner the dashboard shows.
type Alert struct {
	Level   string `json:"level"` // warning, critical
	Key     string `json:"key"`
	Message string `json:"message"`
}

// Thresholds decide the alerts (the original system's checklist).
type Thresholds struct {
	ErrorRate      float64       // above: critical (0.05)
	P95            time.Duration // above: warning (500ms)
	CacheHitRatio  float64       // below, after warm-up: warning (0.6)
	CacheWarmUp    float64       // lookups in the window before the ratio counts (50)
	LockWaitingNow float64       // sessions waiting on locks, at or above: warning (3)
	LockWaitP95    time.Duration // above: warning (250ms)
}

// DefaultThresholds are the defaults.
var DefaultThresholds = Thresholds{ErrorRate: 0.05, P95: 500 * time.Millisecond, CacheHitRatio: 0.6,
	CacheWarmUp: 50, LockWaitingNow: 3, LockWaitP95: 250 * time.Millisecond}

// Points turns samples into chart points.
func (r *Recorder) Points(samples []Sample) []Point {
	bounds := r.bounds()
	out := make([]Point, 0, len(samples))
	for _, s := range samples {
		p := Point{At: s.At, Seconds: s.Seconds, Requests: s.Requests, Errors: s.Errors, RateLimited: s.RateLimited, PoolInUse: s.PoolInUse, PoolIdle: s.PoolIdle, WaitingNow: s.WaitingNow,
			LockWaits: s.LockWaits, VersionConflicts: s.VersionConflicts, LockTimeouts: s.LockTimeouts}
		if s.Seconds > 0 {
			p.RPS = s.Requests / s.Seconds
			p.RateLimitedPerM = s.RateLimited / s.Seconds * 60
		}
		p.ErrorRate = ratio(s.Errors, s.Requests, 0)
		p.CacheHitRatio = ratio(s.CacheHits, s.CacheHits+s.CacheMisses, -1)
		p.P50 = ms(Quantile(.5, LatencyBuckets, s.Latency))
		p.P95 = ms(Quantile(.95, LatencyBuckets, s.Latency))
		p.P99 = ms(Quantile(.99, LatencyBuckets, s.Latency))
		p.LockWaitP95 = ms(Quantile(.95, bounds, s.LockWait))
		out = append(out, p)
	}
	return out
}

// Tiles sums the samples of the last window.
func (r *Recorder) Tiles(samples []Sample, window time.Duration) Tiles {
	bounds := r.bounds()
	t := Tiles{Window: window}
	var latency, lockWait []float64
	var seconds float64
	cutoff := time.Time{}
	if n := len(samples); n > 0 {
		cutoff = samples[n-1].At.Add(-window)
	}
	for _, s := range samples {
		if !s.At.After(cutoff) {
			continue
		}
		seconds += s.Seconds
		t.Requests += s.Requests
		t.Errors += s.Errors
		t.RateLimited += s.RateLimited
		t.CacheLookups += s.CacheHits + s.CacheMisses
		t.CacheHitRatio += s.CacheHits
		t.LockWaits += s.LockWaits
		t.VersionConflicts += s.VersionConflicts
		t.LockTimeouts += s.LockTimeouts
		latency = addInto(latency, s.Latency)
		lockWait = addInto(lockWait, s.LockWait)
	}
	if n := len(samples); n > 0 {
		last := samples[n-1]
		t.WaitingNow, t.PoolInUse, t.PoolIdle, t.PoolMax = last.WaitingNow, last.PoolInUse, last.PoolIdle, last.PoolMax
	}
	t.WindowSeconds = seconds
	if seconds > 0 {
		t.RPS = t.Requests / seconds
		t.RateLimitedPerM = t.RateLimited / seconds * 60
	}
	t.ErrorRate = ratio(t.Errors, t.Requests, 0)
	t.CacheHitRatio = ratio(t.CacheHitRatio, t.CacheLookups, -1)
	t.P50 = ms(Quantile(.5, LatencyBuckets, latency))
	t.P95 = ms(Quantile(.95, LatencyBuckets, latency))
	t.P99 = ms(Quantile(.99, LatencyBuckets, latency))
	t.LockWaitP95 = ms(Quantile(.95, bounds, lockWait))
	for i := len(lockWait) - 1; i >= 0; i-- {
		if lockWait[i] > 0 && len(bounds) > 0 {
			if i < len(bounds) {
				t.LockWaitMax = bounds[i] * 1000
			} else {
				t.LockWaitMax, t.LockWaitMaxOver = bounds[len(bounds)-1]*1000, true
			}
			break
		}
	}
	return t
}

// Alerts compares the tiles with the thresholds. Each alert fires
// strictly past its threshold: an error rate of exactly 5% does not.
func (th Thresholds) Alerts(t Tiles) []Alert {
	var out []Alert
	window := fmtWindow(t.Window)
	if t.Requests > 0 && t.ErrorRate > th.ErrorRate {
		out = append(out, Alert{"critical", "error_rate", fmt.Sprintf("Error rate is %.1f%%, above %s, over the last %s: %s of %s requests failed with 5xx.",
			t.ErrorRate*100, fmtPercent(th.ErrorRate), window, fmtCount(t.Errors), fmtCount(t.Requests))})
	}
	if t.Requests > 0 && t.P95 > durationMs(th.P95) {
		out = append(out, Alert{"warning", "p95", fmt.Sprintf("P95 response time is %.1f ms, above %s, over the last %s.",
			t.P95, fmtMs(durationMs(th.P95)), window)})
	}
	if t.CacheLookups >= th.CacheWarmUp && t.CacheHitRatio >= 0 && t.CacheHitRatio < th.CacheHitRatio {
		out = append(out, Alert{"warning", "cache_hit_ratio", fmt.Sprintf("Cache hit ratio is %.1f%%, below %s, over the last %s (%s lookups).",
			t.CacheHitRatio*100, fmtPercent(th.CacheHitRatio), window, fmtCount(t.CacheLookups))})
	}
	var why []string
	if t.WaitingNow >= th.LockWaitingNow {
		why = append(why, fmt.Sprintf("%s sessions wait on locks right now (alert at %s)", fmtCount(t.WaitingNow), fmtCount(th.LockWaitingNow)))
	}
	if t.LockWaits > 0 && t.LockWaitP95 > durationMs(th.LockWaitP95) {
		why = append(why, fmt.Sprintf("lock-wait P95 is %.1f ms (alert above %s)", t.LockWaitP95, fmtMs(durationMs(th.LockWaitP95))))
	}
	if t.LockTimeouts > 0 {
		why = append(why, fmt.Sprintf("%s consumes timed out waiting for a lock", fmtCount(t.LockTimeouts)))
	}
	if len(why) > 0 {
		out = append(out, Alert{"warning", "lock_waits", "Lock waits are climbing: " + strings.Join(why, "; ") + "."})
	}
	return out
}

func durationMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtWindow(d time.Duration) string {
	switch {
	case d <= 0:
		return "window"
	case d%time.Minute == 0 && d == time.Minute:
		return "minute"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
	return d.String()
}

func fmtPercent(r float64) string { return strconv.FormatFloat(r*100, 'f', -1, 64) + "%" }

func fmtMs(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + " ms" }

func fmtCount(v float64) string { return strconv.FormatFloat(math.Round(v), 'f', 0, 64) }

// addInto adds v to acc bucket by bucket; a histogram that appeared only
// in later samples widens acc.
func addInto(acc, v []float64) []float64 {
	for len(acc) < len(v) {
		acc = append(acc, 0)
	}
	for i := range v {
		acc[i] += v[i]
	}
	return acc
}

func ratio(a, b, none float64) float64 {
	if b == 0 {
		return none
	}
	return a / b
}

// ms converts seconds to milliseconds; NaN (no data) becomes 0.
func ms(s float64) float64 {
	if math.IsNaN(s) {
		return 0
	}
	return s * 1000
}
