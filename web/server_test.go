package web

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// writeCountingListener counts the Write calls on the connections it accepts.
type writeCountingListener struct {
	net.Listener
	writes atomic.Int64
}

func (l *writeCountingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &writeCountingConn{Conn: c, writes: &l.writes}, nil
}

type writeCountingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *writeCountingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// A list response several times fasthttp's default 4 KiB buffer leaves in
// one write: on loopback every write(2) also runs the receiver's TCP work,
// and two per response cost a fifth of the cached read's throughput.
func TestListResponseIsOneWrite(t *testing.T) {
	a := newTestApp(t)
	first := a.fixture("100")
	for range 24 {
		a.batch(first.ProductID.String(), first.LocationID.String(), "100")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counting := &writeCountingListener{Listener: ln}
	go func() { _ = a.srv.App().Listener(counting) }()
	t.Cleanup(func() { _ = a.srv.App().ShutdownWithTimeout(5 * time.Second) })

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, path := range []string{"/api/batches?limit=50", "/api/events?limit=50"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+path, nil)
		req.Header.Set("Authorization", "Bearer "+a.adminToken)
		before := counting.writes.Load()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		if len(body) < 3*4096 {
			t.Fatalf("GET %s: body of %d bytes is too small to test this", path, len(body))
		}
		if n := counting.writes.Load() - before; n != 1 {
			t.Errorf("GET %s: %d bytes went out in %d writes, want 1", path, len(body), n)
		}
	}
}
