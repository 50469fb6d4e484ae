package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

const formType = "application/x-www-form-urlencoded"

// postForm sends a form as a browser would, or as htmx does (HX-Request).
func (a *testApp) postForm(path string, form url.Values, htmx bool, headers ...string) *http.Response {
	a.t.Helper()
	h := append([]string{"Content-Type", formType}, headers...)
	if htmx {
		h = append(h, "HX-Request", "true")
	}
	return a.do("POST", path, form.Encode(), h...)
}

func (a *testApp) get(path string, htmx bool) *http.Response {
	a.t.Helper()
	if htmx {
		return a.do("GET", path, nil, "HX-Request", "true")
	}
	return a.do("GET", path, nil)
}

func parseDoc(t *testing.T, resp *http.Response) (string, *goquery.Document) {
	t.Helper()
	body := readBody(t, resp)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return body, doc
}

func wantStatus(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, readBody(t, resp))
	}
}

func TestBatchesListFullPageOrFragment(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	tests := []struct {
		name     string
		htmx     bool
		wantPage bool
	}{{"browser", false, true}, {"htmx", true, false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.get("/batches?q="+url.QueryEscape(b.BatchNumber), tt.htmx)
			wantStatus(t, resp, http.StatusOK)
			if v := resp.Header.Get("Vary"); !strings.Contains(v, "HX-Request") {
				t.Errorf("Vary %q lacks HX-Request", v)
			}
			body, doc := parseDoc(t, resp)
			if got := strings.Contains(body, "<html"); got != tt.wantPage {
				t.Errorf("full page = %v, want %v", got, tt.wantPage)
			}
			if got := testid(doc, "nav-batches").Length() == 1; got != tt.wantPage {
				t.Errorf("navigation shown = %v, want %v", got, tt.wantPage)
			}
			rows := testid(doc, "batch-row")
			if rows.Length() != 1 || rows.AttrOr("data-batch-number", "") != b.BatchNumber {
				t.Errorf("rows %d (%s)", rows.Length(), body)
			}
		})
	}
}

func TestBatchesListFiltersSortAndPages(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	for i := 0; i < 3; i++ {
		a.batch(b.ProductID.String(), b.LocationID.String(), "5")
	}
	tests := []struct {
		name   string
		query  string
		status int
		rows   int
		errMsg string
	}{
		{"all", "", 200, 4, ""},
		{"status", "quality_status=approved", 200, 4, ""},
		{"none pending", "quality_status=pending", 200, 0, ""},
		{"by number", "sort=number", 200, 4, ""},
		{"by expiry", "sort=expiry", 200, 4, ""},
		{"by available", "sort=available", 200, 4, ""},
		{"bad status", "quality_status=lost", 422, 0, "Quality status must be one of the list"},
		{"bad product", "product_id=nope", 422, 0, "must be a product from the list"},
		{"bad date", "expiring_before=tomorrow", 422, 0, "must be a date (YYYY-MM-DD)"},
		{"bad sort", "sort=colour", 422, 0, "Sort must be one of the column headers"},
		{"bad cursor", "cursor=xyz", 422, 0, "cursor is not a cursor from this list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.get("/batches?"+tt.query, true)
			wantStatus(t, resp, tt.status)
			body, doc := parseDoc(t, resp)
			if got := testid(doc, "batch-row").Length(); got != tt.rows {
				t.Errorf("rows %d, want %d", got, tt.rows)
			}
			if tt.errMsg != "" && !strings.Contains(testid(doc, "filter-errors").Text(), tt.errMsg) {
				t.Errorf("want %q in %s", tt.errMsg, body)
			}
		})
	}
	// Keyset pages in each order visit every batch once.
	for _, sort := range []string{"", "number", "expiry", "available"} {
		seen := map[string]bool{}
		next := "/batches?sort=" + sort
		for pages := 0; next != "" && pages < 10; pages++ {
			page, err := a.svc.ListBatchesSorted(context.Background(), inventory.BatchFilter{}, sort, inventory.ListOptions{Limit: 1, Cursor: cursorOf(next)})
			if err != nil {
				t.Fatalf("sort %q: %v", sort, err)
			}
			for _, it := range page.Items {
				if seen[it.BatchNumber] {
					t.Fatalf("sort %q: %s twice", sort, it.BatchNumber)
				}
				seen[it.BatchNumber] = true
			}
			next = ""
			if page.NextCursor != "" {
				next = "/batches?cursor=" + page.NextCursor
			}
		}
		if len(seen) != 4 {
			t.Errorf("sort %q: paged through %d batches, want 4", sort, len(seen))
		}
	}
}

