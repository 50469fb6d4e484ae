package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Cluster is a running scripts/cluster.sh cluster in a temporary directory.
type Cluster struct {
	t     *testing.T
	env   []string
	dir   string
	URL   string // HAProxy's front end
	Token string // an admin API token
}

// skipWithoutParts skips when the system programs are missing, unless CI
// is set: there they must be installed (scripts/deps.sh haproxy pgbouncer).
func skipWithoutParts(t *testing.T) {
	t.Helper()
	for _, prog := range []string{"haproxy", "pgbouncer", "redis-server"} {
		if _, err := exec.LookPath(prog); err == nil {
			continue
		}
		if _, err := os.Stat("/usr/sbin/" + prog); err == nil {
			continue
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("cluster tests need %s (CI is set, so this is a failure)", prog)
		}
		t.Skipf("cluster tests skipped: %s not found (install it with scripts/deps.sh postgres redis haproxy pgbouncer)", prog)
	}
}

// freePorts returns n ports free on 127.0.0.1 right now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var held []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range held {
		l.Close()
	}
	return ports
}

// startCluster builds the binary and brings a cluster up; it is taken down
// when the test ends.
func startCluster(t *testing.T) *Cluster {
	t.Helper()
	skipWithoutParts(t)
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir (0700): as root the cluster's PostgreSQL runs as the
	// postgres user, which must reach its data directory.
	dir, err := os.MkdirTemp("", "batchtrack-cluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "batchtrack")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p := freePorts(t, 8)
	c := &Cluster{t: t, dir: dir, URL: fmt.Sprintf("http://127.0.0.1:%d", p[0])}
	c.env = append(os.Environ(),
		"CLUSTER_DIR="+filepath.Join(dir, "cluster"), "BIN="+bin,
		"CLUSTER_PORT="+strconv.Itoa(p[0]), "CLUSTER_STATS_PORT="+strconv.Itoa(p[1]),
		fmt.Sprintf("CLUSTER_APP_PORTS=%d %d %d", p[2], p[3], p[4]),
		"CLUSTER_PG_PORT="+strconv.Itoa(p[5]), "CLUSTER_PGBOUNCER_PORT="+strconv.Itoa(p[6]),
		"CLUSTER_REDIS_PORT="+strconv.Itoa(p[7]),
		"LOG_LEVEL=warn", "RATE_LIMIT_READ=off", "RATE_LIMIT_CONSUME=off", "RATE_LIMIT_BATCHES_WRITE=off")
	t.Cleanup(func() {
		if out, err := c.script("down"); err != nil {
			t.Errorf("cluster.sh down: %v\n%s", err, out)
		}
		if t.Failed() {
			c.dumpLogs()
		}
		_ = os.RemoveAll(dir)
	})
	began := time.Now()
	if out, err := c.script("up"); err != nil {
		c.dumpLogs()
		t.Fatalf("cluster.sh up: %v\n%s", err, out)
	}
	t.Logf("cluster up in %s", time.Since(began).Round(100*time.Millisecond))
	token, err := os.ReadFile(filepath.Join(dir, "cluster", "etc", "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	c.Token = strings.TrimSpace(string(token))
	return c
}

func (c *Cluster) script(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join("..", "scripts", "cluster.sh"), args...)
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *Cluster) dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(c.dir, "cluster", "log", "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		c.t.Logf("==> %s\n%s", filepath.Base(l), b)
	}
}

// do sends one API request through HAProxy and decodes a JSON answer into out.
func (c *Cluster) do(client *http.Client, method, path string, body any, out any, headers ...string) (int, error) {
	var r io.Reader
	if body != nil {
		js, _ := json.Marshal(body)
		r = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, c.URL+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

type batch struct {
	ID                string `json:"id"`
	QuantityAvailable string `json:"quantity_available"`
	QualityStatus     string `json:"quality_status"`
	Product           struct {
		ID string `json:"id"`
	} `json:"product"`
	Location struct {
		ID string `json:"id"`
	} `json:"location"`
}

// A client that keeps reading and consuming (with idempotency keys)
// through HAProxy sees no failed request while `cluster.sh restart`
// replaces every instance, and every consume it was told succeeded is in
// the balance, once.
func TestRollingRestartFailsNoRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("brings up a whole cluster")
	}
	c := startCluster(t)
	client := &http.Client{Timeout: 15 * time.Second}

	var list struct {
		Items []batch `json:"items"`
	}
	if code, err := c.do(client, "GET", "/api/batches?limit=1", nil, &list); err != nil || code != 200 || len(list.Items) == 0 {
		t.Fatalf("list batches: %d %v (%d items)", code, err, len(list.Items))
	}
	var lot batch
	code, err := c.do(client, "POST", "/api/batches", map[string]string{
		"product_id": list.Items[0].Product.ID, "location_id": list.Items[0].Location.ID,
		"production_date": time.Now().Format("2006-01-02"), "quantity_produced": "1000000", "quality_status": "approved",
	}, &lot)
	if err != nil || code != http.StatusCreated {
		t.Fatalf("create batch: %d %v", code, err)
	}

	var sent, failed, consumed atomic.Int64
	var failMu sync.Mutex
	var failures []string
	fail := func(what string) {
		failed.Add(1)
		failMu.Lock()
		if len(failures) < 10 {
			failures = append(failures, what)
		}
		failMu.Unlock()
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				sent.Add(1)
				if w%2 == 0 {
					key := fmt.Sprintf("restart-%d-%d", w, n)
					code, err := c.do(client, "POST", "/api/batches/"+lot.ID+"/consume",
						map[string]string{"quantity_to_consume": "1"}, nil, "Idempotency-Key", key)
					if err != nil || code != http.StatusOK {
						fail(fmt.Sprintf("consume %s: %d %v", key, code, err))
						continue
					}
					consumed.Add(1)
				} else if code, err := c.do(client, "GET", "/api/batches/"+lot.ID, nil, nil); err != nil || code != http.StatusOK {
					fail(fmt.Sprintf("read: %d %v", code, err))
				}
			}
		}()
	}

	time.Sleep(time.Second)
	began := time.Now()
	out, err := c.script("restart")
	took := time.Since(began)
	time.Sleep(time.Second)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatalf("cluster.sh restart: %v\n%s", err, out)
	}
	t.Logf("rolling restart of 3 instances in %s: %d requests, %d failed, %d consumes", took.Round(100*time.Millisecond),
		sent.Load(), failed.Load(), consumed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed during the rolling restart; first: %s", failed.Load(), sent.Load(), strings.Join(failures, "; "))
	}
	if consumed.Load() < 20 {
		t.Errorf("only %d consumes got through: the client was not really sending", consumed.Load())
	}

	var after batch
	if code, err := c.do(client, "GET", "/api/batches/"+lot.ID, nil, &after); err != nil || code != 200 {
		t.Fatalf("read the lot: %d %v", code, err)
	}
	want := strconv.FormatInt(1000000-consumed.Load(), 10)
	if after.QuantityAvailable != want {
		t.Errorf("quantity available %s after %d consumes of 1, want %s", after.QuantityAvailable, consumed.Load(), want)
	}
}
