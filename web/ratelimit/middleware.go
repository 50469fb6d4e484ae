package ratelimit

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// MiddlewareConfig configures Middleware.
type MiddlewareConfig struct {
	Limiter Limiter
	// PolicyFor picks the request's policy; false (or an Off policy) means
	// the request is not limited. It may return a per-caller policy (a
	// service account's override) as long as the Name stays the same.
	PolicyFor func(c *fiber.Ctx) (Policy, bool)
	// KeyFor names the caller: the app passes token, else session user,
	// else client IP. It should not be a secret (the dashboard lists the
	// most refused callers): use a token's id, not the token. Default: the
	// socket's IP address.
	KeyFor func(c *fiber.Ctx) string
	// FailClosed refuses requests when the Limiter returns an error;
	// otherwise they proceed unlimited. A Fallback never returns store
	// errors: its own Mode decides.
	FailClosed bool
	// GiveBack, when set, is asked after the handler (err is what it
	// returned) whether the request did nothing that should count, such as
	// a write refused for validation: if so, and the Limiter is a
	// Refunder, its unit of quota is given back.
	GiveBack func(c *fiber.Ctx, err error) bool
	Metrics  *Metrics     // may be nil
	Logger   *slog.Logger // default slog.Default()
}

// RefusedError is what the middleware returns for a refused request, after
// setting the rate limit headers and Retry-After: the app's error handler
// renders it (problem+json, a page, a toast) with status 429. It unwraps to
// fiber.ErrTooManyRequests, so Fiber's default handler also answers 429.
type RefusedError struct {
	Policy   string
	Decision Decision
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("rate limit %q exceeded: retry in %s", e.Policy, e.Decision.RetryAfter)
}

func (e *RefusedError) Unwrap() error { return fiber.ErrTooManyRequests }

// failedClosedWait is the Retry-After for refusals made because the
// Limiter failed: about when a store outage could be noticed as over.
const failedClosedWait = time.Second

// Middleware limits requests per MiddlewareConfig. Limited responses carry
// X-RateLimit-Limit/-Remaining/-Reset and the IETF RateLimit and
// RateLimit-Policy fields, refused ones also Retry-After.
func Middleware(cfg MiddlewareConfig) fiber.Handler {
	if cfg.Limiter == nil || cfg.PolicyFor == nil {
		panic("ratelimit: Middleware needs a Limiter and a PolicyFor")
	}
	if cfg.KeyFor == nil {
		cfg.KeyFor = func(c *fiber.Ctx) string { return ClientIP(c, nil) }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var lastErrLog atomic.Int64
	return func(c *fiber.Ctx) error {
		p, limited := cfg.PolicyFor(c)
		if !limited || p.Off {
			return c.Next()
		}
		key := cfg.KeyFor(c)
		d, err := cfg.Limiter.Allow(c.UserContext(), key, p)
		if err != nil {
			cfg.Metrics.storeError()
			// One line a minute is enough to notice; the metric counts all.
			if now, last := time.Now().UnixNano(), lastErrLog.Load(); now-last > int64(time.Minute) && lastErrLog.CompareAndSwap(last, now) {
				cfg.Logger.Error("rate limiter failed", "policy", p.Name, "fail_closed", cfg.FailClosed, "err", err)
			}
			if !cfg.FailClosed {
				return c.Next()
			}
			d = Decision{Limit: p.Limit, ResetAfter: failedClosedWait, Reset: time.Now().Add(failedClosedWait), RetryAfter: failedClosedWait}
		}
		SetHeaders(c, p, d)
		cfg.Metrics.observe(p.Name, key, d.Allowed)
		if !d.Allowed {
			return &RefusedError{Policy: p.Name, Decision: d}
		}
		err = c.Next()
		if cfg.GiveBack != nil && cfg.GiveBack(c, err) {
			if r, ok := cfg.Limiter.(Refunder); ok && r.Refund(c.UserContext(), key, p, d) == nil {
				d.Remaining = min(d.Remaining+1, d.Limit)
				SetHeaders(c, p, d)
			}
		}
		return err
	}
}
