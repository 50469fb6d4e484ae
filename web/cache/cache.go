// Package cache provides a TTL cache of byte values grouped in namespaces,
// with O(1) invalidation by namespace generations, an in-process tier on
// otter and an optional Redis tier shared between instances. See README.md
// for the consistency guarantees.
package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/redis/go-redis/v9"
)

// Key names one cached value. Namespace groups keys that are invalidated
// together ("events", "batches", "batch:{uuid}", "overview"); its kind, the
// part before the first ':', is the metrics label.
type Key struct {
	Namespace string
	ID        string
}

// Config configures a Cache. The zero value of every field but Enabled has
// a usable default.
type Config struct {
	// Enabled false makes GetOrLoad call the loader every time (CACHE_TTL=0,
	// benchmark baselines).
	Enabled bool
	// MaxBytes bounds the memory tier by weight: keys, values and a fixed
	// per-entry overhead. Default 64 MiB.
	MaxBytes int64
	// Redis, when set, shares values, generations and invalidations with
	// other instances.
	Redis *redis.Client
	// LocalTTL, with Redis, is how long a value read from Redis may be
	// served from this instance's memory: the cross-instance staleness
	// bound. 0 turns the local tier off (every read asks Redis; bound zero).
	// Without Redis it is unused: the memory tier is the cache.
	LocalTTL time.Duration
	// KeyPrefix prefixes every Redis key and the pub/sub channel.
	// Default "batchtrack:cache:".
	KeyPrefix string
	// RedisTimeout bounds each Redis operation; past it the cache treats
	// Redis as down. Default 250ms.
	RedisTimeout time.Duration
	// ProbeInterval is how often Redis is pinged during an outage.
	// Default 500ms.
	ProbeInterval time.Duration
	// MaxLoadTime bounds a loader call (the shared load outlives the callers
	// that started it). Default 30s.
	MaxLoadTime time.Duration
	// MaxNamespaces bounds the namespaces whose generation the memory tier
	// remembers; past it all are forgotten at once (costing one miss each).
	// Default 100_000.
	MaxNamespaces int
	// Metrics receives the counters; nil creates unregistered ones,
	// readable with Cache.Snapshot.
	Metrics *Metrics
	// Logger defaults to slog.Default().
	Logger *slog.Logger

	clock   otter.Clock // tests only: drives memory-tier expiry
	channel string      // tests only: overrides the pub/sub channel
}

// Cache is safe for concurrent use. Values returned by GetOrLoad are shared
// with other callers and must not be modified.
type Cache struct {
	enabled  bool
	local    *localTier
	localTTL time.Duration // Redis mode: cap on local entries; 0 = no local tier
	redis    *redisTier
	flights  *flightGroup
	metrics  *Metrics
}

// New returns a Cache. With cfg.Redis set it starts two goroutines (pub/sub
// listener, outage probe) that Close stops. An unreachable Redis is not an
// error: the cache starts in outage mode and recovers when Redis answers.
func New(cfg Config) (*Cache, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 64 << 20
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "batchtrack:cache:"
	}
	if cfg.RedisTimeout <= 0 {
		cfg.RedisTimeout = 250 * time.Millisecond
	}
	if cfg.ProbeInterval <= 0 {
		cfg.ProbeInterval = 500 * time.Millisecond
	}
	if cfg.MaxLoadTime <= 0 {
		cfg.MaxLoadTime = 30 * time.Second
	}
	if cfg.MaxNamespaces <= 0 {
		cfg.MaxNamespaces = 100_000
	}
	if cfg.LocalTTL < 0 {
		return nil, errors.New("cache: LocalTTL must not be negative")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics, _ = NewMetrics(nil)
	}
	// A fence must outlive every load that started before it; loads end at
	// MaxLoadTime, the slack covers the store round trip and clock drift.
	fenceTTL := 2*cfg.MaxLoadTime + 10*time.Second
	local, err := newLocalTier(cfg.MaxBytes, cfg.MaxNamespaces, fenceTTL, cfg.clock, cfg.Metrics)
	if err != nil {
		return nil, err
	}
	c := &Cache{
		enabled:  cfg.Enabled,
		local:    local,
		localTTL: cfg.LocalTTL,
		flights:  newFlightGroup(cfg.MaxLoadTime),
		metrics:  cfg.Metrics,
	}
	if cfg.channel == "" {
		cfg.channel = cfg.KeyPrefix + "invalidations"
	}
	if cfg.Redis != nil && cfg.Enabled {
		var id [8]byte
		_, _ = rand.Read(id[:])
		c.redis = &redisTier{
			client:   cfg.Redis,
			prefix:   cfg.KeyPrefix,
			channel:  cfg.channel,
			instance: hex.EncodeToString(id[:]),
			timeout:  cfg.RedisTimeout,
			fenceTTL: fenceTTL,
			probe:    cfg.ProbeInterval,
			logger:   cfg.Logger,
			metrics:  cfg.Metrics,
			wake:     make(chan struct{}, 1),
			onRemote: func(op byte, key Key) {
				switch op {
				case opNamespace:
					local.invalidateNamespace(key.Namespace)
				case opKey:
					local.invalidateKey(key)
				case opAll:
					local.invalidateAll()
				}
			},
			onReconnect: local.invalidateAll,
		}
		c.redis.start()
	}
	return c, nil
}

