package views

import (
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Error behaviours of a capture: all events or none, or keep the valid ones.
const (
	CaptureRollback = "rollback"
	CaptureProceed  = "proceed"
)

// CaptureForm is the EPCIS document upload. The form posts "file" (a
// .json/.jsonld file), "document" (pasted JSON) and "behaviour"; Errors
// uses those names as keys, "" for the form as a whole.
type CaptureForm struct {
	Action    string // the URL the form posts to
	Behaviour string // CaptureRollback (the default when empty) or CaptureProceed
	Pasted    string
	Errors    FieldErrors
	Jobs      []CaptureJobView // recent capture jobs, newest first
}

// behaviour is the chosen error behaviour, rollback unless proceed.
func (f CaptureForm) behaviour() string {
	if f.Behaviour == CaptureProceed {
		return CaptureProceed
	}
	return CaptureRollback
}

// CaptureJobView is one capture job and its outcome.
type CaptureJobView struct {
	ID, Href    string
	Running     bool
	Success     bool
	Behaviour   string
	CreatedAt   time.Time
	FinishedAt  *time.Time
	EventCount  int // events in the document
	StoredCount int // events stored
	Errors      []CaptureJobError
	Events      []CaptureJobEvent // the first events stored, once finished
}

// CaptureJobEvent links to an event a job stored.
type CaptureJobEvent struct {
	Href, EventType, Action, BizStep string
	EventTime                        time.Time
}

// CaptureJobError is why one event (or the document) was refused.
type CaptureJobError struct {
	Index   int // the event's position in the eventList from 0; -1 for the document as a whole
	EventID string
	Type    string // the EPCIS exception type, such as "ValidationException"
	Message string
}

// Status is the job's state in one word: running, success, partial or failed.
func (j CaptureJobView) Status() string {
	switch {
	case j.Running:
		return "running"
	case j.Success && j.StoredCount == j.EventCount:
		return "success"
	case j.StoredCount > 0:
		return "partial"
	}
	return "failed"
}

// Summary says what came of the job in one sentence.
func (j CaptureJobView) Summary() string {
	switch j.Status() {
	case "running":
		if j.EventCount > 0 {
			return "Storing " + events(j.EventCount) + "…"
		}
		return "Reading the document…"
	case "success":
		if j.EventCount == 0 {
			return "The document held no events"
		}
		if j.EventCount == 1 {
			return "The event was stored"
		}
		return "All " + events(j.EventCount) + " stored"
	case "partial":
		return strconv.Itoa(j.StoredCount) + " of " + events(j.EventCount) + " stored; " +
			strconv.Itoa(j.EventCount-j.StoredCount) + " refused"
	}
	bad := j.eventsWithErrors()
	if bad == 0 || j.EventCount == 0 {
		return "Nothing stored: the document was refused"
	}
	verb := " have errors"
	if bad == 1 {
		verb = " has errors"
	}
	return "Nothing stored: " + strconv.Itoa(bad) + " of " + events(j.EventCount) + verb
}

func events(n int) string {
	if n == 1 {
		return "1 event"
	}
	return strconv.Itoa(n) + " events"
}

// eventsWithErrors counts the distinct events that have an error.
func (j CaptureJobView) eventsWithErrors() int {
	seen := map[int]bool{}
	for _, e := range j.Errors {
		if e.Index >= 0 {
			seen[e.Index] = true
		}
	}
	return len(seen)
}

// BehaviourText is the error behaviour in words.
func BehaviourText(b string) string {
	if b == CaptureProceed {
		return "Keep the valid events"
	}
	return "All or nothing"
}

func statusBadgeClass(status string) string {
	switch status {
	case "success":
		return "ok"
	case "failed":
		return "bad"
	}
	return "pending"
}

// ErrorTypeText is an EPCIS exception type in words:
// "ValidationException" and "epcisException:ValidationException" are
// "Invalid event".
func ErrorTypeText(t string) string {
	name := t
	if i := strings.LastIndexAny(name, ":/#"); i >= 0 {
		name = name[i+1:]
	}
	if w, ok := errorTypeWords[name]; ok {
		return w
	}
	name = strings.TrimSuffix(name, "Exception")
	var b strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	if b.Len() == 0 {
		return "Error"
	}
	return sentence(humanize(b.String()))
}

var errorTypeWords = map[string]string{
	"ValidationException":           "Invalid event",
	"ImplementationException":       "Server error",
	"SecurityException":             "Not allowed",
	"CaptureLimitExceededException": "Too many events",
	"ResourceNotFoundException":     "Not found",
}

func eventNumber(index int) string {
	if index < 0 {
		return "Document"
	}
	return strconv.Itoa(index + 1)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return fmtTime(*t)
}
