package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"batchtrack/inventory"
)

// lotWorld is two products at one location, each with a batch of lot
// SHARED-1, made through the API.
type lotWorld struct {
	coffee, tea productJSON
	location    uuidJSON
	coffeeLot   batchJSON
	teaLot      batchJSON
}

type uuidJSON struct {
	ID string `json:"id"`
}

func newLotWorld(t *testing.T, a *testApp) lotWorld {
	t.Helper()
	var w lotWorld
	for _, p := range []struct {
		into *productJSON
		name string
		unit string
	}{{&w.coffee, "Coffee", "kg"}, {&w.tea, "Tea", "KGM"}} {
		resp := a.do("POST", "/api/products", map[string]any{"gtin": validGTIN(), "name": p.name, "unit": p.unit})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create product: %d %s", resp.StatusCode, readBody(t, resp))
		}
		*p.into = decode[productJSON](t, resp)
	}
	resp := a.do("POST", "/api/locations", map[string]any{"gln": validGLN(), "name": "Plant", "type": "factory"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create location: %d %s", resp.StatusCode, readBody(t, resp))
	}
	w.location = decode[uuidJSON](t, resp)
	w.coffeeLot = w.create(t, a, w.coffee, "SHARED-1", "")
	w.teaLot = w.create(t, a, w.tea, "SHARED-1", "")
	return w
}

// post sends POST /api/batches for a lot of p (generated when lot is empty).
func (w lotWorld) post(a *testApp, p productJSON, lot, unit string) *http.Response {
	body := map[string]any{"batch_number": lot, "product_id": p.ID, "location_id": w.location.ID,
		"production_date": "2026-01-10", "quantity_produced": "10", "quality_status": "approved"}
	if unit != "" {
		body["unit_of_measure"] = unit
	}
	return a.do("POST", "/api/batches", body)
}

func (w lotWorld) create(t *testing.T, a *testApp, p productJSON, lot, unit string) batchJSON {
	t.Helper()
	resp := w.post(a, p, lot, unit)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create lot %q of %s in %q: %d %s", lot, p.Name, unit, resp.StatusCode, readBody(t, resp))
	}
	return decode[batchJSON](t, resp)
}

// The API: one lot code under two products is two batches, a second lot of
// the same code for one product is 409, and the Digital Link resolver picks
// the lot of the GTIN it names.
func TestLotPerProductAPI(t *testing.T) {
	a := newTestApp(t)
	w := newLotWorld(t, a)
	if w.coffeeLot.ID == w.teaLot.ID || w.coffeeLot.Product.ID != w.coffee.ID || w.teaLot.Product.ID != w.tea.ID {
		t.Fatalf("two products, one lot code: %+v and %+v", w.coffeeLot, w.teaLot)
	}
	resp := w.post(a, w.tea, "SHARED-1", "")
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate lot of one product: %d, want 409", resp.StatusCode)
	}
	if p := decode[Problem](t, resp); p.Type != "/problems/conflict" || !hasField(p, "batch_number") {
		t.Errorf("duplicate lot of one product: %+v", p)
	}
	for _, tc := range []struct {
		gtin, want string
	}{{w.coffee.GTIN, w.coffeeLot.ID.String()}, {w.tea.GTIN, w.teaLot.ID.String()}} {
		resp := a.do("GET", "/01/"+tc.gtin+"/10/SHARED-1", nil, "Accept", "application/json")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/api/batches/"+tc.want {
			t.Errorf("resolve %s/SHARED-1: %d -> %s, want /api/batches/%s", tc.gtin, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
	}
	for _, b := range []batchJSON{w.coffeeLot, w.teaLot} {
		resp := a.do("GET", strings.TrimPrefix(b.DigitalLink, a.srv.deps.PublicURL), nil, "Accept", "application/json")
		if resp.Header.Get("Location") != "/api/batches/"+b.ID.String() {
			t.Errorf("%s resolves to %s", b.DigitalLink, resp.Header.Get("Location"))
		}
	}
}

