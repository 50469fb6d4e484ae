package cache

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// HeaderName is the response header the API contract names for cached GETs.
const HeaderName = "X-Cache"

// SetHeader marks a cached GET response as served from the cache or not.
func SetHeader(c *fiber.Ctx, hit bool) {
	if hit {
		c.Set(HeaderName, "HIT")
	} else {
		c.Set(HeaderName, "MISS")
	}
}

// SendJSON answers c with the JSON body cached under key, rendering it with
// render on a miss, and sets X-Cache. render gets c.UserContext(), so the
// request's deadline reaches the database. The error is render's, for the
// app's error handler; nothing is written then.
func (cc *Cache) SendJSON(c *fiber.Ctx, key Key, ttl time.Duration, render func(ctx context.Context) ([]byte, error)) error {
	body, hit, err := cc.GetOrLoad(c.UserContext(), key, ttl, render)
	if err != nil {
		return err
	}
	SetHeader(c, hit)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	// Send does not copy: fine, cached values are never modified.
	return c.Send(body)
}