func cursorOf(path string) string {
	u, _ := url.Parse(path)
	return u.Query().Get("cursor")
}

func TestCreateBatchFormRedirects(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("1")
	form := url.Values{"product_id": {b.ProductID.String()}, "location_id": {b.LocationID.String()},
		"production_date": {"2026-01-10"}, "quantity_produced": {"12.5"}}
	t.Run("htmx", func(t *testing.T) {
		resp := a.postForm("/batches", form, true)
		wantStatus(t, resp, http.StatusOK)
		if to := resp.Header.Get("HX-Redirect"); !strings.HasPrefix(to, "/batches/") {
			t.Errorf("HX-Redirect %q", to)
		}
	})
	t.Run("plain form", func(t *testing.T) {
		resp := a.postForm("/batches", form, false)
		wantStatus(t, resp, http.StatusSeeOther)
		to := resp.Header.Get("Location")
		if !strings.HasPrefix(to, "/batches/") {
			t.Fatalf("Location %q", to)
		}
		if flash := cookieValue(resp, "bt_flash"); !strings.Contains(flash, "created") {
			t.Errorf("flash cookie %q", flash)
		}
		page := a.do("GET", to, nil, "Cookie", "bt_flash="+cookieValue(resp, "bt_flash"), "Authorization", "Bearer "+a.adminToken)
		_, doc := parseDoc(t, page)
		if !strings.Contains(testid(doc, "flash").Text(), "created") {
			t.Errorf("flash not shown after the redirect")
		}
		if got := testid(doc, "balance-available").Text(); got != "12.5 kg" {
			t.Errorf("new batch balance %q", got)
		}
	})
}

