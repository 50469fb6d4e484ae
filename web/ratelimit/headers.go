package ratelimit

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// SetHeaders writes the rate limit fields for decision d under policy p,
// and Retry-After when d is a refusal. Handlers that call a Limiter
// themselves (login throttling) use it to answer like the middleware.
func SetHeaders(c *fiber.Ctx, p Policy, d Decision) {
	limit, remaining := strconv.Itoa(d.Limit), strconv.Itoa(d.Remaining)
	c.Set("X-RateLimit-Limit", limit)
	c.Set("X-RateLimit-Remaining", remaining)
	// Rounded up: a client that waits until then is not early.
	c.Set("X-RateLimit-Reset", time.Unix(ceilUnixSecond(d.Reset), 0).UTC().Format(time.RFC3339))

	// draft-ietf-httpapi-ratelimit-headers: structured-field lists; w and t
	// are whole seconds, sub-second windows round up to 1.
	name := sfString(p.Name)
	c.Set("RateLimit-Policy", name+";q="+limit+";w="+strconv.FormatInt(max(1, ceilSeconds(p.Window)), 10))
	c.Set("RateLimit", name+";r="+remaining+";t="+strconv.FormatInt(ceilSeconds(d.ResetAfter), 10))
	if !d.Allowed {
		c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(max(1, ceilSeconds(d.RetryAfter)), 10))
	}
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// ceilUnixSecond is t in Unix seconds, rounded up.
func ceilUnixSecond(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() != 0 {
		s++
	}
	return s
}

// sfString is s as a structured-field String (RFC 8941 3.3.3): quoted,
// with \ and " escaped; bytes outside printable ASCII become '?'.
func sfString(s string) string {
	if s == "" {
		s = "default"
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch < 0x20 || ch > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(ch)
		}
	}
	b.WriteByte('"')
	return b.String()
}