// Close stops the background goroutines. It does not close cfg.Redis.
func (c *Cache) Close() error {
	if c.redis != nil {
		c.redis.close()
	}
	c.local.close()
	return nil
}

// Snapshot returns the counters of the cache's Metrics.
func (c *Cache) Snapshot() Snapshot { return c.metrics.Snapshot() }

// GetOrLoad returns the value cached under key, or calls loader, caches its
// result for ttl and returns it; hit reports whether the value came from the
// cache. Concurrent misses on one key share one loader call. A loader error
// is returned and nothing is cached. ttl <= 0 means do not cache.
//
// A read that starts after an Invalidate* call returned never sees data
// cached before it, on this instance; on other instances after at most
// Config.LocalTTL (see README.md). Redis failures are never returned.
func (c *Cache) GetOrLoad(ctx context.Context, key Key, ttl time.Duration, loader func(ctx context.Context) ([]byte, error)) (value []byte, hit bool, err error) {
	st := c.local.state(key.Namespace)
	stats := st.stats
	if !c.enabled || ttl <= 0 {
		stats.misses.Add(1)
		v, err := c.load(ctx, stats, loader)
		return v, false, err
	}
	if c.redis == nil {
		return c.getLocal(ctx, key, st, ttl, loader)
	}

	localOn := c.localTTL > 0
	var tok token
	if localOn {
		tok = c.local.begin(st)
		if v, ok := c.local.get(st, key); ok {
			stats.hits.Add(1)
			return v, true, nil
		}
	}
	if res, ok := c.redis.read(ctx, key); ok {
		if res.found {
			if localOn {
				lttl := c.localTTL
				if res.pttl > 0 {
					lttl = min(lttl, res.pttl)
				}
				c.local.put(key, tok, res.value, lttl)
			}
			stats.hits.Add(1)
			return res.value, true, nil
		}
		stats.misses.Add(1)
		// The flight key holds the generations read: a reader that starts
		// after an invalidation reads new ones and cannot join an old load.
		fk := "r" + res.epoch + "|" + res.gen + "|" + res.fence + nsPart(key.Namespace) + key.ID
		v, _, err := c.flights.do(ctx, fk, func(lctx context.Context) ([]byte, error) {
			v, err := c.load(lctx, stats, loader)
			if err != nil || lctx.Err() != nil {
				return v, err
			}
			c.redis.store(lctx, key, res, v, ttl)
			if localOn {
				c.local.put(key, tok, v, min(ttl, c.localTTL))
			}
			return v, nil
		})
		return v, false, err
	}
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}

	// Redis is down. Other instances' invalidations cannot reach us, so
	// local entries keep the LocalTTL cap; without a local tier every read
	// loads for itself, keeping the bound at zero.
	if !localOn {
		stats.misses.Add(1)
		v, err := c.load(ctx, stats, loader)
		return v, false, err
	}
	return c.getLocal(ctx, key, st, min(ttl, c.localTTL), loader)
}

// getLocal is GetOrLoad on the memory tier alone.
func (c *Cache) getLocal(ctx context.Context, key Key, st *nsState, ttl time.Duration, loader func(ctx context.Context) ([]byte, error)) ([]byte, bool, error) {
	stats := st.stats
	tok := c.local.begin(st)
	if v, ok := c.local.get(st, key); ok {
		stats.hits.Add(1)
		return v, true, nil
	}
	stats.misses.Add(1)
	v, _, err := c.flights.do(ctx, localFlightKey(key, tok.gen), func(lctx context.Context) ([]byte, error) {
		v, err := c.load(lctx, stats, loader)
		if err != nil || lctx.Err() != nil {
			return v, err
		}
		c.local.put(key, tok, v, ttl)
		return v, nil
	})
	return v, false, err
}

func localFlightKey(key Key, gen uint64) string {
	return "m" + strconv.FormatUint(gen, 10) + nsPart(key.Namespace) + key.ID
}

func (c *Cache) load(ctx context.Context, stats *kindStats, loader func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	stats.loads.Add(1)
	start := time.Now()
	v, err := loader(ctx)
	stats.observeLoad(time.Since(start))
	if err != nil {
		stats.loadErrors.Add(1)
		return nil, err
	}
	return v, nil
}

// Invalidate drops the value under key, here and on every instance. A load
// of key already running will not store its result.
func (c *Cache) Invalidate(ctx context.Context, key Key) {
	st := c.local.state(key.Namespace)
	st.stats.keyInvalidations.Add(1)
	gen := st.gen.Load()
	c.local.invalidateKey(key)
	c.flights.forget(localFlightKey(key, gen))
	if c.redis != nil {
		c.redis.invalidate(ctx, opKey, key)
	}
}

// InvalidateNamespace drops every value in namespace ns in O(1), here and on
// every instance, by moving the namespace to a new generation.
func (c *Cache) InvalidateNamespace(ctx context.Context, ns string) {
	c.local.state(ns).stats.nsInvalidations.Add(1)
	c.local.invalidateNamespace(ns)
	if c.redis != nil {
		c.redis.invalidate(ctx, opNamespace, Key{Namespace: ns})
	}
}

// InvalidateAll drops every value in O(1), here and on every instance.
func (c *Cache) InvalidateAll(ctx context.Context) {
	c.local.invalidateAll()
	if c.redis != nil {
		c.redis.invalidate(ctx, opAll, Key{})
	}
}
