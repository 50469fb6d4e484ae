package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// stockWorld is our plant and warehouse, a supplier's farm, a customer's
// shop, and three products, for the stock movement routes.
type stockWorld struct {
	a                            *testApp
	plant, warehouse, farm, shop inventory.Location
	tomatoes, salt, passata      inventory.Product
}

// location creates one of our locations.
func (a *testApp) location(name, typ string) inventory.Location {
	a.t.Helper()
	l, err := a.svc.CreateLocation(context.Background(), inventory.NewLocation{GLN: validGLN(), Name: name, Type: typ})
	if err != nil {
		a.t.Fatal(err)
	}
	return l
}

func newStockWorld(a *testApp) *stockWorld {
	a.t.Helper()
	ctx := context.Background()
	w := &stockWorld{a: a}
	loc := a.location
	prod := func(name, unit string) inventory.Product {
		p, err := a.svc.CreateProduct(ctx, inventory.NewProduct{GTIN: validGTIN(), Name: name, Unit: unit})
		if err != nil {
			a.t.Fatal(err)
		}
		return p
	}
	w.plant, w.warehouse = loc("Plant", "factory"), loc("Warehouse", "warehouse")
	w.farm, w.shop = loc("Sunny Farm", "farm"), loc("Corner Shop", "retailer")
	w.partner(w.farm, "supplier")
	w.partner(w.shop, "customer")
	w.tomatoes, w.salt, w.passata = prod("Tomatoes", "kg"), prod("Salt", "kg"), prod("Passata 500 g", "unit")
	return w
}

// partner makes l a location of a new partner party with role.
func (w *stockWorld) partner(l inventory.Location, role string) {
	w.a.t.Helper()
	_, err := w.a.pool.Exec(context.Background(), `
		WITH p AS (INSERT INTO parties (pgln, name, roles) VALUES ($1, $2, ARRAY[$3]) RETURNING id)
		UPDATE locations SET party_id = (SELECT id FROM p) WHERE id = $4`, validGLN(), l.Name+" Ltd", role, l.ID)
	if err != nil {
		w.a.t.Fatal(err)
	}
}

// receive brings qty of a product from the farm into the plant through the
// domain; status "" leaves the lot pending (release is required).
func (w *stockWorld) receive(p inventory.Product, lot, qty string, expiry *time.Time, status string) inventory.Batch {
	w.a.t.Helper()
	ctx := context.Background()
	m, err := w.a.svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: p.ID, BatchNumber: lot,
		LocationID: w.plant.ID, Quantity: quantity.MustParse(qty), ShipFromID: &w.farm.ID, ExpiryDate: expiry})
	if err != nil {
		w.a.t.Fatal(err)
	}
	b := m.Batches[0]
	if status != "" {
		u := inventory.BatchUpdate{QualityStatus: &status, Reason: "lab " + status}
		if b, err = w.a.svc.UpdateBatch(ctx, inventory.System, b.ID, u, nil); err != nil {
			w.a.t.Fatal(err)
		}
	}
	return b
}

func (w *stockWorld) batch(id uuid.UUID) inventory.Batch {
	w.a.t.Helper()
	b, err := w.a.svc.GetBatch(context.Background(), id)
	if err != nil {
		w.a.t.Fatal(err)
	}
	return b
}

// balance reads a batch's mass balance through the API; it must add up.
func (w *stockWorld) balance(id uuid.UUID) balanceJSON {
	w.a.t.Helper()
	resp := w.a.do("GET", "/api/batches/"+id.String()+"/balance", nil)
	if resp.StatusCode != http.StatusOK {
		w.a.t.Fatalf("balance: %d %s", resp.StatusCode, readBody(w.a.t, resp))
	}
	m := decode[balanceJSON](w.a.t, resp)
	if !m.Balanced || m.OnHand != m.QuantityAvailable {
		w.a.t.Fatalf("mass balance of %s does not add up: %+v", id, m)
	}
	return m
}

func (w *stockWorld) ledgerRows(batchID uuid.UUID) int {
	w.a.t.Helper()
	var n int
	if err := w.a.pool.QueryRow(context.Background(), "SELECT count(*) FROM consumptions WHERE batch_id = $1",
		batchID).Scan(&n); err != nil {
		w.a.t.Fatal(err)
	}
	return n
}

func qty(s string) quantity.Quantity { return quantity.MustParse(s) }

