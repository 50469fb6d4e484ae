package loadtest

import (
	"math"
	"time"
)

// Summary holds every figure of one run; it is what --json writes and
// what the HTML report is drawn from.
type Summary struct {
	Name        string    `json:"name"`
	Method      string    `json:"method"`
	URL         string    `json:"url"`
	Mode        string    `json:"mode"` // "closed" (N workers) or "open" (constant arrival rate)
	Concurrency int       `json:"concurrency"`
	Rate        float64   `json:"rate_per_second,omitempty"`
	Client      string    `json:"client"`
	StartedAt   time.Time `json:"started_at"`

	MaxRequests        int64   `json:"max_requests"`
	MaxDurationSeconds float64 `json:"max_duration_seconds"`
	StopReason         string  `json:"stop_reason"`
	// ElapsedSeconds covers the measured phase, warm-up excluded.
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	WarmupRequests int64   `json:"warmup_requests"`

	Requests    int64 `json:"requests"`
	Succeeded   int64 `json:"succeeded"` // 2xx and 3xx
	Failed      int64 `json:"failed"`    // other statuses and transport errors; 429 excluded
	RateLimited int64 `json:"rate_limited"`

	SuccessRate float64 `json:"success_rate"`
	// SuccessRateExcludingRateLimited leaves 429s out of the denominator, for
	// scenarios that expect to be throttled now and then.
	SuccessRateExcludingRateLimited float64 `json:"success_rate_excluding_rate_limited"`
	ErrorRate                       float64 `json:"error_rate"`
	RateLimitedRate                 float64 `json:"rate_limited_rate"`

	StatusCodes     map[string]int64 `json:"status_codes"`
	TransportErrors map[string]int64 `json:"transport_errors"`

	// Latency covers responses other than 429, in milliseconds.
	Latency       LatencySummary `json:"latency_ms"`
	ThroughputRPS float64        `json:"throughput_rps"`
	BytesReceived int64          `json:"bytes_received"`

	Cache     CacheSummary     `json:"cache"`
	RateLimit RateLimitSummary `json:"rate_limit"`
	Pacing    *PacingSummary   `json:"pacing,omitempty"`

	Histogram []HistogramBucket `json:"latency_histogram"`
	Timeline  []SecondStats     `json:"timeline"`

	Checks []CheckResult `json:"checks"`
	Pass   bool          `json:"pass"`
}

// CacheSummary counts X-Cache values of the measured (post warm-up)
// responses other than 429.
type CacheSummary struct {
	Hits    int64   `json:"hits"`
	Misses  int64   `json:"misses"`
	Other   int64   `json:"other"`
	Absent  int64   `json:"absent"`
	HitRate float64 `json:"hit_rate"` // hits / (hits + misses); 0 when neither was seen
}

// RateLimitSummary checks the X-RateLimit-* contract: one policy's limit
// stays constant, Remaining stays within [0, Limit], and a 429 carries the
// headers and Retry-After.
type RateLimitSummary struct {
	rateLimitStats
	Consistent bool `json:"consistent"`
}

// PacingSummary tells whether an open-loop run kept its schedule; late
// sends mean too few workers for the rate (their latency still counts the
// wait, so the percentiles stay honest).
type PacingSummary struct {
	LateSends        int64   `json:"late_sends"`
	MaxSendDelayMs   float64 `json:"max_send_delay_ms"`
	LateThresholdMs  float64 `json:"late_threshold_ms"`
	IntendedRate     float64 `json:"intended_rate_per_second"`
	AchievedRatePerS float64 `json:"achieved_rate_per_second"`
}

func (s *runState) summarize(startedAt time.Time, m merged, tl *timeline) Summary {
	o := s.opts
	sum := Summary{
		Name:               o.Name,
		Method:             o.Target.Method,
		URL:                o.Target.URL,
		Mode:               "closed",
		Concurrency:        o.Concurrency,
		Rate:               o.Rate,
		Client:             o.Client,
		StartedAt:          startedAt,
		MaxRequests:        o.MaxRequests,
		MaxDurationSeconds: o.MaxDuration.Seconds(),
		StopReason:         s.stopReason,
		Requests:           m.total,
		Succeeded:          m.succeeded,
		Failed:             m.failed,
		RateLimited:        m.limited,
		StatusCodes:        statusKeys(m.statuses),
		TransportErrors:    m.transport,
		Latency:            summarizeLatency(m.latency),
		BytesReceived:      m.bytes,
		Histogram:          latencyBuckets(m.latency, 40),
		Timeline:           summarizeTimeline(tl),
	}
	if o.HTTPClient != nil {
		sum.Client = "custom"
	}
	if sum.StopReason == "" {
		sum.StopReason = StopRequests
	}
	if o.Source != nil && sum.URL == "" {
		sum.URL = "(varies per request)"
	}
	sum.WarmupRequests = s.warm.Load()

	if ms := time.Duration(s.measureStart.Load()); m.total > 0 && ms >= 0 {
		if elapsed := m.last - ms; elapsed > 0 {
			sum.ElapsedSeconds = elapsed.Seconds()
			sum.ThroughputRPS = round3(float64(m.total) / elapsed.Seconds())
		}
	}
	if m.total > 0 {
		t := float64(m.total)
		sum.SuccessRate = round6(float64(m.succeeded) / t)
		sum.ErrorRate = round6(float64(m.failed) / t)
		sum.RateLimitedRate = round6(float64(m.limited) / t)
		if rest := m.total - m.limited; rest > 0 {
			sum.SuccessRateExcludingRateLimited = round6(float64(m.succeeded) / float64(rest))
		}
	}
	sum.Cache = CacheSummary{Hits: m.cacheHits, Misses: m.cacheMisses, Other: m.cacheOther, Absent: m.cacheNone}
	if seen := m.cacheHits + m.cacheMisses; seen > 0 {
		sum.Cache.HitRate = round6(float64(m.cacheHits) / float64(seen))
	}
	rl := m.rateLimit
	sum.RateLimit = RateLimitSummary{
		rateLimitStats: rl,
		Consistent: rl.MinLimit == rl.MaxLimit && rl.Unparsable == 0 && rl.RemainingOutOfRange == 0 &&
			rl.LimitedWithoutRetryAfter == 0 && rl.LimitedWithoutHeaders == 0,
	}
	if s.open {
		sum.Mode = "open"
		sum.Pacing = &PacingSummary{
			LateSends:       m.lateSends,
			MaxSendDelayMs:  float64(m.maxSendDelay.Microseconds()) / 1000,
			LateThresholdMs: float64(lateThreshold.Milliseconds()),
			IntendedRate:    o.Rate,
		}
		sum.Pacing.AchievedRatePerS = sum.ThroughputRPS
	}
	return sum
}

func round3(v float64) float64 { return math.Round(v*1e3) / 1e3 }
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
