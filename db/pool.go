package db

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/quantity"
)

// PoolOptions tune the connection pool.
type PoolOptions struct {
	MaxConns int32
	// SimpleProtocol sends queries without server-side prepared statements,
	// for PgBouncer in transaction mode older than 1.21.
	SimpleProtocol bool
}

// nameParameterTypes tells pgx which PostgreSQL type our Go parameter
// types stand for. The extended protocol learns it from the server; the
// simple protocol must encode them as text without asking.
func nameParameterTypes(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	m.RegisterDefaultPgType(uuid.UUID{}, "uuid")
	m.RegisterDefaultPgType([]uuid.UUID{}, "_uuid")
	m.RegisterDefaultPgType(uuid.NullUUID{}, "uuid")
	m.RegisterDefaultPgType(quantity.Quantity(0), "numeric")
	m.RegisterDefaultPgType([]quantity.Quantity{}, "_numeric")
	return nil
}

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string, opts PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.SimpleProtocol {
		// Every query is planned for its literal values then, so it needs
		// no plan_cache_mode, which PgBouncer refuses as a startup parameter.
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		cfg.AfterConnect = nameParameterTypes
	} else {
		// List queries use "($1 IS NULL OR col = $1)" filters; a generic plan
		// would not use the column's index, so plan every execution for its
		// actual parameters.
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "batchtrack"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return pool, nil
}
