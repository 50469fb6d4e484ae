// Package embedded runs a private PostgreSQL cluster from the system's
// server binaries, for `batchtrack serve` without DATABASE_URL and for tests.
//
// Layout of Options.DataDir (mode 0700):
//
//	pgdata/          the cluster (PGDATA), created by initdb on first start
//	postgresql.log   the server's log (rotated to .old past 16 MiB at start)
//	password         the superuser's password for TCP connections (0600)
//	.s.PGSQL.<port>  the Unix socket, unless the path would be too long
//
// Authentication: initdb runs with --auth-local=trust --auth-host=scram-sha-256.
// Trust on the Unix socket is safe because the socket lives in a 0700
// directory that only the server's user (and root) can enter; TCP on
// 127.0.0.1 needs the generated password. URL uses the socket, TCPURL the
// password.
//
// As root, the server runs as the postgres user, and when that user cannot
// traverse to DataDir (a checkout under a 0700 home) the data goes to a
// directory it owns instead; Cluster.DataDir says where, and Start logs it.
//
// One process owns a running cluster. Another (the CLI beside a running
// `batchtrack serve`) uses it through Attach or StartOrAttach, whose Stop
// leaves it running; Remove deletes a stopped cluster.
package embedded

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configure a cluster.
type Options struct {
	// DataDir holds the cluster; created when missing.
	DataDir string
	// Logger receives start/stop notes; nil discards them.
	Logger *slog.Logger
	// Port is the TCP port on 127.0.0.1; 0 picks a free one at each start.
	Port int
	// Database is created on first start; "" means "batchtrack".
	Database string
	// NoDurability turns off fsync, synchronous_commit and
	// full_page_writes: a crash may corrupt the cluster. Only for
	// throwaway test clusters.
	NoDurability bool
	// Settings are extra server settings (max_connections, shared_buffers...).
	Settings map[string]string
	// BinDir overrides where initdb and postgres are looked up.
	BinDir string
	// StartTimeout bounds initdb plus startup; 0 means one minute.
	StartTimeout time.Duration
}

// withDefaults fills in what Start and Attach take when it is not given.
func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Database == "" {
		o.Database = "batchtrack"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = time.Minute
	}
	return o
}

// Cluster is a running server started by Start.
type Cluster struct {
	dataDir   string
	socketDir string
	port      int
	database  string
	password  string
	logPath   string
	logger    *slog.Logger
	pid       int
	attached  bool // started by another process: Stop leaves it running

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the postmaster has exited
	waitErr error         // set before exited is closed

	stopMu  sync.Mutex
	stopped bool
	stopErr error
}

// superuser is the role initdb creates; a fixed name keeps URLs the same
// whoever runs the server.
const superuser = "batchtrack"

// maxSocketPath is sizeof(sun_path) minus the terminating NUL.
const maxSocketPath = 107

// Start starts the cluster in opts.DataDir, running initdb first when the
// directory holds no cluster yet, and returns once the server accepts
// connections and the database exists.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.DataDir == "" {
		return nil, errors.New("embedded postgres: no data directory given")
	}
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	began := time.Now()

	owner, err := currentServerUser()
	if err != nil {
		return nil, err
	}
	dataDir, err := resolveDataDir(opts.DataDir, owner, opts.Logger)
	if err != nil {
		return nil, err
	}
	pgdata := filepath.Join(dataDir, "pgdata")
	bins, err := findBinaries(opts.BinDir, installRoots, os.Getenv("PATH"), dataMajor(pgdata))
	if err != nil {
		return nil, err
	}
	if err := owner.ensureDir(dataDir); err != nil {
		return nil, fmt.Errorf("embedded postgres: data directory: %w", err)
	}
	if err := ensurePrivate(dataDir, owner); err != nil {
		return nil, err
	}
	if dataMajor(pgdata) == 0 {
		if err := initCluster(ctx, bins, dataDir, owner, opts.NoDurability); err != nil {
			return nil, err
		}
		opts.Logger.Info("postgres: initialized a new cluster", "data_dir", dataDir, "bin_dir", bins.dir)
	}
	socketDir, err := chooseSocketDir(dataDir, owner)
	if err != nil {
		return nil, err
	}
	if err := clearStaleLocks(pgdata, socketDir); err != nil {
		return nil, err
	}

	c := &Cluster{
		dataDir:   dataDir,
		socketDir: socketDir,
		database:  opts.Database,
		logPath:   filepath.Join(dataDir, "postgresql.log"),
		logger:    opts.Logger,
	}
	rotateLog(c.logPath)
	// A port picked free can be taken before the server binds it; try again
	// with another.
	for attempt := 1; ; attempt++ {
		c.port = opts.Port
		if c.port == 0 {
			if c.port, err = freePort(); err != nil {
				return nil, err
			}
		}
		err = c.launch(ctx, bins, pgdata, owner, opts)
		if err == nil {
			break
		}
		if opts.Port != 0 || attempt == 3 || !errors.Is(err, errPortTaken) {
			return nil, err
		}
	}
	if err := c.prepare(ctx); err != nil {
		_ = c.Stop(context.Background())
		return nil, err
	}
	opts.Logger.Info("postgres: started", "data_dir", dataDir, "socket_dir", socketDir,
		"port", c.port, "pid", c.cmd.Process.Pid, "version", bins.major, "took", time.Since(began).Round(time.Millisecond))
	return c, nil
}

