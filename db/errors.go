package db

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

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
	// ErrUnavailable: the server could not be reached, went away, or is
	// starting or shutting down. A write's outcome may be unknown.
	ErrUnavailable = errors.New("database unavailable")
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
	var e *Error
	if errors.As(err, &e) {
		return err // translated already
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		if unreachable(err) {
			return &Error{Kind: ErrUnavailable, Err: err}
		}
		return err
	}
	kind := map[string]error{
		"23505": ErrConflict,
		"23503": ErrForeignKey,
		"23514": ErrCheck,
		"55P03": ErrLockTimeout,
		"40P01": ErrDeadlock,
		"57P01": ErrUnavailable, // admin_shutdown
		"57P02": ErrUnavailable, // crash_shutdown
		"57P03": ErrUnavailable, // cannot_connect_now
		"53300": ErrUnavailable, // too_many_connections
	}[pgErr.Code]
	if kind == nil && strings.HasPrefix(pgErr.Code, "08") { // connection exceptions
		kind = ErrUnavailable
	}
	if kind == nil {
		return err
	}
	return &Error{Kind: kind, Constraint: pgErr.ConstraintName, Err: err}
}

// unreachable says whether err, from outside the server, means it could
// not be reached or the connection broke.
func unreachable(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE), pgconn.Timeout(err):
		return true
	}
	// pgx reports a connection it closed after an error in words only.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "closed pool") ||
		strings.Contains(msg, "failed to deallocate cached statement")
}

// RolledBack says whether err is the server's own report of a failed
// statement, so its transaction is known to have been rolled back. A
// broken connection leaves a commit's fate unknown.
func RolledBack(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && !errors.Is(Translate(err), ErrUnavailable)
}

// ConstraintOf returns the constraint named by a translated error.
func ConstraintOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Constraint
	}
	return ""
}
