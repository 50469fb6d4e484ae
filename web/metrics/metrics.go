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
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// latencyBounds are the request-duration histogram bounds, in seconds:
// fine at the low end, where a cache hit lives.
var latencyBounds = [...]float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// LatencyBuckets are latencyBounds as a slice, for quantiles.
var LatencyBuckets = latencyBounds[:]

// stripes spread every counter over cache lines: every request counts,
// and one shared word would bounce between cores (a contended atomic costs
// more than the rest of the measurement).
const stripes = 8

// HTTP measures requests by route pattern, method and status. Its counters
// are plain striped atomics, read by a Prometheus collector on scrape: the
// request path pays a few uncontended atomic adds and no label lookup.
type HTTP struct {
	// routes holds each route's counters, keyed by the *fiber.Route the
	// request ended on (a pointer: the lookup does not allocate).
	routes sync.Map
	// unmatched holds the counters of requests no route answered, per
	// method: one label value, however many paths are probed.
	unmatched [len(knownMethods) + 1]atomic.Pointer[routeObservers]
	inFlight  [stripes]paddedInt
}

// knownMethods are the methods labelled as themselves; anything else is
// "OTHER", which bounds the label's values.
var knownMethods = [...]string{fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut,
	fiber.MethodPatch, fiber.MethodDelete, fiber.MethodOptions, fiber.MethodConnect, fiber.MethodTrace}

type paddedInt struct {
	n atomic.Int64
	_ [56]byte
}

// latencyStripe is one stripe of a route's histogram: per-bucket counts
// (not cumulative; the last is +Inf) and the sum in nanoseconds.
type latencyStripe struct {
	buckets  [len(latencyBounds) + 1]atomic.Uint64
	sumNanos atomic.Uint64
	_        [48]byte
}

// routeObservers are one (route, method)'s histogram and its request
// counts by status, copied on write: a route sees few statuses.
type routeObservers struct {
	route, method string
	latency       [stripes]latencyStripe
	statuses      atomic.Pointer[[]*statusCount]
}

type statusCount struct {
	code   int
	label  string
	counts [stripes]paddedInt
}

var (
	descRequests = prometheus.NewDesc("batchtrack_http_requests_total",
		"HTTP requests by route pattern, method and status code.", []string{"route", "method", "status"}, nil)
	descDuration = prometheus.NewDesc("batchtrack_http_request_duration_seconds",
		"HTTP request latency by route pattern and method.", []string{"route", "method"}, nil)
	descInFlight = prometheus.NewDesc("batchtrack_http_in_flight_requests", "Requests being served right now.", nil, nil)
)

// NewHTTP registers the HTTP collector on reg (nil: none).
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{}
	if reg != nil {
		reg.MustRegister(h)
	}
	return h
}

// UnmatchedRoute labels requests that no route answered (404s of unknown
// paths), and requests refused by app-wide middleware before routing.
const UnmatchedRoute = "unmatched"

// Middleware measures every request. It must run outermost, after the
// error handler has written the status, so failures count with theirs.
// The route label is the pattern of the last handler the request reached:
// a request refused by a group's middleware (a 429 of /api) carries the
// group's prefix. An app whose outermost middleware already reads the
// clock (batchtrack's withRequest) calls Start and Done from it instead,
// saving a middleware hop and two clock reads.
func (h *HTTP) Middleware(c *fiber.Ctx) error {
	start := time.Now()
	stripe := h.Start(c)
	err := c.Next()
	h.Done(c, stripe, time.Since(start))
	return err
}

// Start counts a request in flight; pass its result to Done.
func (h *HTTP) Start(c *fiber.Ctx) int {
	stripe := stripeOf(c.Context())
	h.inFlight[stripe].n.Add(1)
	return stripe
}

// Done counts a finished request with the status it was answered with
// and the time it took.
func (h *HTTP) Done(c *fiber.Ctx, stripe int, elapsed time.Duration) {
	h.inFlight[stripe].n.Add(-1)
	o := h.observersFor(c)
	o.observe(stripe, elapsed)
	o.countFor(c.Response().StatusCode()).counts[stripe].n.Add(1)
}

