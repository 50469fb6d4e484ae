package epcis

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxErrors is how many errors a DocumentError lists at most.
const MaxErrors = 1000

// EventError is one problem of a document or event.
type EventError struct {
	Index   int    // the event's index in eventList; -1 for the document itself
	Path    string // JSON pointer, such as /epcisBody/eventList/3/bizStep
	Message string
}

// DocumentError lists the problems of a document, in document order.
type DocumentError struct {
	Errors    []EventError
	Truncated bool // more than MaxErrors were found
}

func (e *DocumentError) Error() string {
	if len(e.Errors) == 0 {
		return "invalid EPCIS document"
	}
	first := e.Errors[0]
	msg := first.Message
	if first.Path != "" {
		msg = first.Path + ": " + msg
	}
	if n := len(e.Errors); n > 1 {
		msg += fmt.Sprintf(" (and %d more problems)", n-1)
	}
	return msg
}

func (e *DocumentError) add(errs ...EventError) {
	for _, err := range errs {
		if len(e.Errors) >= MaxErrors {
			e.Truncated = true
			return
		}
		e.Errors = append(e.Errors, err)
	}
}

// DocumentHeader is what an EPCISDocument or EPCISQueryDocument says
// besides its events.
type DocumentHeader struct {
	Type          string // EPCISDocument or EPCISQueryDocument
	SchemaVersion string
	CreationDate  time.Time
	// Context holds the prefixes the document's @context declares
	// (prefix -> IRI); the standard EPCIS context's are not repeated.
	Context map[string]string
	// Other holds every other top-level field as sent (@context, id,
	// sender, epcisHeader, extensions...), without epcisBody.
	Other map[string]jsontext.Value
}

// ErrorBehaviour says what reading does with the valid events of a
// document that has invalid ones (the GS1-Capture-Error-Behaviour header).
type ErrorBehaviour int

const (
	// Rollback hands over no event unless every event is valid.
	Rollback ErrorBehaviour = iota
	// Proceed hands over every valid event and reports the others.
	Proceed
)

// ReadDocument reads an EPCIS document with the Rollback behaviour; see
// ReadDocumentWith.
func ReadDocument(r io.ReadSeeker, fn func(i int, ev Event) error) (DocumentHeader, error) {
	return ReadDocumentWith(r, Rollback, fn)
}

// ReadDocumentWith reads an EPCISDocument or EPCISQueryDocument and calls
// fn once per valid event, in order, holding one event's bytes at a time.
// It takes an io.ReadSeeker because the document's @context, which
// declares the prefixes events use, may come after epcisBody: a first
// pass reads the header, skipping the body. With Rollback a second pass
// checks every event and a third hands them over only if all are valid;
// with Proceed one pass checks and hands over. Problems are returned as
// a *DocumentError; an error from fn stops reading and is returned as is.
func ReadDocumentWith(r io.ReadSeeker, b ErrorBehaviour, fn func(i int, ev Event) error) (DocumentHeader, error) {
	docErr := &DocumentError{}
	h, ok := readHeader(r, docErr)
	if !ok {
		return h, docErr
	}
	rewind := func() error {
		_, err := r.Seek(0, io.SeekStart)
		return err
	}
	if b == Rollback {
		if err := rewind(); err != nil {
			return h, err
		}
		if err := readEvents(r, h, docErr, nil); err != nil {
			return h, err
		}
		if len(docErr.Errors) > 0 {
			return h, docErr
		}
	}
	if err := rewind(); err != nil {
		return h, err
	}
	if err := readEvents(r, h, docErr, fn); err != nil {
		return h, err
	}
	if len(docErr.Errors) > 0 {
		return h, docErr
	}
	return h, nil
}

// syntaxError reports a JSON syntax error where the decoder stopped.
func syntaxError(docErr *DocumentError, dec *jsontext.Decoder, err error) {
	msg := err.Error()
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && se.Err != nil {
		msg = fmt.Sprintf("invalid JSON at byte %d: %v", se.ByteOffset, se.Err)
	}
	docErr.add(EventError{Index: -1, Path: string(dec.StackPointer()), Message: msg})
}

var headerFields = []string{"@context", "id", "type", "schemaVersion", "creationDate", "instanceIdentifier",
	"sender", "receiver", "epcisHeader", "epcisBody"}

