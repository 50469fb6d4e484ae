package loadtest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"batchtrack/logtest"
)

// statusLog is the server's own account of what it answered, to compare
// with what the load tester reports.
type statusLog struct {
	mu     sync.Mutex
	counts map[string]int64
}

func (l *statusLog) add(code int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[string]int64{}
	}
	l.counts[strconv.Itoa(code)]++
}

func (l *statusLog) snapshot() map[string]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int64{}
	for k, v := range l.counts {
		out[k] = v
	}
	return out
}

func startServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// slowFailingHandler sleeps delay on every request and answers 500 to
// every failEvery-th one (0: never).
func slowFailingHandler(delay time.Duration, failEvery int64, log *statusLog) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		time.Sleep(delay)
		code := http.StatusOK
		if failEvery > 0 && i%failEvery == 0 {
			code = http.StatusInternalServerError
		}
		log.add(code)
		w.WriteHeader(code)
		w.Write([]byte("ok"))
	})
}

var clients = []string{ClientFastHTTP, ClientNetHTTP}

func TestRunReportsWhatTheServerDid(t *testing.T) {
	const delay = 20 * time.Millisecond
	for _, client := range clients {
		t.Run(client, func(t *testing.T) {
			var log statusLog
			srv := startServer(t, slowFailingHandler(delay, 5, &log))
			sum, err := Run(context.Background(), Options{
				Target:      Request{URL: srv.URL + "/x"},
				Concurrency: 4,
				MaxRequests: 100,
				Client:      client,
				Thresholds:  DefaultThresholds(),
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(log.snapshot(), sum.StatusCodes); diff != "" {
				t.Errorf("status codes (-server +reported):\n%s", diff)
			}
			want := struct{ Requests, Succeeded, Failed, RateLimited int64 }{100, 80, 20, 0}
			got := struct{ Requests, Succeeded, Failed, RateLimited int64 }{sum.Requests, sum.Succeeded, sum.Failed, sum.RateLimited}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if sum.SuccessRate != 0.8 || sum.ErrorRate != 0.2 {
				t.Errorf("success rate %v, error rate %v; want 0.8, 0.2", sum.SuccessRate, sum.ErrorRate)
			}
			if sum.StopReason != StopRequests {
				t.Errorf("stop reason %q, want %q", sum.StopReason, StopRequests)
			}
			// Every request slept 20ms: no latency can be below it (within the
			// histogram's 3 significant digits); upper bounds stay loose for a
			// noisy machine.
			floor := 19.98
			l := sum.Latency
			for name, v := range map[string]float64{"min": l.Min, "p50": l.P50, "p90": l.P90, "p95": l.P95, "p99": l.P99, "p99.9": l.P999, "avg": l.Avg} {
				if v < floor || v > 1000 {
					t.Errorf("%s latency %.3fms, want within [%.2f, 1000]", name, v, floor)
				}
			}
			if !(l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
				t.Errorf("percentiles out of order: %+v", l)
			}
			if l.Count != 100 {
				t.Errorf("latency count %d, want 100", l.Count)
			}
			var perSecond int64
			for _, s := range sum.Timeline {
				perSecond += s.Requests
			}
			if perSecond != 100 {
				t.Errorf("timeline holds %d requests, want 100", perSecond)
			}
			var histogram int64
			for _, b := range sum.Histogram {
				histogram += b.Count
			}
			if histogram != 100 {
				t.Errorf("histogram holds %d requests, want 100", histogram)
			}
			if sum.Pass {
				t.Error("80% success passed the 95% threshold")
			}
		})
	}
}

// rateLimitHandler answers like the app's limiter: a constant limit, a
// decreasing remaining count, and 429 with Retry-After once it is spent.
func rateLimitHandler(limit int64, breakIt string) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		remaining := max(limit-i, 0)
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.FormatInt(limit, 10))
		h.Set("X-RateLimit-Remaining", strconv.FormatInt(remaining, 10))
		h.Set("X-RateLimit-Reset", time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
		switch breakIt {
		case "limit-changes":
			if i%7 == 0 {
				h.Set("X-RateLimit-Limit", strconv.FormatInt(limit+1, 10))
			}
		case "remaining-above-limit":
			if i == 3 {
				h.Set("X-RateLimit-Remaining", strconv.FormatInt(limit+5, 10))
			}
		}
		if i > limit {
			if breakIt != "no-retry-after" {
				h.Set("Retry-After", "30")
			}
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte("ok"))
	})
}

