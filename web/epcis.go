package web

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"batchtrack/epcis"
	"batchtrack/idempotency"
	"batchtrack/inventory"
)

// The EPCIS 2.0 REST binding under /epcis (GS1's openapi.yaml): capture
// and query of standard EPCIS documents, with the app's tokens and roles.

// Versions this server speaks; every /epcis response names them.
const (
	epcisVersion = "2.0.0"
	cbvVersion   = "2.0.0"
)

// Capture limits, announced by OPTIONS /epcis/capture: past them a
// capture is 413 CaptureLimitExceededException.
const (
	CaptureLimit         = 20000    // events per document
	CaptureFileSizeLimit = 32 << 20 // bytes per document
	// captureTimeout bounds one capture job's transaction.
	captureTimeout = 10 * time.Minute
)

// epcisContextURI is the standard JSON-LD context every document names.
const epcisContextURI = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// withEPCISHeaders names the versions on every /epcis response and refuses
// (406) a client that requires versions this server does not speak.
func (s *Server) withEPCISHeaders(c *fiber.Ctx) error {
	c.Set("GS1-EPCIS-Version", epcisVersion)
	c.Set("GS1-CBV-Version", cbvVersion)
	c.Set("GS1-EPCIS-Min", epcisVersion)
	c.Set("GS1-EPCIS-Max", epcisVersion)
	c.Set("GS1-CBV-Min", cbvVersion)
	c.Set("GS1-CBV-Max", cbvVersion)
	for _, h := range []struct{ name, ours string }{
		{"GS1-EPCIS-Version", epcisVersion}, {"GS1-CBV-Version", cbvVersion},
	} {
		if v := c.Get(h.name); v != "" && !sameVersion(v, h.ours) {
			return epcisProblem(fiber.StatusNotAcceptable, "NotAcceptableException",
				h.name+" "+strconv.Quote(v)+" is not supported: this server speaks "+h.ours+".")
		}
	}
	for _, h := range []struct{ min, max, ours string }{
		{"GS1-EPCIS-Min", "GS1-EPCIS-Max", epcisVersion}, {"GS1-CBV-Min", "GS1-CBV-Max", cbvVersion},
	} {
		lo, hi := c.Get(h.min), c.Get(h.max)
		if (lo != "" && compareVersions(lo, h.ours) > 0) || (hi != "" && compareVersions(hi, h.ours) < 0) {
			return epcisProblem(fiber.StatusNotAcceptable, "NotAcceptableException",
				"The versions required ("+h.min+" "+lo+", "+h.max+" "+hi+") exclude this server's "+h.ours+".")
		}
	}
	if f := c.Get("GS1-EPC-Format"); f != "" {
		if _, err := epcis.ParseFormat(f); err != nil {
			return epcisProblem(fiber.StatusBadRequest, "ValidationException",
				"GS1-EPC-Format must be No_Preference, Always_GS1_Digital_Link, Always_EPC_URN or Never_Translates.")
		}
	}
	if !acceptsJSON(c.Get(fiber.HeaderAccept)) {
		return epcisProblem(fiber.StatusNotAcceptable, "NotAcceptableException",
			"This server answers in JSON (application/json or application/ld+json).")
	}
	return c.Next()
}

// sameVersion compares "2.0" and "2.0.0" as equal.
func sameVersion(a, b string) bool { return compareVersions(a, b) == 0 }

// compareVersions orders dotted versions; a malformed one sorts first.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(strings.TrimSpace(a), "."), strings.Split(b, ".")
	for i := range max(len(pa), len(pb)) {
		var x, y int
		if i < len(pa) {
			n, err := strconv.Atoi(pa[i])
			if err != nil {
				return -1
			}
			x = n
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// acceptsJSON says whether an Accept header allows a JSON answer.
func acceptsJSON(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json", "application/ld+json", "application/problem+json":
			return true
		}
	}
	return false
}

