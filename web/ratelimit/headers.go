package ratelimit

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Header names as fasthttp normalizes them (HTTP field names are
// case-insensitive): set in this form, they skip normalizing on every
// request, and Fiber's c.Get / Response().Header.Peek still find them.
var (
	headerLimit      = []byte("X-Ratelimit-Limit")
	headerRemaining  = []byte("X-Ratelimit-Remaining")
	headerReset      = []byte("X-Ratelimit-Reset")
	headerPolicy     = []byte("Ratelimit-Policy")
	headerRateLimit  = []byte("Ratelimit")
	headerRetryAfter = []byte("Retry-After")
)

// SetHeaders writes the rate limit fields for decision d under policy p,
// and Retry-After when d is a refusal. Handlers that call a Limiter
// themselves (login throttling) use it to answer like the middleware.
//
// It runs on every limited request, so the two fields that repeat are
// formatted once: RateLimit-Policy per (policy, limit), X-RateLimit-Reset
// per second.
func SetHeaders(c *fiber.Ctx, p Policy, d Decision) {
	h := &c.Response().Header
	var buf [96]byte

	h.SetCanonical(headerLimit, strconv.AppendInt(buf[:0], int64(d.Limit), 10))
	h.SetCanonical(headerRemaining, strconv.AppendInt(buf[:0], int64(d.Remaining), 10))
	// Rounded up: a client that waits until then is not early.
	h.SetCanonical(headerReset, resetTexts.text(ceilUnixSecond(d.Reset)))
	h.SetCanonical(headerPolicy, policyField(p, d.Limit))

	// draft-ietf-httpapi-ratelimit-headers-11: structured-field lists; w and
	// t are whole seconds, sub-second windows round up to 1.
	b := appendSFString(buf[:0], p.Name)
	b = append(b, ";r="...)
	b = strconv.AppendInt(b, int64(d.Remaining), 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, ceilSeconds(d.ResetAfter), 10)
	h.SetCanonical(headerRateLimit, b)

	if !d.Allowed {
		h.SetCanonical(headerRetryAfter, strconv.AppendInt(buf[:0], max(1, ceilSeconds(d.RetryAfter)), 10))
	}
}

// policyFields holds the RateLimit-Policy value of each (policy, limit)
// seen: a handful (the configured policies and the per-token overrides in
// use), each formatted once.
var policyFields sync.Map // policyFieldKey → []byte

type policyFieldKey struct {
	name   string
	limit  int
	window time.Duration
}

func policyField(p Policy, limit int) []byte {
	k := policyFieldKey{p.Name, limit, p.Window}
	if v, ok := policyFields.Load(k); ok {
		return v.([]byte)
	}
	b := appendSFString(nil, p.Name)
	b = append(b, ";q="...)
	b = strconv.AppendInt(b, int64(limit), 10)
	b = append(b, ";w="...)
	b = strconv.AppendInt(b, max(1, ceilSeconds(p.Window)), 10)
	v, _ := policyFields.LoadOrStore(k, b)
	return v.([]byte)
}

// resetTexts caches X-RateLimit-Reset values (RFC 3339, UTC) by second, in
// a direct-mapped table: resets fall within one window of now, so with
// windows up to resetSlots seconds every reset a request can get is
// formatted once; longer windows only format more often.
var resetTexts resetTextCache

const resetSlots = 512

type resetTextCache [resetSlots]atomic.Pointer[resetText]

type resetText struct {
	unix int64
	text []byte
}

func (c *resetTextCache) text(unix int64) []byte {
	slot := &c[uint64(unix)%resetSlots]
	if t := slot.Load(); t != nil && t.unix == unix {
		return t.text
	}
	t := &resetText{unix: unix, text: time.Unix(unix, 0).UTC().AppendFormat(nil, time.RFC3339)}
	slot.Store(t)
	return t.text
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

// appendSFString appends s as a structured-field String (RFC 8941 3.3.3):
// quoted, with \ and " escaped; other bytes outside printable ASCII cannot
// be carried and become '?'.
func appendSFString(b []byte, s string) []byte {
	if s == "" {
		s = "default"
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			b = append(b, '\\', ch)
		case ch < 0x20 || ch > 0x7e:
			b = append(b, '?')
		default:
			b = append(b, ch)
		}
	}
	return append(b, '"')
}
