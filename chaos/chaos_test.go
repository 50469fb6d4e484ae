package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"batchtrack/gs1"
	"batchtrack/quantity"
)

const (
	lots        = 4
	opening     = "100000"
	writers     = 6
	readers     = 3
	rateLimit   = 20 // reads per minute of the limited tokens
	retryBudget = 8 * time.Second
)

// TestChaos runs clients through HAProxy while the cluster's parts fail
// one after another, then checks that every unit is accounted for.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos: skipped with -short")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	requireParts(t, root)
	phase := chaosDuration(t) / 6 // load before the first fault, and after each of five

	// The load token is limited by its own, generous limits; the limited
	// tokens get theirs from `batchtrack token create --rate-limit`.
	c := startCluster(t, root, map[string]string{
		"RATE_LIMIT_READ": "1000000/1m", "RATE_LIMIT_CONSUME": "1000000/1m", "RATE_LIMIT_EVENTS_WRITE": "1000000/1m",
		"RATE_LIMIT_BATCHES_WRITE": "1000000/1m", "RATE_LIMIT_MASTER_WRITE": "1000000/1m",
	})
	failMode := "open"
	if os.Getenv("RATE_LIMIT_FAIL") == "closed" {
		failMode = "closed"
	}
	api := &client{token: c.adminToken(), http: &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	w := newWorld(t, api, c.front)
	limited := func(name string) *client {
		tok, err := c.cli("token", "create", "--user", adminEmail, "--name", name,
			"--rate-limit", fmt.Sprintf("read=%d/1m", rateLimit))
		if err != nil {
			t.Fatal(err)
		}
		return &client{token: tok, http: api.http}
	}
	limitedUp, limitedDown := limited("chaos-redis-up"), limited("chaos-redis-down")

	rec := &recorder{}
	ctx, stopLoad := context.WithCancel(context.Background())
	var load sync.WaitGroup
	for g := range writers {
		load.Go(func() { w.write(ctx, rec, rand.New(rand.NewPCG(uint64(g), 7)), fmt.Sprintf("w%d", g)) })
	}
	for g := range readers {
		load.Go(func() { w.read(ctx, rec, rand.New(rand.NewPCG(uint64(g), 11)), c.apps) })
	}
	defer func() { stopLoad(); load.Wait() }()

	rec.mark("steady load")
	time.Sleep(phase / 2)
	upCheck := hammer(limitedUp, c.apps, "/api/batches/"+w.lots[0])
	time.Sleep(phase / 2)

	var downCheck limitCheck
	faults := []struct {
		name   string
		inject func() error
	}{
		{"kill -9 app2", func() error {
			if err := c.signal("app2", syscall.SIGKILL); err != nil {
				return err
			}
			time.Sleep(time.Second)
			return c.script("start", "app2")
		}},
		{"restart PostgreSQL", func() error {
			if err := c.script("stop", "postgres"); err != nil {
				return err
			}
			return c.script("start", "postgres")
		}},
		{"restart PgBouncer", func() error {
			if err := c.script("stop", "pgbouncer"); err != nil {
				return err
			}
			return c.script("start", "pgbouncer")
		}},
		{"kill -9 Redis", func() error {
			if err := c.signal("redis", syscall.SIGKILL); err != nil {
				return err
			}
			time.Sleep(time.Second) // each instance finds Redis gone on its next decision
			downCheck = hammer(limitedDown, c.apps, "/api/batches/"+w.lots[0])
			time.Sleep(time.Second)
			return c.script("start", "redis")
		}},
		{"Redis paused 2s", func() error {
			if err := c.signal("redis", syscall.SIGSTOP); err != nil {
				return err
			}
			time.Sleep(2 * time.Second)
			return c.signal("redis", syscall.SIGCONT)
		}},
	}
	for _, f := range faults {
		rec.mark(f.name)
		if err := f.inject(); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		rec.injected()
		time.Sleep(phase)
	}
	rec.end()
	stopLoad()
	load.Wait()

	table, stillFailing := rec.table()
	t.Log("\n" + table)
	for _, name := range stillFailing {
		t.Errorf("%s: requests still failed at the end of its phase (%s after the fault)", name, phase)
	}
	t.Logf("stale reads: %d of %d reads checked", w.stale.Load(), w.reads.Load())

	// Keys a client gave up on during a fault are retried now, as a real
	// client would, so that every key has a definitive answer to check.
	w.resolve(rec)
	w.checkLedger(t, c, rec.ops)
	if n := w.stale.Load(); n > 0 {
		t.Errorf("%d stale reads after a write; the first:\n%s", n, strings.Join(w.staleReads, "\n"))
	}

	t.Logf("rate limit %d/1m with Redis up: %s", rateLimit, upCheck)
	if upCheck.ok > rateLimit || upCheck.ok == 0 {
		t.Errorf("with Redis up, %d requests of the limited token succeeded across the instances; the limit is %d", upCheck.ok, rateLimit)
	}
	t.Logf("rate limit %d/1m with Redis down (RATE_LIMIT_FAIL=%s): %s", rateLimit, failMode, downCheck)
	for i, n := range downCheck.perApp {
		switch {
		case failMode == "open" && n > rateLimit:
			t.Errorf("Redis down, fail open: app%d let %d through, more than its own limit %d", i+1, n, rateLimit)
		case failMode == "closed" && n > 0:
			t.Errorf("Redis down, fail closed: app%d let %d through", i+1, n)
		}
	}
	if failMode == "open" && downCheck.ok == 0 {
		t.Error("Redis down, fail open: nothing got through")
	}
}

