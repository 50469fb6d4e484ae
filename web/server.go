// Package web is batchtrack's HTTP layer: the JSON API, the staff pages
// and their htmx fragments, on Fiber.
package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"batchtrack/idempotency"
	"batchtrack/inventory"
	"batchtrack/static"
	"batchtrack/web/metrics"
)

// Deps is what the HTTP layer needs from the rest of the program.
type Deps struct {
	Inventory   *inventory.Service
	Idempotency *idempotency.Store
	Pool        *pgxpool.Pool // for /readyz
	Logger      *slog.Logger
	PublicURL   string // base of Digital Link URIs, e.g. http://127.0.0.1:3000
	LockTimeout time.Duration
	Registry    *prometheus.Registry
	// Instance names this process on the dashboard and in logs.
	Instance string
	// Caching is the read cache of API lists, batch detail and the
	// overview (caching.go).
	Caching Caching
	// RateLimits are the API's per-route policies (limits.go).
	RateLimits RateLimits
	// TrustedProxies may set X-Forwarded-For; others' is ignored.
	TrustedProxies []netip.Prefix
	// Auth: accounts, sessions, tokens and login throttling (auth.go).
	Auth AuthConfig
	// HTTPMetrics counts requests by route, method and status (nil: New
	// registers its own on Registry).
	HTTPMetrics *metrics.HTTP
	// Recorder keeps the dashboard's recent samples; main runs it (nil: New
	// makes one that samples only when asked, as tests do).
	Recorder *metrics.Recorder
	// Peers shares each instance's dashboard figures (Redis); nil: this
	// instance shows only its own.
	Peers PeerBoard
}

// IsLoopbackURL reports whether a PUBLIC_URL names this machine only
// (localhost, 127.0.0.0/8, ::1): Digital Links printed with it resolve
// nowhere else.
func IsLoopbackURL(publicURL string) bool {
	u, err := url.Parse(publicURL)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server holds the app and its dependencies.
type Server struct {
	deps   Deps
	app    *fiber.App
	authn  *authenticator
	ops    *operations // dashboard, /metrics, /api/metrics (pages_dashboard.go)
	assets *static.Assets
	// captures counts capture jobs still storing, for a graceful stop.
	captures sync.WaitGroup
	// draining is set on shutdown: /readyz fails so the load balancer
	// stops sending, while requests still get served.
	draining atomic.Bool
}

// BodyLimit is the largest request body accepted (413 above).
const BodyLimit = 1 << 20

// New builds the Fiber app with every route.
func New(deps Deps) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.LockTimeout <= 0 {
		deps.LockTimeout = deps.Inventory.LockTimeout()
	}
	ops := newOperations(&deps)
	assets, err := static.New()
	if err != nil {
		// The files are embedded at build time: failing here is a broken build.
		panic(err)
	}
	s := &Server{deps: deps, ops: ops, assets: assets}
	s.authn = newAuthenticator(deps)
	s.app = fiber.New(fiber.Config{
		AppName: "batchtrack",
		// The largest body of any route: EPCIS capture documents. Every
		// other route keeps BodyLimit (limitBody).
		BodyLimit:             CaptureFileSizeLimit,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           2 * time.Minute,
		JSONEncoder:           json.Marshal,
		JSONDecoder:           json.Unmarshal,
		// A response that fits goes out in one write(2). At fasthttp's
		// default 4 KiB, a default page of events (about 30 KiB) took two,
		// and on loopback each write runs the receiver's TCP work too.
		WriteBufferSize: writeBufferSize,
		// Fiber's zero-allocation strings alias a pooled buffer; handlers
		// that keep a value copy it (strings.Clone).
		Immutable: false,
	})
	s.app.Server().HeaderReceived = bodyLimitFor
	s.routes()
	return s
}

// writeBufferSize holds a default page of any list (50 rows) with its
// headers. Buffers are pooled per response being written, not kept per
// idle connection.
const writeBufferSize = 64 << 10

// App is the Fiber app, for Listen and tests.
func (s *Server) App() *fiber.App { return s.app }

// Serve serves on ln until the app shuts down.
func (s *Server) Serve(ln net.Listener) error {
	return s.app.Listener(lingeringListener{ln})
}

// Listen serves on addr until ctx is cancelled, then shuts down in two
// steps: for drain it keeps serving while /readyz fails (a load balancer's
// health check takes it out of rotation), then it stops accepting and
// gives in-flight requests grace.
func (s *Server) Listen(ctx context.Context, addr string, drain, grace time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	if drain > 0 {
		s.deps.Logger.Info("draining: /readyz fails, still serving", "for", drain)
		select {
		case err := <-errc:
			return err
		case <-time.After(drain):
		}
	}
	deadline := time.Now().Add(grace)
	if err := s.app.ShutdownWithTimeout(grace); err != nil {
		return err
	}
	s.waitForCaptures(time.Until(deadline))
	return <-errc
}

// waitForCaptures lets running capture jobs finish, up to d. One cut
// short rolls back whole (rollback) and its job reports the interruption.
func (s *Server) waitForCaptures(d time.Duration) {
	done := make(chan struct{})
	go func() { s.captures.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(max(d, 0)):
	}
}

// localLogger holds the request's logger once made (see log).
const localLogger = "logger"

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// withRequest gives every request an id (the client's X-Request-Id when it
// is sane), which every line the request logs carries (see log), and
// records its metrics and its log line once the error handler has run.
func (s *Server) withRequest(c *fiber.Ctx) error {
	rid := c.Get("X-Request-Id")
	if !requestIDPattern.MatchString(rid) {
		rid = uuid.NewString()
	}
	c.Locals("request_id", rid)
	c.Set("X-Request-Id", rid)
	if s.draining.Load() {
		// A kept-alive connection would be cut when draining ends; the
		// balancer opens its next one to an instance that stays.
		c.Context().SetConnectionClose()
	}
	start := time.Now()
	s.ops.http.Start()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	elapsed := time.Since(start)
	// Request metrics here, outermost, once the error handler has written
	// the status.
	s.ops.http.Done(c, elapsed)
	status := c.Response().StatusCode()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if s.deps.Logger.Enabled(c.UserContext(), level) {
		s.log(c).Log(c.UserContext(), level, "request", "method", c.Method(), "path", c.Path(),
			"route", c.Route().Path, "status", status, "duration", elapsed)
	}
	return nil
}

// recoverPanic turns a panic into a 500 with the stack in the log.
func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log(c).Error("panic", "panic", r, "stack", string(debug.Stack()))
			err = fiber.ErrInternalServerError
		}
	}()
	return c.Next()
}

func requestID(c *fiber.Ctx) string {
	rid, _ := c.Locals("request_id").(string)
	return rid
}

// log is the request's logger: every line carries the request id. It is
// made on first use, so a request that logs nothing (at LOG_LEVEL=warn,
// most) does not pay for it.
func (s *Server) log(c *fiber.Ctx) *slog.Logger {
	if l, ok := c.Locals(localLogger).(*slog.Logger); ok {
		return l
	}
	rid := requestID(c)
	if rid == "" {
		return s.deps.Logger
	}
	l := s.deps.Logger.With("request_id", rid)
	c.Locals(localLogger, l)
	return l
}
