package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/views"
)

// query reads query parameters into typed values, collecting every error
// so a request with several bad filters hears about all of them. The
// parameters a handler reads are the ones its route accepts: done refuses
// any other, so a misspelled filter is a 422 instead of an unfiltered list.
type query struct {
	c    *fiber.Ctx
	err  inventory.ValidationError
	read map[string]bool
}

func newQuery(c *fiber.Ctx) *query { return &query{c: c, read: map[string]bool{}} }

func (q *query) str(name string) string {
	q.read[name] = true
	return strings.Clone(strings.TrimSpace(q.c.Query(name)))
}

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

// boolean reads true or false; absent or empty is nil.
func (q *query) boolean(name string) *bool {
	switch s := q.str(name); s {
	case "":
		return nil
	case "true", "false":
		b := s == "true"
		return &b
	}
	q.err.Add(name, "must be true or false")
	return nil
}

func (q *query) list() inventory.ListOptions {
	return inventory.ListOptions{Cursor: q.str("cursor"), Limit: q.limit()}
}

// limit reads limit (1 to 200); absent or wrong is 0, the list's default.
func (q *query) limit() int {
	s := q.str("limit")
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 200 {
		q.err.Add("limit", "must be a whole number between 1 and 200")
		return 0
	}
	return n
}

// unknown names the parameters of the request that were never read, in
// the order they came, each once.
func (q *query) unknown() []string {
	var names []string
	seen := map[string]bool{}
	q.c.Context().QueryArgs().VisitAll(func(k, _ []byte) {
		name := string(k)
		if !q.read[name] && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	})
	return names
}

// done is called after every parameter the route accepts has been read.
func (q *query) done() error {
	for _, name := range q.unknown() {
		q.err.Add(name, unknownParameter)
	}
	return q.err.OrNil()
}

// unknownTo is done for a page that shows its filter errors itself.
func (q *query) unknownTo(errs views.FieldErrors) {
	for _, name := range q.unknown() {
		errs.Add(name, "The list has no filter named "+strconv.Quote(name))
	}
}

const unknownParameter = "is not a parameter of this list"

// pathUUID reads a UUID route parameter; a malformed one is 422.
func pathUUID(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, validationProblem(inventory.FieldError{Field: name, Message: "must be a UUID"})
	}
	return id, nil
}
