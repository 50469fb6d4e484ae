package loadtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// ThresholdConfig is the JSON form of Thresholds (the --config file);
// absent keys leave the current value alone, 0 switches a threshold off.
//
//	{"min_success_rate": 0.95, "max_avg_ms": 200, "max_p95_ms": 500,
//	 "scenarios": {"events-read": {"min_cache_hit_rate": 0.8}}}
type ThresholdConfig struct {
	MinSuccessRate  *float64 `json:"min_success_rate,omitempty"`
	IgnoreRateLimit *bool    `json:"ignore_429,omitempty"`
	MaxAvgMs        *float64 `json:"max_avg_ms,omitempty"`
	MaxP95Ms        *float64 `json:"max_p95_ms,omitempty"`
	MaxP99Ms        *float64 `json:"max_p99_ms,omitempty"`
	MinCacheHitRate *float64 `json:"min_cache_hit_rate,omitempty"`
	Expect429       *bool    `json:"expect_429,omitempty"`
}

// FileConfig is the whole --config file: thresholds for every run, and
// per-scenario overrides for the suite.
type FileConfig struct {
	ThresholdConfig
	Scenarios map[string]ThresholdConfig `json:"scenarios,omitempty"`
}

// LoadConfig reads a --config file; unknown keys are an error so a typo
// cannot silently leave a threshold at its default.
func LoadConfig(path string) (FileConfig, error) {
	var fc FileConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return fc, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return fc, fmt.Errorf("config %s: %w", path, err)
	}
	if err := fc.ThresholdConfig.validate(); err != nil {
		return fc, fmt.Errorf("config %s: %w", path, err)
	}
	for name, sc := range fc.Scenarios {
		if err := sc.validate(); err != nil {
			return fc, fmt.Errorf("config %s: scenario %s: %w", path, name, err)
		}
	}
	return fc, nil
}

func (c ThresholdConfig) validate() error {
	for name, p := range map[string]*float64{"min_success_rate": c.MinSuccessRate, "min_cache_hit_rate": c.MinCacheHitRate} {
		if p != nil && (*p < 0 || *p > 1) {
			return fmt.Errorf("%s must be within 0..1, got %g", name, *p)
		}
	}
	for name, p := range map[string]*float64{"max_avg_ms": c.MaxAvgMs, "max_p95_ms": c.MaxP95Ms, "max_p99_ms": c.MaxP99Ms} {
		if p != nil && *p < 0 {
			return fmt.Errorf("%s must not be negative, got %g", name, *p)
		}
	}
	return nil
}

// Apply overlays the keys present in c onto t.
func (c ThresholdConfig) Apply(t Thresholds) Thresholds {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	if c.MinSuccessRate != nil {
		t.MinSuccessRate = *c.MinSuccessRate
	}
	if c.IgnoreRateLimit != nil {
		t.IgnoreRateLimited = *c.IgnoreRateLimit
	}
	if c.MaxAvgMs != nil {
		t.MaxAvg = ms(*c.MaxAvgMs)
	}
	if c.MaxP95Ms != nil {
		t.MaxP95 = ms(*c.MaxP95Ms)
	}
	if c.MaxP99Ms != nil {
		t.MaxP99 = ms(*c.MaxP99Ms)
	}
	if c.MinCacheHitRate != nil {
		t.MinCacheHitRate = *c.MinCacheHitRate
	}
	if c.Expect429 != nil {
		t.RequireRateLimited = *c.Expect429
	}
	return t
}
