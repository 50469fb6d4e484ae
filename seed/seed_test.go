package seed_test

import (
	"context"
	"testing"

	"batchtrack/db"
	"batchtrack/db/pgtest"
	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/seed"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The demo data goes in whole, its units as Rec 20 codes, and only once.
func TestSeedFillsAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	svc := inventory.New(db.NewStore(pgtest.New(t)), inventory.Options{})
	n, err := seed.Run(ctx, svc, seed.Options{})
	if err != nil || n == 0 {
		t.Fatalf("seed: %d batches, %v", n, err)
	}
	page, err := svc.ListBatches(ctx, inventory.BatchFilter{}, inventory.ListOptions{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	statuses := map[inventory.QualityStatus]bool{}
	for _, b := range page.Items {
		if u, ok := gs1.LookupUnit(b.UOM); !ok || u.Code != b.UOM {
			t.Errorf("batch %s has unit %q, not a Rec 20 code", b.BatchNumber, b.UOM)
		}
		// Every lot's stock is explained by its ledger.
		m, err := svc.Balance(ctx, b.ID)
		if err != nil || !m.Balanced {
			t.Errorf("batch %s: mass balance %+v, %v", b.BatchNumber, m, err)
		}
		ledger, err := svc.ListConsumptions(ctx, b.ID, inventory.ListOptions{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ledger.Items {
			kinds[c.Kind] = true
		}
		for kind, q := range map[string]quantity.Quantity{"received": m.Received, "moved in": m.MovedIn, "in transit": m.InTransit} {
			if q > 0 {
				kinds[kind] = true
			}
		}
		statuses[b.QualityStatus] = true
	}
	// The demo shows every movement a newcomer should see.
	for _, k := range []string{"consume", "received", "transform_in", "ship", "move_out", "moved in", "reversal"} {
		if !kinds[k] {
			t.Errorf("no %s in the demo's ledger", k)
		}
	}
	if !statuses[inventory.StatusOnHold] {
		t.Error("no lot on hold in the demo")
	}
	// The demo's mock recall reaches down the coffee chain to a customer,
	// and its report adds up.
	mocks, err := svc.ListMockRecalls(ctx, 10)
	if err != nil || len(mocks) != 1 {
		t.Fatalf("mock recalls %v, %v; want the demo's one", mocks, err)
	}
	if m := mocks[0].Summary; m.Lots < 4 || m.Customers < 1 || !m.Balanced {
		t.Errorf("demo mock recall %+v: want the roast, the ground coffee at two sites and a customer", m)
	}
	if n, err := seed.IfEmpty(ctx, svc, seed.Options{}); n != 0 || err != nil {
		t.Errorf("second seed: %d, %v; want nothing done", n, err)
	}
}

// Our company owns the demo's sites; three suppliers and three customers
// have a location each.
func TestSeedRecordsPartiesAndTheirLocations(t *testing.T) {
	ctx := context.Background()
	svc := inventory.New(db.NewStore(pgtest.New(t)), inventory.Options{})
	if _, err := seed.Run(ctx, svc, seed.Options{}); err != nil {
		t.Fatal(err)
	}
	yes := true
	own, err := svc.ListParties(ctx, inventory.PartyFilter{Own: &yes}, inventory.ListOptions{})
	if err != nil || len(own.Items) != 1 {
		t.Fatalf("own parties: %+v, %v", own.Items, err)
	}
	ls, err := svc.PartyLocations(ctx, own.Items[0].ID)
	if err != nil || len(ls) != 9 {
		t.Fatalf("our locations: %d, %v", len(ls), err)
	}
	for _, l := range ls {
		if !l.Ours {
			t.Errorf("%s is not ours", l.Name)
		}
	}
	for _, role := range []string{"supplier", "customer"} {
		page, err := svc.ListParties(ctx, inventory.PartyFilter{Role: role}, inventory.ListOptions{})
		if err != nil || len(page.Items) != 3 {
			t.Fatalf("%s parties: %d, %v", role, len(page.Items), err)
		}
		for _, p := range page.Items {
			if err := gs1.ValidateGLN(p.PGLN); err != nil {
				t.Errorf("%s PGLN %s: %v", p.Name, p.PGLN, err)
			}
			ls, err := svc.PartyLocations(ctx, p.ID)
			if err != nil || len(ls) != 1 || ls[0].Ours || ls[0].PartyName != p.Name {
				t.Errorf("%s locations: %+v, %v", p.Name, ls, err)
			}
		}
	}
	all, err := svc.ListLocations(ctx, inventory.LocationFilter{}, inventory.ListOptions{Limit: 200})
	if err != nil || len(all.Items) != 15 {
		t.Fatalf("locations: %d, %v", len(all.Items), err)
	}
}
