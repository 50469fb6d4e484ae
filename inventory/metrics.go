package inventory

import (
	"time"

	"batchtrack/quantity"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the consume path's own measurements, for the dashboard and
// /metrics.
type Metrics struct {
	LockWait             prometheus.Histogram
	LockTimeouts         prometheus.Counter
	VersionConflicts     prometheus.Counter
	InsufficientQuantity prometheus.Counter
	NotConsumable        prometheus.Counter
	ConsumeDuration      *prometheus.HistogramVec // by outcome
	UnitsConsumed        prometheus.Counter
	MovementDuration     *prometheus.HistogramVec // by operation and outcome
	UnitsMoved           *prometheus.CounterVec   // by ledger kind
}

// NewMetrics creates the collectors and registers them on reg (nil: none).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		LockWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "batchtrack_consume_lock_wait_seconds",
			Help:    "Time a consume waited for the batch row lock (SELECT ... FOR UPDATE).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		LockTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "batchtrack_consume_lock_timeouts_total",
			Help: "Consumes refused because the row lock was not acquired within lock_timeout.",
		}),
		VersionConflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "batchtrack_batch_version_conflicts_total",
			Help: "Consumes and edits refused because expected_version was not current.",
		}),
		InsufficientQuantity: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "batchtrack_consume_insufficient_quantity_total",
			Help: "Consumes refused because the batch had less than requested.",
		}),
		NotConsumable: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "batchtrack_consume_not_consumable_total",
			Help: "Consumes refused because the batch was rejected, recalled or expired.",
		}),
		ConsumeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "batchtrack_consume_duration_seconds",
			Help:    "Duration of the consume transaction, by outcome.",
			Buckets: prometheus.DefBuckets,
		}, []string{"outcome"}),
		UnitsConsumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "batchtrack_consumed_thousandths_total",
			Help: "Quantity consumed, in thousandths of the batches' units.",
		}),
		MovementDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "batchtrack_movement_duration_seconds",
			Help:    "Duration of a stock movement's transaction (receive, ship, transform, ...), by outcome.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "outcome"}),
		UnitsMoved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "batchtrack_moved_thousandths_total",
			Help: "Quantity moved by stock movements, in thousandths of the batches' units, by ledger kind.",
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.LockWait, m.LockTimeouts, m.VersionConflicts, m.InsufficientQuantity,
			m.NotConsumable, m.ConsumeDuration, m.UnitsConsumed, m.MovementDuration, m.UnitsMoved)
	}
	return m
}

// outcome labels a consume's result for ConsumeDuration.
func outcome(err error) string {
	switch err.(type) {
	case nil:
		return "ok"
	case *InsufficientQuantityError:
		return "insufficient_quantity"
	case *VersionConflictError:
		return "version_conflict"
	case *NotConsumableError:
		return "not_consumable"
	}
	if err == ErrLockTimeout {
		return "lock_timeout"
	}
	return "error"
}

func (m *Metrics) observeConsume(start time.Time, lockWait float64, err error) {
	m.ConsumeDuration.WithLabelValues(outcome(err)).Observe(time.Since(start).Seconds())
	if lockWait >= 0 {
		m.LockWait.Observe(lockWait)
	}
	switch err.(type) {
	case *InsufficientQuantityError:
		m.InsufficientQuantity.Inc()
	case *VersionConflictError:
		m.VersionConflicts.Inc()
	case *NotConsumableError:
		m.NotConsumable.Inc()
	}
	if err == ErrLockTimeout {
		m.LockTimeouts.Inc()
	}
}

func (m *Metrics) observeMovement(operation string, start time.Time, err error) {
	if operation == "" {
		operation = "unknown"
	}
	m.MovementDuration.WithLabelValues(operation, outcome(err)).Observe(time.Since(start).Seconds())
}

func (m *Metrics) unitsMoved(kind string, q quantity.Quantity) {
	if q < 0 {
		q = -q
	}
	m.UnitsMoved.WithLabelValues(kind).Add(float64(q.Milli()))
}
