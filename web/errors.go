package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"batchtrack/db"
	"batchtrack/idempotency"
	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/web/ratelimit"
)

// Problem is an RFC 9457 problem detail. Type is a stable slug per kind of
// error; scripts switch on it.
type Problem struct {
	Type      string                 `json:"type"`
	Title     string                 `json:"title"`
	Status    int                    `json:"status"`
	Detail    string                 `json:"detail,omitempty"`
	Errors    []inventory.FieldError `json:"errors,omitempty"`
	RequestID string                 `json:"request_id,omitempty"`

	QuantityAvailable *quantity.Quantity `json:"quantity_available,omitempty"`
	QuantityRequested *quantity.Quantity `json:"quantity_requested,omitempty"`
	CurrentVersion    *int64             `json:"current_version,omitempty"`
	BatchID           string             `json:"batch_id,omitempty"`
	Item              *int               `json:"item,omitempty"`

	// RetryAfter, in seconds, becomes the Retry-After header.
	RetryAfter int `json:"-"`
}

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// problemError builds a Problem a handler can return.
func problemError(status int, slug, title, detail string) *Problem {
	return &Problem{Type: "/problems/" + slug, Title: title, Status: status, Detail: detail}
}

func validationProblem(fields ...inventory.FieldError) *Problem {
	p := problemError(fiber.StatusUnprocessableEntity, "validation", "Invalid input", "")
	p.Errors = fields
	if len(fields) > 0 {
		p.Detail = fields[0].Field + " " + fields[0].Message
	}
	return p
}

// toProblem maps every error a handler can return to what the client
// sees. Errors it does not know are 500s: logged in full, shown as a
// plain sentence with the request id.
func toProblem(err error, lockTimeout int) *Problem {
	var (
		p  *Problem
		ve *inventory.ValidationError
		nf *inventory.NotFoundError
		ce *inventory.ConflictError
		iq *inventory.InsufficientQuantityError
		vc *inventory.VersionConflictError
		nc *inventory.NotConsumableError
		fe *fiber.Error
		rl *ratelimit.RefusedError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &rl):
		return rateLimitedProblem(rl)
	case errors.As(err, &ve):
		return validationProblem(ve.Fields...)
	case errors.As(err, &nf):
		p := problemError(fiber.StatusNotFound, "not-found", "Not found", "The "+nf.What+" does not exist.")
		if nf.Field != "" {
			p.Errors = []inventory.FieldError{{Field: nf.Field, Message: "names a " + nf.What + " that does not exist"}}
		}
		return p
	case errors.As(err, &ce):
		p := problemError(fiber.StatusConflict, "conflict", "Already exists", ce.Message)
		p.Errors = []inventory.FieldError{{Field: ce.Field, Message: "is already taken"}}
		return p
	case errors.As(err, &iq):
		p := problemError(fiber.StatusConflict, "insufficient-quantity", "Insufficient quantity",
			"The batch has "+iq.QuantityAvailable.String()+" available; "+iq.Requested.String()+" was requested.")
		p.QuantityAvailable, p.QuantityRequested, p.BatchID = &iq.QuantityAvailable, &iq.Requested, iq.BatchID
		if iq.Item >= 0 {
			p.Item = &iq.Item
		}
		return p
	case errors.As(err, &vc):
		p := problemError(fiber.StatusConflict, "version-conflict", "Version conflict",
			"The batch changed since you read it: it is at version "+strconv.FormatInt(vc.CurrentVersion, 10)+
				", not "+strconv.FormatInt(vc.ExpectedVersion, 10)+".")
		p.CurrentVersion, p.BatchID = &vc.CurrentVersion, vc.BatchID
		return p
	case errors.As(err, &nc):
		reason := "it is " + nc.QualityStatus
		if nc.Expired {
			reason = "it is past its expiry date"
		}
		p := problemError(fiber.StatusConflict, "batch-not-consumable", "Batch not consumable",
			"The batch cannot be consumed: "+reason+".")
		p.BatchID = nc.BatchID
		if nc.Item >= 0 {
			p.Item = &nc.Item
		}
		return p
	case errors.Is(err, inventory.ErrLockTimeout):
		p := problemError(fiber.StatusServiceUnavailable, "lock-timeout", "Batch busy",
			"Others are changing this batch right now; nothing was changed. Retry shortly.")
		p.RetryAfter = lockTimeout
		return p
	case errors.Is(err, idempotency.ErrKeyReused):
		return problemError(fiber.StatusUnprocessableEntity, "idempotency-key-reuse", "Idempotency key reused",
			"This Idempotency-Key was already used with a different request.")
	case errors.Is(db.Translate(err), db.ErrUnavailable):
		p := problemError(fiber.StatusServiceUnavailable, "unavailable", "Service unavailable",
			"The database cannot be reached right now; retry shortly. A write sent with an Idempotency-Key "+
				"can be retried with the same key: it is carried out at most once.")
		p.RetryAfter = 2
		return p
	case errors.As(err, &fe):
		switch fe.Code {
		case fiber.StatusNotFound:
			return problemError(fe.Code, "not-found", "Not found", "No such resource.")
		case fiber.StatusMethodNotAllowed:
			return problemError(fe.Code, "method-not-allowed", "Method not allowed", "This resource does not support that method.")
		case fiber.StatusRequestEntityTooLarge:
			return problemError(fe.Code, "body-too-large", "Request body too large", "Request bodies are limited to 1 MiB.")
		case fiber.StatusRequestHeaderFieldsTooLarge:
			return problemError(fe.Code, "headers-too-large", "Request headers too large",
				"The request's headers are larger than the server accepts.")
		}
		if fe.Code < 500 {
			return problemError(fe.Code, "bad-request", "Bad request", fe.Message)
		}
	}
	return problemError(fiber.StatusInternalServerError, "internal", "Internal error",
		"Something went wrong on our side. Quote the request id when you report it.")
}

// handleError is the app's one error handler.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	p := toProblem(err, int(s.deps.LockTimeout.Seconds()+0.999))
	rid := requestID(c)
	log := s.log(c)
	if p.Status >= 500 {
		p.RequestID = rid
		log.Error("request failed", "status", p.Status, "err", err)
	} else {
		log.Debug("request refused", "status", p.Status, "type", p.Type, "err", err)
	}
	if p.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(p.RetryAfter))
	}
	if isAPI(c) || (beforeRouting(p.Status) && !strings.Contains(c.Get(fiber.HeaderAccept), "text/html")) {
		return writeProblem(c, p)
	}
	return s.renderErrorPage(c, p)
}

func writeProblem(c *fiber.Ctx, p *Problem) error {
	body, err := jsonMarshal(p)
	if err != nil {
		return err
	}
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Send(body)
}

// beforeRouting says whether the server refuses a request with this
// status before it knows the path (the headers or body are too large).
func beforeRouting(status int) bool {
	return status == fiber.StatusRequestHeaderFieldsTooLarge || status == fiber.StatusRequestEntityTooLarge
}

func isAPI(c *fiber.Ctx) bool {
	p := c.Path()
	return strings.HasPrefix(p, "/api/") || p == "/api" || p == "/metrics" || p == "/healthz" || p == "/readyz"
}
