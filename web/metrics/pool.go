package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolStater is what the pool collector and the Recorder read; a
// *pgxpool.Pool is one.
type PoolStater interface {
	Stat() *pgxpool.Stat
}

// PoolCollector exposes pgxpool's statistics, read on every scrape.
type PoolCollector struct {
	pool PoolStater
}

// NewPoolCollector reads pool on every Collect; register it on the registry.
func NewPoolCollector(pool PoolStater) *PoolCollector { return &PoolCollector{pool: pool} }

var (
	descPoolAcquired    = prometheus.NewDesc("batchtrack_db_pool_acquired_conns", "Connections in use by the application.", nil, nil)
	descPoolIdle        = prometheus.NewDesc("batchtrack_db_pool_idle_conns", "Idle connections in the pool.", nil, nil)
	descPoolTotal       = prometheus.NewDesc("batchtrack_db_pool_total_conns", "Connections in the pool: acquired, idle and being opened.", nil, nil)
	descPoolConstruct   = prometheus.NewDesc("batchtrack_db_pool_constructing_conns", "Connections being opened.", nil, nil)
	descPoolMax         = prometheus.NewDesc("batchtrack_db_pool_max_conns", "The pool's size limit.", nil, nil)
	descPoolAcquires    = prometheus.NewDesc("batchtrack_db_pool_acquires_total", "Connections acquired from the pool.", nil, nil)
	descPoolAcquireTime = prometheus.NewDesc("batchtrack_db_pool_acquire_duration_seconds_total", "Time spent acquiring connections, summed.", nil, nil)
	descPoolEmpty       = prometheus.NewDesc("batchtrack_db_pool_empty_acquires_total", "Acquires that had to wait because no connection was idle.", nil, nil)
	descPoolEmptyWait   = prometheus.NewDesc("batchtrack_db_pool_empty_acquire_wait_seconds_total", "Time acquires waited for a connection when none was idle, summed.", nil, nil)
	descPoolCanceled    = prometheus.NewDesc("batchtrack_db_pool_canceled_acquires_total", "Acquires cancelled by their context before a connection was free.", nil, nil)
	descPoolNew         = prometheus.NewDesc("batchtrack_db_pool_new_conns_total", "Connections opened.", nil, nil)
)

// Describe implements prometheus.Collector.
func (p *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPoolAcquired, descPoolIdle, descPoolTotal, descPoolConstruct, descPoolMax,
		descPoolAcquires, descPoolAcquireTime, descPoolEmpty, descPoolEmptyWait, descPoolCanceled, descPoolNew} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (p *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(descPoolAcquired, float64(s.AcquiredConns()))
	gauge(descPoolIdle, float64(s.IdleConns()))
	gauge(descPoolTotal, float64(s.TotalConns()))
	gauge(descPoolConstruct, float64(s.ConstructingConns()))
	gauge(descPoolMax, float64(s.MaxConns()))
	counter(descPoolAcquires, float64(s.AcquireCount()))
	counter(descPoolAcquireTime, s.AcquireDuration().Seconds())
	counter(descPoolEmpty, float64(s.EmptyAcquireCount()))
	counter(descPoolEmptyWait, s.EmptyAcquireWaitTime().Seconds())
	counter(descPoolCanceled, float64(s.CanceledAcquireCount()))
	counter(descPoolNew, float64(s.NewConnsCount()))
}

// PoolStats are the pool's figures at one moment, for the dashboard.
type PoolStats struct {
	Acquired        int32   `json:"acquired"`
	Idle            int32   `json:"idle"`
	Total           int32   `json:"total"`
	Max             int32   `json:"max"`
	AcquireCount    int64   `json:"acquire_count"`
	AcquireSeconds  float64 `json:"acquire_duration_seconds"`
	EmptyAcquires   int64   `json:"empty_acquire_count"`
	CanceledAcquire int64   `json:"canceled_acquire_count"`
}

// ReadPool reads pool's statistics now.
func ReadPool(pool PoolStater) PoolStats {
	s := pool.Stat()
	return PoolStats{
		Acquired: s.AcquiredConns(), Idle: s.IdleConns(), Total: s.TotalConns(), Max: s.MaxConns(),
		AcquireCount: s.AcquireCount(), AcquireSeconds: s.AcquireDuration().Seconds(),
		EmptyAcquires: s.EmptyAcquireCount(), CanceledAcquire: s.CanceledAcquireCount(),
	}
}
