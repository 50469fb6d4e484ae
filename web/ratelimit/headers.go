package ratelimit

import (
	"strconv"
	"strings"
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
// It runs on every limited request, so what repeats is formatted once:
// per (policy, limit) the limit, RateLimit-Policy and the start of
// RateLimit; per second X-RateLimit-Reset.
func SetHeaders(c *fiber.Ctx, p Policy, d Decision) {
	h := &c.Response().Header
	f := policyTextsFor(p, d.Limit)
	var buf [96]byte
	var remainingBuf [20]byte
	remaining := strconv.AppendInt(remainingBuf[:0], int64(d.Remaining), 10)

	h.SetCanonical(headerLimit, f.limitText)
	h.SetCanonical(headerRemaining, remaining)
	// Rounded up: a client that waits until then is not early.
	h.SetCanonical(headerReset, resetTexts.text(ceilUnixSecond(d.Reset)))
	h.SetCanonical(headerPolicy, f.policyText)

	// draft-ietf-httpapi-ratelimit-headers-11: structured-field lists; w and
	// t are whole seconds, sub-second windows round up to 1.
	b := append(buf[:0], f.rateLimitStart...)
	b = append(b, remaining...)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, ceilSeconds(d.ResetAfter), 10)
	h.SetCanonical(headerRateLimit, b)

	if !d.Allowed {
		h.SetCanonical(headerRetryAfter, strconv.AppendInt(buf[:0], max(1, ceilSeconds(d.RetryAfter)), 10))
	}
}

// policyTexts are the field values that depend only on the policy and the
// limit (which a token's override may change under the same name).
type policyTexts struct {
	name   string
	limit  int
	window time.Duration

	limitText      []byte // X-RateLimit-Limit
	policyText     []byte // RateLimit-Policy: "name";q=limit;w=seconds
	rateLimitStart []byte // RateLimit up to its remaining count: "name";r=
}

// policyFields holds the texts of each (policy, limit) seen: a handful
// (the configured policies and the per-token overrides in use). Readers
// scan a copy-on-write slice, cheaper than hashing a struct key for a
// sync.Map; past policyFieldsMax distinct entries new ones are formatted
// on each use instead of kept.
var policyFields policyFieldCache

const policyFieldsMax = 64

type policyFieldCache struct {
	entries atomic.Pointer[[]*policyTexts]
	mu      sync.Mutex // writers
}

func (t *policyTexts) is(name string, limit int, window time.Duration) bool {
	return t.limit == limit && t.window == window && t.name == name
}

func policyTextsFor(p Policy, limit int) *policyTexts {
	if e := policyFields.entries.Load(); e != nil {
		for _, t := range *e {
			if t.is(p.Name, limit, p.Window) {
				return t
			}
		}
	}
	t := &policyTexts{name: strings.Clone(p.Name), limit: limit, window: p.Window}
	t.limitText = strconv.AppendInt(nil, int64(limit), 10)
	t.policyText = appendSFString(nil, p.Name)
	t.rateLimitStart = append(append([]byte(nil), t.policyText...), ";r="...)
	t.policyText = append(t.policyText, ";q="...)
	t.policyText = append(t.policyText, t.limitText...)
	t.policyText = append(t.policyText, ";w="...)
	t.policyText = strconv.AppendInt(t.policyText, max(1, ceilSeconds(p.Window)), 10)
	policyFields.add(t)
	return t
}

func (c *policyFieldCache) add(t *policyTexts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old []*policyTexts
	if e := c.entries.Load(); e != nil {
		old = *e
	}
	if len(old) >= policyFieldsMax {
		return
	}
	for _, u := range old {
		if u.is(t.name, t.limit, t.window) {
			return // another request added it meanwhile
		}
	}
	next := append(append(make([]*policyTexts, 0, len(old)+1), old...), t)
	c.entries.Store(&next)
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
