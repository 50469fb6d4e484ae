package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// serveStatic answers /static/: fingerprinted URLs are immutable for a
// year; plain names (old bookmarks, tools) revalidate by ETag.
func (s *Server) serveStatic(c *fiber.Ctx) error {
	f, immutable, ok := s.assets.Lookup(c.Path())
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderETag, f.ETag)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if immutable {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "public, no-cache")
	}
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), f.ETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.ContentType)
	return c.Send(f.Body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
