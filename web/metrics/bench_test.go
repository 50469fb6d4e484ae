package metrics

import (
	"net"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// BenchmarkTrivialGET measures what the HTTP metrics cost a trivial GET
// served over fasthttp's in-memory listener: the same app with and without
// the middleware, in the same run. Compare the two ns/op:
//
//	go test -run '^$' -bench TrivialGET -count 6 ./web/metrics/
func BenchmarkTrivialGET(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchGET(b, nil) })
	b.Run("metrics", func(b *testing.B) { benchGET(b, NewHTTP(prometheus.NewRegistry())) })
}

func benchGET(b *testing.B, h *HTTP) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	if h != nil {
		app.Use(h.Middleware)
	}
	app.Get("/api/items/:id", func(c *fiber.Ctx) error { return c.SendString("ok") })
	serveBench(b, app)
}

// serveBench sends GETs to app over an in-memory listener from parallel
// clients.
func serveBench(b *testing.B, app *fiber.App) {
	ln := fasthttputil.NewInmemoryListener()
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.ShutdownWithTimeout(time.Second) })
	client := &fasthttp.Client{
		Dial:            func(string) (net.Conn, error) { return ln.Dial() },
		MaxConnsPerHost: 1024,
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://bench/api/items/42")
		for pb.Next() {
			if err := client.Do(req, resp); err != nil {
				b.Error(err)
				return
			}
			if resp.StatusCode() != 200 {
				b.Errorf("status %d", resp.StatusCode())
				return
			}
		}
	})
}
