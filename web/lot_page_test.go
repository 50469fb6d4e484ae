package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/views"
)

// lotPageWorld is our plant and warehouse, a supplier's farm and a customer's
// shop, with tomatoes and passata.
type lotPageWorld struct {
	plant, warehouse, farm, shop inventory.Location
	tomatoes, passata            inventory.Product
}

func (a *testApp) lotPageWorld() lotPageWorld {
	a.t.Helper()
	ctx := context.Background()
	loc := func(name, typ string) inventory.Location {
		l, err := a.svc.CreateLocation(ctx, inventory.NewLocation{GLN: validGLN(), Name: name, Type: typ})
		if err != nil {
			a.t.Fatal(err)
		}
		return l
	}
	prod := func(name, unit string) inventory.Product {
		p, err := a.svc.CreateProduct(ctx, inventory.NewProduct{GTIN: validGTIN(), Name: name, Unit: unit})
		if err != nil {
			a.t.Fatal(err)
		}
		return p
	}
	w := lotPageWorld{plant: loc("Plant", "factory"), warehouse: loc("Warehouse", "warehouse"),
		farm: loc("Sunny Farm", "farm"), shop: loc("Corner Shop", "retailer"),
		tomatoes: prod("Tomatoes", "kg"), passata: prod("Passata 500 g", "unit")}
	a.partner(w.farm, "supplier")
	a.partner(w.shop, "customer")
	return w
}

// partner makes l a location of a new partner party with role.
func (a *testApp) partner(l inventory.Location, role string) {
	a.t.Helper()
	_, err := a.pool.Exec(context.Background(), `
		WITH p AS (INSERT INTO parties (pgln, name, roles) VALUES ($1, $2, ARRAY[$3]) RETURNING id)
		UPDATE locations SET party_id = (SELECT id FROM p) WHERE id = $4`, validGLN(), l.Name+" Ltd", role, l.ID)
	if err != nil {
		a.t.Fatal(err)
	}
}

// receive brings qty of the product from the farm to the plant; released
// unless pending is asked for.
func (a *testApp) receive(w lotPageWorld, p inventory.Product, lot, qty string, release bool) inventory.Batch {
	a.t.Helper()
	ctx := context.Background()
	m, err := a.svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: p.ID, BatchNumber: lot,
		LocationID: w.plant.ID, Quantity: quantity.MustParse(qty), ShipFromID: &w.farm.ID})
	if err != nil {
		a.t.Fatal(err)
	}
	b := m.Batches[0]
	if release {
		approved := "approved"
		if b, err = a.svc.UpdateBatch(ctx, inventory.System, b.ID, inventory.BatchUpdate{QualityStatus: &approved}, nil); err != nil {
			a.t.Fatal(err)
		}
	}
	return b
}

func (a *testApp) lotPage(t *testing.T, id uuid.UUID) *goquery.Document {
	t.Helper()
	resp := a.get("/batches/"+id.String(), false)
	wantStatus(t, resp, http.StatusOK)
	_, doc := parseDoc(t, resp)
	return doc
}

// wantFigures checks the mass balance's figures (mb-<key>) as shown.
func wantFigures(t *testing.T, doc *goquery.Document, want map[string]string) {
	t.Helper()
	for key, w := range want {
		if got := strings.TrimSpace(testid(doc, "mb-"+key).Text()); got != w {
			t.Errorf("mass balance %s = %q, want %q", key, got, w)
		}
	}
}

