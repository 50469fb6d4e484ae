package web

import (
	"bytes"
	"context"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"batchtrack/inventory"
	"batchtrack/web/cache"
)

// Caching configures the read cache of the API and the overview.
type Caching struct {
	Cache *cache.Cache // nil: no caching
	TTL   time.Duration
}

// Cache namespaces. A write drops exactly the namespaces it made stale
// (see Invalidator).
const (
	nsEvents   = "events"
	nsBatches  = "batches"
	nsOverview = "overview"
)

func nsBatch(id string) string { return "batch:" + id }

// cacheKey normalises a list request: the parsed, valid parameters in a
// fixed order, so ?limit=50&q=x and ?q=x&limit=050 share an entry.
func cacheKey(params ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] != "" {
			v.Set(params[i], params[i+1])
		}
	}
	return v.Encode()
}

func uuidString[T interface{ String() string }](p *T) string {
	if p == nil {
		return ""
	}
	return (*p).String()
}

func dateString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

// sendCached answers a GET from the cache, loading with render on a miss.
func (s *Server) sendCached(c *fiber.Ctx, key cache.Key, render func(ctx context.Context) ([]byte, error)) error {
	if s.deps.Caching.Cache == nil {
		body, err := render(c.UserContext())
		if err != nil {
			return err
		}
		cache.SetHeader(c, false)
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(body)
	}
	return s.deps.Caching.Cache.SendJSON(c, key, s.deps.Caching.TTL, render)
}

// cachedWithTag is sendCached for a body that has an ETag: the tag is kept
// in the entry ahead of the body, on a line of its own.
func (s *Server) sendCachedWithETag(c *fiber.Ctx, key cache.Key, render func(ctx context.Context) (etag string, body []byte, err error)) error {
	load := func(ctx context.Context) ([]byte, error) {
		tag, body, err := render(ctx)
		if err != nil {
			return nil, err
		}
		return append(append([]byte(tag), '\n'), body...), nil
	}
	var entry []byte
	hit := false
	if s.deps.Caching.Cache == nil {
		var err error
		if entry, err = load(c.UserContext()); err != nil {
			return err
		}
	} else {
		var err error
		entry, hit, err = s.deps.Caching.Cache.GetOrLoad(c.UserContext(), key, s.deps.Caching.TTL, load)
		if err != nil {
			return err
		}
	}
	tag, body, _ := bytes.Cut(entry, []byte{'\n'})
	cache.SetHeader(c, hit)
	c.Set(fiber.HeaderETag, string(tag))
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(body)
}

// Invalidator drops what a committed change made stale; the inventory
// calls it before a write returns.
type Invalidator struct{ Cache *cache.Cache }

// Changed implements inventory.Changes.
func (i Invalidator) Changed(ctx context.Context, ch inventory.Change) {
	if i.Cache == nil {
		return
	}
	for _, id := range ch.Batches {
		i.Cache.InvalidateNamespace(ctx, nsBatch(id.String()))
	}
	if ch.List || len(ch.Batches) > 0 {
		i.Cache.InvalidateNamespace(ctx, nsBatches)
		i.Cache.InvalidateNamespace(ctx, nsOverview)
	}
	if ch.Events {
		i.Cache.InvalidateNamespace(ctx, nsEvents)
		i.Cache.InvalidateNamespace(ctx, nsOverview)
	}
}

// cachedJSON is GetOrLoad for a typed value (JSON in the cache), or a
// plain load when caching is off.
func cachedJSON[T any](ctx context.Context, cfg Caching, key cache.Key, load func(ctx context.Context) (T, error)) (T, bool, error) {
	if cfg.Cache == nil {
		v, err := load(ctx)
		return v, false, err
	}
	return cache.GetOrLoadJSON(ctx, cfg.Cache, key, cfg.TTL, load)
}
