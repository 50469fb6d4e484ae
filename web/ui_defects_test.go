package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// lot makes a batch of b's product and location with the given expiry (in
// days from today), quantity produced and consumed, and quality status.
func (a *testApp) lot(b inventory.Batch, number string, expiresIn int, produced, consumed, status string) inventory.Batch {
	a.t.Helper()
	ctx := context.Background()
	expiry := time.Now().AddDate(0, 0, expiresIn)
	lot, err := a.svc.CreateBatch(ctx, inventory.System, inventory.NewBatch{
		BatchNumber: number, ProductID: b.ProductID, LocationID: b.LocationID,
		ProductionDate: time.Now().AddDate(0, 0, min(expiresIn, 0)-30), ExpiryDate: &expiry,
		QuantityProduced: quantity.MustParse(produced), QualityStatus: "approved",
	})
	if err != nil {
		a.t.Fatal(err)
	}
	if consumed != "" {
		if lot, _, err = a.svc.Consume(ctx, inventory.System, inventory.ConsumeRequest{BatchID: lot.ID, Quantity: quantity.MustParse(consumed)}); err != nil {
			a.t.Fatal(err)
		}
	}
	if status != "approved" {
		if lot, err = a.svc.UpdateBatch(ctx, inventory.System, lot.ID, inventory.BatchUpdate{QualityStatus: &status, Reason: "test"}, nil); err != nil {
			a.t.Fatal(err)
		}
	}
	return lot
}

// The overview's "low on stock" is usable stock running out; "expiring"
// is stock to use up. Empty, expired and recalled lots are neither.
func TestOverviewListsOnlyUsableStock(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("1")
	a.lot(b, "OV-LOW", 60, "100", "95", "approved")
	a.lot(b, "OV-EMPTY", 60, "100", "100", "approved")
	a.lot(b, "OV-RECALLED-LOW", 60, "100", "95", "recalled")
	a.lot(b, "OV-SOON", 5, "10", "", "approved")
	a.lot(b, "OV-RECALLED-SOON", 5, "10", "", "recalled")
	a.lot(b, "OV-REJECTED-SOON", 5, "10", "", "rejected")
	// Consumed while still good, then left to expire: not "low", expired.
	expired := a.lot(b, "OV-EXPIRED-LOW", 60, "100", "95", "approved")
	if _, err := a.pool.Exec(context.Background(), `UPDATE batches SET expiry_date = current_date - 1 WHERE id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}

	_, doc := parseDoc(t, a.get("/", false))
	rows := func(list string) []string {
		var out []string
		testid(doc, list).Find(`[data-testid="overview-row"]`).Each(func(_ int, s *goquery.Selection) {
			out = append(out, s.AttrOr("data-batch-number", ""))
		})
		return out
	}
	if got := strings.Join(rows("low-stock"), ","); got != "OV-LOW" {
		t.Errorf("low on stock lists %q, want only OV-LOW", got)
	}
	if got := strings.Join(rows("expiring"), ","); got != "OV-SOON" {
		t.Errorf("expiring lists %q, want only OV-SOON", got)
	}
}

// Expired is derived from the expiry date and shown wherever the status
// is; a lot that cannot be consumed has its consume form disabled with
// the reason, and the server refuses it anyway.
func TestBatchPageStatusAndConsumeForm(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("1")
	good := a.lot(b, "BP-GOOD", 60, "10", "", "approved")
	recalled := a.lot(b, "BP-RECALLED", 60, "10", "", "recalled")
	expired := a.lot(b, "BP-EXPIRED", 60, "10", "", "approved")
	if _, err := a.pool.Exec(context.Background(), `UPDATE batches SET expiry_date = current_date - 1 WHERE id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lot        inventory.Batch
		status     string
		disabled   bool
		wantReason string
	}{
		{good, "released", false, ""},
		{recalled, "recalled", true, "it is recalled"},
		{expired, "expired", true, "it expired on"},
	}
	for _, tt := range tests {
		t.Run(tt.lot.BatchNumber, func(t *testing.T) {
			path := "/batches/" + tt.lot.ID.String()
			_, doc := parseDoc(t, a.get(path, false))
			if got := doc.Find(`h1 [data-testid="quality-status"]`).Text(); got != tt.status {
				t.Errorf("header status %q, want %q", got, tt.status)
			}
			if got := testid(doc, "status-form").Find(`[data-testid="quality-status"]`).Text(); got != tt.status {
				t.Errorf("status form says %q, want %q", got, tt.status)
			}
			_, disabled := testid(doc, "consume-fields").Attr("disabled")
			if disabled != tt.disabled {
				t.Errorf("consume form disabled = %v, want %v", disabled, tt.disabled)
			}
			if got := testid(doc, "not-consumable").Text(); !strings.Contains(got, tt.wantReason) || (tt.wantReason == "") != (got == "") {
				t.Errorf("reason %q, want %q", got, tt.wantReason)
			}
			if tt.disabled {
				resp := a.postForm(path+"/consume", url.Values{"quantity_to_consume": {"1"}, "expected_version": {"1"}}, false)
				if resp.StatusCode != http.StatusConflict {
					t.Errorf("consume of a %s lot: status %d, want 409", tt.status, resp.StatusCode)
				}
			}
		})
	}
	// The batches list shows the derived status too.
	_, doc := parseDoc(t, a.get("/batches?q=BP-EXPIRED", false))
	if got := testid(doc, "batch-row").Find(`[data-testid="quality-status"]`).Text(); got != "expired" {
		t.Errorf("batches list status %q, want expired", got)
	}
}

// A cell that does not parse gets one error, the true one: not also the
// domain's objection to the zero value left in its place.
func TestImportOneErrorPerCell(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("1")
	p, _ := a.svc.GetProduct(context.Background(), b.ProductID)
	l, _ := a.svc.GetLocation(context.Background(), b.LocationID)
	csv := "batch_number,gtin,gln,production_date,expiry_date,quantity_produced\n" +
		"ONE-1," + p.GTIN + "," + l.GLN + ",2026-01-02,,10.5555\n" +
		"ONE-2," + p.GTIN + "," + l.GLN + ",someday,,abc\n"
	resp := a.postForm("/batches/import/preview", url.Values{"csv": {csv}}, true)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	_, doc := parseDoc(t, resp)
	rows := testid(doc, "import-row")
	want := [][]string{
		{"quantity_produced " + quantity.ErrPrecision.Error()},
		{"production_date must be a date (YYYY-MM-DD)", "quantity_produced " + quantity.ErrSyntax.Error()},
	}
	for i, w := range want {
		var got []string
		rows.Eq(i).Find(`[data-testid="import-row-error"]`).Each(func(_ int, s *goquery.Selection) {
			got = append(got, strings.TrimSpace(s.Text()))
		})
		if strings.Join(got, " | ") != strings.Join(w, " | ") {
			t.Errorf("row %d errors %q, want %q", i+1, got, w)
		}
	}
}

// Every column of the master data tables has a header a screen reader
// can announce.
func TestMasterTablesHaveNoEmptyHeaders(t *testing.T) {
	a := newTestApp(t)
	a.fixture("1")
	for _, path := range []string{"/products", "/locations"} {
		_, doc := parseDoc(t, a.get(path, false))
		doc.Find("thead th").Each(func(i int, s *goquery.Selection) {
			if strings.TrimSpace(s.Text()) == "" {
				t.Errorf("%s: header cell %d is empty", path, i+1)
			}
		})
	}
}
