package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"batchtrack/fsma"
	"batchtrack/inventory"
)

// fsmaChain receives tomatoes with a PO, makes passata of them and ships
// it to the shop with a despatch advice; it returns the first day.
func fsmaChain(t *testing.T, w *stockWorld) time.Time {
	t.Helper()
	ctx := context.Background()
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3).Add(9 * time.Hour)
	rec, err := w.a.svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.tomatoes.ID, BatchNumber: "TOM-F",
		LocationID: w.plant.ID, Quantity: qty("50"), ShipFromID: &w.farm.ID, EventTime: &day,
		References: []inventory.BizTransaction{{Type: "po", ID: "PO-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	status := "approved"
	if _, err := w.a.svc.UpdateBatch(ctx, inventory.System, rec.Batches[0].ID, inventory.BatchUpdate{QualityStatus: &status}, nil); err != nil {
		t.Fatal(err)
	}
	next := day.AddDate(0, 0, 1)
	tr, err := w.a.svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:  []inventory.StockItem{{BatchID: rec.Batches[0].ID, Quantity: qty("50")}},
		Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: "PAS-F", Quantity: qty("100")}}, EventTime: &next})
	if err != nil {
		t.Fatal(err)
	}
	pas := tr.Batches[len(tr.Batches)-1]
	if pas.BatchNumber != "PAS-F" {
		for _, b := range tr.Batches {
			if b.BatchNumber == "PAS-F" {
				pas = b
			}
		}
	}
	if _, err := w.a.svc.UpdateBatch(ctx, inventory.System, pas.ID, inventory.BatchUpdate{QualityStatus: &status}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.a.svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: pas.ID, Quantity: qty("40")}},
		ShipToID: w.shop.ID, EventTime: &next, References: []inventory.BizTransaction{{Type: "desadv", ID: "DA-1"}}}); err != nil {
		t.Fatal(err)
	}
	return day
}

