package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationFiles are the numbered SQL migrations, applied by goose and read
// by sqlc as its schema, so the two can never disagree.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate applies every migration not yet applied. It is safe to call from
// several instances at once: goose takes a lock (migrationLock).
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return MigrateTo(ctx, pool, logger, 0)
}

// migrationLock keeps two instances from migrating at once. Behind
// PgBouncer in transaction mode (why a pool uses the simple protocol) a
// session's advisory lock may be taken on one server connection and
// released on another; goose's lock row in a table works through a pooler.
// Either is taken only when a migration is pending.
func migrationLock(pool *pgxpool.Pool) (goose.ProviderOption, error) {
	if pool.Config().ConnConfig.DefaultQueryExecMode == pgx.QueryExecModeSimpleProtocol {
		locker, err := lock.NewPostgresTableLocker()
		return goose.WithLocker(locker), err
	}
	locker, err := lock.NewPostgresSessionLocker()
	return goose.WithSessionLocker(locker), err
}

// MigrateTo applies the migrations up to version (0: all), for tests that
// seed data in an older schema.
func MigrateTo(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, version int64) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()

	locking, err := migrationLock(pool)
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub, locking)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	var results []*goose.MigrationResult
	if version > 0 {
		results, err = provider.UpTo(ctx, version)
	} else {
		results, err = provider.Up(ctx)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		if logger != nil {
			logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	return nil
}
