package seed_test

import (
	"context"
	"testing"

	"batchtrack/db"
	"batchtrack/db/pgtest"
	"batchtrack/gs1"
	"batchtrack/inventory"
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
	for _, b := range page.Items {
		if u, ok := gs1.LookupUnit(b.UOM); !ok || u.Code != b.UOM {
			t.Errorf("batch %s has unit %q, not a Rec 20 code", b.BatchNumber, b.UOM)
		}
	}
	if n, err := seed.IfEmpty(ctx, svc, seed.Options{}); n != 0 || err != nil {
		t.Errorf("second seed: %d, %v; want nothing done", n, err)
	}
}
