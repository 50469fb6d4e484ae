package web

import (
	"bytes"
	"errors"

	"github.com/gofiber/fiber/v2"

	"batchtrack/idempotency"
	"batchtrack/inventory"
)

// once makes a write sent with an Idempotency-Key happen at most once per
// caller. The write keeps its result in its own transaction (see package
// idempotency); a retry finds it and h runs again in replay mode, where
// the domain returns the kept result instead of acting, so the answer
// (status, body, ETag, Location) is rendered exactly as the first time.
// A refusal, which changed nothing, is kept as the answer it got.
func (s *Server) once(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := c.Get("Idempotency-Key")
		if key == "" || s.deps.Idempotency == nil {
			return h(c)
		}
		if msg := checkIdempotencyKey(key); msg != "" {
			return validationProblem(inventory.FieldError{Field: "Idempotency-Key", Message: msg})
		}
		req := &idempotency.Request{
			Caller: s.callerKey(c), Key: key, Hash: idempotency.Hash(c.Method(), c.Path(), c.Body()),
		}
		ctx := c.UserContext()
		c.SetUserContext(idempotency.NewContext(ctx, req))
		defer c.SetUserContext(ctx)
		// Twice at most: a concurrent attempt that committed first makes
		// this one roll back, and its result is then there to replay.
		for range 2 {
			rec, err := s.deps.Idempotency.Lookup(ctx, req.Caller, req.Key)
			if err != nil {
				return err
			}
			if rec != nil {
				if !bytes.Equal(rec.Hash, req.Hash) {
					return idempotency.ErrKeyReused
				}
				c.Set("Idempotent-Replayed", "true")
				if r := rec.Refusal; r != nil {
					c.Set(fiber.HeaderContentType, r.ContentType)
					return c.Status(r.Status).Send(r.Body)
				}
				req.Stored = rec.Result
			}
			err = h(c)
			switch {
			case errors.Is(err, idempotency.ErrKeyTaken):
				c.Response().Header.Del("Idempotent-Replayed")
				continue
			case err != nil && req.Stored == nil && s.keptMeanwhile(c, req):
				// A concurrent attempt with this key committed while this
				// one ran, and this one was refused because of it (the
				// units it took, the GTIN it created): answer as it did.
				continue
			case err != nil:
				return s.keepRefusal(c, req, err)
			case req.Stored == nil && !req.Kept():
				// Every write keeps its result in its transaction; one that
				// did not would run again on a retry.
				s.log(c).Error("write with an Idempotency-Key kept no result", "path", c.Path())
			}
			return nil
		}
		// The record that made this attempt roll back has gone: the key was
		// used before, and its record expired.
		return idempotency.ErrKeyReused
	}
}

// keptMeanwhile says whether another attempt kept a result for req's key
// since this one looked.
func (s *Server) keptMeanwhile(c *fiber.Ctx, req *idempotency.Request) bool {
	rec, err := s.deps.Idempotency.Lookup(c.UserContext(), req.Caller, req.Key)
	return err == nil && rec != nil && rec.Result != nil
}

// keepRefusal stores the answer to a refused request so a retry gets the
// same answer, and returns err for the error handler. Failures on our
// side (5xx: the outcome may be unknown) are not kept: a retry looks
// again and runs if nothing was committed.
func (s *Server) keepRefusal(c *fiber.Ctx, req *idempotency.Request, err error) error {
	p := toProblem(err, 0)
	if p.Status >= 500 || p.Status == fiber.StatusTooManyRequests || errors.Is(err, idempotency.ErrKeyReused) {
		return err
	}
	body, merr := jsonMarshal(p)
	if merr != nil {
		return err
	}
	if kerr := s.deps.Idempotency.KeepRefusal(c.UserContext(), req, idempotency.Refusal{
		Status: p.Status, ContentType: "application/problem+json", Body: body,
	}); kerr != nil {
		s.log(c).Warn("keeping a refusal for its idempotency key failed", "err", kerr)
	}
	return err
}

// checkIdempotencyKey says what is wrong with a key, or "". Keys are
// printable ASCII, as the IETF draft's string form has it.
func checkIdempotencyKey(key string) string {
	if len(key) > 255 {
		return "must be at most 255 characters"
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return "must be printable ASCII characters"
		}
	}
	return ""
}
