package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// Bad input, endpoint by endpoint: always a 4xx problem+json that names
// what is wrong, never a 500, and nothing changes.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	ctx := context.Background()
	bid := b.ID.String()
	consume := "/api/batches/" + bid + "/consume"
	tests := []struct {
		name, method, path, contentType, body string
		wantStatus                            int
		wantType, wantField                   string
	}{
		{"zero", "POST", consume, "", `{"quantity_to_consume": 0}`, 422, "/problems/validation", "quantity_to_consume"},
		{"negative", "POST", consume, "", `{"quantity_to_consume": -1}`, 422, "/problems/validation", "quantity_to_consume"},
		{"too many decimals", "POST", consume, "", `{"quantity_to_consume": 1.0001}`, 422, "/problems/validation", "quantity_to_consume"},
		{"huge number", "POST", consume, "", `{"quantity_to_consume": 1000000000000}`, 422, "/problems/validation", "quantity_to_consume"},
		{"exponent", "POST", consume, "", `{"quantity_to_consume": 1e2}`, 422, "/problems/validation", "quantity_to_consume"},
		{"NaN string", "POST", consume, "", `{"quantity_to_consume": "NaN"}`, 422, "/problems/validation", "quantity_to_consume"},
		{"hex string", "POST", consume, "", `{"quantity_to_consume": "0x10"}`, 422, "/problems/validation", "quantity_to_consume"},
		{"bool for number", "POST", consume, "", `{"quantity_to_consume": true}`, 422, "/problems/validation", "quantity_to_consume"},
		{"missing quantity", "POST", consume, "", `{}`, 422, "/problems/validation", "quantity_to_consume"},
		{"string version", "POST", consume, "", `{"quantity_to_consume": 1, "expected_version": "1"}`, 422, "/problems/validation", "expected_version"},
		{"unknown field", "POST", consume, "", `{"quantity_to_consume": 1, "quantity": 1}`, 422, "/problems/validation", "quantity"},
		{"bad uuid in path", "POST", "/api/batches/not-a-uuid/consume", "", `{"quantity_to_consume": 1}`, 422, "/problems/validation", "id"},
		{"bad uuid in body", "POST", "/api/batches/consume", "", `{"batch_id": "nope", "quantity_to_consume": 1}`, 422, "/problems/validation", "batch_id"},
		{"unknown batch", "POST", "/api/batches/consume", "", `{"batch_id": "` + uuid.NewString() + `", "quantity_to_consume": 1}`, 404, "/problems/not-found", ""},
		{"wrong content type", "POST", consume, "text/plain", `{"quantity_to_consume": 1}`, 415, "/problems/unsupported-media-type", ""},
		{"form content type", "POST", consume, "application/x-www-form-urlencoded", `quantity_to_consume=1`, 415, "/problems/unsupported-media-type", ""},
		{"empty body", "POST", consume, "", ``, 422, "/problems/validation", "body"},
		{"not an object", "POST", consume, "", `[1, 2]`, 400, "/problems/malformed-json", ""},
		{"truncated JSON", "POST", consume, "", `{"quantity_to_consume": 1`, 400, "/problems/malformed-json", ""},
		{"trailing data", "POST", consume, "", `{"quantity_to_consume": 1} {}`, 400, "/problems/malformed-json", ""},
		{"multi: empty items", "POST", "/api/consumptions", "", `{"items": []}`, 422, "/problems/validation", "items"},
		{"multi: duplicate batch", "POST", "/api/consumptions", "", `{"items": [{"batch_id": "` + bid + `", "quantity_to_consume": 1}, {"batch_id": "` + bid + `", "quantity_to_consume": 1}]}`, 422, "/problems/validation", "items[1].batch_id"},
		{"product: bad check digit", "POST", "/api/products", "", `{"gtin": "4006381333932", "name": "x"}`, 422, "/problems/validation", "gtin"},
		{"product: letters in GTIN", "POST", "/api/products", "", `{"gtin": "40063813339a1", "name": "x"}`, 422, "/problems/validation", "gtin"},
		{"product: no name", "POST", "/api/products", "", `{"gtin": "4006381333931"}`, 422, "/problems/validation", "name"},
		{"location: bad GLN", "POST", "/api/locations", "", `{"gln": "0614141000013", "name": "x", "type": "farm"}`, 422, "/problems/validation", "gln"},
		{"location: bad type", "POST", "/api/locations", "", `{"gln": "0614141000012", "name": "x", "type": "moon"}`, 422, "/problems/validation", "type"},
		{"batch: bad lot", "POST", "/api/batches", "", `{"batch_number": "has space", "product_id": "` + b.ProductID.String() + `", "location_id": "` + b.LocationID.String() + `", "production_date": "2026-01-01", "quantity_produced": 1}`, 422, "/problems/validation", "batch_number"},
		{"batch: bad date", "POST", "/api/batches", "", `{"product_id": "` + b.ProductID.String() + `", "location_id": "` + b.LocationID.String() + `", "production_date": "01/02/2026", "quantity_produced": 1}`, 422, "/problems/validation", "production_date"},
		{"batch: expiry before production", "POST", "/api/batches", "", `{"product_id": "` + b.ProductID.String() + `", "location_id": "` + b.LocationID.String() + `", "production_date": "2026-01-02", "expiry_date": "2026-01-01", "quantity_produced": 1}`, 422, "/problems/validation", "expiry_date"},
		{"batch: unknown product", "POST", "/api/batches", "", `{"product_id": "` + uuid.NewString() + `", "location_id": "` + b.LocationID.String() + `", "production_date": "2026-01-01", "quantity_produced": 1}`, 404, "/problems/not-found", "product_id"},
		{"batch: duplicate number", "POST", "/api/batches", "", `{"batch_number": "` + b.BatchNumber + `", "product_id": "` + b.ProductID.String() + `", "location_id": "` + b.LocationID.String() + `", "production_date": "2026-01-01", "quantity_produced": 1}`, 409, "/problems/conflict", "batch_number"},
		{"batch: bad status", "POST", "/api/batches", "", `{"product_id": "` + b.ProductID.String() + `", "location_id": "` + b.LocationID.String() + `", "production_date": "2026-01-01", "quantity_produced": 1, "quality_status": "great"}`, 422, "/problems/validation", "quality_status"},
		{"patch: stale If-Match", "PATCH", "/api/batches/" + bid, "", `{"notes": "x"}`, 412, "/problems/version-conflict", ""},
		{"event: unknown vocabulary", "POST", "/api/events", "", `{"event_type": "ObjectEvent", "action": "OBSERVE", "biz_step": "transforming"}`, 422, "/problems/validation", "biz_step"},
		{"event: unknown disposition", "POST", "/api/events", "", `{"event_type": "ObjectEvent", "action": "OBSERVE", "disposition": "happy"}`, 422, "/problems/validation", "disposition"},
		{"event: action on transformation", "POST", "/api/events", "", `{"event_type": "TransformationEvent", "action": "ADD", "output_quantity_list": [{"batch_id": "` + bid + `", "quantity": 1}]}`, 422, "/problems/validation", "action"},
		{"event: no action", "POST", "/api/events", "", `{"event_type": "ObjectEvent"}`, 422, "/problems/validation", "action"},
		{"event: bad type", "POST", "/api/events", "", `{"event_type": "Party", "action": "ADD"}`, 422, "/problems/validation", "event_type"},
		{"event: unknown GLN", "POST", "/api/events", "", `{"event_type": "ObjectEvent", "action": "OBSERVE", "read_point": "0614141000012"}`, 404, "/problems/not-found", "read_point"},
		{"event: wrong uom", "POST", "/api/events", "", `{"event_type": "ObjectEvent", "action": "OBSERVE", "quantity_list": [{"batch_id": "` + bid + `", "quantity": 1, "uom": "LTR"}]}`, 422, "/problems/validation", "quantity_list[0].uom"},
		{"event: bad time", "POST", "/api/events", "", `{"event_type": "ObjectEvent", "action": "OBSERVE", "event_time": "yesterday"}`, 422, "/problems/validation", "event_time"},
		{"list: bad limit", "GET", "/api/batches?limit=500", "", ``, 422, "/problems/validation", "limit"},
		{"list: bad cursor", "GET", "/api/batches?cursor=abc", "", ``, 422, "/problems/validation", "cursor"},
		{"list: bad status filter", "GET", "/api/batches?quality_status=good", "", ``, 422, "/problems/validation", "quality_status"},
		{"list: bad date filter", "GET", "/api/events?start_date=2026-13-01", "", ``, 422, "/problems/validation", "start_date"},
		{"list: bad uuid filter", "GET", "/api/events?batch_id=1", "", ``, 422, "/problems/validation", "batch_id"},
		{"show: bad uuid", "GET", "/api/batches/123", "", ``, 422, "/problems/validation", "id"},
		{"show: unknown", "GET", "/api/batches/" + uuid.NewString(), "", ``, 404, "/problems/not-found", ""},
		{"no such route", "GET", "/api/nothing", "", ``, 404, "/problems/not-found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := []string{}
			if tt.contentType != "" {
				headers = append(headers, "Content-Type", tt.contentType)
			}
			if tt.method == "PATCH" {
				headers = append(headers, "If-Match", `"v99"`)
			}
			var body any
			if tt.method != "GET" {
				body = tt.body
			}
			resp := a.do(tt.method, tt.path, body, headers...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, readBody(t, resp))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			p := decode[Problem](t, resp)
			if p.Type != tt.wantType || p.Status != tt.wantStatus || p.Title == "" {
				t.Errorf("problem %+v, want type %s", p, tt.wantType)
			}
			if tt.wantField != "" && !hasField(p, tt.wantField) {
				t.Errorf("errors %+v do not name %s", p.Errors, tt.wantField)
			}
		})
	}
	// Nothing changed.
	got, err := a.svc.GetBatch(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.QuantityAvailable != b.QuantityAvailable || got.Version != b.Version {
		t.Errorf("batch changed: %s v%d", got.QuantityAvailable, got.Version)
	}
	if l := a.checkLedger(b); l.Entries != 0 {
		t.Errorf("ledger has %d entries", l.Entries)
	}
	if strings.Contains(a.logBuf.String(), "level=ERROR") {
		t.Errorf("bad input logged an error:\n%s", a.logBuf.String())
	}
}