// resolveDataDir returns the absolute directory the cluster will live in:
// the requested one, or a fallback when the server's user cannot reach it.
func resolveDataDir(requested string, owner serverUser, logger *slog.Logger) (string, error) {
	abs, err := filepath.Abs(requested)
	if err != nil {
		return "", fmt.Errorf("embedded postgres: data directory: %w", err)
	}
	if owner.canTraverse(abs) {
		return abs, nil
	}
	fallback := owner.fallbackDir(abs)
	if !owner.canTraverse(fallback) {
		return "", fmt.Errorf("embedded postgres: the %s user can reach neither %s nor %s: choose a data directory outside private home directories", owner.name, abs, fallback)
	}
	logger.Warn("postgres: the data directory is not reachable by the user the server runs as (a parent directory lacks o+x); keeping the cluster elsewhere",
		"requested", abs, "data_dir", fallback, "user", owner.name)
	return fallback, nil
}

// ensurePrivate refuses a directory that someone else could have planted,
// which matters for the fallbacks under world-writable /tmp.
func ensurePrivate(dir string, owner serverUser) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || (int(st.Uid) != owner.uid && int(st.Uid) != os.Geteuid()) {
		return fmt.Errorf("embedded postgres: %s is not a directory owned by the server's user", dir)
	}
	return nil
}

// initCluster runs initdb into a scratch directory and renames it into
// place, so a run killed halfway leaves no half-made cluster behind.
func initCluster(ctx context.Context, bins binaries, dataDir string, owner serverUser, noSync bool) error {
	pgdata := filepath.Join(dataDir, "pgdata")
	scratch := pgdata + ".init"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if entries, err := os.ReadDir(pgdata); err == nil && len(entries) > 0 {
		return fmt.Errorf("embedded postgres: %s is not empty but holds no PG_VERSION; move it away to start a new cluster", pgdata)
	}
	_ = os.Remove(pgdata)
	args := []string{
		"-D", scratch, "-U", superuser,
		"--encoding=UTF8", "--locale=C.UTF-8",
		"--auth-local=trust", "--auth-host=scram-sha-256",
		"--no-instructions",
	}
	if noSync {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, bins.initdb, args...)
	cmd.Dir = dataDir
	cmd.Env = serverEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: owner.cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("embedded postgres: initdb: %w: %s", err, tail(out, 2000))
	}
	if err := os.Rename(scratch, pgdata); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	return nil
}

// chooseSocketDir puts the socket in the data directory unless its path
// would exceed the kernel's limit for socket addresses.
func chooseSocketDir(dataDir string, owner serverUser) (string, error) {
	if len(dataDir)+len("/.s.PGSQL.65535") <= maxSocketPath {
		return dataDir, nil
	}
	dir := filepath.Join(os.TempDir(), "batchtrack-pg-sock-"+pathHash(dataDir))
	if err := owner.ensureDir(dir); err != nil {
		return "", fmt.Errorf("embedded postgres: socket directory: %w", err)
	}
	if err := ensurePrivate(dir, owner); err != nil {
		return "", err
	}
	return dir, nil
}

