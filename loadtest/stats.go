package loadtest

import (
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds. The ceiling is an hour: in open
// loop a request's latency includes how long it waited to be sent, which
// can approach the whole (capped) run.
const (
	histMinMicros    = 1
	histMaxMicros    = int64(time.Hour / time.Microsecond)
	histSigFigs      = 3
	secondsSigFigs   = 2 // per-second charts need shape, not the third digit
	maxStatusTracked = 600
)

func newLatencyHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinMicros, histMaxMicros, histSigFigs)
}

func recordMicros(h *hdrhistogram.Histogram, d time.Duration) {
	us := d.Microseconds()
	if us < histMinMicros {
		us = histMinMicros
	}
	if us > histMaxMicros {
		us = histMaxMicros
	}
	_ = h.RecordValue(us) // cannot fail: clamped to the trackable range
}

// liveCounters are read by the progress reporter while a worker writes them.
type liveCounters struct {
	done, failed, limited atomic.Int64
	_                     [40]byte // keep workers' counters on separate cache lines
}

// rateLimitStats checks the X-RateLimit-* contract response by response.
type rateLimitStats struct {
	WithHeaders              int64 `json:"responses_with_headers"`
	WithoutHeaders           int64 `json:"responses_without_headers"`
	Unparsable               int64 `json:"unparsable"`
	MinLimit                 int64 `json:"min_limit"`
	MaxLimit                 int64 `json:"max_limit"`
	RemainingOutOfRange      int64 `json:"remaining_out_of_range"`
	LimitedWithoutRetryAfter int64 `json:"rate_limited_without_retry_after"`
	LimitedWithoutHeaders    int64 `json:"rate_limited_without_headers"`
}

func (r *rateLimitStats) observe(ri responseInfo) {
	if ri.status == http429 {
		if !ri.hasRetryAfter {
			r.LimitedWithoutRetryAfter++
		}
		if !ri.hasRateLimit {
			r.LimitedWithoutHeaders++
		}
	}
	if !ri.hasRateLimit {
		r.WithoutHeaders++
		return
	}
	r.WithHeaders++
	if ri.rlUnparsable {
		r.Unparsable++
		return
	}
	if r.MinLimit == 0 || ri.rlLimit < r.MinLimit {
		r.MinLimit = ri.rlLimit
	}
	if ri.rlLimit > r.MaxLimit {
		r.MaxLimit = ri.rlLimit
	}
	if ri.rlRemaining < 0 || ri.rlRemaining > ri.rlLimit {
		r.RemainingOutOfRange++
	}
}

func (r *rateLimitStats) merge(o rateLimitStats) {
	r.WithHeaders += o.WithHeaders
	r.WithoutHeaders += o.WithoutHeaders
	r.Unparsable += o.Unparsable
	if o.MinLimit != 0 && (r.MinLimit == 0 || o.MinLimit < r.MinLimit) {
		r.MinLimit = o.MinLimit
	}
	if o.MaxLimit > r.MaxLimit {
		r.MaxLimit = o.MaxLimit
	}
	r.RemainingOutOfRange += o.RemainingOutOfRange
	r.LimitedWithoutRetryAfter += o.LimitedWithoutRetryAfter
	r.LimitedWithoutHeaders += o.LimitedWithoutHeaders
}

const http429 = 429

// secondBucket aggregates the requests that completed in one second of the
// measured phase.
type secondBucket struct {
	requests, succeeded, failed, limited int64
	latency                              *hdrhistogram.Histogram
}

func newSecondBucket() *secondBucket {
	return &secondBucket{latency: hdrhistogram.New(histMinMicros, histMaxMicros, secondsSigFigs)}
}

func (b *secondBucket) merge(o *secondBucket) {
	b.requests += o.requests
	b.succeeded += o.succeeded
	b.failed += o.failed
	b.limited += o.limited
	b.latency.Merge(o.latency)
}

func (b *secondBucket) reset() {
	b.requests, b.succeeded, b.failed, b.limited = 0, 0, 0, 0
	b.latency.Reset()
}

// timeline is shared by the workers; each flushes its current second into
// it only when its second changes, so the lock is taken about once per
// worker per second.
type timeline struct {
	mu      sync.Mutex
	seconds []*secondBucket
}

func (t *timeline) add(idx int, b *secondBucket) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.seconds) <= idx {
		t.seconds = append(t.seconds, nil)
	}
	if t.seconds[idx] == nil {
		t.seconds[idx] = newSecondBucket()
	}
	t.seconds[idx].merge(b)
}

