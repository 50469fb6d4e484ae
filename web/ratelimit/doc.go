// Package ratelimit limits requests per caller with a sliding window: a
// Limiter with a memory store (sharded, bounded, swept) and a Redis store
// (one atomic Lua script per decision, Redis's TIME as the clock), a
// Fallback that rides out Redis outages, Fiber middleware that answers
// with the X-RateLimit-* and IETF RateLimit fields, and metrics.
//
// # Algorithm: sliding log
//
// Each (policy, caller) keeps a log of the requests it was allowed in the
// last window, as (millisecond, count) entries, and their total. A request
// is allowed while the total is below the limit; refused requests are not
// recorded, so they cost the caller nothing, and Retry-After is exact: the
// moment the oldest entry leaves the window (oldest + window - now).
//
// Up to maxLogEntries (128) requests per window the log is exact at
// millisecond resolution: never more than Limit requests in any window
// (times truncated to the millisecond, so a slot may return up to 1ms
// early). Above that, to bound memory (a limit of 10000 would otherwise
// mean 10000 timestamps per caller), requests are grouped into
// window/128-long granules stamped with the granule's end: the limit is
// still never exceeded in any window, and Retry-After still lets the
// caller through when it says, but a slot comes back up to one granule
// (0.8% of the window: 469ms of a minute) later than an exact log would
// give it. Either way a log holds at most min(Limit, 130) entries.
//
// See README.md for the API, the headers and the failure behaviour.
package ratelimit