func TestStockMovementsAPI(t *testing.T) {
	a := newTestApp(t)
	w := newStockWorld(a)
	expiry := time.Now().AddDate(0, 2, 0)
	tom := w.receive(w.tomatoes, "TOM-API-1", "100", &expiry, "approved")
	salt := w.receive(w.salt, "SALT-API-1", "20", nil, "approved")
	id := func(v uuid.UUID) string { return `"` + v.String() + `"` }

	tests := []struct {
		name, path, body string
		operation        string
		kinds            []string // the ledger rows' kinds, in order (a lot's new stock is its opening quantity, no row)
		check            func(t *testing.T, m movementJSON)
	}{
		{"receipt", "/api/receipts", `{"product_id": ` + id(w.salt.ID) + `, "batch_number": "SALT-API-2", "location_id": ` +
			id(w.plant.ID) + `, "quantity": "12.5", "ship_from_id": ` + id(w.farm.ID) + `, "expiry_date": "2027-01-31",
			"references": [{"type": "po", "id": "PO-1"}], "notes": "dock 2"}`,
			"receive", nil, func(t *testing.T, m movementJSON) {
				b := m.Batches[0]
				if len(m.CreatedBatchIDs) != 1 || m.CreatedBatchIDs[0] != b.ID || b.Origin != "received" ||
					b.QuantityAvailable != qty("12.5") || b.BatchNumber != "SALT-API-2" || b.TLCSource != w.farm.GLN ||
					b.QualityStatus != "pending" {
					t.Errorf("received batch: %+v", b)
				}
			}},
		{"commission", "/api/commissions", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) +
			`, "quantity": 40, "stage": "harvesting", "harvest_location": "Sunny Farm", "field": "F7", "harvest_date": "2026-12-01"}`,
			"commission", nil, func(t *testing.T, m movementJSON) {
				b := m.Batches[0]
				if b.Origin != "produced" || b.KDEs["field"] != "F7" || b.KDEs["stage"] != "harvesting" ||
					b.KDEs["harvestDate"] != "2026-12-01" || b.QuantityAvailable != qty("40") || b.TLCSource != w.plant.GLN {
					t.Errorf("commissioned batch: %+v", b)
				}
			}},
		{"move", "/api/moves", `{"batch_id": ` + id(tom.ID) + `, "quantity": "5", "to_location_id": ` + id(w.warehouse.ID) + `}`,
			"move", []string{"move_out"}, func(t *testing.T, m movementJSON) {
				if len(m.Batches) != 2 {
					t.Fatalf("batches: %+v", m.Batches)
				}
				for _, b := range m.Batches {
					switch b.Location.ID {
					case w.plant.ID:
						if b.QuantityAvailable != qty("95") {
							t.Errorf("source: %+v", b)
						}
					case w.warehouse.ID:
						if b.QuantityAvailable != qty("5") || b.Origin != "moved" || b.BatchNumber != tom.BatchNumber ||
							b.QualityStatus != "approved" {
							t.Errorf("destination: %+v", b)
						}
					default:
						t.Errorf("batch at %s", b.Location.Name)
					}
				}
			}},
		{"shipment", "/api/shipments", `{"items": [{"batch_id": ` + id(tom.ID) + `, "quantity": "3"}, {"batch_id": ` + id(salt.ID) +
			`, "quantity": 1}], "ship_to_id": ` + id(w.shop.ID) + `, "references": [{"type": "desadv", "id": "DA-9"}]}`,
			"ship", []string{"ship", "ship"}, func(t *testing.T, m movementJSON) {
				if m.InTransit || len(m.CreatedBatchIDs) != 0 {
					t.Errorf("shipment to a customer: %+v", m)
				}
			}},
		{"transformation", "/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) + `, "quantity": "10"}, {"batch_id": ` +
			id(salt.ID) + `, "quantity": "0.2"}], "outputs": [{"product_id": ` + id(w.passata.ID) +
			`, "batch_number": "PAS-API-1", "quantity": 18, "expiry_date": "2027-06-30"}]}`,
			"transform", []string{"transform_in", "transform_in"}, func(t *testing.T, m movementJSON) {
				if len(m.CreatedBatchIDs) != 1 {
					t.Fatalf("created: %v", m.CreatedBatchIDs)
				}
				for _, b := range m.Batches {
					if b.ID == m.CreatedBatchIDs[0] && (b.BatchNumber != "PAS-API-1" || b.QuantityAvailable != qty("18") ||
						b.Origin != "produced") {
						t.Errorf("output: %+v", b)
					}
				}
			}},
		{"destruction", "/api/destructions", `{"batch_id": ` + id(tom.ID) + `, "quantity": "1.5", "disposition": "disposed", "reason": "mould"}`,
			"destroy", []string{"destroy"}, func(t *testing.T, m movementJSON) {
				if m.Batches[0].QuantityAvailable != qty("80.5") || m.Ledger[0].Reason != "mould" {
					t.Errorf("after destruction: %+v %+v", m.Batches[0], m.Ledger[0])
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.do("POST", tt.path, tt.body)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("%d %s", resp.StatusCode, readBody(t, resp))
			}
			m := decode[movementJSON](t, resp)
			if got, want := resp.Header.Get("Location"), "/api/events/"+m.EventID.String(); got != want {
				t.Errorf("Location %q, want %q", got, want)
			}
			if m.Operation != tt.operation || m.EPCISEventID == "" || len(m.Batches) == 0 {
				t.Errorf("movement: %+v", m)
			}
			var kinds []string
			for _, l := range m.Ledger {
				kinds = append(kinds, l.Kind)
				if l.EventID == nil || *l.EventID != m.EventID || l.ReversesID != nil || l.ReversesKind != nil {
					t.Errorf("ledger row: %+v", l)
				}
			}
			if strings.Join(kinds, ",") != strings.Join(tt.kinds, ",") {
				t.Errorf("ledger kinds %v, want %v", kinds, tt.kinds)
			}
			// The event is there, and every batch reads back as answered
			// and explains its balance.
			if r := a.do("GET", "/api/events/"+m.EventID.String(), nil); r.StatusCode != http.StatusOK {
				t.Errorf("event: %d", r.StatusCode)
			}
			var rows int
			if err := a.pool.QueryRow(context.Background(), "SELECT count(*) FROM consumptions WHERE event_id = $1",
				m.EventID).Scan(&rows); err != nil || rows != len(m.Ledger) {
				t.Errorf("ledger rows of the event: %d (%v), answered %d", rows, err, len(m.Ledger))
			}
			for _, b := range m.Batches {
				got := decode[batchJSON](t, a.do("GET", "/api/batches/"+b.ID.String(), nil))
				if got.QuantityAvailable != b.QuantityAvailable || got.Version != b.Version || got.Origin != b.Origin {
					t.Errorf("batch %s reads back %+v, answered %+v", b.BatchNumber, got, b)
				}
				if bal := w.balance(b.ID); bal.OnHand != b.QuantityAvailable {
					t.Errorf("balance of %s: %+v", b.BatchNumber, bal)
				}
			}
			tt.check(t, m)
		})
	}
	// Tomatoes: 100 received, 5 moved, 3 shipped, 10 transformed, 1.5 destroyed.
	bal := w.balance(tom.ID)
	if bal.Received != qty("100") || bal.MovedOut != qty("5") || bal.Shipped != qty("3") || bal.Transformed != qty("10") ||
		bal.Destroyed != qty("1.5") || bal.OnHand != qty("80.5") || bal.Origin != "received" || bal.UOM != "KGM" || bal.Unit != "kg" {
		t.Errorf("tomatoes balance: %+v", bal)
	}
	a.checkLedger(w.batch(tom.ID))
}

