// Command bareserver is the control of bench/cache-p99.sh: a bare Fiber
// handler that answers GET /api/events with a file's bytes (a cached page
// saved from the app), on a loopback address, with the app's write buffer.
// Measured the same way as the app, it shows the tail latency this machine
// allows whatever the handler does.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/gofiber/fiber/v2"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bareserver:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:3919", "listen address (loopback)")
	bodyFile := flag.String("body", "", "file whose bytes every response carries")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return err
	}
	// The app's buffer (web.writeBufferSize): the response goes out in one
	// write(2), as the app's does.
	app := fiber.New(fiber.Config{DisableStartupMessage: true, WriteBufferSize: 64 << 10})
	app.Get("/api/events", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(body)
	})
	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt)
	go func() {
		<-interrupt
		_ = app.Shutdown()
	}()
	return app.Listen(*addr)
}
