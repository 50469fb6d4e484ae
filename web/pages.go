package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"batchtrack/views"
)

func (s *Server) notFound(c *fiber.Ctx) error { return fiber.ErrNotFound }

// renderErrorPage shows an error to a person: a page in the app's look,
// or, for an htmx request, a toast in the page they are on.
func (s *Server) renderErrorPage(c *fiber.Ctx, p *Problem) error {
	info := views.ErrorInfo{Status: p.Status, Title: p.Title, Detail: p.Detail, RequestID: requestID(c)}
	if len(p.Errors) > 1 {
		msgs := make([]string, 0, len(p.Errors))
		for _, e := range p.Errors {
			msgs = append(msgs, e.Field+" "+e.Message)
		}
		info.Detail = strings.Join(msgs, "; ")
	}
	var err error
	if wantsFragment(c) {
		retargetToast(c)
		err = render(c, p.Status, views.Toast(info))
	} else {
		err = render(c, p.Status, views.ErrorPage(chromeFor(c, p.Title, ""), info))
	}
	if err != nil {
		s.log(c).Error("error page failed", "err", err)
		c.Status(p.Status)
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.SendString(p.Title + "\nRequest id: " + requestID(c))
	}
	return nil
}