func TestStockAPIRefusals(t *testing.T) {
	a := newTestApp(t)
	w := newStockWorld(a)
	tom := w.receive(w.tomatoes, "TOM-R-1", "10", nil, "approved")
	pending := w.receive(w.tomatoes, "TOM-R-2", "10", nil, "")
	held := w.receive(w.tomatoes, "TOM-R-3", "10", nil, "on_hold")
	tom2 := w.receive(w.tomatoes, "TOM-R-4", "6", nil, "approved")
	id := func(v uuid.UUID) string { return `"` + v.String() + `"` }
	unknown := id(uuid.New())

	tests := []struct {
		name, path, body string
		status           int
		problem          string
		fields           []string // field errors expected (all named)
		check            func(t *testing.T, p Problem)
	}{
		// 422: validation, with field names.
		{"receipt without quantity", "/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) + `}`,
			422, "/problems/validation", []string{"quantity"}, nil},
		{"receipt without supplier", "/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) +
			`, "quantity": 1}`, 422, "/problems/validation", []string{"supplier_id"}, nil},
		{"receipt at a partner's location", "/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.shop.ID) +
			`, "quantity": 1, "ship_from_id": ` + id(w.farm.ID) + `}`, 422, "/problems/validation", []string{"location_id"}, nil},
		{"receipt bad quantity", "/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) +
			`, "quantity": "1.2345", "ship_from_id": ` + id(w.farm.ID) + `}`, 422, "/problems/validation", []string{"quantity"}, nil},
		{"receipt expiring before today, no production date", "/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` +
			id(w.plant.ID) + `, "quantity": 1, "ship_from_id": ` + id(w.farm.ID) + `, "expiry_date": "2020-01-01"}`,
			422, "/problems/validation", []string{"expiry_date"}, nil},
		{"transformation output expiring before today", "/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) +
			`, "quantity": 1}], "outputs": [{"product_id": ` + id(w.passata.ID) + `, "quantity": 2, "best_before_date": "2020-01-01"}]}`,
			422, "/problems/validation", []string{"outputs[0].best_before_date"}, nil},
		{"receipt unknown field", "/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "Quantity": 1}`,
			422, "/problems/validation", []string{"Quantity"}, nil},
		{"shipment without items", "/api/shipments", `{"items": [], "ship_to_id": ` + id(w.shop.ID) + `}`,
			422, "/problems/validation", []string{"items"}, nil},
		{"shipment without ship-to", "/api/shipments", `{"items": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}]}`,
			422, "/problems/validation", []string{"ship_to_id"}, nil},
		{"transformation second input without quantity", "/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) +
			`, "quantity": 1}, {"batch_id": ` + id(pending.ID) + `}], "outputs": [{"product_id": ` + id(w.passata.ID) + `, "quantity": 2}]}`,
			422, "/problems/validation", []string{"inputs[1].quantity"}, nil},
		{"transformation without outputs", "/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}]}`,
			422, "/problems/validation", []string{"outputs"}, nil},
		{"transformation output bad product", "/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) +
			`, "quantity": 1}], "outputs": [{"product_id": "nope", "quantity": 2}]}`,
			422, "/problems/validation", []string{"outputs[0].product_id"}, nil},
		{"destruction without reason", "/api/destructions", `{"batch_id": ` + id(tom.ID) + `, "quantity": 1}`,
			422, "/problems/validation", []string{"reason"}, nil},
		{"destruction bad disposition", "/api/destructions", `{"batch_id": ` + id(tom.ID) + `, "quantity": 1, "reason": "r", "disposition": "eaten"}`,
			422, "/problems/validation", []string{"disposition"}, nil},
		{"commission bad stage", "/api/commissions", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) +
			`, "quantity": 1, "stage": "picking"}`, 422, "/problems/validation", []string{"stage"}, nil},
		{"move without target", "/api/moves", `{"batch_id": ` + id(tom.ID) + `, "quantity": 1}`,
			422, "/problems/validation", []string{"to_location_id"}, nil},
		{"move to the same place", "/api/moves", `{"batch_id": ` + id(tom.ID) + `, "quantity": 1, "to_location_id": ` + id(w.plant.ID) + `}`,
			422, "/problems/validation", []string{"to_location_id"}, nil},
		{"correction bad reason", "/api/events/" + uuid.NewString() + "/corrections", `{"reason": "oops"}`,
			422, "/problems/validation", []string{"reason"}, nil},
		{"correction without reason", "/api/events/" + uuid.NewString() + "/corrections", `{}`,
			422, "/problems/validation", []string{"reason"}, nil},
		{"correction bad id", "/api/events/nope/corrections", `{"reason": "did_not_occur"}`,
			422, "/problems/validation", []string{"id"}, nil},

		// 404, naming the field.
		{"receipt unknown product", "/api/receipts", `{"product_id": ` + unknown + `, "location_id": ` + id(w.plant.ID) +
			`, "quantity": 1, "ship_from_id": ` + id(w.farm.ID) + `}`, 404, "/problems/not-found", []string{"product_id"}, nil},
		{"shipment unknown batch", "/api/shipments", `{"items": [{"batch_id": ` + unknown + `, "quantity": 1}], "ship_to_id": ` + id(w.shop.ID) + `}`,
			404, "/problems/not-found", []string{"items[0].batch_id"}, nil},
		{"shipment unknown ship-to", "/api/shipments", `{"items": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}], "ship_to_id": ` + unknown + `}`,
			404, "/problems/not-found", []string{"ship_to_id"}, nil},
		{"move unknown batch", "/api/moves", `{"batch_id": ` + unknown + `, "quantity": 1, "to_location_id": ` + id(w.warehouse.ID) + `}`,
			404, "/problems/not-found", []string{"batch_id"}, nil},
		{"destruction unknown batch", "/api/destructions", `{"batch_id": ` + unknown + `, "quantity": 1, "reason": "r"}`,
			404, "/problems/not-found", nil, nil},
		{"correction unknown event", "/api/events/" + uuid.NewString() + "/corrections", `{"reason": "did_not_occur"}`,
			404, "/problems/not-found", []string{"event_id"}, nil},

		// 409: more than the lot holds, naming it.
		{"shipment insufficient", "/api/shipments", `{"items": [{"batch_id": ` + id(tom.ID) + `, "quantity": 11}], "ship_to_id": ` + id(w.shop.ID) + `}`,
			409, "/problems/insufficient-quantity", []string{"items[0].quantity"}, func(t *testing.T, p Problem) {
				if p.Lot != "TOM-R-1" || p.BatchID != tom.ID.String() || p.QuantityAvailable == nil || *p.QuantityAvailable != qty("10") ||
					p.QuantityRequested == nil || *p.QuantityRequested != qty("11") || !strings.Contains(p.Detail, "TOM-R-1") {
					t.Errorf("problem: %+v", p)
				}
			}},
		{"transformation second input insufficient", "/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) +
			`, "quantity": 1}, {"batch_id": ` + id(tom2.ID) + `, "quantity": 7}], "outputs": [{"product_id": ` + id(w.passata.ID) + `, "quantity": 2}]}`,
			409, "/problems/insufficient-quantity", []string{"inputs[1].quantity"}, func(t *testing.T, p Problem) {
				if p.Lot != "TOM-R-4" || p.BatchID != tom2.ID.String() || p.Item == nil || *p.Item != 1 {
					t.Errorf("problem: %+v", p)
				}
			}},
		{"transformation with a held second input", "/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) +
			`, "quantity": 1}, {"batch_id": ` + id(held.ID) + `, "quantity": 1}], "outputs": [{"product_id": ` + id(w.passata.ID) + `, "quantity": 2}]}`,
			409, "/problems/batch-not-consumable", nil, func(t *testing.T, p Problem) {
				if p.Reason != "on_hold" || p.BatchID != held.ID.String() || p.Item == nil || *p.Item != 1 {
					t.Errorf("problem: %+v", p)
				}
			}},
		{"destruction insufficient", "/api/destructions", `{"batch_id": ` + id(tom.ID) + `, "quantity": 10.5, "reason": "r"}`,
			409, "/problems/insufficient-quantity", []string{"quantity"}, func(t *testing.T, p Problem) {
				if p.Lot != "TOM-R-1" {
					t.Errorf("problem: %+v", p)
				}
			}},
		{"move insufficient", "/api/moves", `{"batch_id": ` + id(tom.ID) + `, "quantity": 10.001, "to_location_id": ` + id(w.warehouse.ID) + `}`,
			409, "/problems/insufficient-quantity", []string{"quantity"}, nil},

		// 409: not consumable while pending or on hold.
		{"shipment of a pending lot", "/api/shipments", `{"items": [{"batch_id": ` + id(pending.ID) + `, "quantity": 1}], "ship_to_id": ` + id(w.shop.ID) + `}`,
			409, "/problems/batch-not-consumable", nil, func(t *testing.T, p Problem) {
				if p.Reason != "pending" || p.BatchID != pending.ID.String() || !strings.Contains(p.Detail, "shipped") {
					t.Errorf("problem: %+v", p)
				}
			}},
		{"shipment of a held lot", "/api/shipments", `{"items": [{"batch_id": ` + id(held.ID) + `, "quantity": 1}], "ship_to_id": ` + id(w.shop.ID) + `}`,
			409, "/problems/batch-not-consumable", nil, func(t *testing.T, p Problem) {
				if p.Reason != "on_hold" || !strings.Contains(p.Detail, "lab on_hold") {
					t.Errorf("problem: %+v", p)
				}
			}},
		{"transformation of a pending lot", "/api/transformations", `{"inputs": [{"batch_id": ` + id(pending.ID) +
			`, "quantity": 1}], "outputs": [{"product_id": ` + id(w.passata.ID) + `, "quantity": 2}]}`,
			409, "/problems/batch-not-consumable", nil, func(t *testing.T, p Problem) {
				if p.Reason != "pending" {
					t.Errorf("problem: %+v", p)
				}
			}},
	}
	before := map[uuid.UUID]int{}
	for _, b := range []inventory.Batch{tom, pending, held, tom2} {
		before[b.ID] = w.ledgerRows(b.ID)
	}
	events := a.count("events")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.do("POST", tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tt.status, readBody(t, resp))
			}
			p := decode[Problem](t, resp)
			if p.Type != tt.problem {
				t.Errorf("type %q, want %q", p.Type, tt.problem)
			}
			for _, f := range tt.fields {
				found := false
				for _, fe := range p.Errors {
					found = found || fe.Field == f
				}
				if !found {
					t.Errorf("no error for %s in %+v", f, p.Errors)
				}
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
	// Nothing changed.
	for _, b := range []inventory.Batch{tom, pending, held, tom2} {
		got := w.batch(b.ID)
		if got.QuantityAvailable != b.QuantityAvailable || got.Version != b.Version || w.ledgerRows(b.ID) != before[b.ID] {
			t.Errorf("%s changed: %+v", b.BatchNumber, got)
		}
	}
	if n := a.count("events"); n != events {
		t.Errorf("%d events recorded by refusals", n-events)
	}
}