func TestFSMASpreadsheetAPI(t *testing.T) {
	a := newTestApp(t)
	w := newStockWorld(a)
	day := fsmaChain(t, w)
	from, to := day.Format(time.DateOnly), day.AddDate(0, 0, 1).Format(time.DateOnly)
	tlc := "gtin=" + w.tomatoes.GTIN + "&lot=TOM-F&from=" + from + "&to=" + to

	// CSV by TLC: the receipt, the transformation and the shipment downstream.
	resp := a.do("GET", "/api/fsma/spreadsheet?"+tlc, nil)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != fsma.CSVType ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="fsma204-`+w.tomatoes.GTIN+"-TOM-F-") {
		t.Fatalf("csv: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	// api.md's name for the same spreadsheet.
	if alias := readBody(t, a.do("GET", "/api/fsma204?"+tlc, nil)); alias != body {
		t.Errorf("/api/fsma204 answers differently from /api/fsma/spreadsheet")
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 4 || records[0][0] != inventory.FSMAColumns[0] {
		t.Fatalf("csv rows: %q", records)
	}
	var ctes []string
	for _, r := range records[1:] {
		ctes = append(ctes, r[0])
		if r[len(r)-1] != "" {
			t.Errorf("%s row misses KDEs: %s", r[0], r[len(r)-1])
		}
	}
	if strings.Join(ctes, ",") != "Receiving,Transformation,Shipping" {
		t.Fatalf("CTEs: %q", ctes)
	}

	// XLSX by product, read back.
	resp = a.do("GET", "/api/fsma/spreadsheet?product_id="+w.passata.ID.String()+"&from="+from+"&to="+to+"&format=xlsx", nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != fsma.XLSXType ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `.xlsx"`) {
		t.Fatalf("xlsx: %d %v", resp.StatusCode, resp.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(fsma.SheetName)
	if err != nil || len(rows) != 4 || rows[0][2] != "Traceability lot code" {
		t.Fatalf("xlsx rows: %q %v", rows, err)
	}

	// Bad input is 422 problem+json naming the field; unknown lots and products 404.
	for _, tc := range []struct {
		query  string
		status int
		field  string
	}{
		{"from=" + from + "&to=" + to, 422, "product_id"},
		{"gtin=123&lot=A&from=" + from + "&to=" + to, 422, "gtin"},
		{"product_id=nope&from=" + from + "&to=" + to, 422, "product_id"},
		{tlc + "&format=pdf", 422, "format"},
		{"gtin=" + w.tomatoes.GTIN + "&lot=TOM-F&from=2020-01-01&to=2026-01-01", 422, "to"},
		{"gtin=" + w.tomatoes.GTIN + "&lot=TOM-F&from=" + to + "&to=" + from, 422, "to"},
		{"gtin=" + w.tomatoes.GTIN + "&lot=TOM-F&from=yesterday&to=" + to, 422, "from"},
		{tlc + "&colour=red", 422, "colour"},
		{"gtin=" + w.tomatoes.GTIN + "&lot=NOPE&from=" + from + "&to=" + to, 404, ""},
		{"product_id=00000000-0000-0000-0000-000000000001&from=" + from + "&to=" + to, 404, ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp := a.do("GET", "/api/fsma/spreadsheet?"+tc.query, nil)
			body := readBody(t, resp)
			if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" ||
				(tc.field != "" && !strings.Contains(body, `"field":"`+tc.field+`"`)) {
				t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
}

func TestFSMAPage(t *testing.T) {
	a := newTestApp(t)
	w := newStockWorld(a)
	day := fsmaChain(t, w)
	from, to := day.Format(time.DateOnly), day.AddDate(0, 0, 1).Format(time.DateOnly)

	resp := a.do("GET", "/fsma", nil)
	_, doc := parseDoc(t, resp)
	if resp.StatusCode != http.StatusOK || doc.Find(`[data-testid="fsma-form"]`).Length() != 1 ||
		doc.Find(`[data-testid="fsma-product"] option`).Length() < 3 {
		t.Fatalf("form page: %d", resp.StatusCode)
	}
	// The Events page links to it.
	resp = a.do("GET", "/events", nil)
	if _, doc := parseDoc(t, resp); doc.Find(`a[data-testid="fsma-link"][href="/fsma"]`).Length() != 1 {
		t.Fatal("no link from the Events page")
	}
	// Submitted: the file.
	v := url.Values{"download": {"1"}, "product_id": {w.passata.ID.String()}, "from": {from}, "to": {to}, "format": {"csv"}}
	resp = a.do("GET", "/fsma?"+v.Encode(), nil)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != fsma.CSVType || !strings.Contains(body, "PAS-F") {
		t.Fatalf("download: %d %s", resp.StatusCode, body)
	}
	// Errors inline, the entries kept.
	v = url.Values{"download": {"1"}, "gtin": {"12345"}, "lot": {"TOM-F"}, "from": {from}, "to": {to}, "format": {"xlsx"}}
	resp = a.do("GET", "/fsma?"+v.Encode(), nil)
	_, doc = parseDoc(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="error-fsma-gtin"]`).Length() != 1 {
		t.Fatalf("bad GTIN: %d", resp.StatusCode)
	}
	if got, _ := doc.Find(`[data-testid="fsma-gtin"]`).Attr("value"); got != "12345" {
		t.Fatalf("GTIN kept as %q", got)
	}
	if got, _ := doc.Find(`[data-testid="fsma-lot"]`).Attr("value"); got != "TOM-F" {
		t.Fatalf("lot kept as %q", got)
	}
	v.Set("gtin", w.tomatoes.GTIN)
	v.Set("lot", "NOPE")
	resp = a.do("GET", "/fsma?"+v.Encode(), nil)
	_, doc = parseDoc(t, resp)
	if resp.StatusCode != http.StatusNotFound || doc.Find(`[data-testid="error-fsma-lot"]`).Length() != 1 {
		t.Fatalf("unknown lot: %d", resp.StatusCode)
	}
}
