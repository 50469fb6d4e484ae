package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"batchtrack/idempotency"
	"batchtrack/inventory"
)

// withIdempotency makes a POST with an Idempotency-Key run at most once per
// caller: the first outcome is stored and replayed for repeats with the
// same body; a repeat that arrives while the first runs waits for it.
func (s *Server) withIdempotency(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	if c.Method() != fiber.MethodPost || key == "" || s.deps.Idempotency == nil {
		return c.Next()
	}
	if len(key) > 255 {
		return validationProblem(inventory.FieldError{Field: "Idempotency-Key", Message: "must be at most 255 characters"})
	}
	key = strings.Clone(key)
	caller := s.callerKey(c)
	hash := idempotency.Hash(c.Method(), c.Path(), c.Body())
	ctx := c.UserContext()
	replay, err := s.deps.Idempotency.Begin(ctx, caller, key, hash)
	if err != nil {
		return err
	}
	if replay != nil {
		c.Set("Idempotent-Replayed", "true")
		c.Set(fiber.HeaderContentType, replay.ContentType)
		return c.Status(replay.Status).Send(replay.Body)
	}
	if err := c.Next(); err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = s.deps.Idempotency.Release(ctx, caller, key)
			return herr
		}
	}
	status := c.Response().StatusCode()
	// A failure on our side (5xx, a lock timeout) did nothing: let a retry
	// with the same key run for real.
	if status >= 500 {
		return s.deps.Idempotency.Release(ctx, caller, key)
	}
	return s.deps.Idempotency.Complete(ctx, caller, key, idempotency.Outcome{
		Status: status, ContentType: string(c.Response().Header.ContentType()),
		Body: append([]byte(nil), c.Response().Body()...),
	})
}