func TestRunRateLimitAccounting(t *testing.T) {
	tests := []struct {
		breakIt        string
		wantConsistent bool
	}{
		{"", true},
		{"limit-changes", false},
		{"remaining-above-limit", false},
		{"no-retry-after", false},
	}
	for _, tt := range tests {
		t.Run("broken="+tt.breakIt, func(t *testing.T) {
			srv := startServer(t, rateLimitHandler(10, tt.breakIt))
			sum, err := Run(context.Background(), Options{
				Target:      Request{URL: srv.URL},
				Concurrency: 2,
				MaxRequests: 30,
				Thresholds:  Thresholds{RequireRateLimited: true, MinSuccessRate: 0.95, IgnoreRateLimited: true},
			})
			if err != nil {
				t.Fatal(err)
			}
			if sum.RateLimited != 20 || sum.Succeeded != 10 || sum.Failed != 0 {
				t.Errorf("429s %d, succeeded %d, failed %d; want 20, 10, 0", sum.RateLimited, sum.Succeeded, sum.Failed)
			}
			if sum.SuccessRateExcludingRateLimited != 1 {
				t.Errorf("success rate without 429s %v, want 1", sum.SuccessRateExcludingRateLimited)
			}
			if sum.Latency.Count != 10 {
				t.Errorf("latency covers %d responses, want the 10 that were not 429", sum.Latency.Count)
			}
			if sum.RateLimit.Consistent != tt.wantConsistent {
				t.Errorf("consistent = %v, want %v (%+v)", sum.RateLimit.Consistent, tt.wantConsistent, sum.RateLimit)
			}
			if sum.Pass != tt.wantConsistent {
				t.Errorf("pass = %v, want %v: %v", sum.Pass, tt.wantConsistent, sum.Checks)
			}
		})
	}
}

func TestRunCacheHitRateAfterWarmup(t *testing.T) {
	tests := []struct {
		name        string
		warmup      int64
		wantHits    int64
		wantMisses  int64
		wantWarmups int64
	}{
		{"warm-up excluded", 4, 20, 0, 4},
		{"cold start counted", 0, 16, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= 4 {
					w.Header().Set("X-Cache", "MISS")
				} else {
					w.Header().Set("X-Cache", "HIT")
				}
			}))
			sum, err := Run(context.Background(), Options{
				Target:         Request{URL: srv.URL},
				Concurrency:    1, // one worker: the first four requests are the misses
				MaxRequests:    20,
				WarmupRequests: tt.warmup,
				Thresholds:     Thresholds{MinCacheHitRate: 0.9},
			})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Cache.Hits != tt.wantHits || sum.Cache.Misses != tt.wantMisses || sum.WarmupRequests != tt.wantWarmups {
				t.Errorf("hits %d misses %d warm-up %d; want %d %d %d", sum.Cache.Hits, sum.Cache.Misses, sum.WarmupRequests, tt.wantHits, tt.wantMisses, tt.wantWarmups)
			}
			if got := n.Load(); got != 20+tt.warmup {
				t.Errorf("server saw %d requests, want %d", got, 20+tt.warmup)
			}
			if wantPass := tt.wantMisses == 0; sum.Pass != wantPass {
				t.Errorf("pass = %v with hit rate %v, want %v", sum.Pass, sum.Cache.HitRate, wantPass)
			}
		})
	}
}

// stallingHandler answers at once, except that the stallAt-th request
// freezes the server for stall: it and every request arriving meanwhile
// wait until the stall is over, as behind a GC pause or a held lock.
func stallingHandler(stallAt int64, stall time.Duration) http.Handler {
	var n atomic.Int64
	var mu sync.Mutex
	var until time.Time
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		mu.Lock()
		if i == stallAt {
			until = time.Now().Add(stall)
		}
		wait := time.Until(until)
		mu.Unlock()
		if wait > 0 {
			time.Sleep(wait)
		}
		w.Write([]byte("ok"))
	})
}

