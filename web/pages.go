package web

import (
	"html"
	"strconv"

	"github.com/gofiber/fiber/v2"
)

func (s *Server) notFound(c *fiber.Ctx) error { return fiber.ErrNotFound }

// renderErrorPage shows an error to a person in a browser.
func (s *Server) renderErrorPage(c *fiber.Ctx, p *Problem) error {
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString("<!doctype html><title>" + html.EscapeString(p.Title) + "</title><h1>" +
		strconv.Itoa(p.Status) + " " + html.EscapeString(p.Title) + "</h1><p>" + html.EscapeString(p.Detail) +
		"</p><p>Request id: " + html.EscapeString(requestID(c)) + "</p>")
}
