package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

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
	Lot               string             `json:"lot,omitempty"`    // the lot's number, when a movement names several
	Reason            string             `json:"reason,omitempty"` // why a batch is not consumable: pending, on_hold...

	// RetryAfter, in seconds, becomes the Retry-After header.
	RetryAfter int `json:"-"`
}

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// problemError builds a Problem a handler can return.
func problemError(status int, slug, title, detail string) *Problem {
	return &Problem{Type: "/problems/" + slug, Title: title, Status: status, Detail: detail}
}

func validationProblem(fields ...inventory.FieldError) *Problem {
	return domainProblem(&inventory.ValidationError{Fields: fields}, 0)
}

// problemType is what a client sees for one kind of error.
type problemType struct {
	status int
	title  string
	detail string // for kinds whose errors do not say their own sentence
	// The consume form shows these kinds inline, under its own heading
	// (formKind is the problem's data-kind there).
	formKind, formTitle string
}

// problemTypes is the one table from a kind of error (its problem slug)
// to status and title. The API's problem+json, the HTML error page and
// the consume form read it; domain errors bring their own sentence.
var problemTypes = map[string]problemType{
	string(inventory.KindValidation):    {status: fiber.StatusUnprocessableEntity, title: "Invalid input"},
	string(inventory.KindNotFound):      {status: fiber.StatusNotFound, title: "Not found", detail: "No such resource."},
	string(inventory.KindConflict):      {status: fiber.StatusConflict, title: "Already exists"},
	string(inventory.KindStateConflict): {status: fiber.StatusConflict, title: "Not possible now"},
	string(inventory.KindInsufficientQuantity): {status: fiber.StatusConflict, title: "Insufficient quantity",
		formKind: "insufficient-quantity", formTitle: "Not enough left"},
	string(inventory.KindVersionConflict): {status: fiber.StatusConflict, title: "Version conflict",
		formKind: "version-conflict", formTitle: "Someone else changed this batch first"},
	string(inventory.KindNotConsumable): {status: fiber.StatusConflict, title: "Batch not consumable",
		formKind: "not-consumable", formTitle: "This batch cannot be consumed"},
	string(inventory.KindLockTimeout): {status: fiber.StatusServiceUnavailable, title: "Batch busy",
		formKind: "lock-timeout", formTitle: "The batch is busy"},
	string(inventory.KindQueryTooLarge): {status: fiber.StatusRequestEntityTooLarge, title: "Query result too large"},
	"idempotency-key-reuse": {status: fiber.StatusUnprocessableEntity, title: "Idempotency key reused",
		detail: "This Idempotency-Key was already used with a different request."},
	"unavailable": {status: fiber.StatusServiceUnavailable, title: "Service unavailable",
		detail: "The database cannot be reached right now; retry shortly. A write sent with an Idempotency-Key " +
			"can be retried with the same key: it is carried out at most once."},
	"method-not-allowed": {status: fiber.StatusMethodNotAllowed, title: "Method not allowed",
		detail: "This resource does not support that method."},
	"body-too-large": {status: fiber.StatusRequestEntityTooLarge, title: "Request body too large",
		detail: "Request bodies are limited to 1 MiB."},
	"headers-too-large": {status: fiber.StatusRequestHeaderFieldsTooLarge, title: "Request headers too large",
		detail: "The request's headers are larger than the server accepts."},
	"bad-request":          {status: fiber.StatusBadRequest, title: "Bad request"},
	"invalid-digital-link": {status: fiber.StatusBadRequest, title: "Invalid GS1 Digital Link"},
	"internal": {status: fiber.StatusInternalServerError, title: "Internal error",
		detail: "Something went wrong on our side. Quote the request id when you report it."},
}

// fiberSlugs names the problem kind of the HTTP errors Fiber raises itself.
var fiberSlugs = map[int]string{
	fiber.StatusNotFound:                    string(inventory.KindNotFound),
	fiber.StatusMethodNotAllowed:            "method-not-allowed",
	fiber.StatusRequestEntityTooLarge:       "body-too-large",
	fiber.StatusRequestHeaderFieldsTooLarge: "headers-too-large",
}