// epcisProblem is a problem of the binding: its type is an EPCIS
// exception ("epcisException:ValidationException").
func epcisProblem(status int, exception, detail string) *Problem {
	return &Problem{Type: "epcisException:" + exception, Title: epcisTitles[exception], Status: status, Detail: detail}
}

var epcisTitles = map[string]string{
	"ValidationException":            "Invalid EPCIS document or event",
	"QueryParameterException":        "Invalid query parameter",
	"NoSuchResourceException":        "No such resource",
	"ResourceAlreadyExistsException": "Event already captured",
	"CaptureLimitExceededException":  "Capture limit exceeded",
	"QueryTooLargeException":         "Query result too large",
	"NotAcceptableException":         "Not acceptable",
	"SecurityException":              "Not allowed",
	"UnsupportedMediaTypeException":  "Unsupported media type",
	"ImplementationException":        "Server error",
	"URITooLongException":            "URI too long",
	"TooManyRequestsException":       "Too many requests",
	"ServiceUnavailableException":    "Service unavailable",
	"MethodNotAllowedException":      "Method not allowed",
}

// asEPCISProblem restates an app problem in the binding's terms for a
// /epcis request: same detail, the binding's exception type and status.
func asEPCISProblem(p *Problem, query bool) *Problem {
	if strings.HasPrefix(p.Type, "epcisException:") {
		return p
	}
	status, exception := p.Status, ""
	switch {
	case p.Status == fiber.StatusUnprocessableEntity || p.Status == fiber.StatusBadRequest:
		status, exception = fiber.StatusBadRequest, "ValidationException"
		if query {
			exception = "QueryParameterException"
		}
	case p.Status == fiber.StatusUnauthorized || p.Status == fiber.StatusForbidden:
		exception = "SecurityException"
	case p.Status == fiber.StatusNotFound:
		exception = "NoSuchResourceException"
	case p.Status == fiber.StatusConflict:
		exception = "ResourceAlreadyExistsException"
	case p.Status == fiber.StatusRequestEntityTooLarge:
		exception = "CaptureLimitExceededException"
		if query {
			exception = "QueryTooLargeException"
		}
	case p.Status == fiber.StatusMethodNotAllowed:
		exception = "MethodNotAllowedException"
	case p.Status == fiber.StatusTooManyRequests:
		exception = "TooManyRequestsException"
	case p.Status == fiber.StatusRequestHeaderFieldsTooLarge || p.Status == fiber.StatusRequestURITooLong:
		exception = "URITooLongException"
	case p.Status == fiber.StatusServiceUnavailable:
		exception = "ServiceUnavailableException"
	case p.Status >= 500:
		exception = "ImplementationException"
	default:
		return p
	}
	q := *p
	q.Type, q.Status = "epcisException:"+exception, status
	if t := epcisTitles[exception]; t != "" {
		q.Title = t
	}
	return &q
}

func isEPCIS(c *fiber.Ctx) bool {
	p := c.Path()
	return p == "/epcis" || strings.HasPrefix(p, "/epcis/")
}

// showEPCISTopLevel lists the binding's resources this server offers.
func (s *Server) showEPCISTopLevel(c *fiber.Ctx) error {
	return sendJSON(c, fiber.StatusOK, map[string]any{
		"@context": epcisContextURI, "type": "Collection", "member": []string{"capture", "events"},
	})
}

// showCaptureOptions is the capture endpoint's discovery (OPTIONS).
func (s *Server) showCaptureOptions(c *fiber.Ctx) error {
	c.Set(fiber.HeaderAllow, "OPTIONS, GET, POST")
	c.Set("GS1-EPCIS-Capture-Limit", strconv.Itoa(CaptureLimit))
	c.Set("GS1-EPCIS-Capture-File-Size-Limit", strconv.Itoa(CaptureFileSizeLimit))
	c.Set("GS1-Capture-Error-Behaviour", "rollback, proceed")
	c.Set("GS1-EPC-Format", "Always_GS1_Digital_Link, Always_EPC_URN, Never_Translates")
	return c.SendStatus(fiber.StatusNoContent)
}