// TestOpenLoopShowsQueueingDelay is the coordinated-omission test: the
// same 500ms stall is one slow request out of 200 to a closed loop, but in
// open loop every request that was due during the stall waited, and their
// latency (from the intended send time) says so.
func TestOpenLoopShowsQueueingDelay(t *testing.T) {
	const stall = 500 * time.Millisecond
	open := func() Summary {
		srv := startServer(t, stallingHandler(50, stall))
		sum, err := Run(context.Background(), Options{
			Target: Request{URL: srv.URL}, Rate: 100, Concurrency: 10, MaxRequests: 200,
		})
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}()
	closed := func() Summary {
		srv := startServer(t, stallingHandler(50, stall))
		sum, err := Run(context.Background(), Options{
			Target: Request{URL: srv.URL}, Concurrency: 1, MaxRequests: 200,
		})
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}()
	t.Logf("open loop:   %+v", open.Latency)
	t.Logf("closed loop: %+v", closed.Latency)

	if open.Requests != 200 || closed.Requests != 200 {
		t.Fatalf("requests: open %d, closed %d; want 200 each", open.Requests, closed.Requests)
	}
	// About 50 requests were due during the stall, their waits spread over
	// 0..500ms: the top 1% waited nearly the whole stall, the top 10% over
	// half of it. Scheduling noise only adds latency, so these lower bounds
	// hold on any machine.
	if open.Latency.P99 < 400 {
		t.Errorf("open loop P99 %.1fms, want >= 400ms: the stall was omitted", open.Latency.P99)
	}
	if open.Latency.P90 < 150 {
		t.Errorf("open loop P90 %.1fms, want >= 150ms", open.Latency.P90)
	}
	if open.Pacing == nil || open.Pacing.LateSends == 0 {
		t.Errorf("open loop reports no late sends during the stall: %+v", open.Pacing)
	}
	// The closed loop saw the stall on one request only...
	if closed.Latency.Max < 490 {
		t.Errorf("closed loop max %.1fms, want >= 490ms (the stalled request)", closed.Latency.Max)
	}
	// ...and its percentiles hide it (loose bound: a noisy machine may slow
	// a few requests, but not 2% of them by a quarter second).
	if closed.Latency.P90 > 250 {
		t.Errorf("closed loop P90 %.1fms, want it far below the stall", closed.Latency.P90)
	}
	if open.Latency.P90 <= closed.Latency.P90 {
		t.Errorf("open P90 %.1fms <= closed P90 %.1fms", open.Latency.P90, closed.Latency.P90)
	}
}

func TestOpenLoopKeepsItsRate(t *testing.T) {
	var n atomic.Int64
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	start := time.Now()
	sum, err := Run(context.Background(), Options{Target: Request{URL: srv.URL}, Rate: 200, MaxRequests: 100})
	if err != nil {
		t.Fatal(err)
	}
	// 100 requests at 200/s are due over 495ms: sending them all cannot
	// take less (only more, on a loaded machine).
	if elapsed := time.Since(start); elapsed < 490*time.Millisecond {
		t.Errorf("100 requests at 200/s took %s, want >= 495ms", elapsed)
	}
	if sum.Requests != 100 || n.Load() != 100 {
		t.Errorf("reported %d, server saw %d; want 100", sum.Requests, n.Load())
	}
	if sum.Mode != "open" || sum.Pacing == nil {
		t.Errorf("mode %q pacing %v, want open with pacing", sum.Mode, sum.Pacing)
	}
}

