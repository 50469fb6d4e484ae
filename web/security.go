package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// contentSecurityPolicy allows only our own scripts, styles and images: no
// inline script or style, no eval (htmx runs with allowEval false and
// includeIndicatorStyles false, see views.HTMXConfig), no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries. They are set
// before the handler runs so error pages and redirects have them too.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderReferrerPolicy, "same-origin")
	h.Set(fiber.HeaderXFrameOptions, "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.authn.secure {
		h.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000; includeSubDomains")
	}
	if err := c.Next(); err != nil {
		// Render the error here, so the headers below apply to it too.
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	// Pages shown to a logged-in user must not be kept by the browser: after
	// logout the back button would show them from its cache. Responses with
	// validators (labels, QR codes: private, revalidated) keep theirs.
	if _, ok := currentUser(c); ok && !strings.HasPrefix(c.Path(), "/static/") && c.Locals(validatedKey{}) == nil {
		if !isAPI(c) || len(h.Peek(fiber.HeaderCacheControl)) == 0 {
			h.Set(fiber.HeaderCacheControl, "no-store")
		}
	}
	return nil
}