// showEventsOptions is the events endpoint's discovery (OPTIONS).
func (s *Server) showEventsOptions(c *fiber.Ctx) error {
	c.Set(fiber.HeaderAllow, "OPTIONS, GET, POST")
	c.Set("GS1-EPC-Format", "Always_GS1_Digital_Link, Always_EPC_URN, Never_Translates")
	return c.SendStatus(fiber.StatusNoContent)
}

// checkEPCISBody refuses a capture body that is not JSON (415) or too
// large (413).
func checkEPCISBody(c *fiber.Ctx) error {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if mt != "application/json" && mt != "application/ld+json" {
		return epcisProblem(fiber.StatusUnsupportedMediaType, "UnsupportedMediaTypeException",
			"Send the EPCIS document as application/ld+json or application/json.")
	}
	if len(c.Body()) > CaptureFileSizeLimit {
		return epcisProblem(fiber.StatusRequestEntityTooLarge, "CaptureLimitExceededException",
			"A capture document may be at most "+strconv.Itoa(CaptureFileSizeLimit>>20)+" MiB (GS1-EPCIS-Capture-File-Size-Limit).")
	}
	return nil
}

// captureBehaviour reads GS1-Capture-Error-Behaviour: rollback (default)
// or proceed.
func captureBehaviour(c *fiber.Ctx) (proceed bool, err error) {
	switch v := strings.TrimSpace(c.Get("GS1-Capture-Error-Behaviour")); v {
	case "", "rollback":
		return false, nil
	case "proceed":
		return true, nil
	default:
		return false, epcisProblem(fiber.StatusBadRequest, "ValidationException",
			"GS1-Capture-Error-Behaviour must be rollback or proceed, not "+strconv.Quote(v)+".")
	}
}

// captureDocument is POST /epcis/capture: the document is checked whole
// first (so a document that is not EPCIS, or under rollback has an
// invalid event, is refused at once with every error), then stored by a
// capture job that the answer's Location reports on.
func (s *Server) captureDocument(c *fiber.Ctx) error {
	if err := checkEPCISBody(c); err != nil {
		return err
	}
	proceed, err := captureBehaviour(c)
	if err != nil {
		return err
	}
	job, err := s.startCapture(c.UserContext(), actor(c), c.Body(), proceed)
	if err != nil {
		return err
	}
	c.Location("/epcis/capture/" + job.ID.String())
	return sendJSON(c, fiber.StatusAccepted, toCaptureJobJSON(job))
}

// startCapture checks a document and starts the job that stores it. The
// job stores the events the check has read: the document is read once.
func (s *Server) startCapture(ctx context.Context, a inventory.Actor, body []byte, proceed bool) (inventory.CaptureJob, error) {
	count, valid, refused, err := checkDocument(body, proceed)
	if err != nil {
		return inventory.CaptureJob{}, err
	}
	behaviour := "rollback"
	if proceed {
		behaviour = "proceed"
	}
	job, err := s.deps.Inventory.StartCaptureJob(ctx, a, behaviour, count)
	if err != nil {
		return inventory.CaptureJob{}, err
	}
	if idempotencyReplayed(ctx) {
		return job, nil
	}
	s.captures.Add(1)
	go func() {
		defer s.captures.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), captureTimeout)
		defer cancel()
		// Under proceed only the valid events are stored (the others are
		// in refused); under rollback they all are valid.
		events := func(yield func(int, epcis.Event) bool) {
			for _, e := range valid {
				if !yield(e.index, e.ev) {
					return
				}
			}
		}
		_, err := s.deps.Inventory.CaptureEvents(ctx, a, events, inventory.CaptureOptions{
			Proceed: proceed, JobID: job.ID, Refused: refused,
		})
		if err != nil {
			s.deps.Logger.Error("capture job failed", "job", job.ID, "err", err)
		}
	}()
	return job, nil
}

// documentEvent is a valid event of a document and its position in it.
type documentEvent struct {
	index int
	ev    epcis.Event
}

