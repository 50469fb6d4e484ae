package chaos

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireParts skips the test when the cluster's programs are missing,
// unless CI is set: there a missing part is a broken setup and fails.
func requireParts(t *testing.T, root string) {
	t.Helper()
	var missing []string
	for _, prog := range []string{"haproxy", "pgbouncer", "redis-server", "curl"} {
		if lookProg(prog) == "" {
			missing = append(missing, prog)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "scripts", "cluster.sh")); err != nil {
		missing = append(missing, "scripts/cluster.sh")
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("chaos: %s missing (install with scripts/deps.sh haproxy pgbouncer redis)", strings.Join(missing, ", "))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; CI is unset, so skipping")
}

// lookProg finds a program on PATH or in the sbin directories Debian
// puts daemons in (not on a normal user's PATH).
func lookProg(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// cluster is a scripts/cluster.sh cluster in a temporary CLUSTER_DIR on
// free loopback ports.
type cluster struct {
	t        *testing.T
	root     string
	dir      string
	bin      string
	env      []string
	front    string   // HAProxy
	apps     []string // each instance, direct
	appNames []string
	log      *bytes.Buffer
}

func startCluster(t *testing.T, root string, settings map[string]string) *cluster {
	t.Helper()
	// Not t.TempDir: as root PostgreSQL runs as the postgres user, which
	// must reach its data directory through every parent.
	tmp, err := os.MkdirTemp("", "batchtrack-chaos-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	c := &cluster{t: t, root: root, dir: filepath.Join(tmp, "cluster"), bin: filepath.Join(tmp, "batchtrack"), log: &bytes.Buffer{}}
	build := exec.Command("go", "build", "-o", c.bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ports := freePorts(t, 8)
	appPorts := make([]string, 3)
	for i := range appPorts {
		appPorts[i] = strconv.Itoa(ports[2+i])
		c.apps = append(c.apps, "http://127.0.0.1:"+appPorts[i])
		c.appNames = append(c.appNames, fmt.Sprintf("app%d", i+1))
	}
	c.front = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	vars := map[string]string{
		"CLUSTER_DIR":            c.dir,
		"CLUSTER_PORT":           strconv.Itoa(ports[0]),
		"CLUSTER_STATS_PORT":     strconv.Itoa(ports[1]),
		"CLUSTER_APP_PORTS":      strings.Join(appPorts, " "),
		"CLUSTER_PG_PORT":        strconv.Itoa(ports[5]),
		"CLUSTER_PGBOUNCER_PORT": strconv.Itoa(ports[6]),
		"CLUSTER_REDIS_PORT":     strconv.Itoa(ports[7]),
		"CLUSTER_ADMIN_EMAIL":    adminEmail,
		"BIN":                    c.bin,
		"LOG_LEVEL":              "warn",
	}
	for k, v := range settings {
		vars[k] = v
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := vars[k]; ours || k == "DATABASE_URL" || k == "REDIS_URL" || strings.HasPrefix(k, "RATE_LIMIT_") {
			continue
		}
		c.env = append(c.env, kv)
	}
	for k, v := range vars {
		c.env = append(c.env, k+"="+v)
	}
	t.Cleanup(func() {
		if err := c.script("down"); err != nil {
			t.Errorf("cluster.sh down: %v", err)
		}
		if t.Failed() {
			t.Logf("cluster.sh output:\n%s", c.log.String())
			for _, part := range append([]string{"haproxy", "pgbouncer", "postgres", "redis"}, c.appNames...) {
				b, _ := os.ReadFile(filepath.Join(c.dir, "log", part+".log"))
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				t.Logf("== %s.log (end)\n%s", part, b)
			}
		}
	})
	if err := c.script("up"); err != nil {
		t.Fatalf("cluster.sh up: %v\n%s", err, c.log.String())
	}
	return c
}

const adminEmail = "chaos@example.com"

// script runs scripts/cluster.sh with the cluster's environment.
func (c *cluster) script(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{"scripts/cluster.sh"}, args...)...)
	cmd.Dir = c.root
	cmd.Env = c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	fmt.Fprintf(c.log, "$ cluster.sh %s\n%s", strings.Join(args, " "), out.String())
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// cli runs the batchtrack binary's command line on the database directly.
func (c *cluster) cli(args ...string) (string, error) {
	url, err := c.databaseURL()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "LOG_LEVEL=warn")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("batchtrack %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// databaseURL is the direct URL of the cluster's PostgreSQL.
func (c *cluster) databaseURL() (string, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "etc", "postgres.url"))
	return strings.TrimSpace(string(b)), err
}

func (c *cluster) adminToken() string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, "etc", "admin-token"))
	if err != nil {
		c.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// signal sends sig to a part's process (its pid file, per the contract).
func (c *cluster) signal(part string, sig syscall.Signal) error {
	b, err := os.ReadFile(filepath.Join(c.dir, "run", part+".pid"))
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return fmt.Errorf("%s.pid: %q", part, b)
	}
	return syscall.Kill(pid, sig)
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}
