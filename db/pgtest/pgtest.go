// Package pgtest gives each test a real PostgreSQL database of its own,
// already migrated, dropped when the test ends.
//
// A test binary starts one private cluster (package embedded, with fsync off)
// on first use, migrates a template database once, and copies it for every
// test with CREATE DATABASE ... TEMPLATE. With TEST_DATABASE_URL set, the
// server it names is used instead (its role needs CREATEDB); templates and
// databases there carry a per-run prefix so concurrent runs do not collide.
// With TEST_PGBOUNCER=1 the pools tests get go through a PgBouncer in
// transaction mode (started here) with the simple protocol, as the app runs
// behind Debian's PgBouncer 1.18; templates and CREATE DATABASE stay direct.
//
// Packages that use pgtest should stop the cluster from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without it the server still shuts itself down when the test binary exits
// (embedded asks the kernel to signal it), and the next run removes the
// leftover directory.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/db"
	"batchtrack/db/embedded"
)

// Options tune a test's database.
type Options struct {
	// MaxConns caps the test's pool; 0 means 20. The test cluster allows
	// 300 connections in all.
	MaxConns int32
}

// New returns a pool on a fresh, migrated database, dropped when t ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	_, pool := NewDatabase(t, Options{})
	return pool
}

// NewWithOptions is New with a bigger (or smaller) pool.
func NewWithOptions(t testing.TB, opts Options) *pgxpool.Pool {
	t.Helper()
	_, pool := NewDatabase(t, opts)
	return pool
}

// NewDatabase returns the URL of a fresh, migrated database and a pool on
// it; both are closed and the database dropped when t ends. With
// TEST_PGBOUNCER=1 the pool goes through PgBouncer and the URL stays
// direct (for sessions: LISTEN, DDL).
func NewDatabase(t testing.TB, opts Options) (string, *pgxpool.Pool) {
	t.Helper()
	srv := sharedServer(t)
	dbURL := srv.newDatabase(t)
	maxConns := opts.MaxConns
	if maxConns == 0 {
		maxConns = 20
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// TEST_DB_SIMPLE_PROTOCOL=true runs a suite as it runs behind PgBouncer;
	// TEST_PGBOUNCER=1 runs it through one.
	simple, _ := strconv.ParseBool(os.Getenv("TEST_DB_SIMPLE_PROTOCOL"))
	poolURL := dbURL
	if srv.bouncer != nil {
		poolURL, simple = srv.bouncer.url(databaseName(dbURL)), true
	}
	pool, err := db.Open(ctx, poolURL, db.PoolOptions{MaxConns: maxConns, SimpleProtocol: simple})
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", redact(poolURL), err)
	}
	t.Cleanup(pool.Close) // runs before the drop registered earlier
	return dbURL, pool
}

// URL returns the URL of a fresh, migrated database, dropped (with its
// remaining connections) when t ends; for tests that start the whole app.
// It is direct even with TEST_PGBOUNCER=1.
func URL(t testing.TB) string {
	t.Helper()
	return sharedServer(t).newDatabase(t)
}

// Main runs the tests, then stops the test cluster and removes its files.
func Main(m *testing.M) {
	code := m.Run()
	if err := shared.close(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// shared is the one server of this test binary. A package-level value is
// the point here: every test of the binary shares the cluster it starts.
var shared lazyServer

type lazyServer struct {
	once sync.Once
	srv  *server
	err  error
}

func sharedServer(t testing.TB) *server {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.srv, shared.err = startServer(ctx, os.Getenv("TEST_DATABASE_URL"))
		if shared.err == nil && bouncerWanted() {
			shared.srv.bouncer, shared.err = startBouncer(ctx, shared.srv.adminURL)
		}
	})
	if shared.err != nil {
		t.Fatalf("pgtest: %v", shared.err)
	}
	return shared.srv
}

func (l *lazyServer) close() error {
	var err error
	if l.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = l.srv.close(ctx)
	}
	return err
}

// server hands out databases copied from a migrated template.
type server struct {
	adminURL string // a database to issue CREATE/DROP DATABASE from
	admin    *pgxpool.Pool
	prefix   string // "" on our own cluster; per run on a shared server
	template string
	strategy string // CREATE DATABASE STRATEGY; "" for the server's default
	next     atomic.Int64

	cluster *embedded.Cluster // nil on TEST_DATABASE_URL
	workDir string
	bouncer *bouncer // TEST_PGBOUNCER=1
}

