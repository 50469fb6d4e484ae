package cache

import (
	"context"
	"encoding/json"
	"time"
)

// GetOrLoadJSON is GetOrLoad for a typed value, cached as its JSON
// encoding. Each hit decodes, so prefer GetOrLoad with the rendered body when
// the value is only sent to clients.
func GetOrLoadJSON[T any](ctx context.Context, c *Cache, key Key, ttl time.Duration, loader func(ctx context.Context) (T, error)) (T, bool, error) {
	var zero T
	body, hit, err := c.GetOrLoad(ctx, key, ttl, func(ctx context.Context) ([]byte, error) {
		v, err := loader(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
	})
	if err != nil {
		return zero, false, err
	}
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		return zero, false, err
	}
	return v, hit, nil
}
