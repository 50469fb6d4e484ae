package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { Main(m) }

func scalar[T any](t testing.TB, pool *pgxpool.Pool, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func databaseExists(t testing.TB, name string) bool {
	t.Helper()
	return scalar[bool](t, sharedServer(t).admin, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name)
}

func TestNewGivesIsolatedDatabases(t *testing.T) {
	a, b := New(t), New(t)
	nameA := scalar[string](t, a, "SELECT current_database()")
	nameB := scalar[string](t, b, "SELECT current_database()")
	if nameA == nameB {
		t.Fatalf("both pools are on database %s", nameA)
	}
	if _, err := a.Exec(context.Background(), "CREATE TABLE only_in_a (id int)"); err != nil {
		t.Fatal(err)
	}
	if scalar[bool](t, b, "SELECT to_regclass('only_in_a') IS NOT NULL") {
		t.Error("a table created in one test database is visible in another")
	}
}

func TestNewIsMigrated(t *testing.T) {
	pool := New(t)
	if !scalar[bool](t, pool, "SELECT to_regclass('goose_db_version') IS NOT NULL") {
		t.Fatal("goose_db_version missing: the database was not migrated")
	}
	applied := scalar[int64](t, pool, "SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied")
	if applied == 0 {
		t.Error("no migration recorded as applied")
	}
	// The copy must match the template exactly, or tests would run on a
	// schema the app never sees.
	tables := scalar[int64](t, pool, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'")
	if tables == 0 {
		t.Error("no tables besides goose_db_version: migrations did not create the schema")
	}
}

func TestDatabaseIsDroppedWhenTestEnds(t *testing.T) {
	var poolName, urlName string
	var held *pgx.Conn
	t.Run("uses databases", func(t *testing.T) {
		poolName = scalar[string](t, New(t), "SELECT current_database()")
		url := URL(t)
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		held = conn // left open on purpose: the drop must not wait for it
		if err := conn.QueryRow(context.Background(), "SELECT current_database()").Scan(&urlName); err != nil {
			t.Fatal(err)
		}
	})
	defer held.Close(context.Background())
	for _, name := range []string{poolName, urlName} {
		if name == "" || databaseExists(t, name) {
			t.Errorf("database %q still exists after its test ended", name)
		}
	}
}

func TestParallelTestsGetTheirOwnDatabase(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	for i := range 8 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			pool := New(t)
			name := scalar[string](t, pool, "SELECT current_database()")
			mu.Lock()
			defer mu.Unlock()
			if seen[name] {
				t.Errorf("database %s handed out twice", name)
			}
			seen[name] = true
		})
	}
}