// startServer uses sharedURL when set, else starts a private cluster.
func startServer(ctx context.Context, sharedURL string) (*server, error) {
	if sharedURL != "" {
		srv, err := newServer(ctx, sharedURL, runPrefix(time.Now()))
		if err != nil {
			return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		return srv, nil
	}
	sweepStaleDirs(os.TempDir())
	dir, err := os.MkdirTemp("", workDirPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cluster, err := embedded.Start(ctx, embedded.Options{
		DataDir:      dir,
		Logger:       slog.New(slog.DiscardHandler),
		NoDurability: true,
		Settings: map[string]string{
			// Concurrency tests run a couple of hundred sessions at once.
			"max_connections": "300",
			"shared_buffers":  "32MB",
			// Lets CREATE DATABASE ... STRATEGY FILE_COPY skip the WAL:
			// a test database costs ~45 ms instead of ~80 ms.
			"wal_level":       "minimal",
			"max_wal_senders": "0",
		},
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	srv, err := newServer(ctx, cluster.URL(), "")
	if err != nil {
		_ = cluster.Stop(ctx)
		removeClusterDirs(dir, cluster)
		return nil, err
	}
	srv.cluster = cluster
	srv.workDir = dir
	var version int
	if err := srv.admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err == nil && version >= 150000 {
		srv.strategy = "FILE_COPY"
	}
	return srv, nil
}

// newServer migrates a template database on the server at adminURL.
func newServer(ctx context.Context, adminURL, prefix string) (*server, error) {
	cfg, err := pgxpool.ParseConfig(adminURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 4
	admin, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	srv := &server{adminURL: adminURL, admin: admin, prefix: prefix, template: prefix + "batchtrack_template"}
	if err := srv.prepare(ctx); err != nil {
		admin.Close()
		return nil, err
	}
	return srv, nil
}

func (s *server) prepare(ctx context.Context) error {
	var canCreate bool
	err := s.admin.QueryRow(ctx, "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&canCreate)
	if err != nil {
		return err
	}
	if !canCreate {
		return errors.New("the role may not create databases: ALTER ROLE ... CREATEDB")
	}
	if s.prefix != "" {
		s.dropAbandoned(ctx, time.Now().Add(-24*time.Hour))
	}
	if err := s.drop(ctx, s.template); err != nil {
		return err
	}
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.template}.Sanitize()); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	// Copies are only possible while nobody is connected to the template,
	// so this pool must be gone before the first test asks for one.
	pool, err := db.Open(ctx, withDatabase(s.adminURL, s.template), db.PoolOptions{MaxConns: 2})
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool, nil); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	return nil
}

// newDatabase copies the template into a database dropped when t ends.
func (s *server) newDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("%stest_%d", s.prefix, s.next.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.create(ctx, name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.drop(ctx, name); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(s.adminURL, name)
}

func (s *server) create(ctx context.Context, name string) error {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{s.template}.Sanitize()
	if s.strategy != "" {
		sql += " STRATEGY " + s.strategy
	}
	_, err := s.admin.Exec(ctx, sql)
	return err
}

// drop uses FORCE because an app under test may still hold connections.
func (s *server) drop(ctx context.Context, name string) error {
	_, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// close drops the template from a shared server, or stops our cluster and
// removes its files.
func (s *server) close(ctx context.Context) error {
	var errs []error
	if s.bouncer != nil {
		errs = append(errs, s.bouncer.close())
	}
	if s.cluster == nil {
		if err := s.drop(ctx, s.template); err != nil {
			errs = append(errs, err)
		}
	}
	s.admin.Close()
	if s.cluster != nil {
		errs = append(errs, s.cluster.Stop(ctx))
		removeClusterDirs(s.workDir, s.cluster)
	}
	return errors.Join(errs...)
}

// runPrefix names one run's databases on a shared server; the timestamp
// lets later runs recognise what a killed run left behind.
func runPrefix(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("bt%d_%s_", now.Unix(), hex.EncodeToString(b))
}

var runPrefixPattern = regexp.MustCompile(`^bt([0-9]+)_[0-9a-f]{6}_`)

// dropAbandoned drops databases of runs started before cutoff; a run that
// ended normally left none.
func (s *server) dropAbandoned(ctx context.Context, cutoff time.Time) {
	rows, err := s.admin.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'bt%'")
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		m := runPrefixPattern.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		if ts, err := strconv.ParseInt(m[1], 10, 64); err == nil && time.Unix(ts, 0).Before(cutoff) {
			_ = s.drop(ctx, name)
		}
	}
}

// withDatabase points a connection string, URL or keyword/value form, at
// another database.
func withDatabase(connString, name string) string {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err == nil {
			u.Path = "/" + name
			u.RawPath = ""
			return u.String()
		}
	}
	// In the keyword/value form a later setting overrides an earlier one.
	return connString + " dbname='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name) + "'"
}

func databaseName(connString string) string {
	cfg, err := pgconn.ParseConfig(connString)
	if err != nil {
		return ""
	}
	return cfg.Database
}

// redact hides a password in error messages.
func redact(connString string) string {
	if u, err := url.Parse(connString); err == nil && u.User != nil {
		return u.Redacted()
	}
	return connString
}

const (
	workDirPrefix = "batchtrack-pgtest-"
	ownerFile     = "owner.pid"
)

// sweepStaleDirs removes the cluster directories of earlier test binaries
// that exited without Main: their owner process and server are gone.
func sweepStaleDirs(tmp string) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, workDirPrefix+"*"))
	bouncers, _ := filepath.Glob(filepath.Join(tmp, bouncerDirPrefix+"*"))
	dirs = append(dirs, bouncers...)
	for _, dir := range dirs {
		raw, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // starting right now, or not ours
		}
		owner, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil || alive(owner) {
			continue
		}
		if pm, err := os.ReadFile(filepath.Join(dir, "pgdata", "postmaster.pid")); err == nil {
			pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pm), "\n", 2)[0]))
			if alive(pid) {
				continue // still shutting down; the next run gets it
			}
		}
		_ = os.RemoveAll(dir)
	}
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func removeClusterDirs(workDir string, cluster *embedded.Cluster) {
	_ = os.RemoveAll(workDir)
	if cluster != nil && cluster.DataDir() != workDir {
		_ = os.RemoveAll(cluster.DataDir())
	}
}