func TestCreateBatchFormValidation(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("1")
	valid := func() url.Values {
		return url.Values{"product_id": {b.ProductID.String()}, "location_id": {b.LocationID.String()},
			"production_date": {"2026-01-10"}, "quantity_produced": {"3"}}
	}
	tests := []struct {
		name  string
		set   map[string]string
		field string // the data-testid of the field's error
		want  string
	}{
		{"no product", map[string]string{"product_id": ""}, "error-nb-product", "Choose a product"},
		{"bad product", map[string]string{"product_id": "42"}, "error-nb-product", "Choose a product from the list"},
		{"unknown product", map[string]string{"product_id": "7b0c2a3e-0000-4000-8000-000000000000"}, "error-nb-product", "names a product that does not exist"},
		{"no location", map[string]string{"location_id": ""}, "error-nb-location", "Choose a location"},
		{"unknown location", map[string]string{"location_id": "7b0c2a3e-0000-4000-8000-000000000000"}, "error-nb-location", "names a location that does not exist"},
		{"no production date", map[string]string{"production_date": ""}, "error-nb-production", "is required"},
		{"bad production date", map[string]string{"production_date": "10/01/2026"}, "error-nb-production", "must be a date (YYYY-MM-DD)"},
		{"bad expiry", map[string]string{"expiry_date": "soon"}, "error-nb-expiry", "must be a date (YYYY-MM-DD)"},
		{"expiry before production", map[string]string{"expiry_date": "2026-01-01"}, "error-nb-expiry", "must not be before the production date"},
		{"best before before production", map[string]string{"best_before_date": "2026-01-01"}, "error-nb-best-before", "must not be before the production date"},
		{"no quantity", map[string]string{"quantity_produced": ""}, "error-nb-quantity", "is required"},
		{"words for quantity", map[string]string{"quantity_produced": "a lot"}, "error-nb-quantity", "must be a decimal number"},
		{"too precise", map[string]string{"quantity_produced": "1.2345"}, "error-nb-quantity", "at most 3 decimal places"},
		{"zero", map[string]string{"quantity_produced": "0"}, "error-nb-quantity", "must be greater than 0"},
		{"too big", map[string]string{"quantity_produced": "1000000000000"}, "error-nb-quantity", "must be at most"},
		{"bad lot", map[string]string{"batch_number": "has space"}, "error-nb-number", "GS1 AI character set"},
		{"taken lot", map[string]string{"batch_number": b.BatchNumber}, "error-nb-number", "is already taken"},
		{"bad unit", map[string]string{"unit_of_measure": "bushel"}, "error-nb-unit", "must be one of"},
		{"bad status", map[string]string{"quality_status": "great"}, "error-nb-status", "must be one of"},
		{"long notes", map[string]string{"notes": strings.Repeat("n", 5001)}, "error-nb-notes", "at most 5000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := valid()
			for k, v := range tt.set {
				form.Set(k, v)
			}
			resp := a.postForm("/batches", form, true)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			body, doc := parseDoc(t, resp)
			if strings.Contains(body, "<html") {
				t.Error("an htmx form post should get the form fragment back")
			}
			if got := testid(doc, tt.field).Text(); !strings.Contains(got, tt.want) {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
			// What was typed is still there.
			for k, v := range form {
				if k == "notes" || k == "product_id" || k == "location_id" || k == "unit_of_measure" || k == "quality_status" {
					continue
				}
				if got := doc.Find(`[name="`+k+`"]`).AttrOr("value", ""); got != v[0] {
					t.Errorf("%s lost: %q, want %q", k, got, v[0])
				}
			}
		})
	}
	t.Run("without htmx the whole page", func(t *testing.T) {
		form := valid()
		form.Set("quantity_produced", "")
		resp := a.postForm("/batches", form, false)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		body, doc := parseDoc(t, resp)
		if !strings.Contains(body, "<html") || testid(doc, "form-errors").Length() != 1 {
			t.Errorf("want the page with the error summary: %s", body)
		}
	})
}