var queryHeaderFields = []string{"@context", "id", "type", "schemaVersion", "creationDate", "epcisBody"}

// readHeader reads the document's top-level fields but epcisBody.
func readHeader(r io.Reader, docErr *DocumentError) (DocumentHeader, bool) {
	h := DocumentHeader{Other: map[string]jsontext.Value{}}
	dec := jsontext.NewDecoder(r)
	if dec.PeekKind() != '{' {
		if _, err := dec.ReadToken(); err != nil {
			syntaxError(docErr, dec, err)
		} else {
			docErr.add(EventError{Index: -1, Message: "an EPCIS document must be a JSON object"})
		}
		return h, false
	}
	dec.ReadToken()
	hasBody := false
	c := &checker{index: -1, used: map[string]bool{}}
	var headers []*node // epcisHeader, whose extensions need the prefixes
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			syntaxError(docErr, dec, err)
			return h, false
		}
		name := tok.String()
		if name == "epcisBody" {
			hasBody = true
			if dec.PeekKind() != '{' {
				docErr.add(EventError{Index: -1, Path: "/epcisBody", Message: "must be an object"})
			}
			if err := dec.SkipValue(); err != nil {
				syntaxError(docErr, dec, err)
				return h, false
			}
			continue
		}
		v, err := dec.ReadValue()
		if err != nil {
			syntaxError(docErr, dec, err)
			return h, false
		}
		v = v.Clone()
		h.Other[name] = v
		n, err := parseTree(v)
		if err != nil {
			continue
		}
		path := pointer("", name)
		switch name {
		case "@context":
			h.Context, _ = c.context(path, n)
		case "type":
			if s, ok := c.str(path, n); ok {
				h.Type = s
				if s != "EPCISDocument" && s != "EPCISQueryDocument" {
					c.fail(path, "must be EPCISDocument or EPCISQueryDocument, not %q", s)
				}
			}
		case "schemaVersion":
			if s, ok := c.str(path, n); ok {
				h.SchemaVersion = s
				if !validVersion(s) {
					c.fail(path, "must be a version such as 2.0, not %q", s)
				}
			}
		case "creationDate":
			if t, ok := c.time(path, n); ok {
				h.CreationDate = t
			}
		case "id":
			c.uri(path, n)
		case "instanceIdentifier", "sender", "receiver":
			c.str(path, n)
		case "epcisHeader":
			if c.object(path, n) {
				headers = append(headers, n)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		syntaxError(docErr, dec, err)
		return h, false
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		docErr.add(EventError{Index: -1, Message: "unexpected data after the document"})
	}
	// Unknown top-level fields are extensions, checked once the
	// document's own prefixes are known.
	c.ctx = h.Context
	fields := headerFields
	if h.Type == "EPCISQueryDocument" {
		fields = queryHeaderFields
	}
	for name := range h.Other {
		if !slices.Contains(fields, name) {
			c.extensionName("", name, "an "+h.Type)
		}
	}
	for _, n := range headers {
		for _, m := range n.members {
			if m.name != "epcisMasterData" {
				c.extensionName("/epcisHeader", m.name, "epcisHeader")
			}
		}
	}
	if _, ok := h.Other["@context"]; !ok {
		c.fail("", "@context is required")
	}
	if h.Type == "" {
		c.fail("", "type is required")
	}
	if h.Type == "EPCISDocument" {
		if h.SchemaVersion == "" {
			c.fail("", "schemaVersion is required")
		}
		if _, ok := h.Other["creationDate"]; !ok {
			c.fail("", "creationDate is required")
		}
	}
	if !hasBody {
		c.fail("", "epcisBody is required")
	}
	docErr.add(c.errs...)
	delete(h.Other, "type")
	delete(h.Other, "schemaVersion")
	delete(h.Other, "creationDate")
	return h, len(docErr.Errors) == 0
}

func validVersion(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if !allDigits(part) {
			return false
		}
	}
	return true
}

