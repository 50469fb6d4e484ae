package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

func TestErrorPages(t *testing.T) {
	a := newTestApp(t)
	tests := []struct {
		name   string
		path   string
		htmx   bool
		status int
	}{
		{"404 page", "/no/such/page", false, 404},
		{"404 batch", "/batches/7b0c2a3e-0000-4000-8000-000000000000", false, 404},
		{"422 bad id", "/batches/not-a-uuid", false, 422},
		{"404 toast", "/no/such/page", true, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.get(tt.path, tt.htmx)
			wantStatus(t, resp, tt.status)
			rid := resp.Header.Get("X-Request-Id")
			body, doc := parseDoc(t, resp)
			if tt.htmx {
				if resp.Header.Get("HX-Retarget") != "#toasts" || resp.Header.Get("HX-Reswap") != "beforeend" {
					t.Errorf("toast not retargeted: %v", resp.Header)
				}
				if testid(doc, "toast").Length() != 1 || strings.Contains(body, "<html") {
					t.Errorf("want a toast fragment: %s", body)
				}
				return
			}
			if got := testid(doc, "error-status").Text(); got != itoa64(int64(tt.status)) {
				t.Errorf("status shown %q", got)
			}
			if got := testid(doc, "request-id").Text(); got == "" || got != rid {
				t.Errorf("request id shown %q, header %q", got, rid)
			}
			if testid(doc, "nav-overview").Length() != 1 {
				t.Error("the error page lacks the app's navigation")
			}
		})
	}
}