// Over 1 MiB is 413 (through a real socket: Fiber refuses it while
// reading the request, before routing).
func TestOversizedBodyIs413(t *testing.T) {
	// Anonymous: straight to the app's socket, not through the test's
	// token-adding proxy (the refusal comes before any auth anyway).
	a := newTestApp(t, appOptions{anonymous: true})
	b := a.fixture("10")
	base := a.listen()
	// The server refuses on the declared length and closes: send the
	// headers only, so the answer is read rather than a reset of a write.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/batches/%s/consume HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		b.ID, BodyLimit+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 413 || decode[Problem](t, resp).Type != "/problems/body-too-large" {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func hasField(p Problem, field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

// Text is stored and returned verbatim: markup and SQL are data.
func TestTextIsStoredVerbatim(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	for _, text := range []string{`<script>alert(1)</script>`, `'; DROP TABLE batches; --`, `Robert"); DELETE FROM events;--`, "naïve café ☕ 中文", `{{7*7}} ${7*7}`} {
		resp := a.do("PATCH", "/api/batches/"+b.ID.String(), map[string]any{"notes": text})
		if resp.StatusCode != 200 {
			t.Fatalf("patch %q: %d %s", text, resp.StatusCode, readBody(t, resp))
		}
		got := decode[batchJSON](t, a.do("GET", "/api/batches/"+b.ID.String(), nil))
		if got.Notes != text {
			t.Errorf("notes %q came back as %q", text, got.Notes)
		}
	}
}

// The same Idempotency-Key sent 20 times at once consumes once; every
// response is the first one; a different body with the key is refused.
func TestIdempotencyKeyConsumesOnce(t *testing.T) {
	a := newTestApp(t, appOptions{maxConns: 40})
	b := a.fixture("100")
	path := "/api/batches/" + b.ID.String() + "/consume"
	body := `{"quantity_to_consume": "1.5", "reason": "picking"}`
	const n = 20
	var wg sync.WaitGroup
	var replayed atomic.Int64
	bodies := make([]string, n)
	for i := range n {
		wg.Go(func() {
			resp := a.do("POST", path, body, "Idempotency-Key", "order-42")
			if resp.StatusCode != 200 {
				t.Errorf("status %d: %s", resp.StatusCode, readBody(t, resp))
				return
			}
			if resp.Header.Get("Idempotent-Replayed") == "true" {
				replayed.Add(1)
			}
			bodies[i] = readBody(t, resp)
		})
	}
	wg.Wait()
	if replayed.Load() != n-1 {
		t.Errorf("%d replays, want %d", replayed.Load(), n-1)
	}
	for i := 1; i < n; i++ {
		if bodies[i] != bodies[0] {
			t.Fatalf("response %d differs from the first:\n%s\n%s", i, bodies[i], bodies[0])
		}
	}
	l := a.checkLedger(b)
	if l.Entries != 1 || l.QuantityAvailable != quantity.MustParse("98.5") {
		t.Fatalf("ledger %+v after 20 sends of one key", l)
	}
	resp := a.do("POST", path, `{"quantity_to_consume": "2"}`, "Idempotency-Key", "order-42")
	if resp.StatusCode != 422 || decode[Problem](t, resp).Type != "/problems/idempotency-key-reuse" {
		t.Errorf("same key, other body: %d", resp.StatusCode)
	}
	// A refusal is stored too: the replay repeats it without consuming.
	resp = a.do("POST", path, `{"quantity_to_consume": "1000"}`, "Idempotency-Key", "too-much")
	again := a.do("POST", path, `{"quantity_to_consume": "1000"}`, "Idempotency-Key", "too-much")
	if resp.StatusCode != 409 || again.StatusCode != 409 || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("refusal replay: %d then %d (replayed=%q)", resp.StatusCode, again.StatusCode, again.Header.Get("Idempotent-Replayed"))
	}
	if l := a.checkLedger(b); l.Entries != 1 {
		t.Errorf("ledger has %d entries", l.Entries)
	}
}

