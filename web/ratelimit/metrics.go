package ratelimit

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts decisions for /metrics and the dashboard. A nil *Metrics
// counts nothing, so every user may take one optionally.
type Metrics struct {
	decisions         *decisionsCollector
	storeErrors       prometheus.Counter
	outages           prometheus.Counter
	fallbackDecisions prometheus.Counter
	fallbackActive    prometheus.Gauge

	policies sync.Map // policy name -> *policyCounters

	storeErrorsN, outagesN, fallbackN atomic.Uint64
	active                            atomic.Bool

	top *topCallers
}

type policyCounters struct {
	allowed, refused stripedCounter
}

// stripedCounter spreads increments over cache lines: every request
// counts, and one shared counter would bounce between cores.
type stripedCounter struct {
	stripes [8]struct {
		n atomic.Uint64
		_ [56]byte
	}
}

// add counts one; spread is any cheap value that varies between callers.
func (c *stripedCounter) add(spread uint64) { c.stripes[spread%8].n.Add(1) }

func (c *stripedCounter) load() uint64 {
	var n uint64
	for i := range c.stripes {
		n += c.stripes[i].n.Load()
	}
	return n
}

// decisionsCollector exposes the per-policy counters as
// batchtrack_ratelimit_decisions_total{policy, result}.
type decisionsCollector struct {
	desc     *prometheus.Desc
	policies *sync.Map
}

func (d *decisionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

func (d *decisionsCollector) Collect(ch chan<- prometheus.Metric) {
	d.policies.Range(func(k, v any) bool {
		c := v.(*policyCounters)
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.CounterValue, float64(c.allowed.load()), k.(string), "allowed")
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.CounterValue, float64(c.refused.load()), k.(string), "refused")
		return true
	})
}

// topCallersPeriod is how long a refusal stays in the top-callers view (it
// shows this period and the previous one).
const topCallersPeriod = time.Minute

// NewMetrics registers the limiter's metrics with reg (nil: none).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
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
	m.decisions = &decisionsCollector{
		desc: prometheus.NewDesc("batchtrack_ratelimit_decisions_total",
			"Rate limit decisions by policy and result (allowed, refused).", []string{"policy", "result"}, nil),
		policies: &m.policies,
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

func (m *Metrics) countersFor(policy string) *policyCounters {
	if c, ok := m.policies.Load(policy); ok {
		return c.(*policyCounters)
	}
	c, _ := m.policies.LoadOrStore(strings.Clone(policy), &policyCounters{})
	return c.(*policyCounters)
}

// observe counts one decision; key is the caller, kept only if refused.
func (m *Metrics) observe(policy, key string, allowed bool) {
	if m == nil {
		return
	}
	c := m.countersFor(policy)
	var spread uint64
	if len(key) > 0 {
		spread = uint64(len(key)) + uint64(key[len(key)-1])
	}
	if allowed {
		c.allowed.add(spread)
		return
	}
	c.refused.add(spread)
	m.top.add(key)
}

func (m *Metrics) storeError() {
	if m == nil {
		return
	}
	m.storeErrors.Inc()
	m.storeErrorsN.Add(1)
}

func (m *Metrics) outageStarted() {
	if m == nil {
		return
	}
	m.outages.Inc()
	m.outagesN.Add(1)
	m.active.Store(true)
	m.fallbackActive.Set(1)
}

func (m *Metrics) outageEnded() {
	if m == nil {
		return
	}
	m.active.Store(false)
	m.fallbackActive.Set(0)
}

func (m *Metrics) servedByFallback() {
	if m == nil {
		return
	}
	m.fallbackDecisions.Inc()
	m.fallbackN.Add(1)
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
		StoreErrors:       m.storeErrorsN.Load(),
		Outages:           m.outagesN.Load(),
		FallbackDecisions: m.fallbackN.Load(),
		FallbackActive:    m.active.Load(),
		TopRefused:        m.top.top(TopRefusedCallers),
	}
	m.policies.Range(func(k, v any) bool {
		c := v.(*policyCounters)
		s.Policies = append(s.Policies, PolicyCounts{Policy: k.(string), Allowed: c.allowed.load(), Refused: c.refused.load()})
		return true
	})
	slices.SortFunc(s.Policies, func(a, b PolicyCounts) int { return strings.Compare(a.Policy, b.Policy) })
	return s
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
	cur, prev   map[string]*uint64 // pointers: assigning to a string-keyed map stores the new key, which may be Fiber's reused buffer
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