func TestStockCorrectionAPI(t *testing.T) {
	a := newTestApp(t)
	w := newStockWorld(a)
	tom := w.receive(w.tomatoes, "TOM-C-1", "10", nil, "approved")
	ship := decode[movementJSON](t, a.do("POST", "/api/shipments", map[string]any{
		"items": []map[string]any{{"batch_id": tom.ID, "quantity": "4"}}, "ship_to_id": w.shop.ID}))
	path := "/api/events/" + ship.EventID.String() + "/corrections"

	resp := a.do("POST", path, `{"reason": "incorrect_data", "note": "wrong lot"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("%d %s", resp.StatusCode, readBody(t, resp))
	}
	if loc := resp.Header.Get("Location"); loc != "/api/events/"+ship.EventID.String() {
		t.Errorf("Location %q", loc)
	}
	c := decode[correctionJSON](t, resp)
	if c.EventID != ship.EventID || c.Reason != "incorrect_data" || len(c.Reversals) != 1 || len(c.Batches) != 1 {
		t.Fatalf("correction: %+v", c)
	}
	r := c.Reversals[0]
	if r.Kind != "reversal" || r.ReversesKind == nil || *r.ReversesKind != "ship" || r.ReversesID == nil ||
		*r.ReversesID != ship.Ledger[0].ID || c.Batches[0].QuantityAvailable != qty("10") {
		t.Errorf("reversal: %+v, batch %+v", r, c.Batches[0])
	}
	// The ledger lists the reversal, the balance adds up, the event says it is declared in error.
	ledger := decode[listJSON[consumptionJSON]](t, a.do("GET", "/api/batches/"+tom.ID.String()+"/consumptions", nil))
	if len(ledger.Items) == 0 || ledger.Items[0].Kind != "reversal" || ledger.Items[0].ReversesKind == nil {
		t.Errorf("ledger: %+v", ledger.Items)
	}
	if bal := w.balance(tom.ID); bal.Shipped != 0 || bal.OnHand != qty("10") {
		t.Errorf("balance after correction: %+v", bal)
	}
	ev := decode[eventJSON](t, a.do("GET", "/api/events/"+ship.EventID.String(), nil))
	if ev.DeclaredInErrorAt == nil {
		t.Errorf("event not declared in error: %+v", ev)
	}

	// A second correction is a conflict and changes nothing.
	rows := w.ledgerRows(tom.ID)
	resp = a.do("POST", path, `{"reason": "did_not_occur"}`)
	p := decode[Problem](t, resp)
	if resp.StatusCode != http.StatusConflict || p.Type != "/problems/conflict" || len(p.Errors) != 1 || p.Errors[0].Field != "event_id" {
		t.Errorf("second correction: %d %+v", resp.StatusCode, p)
	}
	if w.ledgerRows(tom.ID) != rows {
		t.Error("the refused correction wrote ledger rows")
	}

	// Correcting a receipt whose stock moved on would take the lot below zero.
	rec := decode[movementJSON](t, a.do("POST", "/api/receipts", map[string]any{"product_id": w.salt.ID, "batch_number": "SALT-C-1",
		"location_id": w.plant.ID, "quantity": "5", "ship_from_id": w.farm.ID}))
	salt := rec.Batches[0]
	if _, err := a.svc.UpdateBatch(context.Background(), inventory.System, salt.ID,
		inventory.BatchUpdate{QualityStatus: ptrTo("approved")}, nil); err != nil {
		t.Fatal(err)
	}
	if r := a.do("POST", "/api/destructions", map[string]any{"batch_id": salt.ID, "quantity": "2", "reason": "spilt"}); r.StatusCode != 201 {
		t.Fatalf("destruction: %d %s", r.StatusCode, readBody(t, r))
	}
	resp = a.do("POST", "/api/events/"+rec.EventID.String()+"/corrections", `{"reason": "did_not_occur"}`)
	p = decode[Problem](t, resp)
	if resp.StatusCode != http.StatusConflict || p.Type != "/problems/conflict" || !strings.Contains(p.Detail, "SALT-C-1") {
		t.Errorf("correction below zero: %d %+v", resp.StatusCode, p)
	}
	w.balance(salt.ID)
}

func ptrTo[T any](v T) *T { return &v }

func TestStockFEFOAPI(t *testing.T) {
	a := newTestApp(t)
	w := newStockWorld(a)
	day := func(n int) *time.Time { d := time.Now().AddDate(0, 0, n); return &d }
	later := w.receive(w.tomatoes, "FEFO-LATER", "10", day(30), "approved")
	soon := w.receive(w.tomatoes, "FEFO-SOON", "10", day(5), "approved")
	never := w.receive(w.tomatoes, "FEFO-NONE", "10", nil, "approved")
	w.receive(w.tomatoes, "FEFO-HELD", "10", day(2), "on_hold")
	w.receive(w.tomatoes, "FEFO-PENDING", "10", day(1), "")
	w.receive(w.salt, "FEFO-SALT", "10", day(1), "approved")

	base := "/api/products/" + w.tomatoes.ID.String() + "/fefo?location_id=" + w.plant.ID.String()
	tests := []struct {
		name, query string
		picks       []string // lot:take
		short       string
	}{
		{"part of the first", "&quantity=4", []string{"FEFO-SOON:4"}, "0"},
		{"expiry first, no expiry last", "&quantity=25", []string{"FEFO-SOON:10", "FEFO-LATER:10", "FEFO-NONE:5"}, "0"},
		{"short", "&quantity=32.5", []string{"FEFO-SOON:10", "FEFO-LATER:10", "FEFO-NONE:10"}, "2.5"},
		{"every usable lot", "", []string{"FEFO-SOON:0", "FEFO-LATER:0", "FEFO-NONE:0"}, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.do("GET", base+tt.query, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, readBody(t, resp))
			}
			f := decode[fefoJSON](t, resp)
			var got []string
			for _, p := range f.Picks {
				got = append(got, p.Batch.BatchNumber+":"+p.Take.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.picks, " ") || f.Short != qty(tt.short) ||
				f.ProductID != w.tomatoes.ID || f.LocationID != w.plant.ID {
				t.Errorf("picks %v short %s, want %v short %s", got, f.Short, tt.picks, tt.short)
			}
		})
	}
	_, _, _ = later, soon, never

	refusals := []struct {
		name, path string
		status     int
		field      string
	}{
		{"no location", "/api/products/" + w.tomatoes.ID.String() + "/fefo?quantity=1", 422, "location_id"},
		{"bad quantity", base + "&quantity=x", 422, "quantity"},
		{"negative quantity", base + "&quantity=-1", 422, "quantity"},
		{"unknown parameter", base + "&lot=1", 422, "lot"},
		{"unknown product", "/api/products/" + uuid.NewString() + "/fefo?location_id=" + w.plant.ID.String(), 404, "product_id"},
		{"unknown location", "/api/products/" + w.tomatoes.ID.String() + "/fefo?location_id=" + uuid.NewString(), 404, "location_id"},
		{"balance of an unknown batch", "/api/batches/" + uuid.NewString() + "/balance", 404, ""},
		{"balance of a bad id", "/api/batches/nope/balance", 422, "id"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.do("GET", tt.path, nil)
			p := decode[Problem](t, resp)
			if resp.StatusCode != tt.status || (tt.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tt.field)) {
				t.Errorf("%d %+v, want %d naming %s", resp.StatusCode, p, tt.status, tt.field)
			}
		})
	}
}

// A hold needs a reason, which the batch then carries.
func TestStockHoldAPI(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	path := "/api/batches/" + b.ID.String()
	resp := a.do("PATCH", path, `{"quality_status": "on_hold"}`)
	p := decode[Problem](t, resp)
	if resp.StatusCode != 422 || len(p.Errors) == 0 || p.Errors[0].Field != "reason" {
		t.Fatalf("hold without reason: %d %+v", resp.StatusCode, p)
	}
	resp = a.do("PATCH", path, `{"quality_status": "on_hold", "reason": "metal detector alarm"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("hold: %d %s", resp.StatusCode, readBody(t, resp))
	}
	got := decode[batchJSON](t, resp)
	if got.QualityStatus != "on_hold" || got.StatusReason != "metal detector alarm" || got.KDEs == nil {
		t.Errorf("held batch: %+v", got)
	}
	resp = a.do("POST", path+"/consume", `{"quantity_to_consume": 1}`)
	p = decode[Problem](t, resp)
	if resp.StatusCode != 409 || p.Type != "/problems/batch-not-consumable" || p.Reason != "on_hold" {
		t.Errorf("consume of a held batch: %d %+v", resp.StatusCode, p)
	}
}

// A shipment to another of our locations is in transit until a receipt
// there names the location it came from; a yield outside the product's
// range needs a reason; an expired lot is refused as such.
func TestStockTransferAndYieldAPI(t *testing.T) {
	a := newTestApp(t)
	w := newStockWorld(a)
	tom := w.receive(w.tomatoes, "TOM-T-1", "50", nil, "approved")

	resp := a.do("POST", "/api/shipments", map[string]any{
		"items": []map[string]any{{"batch_id": tom.ID, "quantity": "20"}}, "ship_to_id": w.warehouse.ID})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("shipment: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if m := decode[movementJSON](t, resp); !m.InTransit {
		t.Errorf("shipment to our warehouse not in transit: %+v", m)
	}
	if bal := w.balance(tom.ID); bal.InTransit != qty("20") || bal.Shipped != qty("20") || bal.OnHand != qty("30") {
		t.Errorf("balance in transit: %+v", bal)
	}
	resp = a.do("POST", "/api/receipts", map[string]any{"product_id": w.tomatoes.ID, "batch_number": "TOM-T-1",
		"location_id": w.warehouse.ID, "quantity": "20", "ship_from_id": w.plant.ID})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("receipt from transit: %d %s", resp.StatusCode, readBody(t, resp))
	}
	rec := decode[movementJSON](t, resp)
	if b := rec.Batches[0]; b.Location.ID != w.warehouse.ID || b.Origin != "moved" || b.QuantityAvailable != qty("20") {
		t.Errorf("received from transit: %+v", b)
	}
	if bal := w.balance(tom.ID); bal.InTransit != 0 {
		t.Errorf("still in transit after the receipt: %+v", bal)
	}
	// Receiving more than is in transit is refused.
	resp = a.do("POST", "/api/receipts", map[string]any{"product_id": w.tomatoes.ID, "batch_number": "TOM-T-1",
		"location_id": w.warehouse.ID, "quantity": "1", "ship_from_id": w.plant.ID})
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("receipt of nothing in transit: %d %s", resp.StatusCode, readBody(t, resp))
	}
	// An unknown supplier.
	resp = a.do("POST", "/api/receipts", map[string]any{"product_id": w.tomatoes.ID, "location_id": w.plant.ID,
		"quantity": "1", "supplier_id": uuid.New()})
	if p := decode[Problem](t, resp); resp.StatusCode != 404 || len(p.Errors) != 1 || p.Errors[0].Field != "supplier_id" {
		t.Errorf("unknown supplier: %d %+v", resp.StatusCode, p)
	}

	// Yield: tomato paste is expected at 0.15..0.3 of its input.
	paste, err := a.svc.CreateProduct(context.Background(), inventory.NewProduct{GTIN: validGTIN(), Name: "Tomato paste", Unit: "kg"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.pool.Exec(context.Background(), "UPDATE products SET yield_min = 0.15, yield_max = 0.3 WHERE id = $1", paste.ID); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"inputs": []map[string]any{{"batch_id": tom.ID, "quantity": "10"}},
		"outputs": []map[string]any{{"product_id": paste.ID, "quantity": "5"}}}
	resp = a.do("POST", "/api/transformations", body)
	if p := decode[Problem](t, resp); resp.StatusCode != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "yield_reason" {
		t.Errorf("yield outside the range: %d %+v", resp.StatusCode, p)
	}
	body["yield_reason"] = "thin batch of tomatoes"
	resp = a.do("POST", "/api/transformations", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("transformation with a yield reason: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if m := decode[movementJSON](t, resp); m.Yield == nil || *m.Yield != 0.5 {
		t.Errorf("yield: %v", m.Yield)
	}

	// An expired lot.
	past, made := time.Now().AddDate(0, 0, -3), time.Now().AddDate(0, 0, -30)
	m, err := a.svc.Receive(context.Background(), inventory.System, inventory.ReceiveRequest{ProductID: w.tomatoes.ID,
		BatchNumber: "TOM-T-OLD", LocationID: w.plant.ID, Quantity: qty("5"), ShipFromID: &w.farm.ID,
		ProductionDate: &made, ExpiryDate: &past})
	if err != nil {
		t.Fatal(err)
	}
	old, err := a.svc.UpdateBatch(context.Background(), inventory.System, m.Batches[0].ID,
		inventory.BatchUpdate{QualityStatus: ptrTo("approved")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp = a.do("POST", "/api/shipments", map[string]any{
		"items": []map[string]any{{"batch_id": old.ID, "quantity": "1"}}, "ship_to_id": w.shop.ID})
	if p := decode[Problem](t, resp); resp.StatusCode != 409 || p.Reason != "expired" {
		t.Errorf("shipment of an expired lot: %d %+v", resp.StatusCode, p)
	}
}

// Edge values a client may send the stock routes are refused or done,
// never a 5xx.
func TestStockAPIEdgeValuesNever5xx(t *testing.T) {
	a := newTestApp(t)
	w := newStockWorld(a)
	tom := w.receive(w.tomatoes, "TOM-E-1", "10", nil, "approved")
	other := w.receive(w.tomatoes, "TOM-E-2", "10", nil, "approved")
	if _, err := a.svc.Move(context.Background(), inventory.System, inventory.MoveRequest{BatchID: other.ID,
		Quantity: qty("10"), ToLocationID: w.warehouse.ID}); err != nil {
		t.Fatal(err)
	}
	id := func(v uuid.UUID) string { return `"` + v.String() + `"` }
	receipt := func(extra string) string {
		return `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) + `, "quantity": 1, "ship_from_id": ` +
			id(w.farm.ID) + extra + `}`
	}
	refs := `, "references": [` + strings.Repeat(`{"type": "po", "id": "1"},`, 20) + `{"type": "po", "id": "1"}]`
	outputs := strings.TrimSuffix(strings.Repeat(`{"product_id": `+id(w.passata.ID)+`, "quantity": 1},`, 101), ",")
	bodies := []struct{ path, body string }{
		{"/api/receipts", receipt(`, "quantity": "999999999999.999"`)},
		{"/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) + `, "quantity": 1e400}`},
		{"/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) + `, "quantity": -1, "ship_from_id": ` + id(w.farm.ID) + `}`},
		{"/api/receipts", receipt(`, "event_time": "0001-01-01T00:00:00Z"`)},
		{"/api/receipts", receipt(`, "event_time": "9999-12-31T23:59:59Z"`)},
		{"/api/receipts", receipt(`, "production_date": "0001-01-01", "expiry_date": "9999-12-31"`)},
		{"/api/receipts", receipt(`, "production_date": "9999-12-31"`)},
		{"/api/receipts", receipt(`, "best_before_date": "0001-01-01"`)},
		{"/api/receipts", receipt(refs)},
		{"/api/receipts", receipt(`, "references": [{"type": "bogus", "id": "x y"}, {"type": "", "id": ""}]`)},
		{"/api/receipts", receipt(`, "batch_number": "` + strings.Repeat("L", 30) + `"`)},
		{"/api/receipts", receipt(`, "batch_number": "a b"`)},
		{"/api/receipts", receipt(`, "unit": "furlong"`)},
		{"/api/receipts", receipt(`, "tlc_source": "123"`)},
		{"/api/receipts", receipt(`, "supplier_id": ` + id(w.shop.ID))},
		{"/api/receipts", receipt(`, "notes": "` + strings.Repeat("n", 6000) + `"`)},
		{"/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) + `, "quantity": 1, "ship_from_id": ` + id(w.plant.ID) + `}`},
		{"/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.warehouse.ID) + `, "quantity": 1, "ship_from_id": ` + id(w.plant.ID) + `}`},
		{"/api/receipts", `{"product_id": ` + id(w.tomatoes.ID) + `, "batch_number": "NOPE", "location_id": ` + id(w.warehouse.ID) + `, "quantity": 1, "ship_from_id": ` + id(w.plant.ID) + `}`},
		{"/api/shipments", `{"items": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}, {"batch_id": ` + id(tom.ID) + `, "quantity": 1}], "ship_to_id": ` + id(w.shop.ID) + `}`},
		{"/api/shipments", `{"items": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}, {"batch_id": ` + id(other.ID) + `, "quantity": 1}], "ship_to_id": ` + id(w.shop.ID) + `}`},
		{"/api/shipments", `{"items": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}], "ship_to_id": ` + id(w.plant.ID) + `}`},
		{"/api/shipments", `{"items": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}], "ship_to_id": ` + id(w.shop.ID) + `, "customer_id": ` + id(uuid.New()) + `}`},
		{"/api/shipments", `{"items": null, "ship_to_id": null}`},
		{"/api/shipments", `{"items": [null]}`},
		{"/api/shipments", `{"items": {}}`},
		{"/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}], "outputs": [` + outputs + `]}`},
		{"/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}], "outputs": [{"product_id": ` + id(w.passata.ID) + `, "quantity": 1}], "location_id": ` + id(uuid.New()) + `}`},
		{"/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}], "outputs": [{"product_id": ` + id(w.passata.ID) + `, "quantity": 1}], "location_id": ` + id(w.shop.ID) + `}`},
		{"/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}], "outputs": [{"product_id": ` + id(w.tomatoes.ID) + `, "batch_number": "TOM-E-1", "quantity": 1}]}`},
		{"/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}], "outputs": [{"product_id": ` + id(w.passata.ID) + `, "quantity": 1, "production_date": "0001-01-01"}]}`},
		{"/api/transformations", `{"inputs": [{"batch_id": ` + id(tom.ID) + `, "quantity": 1}], "outputs": [{"product_id": ` + id(w.passata.ID) + `, "quantity": 1, "unit": "kg"}]}`},
		{"/api/destructions", `{"batch_id": ` + id(tom.ID) + `, "quantity": "0.001", "reason": "` + strings.Repeat("r", 2000) + `"}`},
		{"/api/destructions", `{"batch_id": ` + id(tom.ID) + `, "quantity": "0", "reason": "r"}`},
		{"/api/commissions", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) + `, "quantity": 1, "harvest_date": "0001-01-01"}`},
		{"/api/commissions", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) + `, "quantity": 1, "packing_date": "9999-12-31", "expiry_date": "0001-01-01"}`},
		{"/api/commissions", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.farm.ID) + `, "quantity": 1}`},
		{"/api/commissions", `{"product_id": ` + id(w.tomatoes.ID) + `, "location_id": ` + id(w.plant.ID) + `, "quantity": 1, "batch_number": "TOM-E-1"}`},
		{"/api/moves", `{"batch_id": ` + id(tom.ID) + `, "quantity": 1, "to_location_id": ` + id(w.shop.ID) + `}`},
		{"/api/moves", `{"batch_id": ` + id(tom.ID) + `, "quantity": 1, "to_location_id": ` + id(uuid.New()) + `}`},
		{"/api/events/" + tom.ID.String() + "/corrections", `{"reason": "did_not_occur", "corrective_event_ids": ["not a uri", ""]}`},
		{"/api/events/" + tom.ID.String() + "/corrections", `{"reason": "urn:epcglobal:cbv:er:incorrect_data"}`},
	}
	for _, b := range bodies {
		resp := a.do("POST", b.path, b.body)
		if resp.StatusCode >= 500 {
			t.Errorf("POST %s %s: %d %s", b.path, b.body, resp.StatusCode, readBody(t, resp))
			continue
		}
		resp.Body.Close()
	}
	for _, q := range []string{"?location_id=" + w.plant.ID.String() + "&quantity=99999999999999999",
		"?location_id=" + w.plant.ID.String() + "&quantity=1&quantity=2", "?location_id=&quantity="} {
		if resp := a.do("GET", "/api/products/"+w.tomatoes.ID.String()+"/fefo"+q, nil); resp.StatusCode >= 500 {
			t.Errorf("fefo %s: %d %s", q, resp.StatusCode, readBody(t, resp))
		}
	}
}