func TestLotPageMassBalance(t *testing.T) {
	a := newTestApp(t)
	w := a.lotPageWorld()
	ctx := context.Background()
	q := quantity.MustParse
	tom := a.receive(w, w.tomatoes, "LOT-MB-1", "100", true)
	doc := a.lotPage(t, tom.ID)
	wantFigures(t, doc, map[string]string{"received": "100 kg", "produced": "0 kg", "consumed": "0 kg", "on-hand": "100 kg"})
	if testid(doc, "mb-balanced").Length() != 1 || testid(doc, "mb-unbalanced").Length() != 0 {
		t.Error("a fresh lot is not marked balanced")
	}

	// A consume answers with the mass balance out of band.
	resp := a.postForm("/batches/"+tom.ID.String()+"/consume", consumeForm("10", tom.Version), true)
	wantStatus(t, resp, http.StatusOK)
	_, frag := parseDoc(t, resp)
	mb := frag.Find(`#` + views.MassBalanceID + `[hx-swap-oob="true"]`)
	if mb.Length() != 1 || strings.TrimSpace(mb.Find(`[data-testid="mb-consumed"]`).Text()) != "10 kg" {
		t.Fatalf("consume response has no fresh mass balance out of band")
	}

	// Ship to the shop, ship to our warehouse (in transit), transform, destroy.
	if _, err := a.svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: tom.ID, Quantity: q("20")}}, ShipToID: w.shop.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: tom.ID, Quantity: q("5")}}, ShipToID: w.warehouse.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:  []inventory.StockItem{{BatchID: tom.ID, Quantity: q("15")}},
		Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: "PAS-MB", Quantity: q("100")}}}); err != nil {
		t.Fatal(err)
	}
	resp = a.postForm("/batches/"+tom.ID.String()+"/destroy", url.Values{"quantity": {"3"}, "disposition": {"disposed"}, "reason": {"crushed"}}, false)
	wantStatus(t, resp, http.StatusSeeOther)

	doc = a.lotPage(t, tom.ID)
	wantFigures(t, doc, map[string]string{"received": "100 kg", "consumed": "10 kg", "shipped": "25 kg",
		"transformed": "15 kg", "destroyed": "3 kg", "moved-out": "0 kg", "on-hand": "47 kg"})
	if testid(doc, "mb-balanced").Length() != 1 {
		t.Error("not marked balanced")
	}
	transit := testid(doc, "in-transit-line")
	if transit.Length() != 1 || !strings.Contains(transit.Text(), "Warehouse") || !strings.Contains(transit.Text(), "5 kg") {
		t.Errorf("in transit: %q", transit.Text())
	}
	if testid(doc, "other-location-row").Length() != 0 || testid(doc, "other-locations-none").Length() != 1 {
		t.Error("the lot is only at the plant yet")
	}

	// The warehouse receives it: the lot is now at two locations.
	in, err := a.svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.tomatoes.ID, BatchNumber: "LOT-MB-1",
		LocationID: w.warehouse.ID, Quantity: q("5"), ShipFromID: &w.plant.ID})
	if err != nil {
		t.Fatal(err)
	}
	wh := in.Batches[0]
	doc = a.lotPage(t, tom.ID)
	if testid(doc, "in-transit-line").Length() != 0 {
		t.Error("still in transit after the receipt")
	}
	row := testid(doc, "other-location-row")
	if row.Length() != 1 || row.AttrOr("data-location", "") != "Warehouse" ||
		strings.TrimSpace(row.Find(`[data-testid="other-location-available"]`).Text()) != "5 kg" ||
		row.Find("a").AttrOr("href", "") != "/batches/"+wh.ID.String() {
		t.Errorf("other location row: %q", row.Text())
	}
	doc = a.lotPage(t, wh.ID)
	// Its stock began as a transfer from our plant: moved in.
	wantFigures(t, doc, map[string]string{"moved-in": "5 kg", "on-hand": "5 kg"})
	if got := testid(doc, "other-location-row").AttrOr("data-location", ""); got != "Plant" {
		t.Errorf("the warehouse's page lists %q, want Plant", got)
	}
	// Origin and TLC source in the details.
	doc = a.lotPage(t, tom.ID)
	if got := testid(doc, "origin").Text(); !strings.Contains(got, "received") {
		t.Errorf("origin %q", got)
	}
	if got := testid(doc, "tlc-source").Text(); !strings.Contains(got, w.farm.GLN) {
		t.Errorf("TLC source %q, want the farm's GLN %s", got, w.farm.GLN)
	}
}

