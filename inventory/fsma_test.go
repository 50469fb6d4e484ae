package inventory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/inventory"
)

// fsmaChain builds tomatoes (received, with a PO) and salt (packed here)
// → passata (transformed) → shipped to the shop (with a despatch advice),
// a second shipment without a reference, and a third declared in error.
type fsmaChain struct {
	*stockWorld
	day                      [4]time.Time
	tomLot, saltLot, pasLot  inventory.Batch
	goodShip, noRef, errShip string
}

func newFSMAChain(t *testing.T) (*inventory.Service, *fsmaChain) {
	svc, c, _ := newFSMAChainPool(t)
	return svc, c
}

func newFSMAChainPool(t *testing.T) (*inventory.Service, *fsmaChain, *pgxpool.Pool) {
	t.Helper()
	svc, pool := newService(t, 8, 2*time.Second)
	c := &fsmaChain{stockWorld: newStockWorld(t, svc, pool)}
	ctx := context.Background()
	base := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -10)
	for i := range c.day {
		c.day[i] = base.AddDate(0, 0, i).Add(9 * time.Hour)
	}
	must := func(m inventory.Movement, err error) inventory.Movement {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	approve := func(b inventory.Batch) {
		t.Helper()
		if b.QualityStatus == inventory.StatusApproved {
			return
		}
		if _, err := svc.UpdateBatch(ctx, inventory.System, b.ID, inventory.BatchUpdate{QualityStatus: ptr("approved")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	c.tomLot = must(svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: c.tomatoes.ID, BatchNumber: "TOM-1",
		LocationID: c.location.ID, Quantity: q("50"), ShipFromID: &c.farm.ID, EventTime: &c.day[0],
		References: []inventory.BizTransaction{{Type: "po", ID: "PO-4711"}}})).Batches[0]
	harvest, cooling := c.day[0].AddDate(0, 0, -2), c.day[0].AddDate(0, 0, -1)
	c.saltLot = must(svc.Commission(ctx, inventory.System, inventory.CommissionRequest{ProductID: c.salt.ID,
		BatchNumber: "SALT-1", LocationID: c.location.ID, Quantity: q("5"), Stage: "initial_packing",
		HarvestLocation: "Salt pans, Camargue", Field: "Pan 3", HarvestDate: &harvest, CoolingDate: &cooling,
		PackingDate: &c.day[0], EventTime: &c.day[0]})).Batches[0]
	approve(c.tomLot)
	approve(c.saltLot)
	tr := must(svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:    []inventory.StockItem{{BatchID: c.tomLot.ID, Quantity: q("50")}, {BatchID: c.saltLot.ID, Quantity: q("1")}},
		Outputs:   []inventory.TransformOutput{{ProductID: c.passata.ID, BatchNumber: "PAS-1", Quantity: q("400")}},
		EventTime: &c.day[1]}))
	for _, b := range tr.Batches {
		if b.BatchNumber == "PAS-1" {
			c.pasLot = b
		}
	}
	approve(c.pasLot)
	c.goodShip = must(svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: c.pasLot.ID, Quantity: q("120")}},
		ShipToID: c.shop.ID, EventTime: &c.day[2], References: []inventory.BizTransaction{{Type: "desadv", ID: "DA-1"}}})).EPCISEventID
	c.noRef = must(svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: c.pasLot.ID, Quantity: q("10")}},
		ShipToID: c.shop.ID, EventTime: &c.day[3]})).EPCISEventID
	wrong := must(svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: c.pasLot.ID, Quantity: q("7")}},
		ShipToID: c.shop.ID, EventTime: &c.day[3], References: []inventory.BizTransaction{{Type: "bol", ID: "BOL-9"}}}))
	c.errShip = wrong.EPCISEventID
	if _, err := svc.CorrectEvent(ctx, inventory.System, inventory.CorrectionRequest{EventID: wrong.EventID, Reason: "did_not_occur"}); err != nil {
		t.Fatal(err)
	}
	return svc, c, pool
}

func (c *fsmaChain) tlc(p inventory.Product, lot string) string {
	return "(01)" + p.GTIN + "(10)" + lot
}