// clearStaleLocks removes the lock files a killed server left behind. The
// server removes them itself when their PID is dead, but not when the PID
// has since been reused by a live process of the same user, which is
// common in containers; such a file would block every later start. A PID
// that is a live postgres process is left to the server's own interlock.
func clearStaleLocks(pgdata, socketDir string) error {
	pidFile := filepath.Join(pgdata, "postmaster.pid")
	raw, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(raw), "\n", 2)[0]))
	switch liveness(pid, pgdata) {
	case serverRunsHere:
		return fmt.Errorf("embedded postgres: a server (pid %d) is %w on %s; stop it first", pid, ErrRunning, pgdata)
	case serverAlive:
		return nil
	}
	_ = os.Remove(pidFile)
	locks, _ := filepath.Glob(filepath.Join(socketDir, ".s.PGSQL.*"))
	for _, l := range locks {
		_ = os.Remove(l)
	}
	return nil
}

// ErrRunning is returned by Start when another process's server already
// runs on the data directory; Attach connects to it instead.
var ErrRunning = errors.New("already running")

type serverState int

const (
	serverGone     serverState = iota // no such process, or not a postgres: the lock is stale
	serverAlive                       // alive, but not known to be ours: left to the server's interlock
	serverRunsHere                    // a postmaster on pgdata
)

// liveness tells what the pid in pgdata's postmaster.pid is.
func liveness(pid int, pgdata string) serverState {
	if pid <= 0 {
		return serverGone
	}
	switch args := processArgs(pid); {
	case args == nil && syscall.Kill(pid, 0) == nil:
		return serverAlive // no /proc to tell what it is
	case isPostgres(args):
		for i, a := range args {
			if a == "-D" && i+1 < len(args) && args[i+1] == pgdata {
				return serverRunsHere
			}
		}
		return serverAlive
	}
	return serverGone
}

// processArgs is pid's command line, nil when it is not running or /proc
// is unavailable.
func processArgs(pid int) []string {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(cmdline) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
}

// isPostgres recognises the postmaster (its own command line) and its
// children (which retitle themselves "postgres: ...").
func isPostgres(args []string) bool {
	return len(args) > 0 && (filepath.Base(args[0]) == "postgres" || strings.HasPrefix(args[0], "postgres:"))
}

var errPortTaken = errors.New("port already in use")

// launch starts the postmaster and waits until it accepts connections.
func (c *Cluster) launch(ctx context.Context, bins binaries, pgdata string, owner serverUser, opts Options) error {
	settings := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"port":                    strconv.Itoa(c.port),
		"unix_socket_directories": c.socketDir,
		"unix_socket_permissions": "0700",
		"logging_collector":       "off",
	}
	if opts.NoDurability {
		settings["fsync"] = "off"
		settings["synchronous_commit"] = "off"
		settings["full_page_writes"] = "off"
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := []string{"-D", pgdata}
	for _, k := range keys {
		args = append(args, "-c", k+"="+settings[k])
	}

	logFile, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("embedded postgres: log: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	logStart, _ := logFile.Seek(0, io.SeekEnd)

	// Started directly rather than through pg_ctl so that the postmaster is
	// our child: it gets its own process group (a Ctrl-C reaches us, and we
	// stop the server after the HTTP server has drained), and Pdeathsig
	// asks it for a fast shutdown if we die without calling Stop, kill -9
	// included. (Pdeathsig fires when the spawning OS thread exits; Go
	// only retires threads of goroutines that exit while locked to one.)
	cmd := exec.Command(bins.postgres, args...)
	cmd.Dir = pgdata
	cmd.Env = serverEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: owner.cred,
		Setpgid:    true,
		Pdeathsig:  syscall.SIGINT,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("embedded postgres: start %s: %w", bins.postgres, err)
	}
	c.cmd = cmd
	c.pid = cmd.Process.Pid
	c.exited = make(chan struct{})
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()

	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attemptCtx, c.databaseURL("postgres"))
		cancel()
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		select {
		case <-c.exited:
			log := c.logSince(logStart)
			if bytes.Contains(log, []byte("could not bind")) || bytes.Contains(log, []byte("could not create any TCP/IP sockets")) {
				return fmt.Errorf("embedded postgres: %w: port %d: %s", errPortTaken, c.port, tail(log, 2000))
			}
			return fmt.Errorf("embedded postgres: the server exited during startup (%v); log %s: %s", c.waitErr, c.logPath, tail(log, 2000))
		case <-ctx.Done():
			c.kill()
			return fmt.Errorf("embedded postgres: the server did not accept connections in time (%v): %w; log %s: %s", opts.StartTimeout, err, c.logPath, tail(c.logSince(logStart), 2000))
		case <-poll.C:
		}
	}
}

