package web

import (
	"bytes"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"batchtrack/inventory"
	"batchtrack/static"
	"batchtrack/views"
)

// render writes comp with status. It renders into a buffer first, so a
// failing component becomes an error page, never half a page with 200.
// With fragments named, an htmx request gets only those fragments of the
// same component (templ.Fragment); anything else gets the whole page.
func render(c *fiber.Ctx, status int, comp templ.Component, fragments ...any) error {
	c.Vary("HX-Request")
	var buf bytes.Buffer
	var err error
	if len(fragments) > 0 && wantsFragment(c) {
		err = templ.RenderFragments(c.UserContext(), &buf, comp, fragments...)
	} else {
		err = comp.Render(c.UserContext(), &buf)
	}
	if err != nil {
		return err
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	if len(c.Response().Header.Peek(fiber.HeaderCacheControl)) == 0 {
		c.Set(fiber.HeaderCacheControl, "no-cache, private")
	}
	return c.Send(buf.Bytes())
}

// assetsKey carries the static assets into every page's chrome.
type assetsKey struct{}

// chromeFor builds the frame of a full page. Other page handlers (login)
// can use it too.
func chromeFor(c *fiber.Ctx, title, section string) views.Chrome {
	ch := views.Chrome{Title: title, Section: section, CSRFToken: csrfToken(c), RequestID: requestID(c)}
	if a, ok := c.Locals(assetsKey{}).(*static.Assets); ok {
		ch.Assets = a
	}
	if a := actor(c); a.Name != "anonymous" {
		ch.User = a.Name
	}
	ch.Admin = isAdmin(c)
	ch.Operator = isOperator(c)
	if !wantsFragment(c) {
		ch.Flash = takeFlash(c)
	}
	return ch
}

const flashCookie = "bt_flash"

// setFlash leaves a message for the next page: the redirect target.
func setFlash(c *fiber.Ctx, msg string) {
	c.Cookie(&fiber.Cookie{
		Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", MaxAge: 60,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// takeFlash reads the message and clears it, so it shows once.
func takeFlash(c *fiber.Ctx) string {
	raw := c.Cookies(flashCookie)
	if raw == "" {
		return ""
	}
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	msg, err := url.QueryUnescape(raw)
	if err != nil {
		return ""
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

// attachAssets makes the static assets reachable from pages rendered
// outside the staff UI's handlers (the error page, login).
func (s *Server) attachAssets(c *fiber.Ctx) error {
	c.Locals(assetsKey{}, s.assets)
	return c.Next()
}

// uiActor is the person behind a page action; their events are "manual".
func uiActor(c *fiber.Ctx) inventory.Actor {
	return inventory.Actor{Name: actor(c).Name, Source: "manual"}
}

// formValue is a form field, trimmed and copied out of Fiber's buffer.
func formValue(c *fiber.Ctx, name string) string {
	return strings.Clone(strings.TrimSpace(c.FormValue(name)))
}

// formValues are every value of a repeated form field, in order: from the
// query for GET, from the body otherwise.
func formValues(c *fiber.Ctx, name string) []string {
	var raw [][]byte
	if c.Method() == fiber.MethodGet {
		raw = c.Context().QueryArgs().PeekMulti(name)
	} else {
		raw = c.Context().PostArgs().PeekMulti(name)
	}
	out := make([]string, 0, len(raw))
	for _, b := range raw {
		out = append(out, strings.TrimSpace(string(b)))
	}
	return out
}

// queryValue is a query parameter, trimmed and copied.
func queryValue(c *fiber.Ctx, name string) string {
	return strings.Clone(strings.TrimSpace(c.Query(name)))
}

// fieldErrors turns the domain's refusals of input into per-field
// messages; ok is false for any other error.
func fieldErrors(err error) (views.FieldErrors, bool) {
	switch e := err.(type) {
	case *inventory.ValidationError:
		return views.FromValidation(e.Fields), true
	case *inventory.NotFoundError:
		if e.Field != "" {
			return views.FromValidation(e.FieldErrors()), true
		}
	case *inventory.ConflictError:
		if e.FieldMessage == "" { // a taken value; stock conflicts are refusals (stockRefusal)
			return views.FieldErrors{e.Field: "is already taken: " + e.Message}, true
		}
	}
	return nil, false
}
