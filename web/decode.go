package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// decodeJSON reads a JSON object body into dst (a pointer to a struct with
// json tags), strictly: the content type must be JSON, unknown fields are
// refused, and every field that does not decode is named in the error
// with a message a person can act on.
func decodeJSON(c *fiber.Ctx, dst any) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	return decodeBody(c.Body(), dst)
}

// requireJSON refuses a body that is not declared as JSON.
func requireJSON(c *fiber.Ctx) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return problemError(fiber.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"Send the request body as application/json.")
	}
	return nil
}

// decodeBody is decodeJSON without the content-type check.
func decodeBody(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return validationProblem(inventory.FieldError{Field: "body", Message: "is required: send a JSON object"})
	}
	if err := checkJSONText(body); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return problemError(fiber.StatusBadRequest, "malformed-json", "Malformed JSON",
			"The request body is not a JSON object.")
	}
	if dec.More() {
		return problemError(fiber.StatusBadRequest, "malformed-json", "Malformed JSON",
			"The request body has data after the JSON object.")
	}
	return decodeFields(raw, reflect.ValueOf(dst).Elem(), "")
}

func decodeFields(raw map[string]json.RawMessage, v reflect.Value, prefix string) error {
	fields := jsonFields(v.Type())
	var verr inventory.ValidationError
	for name, msg := range raw {
		idx, ok := fields[name]
		if !ok {
			verr.Add(prefix+name, "is not a known field")
			continue
		}
		f := v.Field(idx)
		// Strict inside nested objects too: exact names, none unknown.
		if err := jsonv2.Unmarshal(msg, f.Addr().Interface(), jsonv2.RejectUnknownMembers(true)); err != nil {
			var ve *inventory.ValidationError
			if errors.As(err, &ve) {
				for _, fe := range ve.Fields {
					verr.Add(prefix+name+fe.Field, fe.Message)
				}
				continue
			}
			field, t := prefix+name, f.Type()
			var se *jsonv2.SemanticError
			if errors.As(err, &se) && se.JSONPointer != "" {
				field += pointerField(se.JSONPointer)
				if errors.Is(se.Err, jsonv2.ErrUnknownName) {
					verr.Add(field, "is not a known field")
					continue
				}
				if se.GoType != nil {
					t = se.GoType
				}
			}
			verr.Add(field, fieldMessage(t, err))
		}
	}
	sortFieldErrors(verr.Fields)
	return verr.OrNil()
}

var fieldCache sync.Map // reflect.Type -> map[string]int

func jsonFields(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	fieldCache.Store(t, m)
	return m
}

var (
	quantityType = reflect.TypeFor[quantity.Quantity]()
	uuidType     = reflect.TypeFor[uuid.UUID]()
	dateType     = reflect.TypeFor[jsonDate]()
	nullDateType = reflect.TypeFor[nullableDate]()
	nullUUIDType = reflect.TypeFor[nullableUUID]()
	timeType     = reflect.TypeFor[time.Time]()
)

// fieldMessage words a decode error for the field's type.
func fieldMessage(t reflect.Type, err error) string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	switch t {
	case quantityType:
		if errors.Is(err, quantity.ErrPrecision) || errors.Is(err, quantity.ErrRange) {
			return err.Error()
		}
		return quantity.ErrSyntax.Error()
	case uuidType, nullUUIDType:
		return "must be a UUID"
	case dateType, nullDateType:
		return "must be a date (YYYY-MM-DD)"
	case timeType:
		return "must be an RFC 3339 time such as 2026-01-26T13:45:00Z"
	}
	switch t.Kind() {
	case reflect.String:
		return "must be a string"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "must be a whole number"
	case reflect.Bool:
		return "must be true or false"
	case reflect.Struct, reflect.Map:
		return "must be a JSON object"
	}
	return "has the wrong type"
}

// checkJSONText refuses what no field may hold, wherever it is in the
// body: invalid UTF-8 (overlong forms among it), lone surrogates in
// escapes, duplicate keys, and control characters such as NUL in a key or
// string (the database cannot store NUL; the others are never meant).
func checkJSONText(body []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.ReadToken()
		if err == io.EOF {
			return nil
		}
		field := strings.TrimPrefix(pointerField(dec.StackPointer()), ".")
		if field == "" {
			field = "body"
		}
		if err != nil {
			msg := err.Error()
			switch {
			case errors.Is(err, jsontext.ErrDuplicateName):
				return validationProblem(inventory.FieldError{Field: field, Message: "appears more than once"})
			case strings.Contains(msg, "invalid UTF-8"):
				return validationProblem(inventory.FieldError{Field: field, Message: "is not valid UTF-8"})
			case strings.Contains(msg, "surrogate"):
				return validationProblem(inventory.FieldError{Field: field, Message: "has an invalid \\u escape (a lone surrogate)"})
			}
			return nil // malformed: the decoder says so in its own words
		}
		if tok.Kind() == '"' {
			if msg := textProblem(tok.String()); msg != "" {
				return validationProblem(inventory.FieldError{Field: field, Message: msg})
			}
		}
	}
}

// pointerField turns a JSON pointer ("/items/0/batch_id") into the field
// name errors use (".items[0].batch_id").
func pointerField(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		b.WriteString("." + tok)
	}
	return b.String()
}

func sortFieldErrors(fs []inventory.FieldError) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Field < fs[j-1].Field; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// jsonDate is a calendar date, YYYY-MM-DD in JSON.
type jsonDate struct{ time.Time }

func (d jsonDate) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.Format(time.DateOnly) + `"`), nil
}

func (d *jsonDate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return err
	}
	d.Time = t
	return nil
}

func datePtr(d *jsonDate) *time.Time {
	if d == nil {
		return nil
	}
	return &d.Time
}

func dateJSON(t *time.Time) *jsonDate {
	if t == nil {
		return nil
	}
	return &jsonDate{*t}
}

// nullableDate tells "absent" from "null" (clear) from a date.
type nullableDate struct {
	Set   bool
	Value *jsonDate
}

func (n *nullableDate) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var d jsonDate
	if err := d.UnmarshalJSON(b); err != nil {
		return err
	}
	n.Value = &d
	return nil
}

// nullableUUID tells "absent" from "null" (none) from an id.
type nullableUUID struct {
	Set   bool
	Value *uuid.UUID
}

func (n *nullableUUID) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var id uuid.UUID
	if err := json.Unmarshal(b, &id); err != nil {
		return err
	}
	n.Value = &id
	return nil
}
