package loadtest

import (
	"fmt"
	"time"
)

// Thresholds decide whether a run passes. A zero field is switched off.
type Thresholds struct {
	// MinSuccessRate: the success rate must be strictly greater (0.95 = 95%).
	MinSuccessRate float64
	// IgnoreRateLimited computes the success rate without the 429s, for
	// scenarios where throttling is expected and reported, not a failure.
	IgnoreRateLimited bool
	// Max latencies must not be reached (avg < MaxAvg ...).
	MaxAvg time.Duration
	MaxP95 time.Duration
	MaxP99 time.Duration
	// MinCacheHitRate: X-Cache HIT / (HIT + MISS) after warm-up must exceed it.
	MinCacheHitRate float64
	// RequireRateLimited: at least one 429, and the X-RateLimit-* headers
	// consistent throughout.
	RequireRateLimited bool
}

// DefaultThresholds are the original tool's: success > 95%, avg < 200 ms,
// P95 < 500 ms.
func DefaultThresholds() Thresholds {
	return Thresholds{MinSuccessRate: 0.95, MaxAvg: 200 * time.Millisecond, MaxP95: 500 * time.Millisecond}
}

// DefaultCacheHitRate is the bar for the cached scenario.
const DefaultCacheHitRate = 0.60

// CheckResult is one threshold's verdict.
type CheckResult struct {
	Name   string  `json:"name"`
	Op     string  `json:"op"`
	Limit  float64 `json:"limit"`
	Actual float64 `json:"actual"`
	Unit   string  `json:"unit,omitempty"`
	Pass   bool    `json:"pass"`
	Detail string  `json:"detail,omitempty"`
}

func (c CheckResult) String() string {
	verdict := "PASS"
	if !c.Pass {
		verdict = "FAIL"
	}
	s := fmt.Sprintf("%s %s: %s %s %s", verdict, c.Name, formatFigure(c.Actual, c.Unit), c.Op, formatFigure(c.Limit, c.Unit))
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

func formatFigure(v float64, unit string) string {
	switch unit {
	case "%":
		return fmt.Sprintf("%.2f%%", v)
	case "ms":
		return fmt.Sprintf("%.2fms", v)
	}
	return fmt.Sprintf("%g", v)
}

// Evaluate checks s against t. A run that measured no request fails: an
// empty result must never read as a pass.
func (t Thresholds) Evaluate(s Summary) []CheckResult {
	var out []CheckResult
	out = append(out, CheckResult{Name: "requests", Op: ">", Limit: 0, Actual: float64(s.Requests), Pass: s.Requests > 0})
	if t.MinSuccessRate > 0 {
		rate, name := s.SuccessRate, "success_rate"
		if t.IgnoreRateLimited {
			rate, name = s.SuccessRateExcludingRateLimited, "success_rate_excluding_429"
		}
		out = append(out, CheckResult{Name: name, Op: ">", Limit: t.MinSuccessRate * 100, Actual: rate * 100, Unit: "%", Pass: rate > t.MinSuccessRate})
	}
	latency := func(name string, limit time.Duration, actual float64) {
		if limit <= 0 {
			return
		}
		c := CheckResult{Name: name, Op: "<", Limit: float64(limit.Microseconds()) / 1000, Actual: actual, Unit: "ms"}
		c.Pass = s.Latency.Count > 0 && actual < c.Limit
		if s.Latency.Count == 0 {
			c.Detail = "no response to measure"
		}
		out = append(out, c)
	}
	latency("avg_latency", t.MaxAvg, s.Latency.Avg)
	latency("p95_latency", t.MaxP95, s.Latency.P95)
	latency("p99_latency", t.MaxP99, s.Latency.P99)
	if t.MinCacheHitRate > 0 {
		c := CheckResult{Name: "cache_hit_rate", Op: ">", Limit: t.MinCacheHitRate * 100, Actual: s.Cache.HitRate * 100, Unit: "%"}
		seen := s.Cache.Hits + s.Cache.Misses
		c.Pass = seen > 0 && s.Cache.HitRate > t.MinCacheHitRate
		if seen == 0 {
			c.Detail = "no X-Cache HIT/MISS header seen"
		}
		out = append(out, c)
	}
	if t.RequireRateLimited {
		out = append(out, CheckResult{Name: "rate_limited_responses", Op: ">", Limit: 0, Actual: float64(s.RateLimited), Pass: s.RateLimited > 0})
		c := CheckResult{Name: "rate_limit_headers_consistent", Op: "==", Limit: 1, Actual: 0, Pass: s.RateLimit.Consistent && s.RateLimit.WithHeaders > 0}
		if c.Pass {
			c.Actual = 1
		}
		c.Detail = rateLimitDetail(s.RateLimit)
		out = append(out, c)
	}
	return out
}

func rateLimitDetail(r RateLimitSummary) string {
	if r.WithHeaders == 0 {
		return "no X-RateLimit-* headers seen"
	}
	d := fmt.Sprintf("limit %d", r.MinLimit)
	if r.MinLimit != r.MaxLimit {
		d = fmt.Sprintf("limit varied %d..%d", r.MinLimit, r.MaxLimit)
	}
	if r.RemainingOutOfRange > 0 {
		d += fmt.Sprintf(", %d remaining out of [0,limit]", r.RemainingOutOfRange)
	}
	if r.LimitedWithoutRetryAfter > 0 {
		d += fmt.Sprintf(", %d 429 without Retry-After", r.LimitedWithoutRetryAfter)
	}
	if r.LimitedWithoutHeaders > 0 {
		d += fmt.Sprintf(", %d 429 without X-RateLimit-*", r.LimitedWithoutHeaders)
	}
	if r.Unparsable > 0 {
		d += fmt.Sprintf(", %d unparsable", r.Unparsable)
	}
	return d
}

func allPass(cs []CheckResult) bool {
	for _, c := range cs {
		if !c.Pass {
			return false
		}
	}
	return true
}