func TestManyConnections(t *testing.T) {
	const n = 200
	pool := NewWithOptions(t, Options{MaxConns: n})
	if got := pool.Config().MaxConns; got != n {
		t.Fatalf("MaxConns = %d, want %d", got, n)
	}
	if free := scalar[int](t, pool, "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - (SELECT count(*) FROM pg_stat_activity)::int"); free < n && os.Getenv("TEST_DATABASE_URL") != "" {
		t.Skipf("the server at TEST_DATABASE_URL has room for %d more connections, not %d", free, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conns := make([]*pgxpool.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { conns[i], errs[i] = pool.Acquire(ctx) })
	}
	wg.Wait()
	// Released before any failure is reported: the pool's Close at cleanup
	// waits for every acquired connection.
	for _, c := range conns {
		if c != nil {
			c.Release()
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("connection %d of %d: %v", i+1, n, err)
		}
	}
}

func TestSharedServer(t *testing.T) {
	ctx := context.Background()
	own := sharedServer(t)
	abandoned := runPrefix(time.Now().Add(-48*time.Hour)) + "test_1"
	recent := runPrefix(time.Now().Add(-time.Hour)) + "test_1"
	for _, name := range []string{abandoned, recent} {
		if _, err := own.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = own.drop(ctx, name) })
	}

	// The private cluster stands in for a server named by TEST_DATABASE_URL.
	srv, err := newServer(ctx, own.adminURL, runPrefix(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{"abandoned": databaseExists(t, abandoned), "recent": databaseExists(t, recent), "template": databaseExists(t, srv.template)}
	want := map[string]bool{"abandoned": false, "recent": true, "template": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("databases after a shared run started (-want +got):\n%s", diff)
	}

	var name string
	t.Run("database", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, srv.newDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if name != srv.prefix+"test_1" {
			t.Errorf("database = %s, want %stest_1", name, srv.prefix)
		}
	})
	if err := srv.close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{name, srv.template} {
		if databaseExists(t, n) {
			t.Errorf("%s left on the shared server", n)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name, connString string
	}{
		{"url", "postgres://u:p@127.0.0.1:5432/postgres?sslmode=disable"},
		{"url on a socket", "postgres://u@/batchtrack?host=%2Ftmp%2Fsock+dir&port=5433"},
		{"url without database", "postgresql://u@localhost"},
		{"keyword/value", "host=127.0.0.1 port=5432 user=u dbname=postgres sslmode=disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := pgconn.ParseConfig(tt.connString)
			if err != nil {
				t.Fatal(err)
			}
			after, err := pgconn.ParseConfig(withDatabase(tt.connString, "test_7"))
			if err != nil {
				t.Fatal(err)
			}
			got := []any{after.Database, after.Host, after.Port, after.User, after.Password}
			want := []any{"test_7", before.Host, before.Port, before.User, before.Password}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSweepStaleDirs(t *testing.T) {
	root := t.TempDir()
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{ // name -> owner.pid contents ("" = none)
		"dead":     strconv.Itoa(exited.Process.Pid),
		"alive":    strconv.Itoa(os.Getpid()),
		"starting": "",
	}
	for name, owner := range dirs {
		dir := filepath.Join(root, workDirPrefix+name)
		if err := os.MkdirAll(filepath.Join(dir, "pgdata"), 0o700); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	sweepStaleDirs(root)
	got := map[string]bool{}
	for name := range dirs {
		_, err := os.Stat(filepath.Join(root, workDirPrefix+name))
		got[name] = err == nil
	}
	want := map[string]bool{"dead": false, "alive": true, "starting": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("directories left (-want +got):\n%s", diff)
	}
}

// BenchmarkNewDatabase measures what a test pays for its database: copy
// the template, open a pool, one query, close, drop. The sub-benchmarks
// compare PostgreSQL 15's two CREATE DATABASE strategies.
func BenchmarkNewDatabase(b *testing.B) {
	srv := sharedServer(b)
	for _, strategy := range []string{"WAL_LOG", "FILE_COPY"} {
		b.Run(strategy, func(b *testing.B) {
			copyOf := &server{adminURL: srv.adminURL, admin: srv.admin, template: srv.template, strategy: strategy}
			ctx := context.Background()
			i := 0
			var creating, dropping time.Duration
			for b.Loop() {
				i++
				name := fmt.Sprintf("bench_%s_%d", strategy, i)
				began := time.Now()
				if err := copyOf.create(ctx, name); err != nil {
					b.Fatal(err)
				}
				creating += time.Since(began)
				pool, err := pgxpool.New(ctx, withDatabase(srv.adminURL, name))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
					b.Fatal(err)
				}
				pool.Close()
				began = time.Now()
				if err := copyOf.drop(ctx, name); err != nil {
					b.Fatal(err)
				}
				dropping += time.Since(began)
			}
			b.ReportMetric(float64(creating.Microseconds())/float64(i)/1000, "create-ms/op")
			b.ReportMetric(float64(dropping.Microseconds())/float64(i)/1000, "drop-ms/op")
		})
	}
}

// With TEST_PGBOUNCER=1 test pools go through PgBouncer with the simple
// protocol, and what a transaction sets locally stays in it.
func TestPoolThroughPgBouncer(t *testing.T) {
	if !bouncerWanted() {
		t.Skip("TEST_PGBOUNCER is not set")
	}
	pool := New(t)
	cfg := pool.Config().ConnConfig
	if cfg.Port != uint16(sharedServer(t).bouncer.port) || cfg.DefaultQueryExecMode != pgx.QueryExecModeSimpleProtocol {
		t.Fatalf("pool on port %d in mode %v, want PgBouncer's %d with the simple protocol", cfg.Port, cfg.DefaultQueryExecMode, sharedServer(t).bouncer.port)
	}
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "SELECT set_config('lock_timeout', '1234ms', true)")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if got := scalar[string](t, pool, "SHOW lock_timeout"); got == "1234ms" {
			t.Fatal("a transaction's local setting leaked into a later one")
		}
	}
}
