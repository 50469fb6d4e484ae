package ratelimit

import (
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

// BenchmarkGET compares a trivial Fiber GET without a limiter, with this
// package's limiter on each store, and with Fiber's own limiter, over two
// transports from a fasthttp client in the same process:
//
//   - tcp: a loopback socket, as every real client reaches the server. This
//     is the throughput the targets are about.
//   - pipe: an in-memory listener, no kernel in between. It magnifies the
//     limiter's CPU cost (and the client's cost of parsing five more
//     response fields) against a request that costs almost nothing.
//   - handler: Fiber's handler called directly on a reused request, no
//     connection and no client: the server's own work, where the
//     limiter's cost is the difference of two steady numbers.
//
// Compare ns/op of the subbenchmarks within one run. make bench runs every
// variant once per round, several rounds, and benchstat gives medians.
func BenchmarkGET(b *testing.B) {
	for _, transport := range []string{"tcp", "pipe", "handler"} {
		b.Run(transport, func(b *testing.B) { benchmarkGETVariants(b, transport) })
	}
}

func benchmarkGETVariants(b *testing.B, transport string) {
	keyFor := func(c *fiber.Ctx) string { return c.Get("X-Caller") }
	policyFor := func(*fiber.Ctx) (Policy, bool) { return benchPolicy, true }
	m, _ := NewMetrics(nil)

	b.Run("none", func(b *testing.B) {
		benchmarkGET(b, transport, fiber.New(fiber.Config{DisableStartupMessage: true}))
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
		benchmarkGET(b, transport, app)
	})
	b.Run("memory", func(b *testing.B) {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.Use(Middleware(MiddlewareConfig{Limiter: NewMemory(MemoryConfig{}), PolicyFor: policyFor, KeyFor: keyFor, Metrics: m}))
		benchmarkGET(b, transport, app)
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
		benchmarkGET(b, transport, app)
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
		benchmarkGET(b, transport, app)
	})
}

func benchmarkGET(b *testing.B, transport string, app *fiber.App) {
	app.Get("/api/things", func(c *fiber.Ctx) error { return c.SendString("ok") })
	callers := make([]string, benchCallers)
	for i := range callers {
		callers[i] = fmt.Sprintf("caller-%04d", i)
	}
	if transport == "handler" {
		benchmarkHandler(b, app, callers)
		return
	}
	client := &fasthttp.HostClient{Addr: "bench", MaxConns: 1024}
	var ln net.Listener
	switch transport {
	case "tcp":
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
		client.Addr = ln.Addr().String()
	default:
		pipe := fasthttputil.NewInmemoryListener()
		client.Dial = func(string) (net.Conn, error) { return pipe.Dial() }
		ln = pipe
	}
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.Shutdown() })
	if b.N > 1 {
		// The same untimed warm-up for every variant: connections open, the
		// heap and the GC pacer settle. Without it the variant measured
		// first in the process (none) came out slower than ones doing more.
		warmUp(b, client, callers, 150*time.Millisecond)
	}
	var worker atomic.Int64
	b.SetParallelism(16) // requests in flight, so Redis round trips overlap
	cpu := processCPU()
	b.ResetTimer()
	defer func() {
		// This process's CPU time per request (client and server, not
		// Redis's): steadier than ns/op on a machine shared with others.
		b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}()
	b.RunParallel(func(pb *testing.PB) {
		sendGETs(b, client, callers, int(worker.Add(1))*7919, pb.Next)
	})
}

// sendGETs sends requests as different callers, starting at callers[i],
// while more returns true; it stops at the first failure.
func sendGETs(b *testing.B, client *fasthttp.HostClient, callers []string, i int, more func() bool) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://bench/api/things")
	for ; more(); i++ {
		req.Header.Set("X-Caller", callers[i%benchCallers])
		if err := client.Do(req, resp); err != nil {
			b.Error(err)
			return
		}
		if resp.StatusCode() != fiber.StatusOK {
			b.Errorf("status %d", resp.StatusCode())
			return
		}
	}
}

// warmUp sends requests from as many goroutines as the benchmark uses,
// for d.
func warmUp(b *testing.B, client *fasthttp.HostClient, callers []string, d time.Duration) {
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range 16 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			sendGETs(b, client, callers, w, func() bool { return time.Now().Before(stop) })
		})
	}
	wg.Wait()
}

// benchmarkHandler runs app's handler on requests built in place.
func benchmarkHandler(b *testing.B, app *fiber.App, callers []string) {
	handler := app.Handler()
	var worker atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI("http://bench/api/things")
		i := int(worker.Add(1)) * 7919
		for pb.Next() {
			ctx.Request.Header.Set("X-Caller", callers[i%benchCallers])
			i++
			handler(&ctx)
			if ctx.Response.StatusCode() != fiber.StatusOK {
				b.Errorf("status %d", ctx.Response.StatusCode())
				return
			}
			ctx.Response.Reset()
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

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
