package cache

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis layout, all under Config.KeyPrefix (P):
//
//	P epoch                        global generation (InvalidateAll, outage recovery)
//	P g:<ns>                       namespace generation
//	P f:<ns>:<id>                  key fence, bumped by Invalidate(key)
//	P v:<epoch>:<ns>:<gen>:<id>    value, SET with PX ttl
//
// <ns> is length-prefixed ("5:batch") so namespace and id cannot run into
// each other. Generations and fences are bumped to max(old+1, Redis TIME in
// µs), so a generation that Redis lost (restart, eviction, expiry) is
// re-seeded above every value it ever had: no value stored under an old one
// becomes reachable again. Values are stored with a compare-and-set on the
// epoch, generation and fence read before the load, so a load that began
// before an invalidation cannot store its result at all.
//
// The scripts build value keys from generations they read, so they are not
// Redis Cluster safe; a single primary (or Sentinel) is assumed.

const luaHelpers = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function current(k, ttl)
  local v = redis.call('GET', k)
  if not v then
    v = string.format('%.0f', now())
    if ttl == '0' then redis.call('SET', k, v) else redis.call('SET', k, v, 'PX', ttl) end
  end
  return v
end
local function bump(k, ttl)
  local n = tonumber(redis.call('GET', k) or '0') + 1
  local t = now()
  if t > n then n = t end
  local v = string.format('%.0f', n)
  if ttl == '0' then redis.call('SET', k, v) else redis.call('SET', k, v, 'PX', ttl) end
  return v
end
`

// KEYS: epoch, gen, fence. ARGV: gen ttl ms, "P v:", ":<ns>:", ":<id>".
// Returns {epoch, gen, fence[, value, pttl]}.
var readScript = redis.NewScript(luaHelpers + `
local e = current(KEYS[1], '0')
local g = current(KEYS[2], ARGV[1])
local f = redis.call('GET', KEYS[3]) or '0'
local vk = ARGV[2] .. e .. ARGV[3] .. g .. ARGV[4]
local v = redis.call('GET', vk)
if not v then return {e, g, f} end
return {e, g, f, v, redis.call('PTTL', vk)}
`)

// KEYS: epoch, gen, fence. ARGV: epoch, gen, fence, "P v:", ":<ns>:", ":<id>", value, ttl ms.
var storeScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[3] then return 0 end
redis.call('SET', ARGV[4] .. ARGV[1] .. ARGV[5] .. ARGV[2] .. ARGV[6], ARGV[7], 'PX', ARGV[8])
return 1
`)

// KEYS: gen. ARGV: gen ttl ms, channel, message.
var invalidateNamespaceScript = redis.NewScript(luaHelpers + `
bump(KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`)

// KEYS: epoch, gen, fence. ARGV: fence ttl ms, "P v:", ":<ns>:", ":<id>", channel, message.
var invalidateKeyScript = redis.NewScript(luaHelpers + `
bump(KEYS[3], ARGV[1])
local e = redis.call('GET', KEYS[1])
local g = redis.call('GET', KEYS[2])
if e and g then redis.call('DEL', ARGV[2] .. e .. ARGV[3] .. g .. ARGV[4]) end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return 1
`)

// KEYS: epoch. ARGV: channel, message.
var invalidateAllScript = redis.NewScript(luaHelpers + `
bump(KEYS[1], '0')
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
`)

// genTTL bounds how long Redis keeps the generation of a namespace nobody
// touches: losing one only costs misses (see the layout comment).
const genTTL = 24 * time.Hour

// Pub/sub message operations.
const (
	opNamespace = 'n'
	opKey       = 'k'
	opAll       = 'a'
)

