package ratelimit

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"batchtrack/redistest"
)

const benchCallers = 1000

// benchPolicy admits everything the benchmark sends: the cost measured is
// deciding, not refusing.
var benchPolicy = Policy{Name: "read", Limit: 1 << 30, Window: time.Minute}

// BenchmarkGET compares a trivial Fiber GET through a real HTTP path (an
// in-memory listener and a fasthttp client) without a limiter, with this
// package's limiter on each store, and with Fiber's own limiter. Compare
// ns/op of the subbenchmarks within one run.
func BenchmarkGET(b *testing.B) {
	keyFor := func(c *fiber.Ctx) string { return c.Get("X-Caller") }
	policyFor := func(*fiber.Ctx) (Policy, bool) { return benchPolicy, true }
	m, _ := NewMetrics(nil)

	b.Run("none", func(b *testing.B) {
		benchmarkGET(b, fiber.New(fiber.Config{DisableStartupMessage: true}))
	})
	// The contract's five response fields alone, with no limiting: the part
	// of the cost that any limiter answering with them pays (the client
	// parses them too).
	b.Run("headers-only", func(b *testing.B) {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		d := Decision{Allowed: true, Limit: benchPolicy.Limit, Remaining: benchPolicy.Limit - 1, ResetAfter: time.Minute}
		app.Use(func(c *fiber.Ctx) error {
			d.Reset = time.Now().Add(time.Minute)
			SetHeaders(c, benchPolicy, d)
			return c.Next()
		})
		benchmarkGET(b, app)
	})
	b.Run("memory", func(b *testing.B) {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Use(Middleware(MiddlewareConfig{Limiter: NewMemory(MemoryConfig{}), PolicyFor: policyFor, KeyFor: keyFor, Metrics: m}))
		benchmarkGET(b, app)
	})
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b)
		store := NewFallback(FallbackConfig{
			// Generous: on a loaded machine the default 100ms would switch
			// to memory and measure that instead.
			Primary:  NewRedis(srv.Client(), RedisConfig{Timeout: 5 * time.Second}),
			Fallback: NewMemory(MemoryConfig{}),
			Logger:   slog.New(slog.DiscardHandler),
			Metrics:  m,
		})
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Use(Middleware(MiddlewareConfig{Limiter: store, PolicyFor: policyFor, KeyFor: keyFor, Metrics: m}))
		benchmarkGET(b, app)
		if store.Down() {
			b.Fatal("Redis failed during the benchmark: the numbers are the memory fallback's")
		}
	})
	b.Run("fiber-limiter", func(b *testing.B) {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Use(limiter.New(limiter.Config{
			Max:        benchPolicy.Limit,
			Expiration: benchPolicy.Window,
			// Cloned: its memory storage keeps the key, and Fiber's strings
			// point into reused buffers.
			KeyGenerator:      func(c *fiber.Ctx) string { return strings.Clone(c.Get("X-Caller")) },
			LimiterMiddleware: limiter.SlidingWindow{},
		}))
		benchmarkGET(b, app)
	})
}

func benchmarkGET(b *testing.B, app *fiber.App) {
	app.Get("/api/things", func(c *fiber.Ctx) error { return c.SendString("ok") })
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.Shutdown() })
	client := &fasthttp.HostClient{
		Addr:     "bench",
		Dial:     func(string) (net.Conn, error) { return ln.Dial() },
		MaxConns: 1024,
	}
	callers := make([]string, benchCallers)
	for i := range callers {
		callers[i] = fmt.Sprintf("caller-%04d", i)
	}
	var worker atomic.Int64
	b.SetParallelism(16) // requests in flight, so Redis round trips overlap
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://bench/api/things")
		i := int(worker.Add(1)) * 7919
		for pb.Next() {
			req.Header.Set("X-Caller", callers[i%benchCallers])
			i++
			if err := client.Do(req, resp); err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode() != fiber.StatusOK {
				b.Errorf("status %d", resp.StatusCode())
				return
			}
		}
	})
}

// BenchmarkMemoryAllow is the memory store's decision alone.
func BenchmarkMemoryAllow(b *testing.B) {
	for _, p := range []Policy{
		{Name: "small", Limit: 100, Window: time.Minute}, // refusals mostly: callers hit their limit
		benchPolicy, // granule log
	} {
		b.Run(p.Name, func(b *testing.B) {
			m := NewMemory(MemoryConfig{})
			callers := make([]string, benchCallers)
			for i := range callers {
				callers[i] = fmt.Sprintf("caller-%04d", i)
			}
			var worker atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(worker.Add(1)) * 7919
				for pb.Next() {
					if _, err := m.Allow(b.Context(), callers[i%benchCallers], p); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}