// unit_of_measure keeps its names for scripts; uom carries the Rec 20 code;
// input takes either.
func TestUnitsInTheAPI(t *testing.T) {
	a := newTestApp(t)
	w := newLotWorld(t, a)
	if w.coffee.Unit != "kg" || w.coffee.UOM != "KGM" || w.tea.Unit != "kg" || w.tea.UOM != "KGM" {
		t.Errorf("products: unit %q uom %q, unit %q uom %q; want kg KGM twice", w.coffee.Unit, w.coffee.UOM, w.tea.Unit, w.tea.UOM)
	}
	if w.coffeeLot.UnitOfMeasure != "kg" || w.coffeeLot.UOM != "KGM" {
		t.Errorf("a lot of a kg product: unit_of_measure %q uom %q", w.coffeeLot.UnitOfMeasure, w.coffeeLot.UOM)
	}
	for _, tc := range []struct{ in, name, code string }{
		{"g", "g", "GRM"}, {"GRM", "g", "GRM"}, {"unit", "unit", "H87"}, {"H87", "unit", "H87"},
		{"L", "L", "LTR"}, {"mL", "mL", "MLT"}, {"m", "m", "MTR"}, {"TNE", "t", "TNE"}, {"LBR", "lb", "LBR"},
	} {
		b := w.create(t, a, w.coffee, "", tc.in)
		if b.UnitOfMeasure != tc.name || b.UOM != tc.code {
			t.Errorf("unit_of_measure %q: got %q / %q, want %q / %q", tc.in, b.UnitOfMeasure, b.UOM, tc.name, tc.code)
		}
		got := decode[batchJSON](t, a.do("GET", "/api/batches/"+b.ID.String(), nil))
		if got.UnitOfMeasure != tc.name || got.UOM != tc.code {
			t.Errorf("GET after %q: %q / %q", tc.in, got.UnitOfMeasure, got.UOM)
		}
	}
	if resp := w.post(a, w.coffee, "", "bushel"); resp.StatusCode != http.StatusUnprocessableEntity || !hasField(decode[Problem](t, resp), "unit_of_measure") {
		t.Errorf("unit bushel: %d, want 422 on unit_of_measure", resp.StatusCode)
	}

	// An event's uom is its lot's code (or that unit's name).
	event := func(uom string) *http.Response {
		return a.do("POST", "/api/events", map[string]any{"event_type": "ObjectEvent", "action": "OBSERVE",
			"quantity_list": []map[string]any{{"batch_id": w.coffeeLot.ID, "quantity": "1", "uom": uom}}})
	}
	for _, uom := range []string{"KGM", "kg"} {
		if resp := event(uom); resp.StatusCode != http.StatusCreated {
			t.Errorf("event in %s on a KGM lot: %d %s", uom, resp.StatusCode, readBody(t, resp))
		}
	}
	if resp := event("GRM"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("event in GRM on a KGM lot: %d, want 422", resp.StatusCode)
	}
}

// The new-batch form: the same lot for another product is a new batch, for
// the same product an inline error.
func TestLotPerProductCreateForm(t *testing.T) {
	a := newTestApp(t)
	w := newLotWorld(t, a)
	form := func(p productJSON) url.Values {
		return url.Values{"product_id": {p.ID.String()}, "location_id": {w.location.ID}, "batch_number": {"FORM-1"},
			"production_date": {"2026-01-10"}, "quantity_produced": {"2"}, "unit_of_measure": {"GRM"}}
	}
	for _, p := range []productJSON{w.coffee, w.tea} {
		resp := a.postForm("/batches", form(p), true)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("HX-Redirect"), "/batches/") {
			t.Fatalf("lot FORM-1 of %s: %d %s", p.Name, resp.StatusCode, readBody(t, resp))
		}
		_, doc := parseDoc(t, a.get(resp.Header.Get("HX-Redirect"), false))
		if got := testid(doc, "balance-available").Text(); got != "2 g" {
			t.Errorf("balance of a GRM lot shows %q, want 2 g", got)
		}
	}
	resp := a.postForm("/batches", form(w.tea), true)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	_, doc := parseDoc(t, resp)
	if got := testid(doc, "error-nb-number").Text(); !strings.Contains(got, "already has a batch with lot number FORM-1") {
		t.Errorf("same lot, same product: %q", got)
	}
}