// A held row lock makes a consume answer 503 with Retry-After within the
// lock timeout, and change nothing.
func TestLockTimeoutIs503WithRetryAfter(t *testing.T) {
	a := newTestApp(t, appOptions{lockTimeout: 250 * time.Millisecond})
	b := a.fixture("10")
	ctx := context.Background()
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", b.ID); err != nil {
		t.Fatal(err)
	}
	resp := a.do("POST", "/api/batches/"+b.ID.String()+"/consume", `{"quantity_to_consume": 1}`)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	p := decode[Problem](t, resp)
	if p.Type != "/problems/lock-timeout" || p.RequestID == "" || p.RequestID != resp.Header.Get("X-Request-Id") {
		t.Errorf("problem %+v", p)
	}
	_ = tx.Rollback(ctx)
	if l := a.checkLedger(b); l.Entries != 0 {
		t.Errorf("a timed-out consume wrote %d ledger rows", l.Entries)
	}
}

// 200 concurrent HTTP consumers on one hot batch: the balance is never
// negative and the ledger explains it.
func TestConcurrentConsumeOverHTTP(t *testing.T) {
	a := newTestApp(t, appOptions{maxConns: 32, lockTimeout: 10 * time.Second})
	b := a.fixture("50")
	base := a.listen()
	client := &http.Client{Timeout: 30 * time.Second}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			resp, err := client.Post(base+"/api/batches/"+b.ID.String()+"/consume", "application/json",
				bytes.NewReader([]byte(`{"quantity_to_consume": "0.5"}`)))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				var r consumeResponse
				if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Batch.QuantityAvailable < 0 {
					t.Errorf("response %+v, %v", r, err)
				}
				ok.Add(1)
			case 409:
				refused.Add(1)
			default:
				t.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 100 || refused.Load() != 100 {
		t.Errorf("ok=%d refused=%d, want 100/100", ok.Load(), refused.Load())
	}
	if l := a.checkLedger(b); l.QuantityAvailable != 0 || l.Entries != 100 {
		t.Errorf("ledger %+v", l)
	}
}

