package inventory

import (
	"errors"
	"fmt"

	"batchtrack/quantity"
)

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

func (e *NotFoundError) Error() string { return e.What + " not found" }

// ErrNotFound matches every NotFoundError with errors.Is.
var ErrNotFound = errors.New("not found")

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ConflictError: a unique value is taken (GTIN, GLN, batch number).
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return e.Message }

// InsufficientQuantityError: the batch has less than was asked for.
type InsufficientQuantityError struct {
	BatchID           string
	Requested         quantity.Quantity
	QuantityAvailable quantity.Quantity
	Item              int // index in a multi-batch request, -1 otherwise
}

func (e *InsufficientQuantityError) Error() string {
	return fmt.Sprintf("batch %s has %s available, %s requested", e.BatchID, e.QuantityAvailable, e.Requested)
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

// NotConsumableError: rejected, recalled or expired batches refuse consumption.
type NotConsumableError struct {
	BatchID       string
	QualityStatus string
	Expired       bool
	Item          int
}

func (e *NotConsumableError) Error() string {
	if e.Expired {
		return fmt.Sprintf("batch %s is past its expiry date", e.BatchID)
	}
	return fmt.Sprintf("batch %s is %s", e.BatchID, e.QualityStatus)
}

// ErrLockTimeout: the batch row stayed locked by others for longer than
// the lock timeout. Nothing changed; the caller may retry.
var ErrLockTimeout = errors.New("batch is busy: lock not acquired in time")