func TestLotPageStatusForm(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	path := "/batches/" + b.ID.String()
	tests := []struct {
		name, action, reason string
		htmx                 bool
		status               int
		wantErr              string
		wantStatus           inventory.QualityStatus
		wantLabel            string
	}{
		{"hold without reason", "hold", "", true, 422, "is required: say why the batch is put on hold", "approved", ""},
		{"hold without reason, no htmx", "hold", "  ", false, 422, "is required", "approved", ""},
		{"hold with reason", "hold", "mould on pallet 3", true, 200, "", "on_hold", "on hold"},
		{"release without a note", "approve", "", false, 303, "", "approved", "released"},
		{"reject without reason", "reject", "", true, 422, "is required: say why the batch is rejected", "approved", ""},
		{"reject", "reject", "lab: salmonella", false, 303, "", "rejected", "rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.postForm(path+"/"+tt.action, url.Values{"reason": {tt.reason}}, tt.htmx)
			wantStatus(t, resp, tt.status)
			if tt.wantErr != "" {
				_, doc := parseDoc(t, resp)
				if got := testid(doc, "error-status-reason").Text(); !strings.Contains(got, tt.wantErr) {
					t.Errorf("error %q, want %q", got, tt.wantErr)
				}
				if tt.htmx && testid(doc, "status-form").Length() != 1 {
					t.Error("the htmx answer is not the status form")
				}
			}
			got, err := a.svc.GetBatch(context.Background(), b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.QualityStatus != tt.wantStatus {
				t.Fatalf("status %s, want %s", got.QualityStatus, tt.wantStatus)
			}
			if tt.wantLabel == "" {
				return
			}
			doc := a.lotPage(t, b.ID)
			if got := doc.Find(`h1 [data-testid="quality-status"]`).Text(); got != tt.wantLabel {
				t.Errorf("header says %q, want %q", got, tt.wantLabel)
			}
			if tt.reason != "" {
				if got := testid(doc, "status-current-reason").Text(); !strings.Contains(got, tt.reason) {
					t.Errorf("status form's reason %q, want %q", got, tt.reason)
				}
				if got := testid(doc, "status-banner").Text(); !strings.Contains(got, tt.reason) {
					t.Errorf("banner %q", got)
				}
				if got := testid(doc, "not-consumable").Text(); !strings.Contains(got, tt.reason) {
					t.Errorf("consume form's reason %q", got)
				}
				if _, disabled := testid(doc, "consume-fields").Attr("disabled"); !disabled {
					t.Error("consume form enabled")
				}
			} else if testid(doc, "status-current-reason").Length() != 0 {
				t.Error("a released lot shows an old reason")
			}
		})
	}
}

// The batches list filters held lots and shows the reason beside the badge.
func TestBatchListOnHold(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	held := a.lot(b, "HELD-1", 60, "10", "", "on_hold")
	a.lot(b, "FREE-1", 60, "10", "", "approved")
	resp := a.get("/batches?quality_status=on_hold&product_id="+b.ProductID.String(), false)
	wantStatus(t, resp, http.StatusOK)
	_, doc := parseDoc(t, resp)
	if doc.Find(`#f-status option[value="on_hold"]`).Text() != "on hold" {
		t.Error("the status filter does not offer on hold")
	}
	rows := testid(doc, "batch-row")
	if rows.Length() != 1 || rows.AttrOr("data-batch-number", "") != held.BatchNumber {
		t.Fatalf("on hold filter shows %d rows", rows.Length())
	}
	if got := rows.Find(`[data-testid="quality-status"]`).Text(); got != "on hold" {
		t.Errorf("badge %q", got)
	}
	if got := rows.Find(`[data-testid="status-reason"]`).Text(); got != "test" {
		t.Errorf("reason %q", got)
	}
}

