package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMainExitCodes(t *testing.T) {
	var log statusLog
	ok := startServer(t, slowFailingHandler(0, 0, &log))
	failing := startServer(t, slowFailingHandler(0, 2, &log))
	slow := startServer(t, slowFailingHandler(30*time.Millisecond, 0, &log))
	dir := t.TempDir()
	strictConfig := filepath.Join(dir, "strict.json")
	if err := os.WriteFile(strictConfig, []byte(`{"max_avg_ms": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	badConfig := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badConfig, []byte(`{"max_avg": 5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"passing run", []string{ok.URL, "2", "20"}, ExitPass},
		{"half the requests fail", []string{failing.URL, "2", "20"}, ExitFail},
		{"failures tolerated by flag", []string{failing.URL, "2", "20", "--min-success-rate", "0.4"}, ExitPass},
		{"avg above a flag's bar", []string{slow.URL, "2", "10", "--max-avg", "5ms"}, ExitFail},
		{"avg above the config's bar", []string{slow.URL, "2", "10", "--config", strictConfig}, ExitFail},
		{"flag overrides config", []string{slow.URL, "2", "10", "--config", strictConfig, "--max-avg", "10s"}, ExitPass},
		{"expected 429 never came", []string{ok.URL, "1", "5", "--expect-429"}, ExitFail},
		{"cached endpoint without X-Cache", []string{ok.URL, "1", "5", "--cache"}, ExitFail},
		{"no URL", []string{}, ExitUsage},
		{"bad concurrency", []string{ok.URL, "zero"}, ExitUsage},
		{"too many arguments", []string{ok.URL, "1", "2", "3"}, ExitUsage},
		{"unknown flag", []string{ok.URL, "--frobnicate"}, ExitUsage},
		{"duration above the hard cap", []string{ok.URL, "--duration", "11m"}, ExitUsage},
		{"config with unknown key", []string{ok.URL, "--config", badConfig}, ExitUsage},
		{"missing config", []string{ok.URL, "--config", filepath.Join(dir, "nope.json")}, ExitUsage},
		{"remote target refused", []string{"http://example.com/", "1", "1"}, ExitUsage},
		{"bad header", []string{ok.URL, "-H", "no colon"}, ExitUsage},
		{"bad warmup", []string{ok.URL, "--warmup", "soon"}, ExitUsage},
		{"suite without base URL", []string{"suite"}, ExitUsage},
		{"suite with remote base URL", []string{"suite", "--base-url", "http://example.com"}, ExitUsage},
		{"help", []string{"-h"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(t, append(tt.args, "--quiet")...)
			if code != tt.want {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, stdout, stderr)
			}
		})
	}
}

func TestMainRefusesRemoteTargetWithoutFlag(t *testing.T) {
	code, _, stderr := runMain(t, "http://203.0.113.7:3000/api/events", "1", "1")
	if code != ExitUsage || !strings.Contains(stderr, "--allow-remote") {
		t.Errorf("exit %d, stderr %q; want %d and a hint at --allow-remote", code, stderr, ExitUsage)
	}
	// With the flag the same target is accepted; nothing is sent to it here,
	// a test generates load on loopback only.
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	opts, err := buildSingleOptions(fs, []string{"http://203.0.113.7:3000/api/events", "1", "1"}, singleFlags{allowRemote: true, timeout: time.Second, client: ClientFastHTTP})
	if err != nil || opts.Target.URL != "http://203.0.113.7:3000/api/events" {
		t.Errorf("with --allow-remote: %v, %+v", err, opts.Target)
	}
}

