package web

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Validators for generated files (QR codes, labels) so browsers and shared
// caches revalidate instead of downloading again. Everything behind a
// login is "private": a CDN or proxy may not keep it for other users.

// validatedKey marks a response that carries validators: the security
// headers keep its Cache-Control instead of no-store.
type validatedKey struct{}

// contentTag is a strong ETag over the parts that decide the bytes.
func contentTag(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return `"` + hex.EncodeToString(h[:12]) + `"`
}

// notModified sets the validators and Cache-Control, and says whether the
// client's copy is current (If-None-Match first, as RFC 9110 asks, else
// If-Modified-Since); the caller then answers 304 with no body.
func notModified(c *fiber.Ctx, etag string, modified time.Time, cacheControl string) bool {
	c.Locals(validatedKey{}, true)
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderLastModified, modified.UTC().Format(http.TimeFormat))
	c.Set(fiber.HeaderCacheControl, cacheControl)
	c.Vary(fiber.HeaderCookie, fiber.HeaderAuthorization)
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" {
		return etagMatches(inm, etag)
	}
	if ims, err := http.ParseTime(c.Get(fiber.HeaderIfModifiedSince)); err == nil {
		return !modified.Truncate(time.Second).After(ims)
	}
	return false
}
