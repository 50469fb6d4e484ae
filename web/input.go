package web

import (
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"batchtrack/inventory"
)

// textProblem says what is wrong with a piece of text a client sent, or
// "": it must be valid UTF-8 without control characters other than tab,
// line feed and carriage return. PostgreSQL cannot store NUL, and the
// rest are never meant.
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return "contains a control character"
		}
	}
	return ""
}

// checkInputText refuses a request whose path, query string or form
// fields carry text that textProblem refuses, before any handler sees it:
// 422 naming the parameter (400 for the path), and nothing changes.
func (s *Server) checkInputText(c *fiber.Ctx) error {
	if msg := textProblem(c.Path()); msg != "" {
		return problemError(fiber.StatusBadRequest, "bad-request", "Bad request", "The path "+msg+".")
	}
	var bad []inventory.FieldError
	visit := func(key, value []byte) {
		name := string(key)
		if msg := textProblem(name); msg != "" {
			bad = append(bad, inventory.FieldError{Field: strings.ToValidUTF8(name, "\uFFFD"), Message: "(a parameter name) " + msg})
			return
		}
		if msg := textProblem(string(value)); msg != "" {
			bad = append(bad, inventory.FieldError{Field: name, Message: msg})
		}
	}
	c.Request().URI().QueryArgs().VisitAll(visit)
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	switch mt {
	case fiber.MIMEApplicationForm:
		c.Request().PostArgs().VisitAll(visit)
	case fiber.MIMEMultipartForm:
		if form, err := c.MultipartForm(); err == nil {
			for name, values := range form.Value {
				for _, v := range values {
					visit([]byte(name), []byte(v))
				}
			}
		}
	}
	if len(bad) > 0 {
		sortFieldErrors(bad)
		return validationProblem(bad...)
	}
	return c.Next()
}
