package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"batchtrack/db/pgtest"
	"batchtrack/loadtest"
	"batchtrack/logtest"
)

// startApp runs `batchtrack serve` as main does, on a fresh database and a
// free loopback port, with extra environment; it returns the base URL, an
// admin token made with `batchtrack token create`, and the database URL.
func startApp(t *testing.T, env map[string]string) (base, token, dbURL string) {
	t.Helper()
	dbURL = pgtest.URL(t)
	addr := freeAddr(t)
	vars := map[string]string{"DATABASE_URL": dbURL, "ADDR": addr, "SEED": "false", "LOG_LEVEL": "warn"}
	for k, v := range env {
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	token = adminToken(t, dbURL)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs logtest.Buffer
	go func() { done <- run(ctx, []string{"serve"}, getenv, nil, io.Discard, &logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop within 20s of its context ending")
		}
	})
	base = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, token, dbURL
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("app not ready after 30s; logs:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var suiteEnv = map[string]string{
	// Reads generous so the ledger check need not wait; consume low enough
	// for the rate-limit scenario to see 429s within its bound.
	"RATE_LIMIT_READ": "100000/1m", "RATE_LIMIT_EVENTS_WRITE": "100000/1m",
	"RATE_LIMIT_BATCHES_WRITE": "100000/1m", "RATE_LIMIT_CONSUME": "600/1m",
}

func suiteConfig(base, token string) loadtest.SuiteConfig {
	return loadtest.SuiteConfig{BaseURL: base, Token: token, Requests: 120, Duration: 8 * time.Second,
		Concurrency: 4, RateLimitMaxRequests: 1500}
}

// The load-test suite against the real app: every scenario passes and the
// ledger of every batch it consumed from explains its balance.
func TestLoadtestSuiteAgainstApp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole app under load")
	}
	base, token, _ := startApp(t, suiteEnv)
	var progress bytes.Buffer
	rep, err := loadtest.RunSuite(context.Background(), suiteConfig(base, token), &progress)
	if err != nil {
		t.Fatalf("suite: %v\n%s", err, progress.String())
	}
	if !rep.Pass {
		t.Fatalf("suite failed: %v\n%s", rep.Failures(), progress.String())
	}
}

// The same suite fails when the ledger no longer explains a balance: a
// unit taken behind the ledger's back is caught.
func TestLoadtestSuiteCatchesBrokenLedger(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole app under load")
	}
	base, token, dbURL := startApp(t, suiteEnv)
	cfg := suiteConfig(base, token)
	cfg.Scenarios = []string{loadtest.ScenarioConsumeHot}
	cfg.BeforeLedgerCheck = func(ctx context.Context, batchIDs []string) error {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "UPDATE batches SET quantity_available = quantity_available - 1 WHERE id = $1", batchIDs[0])
		return err
	}
	rep, err := loadtest.RunSuite(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatalf("suite: %v", err)
	}
	if rep.Pass {
		t.Fatal("suite passed with a unit missing from the ledger")
	}
	if !strings.Contains(fmt.Sprint(rep.Failures()), "ledger") {
		t.Errorf("failures %v do not name the ledger", rep.Failures())
	}
}

// DEBUG_ADDR serves Go's profiler on its own loopback port, and only there.
func TestDebugAddrServesProfiler(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	debugAddr := ln.Addr().String()
	ln.Close()
	base, _, _ := startApp(t, map[string]string{"DEBUG_ADDR": debugAddr})

	resp, err := http.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("profiler: status %d, body %.100q", resp.StatusCode, body)
	}
	resp, err = http.Get(base + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Error("the app's own port serves the profiler")
	}
}
