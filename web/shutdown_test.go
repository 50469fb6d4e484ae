package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// On shutdown a real server fails /readyz at once, keeps serving for the
// drain, and lets a request in flight when it stops accepting finish
// within the grace.
func TestShutdownDrainsThenFinishesInFlight(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("100")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const drain = 600 * time.Millisecond
	stopped := make(chan error, 1)
	go func() { stopped <- a.srv.Listen(ctx, addr, drain, 5*time.Second) }()

	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+a.adminToken)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	waitFor(t, func() bool { code, err := get("/readyz"); return err == nil && code == http.StatusOK })

	// The slow request: a consume waiting on the lot's row lock, held here.
	tx, err := a.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(context.Background(), "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", b.ID); err != nil {
		t.Fatal(err)
	}
	consumed := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/batches/"+b.ID.String()+"/consume",
			strings.NewReader(`{"quantity_to_consume": "1"}`))
		req.Header.Set("Authorization", "Bearer "+a.adminToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("consume in flight: %v", err)
			consumed <- 0
			return
		}
		resp.Body.Close()
		consumed <- resp.StatusCode
	}()
	waitFor(t, func() bool {
		var n int
		_ = a.pool.QueryRow(context.Background(), "SELECT count(*) FROM pg_locks WHERE NOT granted").Scan(&n)
		return n > 0
	})

	shutdownAt := time.Now()
	cancel()
	if code, err := get("/readyz"); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while draining: %d %v, want 503", code, err)
	}
	if code, err := get("/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("/healthz while draining: %d %v, want 200 (still serving)", code, err)
	}
	// Past the drain the listener is closed; the consume still waits.
	waitFor(t, func() bool { _, err := get("/healthz"); return err != nil })
	if since := time.Since(shutdownAt); since < drain {
		t.Errorf("stopped accepting %s after shutdown, before the %s drain", since, drain)
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := <-consumed; code != http.StatusOK {
		t.Errorf("consume in flight at shutdown: %d, want 200", code)
	}
	select {
	case err := <-stopped:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("Listen: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not return after the in-flight request finished")
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
