package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the pool with its queries; InTx runs a function in a transaction.
type Store struct {
	Pool *pgxpool.Pool
	*Queries
}

// NewStore wraps a pool.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{Pool: pool, Queries: New(pool)}
}

// TxOptions set per-transaction limits.
type TxOptions struct {
	// LockTimeout bounds every lock wait inside the transaction (SET LOCAL
	// lock_timeout); zero keeps the server's setting.
	LockTimeout time.Duration
}

// InTx runs fn in a transaction: committed when fn returns nil, rolled back
// otherwise. The error returned is translated (see Translate).
func (s *Store) InTx(ctx context.Context, opts TxOptions, fn func(q *Queries) error) error {
	return s.InTxWith(ctx, opts, func(_ pgx.Tx, q *Queries) error { return fn(q) })
}

// InTxWith is InTx that also hands fn the transaction, for the statements
// written by hand rather than by sqlc (the trace walk).
func (s *Store) InTxWith(ctx context.Context, opts TxOptions, fn func(tx pgx.Tx, q *Queries) error) error {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return Translate(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	if opts.LockTimeout > 0 {
		if _, err := tx.Exec(ctx, "SELECT set_config('lock_timeout', $1, true)", LockTimeoutSetting(opts.LockTimeout)); err != nil {
			return Translate(err)
		}
	}
	if err := fn(tx, s.WithTx(tx)); err != nil {
		return Translate(err)
	}
	return Translate(tx.Commit(ctx))
}

// LockTimeoutSetting is d in PostgreSQL's lock_timeout syntax.
func LockTimeoutSetting(d time.Duration) string {
	return fmt.Sprintf("%dms", max(d.Milliseconds(), 1))
}

// ConsumePipelined runs LockBatchForConsume and then ConsumeBatch once for
// each of args (all for the same batch, applied in order, each seeing the
// ones before) in one transaction: the lock timeout and the statements go
// in one pipeline ending in one Sync, which PostgreSQL runs as one
// implicit transaction, committed at the Sync (or rolled back whole if a
// statement fails). One network round trip in all, none while the row lock
// is held, and no BEGIN or COMMIT statements to execute. It returns one
// row per arg and how long the lock took to get.
func (s *Store) ConsumePipelined(ctx context.Context, lockTimeout time.Duration, args ...ConsumeBatchParams) ([]ConsumeBatchRow, time.Duration, error) {
	if len(args) == 0 {
		return nil, 0, nil
	}
	rows := make([]ConsumeBatchRow, len(args))
	var waitStarted time.Time
	conn, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, 0, Translate(err)
	}
	defer conn.Release()

	b := &pgx.Batch{}
	// The pool plans every statement for its parameters (list queries need
	// that, see pool.go); the consume statements are the same every time,
	// so here a cached generic plan saves planning while the lock is held.
	b.Queue("SELECT set_config('lock_timeout', $1, true), set_config('plan_cache_mode', 'force_generic_plan', true)",
		LockTimeoutSetting(lockTimeout))
	b.Queue(lockBatchForConsume, args[0].BatchID).QueryRow(func(r pgx.Row) error {
		return r.Scan(&waitStarted)
	})
	for i, arg := range args {
		row := &rows[i]
		// Same arguments and columns as the generated ConsumeBatch; a test
		// runs both and compares, so the two cannot drift apart.
		b.Queue(consumeBatch, arg.IdempotencyCaller, arg.IdempotencyKey, arg.Quantity, arg.BatchID, arg.AllowPending, arg.Today,
			arg.ExpectedVersion, arg.EventTimezone, arg.Actor, arg.Reason, arg.RequestHash).QueryRow(func(r pgx.Row) error {
			return r.Scan(&row.AvailableBefore, &row.VersionBefore, &row.QualityStatus, &row.ExpiryDate,
				&row.ConsumptionID, &row.ConsumedAt, &row.QuantityAvailableAfter, &row.VersionAfter,
				&row.EventID, &row.LockAcquired, &row.BatchNumber, &row.ProductID, &row.LocationID,
				&row.ProductionDate, &row.BestBeforeDate, &row.QuantityProduced, &row.UnitOfMeasure,
				&row.Notes, &row.CreatedAt, &row.UpdatedAt, &row.ProductGtin, &row.ProductName,
				&row.LocationGln, &row.LocationName, &row.KeyTaken)
		})
	}
	err = conn.SendBatch(ctx, b).Close()
	if conn.Conn().PgConn().TxStatus() != 'I' {
		// Not expected after a Sync; never hand back a connection inside a
		// transaction.
		conn.Conn().Close(context.WithoutCancel(ctx)) //nolint:errcheck
	}
	if err != nil {
		return nil, 0, Translate(err)
	}
	return rows, max(rows[0].LockAcquired.Sub(waitStarted), 0), nil
}