func TestStaticAssets(t *testing.T) {
	a := newTestApp(t)
	_, doc := parseDoc(t, a.get("/dashboard", false))
	css := doc.Find(`link[rel="stylesheet"]`).AttrOr("href", "")
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{10}\.css$`).MatchString(css) {
		t.Fatalf("stylesheet URL %q is not fingerprinted", css)
	}
	htmx := doc.Find(`script[src*="htmx"]`).AttrOr("src", "")
	tests := []struct {
		name, path, ifNoneMatch string
		status                  int
		cache                   string
	}{
		{"fingerprinted css", css, "", 200, "immutable"},
		{"fingerprinted htmx", htmx, "", 200, "immutable"},
		{"plain name", "/static/app.css", "", 200, "no-cache"},
		{"unknown", "/static/nope.js", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.do("GET", tt.path, nil)
			wantStatus(t, resp, tt.status)
			if tt.cache != "" && !strings.Contains(resp.Header.Get("Cache-Control"), tt.cache) {
				t.Errorf("Cache-Control %q, want %s", resp.Header.Get("Cache-Control"), tt.cache)
			}
			if tt.status == 200 {
				etag := resp.Header.Get("ETag")
				again := a.do("GET", tt.path, nil, "If-None-Match", etag)
				wantStatus(t, again, http.StatusNotModified)
			}
		})
	}
}

func TestExportBatchesCSVStreamsEveryPage(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	for range csvPageSize + 5 {
		a.batch(b.ProductID.String(), b.LocationID.String(), "1")
	}
	resp := a.get("/batches.csv?sort=number", false)
	wantStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(readBody(t, resp))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != csvPageSize+7 || rows[0][1] != "batch_number" {
		t.Fatalf("%d rows (header %v), want header + %d batches", len(rows), rows[0], csvPageSize+6)
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if seen[r[1]] {
			t.Fatalf("batch %s exported twice", r[1])
		}
		seen[r[1]] = true
	}
	resp = a.get("/batches.csv?q="+url.QueryEscape(b.BatchNumber), false)
	rows, _ = csv.NewReader(strings.NewReader(readBody(t, resp))).ReadAll()
	if len(rows) != 2 || rows[1][1] != b.BatchNumber {
		t.Errorf("filtered export: %v", rows)
	}
	wantStatus(t, a.get("/batches.csv?quality_status=lost", false), http.StatusUnprocessableEntity)
}

func TestExportEventsCSV(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	if _, _, err := a.svc.Consume(context.Background(), inventory.System, inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.MustParse("1"), Reason: "=cmd()"}); err != nil {
		t.Fatal(err)
	}
	resp := a.get("/events.csv?batch_id="+b.ID.String(), false)
	wantStatus(t, resp, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(readBody(t, resp))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("rows %v", rows)
	}
	if rows[1][6] != "dispensing" || rows[1][14] != b.BatchNumber || rows[1][20] != "'=cmd()" {
		t.Errorf("dispensing row %v (a formula must be defused)", rows[1])
	}
}

func TestImportBatchesCSV(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("1")
	p, _ := a.svc.GetProduct(context.Background(), b.ProductID)
	l, _ := a.svc.GetLocation(context.Background(), b.LocationID)
	header := "batch_number,gtin,gln,production_date,expiry_date,quantity_produced,unit_of_measure,quality_status\n"
	good := header + "IMP-1," + p.GTIN + "," + l.GLN + ",2026-01-02,2026-03-01,10,kg,approved\n" +
		"IMP-2," + p.GTIN + "," + l.GLN + ",2026-01-02,,5.5,,\n"
	t.Run("preview with per-row errors", func(t *testing.T) {
		bad := header + "IMP-1," + p.GTIN + "," + l.GLN + ",2026-01-02,,10,,\n" +
			b.BatchNumber + ",4006381333932," + validGLN() + ",someday,,0,bushel,fine\n" +
			"IMP-1," + p.GTIN + "," + l.GLN + ",2026-01-02,2025-01-01,1,,\n" +
			b.BatchNumber + "," + p.GTIN + "," + l.GLN + ",2026-01-02,,1,,\n"
		resp := a.postForm("/batches/import/preview", url.Values{"csv": {bad}}, true)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		_, doc := parseDoc(t, resp)
		rows := testid(doc, "import-row")
		if rows.Length() != 4 {
			t.Fatalf("%d preview rows", rows.Length())
		}
		if rows.Eq(0).Find(`[data-testid="import-row-error"]`).Length() != 0 {
			t.Errorf("row 1 is fine: %s", rows.Eq(0).Text())
		}
		second := rows.Eq(1).Text()
		for _, want := range []string{"gtin has a wrong check digit", "gln names no known location", "production_date must be a date",
			"quantity_produced must be greater than 0", "unit_of_measure must be one of", "quality_status must be one of"} {
			if !strings.Contains(second, want) {
				t.Errorf("row 2 lacks %q: %s", want, second)
			}
		}
		third := rows.Eq(2).Text()
		for _, want := range []string{"repeats the lot number of row 1", "expiry_date must not be before the production date"} {
			if !strings.Contains(third, want) {
				t.Errorf("row 3 lacks %q: %s", want, third)
			}
		}
		// A lot is taken per product: the fixture's lot number, of its product.
		if fourth := rows.Eq(3).Text(); !strings.Contains(fourth, "batch_number is already a lot of this product") {
			t.Errorf("row 4 lacks the taken lot: %s", fourth)
		}
		if testid(doc, "import-commit").Length() != 0 || testid(doc, "import-blocked").Length() != 1 {
			t.Error("a preview with errors must not offer the import")
		}
	})
	t.Run("file errors", func(t *testing.T) {
		for text, want := range map[string]string{
			"":                  "needs a header row and at least one batch",
			"gtin,gln\n1,2\n":   "lacks the column production_date",
			"gtin,\"gln\n1,2\n": "does not parse",
		} {
			resp := a.postForm("/batches/import/preview", url.Values{"csv": {text}}, true)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			_, doc := parseDoc(t, resp)
			if got := testid(doc, "error-import-csv").Text(); !strings.Contains(got, want) {
				t.Errorf("%q: error %q, want %q", text, got, want)
			}
		}
	})
	t.Run("all or nothing", func(t *testing.T) {
		resp := a.postForm("/batches/import/preview", url.Values{"csv": {good}}, true)
		wantStatus(t, resp, http.StatusOK)
		_, doc := parseDoc(t, resp)
		if testid(doc, "import-commit").Length() != 1 {
			t.Fatal("a clean preview offers the import")
		}
		// Someone takes IMP-2 between preview and commit: nothing is imported.
		taken := b
		expiry := time.Now().AddDate(0, 1, 0)
		if _, err := a.svc.CreateBatch(context.Background(), inventory.System, inventory.NewBatch{BatchNumber: "IMP-2",
			ProductID: taken.ProductID, LocationID: taken.LocationID, ProductionDate: time.Now(), ExpiryDate: &expiry,
			QuantityProduced: quantity.MustParse("1")}); err != nil {
			t.Fatal(err)
		}
		resp = a.postForm("/batches/import", url.Values{"csv": {good}}, true)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		if page, _ := a.svc.ListBatches(context.Background(), inventory.BatchFilter{Q: "IMP-1"}, inventory.ListOptions{}); len(page.Items) != 0 {
			t.Fatalf("IMP-1 was imported although IMP-2 failed")
		}
		resp = a.postForm("/batches/import", url.Values{"csv": {strings.Replace(good, "IMP-2", "IMP-3", 1)}}, false)
		wantStatus(t, resp, http.StatusSeeOther)
		page, err := a.svc.ListBatches(context.Background(), inventory.BatchFilter{Q: "IMP-"}, inventory.ListOptions{})
		if err != nil || len(page.Items) != 3 {
			t.Fatalf("after import: %d batches like IMP- (%v)", len(page.Items), err)
		}
		events, _ := a.svc.ListEvents(context.Background(), inventory.EventFilter{SourceType: "import"}, inventory.ListOptions{})
		if len(events.Items) != 2 {
			t.Errorf("%d commissioning events with source import, want 2", len(events.Items))
		}
	})
}

func TestLabelSheet(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("1")
	c := a.batch(b.ProductID.String(), b.LocationID.String(), "2")
	resp := a.get("/labels?ids="+b.ID.String()+"&ids="+c.ID.String(), false)
	wantStatus(t, resp, http.StatusOK)
	_, doc := parseDoc(t, resp)
	labels := testid(doc, "label")
	if labels.Length() != 2 || labels.Find("svg").Length() != 2 {
		t.Fatalf("%d labels", labels.Length())
	}
	if got := labels.First().Find(`[data-testid="label-lot"]`).Text(); got != "(10) "+b.BatchNumber {
		t.Errorf("lot %q", got)
	}
	if got := labels.First().Find(`[data-testid="label-expiry"]`).Text(); got != "(17) "+b.ExpiryDate.Format("060102") {
		t.Errorf("expiry %q", got)
	}
	wantStatus(t, a.get("/labels?ids=nope", false), http.StatusUnprocessableEntity)
}

// A PUBLIC_URL only this machine resolves is named on the label page,
// because printed codes would not open anywhere else.
func TestLabelPagePublicURLWarning(t *testing.T) {
	for _, tc := range []struct {
		publicURL string
		warn      bool
	}{
		{"http://127.0.0.1:3000", true},
		{"http://localhost:3000", true},
		{"http://[::1]:3000", true},
		{"https://trace.example.com", false},
		{"http://192.168.1.20:3000", false},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			a := newTestApp(t, appOptions{publicURL: tc.publicURL})
			b := a.fixture("1")
			for _, path := range []string{"/batches/" + b.ID.String() + "/label", "/labels?ids=" + b.ID.String()} {
				resp := a.get(path, false)
				wantStatus(t, resp, http.StatusOK)
				_, doc := parseDoc(t, resp)
				note := testid(doc, "public-url-warning")
				if got := note.Length() == 1; got != tc.warn {
					t.Errorf("%s: warning shown = %v, want %v", path, got, tc.warn)
				}
				if tc.warn && !strings.Contains(note.Text(), tc.publicURL) {
					t.Errorf("%s: warning %q does not name %s", path, note.Text(), tc.publicURL)
				}
			}
		})
	}
}

func TestOverviewPage(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("100")
	if _, _, err := a.svc.Consume(context.Background(), inventory.System, inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.MustParse("95")}); err != nil {
		t.Fatal(err)
	}
	resp := a.get("/", false)
	wantStatus(t, resp, http.StatusOK)
	_, doc := parseDoc(t, resp)
	if got := testid(doc, "count-approved").Find(".n").Text(); got != "1" {
		t.Errorf("approved count %q", got)
	}
	if !strings.Contains(testid(doc, "low-stock").Text(), b.BatchNumber) {
		t.Error("the batch at 5% is not listed as low on stock")
	}
	if strings.Contains(testid(doc, "expiring").Text(), b.BatchNumber) {
		t.Error("a batch expiring in a month is not expiring within 14 days")
	}
	if testid(doc, "latest-events").Find("li").Length() < 2 {
		t.Error("latest events missing")
	}
}

// Every line a request logs carries its request id: the client's when it
// is sane, else one the server makes and returns.
func TestRequestLogLinesCarryRequestID(t *testing.T) {
	a := newTestApp(t)
	resp := a.do("GET", "/api/batches/7b0c2a3e-0000-4000-8000-000000000000", nil, "X-Request-Id", "trace-me-42")
	wantStatus(t, resp, 404)
	if got := resp.Header.Get("X-Request-Id"); got != "trace-me-42" {
		t.Errorf("X-Request-Id = %q, want the client's", got)
	}
	resp = a.do("GET", "/api/batches", nil, "X-Request-Id", "not sane!")
	wantStatus(t, resp, 200)
	made := resp.Header.Get("X-Request-Id")
	if made == "" || made == "not sane!" {
		t.Errorf("X-Request-Id = %q, want one the server made", made)
	}
	for _, rid := range []string{"trace-me-42", made} {
		var lines []string
		for _, line := range strings.Split(a.logBuf.String(), "\n") {
			if strings.Contains(line, "request_id="+rid) {
				lines = append(lines, line)
			}
		}
		if len(lines) == 0 || !strings.Contains(strings.Join(lines, "\n"), "msg=request") {
			t.Errorf("request %s: no request line with its id in the log:\n%s", rid, a.logBuf.String())
		}
	}
}
