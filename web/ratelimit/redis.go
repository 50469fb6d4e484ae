package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// logScript decides one request atomically (Redis runs a script alone) on
// Redis's own clock, so instances whose clocks disagree share one window.
// The log is a list of the Unix milliseconds of the allowed requests,
// oldest first, that expires one window after its newest.
//
// KEYS[1]: the log. ARGV: limit, window (ms), and, from tests only, now
// (ms) in place of Redis's TIME.
// Returns {allowed 0|1, total after, ms until the next unit returns, now}.
var logScript = redis.NewScript(`
local key, limit, window = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end
while true do
  local oldest = redis.call('LINDEX', key, 0)
  if not oldest or tonumber(oldest) + window > now then break end
  redis.call('LPOP', key)
end
local total = redis.call('LLEN', key)
if total < limit then
  redis.call('RPUSH', key, string.format('%d', now))
  redis.call('PEXPIRE', key, window)
  return {1, total + 1, tonumber(redis.call('LINDEX', key, 0)) + window - now, now}
end
-- Refused, and not recorded. One more request needs total-limit+1 units
-- back (more than one only after the limit was lowered).
return {0, total, tonumber(redis.call('LINDEX', key, total - limit)) + window - now, now}
`)

// RedisClient is what the Redis store needs of a go-redis client
// (*redis.Client; the app makes one from REDIS_URL).
type RedisClient interface {
	redis.Scripter
	LRem(ctx context.Context, key string, count int64, value any) *redis.IntCmd
	Ping(ctx context.Context) *redis.StatusCmd
}

// RedisConfig configures NewRedis. The zero value is usable.
type RedisConfig struct {
	// Prefix starts every key. Default "batchtrack:ratelimit:".
	Prefix string
	// Timeout bounds one decision, retries included. Default 100ms.
	Timeout time.Duration
}

// Redis is a Limiter whose state lives in Redis, shared by every instance.
type Redis struct {
	client  RedisClient
	prefix  string
	timeout time.Duration
	now     func() time.Time // tests only: replaces Redis's TIME
}

// NewRedis returns a store using client.
func NewRedis(client RedisClient, cfg RedisConfig) *Redis {
	if cfg.Prefix == "" {
		cfg.Prefix = "batchtrack:ratelimit:"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 100 * time.Millisecond
	}
	return &Redis{client: client, prefix: cfg.Prefix, timeout: cfg.Timeout}
}

// Allow implements Limiter with one script call.
func (r *Redis) Allow(ctx context.Context, key string, p Policy) (Decision, error) {
	if p.Off {
		return allowAll(), nil
	}
	if err := p.validate(); err != nil {
		return Decision{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	args := []any{p.Limit, p.Window.Milliseconds()}
	if r.now != nil {
		args = append(args, r.now().UnixMilli())
	}
	// Run sends EVALSHA and, when Redis has lost the script (a restart, a
	// SCRIPT FLUSH), EVAL with the source.
	res, err := logScript.Run(ctx, r.client, []string{r.prefix + p.Name + ":" + key}, args...).Int64Slice()
	if err == nil && len(res) != 4 {
		err = errors.New("unexpected script reply")
	}
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	now := res[3]
	return decisionAt(now, res[0] == 1, p.Limit, int(res[1]), now+res[2]), nil
}

// Refund implements Refunder: it removes the request's time from its log
// (the newest entry of that time; equal times are interchangeable).
func (r *Redis) Refund(ctx context.Context, key string, p Policy, d Decision) error {
	if p.Off || !d.Allowed {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.LRem(ctx, r.prefix+p.Name+":"+key, -1, d.loggedAt()).Err(); err != nil {
		return fmt.Errorf("ratelimit: redis: %w", err)
	}
	return nil
}

// Ping reports whether Redis answers, within the store's timeout.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return r.client.Ping(ctx).Err()
}
