package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
)

// query reads query parameters into typed values, collecting every error
// so a request with several bad filters hears about all of them.
type query struct {
	c   *fiber.Ctx
	err inventory.ValidationError
}

func (q *query) str(name string) string { return strings.Clone(strings.TrimSpace(q.c.Query(name))) }

func (q *query) uuid(name string) *uuid.UUID {
	s := q.str(name)
	if s == "" {
		return nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		q.err.Add(name, "must be a UUID")
		return nil
	}
	return &id
}

func (q *query) date(name string) *time.Time {
	s := q.str(name)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		q.err.Add(name, "must be a date (YYYY-MM-DD)")
		return nil
	}
	return &t
}

func (q *query) list() inventory.ListOptions {
	opts := inventory.ListOptions{Cursor: q.str("cursor")}
	if s := q.str("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			q.err.Add("limit", "must be a whole number between 1 and 200")
		} else {
			opts.Limit = n
		}
	}
	return opts
}

func (q *query) done() error { return q.err.OrNil() }

// pathUUID reads a UUID route parameter; a malformed one is 422.
func pathUUID(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, validationProblem(inventory.FieldError{Field: name, Message: "must be a UUID"})
	}
	return id, nil
}
