// Package ratelimit limits requests per caller with an exact sliding log:
// each (policy, caller) keeps the times of the requests it was allowed in
// the last window, and a request is allowed while fewer than the limit lie
// in it. Refused requests are not recorded, so retrying costs a caller
// nothing and Retry-After is exact: when enough of the logged requests
// have left the window for one more.
//
// Two stores implement Limiter: Memory (one instance; bounded, swept) and
// Redis (shared by instances; one Lua script call per decision, on Redis's
// clock). Fallback rides out Redis outages; Middleware answers with the
// X-RateLimit-* and IETF RateLimit fields; Metrics counts decisions.
package ratelimit

import (
	"context"
	"errors"
	"time"
)

// Decision is the answer to one request.
type Decision struct {
	Allowed bool
	// Limit is the policy's quota; Remaining what is left of it in the
	// current window after this request.
	Limit, Remaining int
	// ResetAfter is when, from now, the next unit of quota comes back (the
	// oldest request in the window leaves it); Reset is that moment on the
	// store's clock. For a refusal it equals RetryAfter.
	ResetAfter time.Duration
	Reset      time.Time
	// RetryAfter is zero when allowed; when refused, the exact wait after
	// which the same request is allowed (refusals consume no quota).
	RetryAfter time.Duration
}

// Limiter decides whether the caller identified by key may make one more
// request under policy p, and counts it if so.
type Limiter interface {
	Allow(ctx context.Context, key string, p Policy) (Decision, error)
}

// Refunder is a Limiter that can give back the unit of quota an allowed
// decision took, for a request that turned out to do nothing (a write
// refused for validation).
type Refunder interface {
	Refund(ctx context.Context, key string, p Policy, d Decision) error
}

// loggedAt is when (Unix ms, on the store's clock) an allowed request was
// logged: Reset and ResetAfter are both taken from that moment.
func (d Decision) loggedAt() int64 { return d.Reset.Add(-d.ResetAfter).UnixMilli() }

// ErrInvalidPolicy is returned for a policy no store can enforce (a limit
// below 1, a window below 1ms).
var ErrInvalidPolicy = errors.New("ratelimit: invalid policy")

func allowAll() Decision { return Decision{Allowed: true} }

// decisionAt builds the Decision for a log's answer at now (Unix ms):
// total requests in the window after this one, and when (Unix ms) the
// next unit of quota returns.
func decisionAt(now int64, allowed bool, limit, total int, resetAt int64) Decision {
	d := Decision{
		Allowed:    allowed,
		Limit:      limit,
		Remaining:  max(0, limit-total),
		ResetAfter: time.Duration(resetAt-now) * time.Millisecond,
		Reset:      time.UnixMilli(resetAt),
	}
	if !allowed {
		d.RetryAfter = d.ResetAfter
	}
	return d
}
