package web

import (
	"math"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"batchtrack/web/ratelimit"
)

// RateLimits configure the per-route API policies (api.md).
type RateLimits struct {
	Limiter  ratelimit.Limiter
	Policies map[string]ratelimit.Policy // nil: no limits (tests)
	Metrics  *ratelimit.Metrics
}

// apiPolicy names the policy of an API request: writes by what they
// change, reads all alike.
func apiPolicy(method, path string) string {
	if method == fiber.MethodGet || method == fiber.MethodHead || method == fiber.MethodOptions {
		return ratelimit.PolicyRead
	}
	switch {
	case strings.HasSuffix(path, "/consume") || path == "/api/consumptions":
		return ratelimit.PolicyConsume
	case path == "/api/events" || strings.HasPrefix(path, "/epcis/"):
		return ratelimit.PolicyEventsWrite
	case path == "/api/products" || strings.HasPrefix(path, "/api/locations") || strings.HasPrefix(path, "/api/parties"):
		return ratelimit.PolicyMasterWrite
	}
	return ratelimit.PolicyBatchesWrite
}

// limitAPI is the rate-limit middleware of /api; a pass-through when no
// policies are configured.
func (s *Server) limitAPI() fiber.Handler {
	rl := s.deps.RateLimits
	if rl.Policies == nil || rl.Limiter == nil {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return ratelimit.Middleware(ratelimit.MiddlewareConfig{
		Limiter: rl.Limiter,
		Metrics: rl.Metrics,
		Logger:  s.deps.Logger,
		KeyFor:  s.callerKey,
		// A write refused for validation wrote nothing: its unit goes back
		// to the caller's write budget. The decision is still taken first,
		// so concurrent writes never pass the limit.
		// (The EPCIS binding says 400 for what the API calls 422.)
		GiveBack: func(c *fiber.Ctx, err error) bool {
			if apiPolicy(c.Method(), c.Path()) == ratelimit.PolicyRead {
				return false
			}
			status := c.Response().StatusCode()
			if err != nil {
				status = toProblem(err, 0).Status
			}
			return status == fiber.StatusUnprocessableEntity || (isEPCIS(c) && status == fiber.StatusBadRequest)
		},
		PolicyFor: func(c *fiber.Ctx) (ratelimit.Policy, bool) {
			name := apiPolicy(c.Method(), c.Path())
			if p, ok := tokenPolicy(c, name); ok {
				return p, true
			}
			p, ok := rl.Policies[name]
			return p, ok
		},
	})
}

// callerKey identifies the caller for idempotency keys and rate limits:
// the API token, else the session user, else the client address (from
// X-Forwarded-For only behind a trusted proxy).
func (s *Server) callerKey(c *fiber.Ctx) string {
	if cl := callerOf(c); cl != nil && cl.key != "" {
		return cl.key
	}
	return "ip:" + ratelimit.ClientIP(c, s.deps.TrustedProxies)
}

// rateLimitedProblem is a refusal as the client sees it.
func rateLimitedProblem(e *ratelimit.RefusedError) *Problem {
	secs := int(math.Ceil(e.Decision.RetryAfter.Seconds()))
	p := problemError(fiber.StatusTooManyRequests, "rate-limited", "Too many requests",
		"You have sent too many requests; retry in "+plural(secs, "second")+".")
	p.RetryAfter = max(secs, 1)
	return p
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// tokenPolicy is the limit an admin set for the request's API token (a
// service account may get more than people do), if any.
func tokenPolicy(c *fiber.Ctx, name string) (ratelimit.Policy, bool) {
	cl := callerOf(c)
	if cl == nil || cl.token == nil || cl.token.RateLimits[name] == "" {
		return ratelimit.Policy{}, false
	}
	p, err := ratelimit.ParsePolicy(cl.token.RateLimits[name])
	if err != nil {
		return ratelimit.Policy{}, false // checked when set; a bad one keeps the default
	}
	p.Name = name
	return p, true
}
