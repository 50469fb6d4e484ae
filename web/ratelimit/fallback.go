package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
)

// FailMode says what to do with a request while the shared store is down.
type FailMode int

const (
	// FailOpen serves decisions from the per-instance fallback store.
	FailOpen FailMode = iota
	// FailClosed refuses every limited request until the store is back.
	FailClosed
)

// ParseFailMode reads RATE_LIMIT_FAIL: "open" (also empty) or "closed".
func ParseFailMode(s string) (FailMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "open":
		return FailOpen, nil
	case "closed":
		return FailClosed, nil
	}
	return FailOpen, fmt.Errorf("rate limit fail mode %q must be open or closed", s)
}

// PrimaryStore is the shared store the Fallback watches.
type PrimaryStore interface {
	Limiter
	Ping(ctx context.Context) error
}

// FallbackConfig configures NewFallback.
type FallbackConfig struct {
	Primary  PrimaryStore // the shared store, usually *Redis
	Fallback Limiter      // used while Primary is down, usually *Memory
	Mode     FailMode
	// ProbeEvery is how often, while down, one Ping checks whether the
	// primary is back. Default 1s.
	ProbeEvery time.Duration
	Logger     *slog.Logger // default slog.Default()
	Metrics    *Metrics     // may be nil
	Now        func() time.Time
}

// Fallback is a Limiter that uses the primary store and, once it fails,
// the fallback store (or refusals under FailClosed) until a probe finds the
// primary answering again. It never returns the primary's errors.
type Fallback struct {
	cfg       FallbackConfig
	down      atomic.Bool
	lastProbe atomic.Int64 // unix ns
	probing   atomic.Bool
}

// NewFallback returns a Fallback over cfg.Primary and cfg.Fallback.
func NewFallback(cfg FallbackConfig) *Fallback {
	if cfg.ProbeEvery <= 0 {
		cfg.ProbeEvery = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Fallback{cfg: cfg}
}

// Down reports whether decisions currently bypass the primary store.
func (f *Fallback) Down() bool { return f.down.Load() }

// Allow implements Limiter.
func (f *Fallback) Allow(ctx context.Context, key string, p Policy) (Decision, error) {
	if !f.down.Load() {
		d, err := f.cfg.Primary.Allow(ctx, key, p)
		if err == nil || errors.Is(err, ErrInvalidPolicy) {
			return d, err
		}
		if ctx.Err() != nil {
			// The request went away; that says nothing about the store.
			return d, err
		}
		f.cfg.Metrics.storeError()
		f.markDown(err)
	} else {
		f.maybeProbe()
	}
	f.cfg.Metrics.servedByFallback()
	if f.cfg.Mode == FailClosed {
		return f.refusal(p), nil
	}
	return f.cfg.Fallback.Allow(ctx, key, p)
}

// Refund implements Refunder on the store that decides now.
func (f *Fallback) Refund(ctx context.Context, key string, p Policy, d Decision) error {
	var l Limiter = f.cfg.Primary
	if f.down.Load() {
		l = f.cfg.Fallback
	}
	if r, ok := l.(Refunder); ok {
		return r.Refund(ctx, key, p, d)
	}
	return nil
}

// refusal is the answer under FailClosed: come back when the next probe
// may have found the store.
func (f *Fallback) refusal(p Policy) Decision {
	wait := f.cfg.ProbeEvery
	return Decision{
		Limit:      p.Limit,
		ResetAfter: wait,
		Reset:      f.cfg.Now().Add(wait),
		RetryAfter: wait,
	}
}

func (f *Fallback) markDown(err error) {
	f.lastProbe.Store(f.cfg.Now().UnixNano())
	if f.down.CompareAndSwap(false, true) {
		f.cfg.Metrics.outageStarted()
		mode := "serving from the per-instance store"
		if f.cfg.Mode == FailClosed {
			mode = "refusing limited requests"
		}
		f.cfg.Logger.Warn("rate limit store unreachable, "+mode+" until it answers", "err", err)
	}
}

// maybeProbe starts one background Ping when the last is ProbeEvery old,
// so no request waits on a dead store.
func (f *Fallback) maybeProbe() {
	now := f.cfg.Now().UnixNano()
	last := f.lastProbe.Load()
	if now-last < int64(f.cfg.ProbeEvery) || !f.lastProbe.CompareAndSwap(last, now) {
		return
	}
	if !f.probing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer f.probing.Store(false)
		// Not tied to any request: the probe outlives the one that started it.
		if err := f.cfg.Primary.Ping(context.Background()); err != nil {
			f.cfg.Metrics.storeError()
			return
		}
		if f.down.CompareAndSwap(true, false) {
			f.cfg.Metrics.outageEnded()
			f.cfg.Logger.Info("rate limit store reachable again, back to shared limits")
		}
	}()
}
