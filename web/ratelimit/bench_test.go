package ratelimit

import (
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"batchtrack/redistest"
)

// BenchmarkGET is what the limiter costs a trivial GET served over
// loopback TCP to parallel clients, 1000 callers in turn: compare the
// subbenchmarks of one run. The policy admits everything, so the cost is
// deciding, not refusing.
func BenchmarkGET(b *testing.B) {
	p := Policy{Name: "read", Limit: 1 << 30, Window: time.Minute}
	for _, tc := range []struct {
		name    string
		limiter func(b *testing.B) Limiter // nil: no limiter
	}{
		{"none", nil},
		{"memory", func(*testing.B) Limiter { return NewMemory(MemoryConfig{}) }},
		{"redis", func(b *testing.B) Limiter {
			srv := redistest.Start(b)
			// As the app runs it: Redis, with memory behind it.
			return NewFallback(FallbackConfig{
				// Generous: on a loaded machine the default 100ms would
				// switch to memory and measure that instead.
				Primary:  NewRedis(srv.Client(), RedisConfig{Timeout: 5 * time.Second}),
				Fallback: NewMemory(MemoryConfig{}),
				Logger:   slog.New(slog.DiscardHandler),
			})
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			var l Limiter
			if tc.limiter != nil {
				l = tc.limiter(b)
				m, _ := NewMetrics(nil)
				app.Use(Middleware(MiddlewareConfig{
					Limiter:   l,
					PolicyFor: func(*fiber.Ctx) (Policy, bool) { return p, true },
					KeyFor:    func(c *fiber.Ctx) string { return c.Get("X-Caller") },
					Metrics:   m,
				}))
			}
			app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go func() { _ = app.Listener(ln) }()
			b.Cleanup(func() { _ = app.Shutdown() })
			client := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 1024}

			var worker atomic.Int64
			b.SetParallelism(16) // enough requests in flight to keep the CPUs busy
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.SetRequestURI("http://" + client.Addr + "/")
				for i := int(worker.Add(1)) * 7919; pb.Next(); i++ {
					req.Header.Set("X-Caller", fmt.Sprintf("caller-%04d", i%1000))
					if err := client.Do(req, resp); err != nil || resp.StatusCode() != fiber.StatusOK {
						b.Errorf("GET: %v, status %d", err, resp.StatusCode())
						return
					}
				}
			})
			b.StopTimer()
			if f, ok := l.(*Fallback); ok && f.Down() {
				b.Fatal("Redis failed during the benchmark: the numbers are the memory fallback's")
			}
		})
	}
}