// checkDocument reads the whole document without storing: its events are
// counted and checked, the valid ones returned. Under rollback any invalid event
// refuses the document (400, every error listed); under proceed the
// invalid ones are returned, for the job to report.
func checkDocument(body []byte, proceed bool) (int, []documentEvent, []inventory.CaptureEventError, error) {
	var valid []documentEvent
	_, err := epcis.ReadDocumentWith(bytes.NewReader(body), epcis.Proceed, func(i int, ev epcis.Event) error {
		if len(valid) == CaptureLimit {
			return errTooManyEvents
		}
		valid = append(valid, documentEvent{i, ev})
		return nil
	})
	count := len(valid)
	if errors.Is(err, errTooManyEvents) {
		return 0, nil, nil, epcisProblem(fiber.StatusRequestEntityTooLarge, "CaptureLimitExceededException",
			"A capture document may hold at most "+strconv.Itoa(CaptureLimit)+" events (GS1-EPCIS-Capture-Limit).")
	}
	var de *epcis.DocumentError
	if err != nil && !errors.As(err, &de) {
		return 0, nil, nil, epcisProblem(fiber.StatusBadRequest, "ValidationException", err.Error())
	}
	if de == nil {
		return count, valid, nil, nil
	}
	var refused []inventory.CaptureEventError
	for _, e := range de.Errors {
		if e.Index < 0 || !proceed || de.Truncated {
			return 0, nil, nil, documentProblem(de)
		}
		if n := len(refused); n > 0 && refused[n-1].Index == e.Index {
			refused[n-1].Message += "; " + e.Path + ": " + e.Message
			continue
		}
		refused = append(refused, inventory.CaptureEventError{
			Index: e.Index, Type: inventory.ExceptionValidation, Message: e.Path + ": " + e.Message,
		})
	}
	if count+len(refused) > CaptureLimit {
		return 0, nil, nil, epcisProblem(fiber.StatusRequestEntityTooLarge, "CaptureLimitExceededException",
			"A capture document may hold at most "+strconv.Itoa(CaptureLimit)+" events (GS1-EPCIS-Capture-Limit).")
	}
	return count + len(refused), valid, refused, nil
}

var errTooManyEvents = errors.New("too many events")

// documentProblem is the 400 for an invalid document, naming every error
// by its JSON pointer.
func documentProblem(de *epcis.DocumentError) *Problem {
	p := epcisProblem(fiber.StatusBadRequest, "ValidationException", de.Error())
	for _, e := range de.Errors {
		p.Errors = append(p.Errors, inventory.FieldError{Field: e.Path, Message: e.Message})
	}
	return p
}

// captureEvent is POST /epcis/events: one event, stored at once.
func (s *Server) captureEvent(c *fiber.Ctx) error {
	if err := checkEPCISBody(c); err != nil {
		return err
	}
	ev, err := epcis.ParseEvent(c.Body(), nil)
	if err != nil {
		var de *epcis.DocumentError
		if errors.As(err, &de) {
			return documentProblem(de)
		}
		return epcisProblem(fiber.StatusBadRequest, "ValidationException", err.Error())
	}
	stored, err := s.deps.Inventory.CaptureEvent(c.UserContext(), actor(c), ev)
	if err != nil {
		return err
	}
	c.Location(eventURL(stored.EventID))
	return c.SendStatus(fiber.StatusCreated)
}

// eventURL is where /epcis serves one event.
func eventURL(eventID string) string { return "/epcis/events/" + url.PathEscape(eventID) }

// showCaptureJob is GET /epcis/capture/{captureID}.
func (s *Server) showCaptureJob(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("captureID"))
	if err != nil {
		return epcisProblem(fiber.StatusNotFound, "NoSuchResourceException", "There is no capture job "+strconv.Quote(c.Params("captureID"))+".")
	}
	job, err := s.deps.Inventory.GetCaptureJob(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toCaptureJobJSON(job))
}