type redisTier struct {
	client   *redis.Client
	prefix   string
	channel  string
	instance string // our own broadcasts are skipped: they were applied locally
	timeout  time.Duration
	fenceTTL time.Duration
	probe    time.Duration
	logger   *slog.Logger
	metrics  *Metrics

	up atomic.Bool
	// lostInvalidations is set when an invalidation could not reach Redis:
	// other instances never heard of it, so recovery bumps the epoch.
	lostInvalidations atomic.Bool
	wake              chan struct{}

	// onRemote applies another instance's invalidation; onReconnect drops
	// local copies after a gap in which broadcasts may have been missed.
	onRemote    func(op byte, key Key)
	onReconnect func()

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// readResult is what the read script found: the generations a load must
// store under, and the value if there is one.
type readResult struct {
	epoch, gen, fence string
	value             []byte
	found             bool
	pttl              time.Duration
}

func nsPart(ns string) string {
	return ":" + strconv.Itoa(len(ns)) + ":" + ns + ":"
}

func (r *redisTier) keys(key Key) []string {
	enc := strconv.Itoa(len(key.Namespace)) + ":" + key.Namespace
	return []string{r.prefix + "epoch", r.prefix + "g:" + enc, r.prefix + "f:" + enc + ":" + key.ID}
}

func (r *redisTier) start() {
	r.up.Store(true)
	r.metrics.redisEnabled.Store(true)
	r.metrics.redisUp.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	r.wg.Add(2)
	go func() { defer r.wg.Done(); r.listen(ctx) }()
	go func() { defer r.wg.Done(); r.watch(ctx) }()
}

func (r *redisTier) close() {
	r.stop()
	r.wg.Wait()
}

// call runs one bounded Redis operation and turns an infrastructure failure
// into an outage. It reports false when the result must not be used.
func (r *redisTier) call(ctx context.Context, op func(ctx context.Context) error) bool {
	if !r.up.Load() {
		return false
	}
	opCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	err := op(opCtx)
	if err == nil || errors.Is(err, redis.Nil) {
		return true
	}
	if ctx.Err() != nil {
		return false // the caller gave up; says nothing about Redis
	}
	r.metrics.redisErrors.Add(1)
	r.markDown(err)
	return false
}

func (r *redisTier) markDown(err error) {
	if r.up.CompareAndSwap(true, false) {
		r.metrics.redisUp.Store(false)
		r.metrics.redisOutages.Add(1)
		r.logger.Warn("cache: Redis unavailable, serving from the memory tier until it is back", "err", err)
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

func (r *redisTier) read(ctx context.Context, key Key) (readResult, bool) {
	var res readResult
	ok := r.call(ctx, func(ctx context.Context) error {
		vals, err := readScript.Run(ctx, r.client, r.keys(key),
			genTTL.Milliseconds(), r.prefix+"v:", nsPart(key.Namespace), ":"+key.ID).Slice()
		if err != nil {
			return err
		}
		if len(vals) < 3 {
			return errors.New("cache: unexpected reply from read script")
		}
		res.epoch, _ = vals[0].(string)
		res.gen, _ = vals[1].(string)
		res.fence, _ = vals[2].(string)
		if len(vals) == 5 {
			s, _ := vals[3].(string)
			res.value, res.found = []byte(s), true
			if ms, ok := vals[4].(int64); ok && ms > 0 {
				res.pttl = time.Duration(ms) * time.Millisecond
			}
		}
		return nil
	})
	return res, ok
}

// store writes a loaded value unless an invalidation happened since res was
// read. Its context is detached from callers: the load is already paid for.
func (r *redisTier) store(ctx context.Context, key Key, res readResult, value []byte, ttl time.Duration) {
	r.call(context.WithoutCancel(ctx), func(ctx context.Context) error {
		return storeScript.Run(ctx, r.client, r.keys(key),
			res.epoch, res.gen, res.fence, r.prefix+"v:", nsPart(key.Namespace), ":"+key.ID,
			value, max(ttl.Milliseconds(), 1)).Err()
	})
}

func (r *redisTier) message(op byte, key Key) string {
	return r.instance + "\x00" + string(op) + key.Namespace + "\x00" + key.ID
}

// invalidate runs an invalidation script; if Redis cannot take it, the
// invalidation is remembered as lost so that recovery covers it.
func (r *redisTier) invalidate(ctx context.Context, op byte, key Key) {
	ctx = context.WithoutCancel(ctx) // half-done invalidations help nobody
	run := func(ctx context.Context) error {
		switch op {
		case opNamespace:
			return invalidateNamespaceScript.Run(ctx, r.client, r.keys(key)[1:2],
				genTTL.Milliseconds(), r.channel, r.message(op, key)).Err()
		case opKey:
			return invalidateKeyScript.Run(ctx, r.client, r.keys(key),
				r.fenceTTL.Milliseconds(), r.prefix+"v:", nsPart(key.Namespace), ":"+key.ID,
				r.channel, r.message(op, key)).Err()
		default:
			return invalidateAllScript.Run(ctx, r.client, r.keys(key)[:1],
				r.channel, r.message(op, key)).Err()
		}
	}
	if !r.up.Load() {
		r.deliverWhileDown(ctx, run)
	} else if r.call(ctx, run) {
		return
	}
	// Delivered or not, recovery starts everything over once. Set the flag
	// before looking at up again: either recovery sees the flag, or we see
	// that Redis is back and deliver the invalidation.
	r.lostInvalidations.Store(true)
	if r.up.Load() {
		r.call(ctx, run)
	}
}

// deliverWhileDown still hands an invalidation to Redis during an outage:
// another instance may find Redis back before this one does and would read
// what this write made stale until our recovery bumped the epoch. A paused
// or overloaded Redis runs it when it resumes, before later commands.
func (r *redisTier) deliverWhileDown(ctx context.Context, run func(ctx context.Context) error) {
	opCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	_ = run(opCtx)
}

// watch probes Redis during an outage and brings the tier back.
func (r *redisTier) watch(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
		for !r.up.Load() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(r.probe):
			}
			pctx, cancel := context.WithTimeout(ctx, r.timeout)
			err := r.client.Ping(pctx).Err()
			cancel()
			if err != nil {
				continue
			}
			r.recover(ctx)
		}
	}
}

