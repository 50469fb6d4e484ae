package inventory

import (
	"errors"
	"fmt"

	"batchtrack/db"
	"batchtrack/quantity"
)

// Kind names a kind of domain error; the web layer maps each to a status
// and a problem type in one table.
type Kind string

const (
	KindValidation           Kind = "validation"
	KindNotFound             Kind = "not-found"
	KindConflict             Kind = "conflict"
	KindStateConflict        Kind = "state-conflict"
	KindInsufficientQuantity Kind = "insufficient-quantity"
	KindVersionConflict      Kind = "version-conflict"
	KindNotConsumable        Kind = "batch-not-consumable"
	KindLockTimeout          Kind = "lock-timeout"
	KindQueryTooLarge        Kind = "query-too-large"
)

// Error is what every domain error says of itself: its kind and a
// sentence a person can read. Match it with errors.As.
type Error interface {
	error
	Kind() Kind
	Sentence() string
}

// FieldError names the input field at fault, in the API's field names.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError is bad input: nothing was changed.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	if len(e.Fields) == 0 {
		return "invalid input"
	}
	return fmt.Sprintf("invalid %s: %s", e.Fields[0].Field, e.Fields[0].Message)
}

func (e *ValidationError) Kind() Kind { return KindValidation }

func (e *ValidationError) Sentence() string {
	if len(e.Fields) == 0 {
		return "The input is not valid."
	}
	return e.Fields[0].Field + " " + e.Fields[0].Message
}

// Add records a field error.
func (e *ValidationError) Add(field, message string) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: message})
}

// OrNil returns e when it holds errors.
func (e *ValidationError) OrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Invalid is a ValidationError of one field.
func Invalid(field, message string) error {
	return &ValidationError{Fields: []FieldError{{field, message}}}
}

// NotFoundError: the named thing does not exist.
type NotFoundError struct {
	What  string // "batch", "product", "location", "event"
	Field string // the input field that named it, when it came from a body
}

func (e *NotFoundError) Error() string    { return e.What + " not found" }
func (e *NotFoundError) Kind() Kind       { return KindNotFound }
func (e *NotFoundError) Sentence() string { return "The " + e.What + " does not exist." }

// FieldErrors names the input field that named the missing thing, if any.
func (e *NotFoundError) FieldErrors() []FieldError {
	if e.Field == "" {
		return nil
	}
	return []FieldError{{Field: e.Field, Message: "names a " + e.What + " that does not exist"}}
}

// ErrNotFound matches every NotFoundError with errors.Is.
var ErrNotFound = errors.New("not found")

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ConflictError: a unique value is taken (GTIN, GLN, batch number).
type ConflictError struct {
	Field        string
	Message      string
	FieldMessage string // "" for a taken value
}

func (e *ConflictError) Error() string    { return e.Message }
func (e *ConflictError) Kind() Kind       { return KindConflict }
func (e *ConflictError) Sentence() string { return e.Message }

// FieldErrors names the field whose value is taken, or that conflicts
// with the stock (FieldMessage says how).
func (e *ConflictError) FieldErrors() []FieldError {
	if e.FieldMessage != "" {
		return []FieldError{{Field: e.Field, Message: e.FieldMessage}}
	}
	return []FieldError{{Field: e.Field, Message: "is already taken"}}
}

// StateConflictError: the request does not fit what the thing is now
// (a closed recall case).
type StateConflictError struct{ Message string }

func (e *StateConflictError) Error() string    { return e.Message }
func (e *StateConflictError) Kind() Kind       { return KindStateConflict }
func (e *StateConflictError) Sentence() string { return e.Message }

// InsufficientQuantityError: the batch has less than was asked for.
type InsufficientQuantityError struct {
	BatchID           string
	Requested         quantity.Quantity
	QuantityAvailable quantity.Quantity
	Item              int    // index in a multi-batch request, -1 otherwise
	Lot               string // the lot's number, when a movement names several
	Field             string // the input field of the quantity, when known
}

func (e *InsufficientQuantityError) Error() string {
	return fmt.Sprintf("batch %s has %s available, %s requested", e.BatchID, e.QuantityAvailable, e.Requested)
}

func (e *InsufficientQuantityError) Kind() Kind { return KindInsufficientQuantity }

func (e *InsufficientQuantityError) Sentence() string {
	return "You asked for " + e.Requested.String() + "; the batch has " + e.QuantityAvailable.String() + " available."
}

// VersionConflictError: the caller's expected version is not current.
type VersionConflictError struct {
	BatchID         string
	ExpectedVersion int64
	CurrentVersion  int64
}

func (e *VersionConflictError) Error() string {
	return fmt.Sprintf("batch %s is at version %d, not %d", e.BatchID, e.CurrentVersion, e.ExpectedVersion)
}

func (e *VersionConflictError) Kind() Kind { return KindVersionConflict }

func (e *VersionConflictError) Sentence() string {
	return fmt.Sprintf("The batch changed since you read it: it went from version %d to %d.", e.ExpectedVersion, e.CurrentVersion)
}

// NotConsumableError: a batch that is not released, on hold, rejected,
// recalled or expired refuses being consumed, shipped or transformed.
type NotConsumableError struct {
	BatchID       string
	QualityStatus QualityStatus
	Expired       bool
	Why           Unusable // "" in errors made before the reason was kept
	Action        string   // "consumed" (default), "shipped", "used as a transformation input"
	StatusReason  string   // the hold's or rejection's reason, if any
	Item          int
}

func (e *NotConsumableError) why() Unusable {
	switch {
	case e.Why != "":
		return e.Why
	case e.Expired:
		return UnusableExpired
	}
	return Unusable(e.QualityStatus)
}

func (e *NotConsumableError) action() string {
	if e.Action == "" {
		return "consumed"
	}
	return e.Action
}

func (e *NotConsumableError) Error() string {
	return fmt.Sprintf("batch %s cannot be %s: it is %s", e.BatchID, e.action(), e.why().Describe())
}

func (e *NotConsumableError) Kind() Kind { return KindNotConsumable }

func (e *NotConsumableError) Sentence() string {
	s := "The batch cannot be " + e.action() + ": it is " + e.why().Describe()
	if e.StatusReason != "" {
		s += " (" + e.StatusReason + ")"
	}
	return s + "."
}

// ErrLockTimeout: the batch row stayed locked by others for longer than
// the lock timeout. Nothing changed; the caller may retry.
var ErrLockTimeout error = &lockTimeoutError{}

type lockTimeoutError struct{}

func (*lockTimeoutError) Error() string { return "batch is busy: lock not acquired in time" }
func (*lockTimeoutError) Kind() Kind    { return KindLockTimeout }
func (*lockTimeoutError) Sentence() string {
	return "Others are changing this batch right now; retry in a moment."
}

// IsUnavailable says whether err means the database could not be reached
// (or went away): nothing is known to have changed, and a retry may work.
func IsUnavailable(err error) bool { return errors.Is(db.Translate(err), db.ErrUnavailable) }
