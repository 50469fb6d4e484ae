package cache

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// loadBuckets are the upper bounds of the load-time histogram: loaders are
// database queries and renders, from sub-millisecond to seconds.
var loadBuckets = [...]time.Duration{
	250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second,
}

// Metrics counts what the caches do, per namespace kind. Counters are plain
// atomics read by a Prometheus collector on scrape, so the hit path pays an
// atomic add and no label lookup.
type Metrics struct {
	kinds sync.Map // kind string -> *kindStats

	redisEnabled atomic.Bool
	redisUp      atomic.Bool
	redisOutages atomic.Uint64
	redisErrors  atomic.Uint64
}

type kindStats struct {
	kind string

	hits, misses, loads, loadErrors        atomic.Uint64
	evictions, expirations                 atomic.Uint64
	keyInvalidations, nsInvalidations      atomic.Uint64
	entries, bytes                         atomic.Int64
	loadCounts                             [len(loadBuckets)]atomic.Uint64
	loadOverflow, loadSumNanos, loadsTimed atomic.Uint64
}

// NewMetrics returns Metrics registered with reg (nil: not registered, for
// tests and for caches whose numbers only feed Snapshot).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{}
	if reg != nil {
		if err := reg.Register(&collector{m: m}); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Kind is the metrics label of a namespace: the part before the first ':',
// so "batch:{uuid}" counts as "batch" and label cardinality stays bounded.
func Kind(namespace string) string {
	if i := strings.IndexByte(namespace, ':'); i >= 0 {
		return namespace[:i]
	}
	return namespace
}

func (m *Metrics) stats(namespace string) *kindStats {
	kind := Kind(namespace)
	if s, ok := m.kinds.Load(kind); ok {
		return s.(*kindStats)
	}
	kind = strings.Clone(kind)
	s, _ := m.kinds.LoadOrStore(kind, &kindStats{kind: kind})
	return s.(*kindStats)
}

func (s *kindStats) observeLoad(d time.Duration) {
	s.loadsTimed.Add(1)
	s.loadSumNanos.Add(uint64(d))
	for i, le := range loadBuckets {
		if d <= le {
			s.loadCounts[i].Add(1)
			return
		}
	}
	s.loadOverflow.Add(1)
}

// Snapshot is what the dashboard shows, per namespace kind.
type Snapshot struct {
	Kinds        []KindSnapshot `json:"kinds"`
	RedisEnabled bool           `json:"redis_enabled"`
	RedisUp      bool           `json:"redis_up"`
	RedisOutages uint64         `json:"redis_outages"`
	RedisErrors  uint64         `json:"redis_errors"`
}

// KindSnapshot holds the counters of one namespace kind.
type KindSnapshot struct {
	Kind          string       `json:"kind"`
	Hits          uint64       `json:"hits"`
	Misses        uint64       `json:"misses"`
	HitRatio      float64      `json:"hit_ratio"`
	Loads         uint64       `json:"loads"`
	LoadErrors    uint64       `json:"load_errors"`
	LoadTime      LoadTime     `json:"load_time"`
	Evictions     uint64       `json:"evictions"`
	Expirations   uint64       `json:"expirations"`
	Invalidations Invalidation `json:"invalidations"`
	Entries       int64        `json:"entries"`
	Bytes         int64        `json:"bytes"`
}

// Invalidation counts invalidations issued on this instance.
type Invalidation struct {
	Keys       uint64 `json:"keys"`
	Namespaces uint64 `json:"namespaces"`
}

// LoadTime summarises the load-time histogram.
type LoadTime struct {
	Count   uint64        `json:"count"`
	Total   time.Duration `json:"total_ns"`
	Mean    time.Duration `json:"mean_ns"`
	Buckets []Bucket      `json:"buckets"`
}

// Bucket is one cumulative histogram bucket: Count loads took at most Le.
type Bucket struct {
	Le    time.Duration `json:"le_ns"`
	Count uint64        `json:"count"`
}

// Snapshot returns the current counters, kinds sorted by name.
func (m *Metrics) Snapshot() Snapshot {
	snap := Snapshot{
		RedisEnabled: m.redisEnabled.Load(),
		RedisUp:      m.redisUp.Load(),
		RedisOutages: m.redisOutages.Load(),
		RedisErrors:  m.redisErrors.Load(),
	}
	m.kinds.Range(func(_, v any) bool {
		snap.Kinds = append(snap.Kinds, v.(*kindStats).snapshot())
		return true
	})
	sort.Slice(snap.Kinds, func(i, j int) bool { return snap.Kinds[i].Kind < snap.Kinds[j].Kind })
	return snap
}

func (s *kindStats) snapshot() KindSnapshot {
	k := KindSnapshot{
		Kind:        s.kind,
		Hits:        s.hits.Load(),
		Misses:      s.misses.Load(),
		Loads:       s.loads.Load(),
		LoadErrors:  s.loadErrors.Load(),
		Evictions:   s.evictions.Load(),
		Expirations: s.expirations.Load(),
		Invalidations: Invalidation{
			Keys:       s.keyInvalidations.Load(),
			Namespaces: s.nsInvalidations.Load(),
		},
		Entries: s.entries.Load(),
		Bytes:   s.bytes.Load(),
	}
	if total := k.Hits + k.Misses; total > 0 {
		k.HitRatio = float64(k.Hits) / float64(total)
	}
	k.LoadTime.Count = s.loadsTimed.Load()
	k.LoadTime.Total = time.Duration(s.loadSumNanos.Load())
	if k.LoadTime.Count > 0 {
		k.LoadTime.Mean = k.LoadTime.Total / time.Duration(k.LoadTime.Count)
	}
	var cum uint64
	for i, le := range loadBuckets {
		cum += s.loadCounts[i].Load()
		k.LoadTime.Buckets = append(k.LoadTime.Buckets, Bucket{Le: le, Count: cum})
	}
	return k
}

// collector exposes Metrics to Prometheus.
type collector struct{ m *Metrics }

const metricPrefix = "batchtrack_cache_"

var (
	descHits          = prometheus.NewDesc(metricPrefix+"hits_total", "Cache lookups answered from the cache.", []string{"kind"}, nil)
	descMisses        = prometheus.NewDesc(metricPrefix+"misses_total", "Cache lookups that had to wait for a load.", []string{"kind"}, nil)
	descLoads         = prometheus.NewDesc(metricPrefix+"loads_total", "Loader calls (concurrent misses share one).", []string{"kind"}, nil)
	descLoadErrors    = prometheus.NewDesc(metricPrefix+"load_errors_total", "Loader calls that failed or were cancelled.", []string{"kind"}, nil)
	descLoadDuration  = prometheus.NewDesc(metricPrefix+"load_duration_seconds", "Time spent in loaders.", []string{"kind"}, nil)
	descEvictions     = prometheus.NewDesc(metricPrefix+"evictions_total", "Memory-tier entries removed by the size bound or by expiry.", []string{"kind", "cause"}, nil)
	descInvalidations = prometheus.NewDesc(metricPrefix+"invalidations_total", "Invalidations issued on this instance.", []string{"kind", "scope"}, nil)
	descEntries       = prometheus.NewDesc(metricPrefix+"entries", "Memory-tier entries, including dead generations not yet evicted.", []string{"kind"}, nil)
	descBytes         = prometheus.NewDesc(metricPrefix+"bytes", "Memory-tier weight in bytes (keys, values and overhead).", []string{"kind"}, nil)
	descRedisUp       = prometheus.NewDesc(metricPrefix+"redis_up", "1 while the Redis tier is in use, 0 during an outage or without Redis.", nil, nil)
	descRedisOutages  = prometheus.NewDesc(metricPrefix+"redis_outages_total", "Times the cache lost Redis and fell back to the memory tier.", nil, nil)
	descRedisErrors   = prometheus.NewDesc(metricPrefix+"redis_errors_total", "Redis commands that failed.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHits, descMisses, descLoads, descLoadErrors, descLoadDuration,
		descEvictions, descInvalidations, descEntries, descBytes, descRedisUp, descRedisOutages, descRedisErrors} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	c.m.kinds.Range(func(_, v any) bool {
		s := v.(*kindStats)
		counter(descHits, s.hits.Load(), s.kind)
		counter(descMisses, s.misses.Load(), s.kind)
		counter(descLoads, s.loads.Load(), s.kind)
		counter(descLoadErrors, s.loadErrors.Load(), s.kind)
		counter(descEvictions, s.evictions.Load(), s.kind, "size")
		counter(descEvictions, s.expirations.Load(), s.kind, "expired")
		counter(descInvalidations, s.keyInvalidations.Load(), s.kind, "key")
		counter(descInvalidations, s.nsInvalidations.Load(), s.kind, "namespace")
		gauge(descEntries, s.entries.Load(), s.kind)
		gauge(descBytes, s.bytes.Load(), s.kind)

		buckets := make(map[float64]uint64, len(loadBuckets))
		var cum uint64
		for i, le := range loadBuckets {
			cum += s.loadCounts[i].Load()
			buckets[le.Seconds()] = cum
		}
		ch <- prometheus.MustNewConstHistogram(descLoadDuration, cum+s.loadOverflow.Load(),
			time.Duration(s.loadSumNanos.Load()).Seconds(), buckets, s.kind)
		return true
	})
	up := int64(0)
	if c.m.redisUp.Load() {
		up = 1
	}
	gauge(descRedisUp, up)
	counter(descRedisOutages, c.m.redisOutages.Load())
	counter(descRedisErrors, c.m.redisErrors.Load())
}