func TestETagAndIfMatch(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	resp := a.do("GET", "/api/batches/"+b.ID.String(), nil)
	if got := resp.Header.Get("ETag"); got != `"v1"` {
		t.Fatalf("ETag %q", got)
	}
	resp = a.do("PATCH", "/api/batches/"+b.ID.String(), map[string]any{"quality_status": "rejected", "reason": "mould"}, "If-Match", `"v1"`)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"v2"` {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, readBody(t, resp))
	}
	resp = a.do("PATCH", "/api/batches/"+b.ID.String(), map[string]any{"notes": "late"}, "If-Match", `"v1"`)
	if resp.StatusCode != 412 || *decode[Problem](t, resp).CurrentVersion != 2 {
		t.Errorf("stale PATCH: %d", resp.StatusCode)
	}
	// A rejected batch refuses consumption; the status change was an event.
	resp = a.do("POST", "/api/batches/"+b.ID.String()+"/consume", map[string]any{"quantity_to_consume": 1})
	if resp.StatusCode != 409 || decode[Problem](t, resp).Type != "/problems/batch-not-consumable" {
		t.Errorf("consume from rejected: %d", resp.StatusCode)
	}
	events := decode[listJSON[eventJSON]](t, a.do("GET", "/api/events?batch_id="+b.ID.String(), nil))
	if len(events.Items) != 2 || *events.Items[0].BizStep != "inspecting" || *events.Items[1].BizStep != "commissioning" {
		t.Errorf("events of the batch: %+v", events.Items)
	}
}

func TestListsPaginate(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	for range 4 {
		a.batch(b.ProductID.String(), b.LocationID.String(), "5")
	}
	seen := map[string]bool{}
	path := "/api/batches?limit=2&product_id=" + b.ProductID.String()
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		page := decode[listJSON[batchJSON]](t, a.do("GET", path, nil))
		for _, it := range page.Items {
			if seen[it.ID.String()] {
				t.Fatalf("batch %s on two pages", it.ID)
			}
			seen[it.ID.String()] = true
		}
		if page.NextCursor == nil {
			break
		}
		path = "/api/batches?limit=2&product_id=" + b.ProductID.String() + "&cursor=" + *page.NextCursor
	}
	if len(seen) != 5 {
		t.Errorf("saw %d batches, want 5", len(seen))
	}
}

func TestTransformationLinksBatches(t *testing.T) {
	a := newTestApp(t)
	green := a.fixture("100")
	roasted := a.unreleased(a.batch(green.ProductID.String(), green.LocationID.String(), "80"))
	resp := a.do("POST", "/api/events", map[string]any{
		"event_type": "TransformationEvent", "biz_step": "commissioning",
		"input_quantity_list":  []map[string]any{{"batch_id": green.ID, "quantity": "100", "uom": "KGM"}},
		"output_quantity_list": []map[string]any{{"batch_id": roasted.ID, "quantity": 80}},
	})
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, readBody(t, resp))
	}
	ev := decode[eventJSON](t, resp)
	if ev.Action != nil || ev.OutputQuantityList[0].UOM != "KGM" || ev.SourceType != "api" {
		t.Errorf("event %+v", ev)
	}
	links, err := a.svc.TraceLinks(context.Background(), roasted.ID)
	if err != nil || len(links) != 1 || links[0].BatchID != green.ID || links[0].Direction != "upstream" {
		t.Errorf("trace links of the output: %+v, %v", links, err)
	}
	got := decode[eventJSON](t, a.do("GET", "/api/events/"+ev.ID.String(), nil))
	if got.ID != ev.ID {
		t.Errorf("GET event: %+v", got)
	}
}

func TestMultiBatchConsumeAllOrNothing(t *testing.T) {
	a := newTestApp(t)
	x := a.fixture("10")
	y := a.batch(x.ProductID.String(), x.LocationID.String(), "5")
	resp := a.do("POST", "/api/consumptions", map[string]any{"items": []map[string]any{
		{"batch_id": x.ID, "quantity_to_consume": 2}, {"batch_id": y.ID, "quantity_to_consume": 6},
	}})
	p := decode[Problem](t, resp)
	if resp.StatusCode != 409 || p.Type != "/problems/insufficient-quantity" || p.Item == nil || *p.Item != 1 {
		t.Fatalf("status %d, %+v", resp.StatusCode, p)
	}
	resp = a.do("POST", "/api/consumptions", map[string]any{"items": []map[string]any{
		{"batch_id": x.ID, "quantity_to_consume": 2}, {"batch_id": y.ID, "quantity_to_consume": 5},
	}})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readBody(t, resp))
	}
	for _, b := range []inventory.Batch{x, y} {
		a.checkLedger(b)
	}
	if l := a.checkLedger(y); l.QuantityAvailable != 0 {
		t.Errorf("y has %s left", l.QuantityAvailable)
	}
}

func TestHealthAndDigitalLink(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	for _, path := range []string{"/healthz", "/readyz"} {
		if resp := a.do("GET", path, nil); resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	got := decode[batchJSON](t, a.do("GET", "/api/batches/"+b.ID.String(), nil))
	link := strings.TrimPrefix(got.DigitalLink, "http://batchtrack.test")
	link, _, _ = strings.Cut(link, "?")
	resp := a.do("GET", link, nil, "Accept", "application/json")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/api/batches/"+b.ID.String() {
		t.Errorf("digital link %s: %d -> %s", link, resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/qr.png", "/qr.svg"} {
		resp := a.do("GET", "/api/batches/"+b.ID.String()+path, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// FuzzConsumeDecoder: whatever the body, the decoder returns a request
// with a positive, in-range quantity or a 4xx problem; it never panics.
func FuzzConsumeDecoder(f *testing.F) {
	for _, s := range []string{`{"quantity_to_consume": 1}`, `{"quantity_to_consume": "12.5", "reason": "x"}`,
		`{"quantity_to_consume": 1e3}`, `{"batch_id": "` + uuid.NewString() + `", "quantity_to_consume": 0.001}`,
		`{}`, `[]`, `null`, `{"quantity_to_consume": "NaN"}`, `{"expected_version": 1.5, "quantity_to_consume": 1}`,
		`{"quantity_to_consume": 999999999999.999}`, `{"a":1}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseConsume(body, uuid.Nil)
		if err != nil {
			p := toProblem(err, 2)
			if p.Status < 400 || p.Status >= 500 {
				t.Fatalf("body %q: status %d", body, p.Status)
			}
			return
		}
		if req.BatchID == uuid.Nil {
			t.Fatalf("body %q: accepted without a batch", body)
		}
		var v inventory.ValidationError
		if req.Quantity > quantity.Max {
			v.Add("q", "range")
		}
		if v.OrNil() != nil {
			t.Fatalf("body %q: quantity %d out of range", body, req.Quantity)
		}
	})
}

