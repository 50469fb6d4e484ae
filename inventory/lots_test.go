package inventory_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// otherProduct is a second product at the world's location.
func (w *world) otherProduct(name, unit string) inventory.Product {
	w.t.Helper()
	p, err := w.svc.CreateProduct(context.Background(), inventory.NewProduct{GTIN: gtin(), Name: name, Unit: unit})
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// GS1 identifies a lot by GTIN + lot: one lot code under two products is
// two batches, the Digital Link finds each, and a second lot of the same
// code for the same product is a conflict.
func TestSameLotUnderTwoProducts(t *testing.T) {
	svc, _ := newService(t, 10, 2*time.Second)
	w := newWorld(t, svc)
	ctx := context.Background()
	tea := w.otherProduct("Green tea", "")
	coffeeLot := w.batch("10", func(n *inventory.NewBatch) { n.BatchNumber = "ABC123" })
	teaLot := w.batch("20", func(n *inventory.NewBatch) { n.BatchNumber, n.ProductID = "ABC123", tea.ID })
	if coffeeLot.ID == teaLot.ID || teaLot.ProductID != tea.ID {
		t.Fatalf("same lot code, two products: got %v and %v", coffeeLot, teaLot)
	}

	for _, tc := range []struct {
		gtin string
		want uuid.UUID
	}{{w.product.GTIN, coffeeLot.ID}, {tea.GTIN, teaLot.ID}} {
		got, err := svc.FindBatchByDigitalLink(ctx, tc.gtin, "ABC123")
		if err != nil || got != tc.want {
			t.Errorf("Digital Link %s/ABC123 = %v, %v; want %v", tc.gtin, got, err, tc.want)
		}
	}

	_, err := svc.CreateBatch(ctx, inventory.System, inventory.NewBatch{
		BatchNumber: "ABC123", ProductID: tea.ID, LocationID: w.location.ID,
		ProductionDate: time.Now(), QuantityProduced: quantity.MustParse("1"),
	})
	var ce *inventory.ConflictError
	if !errors.As(err, &ce) || ce.Field != "batch_number" || !strings.Contains(ce.Message, tea.GTIN) {
		t.Errorf("same lot, same product: err = %v, want a batch_number conflict naming GTIN %s", err, tea.GTIN)
	}
}

// Many creators of one (product, lot) at once: exactly one batch, the
// others are refused as conflicts.
func TestConcurrentCreateOfOneLot(t *testing.T) {
	svc, _ := newService(t, 20, 2*time.Second)
	w := newWorld(t, svc)
	ctx := context.Background()
	const n = 24
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		created   []uuid.UUID
		conflicts int
		others    []error
	)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			b, err := svc.CreateBatch(ctx, inventory.System, inventory.NewBatch{
				BatchNumber: "RACE-1", ProductID: w.product.ID, LocationID: w.location.ID,
				ProductionDate: time.Now(), QuantityProduced: quantity.MustParse("1"),
			})
			mu.Lock()
			defer mu.Unlock()
			var ce *inventory.ConflictError
			switch {
			case err == nil:
				created = append(created, b.ID)
			case errors.As(err, &ce):
				conflicts++
			default:
				others = append(others, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(created) != 1 || conflicts != n-1 || len(others) > 0 {
		t.Fatalf("created %d, conflicts %d, other errors %v; want 1, %d, none", len(created), conflicts, others, n-1)
	}
	lots, err := svc.LotsByNumber(ctx, []string{"RACE-1"})
	if err != nil || len(lots["RACE-1"]) != 1 || lots["RACE-1"][0].BatchID != created[0] {
		t.Fatalf("stored lots RACE-1 = %v, %v; want the one created", lots, err)
	}
}

// A number alone names a batch only when one product uses it.
func TestPickLot(t *testing.T) {
	svc, _ := newService(t, 10, 2*time.Second)
	w := newWorld(t, svc)
	ctx := context.Background()
	tea := w.otherProduct("Green tea", "")
	only := w.batch("1", func(n *inventory.NewBatch) { n.BatchNumber = "ONLY-1" })
	coffee := w.batch("1", func(n *inventory.NewBatch) { n.BatchNumber = "BOTH-1" })
	teaLot := w.batch("1", func(n *inventory.NewBatch) { n.BatchNumber, n.ProductID = "BOTH-1", tea.ID })
	lots, err := svc.LotsByNumber(ctx, []string{"ONLY-1", "BOTH-1", "NONE-1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		number    string
		product   *uuid.UUID
		want      uuid.UUID
		ambiguous int
	}{
		{"unique number", "ONLY-1", nil, only.ID, 0},
		{"unique number, its product", "ONLY-1", &w.product.ID, only.ID, 0},
		{"unique number, another product", "ONLY-1", &tea.ID, uuid.Nil, 0},
		{"shared number alone", "BOTH-1", nil, uuid.Nil, 2},
		{"shared number, first product", "BOTH-1", &w.product.ID, coffee.ID, 0},
		{"shared number, second product", "BOTH-1", &tea.ID, teaLot.ID, 0},
		{"unknown number", "NONE-1", nil, uuid.Nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := inventory.PickLot(lots[tc.number], tc.number, tc.product)
			if tc.want != uuid.Nil {
				if err != nil || got.BatchID != tc.want {
					t.Fatalf("got %v, %v; want %v", got.BatchID, err, tc.want)
				}
				return
			}
			var le *inventory.LotError
			if !errors.As(err, &le) || len(le.Ambiguous) != tc.ambiguous {
				t.Fatalf("err = %v, want a LotError naming %d products", err, tc.ambiguous)
			}
			if tc.ambiguous > 0 && !strings.Contains(err.Error(), "choose the product") {
				t.Errorf("message %q does not say what to do", err)
			}
		})
	}
}

// CSV import: a lot code may repeat across products, not within one,
// neither in the file nor against the stored lots.
func TestImportLotsPerProduct(t *testing.T) {
	svc, _ := newService(t, 10, 2*time.Second)
	w := newWorld(t, svc)
	ctx := context.Background()
	tea := w.otherProduct("Green tea", "")
	w.batch("1", func(n *inventory.NewBatch) { n.BatchNumber = "IMP-1" })
	row := func(number string, product uuid.UUID) inventory.NewBatch {
		return inventory.NewBatch{BatchNumber: number, ProductID: product, LocationID: w.location.ID,
			ProductionDate: time.Now(), QuantityProduced: quantity.MustParse("3")}
	}

	err := svc.CheckImport(ctx, []inventory.NewBatch{row("IMP-1", tea.ID), row("IMP-2", w.product.ID), row("IMP-2", tea.ID)})
	if err != nil {
		t.Fatalf("lots new to their products: %v", err)
	}
	err = svc.CheckImport(ctx, []inventory.NewBatch{row("IMP-1", w.product.ID), row("IMP-3", tea.ID), row("IMP-3", tea.ID)})
	var ve *inventory.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("taken and repeated lots: err = %v, want a validation error", err)
	}
	fields := map[string]string{}
	for _, f := range ve.Fields {
		fields[f.Field] = f.Message
	}
	if _, ok := fields["rows[0].batch_number"]; !ok {
		t.Errorf("a lot the product has is not reported: %v", fields)
	}
	if _, ok := fields["rows[2].batch_number"]; !ok {
		t.Errorf("a lot repeated for one product is not reported: %v", fields)
	}

	made, err := svc.ImportBatches(ctx, inventory.System, []inventory.NewBatch{row("IMP-1", tea.ID), row("IMP-2", w.product.ID), row("IMP-2", tea.ID)})
	if err != nil || len(made) != 3 {
		t.Fatalf("import = %d batches, %v; want 3", len(made), err)
	}
	if made[0].ProductID != tea.ID || made[1].BatchNumber != made[2].BatchNumber || made[1].ID == made[2].ID {
		t.Errorf("imported %+v", made)
	}
	_, err = svc.ImportBatches(ctx, inventory.System, []inventory.NewBatch{row("IMP-9", tea.ID), row("IMP-2", tea.ID)})
	var ce *inventory.ConflictError
	if !errors.As(err, &ce) || ce.Field != "rows[1].batch_number" {
		t.Errorf("import of a taken lot: err = %v, want a conflict on rows[1].batch_number", err)
	}
	if lots, _ := svc.LotsByNumber(ctx, []string{"IMP-9"}); len(lots) != 0 {
		t.Errorf("a refused import stored %v", lots)
	}
}

// Units are stored as UN/ECE Rec 20 codes, whether given by code or by
// their old name, and an event's quantity must be in its lot's unit.
func TestUnitsAreRec20Codes(t *testing.T) {
	svc, _ := newService(t, 10, 2*time.Second)
	w := newWorld(t, svc)
	ctx := context.Background()
	if w.product.UOM != "KGM" {
		t.Errorf("product made with unit kg has UOM %q, want KGM", w.product.UOM)
	}
	for _, tc := range []struct{ unit, want string }{{"", "H87"}, {"unit", "H87"}, {"L", "LTR"}, {"LBR", "LBR"}, {"TNE", "TNE"}} {
		if p := w.otherProduct("p "+tc.unit, tc.unit); p.UOM != tc.want {
			t.Errorf("product with unit %q has UOM %q, want %q", tc.unit, p.UOM, tc.want)
		}
	}
	// Every unit gs1 offers is one the schema's CHECK accepts.
	for _, u := range gs1.Units() {
		if p := w.otherProduct("p "+u.Code, u.Name); p.UOM != u.Code {
			t.Errorf("product with unit %q has UOM %q, want %q", u.Name, p.UOM, u.Code)
		}
		b := w.batch("1", func(n *inventory.NewBatch) { n.UnitOfMeasure = u.Code })
		if b.UOM != u.Code {
			t.Errorf("batch in %s has UOM %q", u.Code, b.UOM)
		}
	}
	if _, err := svc.CreateProduct(ctx, inventory.NewProduct{GTIN: gtin(), Name: "x", Unit: "kilo"}); !isFieldError(err, "unit") {
		t.Errorf("unit kilo: err = %v, want a validation error on unit", err)
	}

	inherited := w.batch("5")
	grams := w.batch("5", func(n *inventory.NewBatch) { n.UnitOfMeasure = "g" })
	pieces := w.batch("5", func(n *inventory.NewBatch) { n.UnitOfMeasure = "H87" })
	if inherited.UOM != "KGM" || grams.UOM != "GRM" || pieces.UOM != "H87" {
		t.Errorf("batch units = %q, %q, %q; want KGM, GRM, H87", inherited.UOM, grams.UOM, pieces.UOM)
	}
	_, err := svc.CreateBatch(ctx, inventory.System, inventory.NewBatch{ProductID: w.product.ID, LocationID: w.location.ID,
		ProductionDate: time.Now(), QuantityProduced: quantity.MustParse("1"), UnitOfMeasure: "XYZ"})
	if !isFieldError(err, "unit_of_measure") {
		t.Errorf("unit XYZ: err = %v, want a validation error on unit_of_measure", err)
	}

	for _, tc := range []struct {
		uom string
		ok  bool
	}{{"", true}, {"KGM", true}, {"kg", true}, {"GRM", false}, {"g", false}, {"NOPE", false}} {
		ev, err := svc.RecordEvent(ctx, inventory.System, inventory.NewEvent{EventType: "ObjectEvent", Action: "OBSERVE",
			QuantityList: []inventory.QuantityItem{{BatchID: inherited.ID, Quantity: quantity.MustParse("1"), UOM: tc.uom}}})
		switch {
		case tc.ok && err != nil:
			t.Errorf("event in %q: %v", tc.uom, err)
		case tc.ok && ev.QuantityList[0].UOM != "KGM":
			t.Errorf("event in %q stored uom %q, want KGM", tc.uom, ev.QuantityList[0].UOM)
		case !tc.ok && !isFieldError(err, "quantity_list[0].uom"):
			t.Errorf("event in %q on a KGM lot: err = %v, want a validation error on its uom", tc.uom, err)
		}
	}
}

func isFieldError(err error, field string) bool {
	var ve *inventory.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, f := range ve.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// A lot's rows at each location, what is in transit from a row, and which
// locations are ours.
func TestLotLocationsAndTransit(t *testing.T) {
	svc, pool := newService(t, 8, 2*time.Second)
	w := newStockWorld(t, svc, pool)
	ctx := context.Background()
	rec, err := svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.tomatoes.ID, BatchNumber: "LL-1",
		LocationID: w.location.ID, Quantity: q("20"), ShipFromID: &w.farm.ID})
	if err != nil {
		t.Fatal(err)
	}
	plant := rec.Batches[0]
	if _, err := svc.UpdateBatch(ctx, inventory.System, plant.ID, inventory.BatchUpdate{QualityStatus: ptr("approved")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: plant.ID, Quantity: q("8")}}, ShipToID: w.warehouse.ID}); err != nil {
		t.Fatal(err)
	}
	transit, err := svc.InTransitFrom(ctx, plant.ID)
	if err != nil || len(transit) != 1 || transit[0].ToLocationID != w.warehouse.ID || transit[0].Open != q("8") || transit[0].ToName != "Warehouse" {
		t.Fatalf("in transit: %v %+v", err, transit)
	}
	if _, err := svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.tomatoes.ID, BatchNumber: "LL-1",
		LocationID: w.warehouse.ID, Quantity: q("3"), ShipFromID: &w.location.ID}); err != nil {
		t.Fatal(err)
	}
	if transit, err = svc.InTransitFrom(ctx, plant.ID); err != nil || len(transit) != 1 || transit[0].Open != q("5") || transit[0].Quantity != q("8") {
		t.Fatalf("in transit after a partial receipt: %v %+v", err, transit)
	}
	rows, err := svc.LotLocations(ctx, w.tomatoes.ID, "LL-1")
	if err != nil || len(rows) != 2 {
		t.Fatalf("lot rows: %v %+v", err, rows)
	}
	got := map[uuid.UUID]quantity.Quantity{}
	for _, r := range rows {
		got[r.LocationID] = r.QuantityAvailable
		if r.ProductName != "Tomatoes" || r.BatchNumber != "LL-1" {
			t.Errorf("row %+v", r)
		}
	}
	if got[w.location.ID] != q("12") || got[w.warehouse.ID] != q("3") {
		t.Errorf("on hand per location: %v", got)
	}
	if none, err := svc.LotLocations(ctx, w.tomatoes.ID, "NO-SUCH"); err != nil || len(none) != 0 {
		t.Errorf("unknown lot: %v %v", err, none)
	}
	ours, err := svc.OurLocationIDs(ctx, []uuid.UUID{w.location.ID, w.warehouse.ID, w.farm.ID, w.shop.ID})
	if err != nil || !ours[w.location.ID] || !ours[w.warehouse.ID] || ours[w.farm.ID] || ours[w.shop.ID] {
		t.Errorf("ours: %v %v", err, ours)
	}
}