// A movement waiting on a held row lock answers 503 with Retry-After and
// changes nothing; with an Idempotency-Key, the retry then runs, and a
// refusal is replayed as it was even once the stock is there.
func TestStockAPILockTimeoutAndRetry(t *testing.T) {
	a := newTestApp(t, appOptions{lockTimeout: 250 * time.Millisecond})
	w := newStockWorld(a)
	tom := w.receive(w.tomatoes, "TOM-L-1", "10", nil, "approved")
	ctx := context.Background()
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", tom.ID); err != nil {
		t.Fatal(err)
	}
	body := `{"batch_id": "` + tom.ID.String() + `", "quantity": 2, "to_location_id": "` + w.warehouse.ID.String() + `"}`
	resp := a.do("POST", "/api/moves", body, "Idempotency-Key", "move-1")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if p := decode[Problem](t, resp); p.Type != "/problems/lock-timeout" {
		t.Errorf("problem %+v", p)
	}
	if rows := w.ledgerRows(tom.ID); rows != 0 {
		t.Errorf("a timed-out move wrote %d ledger rows", rows)
	}
	_ = tx.Rollback(ctx)
	resp = a.do("POST", "/api/moves", body, "Idempotency-Key", "move-1")
	if resp.StatusCode != 201 || resp.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry: %d %s", resp.StatusCode, readBody(t, resp))
	}
	resp.Body.Close()

	// A refusal kept under its key is answered again, not run again.
	too := `{"items": [{"batch_id": "` + tom.ID.String() + `", "quantity": 9}], "ship_to_id": "` + w.shop.ID.String() + `"}`
	first := a.do("POST", "/api/shipments", too, "Idempotency-Key", "ship-1")
	firstBody := readBody(t, first)
	if first.StatusCode != 409 {
		t.Fatalf("shipment of 9 out of 8: %d %s", first.StatusCode, firstBody)
	}
	// Enough stock now (a count found 5 more): the replay still refuses.
	if _, _, err := a.svc.Adjust(ctx, inventory.System, tom.ID, qty("5"), "count", nil); err != nil {
		t.Fatal(err)
	}
	again := a.do("POST", "/api/shipments", too, "Idempotency-Key", "ship-1")
	if body := readBody(t, again); again.StatusCode != 409 || body != firstBody || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed refusal: %d %s", again.StatusCode, body)
	}
	if bal := w.balance(tom.ID); bal.OnHand != qty("13") || bal.Shipped != 0 {
		t.Errorf("balance: %+v", bal)
	}
}