func chaosDuration(t *testing.T) time.Duration {
	s := os.Getenv("CHAOS_DURATION")
	if s == "" {
		return 30 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 12*time.Second || d > 30*time.Minute {
		t.Fatalf("CHAOS_DURATION=%q: want a duration between 12s and 30m", s)
	}
	return d
}

// client sends JSON with a token.
type client struct {
	token string
	http  *http.Client
}

func (c *client) send(ctx context.Context, base, method, path, body, key string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
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

// recorder keeps every request's outcome and the fault marks, for the table.
type recorder struct {
	mu       sync.Mutex
	requests []request
	ops      []op
	marks    []mark
	ended    time.Time
}

type request struct {
	sent, answered time.Time
	failed         bool // transport error or 5xx
}

type mark struct {
	name string
	at   time.Time
	took time.Duration // to inject the fault and start the part again
}

func (r *recorder) add(q request) {
	r.mu.Lock()
	r.requests = append(r.requests, q)
	r.mu.Unlock()
}

func (r *recorder) mark(name string) {
	r.mu.Lock()
	r.marks = append(r.marks, mark{name: name, at: time.Now()})
	r.mu.Unlock()
}

// phaseAt names the fault (or steady load) in force at t.
func (r *recorder) phaseAt(t time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := "before the load"
	for _, m := range r.marks {
		if !t.Before(m.at) {
			name = fmt.Sprintf("%s +%s", m.name, t.Sub(m.at).Round(time.Millisecond))
		}
	}
	return name
}

func (r *recorder) injected() {
	r.mu.Lock()
	m := &r.marks[len(r.marks)-1]
	m.took = time.Since(m.at)
	r.mu.Unlock()
}

func (r *recorder) end() {
	r.mu.Lock()
	r.ended = time.Now()
	r.mu.Unlock()
}

// table has a row per phase: the requests sent and answered in it, those that failed
// (transport error or 5xx), the writes that still had no answer after
// their retries, and, from the fault: the first failure, the first success
// of a request sent after that failure (service back), the last failure.
func (r *recorder) table() (string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "fault\ttook\trequests\tfailed\tfinal failures\tfirst failure\tfirst success after\tlast failure\t")
	var stillFailing []string
	for i, m := range r.marks {
		until := r.ended
		if i+1 < len(r.marks) {
			until = r.marks[i+1].at
		}
		// A request answered after the next fault began is that fault's
		// business, whichever phase sent it: it is left out of both.
		var phase []request
		for _, q := range r.requests {
			if !q.sent.Before(m.at) && q.answered.Before(until) {
				phase = append(phase, q)
			}
		}
		var failed int
		var firstErr, lastErr, back time.Duration = -1, -1, -1
		var firstErrAt, lastErrAt time.Time
		for _, q := range phase {
			if q.failed {
				failed++
				if d := q.answered.Sub(m.at); firstErr < 0 || d < firstErr {
					firstErr, firstErrAt = d, q.answered
				}
				if q.answered.After(lastErrAt) {
					lastErr, lastErrAt = q.answered.Sub(m.at), q.answered
				}
			}
		}
		recovered := failed == 0
		for _, q := range phase {
			if !q.failed && !q.sent.Before(firstErrAt) {
				if d := q.answered.Sub(m.at); back < 0 || d < back {
					back = d
				}
				recovered = recovered || !q.sent.Before(lastErrAt)
			}
		}
		var gaveUp int
		for _, o := range r.ops {
			if o.gaveUp && !o.started.Before(m.at) && o.started.Before(until) {
				gaveUp++
			}
		}
		if !recovered {
			stillFailing = append(stillFailing, m.name)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t\n", m.name, ms(m.took), len(phase), failed, gaveUp, ms(firstErr), ms(back), ms(lastErr))
	}
	tw.Flush()
	return b.String(), stillFailing
}

func ms(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return d.Round(time.Millisecond).String()
}

// op is one write with its idempotency key, and what its client was told.
type op struct {
	key, path, body string
	started         time.Time
	gaveUp          bool // no definitive answer within the retry budget
	status          int
	ledgerIDs       []string                     // the ledger rows the answer names
	moved           map[string]quantity.Quantity // units taken, by lot
}

// world is the lots the clients work on, and what they were told.
type world struct {
	t          *testing.T
	api        *client
	front      string
	lots       []string
	shipTo     string
	told       map[string]*atomic.Int64 // highest version a write's answer named, by lot
	reads      atomic.Int64
	stale      atomic.Int64
	staleMu    sync.Mutex
	staleReads []string // the first few
}

func newWorld(t *testing.T, api *client, front string) *world {
	t.Helper()
	w := &world{t: t, api: api, front: front, told: map[string]*atomic.Int64{}}
	post := func(path, body string) string {
		status, b, err := api.send(context.Background(), front, "POST", path, body, "")
		if err != nil || status >= 300 {
			t.Fatalf("POST %s: %d %v %s", path, status, err, b)
		}
		var v struct{ ID string }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v.ID
	}
	n := time.Now().UnixNano() % 1e9
	withCheck := func(body string) string { return body + string(gs1.CheckDigit(body)) }
	product := post("/api/products", fmt.Sprintf(`{"gtin": %q, "name": "Chaos beans", "unit": "kg"}`, withCheck(fmt.Sprintf("0950600%06d", n%1e6))))
	plant := post("/api/locations", fmt.Sprintf(`{"gln": %q, "name": "Chaos plant", "type": "factory"}`, withCheck(fmt.Sprintf("06141%07d", n%1e7))))
	w.shipTo = post("/api/locations", fmt.Sprintf(`{"gln": %q, "name": "Chaos warehouse", "type": "warehouse"}`, withCheck(fmt.Sprintf("06142%07d", n%1e7))))
	for range lots {
		id := post("/api/batches", fmt.Sprintf(`{"product_id": %q, "location_id": %q, "production_date": "2026-11-01", "quantity_produced": %q, "quality_status": "approved"}`,
			product, plant, opening))
		w.lots = append(w.lots, id)
		w.told[id] = &atomic.Int64{}
	}
	return w
}

// write sends consumes and shipments through HAProxy until ctx ends, each
// retried with its key on a transport error or a 5xx.
func (w *world) write(ctx context.Context, rec *recorder, rng *rand.Rand, name string) {
	for i := 0; ctx.Err() == nil; i++ {
		a, b := w.lots[rng.IntN(len(w.lots))], w.lots[rng.IntN(len(w.lots))]
		o := op{key: fmt.Sprintf("chaos-%s-%d", name, i), started: time.Now()}
		qty := 1 + rng.IntN(3)
		switch {
		case rng.IntN(3) > 0:
			o.path, o.body = "/api/batches/"+a+"/consume", fmt.Sprintf(`{"quantity_to_consume": "%d"}`, qty)
		case a != b:
			o.path, o.body = "/api/shipments", fmt.Sprintf(`{"items": [{"batch_id": %q, "quantity": "%d"}, {"batch_id": %q, "quantity": "1"}], "ship_to_id": %q}`, a, qty, b, w.shipTo)
		default:
			o.path, o.body = "/api/shipments", fmt.Sprintf(`{"items": [{"batch_id": %q, "quantity": "%d"}], "ship_to_id": %q}`, a, qty, w.shipTo)
		}
		w.attempt(context.Background(), rec, &o, time.Now().Add(retryBudget))
		rec.mu.Lock()
		rec.ops = append(rec.ops, o)
		rec.mu.Unlock()
		time.Sleep(time.Duration(10+rng.IntN(20)) * time.Millisecond)
	}
}

// attempt sends o until it gets a definitive answer (2xx or 4xx) or the
// deadline passes.
func (w *world) attempt(ctx context.Context, rec *recorder, o *op, deadline time.Time) {
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		sent := time.Now()
		status, body, err := w.api.send(ctx, w.front, "POST", o.path, o.body, o.key)
		failed := err != nil || status >= 500
		if rec != nil {
			rec.add(request{sent: sent, answered: time.Now(), failed: failed})
		}
		if !failed {
			o.status, o.gaveUp = status, false
			if status < 300 {
				o.ledgerIDs, o.moved = w.told2xx(body)
			}
			return
		}
		if time.Now().Add(backoff).After(deadline) {
			o.gaveUp = true
			return
		}
		time.Sleep(backoff)
	}
}

type ledgerRow struct {
	ID           string            `json:"id"`
	BatchID      string            `json:"batch_id"`
	Kind         string            `json:"kind"`
	Quantity     quantity.Quantity `json:"quantity"`
	VersionAfter int64             `json:"version_after"`
}

// told2xx reads the ledger rows a success names, notes each lot's version
// for the stale-read check, and sums the units taken by lot.
func (w *world) told2xx(body []byte) ([]string, map[string]quantity.Quantity) {
	var answer struct {
		Consumption *ledgerRow  `json:"consumption"`
		Ledger      []ledgerRow `json:"ledger"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		w.t.Errorf("a 2xx answer is not JSON: %s", body)
	}
	rows := answer.Ledger
	if answer.Consumption != nil {
		rows = append(rows, *answer.Consumption)
	}
	ids := []string{}
	moved := map[string]quantity.Quantity{}
	for _, r := range rows {
		ids = append(ids, r.ID)
		moved[r.BatchID] += r.Quantity
		if v := w.told[r.BatchID]; v != nil {
			for cur := v.Load(); cur < r.VersionAfter && !v.CompareAndSwap(cur, r.VersionAfter); cur = v.Load() {
			}
		}
	}
	slices.Sort(ids)
	return ids, moved
}

// read checks that a lot read through HAProxy or straight from any
// instance is never older than a write already answered.
func (w *world) read(ctx context.Context, rec *recorder, rng *rand.Rand, apps []string) {
	for ctx.Err() == nil {
		lot := w.lots[rng.IntN(len(w.lots))]
		want := w.told[lot].Load()
		base, viaFront := w.front, true
		if rng.IntN(2) == 0 {
			base, viaFront = apps[rng.IntN(len(apps))], false
		}
		sent := time.Now()
		status, body, err := w.api.send(ctx, base, "GET", "/api/batches/"+lot, "", "")
		if ctx.Err() != nil {
			return
		}
		if viaFront {
			// An instance that is down is HAProxy's to route around; only
			// reads through it count in the table.
			rec.add(request{sent: sent, answered: time.Now(), failed: err != nil || status >= 500})
		}
		if err == nil && status == 200 {
			var b struct{ Version int64 }
			if json.Unmarshal(body, &b) == nil {
				w.reads.Add(1)
				if b.Version < want {
					if w.stale.Add(1) <= 5 {
						w.staleMu.Lock()
						w.staleReads = append(w.staleReads, fmt.Sprintf("%s (%s): lot %s through %s: version %d after a write answered version %d",
							sent.Format("15:04:05.000"), rec.phaseAt(sent), lot, base, b.Version, want))
						w.staleMu.Unlock()
					}
				}
			}
		}
		time.Sleep(time.Duration(5+rng.IntN(10)) * time.Millisecond)
	}
}

// resolve retries, with the same key, every write that gave up.
func (w *world) resolve(rec *recorder) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := range rec.ops {
		if rec.ops[i].gaveUp {
			o := rec.ops[i]
			w.attempt(context.Background(), nil, &o, time.Now().Add(time.Minute))
			if o.gaveUp {
				w.t.Errorf("key %s: still no answer a minute after the faults", o.key)
			}
			o.gaveUp = true // for the table: it did give up during the fault
			rec.ops[i].status, rec.ops[i].ledgerIDs, rec.ops[i].moved = o.status, o.ledgerIDs, o.moved
		}
	}
}

// checkLedger: every lot's balance is the opening quantity less what the
// clients were told was taken, each successful key has exactly the ledger
// rows its answer named, no other key has any, and the mass balance of
// every lot is balanced.
func (w *world) checkLedger(t *testing.T, c *cluster, ops []op) {
	t.Helper()
	ctx := context.Background()
	url, err := c.databaseURL()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	rows, err := conn.Query(ctx, `SELECT idempotency_key, id::text FROM consumptions
		WHERE batch_id = ANY($1::uuid[]) AND idempotency_key LIKE 'chaos-%' ORDER BY 1, 2`, w.lots)
	if err != nil {
		t.Fatal(err)
	}
	inLedger := map[string][]string{}
	for rows.Next() {
		var key, id string
		if err := rows.Scan(&key, &id); err != nil {
			t.Fatal(err)
		}
		inLedger[key] = append(inLedger[key], id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	opened, err := quantity.Parse(opening)
	if err != nil {
		t.Fatal(err)
	}
	told := map[string]quantity.Quantity{}
	var succeeded, refused int
	for _, o := range ops {
		got := inLedger[o.key]
		delete(inLedger, o.key)
		if o.status >= 200 && o.status < 300 {
			succeeded++
			if !slices.Equal(got, o.ledgerIDs) {
				t.Errorf("key %s: ledger rows %v, the answer named %v", o.key, got, o.ledgerIDs)
			}
			for lot, q := range o.moved {
				told[lot] += q
			}
			continue
		}
		refused++
		if len(got) > 0 {
			t.Errorf("key %s: answered %d, yet ledger rows %v", o.key, o.status, got)
		}
	}
	for key, ids := range inLedger {
		t.Errorf("key %s: ledger rows %v, but no client was told it succeeded", key, ids)
	}
	for _, lot := range w.lots {
		var available quantity.Quantity
		if err := conn.QueryRow(ctx, "SELECT quantity_available FROM batches WHERE id = $1", lot).Scan(&available); err != nil {
			t.Fatal(err)
		}
		if want := opened - told[lot]; available != want {
			t.Errorf("lot %s: %s available, the clients were told %s of %s was taken (%s lost or doubled)",
				lot, available, told[lot], opened, want-available)
		}
		status, body, err := w.api.send(ctx, w.front, "GET", "/api/batches/"+lot+"/balance", "", "")
		if err != nil || status != 200 {
			t.Fatalf("balance of %s: %d %v %s", lot, status, err, body)
		}
		var balance struct {
			Balanced bool              `json:"balanced"`
			OnHand   quantity.Quantity `json:"on_hand"`
		}
		if err := json.Unmarshal(body, &balance); err != nil {
			t.Fatal(err)
		}
		if !balance.Balanced || balance.OnHand != available {
			t.Errorf("lot %s: the mass balance is not explained by the ledger: %s", lot, body)
		}
	}
	t.Logf("%d writes: %d succeeded, %d refused (4xx); units taken by lot: %v", succeeded+refused, succeeded, refused, told)
	if succeeded == 0 {
		t.Fatal("no write succeeded: the test tested nothing")
	}
}

// limitCheck is what a limited token got from each instance.
type limitCheck struct {
	ok, limited, other int
	perApp             []int
}

func (l limitCheck) String() string {
	return fmt.Sprintf("%d allowed (by instance %v), %d refused with 429, %d other", l.ok, l.perApp, l.limited, l.other)
}

// hammer sends three times the limit of reads, spread over every instance
// directly, within a second or two: far inside the one-minute window.
func hammer(c *client, apps []string, path string) limitCheck {
	out := limitCheck{perApp: make([]int, len(apps))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 3 * rateLimit {
		wg.Go(func() {
			app := i % len(apps)
			status, _, err := c.send(context.Background(), apps[app], "GET", path, "", "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && status == 200:
				out.ok++
				out.perApp[app]++
			case status == 429:
				out.limited++
			default:
				out.other++
			}
		})
	}
	wg.Wait()
	return out
}
