// Package metrics collects what the operations dashboard and /metrics
// show: HTTP requests by route, the consume path's lock waits, the cache's
// and the limiter's counters (all in one Prometheus registry), the
// connection pool and the sessions waiting on locks, and a fixed-size ring
// of recent samples for the dashboard's charts.
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
	requests *prometheus.CounterVec   // route, method, status
	duration *prometheus.HistogramVec // route, method
	inFlight prometheus.Gauge
}

// NewHTTP registers the HTTP metrics on reg (nil: none).
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

// UnmatchedRoute labels requests that no route answered (404s of unknown
// paths), and requests refused by app-wide middleware before routing.
const UnmatchedRoute = "unmatched"

// knownMethods are the methods labelled as themselves; anything else is
// "OTHER", which bounds the label's values.
var knownMethods = []string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut,
	fiber.MethodPatch, fiber.MethodDelete, fiber.MethodOptions, fiber.MethodConnect, fiber.MethodTrace}

// Middleware measures every request. It must run outermost, after the
// error handler has written the status, so failures count with theirs.
// The route label is the pattern of the last handler the request reached:
// a request refused by a group's middleware (a 429 of /api) carries the
// group's prefix. An app whose outermost middleware already times the
// request (batchtrack's withRequest) calls Start and Done from it instead.
func (h *HTTP) Middleware(c *fiber.Ctx) error {
	start := time.Now()
	h.Start()
	err := c.Next()
	h.Done(c, time.Since(start))
	return err
}

// Start counts a request in flight; Done ends it.
func (h *HTTP) Start() { h.inFlight.Inc() }

// Done counts a finished request with the status it was answered with
// and the time it took.
func (h *HTTP) Done(c *fiber.Ctx, elapsed time.Duration) {
	h.inFlight.Dec()
	route, method := labelsOf(c)
	h.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().StatusCode())).Inc()
	h.duration.WithLabelValues(route, method).Observe(elapsed.Seconds())
}

// labelsOf returns the request's route pattern and method as label
// values. They are the app's own strings, set at registration, never the
// request's bytes (Fiber reuses those buffers), and bounded by the route
// table.
func labelsOf(c *fiber.Ctx) (route, method string) {
	r := c.Route()
	if r.Path != "" && (r.Path != "/" || c.Path() == "/") {
		return r.Path, r.Method
	}
	for _, m := range knownMethods {
		if m == c.Method() {
			return UnmatchedRoute, m
		}
	}
	return UnmatchedRoute, "OTHER"
}