func TestFSMAReportChain(t *testing.T) {
	svc, c := newFSMAChain(t)
	ctx := context.Background()
	// By the tomato TLC: the trace follows the transformation down to the passata.
	rep, err := svc.FSMAReport(ctx, inventory.FSMARequest{GTIN: c.tomatoes.GTIN, Lot: "TOM-1", From: c.day[0], To: c.day[3]})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	byEvent := map[string]inventory.FSMARow{}
	for _, r := range rep.Rows {
		got = append(got, r.CTE+" "+r.TLC)
		byEvent[r.EventID+" "+r.TLC] = r
		if r.EventID == c.errShip {
			t.Errorf("the event declared in error is in the report: %+v", r)
		}
	}
	// The salt is neither upstream nor downstream of the tomatoes: only an input beside them.
	want := []string{
		"Receiving " + c.tlc(c.tomatoes, "TOM-1"),
		"Transformation " + c.tlc(c.passata, "PAS-1"),
		"Shipping " + c.tlc(c.passata, "PAS-1"),
		"Shipping " + c.tlc(c.passata, "PAS-1"),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range rep.Rows {
		if r.EventID == c.noRef {
			if strings.Join(r.MissingKDEs, "; ") != "reference document type; reference document number" {
				t.Errorf("shipment without a reference: missing %q", r.MissingKDEs)
			}
			continue
		}
		if len(r.MissingKDEs) != 0 {
			t.Errorf("%s %s: missing %q", r.CTE, r.TLC, r.MissingKDEs)
		}
		// Every KDE column of its CTE is filled.
		cells := r.Cells()
		for i, name := range inventory.FSMAColumns {
			if cells[i] != "" || name == "Missing KDEs" || optionalFor(r.CTE, name) {
				continue
			}
			t.Errorf("%s %s: %q is empty", r.CTE, r.TLC, name)
		}
		switch r.CTE {
		case inventory.CTEReceiving:
			if r.ReferenceType != "Purchase order" || r.ReferenceNumber != "PO-4711" || !strings.Contains(r.PreviousSource, "Sunny Farm Ltd") ||
				!strings.Contains(r.ShipFrom, c.farm.GLN) || !strings.Contains(r.TLCSource, c.farm.GLN) || r.Quantity != q("50") || r.Unit != "kg" {
				t.Errorf("receiving row: %+v", r)
			}
		case inventory.CTETransformation:
			want := c.tlc(c.tomatoes, "TOM-1") + " (50 kg); " + c.tlc(c.salt, "SALT-1") + " (1 kg)"
			if c.salt.GTIN < c.tomatoes.GTIN {
				want = c.tlc(c.salt, "SALT-1") + " (1 kg); " + c.tlc(c.tomatoes, "TOM-1") + " (50 kg)"
			}
			if r.InputTLCs != want || r.Quantity != q("400") || !strings.Contains(r.TLCSource, c.location.GLN) {
				t.Errorf("transformation row: inputs %q, %+v", r.InputTLCs, r)
			}
		case inventory.CTEShipping:
			if !strings.Contains(r.ShipTo, c.shop.GLN) || !strings.Contains(r.ShipTo, "Corner Shop Ltd") || !strings.Contains(r.ShipFrom, c.location.GLN) ||
				r.ReferenceType != "Despatch advice" || r.ReferenceNumber != "DA-1" {
				t.Errorf("shipping row: %+v", r)
			}
		case inventory.CTEInitialPacking:
			if !strings.Contains(r.HarvestCooling, "harvest location: Salt pans, Camargue") || !strings.Contains(r.HarvestCooling, "cooling date") {
				t.Errorf("packing row: %+v", r)
			}
		}
	}

	// By the passata's product, one day: only that day's shipment.
	rep, err = svc.FSMAReport(ctx, inventory.FSMARequest{ProductID: &c.pasLot.ProductID, From: c.day[2], To: c.day[2]})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].EventID != c.goodShip {
		t.Fatalf("one day's rows: %+v", rep.Rows)
	}
	// Upstream too: the passata's product reaches the tomato receipt.
	rep, err = svc.FSMAReport(ctx, inventory.FSMARequest{ProductID: &c.pasLot.ProductID, From: c.day[0], To: c.day[0]})
	if err != nil || len(rep.Rows) != 2 {
		t.Fatalf("upstream rows: %v %+v", err, rep.Rows)
	}
	for _, r := range rep.Rows {
		if r.CTE == inventory.CTEInitialPacking {
			if len(r.MissingKDEs) != 0 || r.TLC != c.tlc(c.salt, "SALT-1") || r.ReferenceNumber == "" ||
				!strings.Contains(r.HarvestCooling, "harvest location: Salt pans, Camargue") || !strings.Contains(r.HarvestCooling, "cooling date") {
				t.Errorf("packing row: %+v", r)
			}
		}
	}
}

// optionalFor: the columns a CTE has no KDE for.
func optionalFor(cte, column string) bool {
	switch column {
	case "Ship-from location", "Ship-to or receiving location":
		return cte != inventory.CTEReceiving && cte != inventory.CTEShipping
	case "Immediate previous source":
		return cte != inventory.CTEReceiving
	case "Harvest and cooling data":
		return cte != inventory.CTEHarvesting && cte != inventory.CTECooling && cte != inventory.CTEInitialPacking
	case "Input traceability lot codes":
		return cte != inventory.CTETransformation
	}
	return false
}