// recorder holds one worker's figures; only that worker writes it, so the
// hot path takes no lock.
type recorder struct {
	live     liveCounters
	latency  *hdrhistogram.Histogram
	statuses [maxStatusTracked]int64
	// otherStatuses holds codes outside 0..599, which a broken server may send.
	otherStatuses map[int]int64
	transport     map[string]int64

	total, succeeded, failed, limited int64
	bytes                             int64
	cacheHits, cacheMisses, cacheNone int64
	cacheOther                        int64
	rateLimit                         rateLimitStats

	lateSends    int64
	maxSendDelay time.Duration

	first, last time.Duration // completion offsets from the run's base

	tl      *timeline
	curIdx  int
	current *secondBucket
}

func newRecorder(tl *timeline) *recorder {
	return &recorder{
		latency:   newLatencyHistogram(),
		transport: map[string]int64{},
		tl:        tl,
		curIdx:    -1,
		current:   newSecondBucket(),
	}
}

// lateThreshold is how far behind its intended time an open-loop send must
// start to count as late: beyond timer jitter, a sign the run lacks workers.
const lateThreshold = 10 * time.Millisecond

// outcome is one measured request as the recorder sees it.
type outcome struct {
	info      responseInfo
	err       error
	latency   time.Duration
	sendDelay time.Duration // open loop: actual minus intended send time
	second    int           // completion second within the measured phase
	doneAt    time.Duration // completion offset from the run's base
}

func (r *recorder) record(o outcome) {
	r.total++
	r.live.done.Add(1)
	if r.total == 1 || o.doneAt < r.first {
		r.first = o.doneAt
	}
	if o.doneAt > r.last {
		r.last = o.doneAt
	}
	if o.sendDelay > lateThreshold {
		r.lateSends++
	}
	if o.sendDelay > r.maxSendDelay {
		r.maxSendDelay = o.sendDelay
	}
	if o.second != r.curIdx {
		r.flush()
		r.curIdx = o.second
	}
	b := r.current
	b.requests++

	if o.err != nil {
		r.failed++
		r.live.failed.Add(1)
		r.transport[errorKind(o.err)]++
		b.failed++
		return
	}
	ri := o.info
	if ri.status >= 0 && ri.status < maxStatusTracked {
		r.statuses[ri.status]++
	} else {
		if r.otherStatuses == nil {
			r.otherStatuses = map[int]int64{}
		}
		r.otherStatuses[ri.status]++
	}
	r.bytes += ri.bytes
	r.rateLimit.observe(ri)
	if ri.status == http429 {
		// Counted apart: a refusal is neither a success nor an error, and its
		// near-zero latency would flatter the percentiles.
		r.limited++
		r.live.limited.Add(1)
		b.limited++
		return
	}
	switch ri.cache {
	case cacheHit:
		r.cacheHits++
	case cacheMiss:
		r.cacheMisses++
	case cacheOther:
		r.cacheOther++
	default:
		r.cacheNone++
	}
	recordMicros(r.latency, o.latency)
	recordMicros(b.latency, o.latency)
	if ri.status >= 200 && ri.status < 400 {
		r.succeeded++
		b.succeeded++
	} else {
		r.failed++
		r.live.failed.Add(1)
		b.failed++
	}
}

func (r *recorder) flush() {
	if r.curIdx >= 0 && r.current.requests > 0 {
		r.tl.add(r.curIdx, r.current)
		r.current.reset()
	}
}

// merged is the sum of every worker's recorder.
type merged struct {
	latency                           *hdrhistogram.Histogram
	statuses                          map[int]int64
	transport                         map[string]int64
	total, succeeded, failed, limited int64
	bytes                             int64
	cacheHits, cacheMisses, cacheNone int64
	cacheOther                        int64
	rateLimit                         rateLimitStats
	lateSends                         int64
	maxSendDelay                      time.Duration
	first, last                       time.Duration
}

