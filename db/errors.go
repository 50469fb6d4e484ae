package db

import (
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Sentinel errors for the SQLSTATEs the domain reacts to. Translate wraps
// them around the driver's error, so errors.Is works and the original
// detail stays available for logs.
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("unique constraint violated")
	ErrForeignKey  = errors.New("foreign key violated")
	ErrCheck       = errors.New("check constraint violated")
	ErrLockTimeout = errors.New("lock not acquired within lock_timeout")
	ErrDeadlock    = errors.New("deadlock detected")
)

// Error keeps the sentinel and the constraint that caused it.
type Error struct {
	Kind       error
	Constraint string
	Err        error
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Err.Error() }
func (e *Error) Unwrap() []error {
	return []error{e.Kind, e.Err}
}

// Translate maps driver errors to the sentinels above; others pass as is.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &Error{Kind: ErrNotFound, Err: err}
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	kind := map[string]error{
		"23505": ErrConflict,
		"23503": ErrForeignKey,
		"23514": ErrCheck,
		"55P03": ErrLockTimeout,
		"40P01": ErrDeadlock,
	}[pgErr.Code]
	if kind == nil {
		return err
	}
	return &Error{Kind: kind, Constraint: pgErr.ConstraintName, Err: err}
}

// ConstraintOf returns the constraint named by a translated error.
func ConstraintOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Constraint
	}
	return ""
}
