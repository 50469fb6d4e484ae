// Package peers lets the instances of a cluster see each other's
// dashboard figures: each publishes its latest reading to Redis under its
// name with a short expiry, and any instance reads them all. An instance
// that stops publishing drops out when its entry expires.
package peers

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reading is one instance's latest figures.
type Reading struct {
	Instance    string    `json:"instance"`
	GeneratedAt time.Time `json:"generated_at"`
	Requests    float64   `json:"requests"`            // in the window
	RPS         float64   `json:"requests_per_second"` // over the window
	Errors      float64   `json:"errors"`              // 5xx in the window
	P95         float64   `json:"p95_ms"`
	RateLimited float64   `json:"rate_limited"`
	LockWaits   float64   `json:"lock_waits"`
	PoolInUse   float64   `json:"pool_in_use"`
}

// Board is the readings in Redis.
type Board struct {
	client *redis.Client
	prefix string
	ttl    time.Duration
}

// New is a board whose entries expire after ttl (a few publishing periods).
func New(client *redis.Client, ttl time.Duration) *Board {
	return &Board{client: client, prefix: "bt:instance:", ttl: ttl}
}

// Publish stores this instance's reading.
func (b *Board) Publish(ctx context.Context, r Reading) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	pipe := b.client.TxPipeline()
	pipe.Set(ctx, b.prefix+r.Instance, data, b.ttl)
	pipe.SAdd(ctx, b.prefix+"names", r.Instance)
	_, err = pipe.Exec(ctx)
	return err
}

// All is every instance's live reading, by name; names whose entry expired
// are forgotten.
func (b *Board) All(ctx context.Context) ([]Reading, error) {
	names, err := b.client.SMembers(ctx, b.prefix+"names").Result()
	if err != nil || len(names) == 0 {
		return nil, err
	}
	slices.Sort(names)
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = b.prefix + n
	}
	vals, err := b.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	var out []Reading
	var gone []any
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			gone = append(gone, names[i])
			continue
		}
		var r Reading
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			return nil, errors.Join(errors.New("peers: a reading is not JSON"), err)
		}
		out = append(out, r)
	}
	if len(gone) > 0 {
		b.client.SRem(ctx, b.prefix+"names", gone...)
	}
	return out, nil
}

// Total is the cluster's figures: counts add up, the error share is over
// all requests, and P95 is the worst instance's (percentiles do not add).
func Total(rs []Reading) Reading {
	t := Reading{Instance: "cluster"}
	for _, r := range rs {
		t.Requests += r.Requests
		t.RPS += r.RPS
		t.Errors += r.Errors
		t.RateLimited += r.RateLimited
		t.LockWaits += r.LockWaits
		t.PoolInUse += r.PoolInUse
		t.P95 = max(t.P95, r.P95)
		if r.GeneratedAt.After(t.GeneratedAt) {
			t.GeneratedAt = r.GeneratedAt
		}
	}
	return t
}
