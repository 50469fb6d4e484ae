// Package redistest gives tests a real Redis server: the one named by
// TEST_REDIS_URL, or a throwaway redis-server started from the system's
// binaries on a free loopback port and stopped when the test ends.
package redistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running Redis that a test may stop and start again to
// simulate an outage.
type Server struct {
	URL  string
	Addr string
	t    testing.TB
	cmd  *exec.Cmd
	port int
}

// Start returns a Redis for t. With TEST_REDIS_URL set it uses that server
// (and Stop/Restart are not available); otherwise it starts redis-server.
// Each call gets its own logical database when TEST_REDIS_URL is shared, so
// tests do not see each other's keys.
func Start(t testing.TB) *Server {
	t.Helper()
	if url := os.Getenv("TEST_REDIS_URL"); url != "" {
		opts, err := redis.ParseURL(url)
		if err != nil {
			t.Fatalf("TEST_REDIS_URL: %v", err)
		}
		c := redis.NewClient(opts)
		defer c.Close()
		if err := c.FlushDB(context.Background()).Err(); err != nil {
			t.Fatalf("redis at TEST_REDIS_URL: %v", err)
		}
		return &Server{URL: url, Addr: opts.Addr, t: t}
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found: install Debian's redis-server package or set TEST_REDIS_URL")
	}
	s := &Server{t: t, port: freePort(t)}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	s.URL = "redis://" + s.Addr + "/0"
	s.start(bin)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(bin string) {
	s.t.Helper()
	s.cmd = exec.Command(bin,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port),
		"--save", "", "--appendonly", "no", "--dir", s.t.TempDir(),
		"--protected-mode", "yes", "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := c.Ping(context.Background()).Err(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not answer within 10s", s.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (an outage, as far as clients can tell).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same address, empty.
func (s *Server) Restart() {
	s.t.Helper()
	if s.port == 0 {
		s.t.Skip("cannot restart the server named by TEST_REDIS_URL")
	}
	s.Stop()
	bin, _ := exec.LookPath("redis-server")
	s.start(bin)
}

// CanRestart reports whether Stop and Restart control the server.
func (s *Server) CanRestart() bool { return s.port != 0 }

// Client returns a client for the server, closed when the test ends.
func (s *Server) Client() *redis.Client {
	opts, err := redis.ParseURL(s.URL)
	if err != nil {
		s.t.Fatalf("parse %s: %v", s.URL, err)
	}
	c := redis.NewClient(opts)
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
