package web

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

var fixtureSeq atomic.Int64

// validGTIN and validGLN make unique identifiers with correct check digits.
func validGTIN() string {
	body := fmt.Sprintf("0%012d", 400000000000+fixtureSeq.Add(1))
	return body + string(gs1.CheckDigit(body))
}

func validGLN() string {
	body := fmt.Sprintf("%012d", 614141000000+fixtureSeq.Add(1))
	return body + string(gs1.CheckDigit(body))
}

// fixture creates a product, a location and a batch of produced units.
func (a *testApp) fixture(produced string) inventory.Batch {
	a.t.Helper()
	ctx := context.Background()
	p, err := a.svc.CreateProduct(ctx, inventory.NewProduct{GTIN: validGTIN(), Name: "Test coffee", Unit: "kg"})
	if err != nil {
		a.t.Fatal(err)
	}
	l, err := a.svc.CreateLocation(ctx, inventory.NewLocation{GLN: validGLN(), Name: "Test plant", Type: "factory"})
	if err != nil {
		a.t.Fatal(err)
	}
	return a.batch(p.ID.String(), l.ID.String(), produced)
}

// batch creates another batch of the same product and location.
func (a *testApp) batch(productID, locationID, produced string) inventory.Batch {
	a.t.Helper()
	expiry := time.Now().AddDate(0, 1, 0)
	b, err := a.svc.CreateBatch(context.Background(), inventory.System, inventory.NewBatch{
		ProductID: mustUUID(a.t, productID), LocationID: mustUUID(a.t, locationID),
		ProductionDate: time.Now().AddDate(0, 0, -1), ExpiryDate: &expiry,
		QuantityProduced: quantity.MustParse(produced), QualityStatus: "approved",
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}

// unreleased is a pending lot, such as a transformation's output: new
// production may join only an unreleased lot.
func (a *testApp) unreleased(b inventory.Batch) inventory.Batch {
	a.t.Helper()
	pending := "pending"
	b, err := a.svc.UpdateBatch(context.Background(), inventory.System, b.ID, inventory.BatchUpdate{QualityStatus: &pending}, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}

// checkLedger asserts the invariant for a batch.
func (a *testApp) checkLedger(b inventory.Batch) inventory.Ledger {
	a.t.Helper()
	l, err := a.svc.CheckLedger(context.Background(), b.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	if !l.Balanced() {
		a.t.Fatalf("ledger of %s does not explain the balance: %+v", b.BatchNumber, l)
	}
	return l
}