// newProblem is the problem of a kind in problemTypes; an empty detail
// takes the table's.
func newProblem(slug, detail string) *Problem {
	t := problemTypes[slug]
	if detail == "" {
		detail = t.detail
	}
	return problemError(t.status, slug, t.title, detail)
}

// domainProblem is the problem for a domain error: the table's status and
// title, the error's own sentence and fields.
func domainProblem(de inventory.Error, lockTimeout int) *Problem {
	p := newProblem(string(de.Kind()), de.Sentence())
	switch e := de.(type) {
	case *inventory.ValidationError:
		p.Errors = e.Fields
		if len(e.Fields) == 0 {
			p.Detail = ""
		}
	case *inventory.NotFoundError:
		p.Errors = e.FieldErrors()
	case *inventory.ConflictError:
		p.Errors = e.FieldErrors()
	case *inventory.InsufficientQuantityError:
		p.QuantityAvailable, p.QuantityRequested, p.BatchID = &e.QuantityAvailable, &e.Requested, e.BatchID
		if e.Item >= 0 {
			p.Item = &e.Item
		}
		if e.Lot != "" {
			p.Lot = e.Lot
			p.Detail = "Lot " + e.Lot + ": " + p.Detail
		}
		if e.Field != "" {
			p.Errors = []inventory.FieldError{{Field: e.Field, Message: "is more than the " +
				e.QuantityAvailable.String() + " available"}}
		}
	case *inventory.VersionConflictError:
		p.CurrentVersion, p.BatchID = &e.CurrentVersion, e.BatchID
	case *inventory.NotConsumableError:
		p.BatchID, p.Reason = e.BatchID, string(notConsumableReason(e))
		if e.Item >= 0 {
			p.Item = &e.Item
		}
	}
	if de.Kind() == inventory.KindLockTimeout {
		p.Detail += " Nothing was changed."
		p.RetryAfter = lockTimeout
	}
	return p
}

// notConsumableReason is why a batch refused: pending, on_hold, rejected,
// recalled or expired (errors kept before Why existed say it otherwise).
func notConsumableReason(e *inventory.NotConsumableError) inventory.Unusable {
	switch {
	case e.Why != "":
		return e.Why
	case e.Expired:
		return inventory.UnusableExpired
	}
	return inventory.Unusable(e.QualityStatus)
}

// toProblem maps every error a handler can return to what the client
// sees. Errors it does not know are 500s: logged in full, shown as a
// plain sentence with the request id.
func toProblem(err error, lockTimeout int) *Problem {
	var (
		p  *Problem
		de inventory.Error
		fe *fiber.Error
		rl *ratelimit.RefusedError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &rl):
		return rateLimitedProblem(rl)
	case errors.As(err, &de):
		return domainProblem(de, lockTimeout)
	case errors.Is(err, idempotency.ErrKeyReused):
		return newProblem("idempotency-key-reuse", "")
	case inventory.IsUnavailable(err):
		p := newProblem("unavailable", "")
		p.RetryAfter = 2
		return p
	case errors.As(err, &fe):
		if slug, ok := fiberSlugs[fe.Code]; ok {
			return newProblem(slug, "")
		}
		if fe.Code < 500 {
			return problemError(fe.Code, "bad-request", problemTypes["bad-request"].title, fe.Message)
		}
	}
	return newProblem("internal", "")
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
	if isEPCIS(c) {
		p = asEPCISProblem(p, c.Method() == fiber.MethodGet && strings.HasPrefix(c.Path(), "/epcis/events"))
		return writeProblem(c, p)
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
	return strings.HasPrefix(p, "/api/") || p == "/api" || p == "/metrics" || p == "/healthz" || p == "/readyz" ||
		isEPCIS(c)
}
