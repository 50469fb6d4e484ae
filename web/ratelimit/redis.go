package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// slidingLogScript is the Redis side of one decision, atomic because Redis
// runs a script alone. It keeps the same log as the memory store: a list
// of "stamp count" entries, oldest first (KEYS[1]), and their total
// (KEYS[2]), both expiring with the newest entry. Redis's own TIME is the
// clock, so instances whose clocks disagree still share one window.
//
// ARGV: limit, window (ms), granule (ms).
// Returns {allowed 0|1, total after, ms until the next unit returns, now ms}.
var slidingLogScript = redis.NewScript(`
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local granule = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function parse(e)
  local sp = string.find(e, ' ', 1, true)
  return tonumber(string.sub(e, 1, sp - 1)), tonumber(string.sub(e, sp + 1))
end

local total = tonumber(redis.call('GET', KEYS[2]))
if not total then
  -- The total went missing (evicted under maxmemory): recount.
  total = 0
  for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    local _, c = parse(e)
    total = total + c
  end
end

local oldest = nil
local oldestCount = 0
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local stamp, count = parse(head)
  if stamp + window > now then
    oldest, oldestCount = stamp, count
    break
  end
  total = total - count
  redis.call('LPOP', KEYS[1])
end
if not oldest then total = 0 end

if total < limit then
  local stamp = now
  local r = now % granule
  if r ~= 0 then stamp = now - r + granule end
  local tail = redis.call('LINDEX', KEYS[1], -1)
  local merged = false
  if tail then
    local ts, c = parse(tail)
    if ts == stamp then
      redis.call('LSET', KEYS[1], -1, string.format('%d %d', stamp, c + 1))
      merged = true
    end
  end
  if not merged then
    redis.call('RPUSH', KEYS[1], string.format('%d 1', stamp))
  end
  total = total + 1
  if not oldest then oldest = stamp end
  local ttl = stamp + window - now
  redis.call('SET', KEYS[2], total, 'PX', ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1, total, oldest + window - now, now}
end

-- Refused: nothing is recorded. One more request needs total-limit+1
-- units back (more than one only after the limit was lowered).
local need = total - limit + 1
if need <= oldestCount then
  return {0, total, oldest + window - now, now}
end
for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ts, c = parse(e)
  need = need - c
  if need <= 0 then return {0, total, ts + window - now, now} end
end
return {0, total, window, now}
`)

// RedisClient is what the Redis store needs of a go-redis client
// (*redis.Client, *redis.ClusterClient and redis.UniversalClient have it).
type RedisClient interface {
	redis.Scripter
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

	windowMs := p.Window.Milliseconds()
	// The braces are a Redis Cluster hash tag: both keys land in one slot.
	base := r.prefix + "{" + p.Name + ":" + key + "}"
	res, err := slidingLogScript.Run(ctx, r.client,
		[]string{base + ":log", base + ":n"},
		p.Limit, windowMs, granuleMillis(p.Limit, windowMs)).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 4 {
		return Decision{}, errors.New("ratelimit: redis: unexpected script reply")
	}
	now := res[3]
	return decisionAt(now, res[0] == 1, p.Limit, int(res[1]), now+res[2]), nil
}

// Ping reports whether Redis answers, within the store's timeout.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return r.client.Ping(ctx).Err()
}