func TestMainSendsRequestAsConfigured(t *testing.T) {
	type seen struct{ Method, Path, Auth, Custom, ContentType, Body string }
	got := make(chan seen, 10)
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("X-Custom"), r.Header.Get("Content-Type"), string(b)}
	}))
	bodyFile := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(bodyFile, []byte(`{"quantity_to_consume":"1.5"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// Flags before, between and after the positionals.
	code, stdout, stderr := runMain(t, "--method", "put", srv.URL+"/p", "-H", "X-Custom: a b", "1", "--token", "s3cret", "2", "--body", "@"+bodyFile, "--quiet")
	if code != ExitPass {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := seen{"PUT", "/p", "Bearer s3cret", "a b", "application/json", `{"quantity_to_consume":"1.5"}`}
	for range 2 {
		if diff := cmp.Diff(want, <-got); diff != "" {
			t.Errorf("request (-want +got):\n%s", diff)
		}
	}
	if len(got) != 0 {
		t.Errorf("%d extra requests", len(got))
	}
}

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		args        []string
		wantPos     []string
		wantRate    float64
		wantVerbose bool
	}{
		{[]string{"u", "4", "100"}, []string{"u", "4", "100"}, 0, false},
		{[]string{"--rate", "5", "u", "4"}, []string{"u", "4"}, 5, false},
		{[]string{"u", "--rate=7", "4", "-v", "100"}, []string{"u", "4", "100"}, 7, true},
		{[]string{"u", "--", "-v", "4"}, []string{"u", "-v", "4"}, 0, false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		rate := fs.Float64("rate", 0, "")
		verbose := fs.Bool("v", false, "")
		pos, err := parseInterleaved(fs, tt.args)
		if err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if diff := cmp.Diff(tt.wantPos, pos); diff != "" || *rate != tt.wantRate || *verbose != tt.wantVerbose {
			t.Errorf("%q: positionals diff %s, rate %v, v %v", tt.args, diff, *rate, *verbose)
		}
	}
}

func TestMainWritesEveryFigureToJSON(t *testing.T) {
	var n atomic.Int64
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Remaining", "999")
		w.Header().Set("X-Cache", "HIT")
		switch {
		case i%10 == 0:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case i%10 == 5:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		time.Sleep(time.Millisecond)
	}))
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	code, stdout, stderr := runMain(t, srv.URL, "1", "100", "--warmup", "10", "--json", jsonPath, "--html", htmlPath, "--quiet")
	if code != ExitFail {
		t.Fatalf("exit %d, want %d (80%% success)\n%s\n%s", code, ExitFail, stdout, stderr)
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"name", "method", "url", "mode", "concurrency", "client", "started_at", "max_requests", "max_duration_seconds",
		"stop_reason", "elapsed_seconds", "warmup_requests", "requests", "succeeded", "failed", "rate_limited",
		"success_rate", "success_rate_excluding_rate_limited", "error_rate", "rate_limited_rate",
		"status_codes", "transport_errors", "throughput_rps", "bytes_received",
		"latency_ms.count", "latency_ms.min", "latency_ms.avg", "latency_ms.stddev", "latency_ms.max",
		"latency_ms.p50", "latency_ms.p90", "latency_ms.p95", "latency_ms.p99", "latency_ms.p99_9",
		"cache.hits", "cache.misses", "cache.hit_rate",
		"rate_limit.consistent", "rate_limit.min_limit", "rate_limit.max_limit", "rate_limit.remaining_out_of_range",
		"rate_limit.rate_limited_without_retry_after", "rate_limit.responses_with_headers",
		"latency_histogram", "timeline", "checks", "pass",
	} {
		if _, ok := lookup(m, path); !ok {
			t.Errorf("JSON lacks %s", path)
		}
	}
	var s Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	// Requests 11..110 were measured: 10 of them 429, 10 503.
	wantStatus := map[string]int64{"200": 80, "429": 10, "503": 10}
	if diff := cmp.Diff(wantStatus, s.StatusCodes); diff != "" {
		t.Errorf("status codes (-want +got):\n%s", diff)
	}
	if s.Requests != 100 || s.WarmupRequests != 10 || s.RateLimited != 10 || s.Failed != 10 || s.Succeeded != 80 {
		t.Errorf("counts: requests %d warm-up %d 429 %d failed %d succeeded %d", s.Requests, s.WarmupRequests, s.RateLimited, s.Failed, s.Succeeded)
	}
	if s.SuccessRate != 0.8 || s.ErrorRate != 0.1 || s.RateLimitedRate != 0.1 || s.SuccessRateExcludingRateLimited != round6(80.0/90) {
		t.Errorf("rates: %v %v %v %v", s.SuccessRate, s.ErrorRate, s.RateLimitedRate, s.SuccessRateExcludingRateLimited)
	}
	if s.Latency.Count != 90 || s.Latency.Min < 0.99 || s.Cache.Hits != 90 || s.Cache.HitRate != 1 || !s.RateLimit.Consistent {
		t.Errorf("latency %+v cache %+v rate limit %+v", s.Latency, s.Cache, s.RateLimit)
	}
	if s.Pass {
		t.Error("80% success passed in the JSON while the exit code said fail")
	}

	html, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	if n := strings.Count(page, "<svg"); n != 3 {
		t.Errorf("HTML has %d charts, want 3", n)
	}
	for _, forbidden := range []string{"<script", "src=", "<link", "@import"} {
		if strings.Contains(page, forbidden) {
			t.Errorf("HTML is not self-contained: has %q", forbidden)
		}
	}
}

// lookup follows a dotted path through decoded JSON objects.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, key := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}
