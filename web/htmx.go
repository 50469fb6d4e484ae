package web

import "github.com/gofiber/fiber/v2"

// htmx request headers (https://htmx.org/reference/#request_headers).

// isHTMX reports a request made by htmx.
func isHTMX(c *fiber.Ctx) bool { return c.Get("HX-Request") == "true" }

// wantsFragment reports an htmx request that swaps part of a page. A
// boosted link and a history restore after a cache miss expect the whole
// page, although htmx marks them as its own.
func wantsFragment(c *fiber.Ctx) bool {
	return isHTMX(c) && c.Get("HX-Boosted") != "true" && c.Get("HX-History-Restore-Request") != "true"
}

// redirectAfterPost ends a successful POST: htmx follows HX-Redirect with
// a full page load, a plain form post follows 303 See Other. flash is
// shown once on the page redirected to.
func redirectAfterPost(c *fiber.Ctx, to, flash string) error {
	if flash != "" {
		setFlash(c, flash)
	}
	if isHTMX(c) {
		c.Set("HX-Redirect", to)
		return c.SendStatus(fiber.StatusOK)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// retargetToast sends an htmx error response into the page's toast region
// instead of the element that asked.
func retargetToast(c *fiber.Ctx) {
	c.Set("HX-Retarget", "#toasts")
	c.Set("HX-Reswap", "beforeend")
}