func TestRunStopsAtItsTimeLimit(t *testing.T) {
	var log statusLog
	srv := startServer(t, slowFailingHandler(5*time.Millisecond, 0, &log))
	start := time.Now()
	sum, err := Run(context.Background(), Options{
		Target: Request{URL: srv.URL}, Concurrency: 2, MaxRequests: HardMaxRequests, MaxDuration: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.StopReason != StopDuration {
		t.Errorf("stop reason %q, want %q", sum.StopReason, StopDuration)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("a 300ms run took %s", elapsed)
	}
	if sum.Requests == 0 || sum.Requests > 2*300/5+2 {
		t.Errorf("%d requests in 300ms at 2 x 5ms, want 1..122", sum.Requests)
	}
}

func TestRunWarmupByDuration(t *testing.T) {
	var n atomic.Int64
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	sum, err := Run(context.Background(), Options{
		Target: Request{URL: srv.URL}, Rate: 100, MaxRequests: 20, WarmupDuration: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	// At 100/s the first 200ms hold exactly 20 intended send times.
	if sum.WarmupRequests != 20 || sum.Requests != 20 || n.Load() != 40 {
		t.Errorf("warm-up %d, measured %d, server saw %d; want 20, 20, 40", sum.WarmupRequests, sum.Requests, n.Load())
	}
}

func TestRunCountsTransportErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	for _, client := range clients {
		t.Run(client, func(t *testing.T) {
			sum, err := Run(context.Background(), Options{
				Target: Request{URL: "http://" + addr + "/"}, Concurrency: 2, MaxRequests: 10, Client: client,
				Thresholds: DefaultThresholds(),
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]int64{"connection_refused": 10}, sum.TransportErrors); diff != "" {
				t.Errorf("transport errors (-want +got):\n%s", diff)
			}
			if sum.Failed != 10 || sum.ErrorRate != 1 || sum.Pass {
				t.Errorf("failed %d, error rate %v, pass %v; want 10, 1, false", sum.Failed, sum.ErrorRate, sum.Pass)
			}
		})
	}
}

func TestRunTimeoutIsATransportError(t *testing.T) {
	release := make(chan struct{})
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) })
	for _, client := range clients {
		t.Run(client, func(t *testing.T) {
			sum, err := Run(context.Background(), Options{
				Target: Request{URL: srv.URL}, Concurrency: 2, MaxRequests: 4, Timeout: 100 * time.Millisecond, Client: client,
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := sum.TransportErrors["timeout"]; got != 4 {
				t.Errorf("timeouts %d, want 4 (errors: %v)", got, sum.TransportErrors)
			}
		})
	}
}

func TestRunCanceled(t *testing.T) {
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(2 * time.Millisecond) }))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	sum, err := Run(ctx, Options{Target: Request{URL: srv.URL}, Concurrency: 2, MaxRequests: HardMaxRequests, MaxDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if sum.StopReason != StopCanceled || sum.Pass {
		t.Errorf("stop reason %q pass %v, want canceled and not passing", sum.StopReason, sum.Pass)
	}
}

func TestRunSourceAndObserver(t *testing.T) {
	var log statusLog
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		log.add(code)
		w.WriteHeader(code)
	}))
	var mu sync.Mutex
	observed := map[int]int{}
	warm := 0
	sum, err := Run(context.Background(), Options{
		Source: func(seq uint64) Request {
			code := 200
			if seq%4 == 3 {
				code = 404
			}
			return Request{Method: http.MethodGet, URL: srv.URL + "/?code=" + strconv.Itoa(code), Tag: code}
		},
		Observe: func(req Request, o Outcome) {
			mu.Lock()
			defer mu.Unlock()
			if req.Tag.(int) != o.Status {
				t.Errorf("tag %v, status %d", req.Tag, o.Status)
			}
			observed[o.Status]++
			if o.Warmup {
				warm++
			}
		},
		Concurrency: 3, MaxRequests: 40, WarmupRequests: 4, Client: ClientNetHTTP,
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[int]int{200: 33, 404: 11}, observed); diff != "" {
		t.Errorf("observed statuses (-want +got):\n%s", diff)
	}
	if warm != 4 || sum.Requests != 40 || sum.WarmupRequests != 4 {
		t.Errorf("observed warm-up %d, measured %d, reported warm-up %d; want 4, 40, 4", warm, sum.Requests, sum.WarmupRequests)
	}
}

func TestRunProgressLines(t *testing.T) {
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(10 * time.Millisecond) }))
	tests := []struct {
		interactive bool
		wantCR      bool
	}{{false, false}, {true, true}}
	for _, tt := range tests {
		var out logtest.Buffer
		_, err := Run(context.Background(), Options{
			Name: "p", Target: Request{URL: srv.URL}, Concurrency: 2, MaxRequests: 40,
			Progress: &out, Interactive: tt.interactive, ProgressInterval: 20 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		s := out.String()
		if !strings.Contains(s, "[p] ") || !strings.Contains(s, "/40 req") || !strings.Contains(s, "remaining") {
			t.Errorf("interactive=%v: progress %q lacks name, count or remaining time", tt.interactive, s)
		}
		if got := strings.Contains(s, "\r"); got != tt.wantCR {
			t.Errorf("interactive=%v: carriage returns %v, want %v", tt.interactive, got, tt.wantCR)
		}
	}
}
