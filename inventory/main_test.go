package inventory_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/db"
	"batchtrack/db/pgtest"
	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var seq atomic.Int64

func newService(t testing.TB, maxConns int32, lockTimeout time.Duration) (*inventory.Service, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewWithOptions(t, pgtest.Options{MaxConns: maxConns})
	return inventory.New(db.NewStore(pool), inventory.Options{LockTimeout: lockTimeout}), pool
}

func gtin() string {
	body := fmt.Sprintf("0%012d", 500000000000+seq.Add(1))
	return body + string(gs1.CheckDigit(body))
}

func gln() string {
	body := fmt.Sprintf("%012d", 761414000000+seq.Add(1))
	return body + string(gs1.CheckDigit(body))
}

// world is a product and a location to hang batches on.
type world struct {
	t        testing.TB
	svc      *inventory.Service
	product  inventory.Product
	location inventory.Location
}

func newWorld(t testing.TB, svc *inventory.Service) *world {
	t.Helper()
	ctx := context.Background()
	p, err := svc.CreateProduct(ctx, inventory.NewProduct{GTIN: gtin(), Name: "Green coffee", Unit: "kg"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(), Name: "Roastery", Type: "factory"})
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, svc: svc, product: p, location: l}
}

func (w *world) batch(produced string, mods ...func(*inventory.NewBatch)) inventory.Batch {
	w.t.Helper()
	expiry := time.Now().AddDate(0, 6, 0)
	nb := inventory.NewBatch{
		ProductID: w.product.ID, LocationID: w.location.ID, ProductionDate: time.Now().AddDate(0, 0, -2),
		ExpiryDate: &expiry, QuantityProduced: quantity.MustParse(produced), QualityStatus: "approved",
	}
	for _, m := range mods {
		m(&nb)
	}
	b, err := w.svc.CreateBatch(context.Background(), inventory.System, nb)
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

func (w *world) ledger(b inventory.Batch) inventory.Ledger {
	w.t.Helper()
	l, err := w.svc.CheckLedger(context.Background(), b.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	if !l.Balanced() {
		w.t.Fatalf("ledger does not explain the balance of %s: %+v", b.BatchNumber, l)
	}
	return l
}
