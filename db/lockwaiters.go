package db

import (
	"context"

	"github.com/google/uuid"
)

// LockWaiter is a session waiting on a lock right now.
type LockWaiter struct {
	PID            int32
	WaitEvent      string
	WaitingSeconds float64
	BlockedBy      []int32
	Query          string
	BatchID        *uuid.UUID // the batch whose row it waits for, if any
}

// ListLockWaiters calls the lock_waiters() function of migration 00003.
// Hand-written because sqlc's catalog has no pg_locks and cannot type a
// function's result table.
func (s *Store) ListLockWaiters(ctx context.Context) ([]LockWaiter, error) {
	rows, err := s.Pool.Query(ctx, "SELECT pid, wait_event, waiting_seconds, blocked_by, query, batch_id FROM lock_waiters()")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LockWaiter
	for rows.Next() {
		var w LockWaiter
		if err := rows.Scan(&w.PID, &w.WaitEvent, &w.WaitingSeconds, &w.BlockedBy, &w.Query, &w.BatchID); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}
