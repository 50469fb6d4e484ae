package embedded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// openTempDir is a fresh directory that the postgres user can traverse
// (t.TempDir and os.MkdirTemp make theirs 0700).
func openTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "embedded-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func dataDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(openTempDir(t), "data")
}

func start(t *testing.T, opts Options) *Cluster {
	t.Helper()
	c, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
		// A fallback directory lies outside the test's temporary one, and
		// its parent (/var/lib/postgresql/batchtrack) goes if it is empty.
		_ = os.RemoveAll(c.DataDir())
		if requested, _ := filepath.Abs(opts.DataDir); c.DataDir() != requested {
			_ = os.Remove(filepath.Dir(c.DataDir()))
		}
	})
	return c
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func queryString(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(context.Background(), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func exec1(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestStartKeepsDataAcrossRestarts(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	c := start(t, Options{DataDir: dir})
	if c.DataDir() != dir {
		t.Errorf("DataDir = %s, want the requested %s", c.DataDir(), dir)
	}

	conn := connect(t, c.URL())
	got := map[string]string{
		"database": queryString(t, conn, "SELECT current_database()"),
		"fsync":    queryString(t, conn, "SHOW fsync"),
		"listen":   queryString(t, conn, "SHOW listen_addresses"),
		"encoding": queryString(t, conn, "SHOW server_encoding"),
	}
	want := map[string]string{"database": "batchtrack", "fsync": "on", "listen": "127.0.0.1", "encoding": "UTF8"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server settings (-want +got):\n%s", diff)
	}
	exec1(t, conn, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before restart')")
	_ = conn.Close(context.Background())

	fi, err := os.Stat(filepath.Join(c.DataDir(), "password"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("password file mode = %o, want 600", perm)
	}
	tcp := connect(t, c.TCPURL())
	if got := queryString(t, tcp, "SELECT inet_server_addr()::text"); got != "127.0.0.1/32" {
		t.Errorf("TCPURL connected to %q, want 127.0.0.1/32", got)
	}
	_ = tcp.Close(context.Background())
	badPassword := strings.Replace(c.TCPURL(), ":"+c.password+"@", ":wrong@", 1)
	if conn, err := pgx.Connect(context.Background(), badPassword); err == nil {
		_ = conn.Close(context.Background())
		t.Error("TCP connection with a wrong password succeeded; want scram-sha-256 to refuse it")
	}

	if err := c.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	again := start(t, Options{DataDir: dir})
	conn = connect(t, again.URL())
	if got := queryString(t, conn, "SELECT v FROM kept"); got != "before restart" {
		t.Errorf("after restart kept.v = %q, want %q", got, "before restart")
	}
	if again.password != c.password {
		t.Error("restart generated a new password; want the stored one reused")
	}
}

func TestNoDurabilityAndSettings(t *testing.T) {
	t.Parallel()
	c := start(t, Options{
		DataDir:      dataDir(t),
		NoDurability: true,
		Settings:     map[string]string{"max_connections": "300", "shared_buffers": "16MB"},
	})
	conn := connect(t, c.URL())
	got := map[string]string{}
	for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes", "max_connections", "shared_buffers"} {
		got[name] = queryString(t, conn, "SHOW "+name)
	}
	want := map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300", "shared_buffers": "16MB"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

// serverUID is the uid the server runs as.
func serverUID(t *testing.T) serverUser {
	t.Helper()
	u, err := currentServerUser()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestStartAfterKilledServer(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	c := start(t, Options{DataDir: dir})
	conn := connect(t, c.URL())
	exec1(t, conn, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('committed')")
	_ = conn.Close(context.Background())

	// A crash: the whole server, backends included, dies without cleanup.
	if err := syscall.Kill(-c.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.exited
	// Its backends die a moment after the postmaster, and until they have
	// the new server refuses the shared memory they are still attached to
	// ("pre-existing shared memory block is still in use"): seen once on a
	// loaded machine. A crash this test means has happened in full.
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(-c.PID(), 0) == nil; {
		if time.Now().After(deadline) {
			t.Fatal("the killed server's processes are still there after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	pidFile := filepath.Join(c.DataDir(), "pgdata", "postmaster.pid")
	stale, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("want a stale postmaster.pid after kill -9: %v", err)
	}

	// Worse: the dead server's PID now belongs to a live process of the
	// same user, which the server's own check takes for a running server.
	sleeper := exec.Command("sleep", "60")
	sleeper.SysProcAttr = &syscall.SysProcAttr{Credential: serverUID(t).cred}
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	// Start returns once exec has begun, before the kernel has set up the
	// new program's arguments: until then /proc shows an empty command
	// line, which Start rightly cannot tell from a postgres it may not
	// touch (seen once on a loaded machine). Wait for "sleep".
	for deadline := time.Now().Add(10 * time.Second); !slices.Equal(processArgs(sleeper.Process.Pid), []string{"sleep", "60"}); {
		if time.Now().After(deadline) {
			t.Fatalf("the sleeper's command line is still %q after 10s", processArgs(sleeper.Process.Pid))
		}
		time.Sleep(time.Millisecond)
	}
	lines := strings.SplitN(string(stale), "\n", 2)
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(sleeper.Process.Pid)+"\n"+lines[1]), 0o600); err != nil {
		t.Fatal(err)
	}

	again := start(t, Options{DataDir: dir})
	conn = connect(t, again.URL())
	if got := queryString(t, conn, "SELECT v FROM kept"); got != "committed" {
		t.Errorf("after crash kept.v = %q, want %q", got, "committed")
	}
}

func TestSecondStartOnRunningClusterFails(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	start(t, Options{DataDir: dir})
	c, err := Start(context.Background(), Options{DataDir: dir})
	if err == nil {
		_ = c.Stop(context.Background())
		t.Fatal("second Start on a running cluster succeeded")
	}
	if !strings.Contains(err.Error(), "already running") || !errors.Is(err, ErrRunning) {
		t.Errorf("error = %q, want ErrRunning saying the server is already running", err)
	}
}

func TestAttachToRunningCluster(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	owner := start(t, Options{DataDir: dir})
	exec1(t, connect(t, owner.URL()), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('from the owner')")

	for _, tc := range []struct {
		name   string
		attach func(context.Context, Options) (*Cluster, error)
	}{
		{"Attach", Attach},
		{"StartOrAttach", StartOrAttach},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.attach(context.Background(), Options{DataDir: dir})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !c.Attached() || c.PID() != owner.PID() || c.Port() != owner.Port() || c.DataDir() != owner.DataDir() {
				t.Errorf("attached = %v, pid %d port %d dir %s; want the owner's pid %d port %d dir %s",
					c.Attached(), c.PID(), c.Port(), c.DataDir(), owner.PID(), owner.Port(), owner.DataDir())
			}
			for _, url := range []string{c.URL(), c.TCPURL()} {
				if got := queryString(t, connect(t, url), "SELECT v FROM kept"); got != "from the owner" {
					t.Errorf("kept.v over %s = %q", url, got)
				}
			}
			if err := c.Stop(context.Background()); err != nil {
				t.Fatalf("Stop of an attached cluster: %v", err)
			}
			// The owner's server still runs.
			if got := queryString(t, connect(t, owner.URL()), "SELECT v FROM kept"); got != "from the owner" {
				t.Errorf("after the attached Stop kept.v = %q", got)
			}
		})
	}
}

func TestAttachWithoutServer(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	c := start(t, Options{DataDir: dir})
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]string{"stopped cluster": dir, "no cluster": dataDir(t)} {
		if _, err := Attach(context.Background(), Options{DataDir: d}); err == nil || !strings.Contains(err.Error(), "no server is running") {
			t.Errorf("%s: Attach error = %v, want no server is running", name, err)
		}
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	running := dataDir(t)
	start(t, Options{DataDir: running})
	stopped := dataDir(t)
	c := start(t, Options{DataDir: stopped})
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		dir         string
		wantRemoved bool
		wantErr     error
	}{
		{"running server", running, false, ErrRunning},
		{"stopped server", stopped, true, nil},
		{"nothing there", dataDir(t), false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			removed, err := Remove(tc.dir)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Remove: %v, want %v", err, tc.wantErr)
			}
			if (removed != "") != tc.wantRemoved {
				t.Errorf("removed = %q, want removed %v", removed, tc.wantRemoved)
			}
			_, statErr := os.Stat(tc.dir)
			if exists := statErr == nil; exists != (tc.wantErr != nil) {
				t.Errorf("%s exists = %v after Remove", tc.dir, exists)
			}
		})
	}
}

func TestLongDataDirUsesShortSocketDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(dataDir(t), strings.Repeat("long-directory-name-", 5))
	c := start(t, Options{DataDir: dir})
	if c.socketDir == c.DataDir() {
		t.Fatalf("socket dir = data dir %s (%d bytes); want a shorter one", c.DataDir(), len(c.DataDir()))
	}
	t.Cleanup(func() { _ = os.RemoveAll(c.socketDir) })
	if n := len(c.socketDir) + len("/.s.PGSQL.65535"); n > maxSocketPath {
		t.Errorf("socket path is %d bytes, over the limit of %d", n, maxSocketPath)
	}
	conn := connect(t, c.URL())
	if got := queryString(t, conn, "SELECT current_database()"); got != "batchtrack" {
		t.Errorf("database = %q", got)
	}
}

func TestFallbackWhenDataDirIsNotTraversable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the server to another user")
	}
	t.Parallel()
	private := t.TempDir() // mode 0700, owned by root
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	requested := filepath.Join(private, "project", ".data")
	c := start(t, Options{DataDir: requested})
	if c.DataDir() == requested {
		t.Fatalf("data dir = requested %s, which the postgres user cannot reach", requested)
	}
	u := serverUID(t)
	if !u.canTraverse(c.DataDir()) || !u.owns(c.DataDir()) {
		t.Errorf("fallback %s is not reachable and owned by %s", c.DataDir(), u.name)
	}
	conn := connect(t, c.URL())
	exec1(t, conn, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('in fallback')")
	_ = conn.Close(context.Background())
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	again := start(t, Options{DataDir: requested})
	if again.DataDir() != c.DataDir() {
		t.Errorf("second start used %s, want the same fallback %s", again.DataDir(), c.DataDir())
	}
	conn = connect(t, again.URL())
	if got := queryString(t, conn, "SELECT v FROM kept"); got != "in fallback" {
		t.Errorf("kept.v = %q", got)
	}
}

func TestCanTraverse(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the server to another user")
	}
	u := serverUID(t)
	root := openTempDir(t)
	open := filepath.Join(root, "open")
	closed := filepath.Join(root, "closed")
	for dir, mode := range map[string]os.FileMode{root: 0o755, open: 0o755, closed: 0o700} {
		if err := os.MkdirAll(dir, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		path string
		want bool
	}{
		{filepath.Join(open, "missing", "data"), true},
		{open, true},
		{closed, true}, // the leaf itself is chowned, not traversed
		{filepath.Join(closed, "data"), false},
		{filepath.Join(closed, "missing", "data"), false},
	}
	for _, tt := range tests {
		if got := u.canTraverse(tt.path); got != tt.want {
			t.Errorf("canTraverse(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// TestHelperServer is not a test: TestServerStopsWhenParentIsKilled runs
// the test binary as a child that starts a cluster and waits to be killed.
func TestHelperServer(t *testing.T) {
	dir := os.Getenv("EMBEDDED_TEST_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	c, err := Start(context.Background(), Options{DataDir: dir, NoDurability: true})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("pid:", c.PID())
	time.Sleep(60 * time.Second)
	_ = c.Stop(context.Background())
	os.Exit(0)
}

func TestServerStopsWhenParentIsKilled(t *testing.T) {
	t.Parallel()
	helper := exec.Command(os.Args[0], "-test.run=^TestHelperServer$", "-test.count=1")
	helper.Env = append(os.Environ(), "EMBEDDED_TEST_HELPER_DIR="+dataDir(t))
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	var pid int
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if p, ok := strings.CutPrefix(lines.Text(), "pid: "); ok {
			pid, _ = strconv.Atoi(p)
			break
		}
		if strings.HasPrefix(lines.Text(), "error:") {
			t.Fatal(lines.Text())
		}
	}
	if pid == 0 {
		t.Fatal("helper printed no server pid")
	}
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()

	deadline := time.Now().Add(30 * time.Second)
	for processRunning(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			t.Fatalf("server %d still running 30s after its parent was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processRunning is false for exited processes, zombies included (a
// container's init may not reap the orphaned server).
func processRunning(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

func TestFindBinaries(t *testing.T) {
	root := t.TempDir()
	install := func(dir string, names ...string) string {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	v13 := install(filepath.Join(root, "lib/postgresql/13/bin"), "initdb", "postgres")
	v16 := install(filepath.Join(root, "lib/postgresql/16/bin"), "initdb", "postgres")
	install(filepath.Join(root, "lib/postgresql/17/bin"), "psql") // client only
	roots := []string{filepath.Join(root, "lib/postgresql/*/bin")}

	wrapper := install(filepath.Join(root, "usr/bin"), "initdb") // a wrapper, no postgres beside it
	linked := install(filepath.Join(root, "local/bin"))
	for _, n := range []string{"initdb", "postgres"} {
		if err := os.Symlink(filepath.Join(v13, n), filepath.Join(linked, n)); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name      string
		binDir    string
		roots     []string
		path      string
		wantMajor int
		want      string
	}{
		{name: "highest version", roots: roots, want: v16},
		{name: "version of the data directory", roots: roots, wantMajor: 13, want: v13},
		{name: "data version not installed", roots: roots, wantMajor: 12, want: v16},
		{name: "install dirs beat PATH", roots: roots, path: linked, want: v16},
		{name: "PATH symlinks resolved", path: wrapper + ":" + linked, want: v13},
		{name: "explicit dir", binDir: v13, roots: roots, want: v13},
		{name: "nothing", path: wrapper, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := findBinaries(tt.binDir, tt.roots, tt.path, tt.wantMajor)
			if tt.want == "" {
				if !errors.Is(err, ErrNoBinaries) {
					t.Fatalf("err = %v, want ErrNoBinaries", err)
				}
				if !strings.Contains(err.Error(), "apt-get install postgresql") {
					t.Errorf("error %q does not say what to install", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.dir != tt.want {
				t.Errorf("dir = %s, want %s", b.dir, tt.want)
			}
		})
	}
}

func TestStopOnNilCluster(t *testing.T) {
	var c *Cluster
	if err := c.Stop(context.Background()); err != nil {
		t.Errorf("Stop on nil: %v", err)
	}
}

// BenchmarkStart measures a first start (initdb, start, create the
// database) against a restart of an existing cluster, each with its stop.
func BenchmarkStart(b *testing.B) {
	root, err := os.MkdirTemp("", "embedded-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(root)
	if err := os.Chmod(root, 0o755); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cycle := func(b *testing.B, dir string) {
		c, err := Start(ctx, Options{DataDir: dir, NoDurability: true})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Stop(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("first", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			cycle(b, filepath.Join(root, "first", strconv.Itoa(i)))
		}
	})
	b.Run("restart", func(b *testing.B) {
		dir := filepath.Join(root, "restart")
		cycle(b, dir)
		for b.Loop() {
			cycle(b, dir)
		}
	})
}
