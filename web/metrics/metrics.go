// Package metrics collects what the operations dashboard and /metrics
// show: HTTP requests by route, the consume path's lock waits, the cache's
// and the limiter's counters (all in one Prometheus registry), and a
// fixed-size ring of recent samples for the dashboard's charts.
//
// The ring is per instance. Several instances aggregate through
// Prometheus scraping each one's /metrics; the dashboard says which
// instance it shows.
package metrics

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// LatencyBuckets are the request-duration histogram bounds, in seconds:
// fine at the low end, where a cache hit lives.
var LatencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// HTTP measures requests by route pattern, method and status.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// NewHTTP registers the HTTP collectors on reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "batchtrack_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "batchtrack_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: LatencyBuckets,
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "batchtrack_http_in_flight_requests",
			Help: "Requests being served right now.",
		}),
	}
	if reg != nil {
		reg.MustRegister(h.requests, h.duration, h.inFlight)
	}
	return h
}

// Middleware measures every request; it runs outermost, after the error
// handler has written the status, so failures are counted with theirs.
func (h *HTTP) Middleware(c *fiber.Ctx) error {
	start := time.Now()
	h.inFlight.Inc()
	err := c.Next()
	h.inFlight.Dec()
	route := c.Route().Path
	if route == "" || route == "/" && c.Path() != "/" {
		route = "unmatched"
	}
	method := c.Method()
	h.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().StatusCode())).Inc()
	h.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	return err
}