func consumeForm(qty string, version int64) url.Values {
	return url.Values{"quantity_to_consume": {qty}, "reason": {"test"}, "expected_version": {itoa64(version)}, "_csrf": {""}}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func TestConsumeForm(t *testing.T) {
	a := newTestApp(t, appOptions{lockTimeout: 300 * time.Millisecond})
	b := a.fixture("10")
	path := "/batches/" + b.ID.String() + "/consume"

	t.Run("htmx success swaps fragments", func(t *testing.T) {
		resp := a.postForm(path, consumeForm("2.5", 1), true)
		wantStatus(t, resp, http.StatusOK)
		_, doc := parseDoc(t, resp)
		if got := testid(doc, "consume-done").Text(); !strings.Contains(got, "7.5 kg left") {
			t.Errorf("confirmation %q", got)
		}
		if got := doc.Find(`#balance[hx-swap-oob="true"] [data-testid="balance-available"]`).Text(); got != "7.5 kg" {
			t.Errorf("out-of-band balance %q", got)
		}
		if doc.Find(`#ledger[hx-swap-oob="true"] [data-testid="ledger-row"]`).Length() != 1 {
			t.Error("out-of-band ledger lacks the new row")
		}
		if doc.Find(`#batch-events[hx-swap-oob="true"] [data-testid="timeline-event"]`).Length() != 2 {
			t.Error("out-of-band events lack the dispensing event")
		}
		if got := doc.Find("#consume-version").AttrOr("value", ""); got != "2" {
			t.Errorf("the fresh form expects version %q, want 2", got)
		}
	})
	t.Run("plain form success redirects", func(t *testing.T) {
		resp := a.postForm(path, consumeForm("0.5", 2), false)
		wantStatus(t, resp, http.StatusSeeOther)
		if got := resp.Header.Get("Location"); got != "/batches/"+b.ID.String() {
			t.Errorf("Location %q", got)
		}
	})
	// Now 7 available at version 3.
	tests := []struct {
		name      string
		form      url.Values
		status    int
		kind      string // data-kind of the problem, or "" for a field error
		fieldErr  string
		wantText  string
		keptValue string
	}{
		{"insufficient", consumeForm("100", 3), 409, "insufficient-quantity", "", "the batch has 7 available", "100"},
		{"version conflict", consumeForm("1", 1), 409, "version-conflict", "", "from version 1 to 3", "1"},
		{"no quantity", consumeForm("", 3), 422, "", "error-consume-quantity", "is required", ""},
		{"not a number", consumeForm("two", 3), 422, "", "error-consume-quantity", "must be a decimal number", "two"},
		{"negative", consumeForm("-1", 3), 422, "", "error-consume-quantity", "must be greater than 0", "-1"},
		{"too precise", consumeForm("0.0001", 3), 422, "", "error-consume-quantity", "at most 3 decimal places", "0.0001"},
		{"long reason", url.Values{"quantity_to_consume": {"1"}, "reason": {strings.Repeat("r", 1001)}, "expected_version": {"3"}}, 422, "", "error-consume-reason", "at most 1000 characters", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.postForm(path, tt.form, true)
			wantStatus(t, resp, tt.status)
			body, doc := parseDoc(t, resp)
			if tt.kind != "" {
				p := testid(doc, "consume-problem")
				if got := p.AttrOr("data-kind", ""); got != tt.kind {
					t.Fatalf("problem kind %q, want %q: %s", got, tt.kind, body)
				}
				if !strings.Contains(p.Text(), tt.wantText) || testid(doc, "problem-available").Text() != "7 kg" {
					t.Errorf("problem %q lacks %q or the current 7 kg", p.Text(), tt.wantText)
				}
			} else if got := testid(doc, tt.fieldErr).Text(); !strings.Contains(got, tt.wantText) {
				t.Errorf("%s = %q, want %q", tt.fieldErr, got, tt.wantText)
			}
			if got := testid(doc, "consume-quantity").AttrOr("value", ""); got != tt.keptValue {
				t.Errorf("quantity kept %q, want %q", got, tt.keptValue)
			}
			if got := doc.Find("#consume-version").AttrOr("value", ""); got != "3" {
				t.Errorf("after a refusal the form expects version %q, want the current 3", got)
			}
			if got := doc.Find(`#balance[hx-swap-oob="true"] [data-testid="balance-available"]`).Text(); got != "7 kg" {
				t.Errorf("refusal shows balance %q", got)
			}
		})
	}
	t.Run("plain form refusal renders the page", func(t *testing.T) {
		resp := a.postForm(path, consumeForm("100", 3), false)
		wantStatus(t, resp, http.StatusConflict)
		body, doc := parseDoc(t, resp)
		if !strings.Contains(body, "<html") || testid(doc, "consume-problem").Length() != 1 {
			t.Errorf("want the batch page with the problem")
		}
	})
	t.Run("lock timeout", func(t *testing.T) {
		ctx := context.Background()
		tx, err := a.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck
		if _, err := tx.Exec(ctx, "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", b.ID); err != nil {
			t.Fatal(err)
		}
		resp := a.postForm(path, consumeForm("1", 3), true)
		wantStatus(t, resp, http.StatusServiceUnavailable)
		if resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		_, doc := parseDoc(t, resp)
		if got := testid(doc, "consume-problem").AttrOr("data-kind", ""); got != "lock-timeout" {
			t.Errorf("problem kind %q", got)
		}
		if got := testid(doc, "consume-quantity").AttrOr("value", ""); got != "1" {
			t.Errorf("quantity kept %q", got)
		}
	})
	t.Run("not consumable", func(t *testing.T) {
		rejected := a.batch(b.ProductID.String(), b.LocationID.String(), "5")
		st := "rejected"
		if _, err := a.svc.UpdateBatch(context.Background(), inventory.System, rejected.ID, inventory.BatchUpdate{QualityStatus: &st}, nil); err != nil {
			t.Fatal(err)
		}
		resp := a.postForm("/batches/"+rejected.ID.String()+"/consume", consumeForm("1", 2), true)
		wantStatus(t, resp, http.StatusConflict)
		_, doc := parseDoc(t, resp)
		if got := testid(doc, "consume-problem").AttrOr("data-kind", ""); got != "not-consumable" {
			t.Errorf("problem kind %q", got)
		}
	})
	a.checkLedger(b)
}

