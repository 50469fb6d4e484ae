package ratelimit

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsRegistersPrefixedCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.observe("read", "a", true)
	m.observe("read", "a", false)
	m.storeError()
	m.outageStarted()
	m.servedByFallback()
	want := map[string]float64{
		`batchtrack_ratelimit_decisions_total{policy="read",result="allowed"}`: 1,
		`batchtrack_ratelimit_decisions_total{policy="read",result="refused"}`: 1,
		`batchtrack_ratelimit_fallback_active`:                                 1,
		`batchtrack_ratelimit_fallback_decisions_total`:                        1,
		`batchtrack_ratelimit_fallback_outages_total`:                          1,
		`batchtrack_ratelimit_store_errors_total`:                              1,
	}
	if diff := cmp.Diff(want, gathered(t, reg)); diff != "" {
		t.Fatalf("metrics (-want +got):\n%s", diff)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Fatal("registering twice: no error")
	}
	var nilMetrics *Metrics
	nilMetrics.observe("read", "a", false) // must not panic
	if got := nilMetrics.Snapshot(); !cmp.Equal(got, Snapshot{}) {
		t.Fatalf("nil snapshot %+v", got)
	}
}

func TestTopCallersBoundedAndRolling(t *testing.T) {
	clock := newFakeClock()
	top := newTopCallers(8, clock.Now)
	for i := 0; i < 50; i++ {
		top.add("heavy")
		top.add(fmt.Sprint("one-off-", i))
	}
	if n := len(top.cur); n > 8 {
		t.Fatalf("tracks %d callers, capacity 8", n)
	}
	got := top.top(1)
	if len(got) != 1 || got[0].Key != "heavy" || got[0].Refused < 50 {
		t.Fatalf("top = %+v, want heavy with at least 50", got)
	}

	clock.Advance(topCallersPeriod) // previous period still shown
	top.add("new")
	if got := top.top(10); len(got) < 2 || got[0].Key != "heavy" {
		t.Fatalf("one period later: %+v", got)
	}
	clock.Advance(2 * topCallersPeriod) // both periods gone
	if got := top.top(10); len(got) != 0 {
		t.Fatalf("three periods later: %+v", got)
	}
	clock.Advance(time.Second)
	top.add("fresh")
	if diff := cmp.Diff([]CallerRefusals{{Key: "fresh", Refused: 1}}, top.top(10)); diff != "" {
		t.Fatal(diff)
	}
}

// gathered flattens reg's metrics to "name{label="value",...}" -> value.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := f.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[name] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}
