package web

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// Every write route, sent twice with one key (the second time with its
// JSON keys reordered and spaced out), acts once and answers the second
// time exactly as the first: status, body, ETag and Location.
func TestEveryWriteReplaysItsFirstAnswer(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("100")
	other := a.batch(b.ProductID.String(), b.LocationID.String(), "50")
	id, otherID := b.ID.String(), other.ID.String()
	party, err := a.svc.CreateParty(context.Background(), inventory.NewParty{PGLN: validGLN(), Name: "Farm"})
	if err != nil {
		t.Fatal(err)
	}
	partyID := party.ID.String()
	// A location of its own: attaching the batches' location to the farm
	// would make it a partner's, where no batch may be created.
	dock, err := a.svc.CreateLocation(context.Background(), inventory.NewLocation{GLN: validGLN(), Name: "Dock", Type: "warehouse"})
	if err != nil {
		t.Fatal(err)
	}
	locationID := dock.ID.String()
	partiesCSV := "pgln,name,roles\n" + validGLN() + ",Imported farm,supplier\n"
	// Stock movements: a supplier's farm, a customer's shop, another of our
	// locations, and an event to correct.
	w := &stockWorld{a: a}
	farm, shop, store := a.location("Farm", "farm"), a.location("Shop", "retailer"), a.location("Store", "warehouse")
	w.partner(farm, "supplier")
	w.partner(shop, "customer")
	destroyed, err := a.svc.Destroy(context.Background(), inventory.System, inventory.DestroyRequest{
		BatchID: other.ID, Quantity: quantity.MustParse("1"), Reason: "dropped"})
	if err != nil {
		t.Fatal(err)
	}
	eventID, pid, lid := destroyed.EventID.String(), b.ProductID.String(), b.LocationID.String()
	// Recalls: one lot to recall through the route, one already recalled
	// for the recovery and the closing.
	toRecall := a.batch(b.ProductID.String(), b.LocationID.String(), "20")
	recalled := a.batch(b.ProductID.String(), b.LocationID.String(), "30")
	rc, err := a.svc.OpenRecall(context.Background(), inventory.System, inventory.RecallRequest{BatchIDs: []uuid.UUID{recalled.ID},
		Reason: "glass", Classification: "class_ii", DecidedBy: "QA"})
	if err != nil {
		t.Fatal(err)
	}
	recallID := rc.ID.String()
	tests := []struct {
		name, method, path string
		body, reordered    string
		table              string // whose row count must grow by exactly one
	}{
		{"product", "POST", "/api/products",
			`{"gtin": "` + validGTIN() + `", "name": "Oat milk", "unit": "L"}`, "", "products"},
		{"location", "POST", "/api/locations",
			`{"gln": "` + validGLN() + `", "name": "Dock 4", "type": "warehouse"}`, "", "locations"},
		{"patch location", "PATCH", "/api/locations/" + locationID,
			`{"address": "Dock road 4", "party_id": "` + partyID + `"}`, "", "idempotency_keys"},
		{"party", "POST", "/api/parties",
			`{"pgln": "` + validGLN() + `", "name": "Corner shop", "roles": ["customer"]}`, "", "parties"},
		{"patch party", "PATCH", "/api/parties/" + partyID,
			`{"name": "Farm Ltd", "roles": ["supplier", "carrier"]}`, "", "idempotency_keys"},
		{"parties import", "POST", "/api/parties/import", partiesCSV, partiesCSV, "parties"},
		{"batch", "POST", "/api/batches",
			`{"product_id": "` + b.ProductID.String() + `", "location_id": "` + b.LocationID.String() +
				`", "production_date": "2026-11-01", "quantity_produced": "12.5"}`, "", "batches"},
		{"consume", "POST", "/api/batches/" + id + "/consume",
			`{"quantity_to_consume": "1.5", "reason": "picking"}`, "", "consumptions"},
		{"consume by body", "POST", "/api/batches/consume",
			`{"batch_id": "` + id + `", "quantity_to_consume": 2}`, "", "consumptions"},
		{"multi-consume", "POST", "/api/consumptions",
			`{"items": [{"batch_id": "` + id + `", "quantity_to_consume": "1"}, {"batch_id": "` + otherID +
				`", "quantity_to_consume": "1"}], "reason": "mix"}`, "", "consumptions"},
		{"adjust", "POST", "/api/batches/" + id + "/adjust",
			`{"quantity": "-0.5", "reason": "count"}`, "", "consumptions"},
		{"patch", "PATCH", "/api/batches/" + otherID,
			`{"notes": "checked", "quality_status": "rejected", "reason": "lab"}`, "", "events"},
		{"event", "POST", "/api/events",
			`{"event_type": "ObjectEvent", "action": "OBSERVE", "biz_step": "inspecting", "batch_ids": ["` + id + `"]}`,
			"", "events"},
		{"EPCIS event", "POST", "/epcis/events", sampleEvent, "", "events"},
		{"receipt", "POST", "/api/receipts", `{"product_id": "` + pid + `", "location_id": "` + lid +
			`", "quantity": "3", "ship_from_id": "` + farm.ID.String() + `", "references": [{"type": "po", "id": "PO-7"}]}`, "", "batches"},
		{"shipment", "POST", "/api/shipments", `{"items": [{"batch_id": "` + id + `", "quantity": "1"}], "ship_to_id": "` +
			shop.ID.String() + `"}`, "", "consumptions"},
		{"transformation", "POST", "/api/transformations", `{"inputs": [{"batch_id": "` + id + `", "quantity": "1"}], "outputs": [` +
			`{"product_id": "` + pid + `", "quantity": "0.5"}]}`, "", "consumptions"},
		{"destruction", "POST", "/api/destructions", `{"batch_id": "` + id + `", "quantity": "0.25", "reason": "mould"}`, "", "consumptions"},
		{"commission", "POST", "/api/commissions", `{"product_id": "` + pid + `", "location_id": "` + lid +
			`", "quantity": 7, "stage": "cooling"}`, "", "batches"},
		{"move", "POST", "/api/moves", `{"batch_id": "` + id + `", "quantity": "2", "to_location_id": "` + store.ID.String() + `"}`,
			"", "consumptions"},
		{"correction", "POST", "/api/events/" + eventID + "/corrections", `{"reason": "did_not_occur", "note": "never dropped"}`,
			"", "consumptions"},
		{"EPCIS capture", "POST", "/epcis/capture", `{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
			"type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-01T10:00:00Z",
			"epcisBody": {"eventList": [{"type": "ObjectEvent", "eventTime": "2026-03-01T10:00:00Z",
			"eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.99"]}]}}`,
			"", "capture_jobs"},
		{"mock recall", "POST", "/api/mock-recalls", `{"batch_ids": ["` + id + `"], "note": "drill"}`, "", "mock_recalls"},
		{"recall", "POST", "/api/recalls", `{"batch_ids": ["` + toRecall.ID.String() + `"], "reason": "listeria", "classification": "class_i", "decided_by": "QA"}`,
			"", "recalls"},
		{"recovery", "POST", "/api/recalls/" + recallID + "/recoveries", `{"kind": "destroyed", "batch_id": "` + recalled.ID.String() + `", "quantity": "3"}`,
			"", "recall_recoveries"},
		{"close recall", "POST", "/api/recalls/" + recallID + "/close", `{"note": "all destroyed"}`, `{ "note" : "all destroyed" }`,
			"recalls WHERE status = 'closed'"},
	}
	// Reads sent as POST (a body too large for a query string) write nothing.
	readsByPost := map[string]bool{"POST /api/recalls/impact": true}
	// Every write route of the API is in the table: a new one must keep
	// its result in its transaction too, and be added here.
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.method+" "+strings.NewReplacer(id, ":id", otherID, ":id", partyID, ":id", locationID, ":id", eventID, ":id", recallID, ":id").Replace(tt.path)] = true
	}
	for _, r := range a.srv.App().GetRoutes(true) {
		if (r.Method == "POST" || r.Method == "PATCH") && (strings.HasPrefix(r.Path, "/api/") || strings.HasPrefix(r.Path, "/epcis/")) &&
			!covered[r.Method+" "+r.Path] && !readsByPost[r.Method+" "+r.Path] {
			t.Errorf("%s %s is not in this test's table", r.Method, r.Path)
		}
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("replay-%d", i)
			before := a.count(tt.table)
			headers := []string{"Idempotency-Key", key}
			if strings.HasSuffix(tt.path, "/import") {
				headers = append(headers, "Content-Type", "text/csv")
			}
			first := a.do(tt.method, tt.path, tt.body, headers...)
			firstBody := readBody(t, first)
			if first.StatusCode >= 300 {
				t.Fatalf("first: %d %s", first.StatusCode, firstBody)
			}
			grown := a.count(tt.table) - before
			second := tt.reordered
			if second == "" {
				second = reorderJSON(t, tt.body)
			}
			again := a.do(tt.method, tt.path, second, headers...)
			againBody := readBody(t, again)
			if again.StatusCode != first.StatusCode || againBody != firstBody {
				t.Fatalf("replay differs:\n%d %s\n%d %s", first.StatusCode, firstBody, again.StatusCode, againBody)
			}
			if again.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("Idempotent-Replayed: first %q, again %q", first.Header.Get("Idempotent-Replayed"),
					again.Header.Get("Idempotent-Replayed"))
			}
			for _, h := range []string{"ETag", "Location", "Content-Type"} {
				if again.Header.Get(h) != first.Header.Get(h) {
					t.Errorf("%s: first %q, replay %q", h, first.Header.Get(h), again.Header.Get(h))
				}
			}
			if got := a.count(tt.table) - before; got != grown || grown == 0 {
				t.Errorf("%s grew by %d after the first send and %d after both", tt.table, grown, got)
			}
		})
	}
	a.checkLedger(b)
	a.checkLedger(other)
}