// readEvents walks epcisBody to its eventList and checks each event,
// calling fn (when not nil) for the valid ones.
func readEvents(r io.Reader, h DocumentHeader, docErr *DocumentError, fn func(int, Event) error) error {
	dec := jsontext.NewDecoder(r)
	found, queryName := false, false
	var walk func(path string, want []string) error
	// walk descends through the objects named by want to the eventList.
	walk = func(path string, want []string) error {
		if dec.PeekKind() != '{' {
			docErr.add(EventError{Index: -1, Path: path, Message: "must be an object"})
			return dec.SkipValue()
		}
		dec.ReadToken()
		for dec.PeekKind() != '}' {
			tok, err := dec.ReadToken()
			if err != nil {
				return err
			}
			name := tok.String()
			p := pointer(path, name)
			switch {
			case path == "/epcisBody/queryResults" && name == "queryName":
				queryName = dec.PeekKind() == '"'
				if err := dec.SkipValue(); err != nil {
					return err
				}
			case len(want) > 0 && name == want[0]:
				if err := walk(p, want[1:]); err != nil {
					return err
				}
			case len(want) == 0 && name == "eventList":
				found = true
				if err := eventList(dec, p, h.Context, docErr, fn); err != nil {
					return err
				}
			default:
				c := &checker{index: -1, ctx: h.Context, used: map[string]bool{}}
				switch {
				case path == "/epcisBody/queryResults" && name == "subscriptionID":
					if dec.PeekKind() != '"' {
						c.fail(p, "must be a string")
					}
				case path == "/epcisBody/queryResults/resultsBody" && name == "vocabularyList":
					if dec.PeekKind() != '[' {
						c.fail(p, "must be an array")
					}
				default:
					c.extensionName(path, name, path)
				}
				docErr.add(c.errs...)
				if err := dec.SkipValue(); err != nil {
					return err
				}
			}
		}
		_, err := dec.ReadToken()
		return err
	}
	if dec.PeekKind() != '{' {
		return nil // readHeader reported it
	}
	dec.ReadToken()
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			syntaxError(docErr, dec, err)
			return nil
		}
		if tok.String() != "epcisBody" {
			if err := dec.SkipValue(); err != nil {
				syntaxError(docErr, dec, err)
				return nil
			}
			continue
		}
		var want []string
		if h.Type == "EPCISQueryDocument" {
			want = []string{"queryResults", "resultsBody"}
		}
		if err := walk("/epcisBody", want); err != nil {
			var stop stopError
			if errors.As(err, &stop) {
				return stop.err
			}
			syntaxError(docErr, dec, err)
			return nil
		}
	}
	if !found {
		docErr.add(EventError{Index: -1, Path: "/epcisBody", Message: "eventList is required"})
	}
	if h.Type == "EPCISQueryDocument" && found && !queryName {
		docErr.add(EventError{Index: -1, Path: "/epcisBody/queryResults", Message: "queryName is required (a string)"})
	}
	return nil
}

// stopError carries an error from fn through the walk.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

func eventList(dec *jsontext.Decoder, path string, ctx map[string]string, docErr *DocumentError, fn func(int, Event) error) error {
	if dec.PeekKind() != '[' {
		docErr.add(EventError{Index: -1, Path: path, Message: "must be an array"})
		return dec.SkipValue()
	}
	dec.ReadToken()
	for i := 0; dec.PeekKind() != ']'; i++ {
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		ev, errs := checkEvent(v, ctx, i, pointer(path, strconv.Itoa(i)))
		if len(errs) > 0 {
			docErr.add(errs...)
			continue
		}
		if fn != nil {
			if err := fn(i, ev); err != nil {
				return stopError{err}
			}
		}
	}
	_, err := dec.ReadToken()
	return err
}

// ParseEvent reads one bare event, as POST /events receives it. Like the
// schema, it requires the event's own @context; ctx adds prefixes the
// caller knows of (it may be nil). Problems are a *DocumentError whose
// paths are relative to the event.
func ParseEvent(raw []byte, ctx map[string]string) (Event, error) {
	ev, errs := checkEvent(raw, ctx, 0, "")
	if len(errs) == 0 {
		root, _ := parseTree(raw)
		if root.get("@context") == nil {
			errs = append(errs, EventError{Index: 0, Message: "@context is required"})
		}
	}
	if len(errs) > 0 {
		docErr := &DocumentError{}
		docErr.add(errs...)
		return Event{}, docErr
	}
	return ev, nil
}
