package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// bouncerEnv turns on the PgBouncer mode: test pools go through a
// PgBouncer in transaction pooling mode with the simple protocol, as the
// app runs behind Debian's PgBouncer 1.18 (no prepared statements kept in
// transaction mode). Templates, CREATE/DROP DATABASE and URL stay direct.
const bouncerEnv = "TEST_PGBOUNCER"

const bouncerDirPrefix = "batchtrack-pgbouncer-"

func bouncerWanted() bool {
	on, _ := strconv.ParseBool(os.Getenv(bouncerEnv))
	return on
}

// bouncer is a PgBouncer child process in front of the test server.
type bouncer struct {
	cmd    *exec.Cmd
	dir    string
	port   int
	exited chan struct{}
}

// startBouncer runs PgBouncer on a free loopback port, passing every
// database name through to the server at serverURL (a "*" entry), so the
// per-test databases need no configuration.
func startBouncer(ctx context.Context, serverURL string) (*bouncer, error) {
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/pgbouncer"); err != nil {
			return nil, fmt.Errorf("%s=1 needs pgbouncer: scripts/deps.sh pgbouncer", bouncerEnv)
		}
	}
	server, err := pgconn.ParseConfig(serverURL)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", bouncerDirPrefix)
	if err != nil {
		return nil, err
	}
	// A test binary that panics skips Main: the next run's sweep finds it.
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	// PgBouncer refuses to run as root; as root it runs as the postgres
	// user, which can also reach the embedded server's socket directory.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, errors.New("pgbouncer refuses to run as root and there is no postgres user to run it as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(dir, 0o755); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	target := fmt.Sprintf("host=%s port=%d user=%s", server.Host, server.Port, server.User)
	if server.Password != "" {
		target += " password=" + server.Password
	}
	ini := fmt.Sprintf(`[databases]
* = %s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
server_reset_query =
server_check_delay = 0
server_login_retry = 1
ignore_startup_parameters = extra_float_digits
`, target, port)
	iniPath := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(iniPath, []byte(ini), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "pgbouncer.log"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, iniPath)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	b := &bouncer{cmd: cmd, dir: dir, port: port, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(b.exited)
	}()
	for {
		conn, err := pgconn.Connect(ctx, b.url(server.Database))
		if err == nil {
			_ = conn.Close(ctx)
			return b, nil
		}
		select {
		case <-b.exited:
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("pgbouncer exited: %s", strings.TrimSpace(string(log)))
		case <-ctx.Done():
			_ = b.close()
			return nil, fmt.Errorf("pgbouncer did not answer: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// url is database name on the server, reached through PgBouncer.
func (b *bouncer) url(name string) string {
	u := url.URL{Scheme: "postgres", User: url.User("bouncer"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port)),
		Path: "/" + name, RawQuery: "sslmode=disable"}
	return u.String()
}

func (b *bouncer) close() error {
	_ = b.cmd.Process.Signal(syscall.SIGINT) // PgBouncer's immediate shutdown
	select {
	case <-b.exited:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
	return os.RemoveAll(b.dir)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