func (r *redisTier) recover(ctx context.Context) {
	// Local copies may be stale: broadcasts were missed during the outage.
	r.onReconnect()
	r.up.Store(true)
	r.metrics.redisUp.Store(true)
	if r.lostInvalidations.Swap(false) {
		// Which namespaces this instance failed to invalidate is not worth
		// tracking: outages are rare, so everything starts over once.
		r.invalidate(ctx, opAll, Key{})
	}
	r.logger.Info("cache: Redis is back, sharing resumed")
}

// listen applies other instances' invalidations. go-redis reconnects and
// resubscribes by itself; every subscription confirmation after the first
// means a gap in which messages may have been lost.
func (r *redisTier) listen(ctx context.Context) {
	ps := r.client.Subscribe(ctx, r.channel)
	// A blocked receive ignores ctx; closing the PubSub is what ends it.
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		_ = ps.Close()
	}()
	subscribed := false
	backoff := 50 * time.Millisecond
	for {
		msg, err := ps.ReceiveTimeout(ctx, 5*time.Second)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var netErr interface{ Timeout() bool }
			if errors.As(err, &netErr) && netErr.Timeout() {
				_ = ps.Ping(ctx) // detects a dead connection; the pong arrives as a message
				continue
			}
			r.markDown(err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if subscribed {
					r.onReconnect()
				}
				subscribed = true
			}
		case *redis.Message:
			r.apply(m.Payload)
		}
	}
}

func (r *redisTier) apply(payload string) {
	sender, rest, ok := strings.Cut(payload, "\x00")
	if !ok || sender == r.instance || rest == "" {
		return
	}
	op := rest[0]
	ns, id, _ := strings.Cut(rest[1:], "\x00")
	r.onRemote(op, Key{Namespace: ns, ID: id})
}
