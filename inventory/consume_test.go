package inventory_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

var alice = inventory.Actor{Name: "alice@example.com", Source: "api"}

func TestConsumeRules(t *testing.T) {
	svc, _ := newService(t, 10, 2*time.Second)
	w := newWorld(t, svc)
	ctx := context.Background()
	past := time.Now().AddDate(0, 0, -1)
	one := int64(1)
	tests := []struct {
		name    string
		batch   inventory.Batch
		req     func(b inventory.Batch) inventory.ConsumeRequest
		wantErr any
	}{
		{"consumed", w.batch("10"), func(b inventory.Batch) inventory.ConsumeRequest {
			return inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.MustParse("2.5")}
		}, nil},
		{"exactly all", w.batch("10"), func(b inventory.Batch) inventory.ConsumeRequest {
			return inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.MustParse("10")}
		}, nil},
		{"more than available", w.batch("10"), func(b inventory.Batch) inventory.ConsumeRequest {
			return inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.MustParse("10.001")}
		}, &inventory.InsufficientQuantityError{}},
		{"stale expected version", w.batch("10"), func(b inventory.Batch) inventory.ConsumeRequest {
			v := b.Version + 1
			return inventory.ConsumeRequest{BatchID: b.ID, Quantity: 1000, ExpectedVersion: &v}
		}, &inventory.VersionConflictError{}},
		{"current expected version", w.batch("10"), func(b inventory.Batch) inventory.ConsumeRequest {
			return inventory.ConsumeRequest{BatchID: b.ID, Quantity: 1000, ExpectedVersion: &one}
		}, nil},
		{"rejected", w.batch("10", func(n *inventory.NewBatch) { n.QualityStatus = "rejected" }), func(b inventory.Batch) inventory.ConsumeRequest {
			return inventory.ConsumeRequest{BatchID: b.ID, Quantity: 1000}
		}, &inventory.NotConsumableError{}},
		{"recalled", w.batch("10", func(n *inventory.NewBatch) { n.QualityStatus = "recalled" }), func(b inventory.Batch) inventory.ConsumeRequest {
			return inventory.ConsumeRequest{BatchID: b.ID, Quantity: 1000}
		}, &inventory.NotConsumableError{}},
		{"expired", w.batch("10", func(n *inventory.NewBatch) {
			n.ProductionDate = past.AddDate(0, 0, -10)
			n.ExpiryDate = &past
		}), func(b inventory.Batch) inventory.ConsumeRequest {
			return inventory.ConsumeRequest{BatchID: b.ID, Quantity: 1000}
		}, &inventory.NotConsumableError{}},
		{"unknown batch", w.batch("10"), func(b inventory.Batch) inventory.ConsumeRequest {
			return inventory.ConsumeRequest{BatchID: uuid.New(), Quantity: 1000}
		}, &inventory.NotFoundError{}},
		{"zero", w.batch("10"), func(b inventory.Batch) inventory.ConsumeRequest {
			return inventory.ConsumeRequest{BatchID: b.ID, Quantity: 0}
		}, &inventory.ValidationError{}},
		{"negative", w.batch("10"), func(b inventory.Batch) inventory.ConsumeRequest {
			return inventory.ConsumeRequest{BatchID: b.ID, Quantity: -1000}
		}, &inventory.ValidationError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req(tt.batch)
			before, _ := svc.GetBatch(ctx, tt.batch.ID)
			got, c, err := svc.Consume(ctx, alice, req)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Consume: %v", err)
				}
				if got.QuantityAvailable != before.QuantityAvailable-req.Quantity || got.Version != before.Version+1 {
					t.Errorf("balance %s v%d after taking %s from %s v%d", got.QuantityAvailable, got.Version, req.Quantity, before.QuantityAvailable, before.Version)
				}
				if c.QuantityAvailableAfter != got.QuantityAvailable || c.VersionAfter != got.Version || c.Actor != alice.Name || c.EventID == nil {
					t.Errorf("ledger row %+v does not match batch %+v", c, got)
				}
			} else {
				if err == nil || !sameType(err, tt.wantErr) {
					t.Fatalf("Consume error = %T %v, want %T", err, err, tt.wantErr)
				}
				after, _ := svc.GetBatch(ctx, tt.batch.ID)
				if after.QuantityAvailable != before.QuantityAvailable || after.Version != before.Version {
					t.Errorf("a refused consume changed the batch: %v v%d -> %v v%d", before.QuantityAvailable, before.Version, after.QuantityAvailable, after.Version)
				}
			}
			w.ledger(tt.batch)
		})
	}
}

