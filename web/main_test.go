package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/db"
	"batchtrack/db/pgtest"
	"batchtrack/idempotency"
	"batchtrack/inventory"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testApp is the whole HTTP stack on a fresh database.
type testApp struct {
	t      testing.TB
	srv    *Server
	svc    *inventory.Service
	pool   *pgxpool.Pool
	logBuf *bytes.Buffer
}

type appOptions struct {
	maxConns    int32
	lockTimeout time.Duration
}

func newTestApp(t testing.TB, opts ...appOptions) *testApp {
	t.Helper()
	var o appOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.lockTimeout == 0 {
		o.lockTimeout = 2 * time.Second
	}
	pool := pgtest.NewWithOptions(t, pgtest.Options{MaxConns: o.maxConns})
	store := db.NewStore(pool)
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logBuf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := inventory.New(store, inventory.Options{LockTimeout: o.lockTimeout, Logger: logger})
	srv := New(Deps{
		Inventory: svc, Idempotency: idempotency.New(store.Queries), Pool: pool, Logger: logger,
		PublicURL: "http://batchtrack.test", LockTimeout: o.lockTimeout, Instance: "test",
	})
	return &testApp{t: t, srv: srv, svc: svc, pool: pool, logBuf: &logBuf}
}

// do sends a request through app.Test (no network).
func (a *testApp) do(method, path string, body any, headers ...string) *http.Response {
	a.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		r = bytes.NewReader(js)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.srv.App().Test(req, 30_000)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// listen serves the app on a loopback port for real HTTP clients and
// browsers, until the test ends.
func (a *testApp) listen() string {
	a.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.t.Fatal(err)
	}
	go func() { _ = a.srv.App().Listener(ln) }()
	a.t.Cleanup(func() { _ = a.srv.App().ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

func decode[T any](t testing.TB, resp *http.Response) T {
	t.Helper()
	defer resp.Body.Close()
	var v T
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, b, err)
	}
	return v
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lockedWriter serialises writes of concurrent request loggers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func mustUUID(t testing.TB, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