// stripeOf picks the stripe of a request by its fasthttp context: contexts
// come from a per-P pool, so one core mostly writes one stripe.
func stripeOf(ctx *fasthttp.RequestCtx) int {
	p := uint64(uintptr(unsafe.Pointer(ctx)))
	return int((p * 0x9E3779B97F4A7C15) >> 61)
}

func (h *HTTP) observersFor(c *fiber.Ctx) *routeObservers {
	r := c.Route()
	if r.Path == "" || r.Path == "/" && c.Path() != "/" {
		return h.unmatchedFor(r.Method)
	}
	if o, ok := h.routes.Load(r); ok {
		return o.(*routeObservers)
	}
	// Route paths and methods are the app's own strings, set once at
	// registration: safe to keep as label values.
	o := newObservers(r.Path, r.Method)
	actual, _ := h.routes.LoadOrStore(r, o)
	return actual.(*routeObservers)
}

func (h *HTTP) unmatchedFor(method string) *routeObservers {
	i := len(knownMethods)
	for j, m := range knownMethods {
		if m == method {
			i = j
			break
		}
	}
	if o := h.unmatched[i].Load(); o != nil {
		return o
	}
	name := "OTHER"
	if i < len(knownMethods) {
		name = knownMethods[i]
	}
	o := newObservers(UnmatchedRoute, name)
	if h.unmatched[i].CompareAndSwap(nil, o) {
		return o
	}
	return h.unmatched[i].Load()
}

func newObservers(route, method string) *routeObservers {
	o := &routeObservers{route: route, method: method}
	o.statuses.Store(&[]*statusCount{})
	return o
}

func (o *routeObservers) observe(stripe int, d time.Duration) {
	secs := d.Seconds()
	i := 0
	for i < len(latencyBounds) && secs > latencyBounds[i] {
		i++
	}
	st := &o.latency[stripe]
	st.buckets[i].Add(1)
	st.sumNanos.Add(uint64(max(d, 0)))
}

func (o *routeObservers) countFor(code int) *statusCount {
	for _, s := range *o.statuses.Load() {
		if s.code == code {
			return s
		}
	}
	for {
		old := o.statuses.Load()
		for _, s := range *old {
			if s.code == code {
				return s
			}
		}
		sc := &statusCount{code: code, label: strconv.Itoa(code)}
		next := append(append(make([]*statusCount, 0, len(*old)+1), *old...), sc)
		if o.statuses.CompareAndSwap(old, &next) {
			return sc
		}
	}
}

// Describe implements prometheus.Collector.
func (h *HTTP) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRequests
	ch <- descDuration
	ch <- descInFlight
}

// Collect implements prometheus.Collector: it sums the stripes.
func (h *HTTP) Collect(ch chan<- prometheus.Metric) {
	var inFlight int64
	for i := range h.inFlight {
		inFlight += h.inFlight[i].n.Load()
	}
	ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(inFlight))
	collect := func(o *routeObservers) {
		for _, s := range *o.statuses.Load() {
			var n int64
			for i := range s.counts {
				n += s.counts[i].n.Load()
			}
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(n), o.route, o.method, s.label)
		}
		var counts [len(latencyBounds) + 1]uint64
		var sum uint64
		for i := range o.latency {
			st := &o.latency[i]
			for b := range st.buckets {
				counts[b] += st.buckets[b].Load()
			}
			sum += st.sumNanos.Load()
		}
		buckets := make(map[float64]uint64, len(latencyBounds))
		var cum uint64
		for b, le := range latencyBounds {
			cum += counts[b]
			buckets[le] = cum
		}
		ch <- prometheus.MustNewConstHistogram(descDuration, cum+counts[len(latencyBounds)],
			float64(sum)/1e9, buckets, o.route, o.method)
	}
	h.routes.Range(func(_, v any) bool {
		collect(v.(*routeObservers))
		return true
	})
	for i := range h.unmatched {
		if o := h.unmatched[i].Load(); o != nil {
			collect(o)
		}
	}
}