// The event form and the events filter take a lot number; when two
// products use it, they ask for the product instead of guessing.
func TestAmbiguousLotInEventPages(t *testing.T) {
	a := newTestApp(t)
	w := newLotWorld(t, a)

	t.Run("event form", func(t *testing.T) {
		f := url.Values{"event_type": {"ObjectEvent"}, "action": {"OBSERVE"}, "quantity_batch": {"SHARED-1"}, "quantity_qty": {"1"}}
		resp := a.postForm("/events", f, true)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		_, doc := parseDoc(t, resp)
		if got := testid(doc, "error-ev-quantity-0-batch").Text(); !strings.Contains(got, "SHARED-1 is a lot of 2 products") {
			t.Errorf("ambiguous lot: %q", got)
		}
		choices := testid(doc, "ev-quantity-0-product").Find("option")
		if choices.Length() != 3 || !strings.Contains(choices.Text(), "Coffee") || !strings.Contains(choices.Text(), "Tea") {
			t.Fatalf("product choices: %d %q", choices.Length(), choices.Text())
		}

		f["quantity_product"] = []string{w.tea.ID.String()}
		resp = a.postForm("/events", f, true)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Redirect") == "" {
			t.Fatalf("with the product chosen: %d %s", resp.StatusCode, readBody(t, resp))
		}
		events, err := a.svc.ListEvents(context.Background(), inventory.EventFilter{BatchID: &w.teaLot.ID, SourceType: "manual"}, inventory.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range events.Items {
			found = found || (e.SourceType == "manual" && len(e.QuantityList) == 1 && e.QuantityList[0].BatchID == w.teaLot.ID)
		}
		if !found {
			t.Errorf("the event is not on the tea lot: %+v", events.Items)
		}
	})

	t.Run("a product that has not the lot", func(t *testing.T) {
		only := w.create(t, a, w.coffee, "ONLY-9", "")
		f := url.Values{"event_type": {"ObjectEvent"}, "action": {"OBSERVE"}, "quantity_batch": {only.BatchNumber},
			"quantity_product": {w.tea.ID.String()}, "quantity_qty": {"1"}}
		resp := a.postForm("/events", f, true)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		_, doc := parseDoc(t, resp)
		if got := testid(doc, "error-ev-quantity-0-batch").Text(); !strings.Contains(got, "for the chosen product") {
			t.Errorf("lot of another product: %q", got)
		}
		// The product can be chosen again, among those that have the lot.
		if got := testid(doc, "ev-quantity-0-product").Find("option").Text(); !strings.Contains(got, "Coffee") || strings.Contains(got, "Tea") {
			t.Errorf("product choices %q", got)
		}
	})

	t.Run("record event link of a batch page", func(t *testing.T) {
		_, doc := parseDoc(t, a.get("/batches/"+w.teaLot.ID.String(), false))
		href, _ := doc.Find(`a[href^="/events/new"]`).Attr("href")
		_, form := parseDoc(t, a.get(href, false))
		if got := form.Find(`input[name="quantity_product"]`).First().AttrOr("value", ""); got != w.tea.ID.String() {
			t.Errorf("%s: the first row's product is %q, want the tea's", href, got)
		}
	})

	t.Run("events filter", func(t *testing.T) {
		resp := a.get("/events?batch=SHARED-1", true)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		_, doc := parseDoc(t, resp)
		if got := testid(doc, "filter-errors").Text(); !strings.Contains(got, "Lot SHARED-1 exists for 2 products") {
			t.Errorf("ambiguous filter: %q", got)
		}
		// Each lot the number names links to its own events.
		var coffee string
		testid(doc, "lot-choices").Find("a").Each(func(_ int, l *goquery.Selection) {
			if strings.Contains(l.Text(), "Coffee") {
				coffee = l.AttrOr("href", "")
			}
		})
		if !strings.Contains(coffee, "batch_id="+w.coffeeLot.ID.String()) || strings.Contains(coffee, "batch=") {
			t.Fatalf("link to the coffee lot's events: %q", coffee)
		}
		resp = a.get(coffee, true)
		wantStatus(t, resp, http.StatusOK)
		_, doc = parseDoc(t, resp)
		rows := testid(doc, "event-row")
		if rows.Length() == 0 || strings.Contains(rows.Text(), "Tea") {
			t.Errorf("coffee's SHARED-1 events: %d rows %q", rows.Length(), rows.Text())
		}
	})
}

// CSV import: the same lot code under two GTINs is two batches; a lot the
// product already has is reported on its row and nothing is imported.
func TestImportLotPerProduct(t *testing.T) {
	a := newTestApp(t)
	w := newLotWorld(t, a)
	loc, err := a.svc.GetLocation(context.Background(), mustUUID(t, w.location.ID))
	if err != nil {
		t.Fatal(err)
	}
	csv := func(rows ...string) url.Values {
		return url.Values{"csv": {"batch_number,gtin,gln,production_date,quantity_produced,unit_of_measure\n" + strings.Join(rows, "\n")}}
	}
	ok := csv("CSV-1,"+w.coffee.GTIN+","+loc.GLN+",2026-01-10,5,kg", "CSV-1,"+w.tea.GTIN+","+loc.GLN+",2026-01-10,6,KGM")
	resp := a.postForm("/batches/import", ok, true)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Redirect") == "" {
		t.Fatalf("import: %d %s", resp.StatusCode, readBody(t, resp))
	}
	lots, err := a.svc.LotsByNumber(context.Background(), []string{"CSV-1"})
	if err != nil || len(lots["CSV-1"]) != 2 {
		t.Fatalf("lots CSV-1 after the import: %v, %v", lots, err)
	}

	resp = a.postForm("/batches/import/preview", csv("CSV-2,"+w.tea.GTIN+","+loc.GLN+",2026-01-10,1,kg", "SHARED-1,"+w.tea.GTIN+","+loc.GLN+",2026-01-10,1,kg"), true)
	_, doc := parseDoc(t, resp)
	errs := testid(doc, "import-row-error")
	if errs.Length() != 1 || !strings.Contains(errs.Text(), "already a lot of this product") || testid(doc, "import-blocked").Length() != 1 {
		t.Errorf("a lot the product has: %d errors %q", errs.Length(), errs.Text())
	}
}

// A result kept for an Idempotency-Key before units were codes holds the
// unit's name; replayed, it answers as a fresh one would.
func TestUnitFormsOfKeptResults(t *testing.T) {
	for in, want := range map[string][2]string{"kg": {"kg", "KGM"}, "KGM": {"kg", "KGM"}, "unit": {"unit", "H87"}, "H87": {"unit", "H87"}} {
		if name, code := unitForms(in); name != want[0] || code != want[1] {
			t.Errorf("unitForms(%q) = %q, %q; want %q, %q", in, name, code, want[0], want[1])
		}
	}
}