// prepare creates the database and the TCP password on first start, and
// whenever they went missing since.
func (c *Cluster) prepare(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.databaseURL("postgres"))
	if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.database).Scan(&exists); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.database}.Sanitize()); err != nil {
			return fmt.Errorf("embedded postgres: create database: %w", err)
		}
		c.logger.Info("postgres: created database", "database", c.database)
	}

	pwPath := filepath.Join(c.dataDir, "password")
	raw, err := os.ReadFile(pwPath)
	if err == nil && len(bytes.TrimSpace(raw)) > 0 {
		c.password = string(bytes.TrimSpace(raw))
		return nil
	}
	buf := make([]byte, 24)
	_, _ = rand.Read(buf)
	pw := hex.EncodeToString(buf)
	// Hex needs no quoting; ALTER ROLE takes no bind parameters.
	if _, err := conn.Exec(ctx, "ALTER ROLE "+superuser+" PASSWORD '"+pw+"'"); err != nil {
		return fmt.Errorf("embedded postgres: set password: %w", err)
	}
	if err := os.WriteFile(pwPath, []byte(pw+"\n"), 0o600); err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	c.password = pw
	return nil
}

// URL is a pgx connection URL for the database over the Unix socket.
func (c *Cluster) URL() string { return c.databaseURL(c.database) }

// TCPURL is a connection URL for the database over 127.0.0.1, with the
// password; for clients that cannot use the socket.
func (c *Cluster) TCPURL() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + c.database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func (c *Cluster) databaseURL(database string) string {
	q := url.Values{}
	q.Set("host", c.socketDir)
	q.Set("port", strconv.Itoa(c.port))
	q.Set("sslmode", "disable")
	u := url.URL{Scheme: "postgres", User: url.User(superuser), Path: "/" + database, RawQuery: q.Encode()}
	return u.String()
}

// DataDir is where the cluster actually lives (see the package comment on
// fallbacks).
func (c *Cluster) DataDir() string { return c.dataDir }

// Port is the TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// PID is the postmaster's process id.
func (c *Cluster) PID() int { return c.pid }

// Attached reports whether the server was started by another process
// (see Attach).
func (c *Cluster) Attached() bool { return c.attached }

// Exited is closed when the server has exited, stopped or not.
func (c *Cluster) Exited() <-chan struct{} { return c.exited }

// LogPath is the server's log file.
func (c *Cluster) LogPath() string { return c.logPath }

// Stop shuts the server down: a fast shutdown (SIGINT, what `pg_ctl stop -m
// fast` sends: sessions are disconnected, a checkpoint is written), and if
// that has not finished when ctx is done, an immediate shutdown, which the
// next start recovers from the WAL. It is safe to call more than once,
// concurrently, on a nil Cluster, and after the server died. A Cluster from
// Attach is left running: its owner stops it.
func (c *Cluster) Stop(ctx context.Context) error {
	if c == nil || c.cmd == nil {
		return nil
	}
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if c.stopped {
		return c.stopErr
	}
	c.stopped = true
	select {
	case <-c.exited:
		return nil
	default:
	}
	began := time.Now()
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
		c.logger.Info("postgres: stopped", "data_dir", c.dataDir, "took", time.Since(began).Round(time.Millisecond))
		return nil
	case <-ctx.Done():
	}
	c.kill()
	c.stopErr = fmt.Errorf("embedded postgres: fast shutdown did not finish in time, used an immediate shutdown: %w", ctx.Err())
	c.logger.Warn("postgres: immediate shutdown", "data_dir", c.dataDir, "err", c.stopErr)
	return c.stopErr
}

// kill asks for an immediate shutdown and then kills the process group.
func (c *Cluster) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.exited:
		return
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.exited
}

func (c *Cluster) logSince(offset int64) []byte {
	f, err := os.Open(c.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	return b
}

// rotateLog keeps one previous log so a long-lived cluster's log stays bounded.
func rotateLog(path string) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 16<<20 {
		_ = os.Rename(path, path+".old")
	}
}

// serverEnv is our environment without libpq variables, which would
// otherwise change initdb's and the server's defaults behind our back.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("embedded postgres: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
