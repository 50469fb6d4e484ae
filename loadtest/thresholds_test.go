package loadtest

import (
	"testing"
	"time"
)

func TestThresholdsEvaluate(t *testing.T) {
	good := Summary{
		Requests: 1000, Succeeded: 990, Failed: 10, SuccessRate: 0.99, SuccessRateExcludingRateLimited: 0.99,
		Latency: LatencySummary{Count: 1000, Avg: 50, P95: 120, P99: 300},
		Cache:   CacheSummary{Hits: 700, Misses: 300, HitRate: 0.7},
	}
	with := func(f func(*Summary)) Summary { s := good; f(&s); return s }
	tests := []struct {
		name       string
		th         Thresholds
		s          Summary
		wantPass   bool
		wantFailed string // the check that must fail
	}{
		{"defaults pass", DefaultThresholds(), good, true, ""},
		{"success at exactly 95% fails (must be above)", DefaultThresholds(), with(func(s *Summary) { s.SuccessRate = 0.95 }), false, "success_rate"},
		{"success just above 95% passes", DefaultThresholds(), with(func(s *Summary) { s.SuccessRate = 0.9501 }), true, ""},
		{"avg at 200ms fails", DefaultThresholds(), with(func(s *Summary) { s.Latency.Avg = 200 }), false, "avg_latency"},
		{"avg just below 200ms passes", DefaultThresholds(), with(func(s *Summary) { s.Latency.Avg = 199.999 }), true, ""},
		{"p95 at 500ms fails", DefaultThresholds(), with(func(s *Summary) { s.Latency.P95 = 500 }), false, "p95_latency"},
		{"p99 off by default", DefaultThresholds(), with(func(s *Summary) { s.Latency.P99 = 10000 }), true, ""},
		{"p99 on", Thresholds{MaxP99: 250 * time.Millisecond}, good, false, "p99_latency"},
		{"no requests never passes", Thresholds{}, Summary{}, false, "requests"},
		{"no latency fails a latency bar", DefaultThresholds(), with(func(s *Summary) { s.Latency = LatencySummary{} }), false, "avg_latency"},
		{"cache above 60% passes", Thresholds{MinCacheHitRate: 0.6}, good, true, ""},
		{"cache at 60% fails", Thresholds{MinCacheHitRate: 0.6}, with(func(s *Summary) { s.Cache.HitRate = 0.6 }), false, "cache_hit_rate"},
		{"cache without headers fails", Thresholds{MinCacheHitRate: 0.6}, with(func(s *Summary) { s.Cache = CacheSummary{Absent: 1000} }), false, "cache_hit_rate"},
		{"429s counted against success", DefaultThresholds(),
			with(func(s *Summary) { s.SuccessRate, s.SuccessRateExcludingRateLimited, s.RateLimited = 0.5, 1, 500 }), false, "success_rate"},
		{"429s ignored on request", Thresholds{MinSuccessRate: 0.95, IgnoreRateLimited: true},
			with(func(s *Summary) { s.SuccessRate, s.SuccessRateExcludingRateLimited, s.RateLimited = 0.5, 1, 500 }), true, ""},
		{"expected 429 missing", Thresholds{RequireRateLimited: true},
			with(func(s *Summary) {
				s.RateLimit = RateLimitSummary{rateLimitStats{WithHeaders: 10, MinLimit: 5, MaxLimit: 5}, true}
			}), false, "rate_limited_responses"},
		{"expected 429 with consistent headers", Thresholds{RequireRateLimited: true},
			with(func(s *Summary) {
				s.RateLimited = 3
				s.RateLimit = RateLimitSummary{rateLimitStats{WithHeaders: 10, MinLimit: 5, MaxLimit: 5}, true}
			}), true, ""},
		{"expected 429 with inconsistent headers", Thresholds{RequireRateLimited: true},
			with(func(s *Summary) {
				s.RateLimited = 3
				s.RateLimit = RateLimitSummary{rateLimitStats{WithHeaders: 10, MinLimit: 5, MaxLimit: 6}, false}
			}), false, "rate_limit_headers_consistent"},
		{"expected 429 without any header", Thresholds{RequireRateLimited: true},
			with(func(s *Summary) { s.RateLimited = 3; s.RateLimit = RateLimitSummary{Consistent: true} }), false, "rate_limit_headers_consistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := tt.th.Evaluate(tt.s)
			if got := allPass(checks); got != tt.wantPass {
				t.Errorf("pass = %v, want %v: %v", got, tt.wantPass, checks)
			}
			if tt.wantFailed != "" {
				found := false
				for _, c := range checks {
					found = found || (c.Name == tt.wantFailed && !c.Pass)
				}
				if !found {
					t.Errorf("check %s did not fail: %v", tt.wantFailed, checks)
				}
			}
		})
	}
}

func TestThresholdConfigApply(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	yes := true
	c := ThresholdConfig{MinSuccessRate: f(0.5), MaxP95Ms: f(0), MaxP99Ms: f(250.5), Expect429: &yes}
	got := c.Apply(DefaultThresholds())
	want := Thresholds{MinSuccessRate: 0.5, MaxAvg: 200 * time.Millisecond, MaxP95: 0, MaxP99: 250500 * time.Microsecond, RequireRateLimited: true}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
