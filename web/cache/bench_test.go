package cache

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"batchtrack/redistest"

	"github.com/gofiber/fiber/v2"
	fibercache "github.com/gofiber/fiber/v2/middleware/cache"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// benchBody stands for a rendered page of GET /api/events: ~4 KiB of JSON.
var benchBody = append(append([]byte(`{"data":[`), bytes.Repeat([]byte(`{"id":"0b7c3f0e-2c43-4a4e-9d0b-5f1d2a3c4b5d","type":"ObjectEvent"},`), 60)...), []byte(`{}]}`)...)

func newBenchCache(b *testing.B, cfg Config) *Cache {
	b.Helper()
	cfg.Enabled = true
	cfg.Logger = quietLogger()
	c, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

type benchTier struct {
	name string
	cfg  func(b *testing.B) Config
}

var benchTiers = []benchTier{
	{"memory", func(b *testing.B) Config { return Config{} }},
	{"redis+local", func(b *testing.B) Config {
		return Config{Redis: redistest.Start(b).Client(), LocalTTL: time.Second}
	}},
	{"redis", func(b *testing.B) Config { return Config{Redis: redistest.Start(b).Client()} }},
}

func failingLoader(context.Context) ([]byte, error) {
	return nil, fmt.Errorf("benchmark: hit path called the loader")
}

// BenchmarkGetOrLoadHit measures the hit path alone, 16 hot keys.
func BenchmarkGetOrLoadHit(b *testing.B) {
	for _, bt := range benchTiers {
		b.Run(bt.name, func(b *testing.B) {
			c := newBenchCache(b, bt.cfg(b))
			keys := make([]Key, 16)
			for i := range keys {
				keys[i] = Key{Namespace: "events", ID: fmt.Sprint("page=", i)}
				if _, _, err := c.GetOrLoad(context.Background(), keys[i], time.Hour, func(context.Context) ([]byte, error) {
					return benchBody, nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				i := 0
				for pb.Next() {
					_, hit, err := c.GetOrLoad(ctx, keys[i%len(keys)], time.Hour, failingLoader)
					if err != nil || !hit {
						b.Errorf("hit=%v err=%v", hit, err)
						return
					}
					i++
				}
			})
		})
	}
}

// BenchmarkHTTP serves the same bytes through a real Fiber/fasthttp path
// (in-memory listener, fasthttp client): bare handler, this cache, this
// cache's Redis tier without local copies, and Fiber's cache middleware.
func BenchmarkHTTP(b *testing.B) {
	handlers := []struct {
		name  string
		setup func(b *testing.B, app *fiber.App)
	}{
		{"bare", func(b *testing.B, app *fiber.App) {
			app.Get("/api/events", func(c *fiber.Ctx) error {
				c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
				return c.Send(benchBody)
			})
		}},
		{"cache-memory", func(b *testing.B, app *fiber.App) {
			cc := newBenchCache(b, Config{})
			app.Get("/api/events", func(c *fiber.Ctx) error {
				return cc.SendJSON(c, Key{"events", c.OriginalURL()}, time.Hour, func(context.Context) ([]byte, error) {
					return benchBody, nil
				})
			})
		}},
		{"cache-redis", func(b *testing.B, app *fiber.App) {
			cc := newBenchCache(b, Config{Redis: redistest.Start(b).Client()})
			app.Get("/api/events", func(c *fiber.Ctx) error {
				return cc.SendJSON(c, Key{"events", c.OriginalURL()}, time.Hour, func(context.Context) ([]byte, error) {
					return benchBody, nil
				})
			})
		}},
		{"fiber-cache-middleware", func(b *testing.B, app *fiber.App) {
			app.Use(fibercache.New(fibercache.Config{Expiration: time.Hour}))
			app.Get("/api/events", func(c *fiber.Ctx) error {
				c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
				return c.Send(benchBody)
			})
		}},
	}
	for _, h := range handlers {
		b.Run(h.name, func(b *testing.B) {
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			h.setup(b, app)
			ln := fasthttputil.NewInmemoryListener()
			go func() { _ = app.Listener(ln) }()
			b.Cleanup(func() { _ = app.Shutdown() })
			client := &fasthttp.Client{
				Dial:            func(string) (net.Conn, error) { return ln.Dial() },
				MaxConnsPerHost: 4096,
			}
			const url = "http://bench.local/api/events?page=1"
			// Warm: the first request fills the caches.
			if status, body, err := client.Get(nil, url); err != nil || status != 200 || !bytes.Equal(body, benchBody) {
				b.Fatalf("warm-up: %d %v", status, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.SetRequestURI(url)
				for pb.Next() {
					if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 || len(resp.Body()) != len(benchBody) {
						b.Errorf("request: %v status %d", err, resp.StatusCode())
						return
					}
				}
			})
		})
	}
}
