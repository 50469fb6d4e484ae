package ratelimit

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Metrics counts decisions for /metrics and the dashboard. A nil *Metrics
// counts nothing, so every user may take one optionally.
type Metrics struct {
	decisions         *prometheus.CounterVec // policy, result
	storeErrors       prometheus.Counter
	outages           prometheus.Counter
	fallbackDecisions prometheus.Counter
	fallbackActive    prometheus.Gauge
	top               *topCallers
}

// topCallersPeriod is how long a refusal stays in the top-callers view (it
// shows this period and the previous one).
const topCallersPeriod = time.Minute

// NewMetrics registers the limiter's metrics with reg (nil: none).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "batchtrack_ratelimit_decisions_total",
			Help: "Rate limit decisions by policy and result (allowed, refused).",
		}, []string{"policy", "result"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "batchtrack_ratelimit_store_errors_total",
			Help: "Rate limit decisions or probes the shared store failed to answer.",
		}),
		outages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "batchtrack_ratelimit_fallback_outages_total",
			Help: "Times the shared rate limit store became unreachable.",
		}),
		fallbackDecisions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "batchtrack_ratelimit_fallback_decisions_total",
			Help: "Rate limit decisions made without the shared store.",
		}),
		fallbackActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "batchtrack_ratelimit_fallback_active",
			Help: "1 while the shared rate limit store is unreachable.",
		}),
		top: newTopCallers(64, time.Now),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.decisions, m.storeErrors, m.outages, m.fallbackDecisions, m.fallbackActive} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// observe counts one decision; key is the caller, kept only if refused.
// The policy names are the app's own strings, never a request's bytes, so
// the vector may keep them.
func (m *Metrics) observe(policy, key string, allowed bool) {
	if m == nil {
		return
	}
	if allowed {
		m.decisions.WithLabelValues(policy, "allowed").Inc()
		return
	}
	m.decisions.WithLabelValues(policy, "refused").Inc()
	m.top.add(key)
}

func (m *Metrics) storeError() {
	if m != nil {
		m.storeErrors.Inc()
	}
}

func (m *Metrics) outageStarted() {
	if m != nil {
		m.outages.Inc()
		m.fallbackActive.Set(1)
	}
}

func (m *Metrics) outageEnded() {
	if m != nil {
		m.fallbackActive.Set(0)
	}
}

func (m *Metrics) servedByFallback() {
	if m != nil {
		m.fallbackDecisions.Inc()
	}
}

// Snapshot is the limiter's state for the dashboard.
type Snapshot struct {
	Policies          []PolicyCounts   // by name
	TopRefused        []CallerRefusals // most refused first
	StoreErrors       uint64
	Outages           uint64
	FallbackDecisions uint64
	FallbackActive    bool
}

// PolicyCounts is one policy's decisions since start.
type PolicyCounts struct {
	Policy           string
	Allowed, Refused uint64
}

// CallerRefusals is how often a caller was refused in the last one to two
// minutes. Counts are upper bounds once more callers were refused than the
// view tracks (space-saving summary).
type CallerRefusals struct {
	Key     string
	Refused uint64
}

// TopRefusedCallers is how many callers Snapshot lists.
const TopRefusedCallers = 10

// Snapshot returns the counters and the most refused callers.
func (m *Metrics) Snapshot() Snapshot {
	if m == nil {
		return Snapshot{}
	}
	s := Snapshot{
		StoreErrors:       uint64(value(m.storeErrors)),
		Outages:           uint64(value(m.outages)),
		FallbackDecisions: uint64(value(m.fallbackDecisions)),
		FallbackActive:    value(m.fallbackActive) == 1,
		TopRefused:        m.top.top(TopRefusedCallers),
	}
	byPolicy := map[string]*PolicyCounts{}
	ch := make(chan prometheus.Metric)
	go func() { m.decisions.Collect(ch); close(ch) }()
	for c := range ch {
		var d dto.Metric
		if c.Write(&d) != nil {
			continue
		}
		var policy, result string
		for _, l := range d.GetLabel() {
			switch l.GetName() {
			case "policy":
				policy = l.GetValue()
			case "result":
				result = l.GetValue()
			}
		}
		pc := byPolicy[policy]
		if pc == nil {
			pc = &PolicyCounts{Policy: policy}
			byPolicy[policy] = pc
		}
		if result == "allowed" {
			pc.Allowed = uint64(d.GetCounter().GetValue())
		} else {
			pc.Refused = uint64(d.GetCounter().GetValue())
		}
	}
	for _, pc := range byPolicy {
		s.Policies = append(s.Policies, *pc)
	}
	slices.SortFunc(s.Policies, func(a, b PolicyCounts) int { return strings.Compare(a.Policy, b.Policy) })
	return s
}

// value reads a counter's or a gauge's current value.
func value(c prometheus.Metric) float64 {
	var d dto.Metric
	if c.Write(&d) != nil {
		return 0
	}
	if d.Counter != nil {
		return d.GetCounter().GetValue()
	}
	return d.GetGauge().GetValue()
}

// topCallers is a space-saving summary of refused callers (Metwally et al.):
// at most capacity keys; a new key replaces the smallest and inherits its
// count, so heavy hitters are never lost. It keeps the current period and
// the previous one, so the view neither grows stale nor empties at once.
type topCallers struct {
	mu          sync.Mutex
	capacity    int
	now         func() time.Time
	periodStart time.Time
	// Pointers: assigning to an existing string key stores the new key,
	// which may be Fiber's reused buffer.
	cur, prev map[string]*uint64
}

func newTopCallers(capacity int, now func() time.Time) *topCallers {
	return &topCallers{capacity: capacity, now: now, cur: map[string]*uint64{}, prev: map[string]*uint64{}}
}

func (t *topCallers) rotate() {
	now := t.now()
	switch since := now.Sub(t.periodStart); {
	case since < topCallersPeriod:
		return
	case since < 2*topCallersPeriod:
		t.prev, t.cur = t.cur, make(map[string]*uint64, len(t.cur))
	default:
		t.prev, t.cur = map[string]*uint64{}, map[string]*uint64{}
	}
	t.periodStart = now
}

func (t *topCallers) add(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rotate()
	if c, ok := t.cur[key]; ok {
		*c++
		return
	}
	var inherited uint64
	if len(t.cur) >= t.capacity {
		var minKey string
		minCount := uint64(1<<64 - 1)
		for k, c := range t.cur {
			if *c < minCount {
				minKey, minCount = k, *c
			}
		}
		delete(t.cur, minKey)
		inherited = minCount
	}
	count := inherited + 1
	t.cur[strings.Clone(key)] = &count
}

func (t *topCallers) top(n int) []CallerRefusals {
	t.mu.Lock()
	t.rotate()
	sum := make(map[string]uint64, len(t.cur)+len(t.prev))
	for k, c := range t.prev {
		sum[k] += *c
	}
	for k, c := range t.cur {
		sum[k] += *c
	}
	t.mu.Unlock()
	out := make([]CallerRefusals, 0, len(sum))
	for k, c := range sum {
		out = append(out, CallerRefusals{Key: k, Refused: c})
	}
	slices.SortFunc(out, func(a, b CallerRefusals) int {
		return cmp.Or(cmp.Compare(b.Refused, a.Refused), strings.Compare(a.Key, b.Key))
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
