package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartOrAttach starts the cluster in opts.DataDir, or, when another
// process (a running `batchtrack serve`) already runs it, connects to that
// server: so the CLI works beside the web app.
func StartOrAttach(ctx context.Context, opts Options) (*Cluster, error) {
	c, err := Start(ctx, opts)
	if errors.Is(err, ErrRunning) {
		return Attach(ctx, opts)
	}
	return c, err
}

// Attach connects to the server another process started on opts.DataDir,
// reading its port and socket directory from postmaster.pid, and waits
// until it accepts connections. Stop on the result leaves the server
// running. Only DataDir, Database, Logger and StartTimeout are used.
func Attach(ctx context.Context, opts Options) (*Cluster, error) {
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	dataDir, err := Locate(opts.DataDir)
	if err != nil {
		return nil, err
	}
	pgdata := filepath.Join(dataDir, "pgdata")
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for {
		c, err := attachOnce(ctx, dataDir, pgdata, opts.Database)
		if err == nil {
			c.logger = opts.Logger
			opts.Logger.Info("postgres: using the server already running", "data_dir", dataDir, "pid", c.pid, "port", c.port)
			return c, nil
		}
		if errors.Is(err, errNoServer) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("embedded postgres: the running server on %s did not accept connections in time: %w", dataDir, err)
		case <-poll.C:
		}
	}
}

var errNoServer = errors.New("no server is running")

func attachOnce(ctx context.Context, dataDir, pgdata, database string) (*Cluster, error) {
	raw, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("embedded postgres: %w on %s", errNoServer, pgdata)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	// postmaster.pid: pid, data directory, start time, port, socket
	// directory, listen address, shared memory key, status.
	lines := strings.Split(string(raw), "\n")
	field := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	pid, _ := strconv.Atoi(field(0))
	if liveness(pid, pgdata) != serverRunsHere {
		return nil, fmt.Errorf("embedded postgres: %w on %s (stale postmaster.pid)", errNoServer, pgdata)
	}
	port, err := strconv.Atoi(field(3))
	if err != nil || field(4) == "" || field(7) != "ready" {
		return nil, fmt.Errorf("embedded postgres: the server on %s is not ready yet", pgdata)
	}
	c := &Cluster{dataDir: dataDir, socketDir: field(4), port: port, database: database,
		logPath: filepath.Join(dataDir, "postgresql.log"), pid: pid, attached: true}
	if pw, err := os.ReadFile(filepath.Join(dataDir, "password")); err == nil {
		c.password = string(bytes.TrimSpace(pw))
	}
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	return c, conn.Close(ctx)
}

// Locate is the directory a cluster for requested lives in: requested
// itself, or the fallback Start uses when the server's user cannot reach
// it (see the package comment).
func Locate(requested string) (string, error) {
	owner, err := currentServerUser()
	if err != nil {
		return "", err
	}
	return resolveDataDir(requested, owner, slog.New(slog.DiscardHandler))
}

// Remove deletes the cluster for requested (wherever Locate puts it), with
// all its data; it refuses with ErrRunning while a server runs on it. It
// returns the directory it removed, "" when there was none.
func Remove(requested string) (string, error) {
	dir, err := Locate(requested)
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err := checkStopped(dir); err != nil {
		return "", err
	}
	// The socket directory Start chose for a long data directory path.
	_ = os.RemoveAll(filepath.Join(os.TempDir(), "batchtrack-pg-sock-"+pathHash(dir)))
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("embedded postgres: %w", err)
	}
	return dir, nil
}

// CheckStopped returns ErrRunning when a server runs on the cluster for
// requested.
func CheckStopped(requested string) error {
	dir, err := Locate(requested)
	if err != nil {
		return err
	}
	return checkStopped(dir)
}

func checkStopped(dir string) error {
	pgdata := filepath.Join(dir, "pgdata")
	raw, err := os.ReadFile(filepath.Join(pgdata, "postmaster.pid"))
	if err != nil {
		return nil
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	if liveness(pid, pgdata) != serverGone {
		return fmt.Errorf("embedded postgres: a server (pid %d) is %w on %s; stop it first", pid, ErrRunning, pgdata)
	}
	return nil
}
