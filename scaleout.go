package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"batchtrack/web"
	"batchtrack/web/cache"
	"batchtrack/web/peers"
	"batchtrack/web/ratelimit"
)

// sharedState is what instances share when they scale out: with REDIS_URL
// the limiter (and the cache) keep their state in Redis; without it, in
// this process.
type sharedState struct {
	redis      *redis.Client // nil without REDIS_URL
	rateLimits web.RateLimits
	caching    web.Caching
}

func newSharedState(cfg Config, reg prometheus.Registerer, logger *slog.Logger) (*sharedState, error) {
	s := &sharedState{}
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		// Short, bounded timeouts: Redis trouble must degrade the limiter
		// and the cache, never stall a request.
		opts.DialTimeout = 250 * time.Millisecond
		opts.ReadTimeout = 100 * time.Millisecond
		opts.WriteTimeout = 100 * time.Millisecond
		opts.MaxRetries = 1
		s.redis = redis.NewClient(opts)
	}
	rlMetrics, err := ratelimit.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	memory := ratelimit.NewMemory(ratelimit.MemoryConfig{})
	var limiter ratelimit.Limiter = memory
	if s.redis != nil {
		limiter = ratelimit.NewFallback(ratelimit.FallbackConfig{
			Primary: ratelimit.NewRedis(s.redis, ratelimit.RedisConfig{}), Fallback: memory,
			Mode: cfg.RateLimitFail, Logger: logger, Metrics: rlMetrics,
		})
	}
	s.rateLimits = web.RateLimits{Limiter: limiter, Policies: cfg.RateLimits, Metrics: rlMetrics}

	cacheMetrics, err := cache.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	readCache, err := cache.New(cache.Config{
		Enabled: cfg.CacheTTL > 0, MaxBytes: cfg.CacheMaxBytes, Redis: s.redis, LocalTTL: cfg.CacheLocalTTL,
		Metrics: cacheMetrics, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	s.caching = web.Caching{Cache: readCache, TTL: cfg.CacheTTL}
	return s, nil
}

func (s *sharedState) Close() error {
	if s.caching.Cache != nil {
		_ = s.caching.Cache.Close()
	}
	if s.redis != nil {
		return s.redis.Close()
	}
	return nil
}

// peerBoard shares the dashboard's figures between instances through
// Redis; nil without it. A reading lives three sampling periods.
func (s *sharedState) peerBoard(every time.Duration) web.PeerBoard {
	if s.redis == nil {
		return nil
	}
	return peers.New(s.redis, 3*every)
}