// A pending lot's consume form is disabled, saying why, where a release is
// required; where none is, it is open.
func TestLotPagePendingConsumeForm(t *testing.T) {
	a := newTestApp(t)
	w := a.lotPageWorld()
	pending := a.receive(w, w.tomatoes, "LOT-PEND", "10", false)
	doc := a.lotPage(t, pending.ID)
	if got := doc.Find(`h1 [data-testid="quality-status"]`).Text(); got != "pending release" {
		t.Errorf("header %q", got)
	}
	if got := testid(doc, "not-consumable").Text(); !strings.Contains(got, "not released (pending)") {
		t.Errorf("reason %q", got)
	}
	if _, disabled := testid(doc, "consume-fields").Attr("disabled"); !disabled {
		t.Error("consume form enabled for a pending lot")
	}
	// Without a release rule the same lot may be consumed.
	_, doc = renderComponent(t, views.ConsumeFormView(views.ConsumeForm{BatchID: pending.ID.String(), Unit: "kg",
		Release: inventory.ReleaseNotRequired}, pending, pending.CreatedAt))
	if _, disabled := testid(doc, "consume-fields").Attr("disabled"); disabled || testid(doc, "not-consumable").Length() != 0 {
		t.Error("consume form disabled where no release is required")
	}
}

func TestLotPageDestroyForm(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	path := "/batches/" + b.ID.String() + "/destroy"
	tests := []struct {
		name              string
		qty, disp, reason string
		htmx              bool
		status            int
		field, want       string
	}{
		{"no reason", "2", "destroyed", "", true, 422, "destroy-reason", "is required"},
		{"no quantity", "", "destroyed", "spoiled", true, 422, "destroy-quantity", "is required"},
		{"bad quantity", "two", "destroyed", "spoiled", false, 422, "destroy-quantity", ""},
		{"bad disposition", "2", "burnt", "spoiled", true, 422, "destroy-disposition", "destroyed or disposed"},
		{"more than on hand", "11", "destroyed", "spoiled", true, 409, "destroy-quantity", "10"},
		{"destroyed", "2", "destroyed", "spoiled", true, 200, "", ""},
		{"disposed", "1.5", "disposed", "damaged in transport", false, 303, "", ""},
	}
	left := quantity.MustParse("10")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.postForm(path, url.Values{"quantity": {tt.qty}, "disposition": {tt.disp}, "reason": {tt.reason}}, tt.htmx)
			wantStatus(t, resp, tt.status)
			if tt.field != "" {
				_, doc := parseDoc(t, resp)
				if got := testid(doc, "error-"+tt.field).Text(); got == "" || !strings.Contains(got, tt.want) {
					t.Errorf("error on %s %q, want %q", tt.field, got, tt.want)
				}
				if got := testid(doc, "destroy-quantity").AttrOr("value", ""); got != tt.qty {
					t.Errorf("quantity not kept: %q", got)
				}
				if got := testid(doc, "destroy-reason").AttrOr("value", ""); got != tt.reason {
					t.Errorf("reason not kept: %q", got)
				}
			} else {
				left -= quantity.MustParse(tt.qty)
				if tt.htmx && resp.Header.Get("HX-Redirect") != "/batches/"+b.ID.String() {
					t.Errorf("HX-Redirect %q", resp.Header.Get("HX-Redirect"))
				}
			}
			got, err := a.svc.GetBatch(context.Background(), b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.QuantityAvailable != left {
				t.Errorf("on hand %s, want %s", got.QuantityAvailable, left)
			}
		})
	}
	a.checkLedger(b)
	doc := a.lotPage(t, b.ID)
	wantFigures(t, doc, map[string]string{"destroyed": "3.5 kg", "on-hand": "6.5 kg"})
}

