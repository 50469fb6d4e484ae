package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/url"

	"github.com/gofiber/fiber/v2"
)

// checkCSRF refuses a state-changing request authenticated by the session
// cookie unless it carries the session's synchronizer token, in the
// X-CSRF-Token header (htmx, from <meta name="csrf-token">) or the _csrf
// form field. A cross-site page can make the browser send the cookie
// (SameSite=Lax already stops most of that) but cannot read the token.
// Bearer requests are exempt: a cross-site page cannot set Authorization.
// Anonymous requests pass: their guard refuses them, and the login form
// checks its own pre-session token.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return c.Next()
	}
	sess, ok := currentSession(c)
	if !ok || c.Path() == "/login" {
		return c.Next()
	}
	token := c.Get("X-CSRF-Token")
	if token == "" {
		token = c.FormValue("_csrf")
	}
	if !s.authn.sameOrigin(c) || !constantTimeEqual(token, sess.CSRFToken) {
		s.log(c).Warn("csrf check failed", "method", c.Method(), "path", c.Path(),
			"token_sent", token != "", "sec_fetch_site", c.Get("Sec-Fetch-Site"))
		return problemError(fiber.StatusForbidden, "csrf", "Forbidden",
			"The form was sent without the security token of your login; nothing was changed. Reload the page and try again.")
	}
	return c.Next()
}

// sameOrigin rejects requests a browser marks as coming from another
// site: Sec-Fetch-Site cross-site, or an Origin that is neither this
// host nor PUBLIC_URL. Browsers that send neither header pass (the token
// check still applies).
func (a *authenticator) sameOrigin(c *fiber.Ctx) bool {
	if c.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return true
	}
	if origin == "null" {
		return false
	}
	if a.origin != "" && origin == a.origin {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == c.Hostname()
}

func constantTimeEqual(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func randomLoginCSRF() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("web: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
