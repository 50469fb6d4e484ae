package db_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"batchtrack/db"
)

// Which failures mean "the database is unavailable" (503, retry with the
// key), and which of them leave a commit's fate unknown: a group of
// consumes is run again one by one only when the server itself reported
// the failure, so that nothing is carried out twice.
func TestUnavailableAndRolledBack(t *testing.T) {
	pg := func(code string) error { return fmt.Errorf("exec: %w", &pgconn.PgError{Code: code}) }
	refused := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := pgx.Connect(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
		return err
	}()
	tests := []struct {
		name                    string
		err                     error
		unavailable, rolledBack bool
	}{
		{"connection refused", refused, true, false},
		{"connection broken mid-statement", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true, false},
		{"server shutting down (57P01)", pg("57P01"), true, false},
		{"server starting (57P03)", pg("57P03"), true, false},
		{"connection exception (08006)", pg("08006"), true, false},
		{"too many connections (53300)", pg("53300"), true, false},
		{"check constraint (23514)", pg("23514"), false, true},
		{"unique violation (23505)", pg("23505"), false, true},
		{"lock timeout (55P03)", pg("55P03"), false, true},
		{"no rows", pgx.ErrNoRows, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(db.Translate(tt.err), db.ErrUnavailable); got != tt.unavailable {
				t.Errorf("unavailable = %v, want %v (%v)", got, tt.unavailable, tt.err)
			}
			if got := db.RolledBack(tt.err); got != tt.rolledBack {
				t.Errorf("rolled back = %v, want %v", got, tt.rolledBack)
			}
		})
	}
}