func TestCommissionPage(t *testing.T) {
	a := newTestApp(t)
	w := a.lotPageWorld()
	resp := a.get("/stock/commission", false)
	wantStatus(t, resp, http.StatusOK)
	_, doc := parseDoc(t, resp)
	if doc.Find(`#cm-location option[value="`+w.plant.ID.String()+`"]`).Length() != 1 ||
		doc.Find(`#cm-location option[value="`+w.farm.ID.String()+`"]`).Length() != 0 {
		t.Error("the location choices are not our locations only")
	}
	_, list := parseDoc(t, a.get("/batches", false))
	if testid(list, "commission-lot").AttrOr("href", "") != "/stock/commission" {
		t.Error("the batches list does not link to the commission page")
	}
	good := url.Values{"product_id": {w.tomatoes.ID.String()}, "batch_number": {"HARV-1"}, "location_id": {w.plant.ID.String()},
		"quantity": {"250"}, "unit": {""}, "stage": {"harvesting"}, "harvest_location": {"Sunny Farm north"},
		"field": {"F-7"}, "harvest_date": {"2026-06-01"}, "cooling_date": {"2026-06-02"}, "expiry_date": {"2026-07-01"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range good {
			f[key] = vs
		}
		f.Set(k, v)
		return f
	}
	tests := []struct {
		name   string
		form   url.Values
		htmx   bool
		status int
		field  string
	}{
		{"no product", with("product_id", ""), true, 422, "cm-product"},
		{"no quantity", with("quantity", ""), false, 422, "cm-quantity"},
		{"bad stage", with("stage", "picking"), true, 422, "cm-stage"},
		{"bad date", with("harvest_date", "1 June"), true, 422, "cm-harvest-date"},
		{"not our location", with("location_id", w.farm.ID.String()), true, 422, "cm-location"},
		{"bad lot number", with("batch_number", strings.Repeat("X", 21)), true, 422, "cm-number"},
		{"good", good, false, 303, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.postForm("/stock/commission", tt.form, tt.htmx)
			wantStatus(t, resp, tt.status)
			if tt.field != "" {
				_, doc := parseDoc(t, resp)
				if testid(doc, "error-"+tt.field).Length() != 1 {
					t.Errorf("no error on %s", tt.field)
				}
				if got := doc.Find("#cm-field").AttrOr("value", ""); got != "F-7" {
					t.Errorf("entries not kept: field %q", got)
				}
				if tt.htmx && testid(doc, "commission-form").Length() != 1 {
					t.Error("the htmx answer is not the form")
				}
				return
			}
			loc := resp.Header.Get("Location")
			if !strings.HasPrefix(loc, "/batches/") {
				t.Fatalf("Location %q", loc)
			}
			doc := a.lotPage(t, uuid.MustParse(strings.TrimPrefix(loc, "/batches/")))
			if got := testid(doc, "batch-number").Text(); got != "HARV-1" {
				t.Errorf("lot %q", got)
			}
			for k, want := range map[string]string{"kde-stage": "harvesting", "kde-field": "F-7",
				"kde-harvestLocation": "Sunny Farm north", "kde-harvestDate": "2026-06-01", "kde-coolingDate": "2026-06-02"} {
				if got := testid(doc, k).Text(); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got := testid(doc, "tlc-source").Text(); !strings.Contains(got, w.plant.GLN) {
				t.Errorf("TLC source %q, want our plant %s", got, w.plant.GLN)
			}
			wantFigures(t, doc, map[string]string{"produced": "250 kg", "on-hand": "250 kg"})
		})
	}
}

// A mass balance that does not add up is a loud warning, never a quiet mark.
func TestLotPageMassBalanceWarning(t *testing.T) {
	q := quantity.MustParse
	b := sampleBatch()
	tests := []struct {
		name     string
		mass     inventory.MassBalance
		balanced bool
	}{
		{"balanced", inventory.MassBalance{UOM: "KGM", Produced: q("10"), Consumed: q("4"), OnHand: q("6"), Balanced: true}, true},
		{"off by one", inventory.MassBalance{UOM: "KGM", Produced: q("10"), Consumed: q("4"), OnHand: q("7")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, doc := renderComponent(t, views.MassBalanceView(views.BatchDetail{Batch: b, Mass: tt.mass}, false))
			if got := testid(doc, "mb-balanced").Length() == 1; got != tt.balanced {
				t.Errorf("balanced mark shown = %v", got)
			}
			warn := testid(doc, "mb-unbalanced")
			if (warn.Length() == 1) == tt.balanced {
				t.Fatalf("warning shown = %v", warn.Length() == 1)
			}
			if !tt.balanced && (warn.AttrOr("role", "") != "alert" || !strings.Contains(warn.Text(), "6 kg") || !strings.Contains(warn.Text(), "7 kg")) {
				t.Errorf("warning %q", warn.Text())
			}
		})
	}
}