func TestBalancePoll(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	path := "/batches/" + b.ID.String() + "/balance?version=1"
	resp := a.get(path, true)
	wantStatus(t, resp, http.StatusNoContent)
	if _, _, err := a.svc.Consume(context.Background(), inventory.System, inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.MustParse("4")}); err != nil {
		t.Fatal(err)
	}
	resp = a.get(path, true)
	wantStatus(t, resp, http.StatusOK)
	_, doc := parseDoc(t, resp)
	if got := testid(doc, "balance-available").Text(); got != "6 kg" {
		t.Errorf("balance %q", got)
	}
	if !strings.Contains(doc.Find("#balance").AttrOr("hx-get", ""), "version=2") {
		t.Error("the new balance does not poll for the new version")
	}
	if doc.Find(`#ledger[hx-swap-oob="true"]`).Length() != 1 || doc.Find(`#consume-version[hx-swap-oob="true"]`).AttrOr("value", "") != "2" {
		t.Error("the ledger and the form's version ride along out of band")
	}
}

func TestQualityStatusForm(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	tests := []struct {
		name   string
		action string
		reason string
		htmx   bool
		status int
		want   string
	}{
		{"reason required", "reject", "", true, 422, "is required: say why the batch is rejected"},
		{"reason required without htmx", "recall", "  ", false, 422, "is required: say why the batch is recalled"},
		{"too long", "reject", strings.Repeat("x", 1001), true, 422, "at most 1000 characters"},
		{"approve with htmx", "approve", "lab ok", true, 200, ""},
		{"recall without htmx", "recall", "listeria", false, 303, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"reason": {tt.reason}}
			resp := a.postForm("/batches/"+b.ID.String()+"/"+tt.action, form, tt.htmx)
			wantStatus(t, resp, tt.status)
			if tt.action == "recall" && tt.status == 303 {
				// The lot page hands over to the recall form, which shows
				// the impact before anything is recalled.
				want := "/recalls/new?batch_id=" + b.ID.String() + "&reason=" + tt.reason
				if got := resp.Header.Get("Location"); got != want {
					t.Fatalf("Location %q, want %q", got, want)
				}
				recallThroughPages(t, a, want)
				return
			}
			if tt.want != "" {
				_, doc := parseDoc(t, resp)
				if got := testid(doc, "error-status-reason").Text(); !strings.Contains(got, tt.want) {
					t.Errorf("error %q, want %q", got, tt.want)
				}
				return
			}
			if tt.htmx && resp.Header.Get("HX-Redirect") != "/batches/"+b.ID.String() {
				t.Errorf("HX-Redirect %q", resp.Header.Get("HX-Redirect"))
			}
			if !tt.htmx && resp.Header.Get("Location") != "/batches/"+b.ID.String() {
				t.Errorf("Location %q", resp.Header.Get("Location"))
			}
		})
	}
	got, err := a.svc.GetBatch(context.Background(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.QualityStatus != "recalled" {
		t.Errorf("status %s, want recalled", got.QualityStatus)
	}
}

// recallThroughPages opens the recall form at link, asks for the impact
// and confirms it, as a person would; nothing changes before the
// confirmation.
func recallThroughPages(t *testing.T, a *testApp, link string) {
	t.Helper()
	resp := a.get(link, false)
	wantStatus(t, resp, http.StatusOK)
	_, doc := parseDoc(t, resp)
	form := url.Values{"classification": {"class_ii"}, "decided_by": {"QA manager"}}
	form.Set("reason", doc.Find(`input[name="reason"]`).AttrOr("value", ""))
	doc.Find(`input[name="batch_ids"]`).Each(func(_ int, s *goquery.Selection) {
		form.Add("batch_ids", s.AttrOr("value", ""))
	})
	if form.Get("reason") == "" || form.Get("batch_ids") == "" {
		t.Fatalf("the recall form is not filled in from the lot page: %v", form)
	}
	resp = a.postForm("/recalls/preview", form, false)
	wantStatus(t, resp, http.StatusOK)
	_, doc = parseDoc(t, resp)
	confirm := testid(doc, "recall-confirm")
	if confirm.Length() != 1 {
		t.Fatal("no confirmation after the impact")
	}
	if id := form.Get("batch_ids"); id != "" {
		if b, err := a.svc.GetBatch(context.Background(), uuid.MustParse(id)); err != nil || b.QualityStatus == "recalled" {
			t.Fatalf("recalled before the confirmation (%v)", err)
		}
	}
	confirmed := url.Values{}
	confirm.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		confirmed.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	resp = a.postForm("/recalls", confirmed, false)
	wantStatus(t, resp, http.StatusSeeOther)
	if !strings.HasPrefix(resp.Header.Get("Location"), "/recalls/") {
		t.Fatalf("after the confirmation: Location %q", resp.Header.Get("Location"))
	}
}

func TestEditBatchStaleShowsChanges(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	path := "/batches/" + b.ID.String() + "/edit"
	_, doc := parseDoc(t, a.get(path, false))
	form := url.Values{}
	doc.Find(`[data-testid="edit-form"] input, [data-testid="edit-form"] textarea`).Each(func(_ int, s *goquery.Selection) {
		name := s.AttrOr("name", "")
		if goquery.NodeName(s) == "textarea" {
			form.Set(name, s.Text())
		} else {
			form.Set(name, s.AttrOr("value", ""))
		}
	})
	// Someone else edits the notes meanwhile.
	notes := "moved to cold store"
	if _, err := a.svc.UpdateBatch(context.Background(), inventory.System, b.ID, inventory.BatchUpdate{Notes: &notes}, nil); err != nil {
		t.Fatal(err)
	}
	form.Set("notes", "mine")
	resp := a.postForm(path, form, true)
	wantStatus(t, resp, http.StatusConflict)
	_, doc = parseDoc(t, resp)
	change := doc.Find(`[data-testid="stale-change"][data-field="notes"]`)
	if change.Length() != 1 || !strings.Contains(change.Text(), "moved to cold store") || !strings.Contains(change.Text(), "mine") {
		t.Fatalf("stale edit does not show the change: %q", testid(doc, "stale-edit").Text())
	}
	if got := doc.Find(`textarea[name="notes"]`).Text(); got != "mine" {
		t.Errorf("your notes were lost: %q", got)
	}
	cur, _ := a.svc.GetBatch(context.Background(), b.ID)
	if cur.Notes != notes {
		t.Fatalf("a stale edit overwrote the notes: %q", cur.Notes)
	}
	// Saving again is a deliberate overwrite and goes through.
	form = url.Values{"version": {doc.Find(`input[name="version"]`).AttrOr("value", "")}, "production_date": {cur.ProductionDate.Format(time.DateOnly)}, "notes": {"mine"}}
	resp = a.postForm(path, form, false)
	wantStatus(t, resp, http.StatusSeeOther)
	cur, _ = a.svc.GetBatch(context.Background(), b.ID)
	if cur.Notes != "mine" || cur.ExpiryDate != nil {
		t.Errorf("after the second save: notes %q, expiry %v", cur.Notes, cur.ExpiryDate)
	}
	t.Run("validation", func(t *testing.T) {
		resp := a.postForm(path, url.Values{"version": {"99"}, "production_date": {""}}, true)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		_, doc := parseDoc(t, resp)
		if got := testid(doc, "error-edit-production").Text(); got != "is required" {
			t.Errorf("production date error %q", got)
		}
	})
}