func mergeRecorders(rs []*recorder) merged {
	m := merged{latency: newLatencyHistogram(), statuses: map[int]int64{}, transport: map[string]int64{}}
	seen := false
	for _, r := range rs {
		r.flush()
		m.latency.Merge(r.latency)
		for code, n := range r.statuses {
			if n > 0 {
				m.statuses[code] += n
			}
		}
		for code, n := range r.otherStatuses {
			m.statuses[code] += n
		}
		for k, n := range r.transport {
			m.transport[k] += n
		}
		m.total += r.total
		m.succeeded += r.succeeded
		m.failed += r.failed
		m.limited += r.limited
		m.bytes += r.bytes
		m.cacheHits += r.cacheHits
		m.cacheMisses += r.cacheMisses
		m.cacheNone += r.cacheNone
		m.cacheOther += r.cacheOther
		m.rateLimit.merge(r.rateLimit)
		m.lateSends += r.lateSends
		if r.maxSendDelay > m.maxSendDelay {
			m.maxSendDelay = r.maxSendDelay
		}
		if r.total > 0 {
			if !seen || r.first < m.first {
				m.first = r.first
			}
			if r.last > m.last {
				m.last = r.last
			}
			seen = true
		}
	}
	return m
}

// LatencySummary is in milliseconds, to microsecond resolution.
type LatencySummary struct {
	Count  int64   `json:"count"`
	Min    float64 `json:"min"`
	Avg    float64 `json:"avg"`
	StdDev float64 `json:"stddev"`
	Max    float64 `json:"max"`
	P50    float64 `json:"p50"`
	P90    float64 `json:"p90"`
	P95    float64 `json:"p95"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p99_9"`
}

func micros(v int64) float64    { return float64(v) / 1000 }
func microsF(v float64) float64 { return math.Round(v) / 1000 }

func summarizeLatency(h *hdrhistogram.Histogram) LatencySummary {
	if h.TotalCount() == 0 {
		return LatencySummary{}
	}
	ps := h.ValueAtPercentiles([]float64{50, 90, 95, 99, 99.9})
	return LatencySummary{
		Count:  h.TotalCount(),
		Min:    micros(h.Min()),
		Avg:    microsF(h.Mean()),
		StdDev: microsF(h.StdDev()),
		Max:    micros(h.Max()),
		P50:    micros(ps[50]),
		P90:    micros(ps[90]),
		P95:    micros(ps[95]),
		P99:    micros(ps[99]),
		P999:   micros(ps[99.9]),
	}
}

// HistogramBucket counts the latencies in (previous UpToMs, UpToMs].
type HistogramBucket struct {
	UpToMs float64 `json:"up_to_ms"`
	Count  int64   `json:"count"`
}

// latencyBuckets folds the HDR histogram into log-spaced buckets between
// its min and max, few enough to draw.
func latencyBuckets(h *hdrhistogram.Histogram, n int) []HistogramBucket {
	if h.TotalCount() == 0 {
		return nil
	}
	lo, hi := float64(h.Min()), float64(h.Max())
	if lo < 1 {
		lo = 1
	}
	if hi <= lo {
		hi = lo + 1
	}
	ratio := math.Pow(hi/lo, 1/float64(n))
	buckets := make([]HistogramBucket, n)
	edges := make([]float64, n)
	for i := range buckets {
		edges[i] = lo * math.Pow(ratio, float64(i+1))
		buckets[i].UpToMs = math.Round(edges[i]) / 1000
	}
	edges[n-1] = hi // absorb rounding so the max lands in the last bucket
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		v := float64((bar.From + bar.To) / 2)
		if v > hi {
			v = hi
		}
		i := sort.SearchFloat64s(edges, v)
		if i >= n {
			i = n - 1
		}
		buckets[i].Count += bar.Count
	}
	return buckets
}

// SecondStats is one second of the measured phase, by completion time.
type SecondStats struct {
	Second      int     `json:"second"`
	Requests    int64   `json:"requests"`
	Succeeded   int64   `json:"succeeded"`
	Failed      int64   `json:"failed"`
	RateLimited int64   `json:"rate_limited"`
	AvgMs       float64 `json:"avg_ms"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
}

func summarizeTimeline(tl *timeline) []SecondStats {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out := make([]SecondStats, len(tl.seconds))
	for i, b := range tl.seconds {
		out[i].Second = i
		if b == nil {
			continue
		}
		out[i].Requests, out[i].Succeeded, out[i].Failed, out[i].RateLimited = b.requests, b.succeeded, b.failed, b.limited
		if b.latency.TotalCount() > 0 {
			out[i].AvgMs = microsF(b.latency.Mean())
			out[i].P50Ms = micros(b.latency.ValueAtPercentile(50))
			out[i].P99Ms = micros(b.latency.ValueAtPercentile(99))
			out[i].MaxMs = micros(b.latency.Max())
		}
	}
	return out
}

func statusKeys(m map[int]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for code, n := range m {
		out[strconv.Itoa(code)] = n
	}
	return out
}
