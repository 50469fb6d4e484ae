package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/db/pgtest"
	"batchtrack/quantity"
)

// ConsumePipelined hand-writes the arguments and columns of the generated
// ConsumeBatch; run both on twin batches and compare, so a change of the
// query that is not carried over fails here.
func TestConsumePipelinedMatchesGenerated(t *testing.T) {
	store := db.NewStore(pgtest.New(t))
	ctx := context.Background()
	p, err := store.CreateProduct(ctx, db.CreateProductParams{Gtin: "00061414100014", Name: "p", Unit: "KGM"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := store.CreateLocation(ctx, db.CreateLocationParams{Gln: "0614141000012", Name: "l", Type: "farm"})
	if err != nil {
		t.Fatal(err)
	}
	twin := func(number string) uuid.UUID {
		id, err := store.CreateBatch(ctx, db.CreateBatchParams{BatchNumber: number, ProductID: p.ID, LocationID: l.ID,
			ProductionDate: time.Now(), QuantityProduced: quantity.FromUnits(10), UnitOfMeasure: "KGM",
			QualityStatus: "approved"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	for _, qty := range []quantity.Quantity{quantity.FromUnits(3), quantity.FromUnits(30)} {
		arg := func(id uuid.UUID) db.ConsumeBatchParams {
			return db.ConsumeBatchParams{BatchID: id, Quantity: qty, Today: time.Now(), EventTimezone: "+00:00", Actor: "t", Reason: "r"}
		}
		a, b := twin("A"+qty.String()), twin("B"+qty.String())
		gotRows, _, err := store.ConsumePipelined(ctx, time.Second, arg(a))
		if err != nil {
			t.Fatal(err)
		}
		got := gotRows[0]
		var want db.ConsumeBatchRow
		err = store.InTx(ctx, db.TxOptions{}, func(q *db.Queries) error {
			if _, err := q.LockBatchForConsume(ctx, b); err != nil {
				return err
			}
			want, err = q.ConsumeBatch(ctx, arg(b))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		ignore := cmpopts.IgnoreFields(db.ConsumeBatchRow{}, "ConsumptionID", "ConsumedAt", "EventID",
			"LockAcquired", "BatchNumber", "CreatedAt", "UpdatedAt")
		if diff := cmp.Diff(want, got, ignore); diff != "" {
			t.Errorf("pipelined row differs from generated (-want +got):\n%s", diff)
		}
		if qty == quantity.FromUnits(3) && (got.BatchNumber == nil || *got.BatchNumber != "A3" || got.ConsumptionID == nil) {
			t.Errorf("pipelined row: %+v", got)
		}
	}
}

// A consume waiting on a held row lock shows up in lock_waiters() with
// the batch it waits for and the session that blocks it.
func TestListLockWaitersNamesTheBatch(t *testing.T) {
	pool := pgtest.New(t)
	store := db.NewStore(pool)
	ctx := context.Background()
	p, _ := store.CreateProduct(ctx, db.CreateProductParams{Gtin: "00061414100014", Name: "p", Unit: "KGM"})
	l, _ := store.CreateLocation(ctx, db.CreateLocationParams{Gln: "0614141000012", Name: "l", Type: "farm"})
	id, err := store.CreateBatch(ctx, db.CreateBatchParams{BatchNumber: "W1", ProductID: p.ID, LocationID: l.ID,
		ProductionDate: time.Now(), QuantityProduced: quantity.FromUnits(10), UnitOfMeasure: "KGM", QualityStatus: "approved"})
	if err != nil {
		t.Fatal(err)
	}
	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", id); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := store.ConsumePipelined(ctx, 10*time.Second, db.ConsumeBatchParams{BatchID: id, Quantity: 1000,
			Today: time.Now(), EventTimezone: "+00:00", Actor: "t"})
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws, err := store.ListLockWaiters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) == 1 {
			w := ws[0]
			if w.BatchID == nil || *w.BatchID != id || len(w.BlockedBy) != 1 {
				t.Errorf("waiter %+v, want batch %s and one blocker", w, id)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lock waiter seen; last answer %+v", ws)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("consume after the lock was released: %v", err)
	}
}
