package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"batchtrack/db/embedded"
	"batchtrack/db/pgtest"
)

// serveChildEnv makes the test binary run `batchtrack serve` instead of
// the tests: the fault tests start the app as real processes they can
// kill -9.
const serveChildEnv = "BATCHTRACK_TEST_SERVE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(serveChildEnv) != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		err := run(ctx, []string{"serve"}, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	pgtest.Main(m)
}

// appProcess is `batchtrack serve` in a process of its own.
type appProcess struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	env  []string
	log  string
	done chan struct{}
}

// startAppProcess starts the app on addr with env and waits until it is ready.
func startAppProcess(t *testing.T, env map[string]string, addr string) *appProcess {
	t.Helper()
	vars := []string{serveChildEnv + "=1", "ADDR=" + addr, "SEED=false", "LOG_LEVEL=warn",
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		vars = append(vars, k+"="+v)
	}
	p := &appProcess{t: t, base: "http://" + addr, env: vars,
		log: filepath.Join(t.TempDir(), "app-"+strings.ReplaceAll(addr, ":", "-")+".log")}
	p.start()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *appProcess) start() {
	p.t.Helper()
	logFile, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = p.env
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func() { _ = p.cmd.Wait(); logFile.Close(); close(p.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-p.done:
			p.t.Fatalf("app exited during start:\n%s", p.logs())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("app not ready after 60s:\n%s", p.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process at once, as a crash would (SIGKILL).
func (p *appProcess) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *appProcess) logs() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", freePort(t))
}

// adminToken creates an admin and an API token for it with the CLI, as
// an operator would.
func adminToken(t *testing.T, dbURL string) string {
	t.Helper()
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": dbURL}[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"user", "add", "--email", "suite@example.com", "--role", "admin", "--name", "Suite"},
		getenv, strings.NewReader("correct horse battery staple\n"), &out, io.Discard); err != nil {
		t.Fatalf("user add: %v (%s)", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"token", "create", "--user", "suite@example.com", "--name", "suite"},
		getenv, nil, &out, io.Discard); err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(out.String())
	if strings.ContainsAny(token, " \n") || token == "" {
		t.Fatalf("token create printed %q, want the token alone", out.String())
	}
	return token
}

// apiClient sends JSON with a token.
type apiClient struct {
	token string
	http  *http.Client
}

func (c apiClient) send(base, method, path, body, key string) (int, []byte, error) {
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (c apiClient) mustSend(t *testing.T, base, method, path, body string) []byte {
	t.Helper()
	status, b, err := c.send(base, method, path, body, "")
	if err != nil || status >= 300 {
		t.Fatalf("%s %s: %d %v %s", method, path, status, err, b)
	}
	return b
}

// seedBatches creates n approved batches of quantity each through the API.
func seedBatches(t *testing.T, c apiClient, base string, n int, quantity string) []string {
	t.Helper()
	var product, location struct{ ID string }
	json.Unmarshal(c.mustSend(t, base, "POST", "/api/products", `{"gtin": "09506000134352", "name": "Fault beans", "unit": "kg"}`), &product)
	json.Unmarshal(c.mustSend(t, base, "POST", "/api/locations", `{"gln": "0614141000012", "name": "Fault plant", "type": "factory"}`), &location)
	ids := make([]string, n)
	for i := range ids {
		var b struct{ ID string }
		json.Unmarshal(c.mustSend(t, base, "POST", "/api/batches", fmt.Sprintf(
			`{"product_id": %q, "location_id": %q, "production_date": "2026-11-01", "quantity_produced": %q, "quality_status": "approved"}`,
			product.ID, location.ID, quantity)), &b)
		ids[i] = b.ID
	}
	return ids
}

// The crash window of issue 17, reproduced with a real process: the
// write commits while the batch row is held and released under our
// control, the app is killed with SIGKILL before its answer is read, and
// the retry to a restarted app is answered at once (not "in progress",
// not a second execution) from the committed result.
func TestAppKilledBetweenCommitAndAnswer(t *testing.T) {
	dbURL := pgtest.URL(t)
	token := adminToken(t, dbURL)
	env := map[string]string{"DATABASE_URL": dbURL}
	addr := freeAddr(t)
	app := startAppProcess(t, env, addr)
	c := apiClient{token: token, http: &http.Client{Timeout: 30 * time.Second}}
	ids := seedBatches(t, c, app.base, 2, "100")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	conn2, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close(ctx)
	tests := []struct{ name, path, body string }{
		{"consume", "/api/batches/" + ids[0] + "/consume", `{"quantity_to_consume": "3"}`},
		{"multi-consume", "/api/consumptions", fmt.Sprintf(
			`{"items": [{"batch_id": %q, "quantity_to_consume": "2"}, {"batch_id": %q, "quantity_to_consume": "2"}]}`, ids[0], ids[1])},
		{"adjust", "/api/batches/" + ids[0] + "/adjust", `{"quantity": "-1", "reason": "recount"}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("crash-%d", i)
			holder, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := holder.Exec(ctx, "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", ids[0]); err != nil {
				t.Fatal(err)
			}
			answered := make(chan struct{})
			go func() {
				// This client never sees an answer: the app dies first, or
				// it answers a connection nobody reads any more.
				_, _, _ = c.send(app.base, "POST", tt.path, tt.body, key)
				close(answered)
			}()
			waitFor(t, "a request waiting for the row lock", func() bool {
				var n int
				_ = conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&n)
				return n > 0
			})
			// As in the reproduction: if the key has a row already
			// (a claim taken before the write), hold it too, so that storing
			// the outcome after the commit would have to wait.
			keyHolder, err := conn2.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer keyHolder.Rollback(ctx) //nolint:errcheck
			if _, err := keyHolder.Exec(ctx, "SELECT 1 FROM idempotency_keys WHERE key = $1 FOR UPDATE", key); err != nil {
				t.Fatal(err)
			}
			if err := holder.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			ledgerRows := func() int {
				var n int
				if err := conn.QueryRow(ctx, "SELECT count(*) FROM consumptions WHERE idempotency_key = $1", key).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			waitFor(t, "the write to commit", func() bool { return ledgerRows() > 0 })
			app.kill()
			<-answered
			// End the dead app's sessions still waiting in the server.
			if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> $1", conn2.PgConn().PID()); err != nil {
				t.Fatal(err)
			}
			if err := keyHolder.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			committed := ledgerRows()
			app.start()
			status, body, err := c.send(app.base, "POST", tt.path, tt.body, key)
			if err != nil || status != 200 {
				t.Fatalf("retry after the crash: %d %v %s", status, err, body)
			}
			if got := ledgerRows(); got != committed {
				t.Fatalf("%d ledger rows for the key after the retry, %d committed before the crash", got, committed)
			}
			var ids []string
			rows, _ := conn.Query(ctx, "SELECT id::text FROM consumptions WHERE idempotency_key = $1", key)
			for rows.Next() {
				var id string
				_ = rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			for _, id := range ids {
				if !bytes.Contains(body, []byte(id)) {
					t.Errorf("the retry's answer does not name the committed ledger row %s: %s", id, body)
				}
			}
		})
	}
	checkLedgers(t, conn, ids)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkLedgers asserts, for every batch, that the ledger explains the
// balance: produced + adjustments - consumptions = available >= 0.
func checkLedgers(t *testing.T, conn *pgx.Conn, ids []string) {
	t.Helper()
	for _, id := range ids {
		var produced, available, fromLedger string
		err := conn.QueryRow(context.Background(), `
			SELECT b.quantity_produced::text, b.quantity_available::text,
			       (b.quantity_produced + coalesce(sum(CASE c.kind WHEN 'consume' THEN -c.quantity ELSE c.quantity END), 0))::text
			FROM batches b LEFT JOIN consumptions c ON c.batch_id = b.id
			WHERE b.id = $1 GROUP BY b.id`, id).Scan(&produced, &available, &fromLedger)
		if err != nil {
			t.Fatal(err)
		}
		if available != fromLedger || strings.HasPrefix(available, "-") {
			t.Errorf("batch %s: available %s, the ledger says %s (produced %s)", id, available, fromLedger, produced)
		}
	}
}

// keyOutcome is what a client finally learnt about one key.
type keyOutcome struct {
	key        string
	status     int
	ledgerIDs  []string // the ledger rows its answer names
	perBatch   map[string]string
	attempts   int
	unresolved bool
}

// Two app processes on one PostgreSQL, clients retrying every write with
// its key until they get a definitive answer, while one app is killed -9
// and PostgreSQL restarts. Afterwards every successful key has exactly
// the ledger rows its answer names, no refused key has any, and every
// balance is explained by its ledger.
func TestFaultsNeverLoseOrDoubleAUnit(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: skipped with -short")
	}
	ctx := context.Background()
	port := freePort(t)
	cluster, err := embedded.Start(ctx, embedded.Options{DataDir: t.TempDir(), Port: port, NoDurability: true,
		Settings: map[string]string{"max_connections": "100"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop(context.Background()) })
	dbURL := cluster.TCPURL()
	token := adminToken(t, dbURL)
	env := map[string]string{"DATABASE_URL": dbURL, "DB_MAX_CONNS": "12", "LOCK_TIMEOUT": "1s",
		"RATE_LIMIT_READ": "off", "RATE_LIMIT_CONSUME": "off", "RATE_LIMIT_BATCHES_WRITE": "off", "RATE_LIMIT_EVENTS_WRITE": "off"}
	apps := []*appProcess{startAppProcess(t, env, freeAddr(t)), startAppProcess(t, env, freeAddr(t))}
	c := apiClient{token: token, http: &http.Client{Timeout: 10 * time.Second}}
	batches := seedBatches(t, c, apps[0].base, 6, "100000")

	const clients = 16
	const loadFor = 20 * time.Second
	stop := time.Now().Add(loadFor)
	var (
		mu       sync.Mutex
		outcomes []keyOutcome
		sent     atomic.Int64
		errs500  atomic.Int64
	)
	var wg sync.WaitGroup
	for g := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 17))
			for i := 0; time.Now().Before(stop); i++ {
				o := writeOnce(c, apps, rng, batches, fmt.Sprintf("f%d-%d", g, i), &sent, &errs500)
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		})
	}
	// The faults, while the clients write.
	time.Sleep(loadFor / 4)
	t.Log("fault: kill -9 of app 2")
	apps[1].kill()
	time.Sleep(2 * time.Second)
	apps[1].start()
	time.Sleep(loadFor / 4)
	t.Log("fault: PostgreSQL restart (fast shutdown)")
	if err := cluster.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if cluster, err = embedded.Start(ctx, embedded.Options{DataDir: cluster.DataDir(), Port: port, NoDurability: true,
		Settings: map[string]string{"max_connections": "100"}}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var ok, refused int
	for _, o := range outcomes {
		if o.unresolved {
			t.Errorf("key %s: no definitive answer after %d attempts", o.key, o.attempts)
			continue
		}
		rows, err := conn.Query(ctx, "SELECT id::text FROM consumptions WHERE idempotency_key = $1 ORDER BY id::text", o.key)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			got = append(got, id)
		}
		rows.Close()
		if o.status == 200 {
			ok++
			if strings.Join(got, ",") != strings.Join(o.ledgerIDs, ",") {
				t.Errorf("key %s: ledger rows %v, the answer named %v", o.key, got, o.ledgerIDs)
			}
		} else {
			refused++
			if len(got) > 0 {
				t.Errorf("key %s: answered %d but has ledger rows %v", o.key, o.status, got)
			}
		}
	}
	// Every ledger row with a key belongs to a key a client saw succeed.
	succeeded := map[string]bool{}
	for _, o := range outcomes {
		if o.status == 200 {
			succeeded[o.key] = true
		}
	}
	rows, err := conn.Query(ctx, "SELECT DISTINCT idempotency_key FROM consumptions WHERE idempotency_key IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		if !succeeded[k] {
			t.Errorf("ledger rows for key %s, which no client saw succeed", k)
		}
	}
	rows.Close()
	// No unit lost or doubled: what the clients were told was taken is
	// what the ledger took, batch by batch.
	told := map[string]float64{}
	for _, o := range outcomes {
		if o.status == 200 {
			for b, q := range o.perBatch {
				var f float64
				fmt.Sscan(q, &f)
				told[b] += f
			}
		}
	}
	for _, b := range batches {
		var ledger float64
		if err := conn.QueryRow(ctx, `SELECT coalesce(sum(CASE kind WHEN 'consume' THEN -quantity ELSE quantity END), 0)::float8
			FROM consumptions WHERE batch_id = $1`, b).Scan(&ledger); err != nil {
			t.Fatal(err)
		}
		if diff := ledger - told[b]; diff > 1e-6 || diff < -1e-6 {
			t.Errorf("batch %s: the ledger moved %.3f, the clients were told %.3f", b, ledger, told[b])
		}
	}
	checkLedgers(t, conn, batches)
	if n := errs500.Load(); n > 0 {
		t.Errorf("%d answers were 500 (a database outage must be 503)", n)
	}
	t.Logf("%d keys: %d succeeded, %d refused; %d requests sent in all", len(outcomes), ok, refused, sent.Load())
	if ok == 0 {
		t.Fatal("no write succeeded: the test tested nothing")
	}
}

// writeOnce sends one write with a new key and retries it, with the same
// key, on either app, until it gets a definitive answer (2xx or 4xx).
func writeOnce(c apiClient, apps []*appProcess, rng *rand.Rand, batches []string, key string, sent, errs500 *atomic.Int64) keyOutcome {
	a, b := batches[rng.IntN(len(batches))], batches[rng.IntN(len(batches))]
	qty := fmt.Sprintf("%d.%d", 1+rng.IntN(3), rng.IntN(10))
	var path, body string
	switch n := rng.IntN(10); {
	case n < 6:
		path, body = "/api/batches/"+a+"/consume", fmt.Sprintf(`{"quantity_to_consume": %q}`, qty)
	case n < 8 && a != b:
		path, body = "/api/consumptions", fmt.Sprintf(`{"items": [{"batch_id": %q, "quantity_to_consume": %q}, {"batch_id": %q, "quantity_to_consume": %q}]}`, a, qty, b, qty)
	default:
		sign := ""
		if rng.IntN(2) == 0 {
			sign = "-"
		}
		path, body = "/api/batches/"+a+"/adjust", fmt.Sprintf(`{"quantity": "%s%s", "reason": "count"}`, sign, qty)
	}
	o := keyOutcome{key: key}
	giveUp := time.Now().Add(60 * time.Second)
	for ; time.Now().Before(giveUp); o.attempts++ {
		app := apps[(o.attempts+rng.IntN(2))%len(apps)]
		sent.Add(1)
		status, resp, err := c.send(app.base, "POST", path, body, key)
		if status == 500 {
			errs500.Add(1)
		}
		if err != nil || status >= 500 {
			time.Sleep(time.Duration(50+rng.IntN(100)) * time.Millisecond)
			continue
		}
		o.status = status
		if status == 200 {
			o.ledgerIDs, o.perBatch = ledgerOf(resp)
		}
		return o
	}
	o.unresolved = true
	return o
}

// ledgerOf reads the ledger rows an answer names, and the signed quantity
// each batch moved.
func ledgerOf(body []byte) ([]string, map[string]string) {
	type entry struct {
		ID       string `json:"id"`
		BatchID  string `json:"batch_id"`
		Kind     string `json:"kind"`
		Quantity string `json:"quantity"`
	}
	var one struct{ Consumption *entry }
	var many struct{ Consumptions []entry }
	_ = json.Unmarshal(body, &one)
	_ = json.Unmarshal(body, &many)
	entries := many.Consumptions
	if one.Consumption != nil {
		entries = append(entries, *one.Consumption)
	}
	ids := []string{}
	moved := map[string]string{}
	for _, e := range entries {
		ids = append(ids, e.ID)
		q := e.Quantity
		if e.Kind == "consume" {
			q = "-" + q
		}
		moved[e.BatchID] = q
	}
	slices.Sort(ids)
	return ids, moved
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