// listCaptureJobs is GET /epcis/capture, newest first.
func (s *Server) listCaptureJobs(c *fiber.Ctx) error {
	q := newQuery(c)
	opts := inventory.ListOptions{Cursor: q.str("nextPageToken")}
	if v := q.str("perPage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			q.err.Add("perPage", "must be a whole number between 1 and 200")
		}
		opts.Limit = n
	}
	if err := q.done(); err != nil {
		return err
	}
	page, err := s.deps.Inventory.ListCaptureJobs(c.UserContext(), opts)
	if err != nil {
		return err
	}
	if page.NextCursor != "" {
		v := url.Values{"nextPageToken": {page.NextCursor}}
		if opts.Limit > 0 {
			v.Set("perPage", strconv.Itoa(opts.Limit))
		}
		c.Set(fiber.HeaderLink, `</epcis/capture?`+v.Encode()+`>; rel="next"`)
	}
	jobs := make([]captureJobJSON, 0, len(page.Items))
	for _, j := range page.Items {
		jobs = append(jobs, toCaptureJobJSON(j))
	}
	return sendJSON(c, fiber.StatusOK, jobs)
}

// captureJobJSON is the binding's CaptureJob, with the counts beside.
type captureJobJSON struct {
	CaptureID             string             `json:"captureID"`
	CreatedAt             time.Time          `json:"createdAt"`
	FinishedAt            *time.Time         `json:"finishedAt,omitempty"`
	Running               bool               `json:"running"`
	Success               bool               `json:"success"`
	CaptureErrorBehaviour string             `json:"captureErrorBehaviour"`
	Errors                []captureErrorJSON `json:"errors"`
	EventCount            int                `json:"eventCount"`
	StoredCount           int                `json:"storedCount"`
}

// captureErrorJSON is one event's error: an RFC 7807 problem, with the
// event's position in the document and its eventID.
type captureErrorJSON struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Status     int    `json:"status"`
	Detail     string `json:"detail"`
	EventIndex int    `json:"eventIndex"`
	EventID    string `json:"eventID,omitempty"`
}

func toCaptureJobJSON(j inventory.CaptureJob) captureJobJSON {
	out := captureJobJSON{
		CaptureID: j.ID.String(), CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt,
		Running: j.Status == "running", Success: j.Status != "failed" && len(j.Errors) == 0,
		CaptureErrorBehaviour: j.ErrorBehaviour, Errors: []captureErrorJSON{},
		EventCount: j.EventCount, StoredCount: j.StoredCount,
	}
	for _, e := range j.Errors {
		exception := strings.TrimPrefix(e.Type, "epcisException:")
		status := fiber.StatusBadRequest
		if exception == "ResourceAlreadyExistsException" {
			status = fiber.StatusConflict
		} else if exception == "ImplementationException" {
			status = fiber.StatusInternalServerError
		}
		title := epcisTitles[exception]
		if title == "" {
			title = exception
		}
		out.Errors = append(out.Errors, captureErrorJSON{
			Type: e.Type, Title: title, Status: status, Detail: e.Message, EventIndex: e.Index, EventID: e.EventID,
		})
	}
	return out
}

// idempotencyReplayed says whether ctx's request is a retry whose first
// answer is being replayed (its capture job already runs or ran).
func idempotencyReplayed(ctx context.Context) bool {
	r := idempotency.FromContext(ctx)
	return r != nil && r.Stored != nil
}

// bodyLimitFor is each request's body limit, decided on its headers (so
// a body declared too large is refused before it is read): BodyLimit,
// and CaptureFileSizeLimit for the routes that take EPCIS documents.
func bodyLimitFor(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if takesDocuments(string(h.Method()), string(h.RequestURI())) {
		return fasthttp.RequestConfig{MaxRequestBodySize: CaptureFileSizeLimit}
	}
	return fasthttp.RequestConfig{MaxRequestBodySize: BodyLimit}
}

// takesDocuments says whether a request may carry an EPCIS document.
func takesDocuments(method, uri string) bool {
	if method != fiber.MethodPost {
		return false
	}
	path, _, _ := strings.Cut(uri, "?")
	switch path {
	case "/epcis/capture", "/epcis/events", "/events/upload":
		return true
	}
	return false
}
