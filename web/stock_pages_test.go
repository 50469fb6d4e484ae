package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// stockPageWorld is a plant and a warehouse of ours, a supplier's farm and a
// customer's shop (parties made in SQL), tomatoes, salt and passata.
type stockPageWorld struct {
	a                          *testApp
	plant, warehouse           inventory.Location
	farm, shop                 inventory.Location
	tomatoes, salt, passata    inventory.Product
	supplierName, customerName string
}

func newStockPageWorld(t testing.TB, a *testApp) *stockPageWorld {
	t.Helper()
	ctx := context.Background()
	w := &stockPageWorld{a: a, supplierName: "Sunny Farm Cooperative", customerName: "Corner Shop Ltd"}
	loc := func(name, typ string) inventory.Location {
		l, err := a.svc.CreateLocation(ctx, inventory.NewLocation{GLN: validGLN(), Name: name, Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	prod := func(name, unit string) inventory.Product {
		p, err := a.svc.CreateProduct(ctx, inventory.NewProduct{GTIN: validGTIN(), Name: name, Unit: unit})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	w.plant, w.warehouse = loc("Plant", "factory"), loc("Warehouse", "warehouse")
	w.farm, w.shop = loc("Hillside field", "farm"), loc("Shop on Main Street", "retailer")
	w.partner(t, w.farm, w.supplierName, "supplier")
	w.partner(t, w.shop, w.customerName, "customer")
	w.tomatoes, w.salt, w.passata = prod("Tomatoes", "kg"), prod("Salt", "kg"), prod("Passata 500 g", "unit")
	return w
}

// partner makes l a location of a new partner party with role.
func (w *stockPageWorld) partner(t testing.TB, l inventory.Location, name, role string) {
	t.Helper()
	_, err := w.a.pool.Exec(context.Background(), `
		WITH p AS (INSERT INTO parties (pgln, name, roles) VALUES ($1, $2, ARRAY[$3]) RETURNING id)
		UPDATE locations SET party_id = (SELECT id FROM p) WHERE id = $4`, validGLN(), name, role, l.ID)
	if err != nil {
		t.Fatal(err)
	}
}

// lot creates a lot of p at l with qty, an expiry in days and a status.
func (w *stockPageWorld) lot(t testing.TB, p inventory.Product, l inventory.Location, number, qty string, expiresIn int, status string) inventory.Batch {
	t.Helper()
	expiry := time.Now().AddDate(0, 0, expiresIn)
	b, err := w.a.svc.CreateBatch(context.Background(), inventory.System, inventory.NewBatch{
		BatchNumber: number, ProductID: p.ID, LocationID: l.ID, ProductionDate: time.Now().AddDate(0, 0, -30),
		ExpiryDate: &expiry, QuantityProduced: quantity.MustParse(qty), QualityStatus: status,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (w *stockPageWorld) onHand(t testing.TB, id uuid.UUID) string {
	t.Helper()
	m, err := w.a.svc.Balance(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Balanced {
		t.Fatalf("mass balance does not add up: %+v", m)
	}
	return m.OnHand.String()
}

// eventOf is the event id a successful stock form redirected to.
func eventOf(t *testing.T, resp *http.Response) uuid.UUID {
	t.Helper()
	wantStatus(t, resp, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	id, err := uuid.Parse(strings.TrimPrefix(loc, "/events/"))
	if err != nil {
		t.Fatalf("redirected to %q, want an event page", loc)
	}
	return id
}

func TestStockFormsRender(t *testing.T) {
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	b := w.lot(t, w.tomatoes, w.plant, "TOM-R", "10", 10, "approved")
	for _, kind := range []string{"receive", "ship", "transform", "move"} {
		t.Run(kind, func(t *testing.T) {
			_, doc := parseDoc(t, a.get("/stock/"+kind+"?batch_id="+b.ID.String(), false))
			if testid(doc, "stock-form-"+kind).Length() != 1 {
				t.Fatal("no form")
			}
			if testid(doc, "nav-stock").AttrOr("aria-current", "") != "page" {
				t.Error("the Stock nav entry is not current")
			}
			if kind == "ship" || kind == "move" || kind == "transform" {
				row := testid(doc, "lot-row").First()
				if got := row.Find(`[data-testid="lot-batch-id"]`).AttrOr("value", ""); got != b.ID.String() {
					t.Errorf("row's lot %q, want the lot linked from (%s)", got, b.ID)
				}
				if got := row.Find(`[data-testid$="-unit"]`).Text(); got != "kg" {
					t.Errorf("unit beside the quantity %q, want kg", got)
				}
			}
		})
	}
	// The lot page links to the forms, prefilled with the lot.
	_, doc := parseDoc(t, a.get("/batches/"+b.ID.String(), false))
	if href := testid(doc, "lot-ship").AttrOr("href", ""); !strings.Contains(href, "batch_id="+b.ID.String()) {
		t.Errorf("ship link %q", href)
	}
}

func TestStockReceiveForm(t *testing.T) {
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	good := url.Values{"product_id": {w.tomatoes.ID.String()}, "location_id": {w.plant.ID.String()}, "quantity": {"500"},
		"batch_number": {"FARM-7"}, "ship_from": {"x"}, "ship_from_id": {w.farm.ID.String()}, "reference_type": {"po"},
		"reference": {"PO-1"}, "expiry_date": {time.Now().AddDate(0, 0, 20).Format(time.DateOnly)}}
	ev := eventOf(t, a.postForm("/stock/receive", good, false))
	lots, err := a.svc.SearchLots(context.Background(), inventory.LotQuery{Text: "FARM-7"})
	if err != nil || len(lots) != 1 {
		t.Fatalf("lots %v, %v", lots, err)
	}
	if got := w.onHand(t, lots[0].ID); got != "500" {
		t.Errorf("received lot holds %s, want 500", got)
	}
	_, doc := parseDoc(t, a.get("/events/"+ev.String(), false))
	if testid(doc, "flash").Length() != 0 {
		// the flash lives in a cookie the test client does not keep
	}
	if testid(doc, "event-stock").Length() != 1 || testid(doc, "correction").Length() != 1 {
		t.Error("the event page shows no stock card with 'This was wrong'")
	}

	tests := []struct {
		name    string
		change  url.Values
		status  int
		errorID string
		want    string
	}{
		{"no quantity", url.Values{"quantity": {""}}, 422, "error-receive-quantity", "is required"},
		{"no supplier", url.Values{"ship_from_id": {""}, "ship_from": {""}}, 422, "error-f-ship-from", "is required"},
		{"unknown supplier text", url.Values{"ship_from_id": {""}, "ship_from": {"Nowhere at all"}}, 422, "error-f-ship-from", "choose one from the list"},
		{"our own location as supplier", url.Values{"ship_from_id": {w.plant.ID.String()}}, 422, "error-f-ship-from", "must differ"},
		{"partner as receiving location", url.Values{"location_id": {w.shop.ID.String()}}, 422, "error-receive-location", "must be one of our locations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range good {
				form[k] = v
			}
			for k, v := range tt.change {
				form[k] = v
			}
			resp := a.postForm("/stock/receive", form, true)
			body, doc := parseDoc(t, resp)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if got := testid(doc, tt.errorID).Text(); !strings.Contains(got, tt.want) {
				t.Errorf("%s says %q, want %q", tt.errorID, got, tt.want)
			}
			if got := testid(doc, "receive-lot").AttrOr("value", ""); got != "FARM-7" {
				t.Errorf("lot number kept as %q", got)
			}
		})
	}
}

// shipForm is a shipment of rows (batch id, quantity) to a location.
func shipForm(to uuid.UUID, rows ...string) url.Values {
	f := url.Values{"ship_to_id": {to.String()}, "ship_to": {"picked"}}
	for i := 0; i+1 < len(rows); i += 2 {
		p := "items[" + itoa64(int64(i/2)) + "]."
		f.Set(p+"batch_id", rows[i])
		f.Set(p+"quantity", rows[i+1])
	}
	return f
}

func TestStockShipForm(t *testing.T) {
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	one := w.lot(t, w.passata, w.plant, "PAS-1", "100", 30, "approved")
	two := w.lot(t, w.passata, w.plant, "PAS-2", "20", 40, "approved")
	held := w.lot(t, w.passata, w.plant, "PAS-3", "20", 40, "pending")

	t.Run("too much in the second row", func(t *testing.T) {
		resp := a.postForm("/stock/ship", shipForm(w.shop.ID, one.ID.String(), "10", two.ID.String(), "25"), true)
		body, doc := parseDoc(t, resp)
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if got := testid(doc, "error-f-items-1-quantity").Text(); !strings.Contains(got, "PAS-2") {
			t.Errorf("second row's error %q, want it naming PAS-2", got)
		}
		if testid(doc, "error-f-items-0-quantity").Length() != 0 {
			t.Error("the first row has an error too")
		}
		rows := doc.Find(`#items-rows [data-testid="lot-row"]`)
		if rows.Length() != 2 || rows.Eq(0).Find(`input[name="items[0].quantity"]`).AttrOr("value", "") != "10" ||
			rows.Eq(1).Find(`input[name="items[1].quantity"]`).AttrOr("value", "") != "25" {
			t.Errorf("entries not kept: %d rows", rows.Length())
		}
		if got := w.onHand(t, one.ID); got != "100" {
			t.Errorf("refused shipment moved stock: %s left", got)
		}
	})
	t.Run("unreleased lot", func(t *testing.T) {
		resp := a.postForm("/stock/ship", shipForm(w.shop.ID, held.ID.String(), "1"), true)
		_, doc := parseDoc(t, resp)
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := testid(doc, "error-f-items-0-lot").Text(); !strings.Contains(got, "pending") && !strings.Contains(got, "released") {
			t.Errorf("row error %q, want the lot's state", got)
		}
	})
	t.Run("no destination", func(t *testing.T) {
		f := shipForm(w.shop.ID, one.ID.String(), "1")
		f.Set("ship_to_id", "")
		f.Set("ship_to", "")
		_, doc := parseDoc(t, a.postForm("/stock/ship", f, true))
		if testid(doc, "error-f-ship-to").Length() != 1 {
			t.Error("no error beside ship to")
		}
	})
	t.Run("shipped", func(t *testing.T) {
		eventOf(t, a.postForm("/stock/ship", shipForm(w.shop.ID, one.ID.String(), "10", two.ID.String(), "5"), false))
		if got := w.onHand(t, one.ID); got != "90" {
			t.Errorf("PAS-1 holds %s, want 90", got)
		}
		if got := w.onHand(t, two.ID); got != "15" {
			t.Errorf("PAS-2 holds %s, want 15", got)
		}
	})
	t.Run("lot number typed without a picker", func(t *testing.T) {
		f := url.Values{"items[0].lot": {"PAS-2"}, "items[0].quantity": {"1"}, "ship_to": {"Shop on Main Street"}}
		eventOf(t, a.postForm("/stock/ship", f, false))
		if got := w.onHand(t, two.ID); got != "14" {
			t.Errorf("PAS-2 holds %s, want 14", got)
		}
	})
}

func TestStockTransformForm(t *testing.T) {
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	tom := w.lot(t, w.tomatoes, w.plant, "TOM-1", "100", 10, "approved")
	salt := w.lot(t, w.salt, w.plant, "SALT-1", "5", 300, "approved")
	form := url.Values{
		"inputs[0].batch_id": {tom.ID.String()}, "inputs[0].quantity": {"50"},
		"inputs[3].batch_id": {salt.ID.String()}, "inputs[3].quantity": {"1"}, // gaps in the numbering are fine
		"inputs[4].lot": {""}, "inputs[4].quantity": {""}, // an empty row is dropped
		"outputs[0].product_id": {w.passata.ID.String()}, "outputs[0].quantity": {"400"}, "outputs[0].batch_number": {"PAS-9"},
	}
	t.Run("too much salt", func(t *testing.T) {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("inputs[3].quantity", "6")
		resp := a.postForm("/stock/transform", f, true)
		_, doc := parseDoc(t, resp)
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got := testid(doc, "error-f-inputs-1-quantity").Text(); !strings.Contains(got, "SALT-1") {
			t.Errorf("salt row's error %q", got)
		}
		if got := doc.Find(`input[name="outputs[0].batch_number"]`).AttrOr("value", ""); got != "PAS-9" {
			t.Errorf("output lot number kept as %q", got)
		}
		if got := doc.Find(`[data-testid="output-row"] .unit`).First().Text(); got != "unit" {
			t.Errorf("output's unit %q, want the product's (unit)", got)
		}
	})
	t.Run("transformed", func(t *testing.T) {
		eventOf(t, a.postForm("/stock/transform", form, false))
		if got := w.onHand(t, tom.ID); got != "50" {
			t.Errorf("tomatoes %s, want 50", got)
		}
		if got := w.onHand(t, salt.ID); got != "4" {
			t.Errorf("salt %s, want 4", got)
		}
		lots, _ := a.svc.SearchLots(context.Background(), inventory.LotQuery{Text: "PAS-9"})
		if len(lots) != 1 || w.onHand(t, lots[0].ID) != "400" {
			t.Errorf("passata lots %+v", lots)
		}
	})
	t.Run("yield outside the range asks why", func(t *testing.T) {
		pulp, err := a.svc.CreateProduct(context.Background(), inventory.NewProduct{GTIN: validGTIN(), Name: "Pulp", Unit: "kg"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.pool.Exec(context.Background(), `UPDATE products SET yield_min = 0.8, yield_max = 1 WHERE id = $1`, pulp.ID); err != nil {
			t.Fatal(err)
		}
		f := url.Values{"inputs[0].batch_id": {tom.ID.String()}, "inputs[0].quantity": {"10"},
			"outputs[0].product_id": {pulp.ID.String()}, "outputs[0].quantity": {"2"}}
		resp := a.postForm("/stock/transform", f, true)
		_, doc := parseDoc(t, resp)
		if resp.StatusCode != http.StatusUnprocessableEntity || testid(doc, "yield-reason").Length() != 1 {
			t.Fatalf("status %d, yield reason field %d", resp.StatusCode, testid(doc, "yield-reason").Length())
		}
		f.Set("yield_reason", "Half the crate was rotten")
		eventOf(t, a.postForm("/stock/transform", f, false))
	})
}

func TestStockMoveForm(t *testing.T) {
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	b := w.lot(t, w.tomatoes, w.plant, "TOM-M", "10", 10, "pending")
	eventOf(t, a.postForm("/stock/move", url.Values{"batch_id": {b.ID.String()}, "quantity": {"3"}, "to_location_id": {w.warehouse.ID.String()}}, false))
	if got := w.onHand(t, b.ID); got != "7" {
		t.Errorf("left %s, want 7", got)
	}
	resp := a.postForm("/stock/move", url.Values{"batch_id": {b.ID.String()}, "quantity": {"3"}, "to_location_id": {w.shop.ID.String()}}, true)
	_, doc := parseDoc(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(testid(doc, "error-to-location").Text(), "our locations") {
		t.Errorf("move to a partner: status %d, %q", resp.StatusCode, testid(doc, "error-to-location").Text())
	}
}

func TestPickers(t *testing.T) {
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	w.lot(t, w.tomatoes, w.plant, "PICK-OK", "10", 10, "approved")
	w.lot(t, w.tomatoes, w.plant, "PICK-PEND", "10", 10, "pending")
	w.lot(t, w.tomatoes, w.plant, "PICK-OLD", "10", -1, "approved")
	held := w.lot(t, w.tomatoes, w.plant, "PICK-HELD", "10", 10, "approved")
	hold := "on_hold"
	if _, err := a.svc.UpdateBatch(context.Background(), inventory.System, held.ID, inventory.BatchUpdate{QualityStatus: &hold, Reason: "mould"}, nil); err != nil {
		t.Fatal(err)
	}
	w.lot(t, w.tomatoes, w.plant, "OTHER-1", "10", 10, "approved")
	_, doc := parseDoc(t, a.get("/pickers/lots?field=items[0].lot&items[0].lot=pick&usable=1&location_id="+w.plant.ID.String(), true))
	states := map[string]string{}
	testid(doc, "lot-option").Each(func(_ int, s *goquery.Selection) {
		states[testid2(s, "lot-option-number")] = testid2(s, "lot-option-state")
	})
	want := map[string]string{"PICK-OK": "approved", "PICK-PEND": "pending", "PICK-OLD": "expired", "PICK-HELD": "on_hold"}
	for lot, st := range want {
		if states[lot] != st {
			t.Errorf("lot %s shows %q, want %q (all: %v)", lot, states[lot], st, states)
		}
	}
	if _, ok := states["OTHER-1"]; ok || len(states) != 4 {
		t.Errorf("matches %v", states)
	}
	if got := testid(doc, "lot-option").First().AttrOr("data-unit", ""); got != "kg" {
		t.Errorf("unit %q", got)
	}

	_, doc = parseDoc(t, a.get("/pickers/locations?q=cooperative&ours=false", true))
	if got := testid(doc, "location-option").Text(); testid(doc, "location-option").Length() != 1 || !strings.Contains(got, "Hillside field") {
		t.Errorf("by party name: %q", got)
	}
	_, doc = parseDoc(t, a.get("/pickers/locations?q="+w.plant.GLN[:10]+"&ours=true", true))
	if got := testid(doc, "location-option").Text(); !strings.Contains(got, "Plant") {
		t.Errorf("by GLN prefix: %q", got)
	}
	_, doc = parseDoc(t, a.get("/pickers/locations?q=plant&ours=false", true))
	if testid(doc, "location-option").Length() != 0 {
		t.Error("ours=false lists our plant")
	}
}

func testid2(s *goquery.Selection, id string) string {
	return strings.TrimSpace(s.Find(`[data-testid="` + id + `"]`).Text())
}

func TestPickerFEFOOrder(t *testing.T) {
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	late := w.lot(t, w.passata, w.plant, "F-LATE", "10", 90, "approved")
	early := w.lot(t, w.passata, w.plant, "F-EARLY", "10", 5, "approved")
	mid := w.lot(t, w.passata, w.plant, "F-MID", "10", 30, "approved")
	w.lot(t, w.passata, w.plant, "F-PEND", "10", 1, "pending")
	path := "/pickers/fefo?target=items&start=2&product_id=" + w.passata.ID.String() + "&location_id=" + w.plant.ID.String() + "&quantity=15"
	_, doc := parseDoc(t, a.get(path, true))
	rows := testid(doc, "lot-row")
	if rows.Length() != 2 {
		t.Fatalf("%d rows, want 2", rows.Length())
	}
	for i, want := range []struct {
		id  uuid.UUID
		qty string
	}{{early.ID, "10"}, {mid.ID, "5"}} {
		r := rows.Eq(i)
		n := itoa64(int64(i + 2))
		if got := r.Find(`input[name="items[`+n+`].batch_id"]`).AttrOr("value", ""); got != want.id.String() {
			t.Errorf("row %d lot %s, want %s", i, got, want.id)
		}
		if got := r.Find(`input[name="items[`+n+`].quantity"]`).AttrOr("value", ""); got != want.qty {
			t.Errorf("row %d takes %s, want %s", i, got, want.qty)
		}
		if !strings.Contains(testid2(r, "lot-detail"), "expires") {
			t.Errorf("row %d does not show its expiry", i)
		}
	}
	_ = late
	_, doc = parseDoc(t, a.get(strings.Replace(path, "quantity=15", "quantity=45", 1), true))
	if got := testid(doc, "fefo-short").Text(); !strings.Contains(got, "15") {
		t.Errorf("short %q, want it saying 15 lack", got)
	}
}

func TestStockCorrectionForm(t *testing.T) {
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	b := w.lot(t, w.passata, w.plant, "COR-1", "100", 30, "approved")
	ev := eventOf(t, a.postForm("/stock/ship", shipForm(w.shop.ID, b.ID.String(), "40"), false))
	path := "/events/" + ev.String() + "/correct"

	resp := a.postForm(path, url.Values{"note": {"kept"}}, true)
	_, doc := parseDoc(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || testid(doc, "error-correction-reason").Length() != 1 {
		t.Fatalf("no reason: status %d", resp.StatusCode)
	}
	if got := testid(doc, "correction-note").AttrOr("value", ""); got != "kept" {
		t.Errorf("note kept as %q", got)
	}

	resp = a.postForm(path, url.Values{"reason": {"did_not_occur"}, "note": {"wrong customer"}}, false)
	wantStatus(t, resp, http.StatusSeeOther)
	if got := w.onHand(t, b.ID); got != "100" {
		t.Errorf("after the correction %s, want 100", got)
	}
	_, doc = parseDoc(t, a.get("/events/"+ev.String(), false))
	if got := testid(doc, "correction-reason").Text(); got != "It did not happen" {
		t.Errorf("reason %q", got)
	}
	kinds := testid(doc, "event-ledger-row").Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("data-kind", "") })
	if strings.Join(kinds, ",") != "ship,reversal" {
		t.Errorf("event ledger %v, want ship then its reversal", kinds)
	}
	if testid(doc, "correction").Length() != 0 {
		t.Error("'This was wrong' still offered")
	}
	_, doc = parseDoc(t, a.get("/batches/"+b.ID.String(), false))
	if got := testid(doc, "ledger-reverses").Text(); !strings.Contains(got, "undoes ship") {
		t.Errorf("lot ledger says %q", got)
	}

	// Recorded wrongly, then again: the corrective event links to the one it corrects.
	first := eventOf(t, a.postForm("/stock/ship", shipForm(w.shop.ID, b.ID.String(), "5"), false))
	again := eventOf(t, a.postForm("/stock/ship", shipForm(w.shop.ID, b.ID.String(), "3"), false))
	wantStatus(t, a.postForm("/events/"+first.String()+"/correct", url.Values{"reason": {"incorrect_data"},
		"corrective_event_id": {again.String()}}, false), http.StatusSeeOther)
	_, doc = parseDoc(t, a.get("/events/"+again.String(), false))
	if href := testid(doc, "corrects-event").Find("a").AttrOr("href", ""); href != "/events/"+first.String() {
		t.Errorf("corrective event links to %q, want the event it corrects", href)
	}
	if got := w.onHand(t, b.ID); got != "97" {
		t.Errorf("after shipping 5, correcting it and shipping 3: %s, want 97", got)
	}

	// Twice: refused inline.
	resp = a.postForm(path, url.Values{"reason": {"did_not_occur"}}, true)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("second correction: status %d", resp.StatusCode)
	}

	// A receipt whose stock moved on cannot be undone: the conflict names the lot.
	rcv := eventOf(t, a.postForm("/stock/receive", url.Values{"product_id": {w.tomatoes.ID.String()}, "location_id": {w.plant.ID.String()},
		"quantity": {"10"}, "batch_number": {"REC-1"}, "ship_from_id": {w.farm.ID.String()}}, false))
	lots, _ := a.svc.SearchLots(context.Background(), inventory.LotQuery{Text: "REC-1"})
	if _, err := a.svc.Move(context.Background(), inventory.System, inventory.MoveRequest{BatchID: lots[0].ID,
		Quantity: quantity.MustParse("4"), ToLocationID: w.warehouse.ID}); err != nil {
		t.Fatal(err)
	}
	resp = a.postForm("/events/"+rcv.String()+"/correct", url.Values{"reason": {"incorrect_data"}}, true)
	_, doc = parseDoc(t, resp)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(testid(doc, "correction-problem").Text(), "REC-1") {
		t.Errorf("status %d, problem %q", resp.StatusCode, testid(doc, "correction-problem").Text())
	}
}

// Without JavaScript the form's own buttons post: "Add a lot" adds a row
// and "Suggest lots" appends the FEFO rows, entries kept, nothing shipped.
func TestStockFormsWithoutJavaScript(t *testing.T) {
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	b := w.lot(t, w.passata, w.plant, "NJS-1", "10", 30, "approved")
	f := shipForm(w.shop.ID, b.ID.String(), "4")
	f.Set("ship_to", "Shop on Main Street")
	f.Set("edit", "add-items")
	resp := a.postForm("/stock/ship", f, false)
	wantStatus(t, resp, http.StatusOK)
	_, doc := parseDoc(t, resp)
	rows := doc.Find(`#items-rows [data-testid="lot-row"]`)
	if rows.Length() != 2 || rows.Eq(0).Find(`input[name="items[0].quantity"]`).AttrOr("value", "") != "4" {
		t.Errorf("%d rows after adding one", rows.Length())
	}
	if got := testid(doc, "ship_to-search").AttrOr("value", ""); got != "Shop on Main Street" {
		t.Errorf("ship to kept as %q", got)
	}

	f.Set("edit", "fefo")
	f.Set("fefo_product_id", w.passata.ID.String())
	f.Set("fefo_location_id", w.plant.ID.String())
	f.Set("fefo_quantity", "3")
	_, doc = parseDoc(t, a.postForm("/stock/ship", f, false))
	rows = doc.Find(`#items-rows [data-testid="lot-row"]`)
	if rows.Length() != 2 || rows.Eq(1).Find(`input[name="items[1].quantity"]`).AttrOr("value", "") != "3" {
		t.Errorf("%d rows after the FEFO suggestion", rows.Length())
	}
	if got := w.onHand(t, b.ID); got != "10" {
		t.Errorf("editing the form shipped: %s left", got)
	}
}

// Shipped to another of our locations, stock is in transit until the
// receive form takes it in there, naming the lot and where it came from.
func TestStockTransferBetweenOurLocations(t *testing.T) {
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	b := w.lot(t, w.passata, w.plant, "TR-1", "50", 30, "approved")
	eventOf(t, a.postForm("/stock/ship", shipForm(w.warehouse.ID, b.ID.String(), "20"), false))
	m, err := a.svc.Balance(context.Background(), b.ID)
	if err != nil || m.InTransit.String() != "20" || m.OnHand.String() != "30" {
		t.Fatalf("after shipping to the warehouse: %+v, %v", m, err)
	}
	form := url.Values{"product_id": {w.passata.ID.String()}, "location_id": {w.warehouse.ID.String()}, "quantity": {"20"},
		"ship_from_id": {w.plant.ID.String()}}
	resp := a.postForm("/stock/receive", form, true)
	_, doc := parseDoc(t, resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(testid(doc, "error-receive-lot").Text(), "is required") {
		t.Errorf("without the lot number: status %d, %q", resp.StatusCode, testid(doc, "error-receive-lot").Text())
	}
	form.Set("batch_number", "TR-1")
	eventOf(t, a.postForm("/stock/receive", form, false))
	lots, _ := a.svc.SearchLots(context.Background(), inventory.LotQuery{Text: "TR-1", LocationID: &w.warehouse.ID})
	if len(lots) != 1 || w.onHand(t, lots[0].ID) != "20" {
		t.Errorf("at the warehouse: %+v", lots)
	}
	_, doc = parseDoc(t, a.get("/pickers/locations?q=warehouse", true))
	if testid(doc, "location-option").Length() != 1 {
		t.Error("the ship-to and ship-from pickers do not find our own locations")
	}
}
