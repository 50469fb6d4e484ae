package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText prints the readable summary table of one run.
func WriteText(w io.Writer, s Summary) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	title := s.Name
	if title == "" {
		title = "loadtest"
	}
	fmt.Fprintf(tw, "== %s: %s %s\n", title, s.Method, s.URL)
	mode := fmt.Sprintf("closed loop, %d workers", s.Concurrency)
	if s.Mode == "open" {
		mode = fmt.Sprintf("open loop, %g req/s, up to %d in flight", s.Rate, s.Concurrency)
	}
	fmt.Fprintf(tw, "mode\t%s (client %s)\n", mode, s.Client)
	fmt.Fprintf(tw, "stopped by\t%s after %.2fs (limits: %d requests, %gs); warm-up excluded: %d\n",
		s.StopReason, s.ElapsedSeconds, s.MaxRequests, s.MaxDurationSeconds, s.WarmupRequests)
	fmt.Fprintf(tw, "requests\t%d\n", s.Requests)
	fmt.Fprintf(tw, "succeeded\t%d (%.2f%%; %.2f%% without 429s)\n", s.Succeeded, s.SuccessRate*100, s.SuccessRateExcludingRateLimited*100)
	fmt.Fprintf(tw, "errors\t%d (%.2f%%)\n", s.Failed, s.ErrorRate*100)
	fmt.Fprintf(tw, "rate limited (429)\t%d (%.2f%%)\n", s.RateLimited, s.RateLimitedRate*100)
	fmt.Fprintf(tw, "status codes\t%s\n", formatCounts(s.StatusCodes))
	if len(s.TransportErrors) > 0 {
		fmt.Fprintf(tw, "transport errors\t%s\n", formatCounts(s.TransportErrors))
	}
	fmt.Fprintf(tw, "throughput\t%.1f req/s, %d bytes received\n", s.ThroughputRPS, s.BytesReceived)
	l := s.Latency
	fmt.Fprintf(tw, "latency (ms)\tavg %.3f  min %.3f  max %.3f  stddev %.3f\n", l.Avg, l.Min, l.Max, l.StdDev)
	fmt.Fprintf(tw, "percentiles (ms)\tP50 %.3f  P90 %.3f  P95 %.3f  P99 %.3f  P99.9 %.3f\n", l.P50, l.P90, l.P95, l.P99, l.P999)
	if c := s.Cache; c.Hits+c.Misses > 0 {
		fmt.Fprintf(tw, "cache (X-Cache)\t%.2f%% hits (%d HIT, %d MISS, %d other, %d absent)\n", c.HitRate*100, c.Hits, c.Misses, c.Other, c.Absent)
	}
	if r := s.RateLimit; r.WithHeaders > 0 {
		verdict := "consistent"
		if !r.Consistent {
			verdict = "INCONSISTENT"
		}
		fmt.Fprintf(tw, "rate-limit headers\t%s: %s; on %d responses, missing on %d\n", verdict, rateLimitDetail(r), r.WithHeaders, r.WithoutHeaders)
	}
	if p := s.Pacing; p != nil {
		fmt.Fprintf(tw, "pacing\t%d sends later than %gms, max delay %.3fms\n", p.LateSends, p.LateThresholdMs, p.MaxSendDelayMs)
	}
	for _, c := range s.Checks {
		fmt.Fprintf(tw, "check\t%s\n", c)
	}
	verdict := "PASS"
	if !s.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(tw, "result\t%s\n", verdict)
	return tw.Flush()
}

func formatCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, errA := strconv.Atoi(keys[i])
		b, errB := strconv.Atoi(keys[j])
		if errA == nil && errB == nil {
			return a < b
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// writeJSONFile writes v indented; the file is replaced only once complete.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