// A product's expected yield range is set when it is created, from the API
// and the form; an impossible range is refused on its field.
func TestProductYieldRange(t *testing.T) {
	a := newTestApp(t)
	resp := a.do("POST", "/api/products", map[string]any{"gtin": validGTIN(), "name": "Roasted coffee", "unit": "kg",
		"yield_min": "0.8", "yield_max": 0.9})
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, readBody(t, resp))
	}
	p := decode[productJSON](t, resp)
	if p.YieldMin == nil || p.YieldMin.String() != "0.8" || p.YieldMax == nil || p.YieldMax.String() != "0.9" {
		t.Errorf("yield range %v..%v", p.YieldMin, p.YieldMax)
	}
	resp = a.do("POST", "/api/products", map[string]any{"gtin": validGTIN(), "name": "Backwards", "yield_min": 2, "yield_max": 1})
	if body := readBody(t, resp); resp.StatusCode != 422 || !strings.Contains(body, `"yield_max"`) {
		t.Errorf("backwards range: %d %s", resp.StatusCode, body)
	}
	form := url.Values{"gtin": {validGTIN()}, "name": {"Salad mix"}, "unit": {"H87"}, "yield_min": {"lots"}}
	resp = a.postForm("/products", form, false)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	_, doc := parseDoc(t, resp)
	if got := testid(doc, "yield-min").AttrOr("value", ""); got != "lots" {
		t.Errorf("entry not kept: %q", got)
	}
	form.Set("yield_min", "0.7")
	wantStatus(t, a.postForm("/products", form, false), http.StatusSeeOther)
}