// reorderJSON sends the same JSON with its top-level keys reversed and
// extra whitespace: a retry must be recognised as the same request.
func reorderJSON(t *testing.T, body string) string {
	t.Helper()
	inner := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(body), "{"), "}")
	var parts []string
	depth, start := 0, 0
	for i, r := range inner {
		switch r {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, strings.TrimSpace(inner[start:i]))
				start = i + 1
			}
		}
	}
	parts = append(parts, strings.TrimSpace(inner[start:]))
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return "{\n  " + strings.Join(parts, ",\n  ") + "\n}\n"
}

func (a *testApp) count(table string) int {
	a.t.Helper()
	var n int
	if err := a.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// The crash window: the write commits, but its answer never reaches the
// client (here the client hangs up while the batch is locked; in
// TestAppKilledBetweenCommitAndAnswer the process dies). The retry with
// the same key is answered at once from the committed result: one ledger
// row, and the retry's answer names it.
func TestRetryAfterALostAnswerReplaysTheCommittedOne(t *testing.T) {
	a := newTestApp(t)
	base := a.listen()
	b := a.fixture("100")
	other := a.batch(b.ProductID.String(), b.LocationID.String(), "100")
	tests := []struct{ name, path, body string }{
		{"consume", "/api/batches/" + b.ID.String() + "/consume", `{"quantity_to_consume": "3"}`},
		{"multi-consume", "/api/consumptions", `{"items": [{"batch_id": "` + b.ID.String() +
			`", "quantity_to_consume": "2"}, {"batch_id": "` + other.ID.String() + `", "quantity_to_consume": "2"}]}`},
		{"adjust", "/api/batches/" + b.ID.String() + "/adjust", `{"quantity": "-1", "reason": "recount"}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("lost-answer-%d", i)
			ctx := context.Background()
			// Hold the batch row, so the request waits under our eyes.
			holder, err := a.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Rollback(ctx) //nolint:errcheck
			if _, err := holder.Exec(ctx, "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", b.ID); err != nil {
				t.Fatal(err)
			}
			conn := sendRaw(t, base, "POST", tt.path, tt.body, "Idempotency-Key: "+key)
			a.waitForLockWaiter(t)
			conn.Close() // the client gives up: it will never see the answer
			if err := holder.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			rowsForKey := func() int {
				var n int
				if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM consumptions WHERE idempotency_key = $1", key).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			deadline := time.Now().Add(10 * time.Second)
			for rowsForKey() == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the write never committed")
				}
				time.Sleep(10 * time.Millisecond)
			}
			committed := rowsForKey()
			resp := a.do("POST", tt.path, tt.body, "Idempotency-Key", key)
			body := readBody(t, resp)
			if resp.StatusCode != 200 || resp.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("retry: %d replayed=%q %s", resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), body)
			}
			if got := rowsForKey(); got != committed {
				t.Fatalf("%d ledger rows for the key after the retry, %d before", got, committed)
			}
			rows, err := a.pool.Query(ctx, "SELECT id FROM consumptions WHERE idempotency_key = $1", key)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var id uuid.UUID
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(body, id.String()) {
					t.Errorf("the retry's answer does not name ledger row %s: %s", id, body)
				}
			}
		})
	}
	a.checkLedger(b)
	a.checkLedger(other)
}

// sendRaw writes one HTTP request on a fresh connection and returns the
// connection without reading the answer.
func sendRaw(t *testing.T, base, method, path, body string, headers ...string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "%s %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", method, path, len(body))
	for _, h := range headers {
		fmt.Fprintf(w, "%s\r\n", h)
	}
	fmt.Fprintf(w, "\r\n%s", body)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitForLockWaiter waits until some session of the app waits for a row lock.
func (a *testApp) waitForLockWaiter(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := a.pool.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no request waited for the lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A request without credentials writes no idempotency record.
func TestAnonymousKeyedRequestKeepsNothing(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	resp := a.do("POST", "/api/batches/"+b.ID.String()+"/consume", `{"quantity_to_consume": "1"}`,
		"Idempotency-Key", "anon-1", "Authorization", "Bearer nope")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := a.count("idempotency_keys"); n != 0 {
		t.Fatalf("%d idempotency records after an unauthenticated request", n)
	}
}

// While the database cannot be reached, requests get 503 with
// Retry-After and /problems/unavailable, and /readyz says so.
func TestDatabaseUnavailableIs503(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	a.pool.Close()
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/batches?limit=1", ""},
		{"POST", "/api/batches/" + b.ID.String() + "/consume", `{"quantity_to_consume": "1"}`},
		{"POST", "/api/batches/" + b.ID.String() + "/adjust", `{"quantity": "1", "reason": "x"}`},
	} {
		var body any
		if r.body != "" {
			body = r.body
		}
		resp := a.do(r.method, r.path, body, "Idempotency-Key", "down-"+r.path)
		p := decode[Problem](t, resp)
		if resp.StatusCode != 503 || p.Type != "/problems/unavailable" || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s: %d %s Retry-After=%q", r.method, r.path, resp.StatusCode, p.Type, resp.Header.Get("Retry-After"))
		}
	}
	if resp := a.do("GET", "/readyz", nil); resp.StatusCode != 503 {
		t.Errorf("/readyz: %d", resp.StatusCode)
	}
}

// Retries of one write sent at once all get the first answer, even when
// the write itself would refuse a second run (the GTIN exists, the units
// are gone): the refusal caused by the first attempt is not the answer.
func TestConcurrentRetriesAllGetTheFirstAnswer(t *testing.T) {
	a := newTestApp(t, appOptions{maxConns: 40})
	b := a.fixture("10")
	other := a.batch(b.ProductID.String(), b.LocationID.String(), "10")
	tests := []struct{ name, method, path, body string }{
		{"product", "POST", "/api/products", `{"gtin": "` + validGTIN() + `", "name": "Rye"}`},
		{"multi-consume of everything", "POST", "/api/consumptions", `{"items": [{"batch_id": "` + b.ID.String() +
			`", "quantity_to_consume": "10"}, {"batch_id": "` + other.ID.String() + `", "quantity_to_consume": "10"}]}`},
		{"adjust to zero", "POST", "/api/batches/" + b.ID.String() + "/adjust", `{"quantity": "5", "reason": "found"}`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 12
			statuses := make([]int, n)
			bodies := make([]string, n)
			var wg sync.WaitGroup
			for j := range n {
				wg.Go(func() {
					resp := a.do(tt.method, tt.path, tt.body, "Idempotency-Key", fmt.Sprintf("together-%d", i))
					statuses[j], bodies[j] = resp.StatusCode, readBody(t, resp)
				})
			}
			wg.Wait()
			for j := range n {
				if statuses[j] != statuses[0] || bodies[j] != bodies[0] || statuses[0] >= 300 {
					t.Fatalf("answer %d: %d %s\nanswer 0: %d %s", j, statuses[j], bodies[j], statuses[0], bodies[0])
				}
			}
		})
	}
	a.checkLedger(b)
	a.checkLedger(other)
	if l := a.checkLedger(other); l.Entries != 1 {
		t.Errorf("%d ledger rows on the second batch, want 1", l.Entries)
	}
}