func TestFSMAReportInput(t *testing.T) {
	svc, _ := newService(t, 2, time.Second)
	ctx := context.Background()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	missing := uuid.UUID{1}
	for _, tc := range []struct {
		name  string
		req   inventory.FSMARequest
		field string
		found bool
	}{
		{"nothing named", inventory.FSMARequest{From: day, To: day}, "product_id", false},
		{"bad gtin", inventory.FSMARequest{GTIN: "123", Lot: "A", From: day, To: day}, "gtin", false},
		{"gtin without lot", inventory.FSMARequest{GTIN: gtin(), From: day, To: day}, "lot", false},
		{"to before from", inventory.FSMARequest{GTIN: gtin(), Lot: "A", From: day, To: day.AddDate(0, 0, -1)}, "to", false},
		{"range too long", inventory.FSMARequest{GTIN: gtin(), Lot: "A", From: day, To: day.AddDate(3, 0, 0)}, "to", false},
		{"unknown lot", inventory.FSMARequest{GTIN: gtin(), Lot: "A", From: day, To: day}, "", true},
		{"unknown product", inventory.FSMARequest{ProductID: &missing, From: day, To: day}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.FSMAReport(ctx, tc.req)
			var ve *inventory.ValidationError
			var nf *inventory.NotFoundError
			switch {
			case tc.found && !errors.As(err, &nf):
				t.Fatalf("want not found, got %v", err)
			case !tc.found && (!errors.As(err, &ve) || ve.Fields[0].Field != tc.field):
				t.Fatalf("want invalid %s, got %v", tc.field, err)
			}
		})
	}
}

// A cycle in the data (a transformation that also outputs its input lot)
// ends the walk: each lot is visited once.
func TestFSMAReportCycle(t *testing.T) {
	svc, c, pool := newFSMAChainPool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO event_batches (event_id, batch_id, role, quantity, uom, event_time)
		SELECT event_id, $2, 'output', 1, 'KGM', event_time FROM event_batches WHERE batch_id = $1 AND role = 'output'`,
		c.pasLot.ID, c.tomLot.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var rep inventory.FSMAReport
	go func() {
		var err error
		rep, err = svc.FSMAReport(ctx, inventory.FSMARequest{GTIN: c.passata.GTIN, Lot: "PAS-1", From: c.day[0], To: c.day[3]})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the report loops on a cycle")
	}
	transformations := 0
	for _, r := range rep.Rows {
		if r.CTE == inventory.CTETransformation {
			transformations++
		}
	}
	// One transformation, now with two output lots: PAS-1 and TOM-1.
	if transformations != 2 || len(rep.Rows) != 6 {
		var got []string
		for _, r := range rep.Rows {
			got = append(got, r.CTE+" "+r.TLC)
		}
		t.Fatalf("rows: %q", got)
	}
}

// Harvesting and cooling are CTEs of their own; a harvest recorded without
// its field lists the field as missing.
func TestFSMAReportHarvestAndCooling(t *testing.T) {
	svc, pool := newService(t, 4, 2*time.Second)
	w := newStockWorld(t, svc, pool)
	ctx := context.Background()
	day := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2).Add(7 * time.Hour)
	cool := day.Add(3 * time.Hour)
	for _, r := range []inventory.CommissionRequest{
		{ProductID: w.tomatoes.ID, BatchNumber: "H-1", LocationID: w.location.ID, Quantity: q("900"), Stage: "harvesting",
			HarvestLocation: "Sunny Farm, north", Field: "Field 7", HarvestDate: &day, EventTime: &day},
		{ProductID: w.tomatoes.ID, BatchNumber: "H-2", LocationID: w.location.ID, Quantity: q("800"), Stage: "harvesting",
			HarvestLocation: "Sunny Farm, north", HarvestDate: &day, EventTime: &day},
		{ProductID: w.tomatoes.ID, BatchNumber: "C-1", LocationID: w.location.ID, Quantity: q("700"), Stage: "cooling",
			HarvestLocation: "Sunny Farm, north", HarvestDate: &day, CoolingDate: &cool, EventTime: &cool},
	} {
		if _, err := svc.Commission(ctx, inventory.System, r); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := svc.FSMAReport(ctx, inventory.FSMARequest{ProductID: &w.tomatoes.ID, From: day, To: day})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Rows {
		got = append(got, r.CTE+" "+r.TLC[len(r.TLC)-3:]+" ["+strings.Join(r.MissingKDEs, "; ")+"]")
	}
	want := []string{"Harvesting H-1 []", "Harvesting H-2 [field]", "Cooling C-1 []"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h := rep.Rows[0].HarvestCooling; h != "harvest location: Sunny Farm, north; field: Field 7; harvest date: "+day.Format(time.DateOnly) {
		t.Fatalf("harvest data %q", h)
	}
}