func sameType(err error, want any) bool {
	switch want.(type) {
	case *inventory.InsufficientQuantityError:
		var e *inventory.InsufficientQuantityError
		return errors.As(err, &e)
	case *inventory.VersionConflictError:
		var e *inventory.VersionConflictError
		return errors.As(err, &e)
	case *inventory.NotConsumableError:
		var e *inventory.NotConsumableError
		return errors.As(err, &e)
	case *inventory.NotFoundError:
		return errors.Is(err, inventory.ErrNotFound)
	case *inventory.ValidationError:
		var e *inventory.ValidationError
		return errors.As(err, &e)
	}
	return false
}

// 200 goroutines each take 1.5 units from a batch of 100: exactly 66
// succeed, the rest are told the quantity is insufficient, and the ledger
// explains the balance to the thousandth.
func TestConsumeConcurrentlyFromOneBatch(t *testing.T) {
	svc, _ := newService(t, 64, 10*time.Second)
	w := newWorld(t, svc)
	b := w.batch("100")
	const workers = 200
	take := quantity.MustParse("1.5")
	var ok, short, other atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			got, _, err := svc.Consume(context.Background(), alice, inventory.ConsumeRequest{BatchID: b.ID, Quantity: take})
			var iq *inventory.InsufficientQuantityError
			switch {
			case err == nil:
				ok.Add(1)
				if got.QuantityAvailable < 0 {
					t.Errorf("negative balance %s", got.QuantityAvailable)
				}
			case errors.As(err, &iq):
				short.Add(1)
				if iq.QuantityAvailable >= take {
					t.Errorf("refused with %s available", iq.QuantityAvailable)
				}
			default:
				other.Add(1)
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 66 || short.Load() != workers-66 || other.Load() != 0 {
		t.Fatalf("ok=%d insufficient=%d other=%d; want 66/%d/0", ok.Load(), short.Load(), other.Load(), workers-66)
	}
	l := w.ledger(b)
	if l.QuantityAvailable != quantity.MustParse("1") || l.Entries != 66 || l.Version != 67 {
		t.Errorf("ledger %+v, want 1 available after 66 entries at version 67", l)
	}
}

// Consumers of [A, B] and [B, A] at the same time never deadlock: rows
// are locked in id order. All-or-nothing: a failing item leaves the
// other batch untouched.
func TestConsumeManyNoDeadlockAllOrNothing(t *testing.T) {
	svc, _ := newService(t, 32, 10*time.Second)
	w := newWorld(t, svc)
	a, b := w.batch("1000"), w.batch("1000")
	var wg sync.WaitGroup
	var done atomic.Int64
	const rounds, workers = 25, 8
	for g := range workers {
		wg.Go(func() {
			for range rounds {
				items := []inventory.ConsumeItem{{BatchID: a.ID, Quantity: 1000}, {BatchID: b.ID, Quantity: 2000}}
				if g%2 == 1 {
					items[0], items[1] = items[1], items[0]
				}
				if _, _, err := svc.ConsumeMany(context.Background(), alice, items, "pairs"); err != nil {
					t.Errorf("ConsumeMany: %v", err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	n := done.Load()
	la, lb := w.ledger(a), w.ledger(b)
	if la.QuantityAvailable != quantity.FromUnits(1000-n) || lb.QuantityAvailable != quantity.FromUnits(1000-2*n) {
		t.Fatalf("after %d pairs: a=%s b=%s", n, la.QuantityAvailable, lb.QuantityAvailable)
	}

	// Second item too large: nothing of the first is taken.
	_, _, err := svc.ConsumeMany(context.Background(), alice, []inventory.ConsumeItem{
		{BatchID: a.ID, Quantity: 1000}, {BatchID: b.ID, Quantity: quantity.FromUnits(5000)},
	}, "too much")
	var iq *inventory.InsufficientQuantityError
	if !errors.As(err, &iq) || iq.Item != 1 {
		t.Fatalf("err = %v, want insufficient quantity on item 1", err)
	}
	if got := w.ledger(a); got.QuantityAvailable != la.QuantityAvailable {
		t.Errorf("batch a changed by a refused multi-batch consume: %s -> %s", la.QuantityAvailable, got.QuantityAvailable)
	}
}

// A consume that cannot get the row lock within the lock timeout gives
// up with ErrLockTimeout, changes nothing, and is counted.
func TestConsumeLockTimeout(t *testing.T) {
	svc, pool := newService(t, 8, 300*time.Millisecond)
	w := newWorld(t, svc)
	b := w.batch("10")
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", b.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = svc.Consume(ctx, alice, inventory.ConsumeRequest{BatchID: b.ID, Quantity: 1000})
	waited := time.Since(start)
	if !errors.Is(err, inventory.ErrLockTimeout) {
		t.Fatalf("err = %v, want ErrLockTimeout", err)
	}
	if waited < 300*time.Millisecond {
		t.Errorf("gave up after %v, before the lock timeout", waited)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	l := w.ledger(b)
	if l.QuantityAvailable != quantity.FromUnits(10) || l.Entries != 0 {
		t.Errorf("a timed-out consume changed the batch: %+v", l)
	}
	// The pooled connection is usable again.
	if _, _, err := svc.Consume(ctx, alice, inventory.ConsumeRequest{BatchID: b.ID, Quantity: 1000}); err != nil {
		t.Fatalf("consume after the lock was released: %v", err)
	}
}

func TestAdjust(t *testing.T) {
	svc, _ := newService(t, 8, time.Second)
	w := newWorld(t, svc)
	b := w.batch("10")
	ctx := context.Background()
	if _, _, err := svc.Adjust(ctx, alice, b.ID, quantity.MustParse("-2"), "stock count", nil); err != nil {
		t.Fatal(err)
	}
	got, c, err := svc.Adjust(ctx, alice, b.ID, quantity.MustParse("0.5"), "found a sack", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.QuantityAvailable != quantity.MustParse("8.5") || c.Kind != "adjust" || c.Quantity != quantity.MustParse("0.5") {
		t.Errorf("after adjustments: %s, %+v", got.QuantityAvailable, c)
	}
	if _, _, err := svc.Adjust(ctx, alice, b.ID, quantity.MustParse("-9"), "too much", nil); !sameType(err, &inventory.InsufficientQuantityError{}) {
		t.Errorf("adjusting below zero: %v", err)
	}
	if _, _, err := svc.Adjust(ctx, alice, b.ID, quantity.MustParse("1"), "", nil); !sameType(err, &inventory.ValidationError{}) {
		t.Errorf("adjusting without a reason: %v", err)
	}
	w.ledger(b)
}

// Consumes that queue behind a held lock go together in one transaction
// once it is released: one lock and one commit for the group, each
// consume still checked on its own (the last ones find too little).
func TestConsumesQueuedBehindALockShareATransaction(t *testing.T) {
	svc, pool := newService(t, 16, 10*time.Second)
	w := newWorld(t, svc)
	b := w.batch("8")
	ctx := context.Background()
	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", b.ID); err != nil {
		t.Fatal(err)
	}
	const n = 10
	errs := make(chan error, n)
	consume := func() {
		_, _, err := svc.Consume(ctx, alice, inventory.ConsumeRequest{BatchID: b.ID, Quantity: quantity.FromUnits(1)})
		errs <- err
	}
	// The first waits on the lock in PostgreSQL; the next nine queue.
	store := db.NewStore(pool)
	go consume()
	waitFor(t, func() bool { ws, _ := store.ListLockWaiters(ctx); return len(ws) == 1 })
	for range n - 1 {
		go consume()
	}
	waitFor(t, func() bool { return inventory.PendingConsumes(svc, b.ID) == n-1 })
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var ok, short int
	for range n {
		var iq *inventory.InsufficientQuantityError
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.As(err, &iq):
			short++
		default:
			t.Errorf("consume: %v", err)
		}
	}
	if ok != 8 || short != 2 {
		t.Errorf("%d consumed, %d refused; want 8 and 2", ok, short)
	}
	var transactions int
	if err := pool.QueryRow(ctx, "SELECT count(DISTINCT xmin::text) FROM consumptions WHERE batch_id = $1", b.ID).Scan(&transactions); err != nil {
		t.Fatal(err)
	}
	if transactions != 2 {
		t.Errorf("8 consumes written by %d transactions, want 2 (the first alone, then the queued group)", transactions)
	}
	w.ledger(b)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
