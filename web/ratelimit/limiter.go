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

// ErrInvalidPolicy is returned for a policy no store can enforce (a limit
// below 1, a window below 1ms).
var ErrInvalidPolicy = errors.New("ratelimit: invalid policy")

// maxLogEntries bounds the per-key log. Up to that many requests per window
// the log keeps one entry per distinct millisecond, which is exact. Above
// it, requests are grouped into window/maxLogEntries slices ("granules")
// and each counts as if made at the end of its granule: a unit of quota may
// come back up to one granule late, never early.
const maxLogEntries = 128

// granuleMillis is the time resolution of the log for p, in milliseconds.
func granuleMillis(limit int, windowMillis int64) int64 {
	if limit <= maxLogEntries {
		return 1
	}
	return max(1, (windowMillis+maxLogEntries-1)/maxLogEntries)
}

// stampFor rounds now up to the end of its granule.
func stampFor(nowMillis, granule int64) int64 {
	if granule == 1 {
		return nowMillis
	}
	return (nowMillis + granule - 1) / granule * granule
}

func allowAll() Decision { return Decision{Allowed: true} }