// The resolver follows GS1 Digital Link: the lot escaped canonically (and
// the older loose form still resolves), a serial-level link goes to its
// lot, and an invalid query string is 400.
func TestDigitalLinkResolver(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	expiry := time.Now().AddDate(0, 2, 0)
	lot, err := a.svc.CreateBatch(context.Background(), inventory.System, inventory.NewBatch{
		BatchNumber: "ABC+1:2&3", ProductID: b.ProductID, LocationID: b.LocationID,
		ProductionDate: time.Now(), ExpiryDate: &expiry, QuantityProduced: quantity.MustParse("5"),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := decode[batchJSON](t, a.do("GET", "/api/batches/"+lot.ID.String(), nil))
	if !strings.Contains(got.DigitalLink, "/10/ABC%2B1%3A2%263?17=") {
		t.Fatalf("digital_link %s: the lot is not escaped canonically", got.DigitalLink)
	}
	base := "/01/" + lot.ProductGTIN + "/10/"
	for _, tt := range []struct {
		name, path string
		status     int
	}{
		{"canonical", base + "ABC%2B1%3A2%263", 303},
		{"loosely escaped, as links printed before", base + "ABC+1:2&3", 303},
		{"with its expiry", base + "ABC%2B1%3A2%263?17=" + expiry.Format("060102"), 303},
		{"serial level", base + "ABC%2B1%3A2%263/21/SERIAL9", 303},
		{"a resolver's own key", base + "ABC%2B1%3A2%263?linkType=all", 303},
		{"an AI twice", base + "ABC%2B1%3A2%263?17=270101&17=270102", 400},
		{"a space in an AI's value", base + "ABC%2B1%3A2%263?10=A%20B", 400},
		{"not a date", base + "ABC%2B1%3A2%263?17=271399", 400},
		{"no such lot", base + "NOPE", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.do("GET", tt.path, nil, "Accept", "application/json")
			if resp.StatusCode != tt.status {
				t.Fatalf("%s: %d, want %d", tt.path, resp.StatusCode, tt.status)
			}
			if tt.status == 303 && resp.Header.Get("Location") != "/api/batches/"+lot.ID.String() {
				t.Errorf("%s -> %s", tt.path, resp.Header.Get("Location"))
			}
		})
	}
}

// CBV values are stored bare whatever form they came in, a URI in the
// CBV's namespace that is not a CBV value is refused, and a filter may
// name a value in any of its forms.
func TestEventCBVValuesStoredBare(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	post := func(bizStep, disposition string) *http.Response {
		return a.do("POST", "/api/events", `{"event_type": "ObjectEvent", "action": "OBSERVE", "biz_step": "`+bizStep+
			`", "disposition": "`+disposition+`", "batch_ids": ["`+b.ID.String()+`"]}`)
	}
	for _, tt := range []struct{ bizStep, disposition string }{
		{"urn:epcglobal:cbv:bizstep:shipping", "urn:epcglobal:cbv:disp:in_transit"},
		{"https://ref.gs1.org/cbv/BizStep-shipping", "https://ref.gs1.org/cbv/Disp-in_transit"},
	} {
		resp := post(tt.bizStep, tt.disposition)
		ev := decode[map[string]any](t, resp)
		if resp.StatusCode != 201 || ev["biz_step"] != "shipping" || ev["disposition"] != "in_transit" {
			t.Errorf("%s, %s: %d %v", tt.bizStep, tt.disposition, resp.StatusCode, ev)
		}
	}
	resp := post("urn:epcglobal:cbv:bizstep:teleporting", "active")
	if p := decode[Problem](t, resp); resp.StatusCode != 422 || len(p.Errors) == 0 || p.Errors[0].Field != "biz_step" {
		t.Errorf("teleporting: %d %+v", resp.StatusCode, p)
	}
	page := decode[struct{ Items []map[string]any }](t,
		a.do("GET", "/api/events?biz_step="+url.QueryEscape("urn:epcglobal:cbv:bizstep:shipping"), nil))
	if len(page.Items) != 2 {
		t.Errorf("filter by the URN form: %d events, want 2", len(page.Items))
	}
}
