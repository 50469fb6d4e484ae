package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/db"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// effect is one change a successful operation made to one batch row.
type effect struct {
	batch   uuid.UUID
	kind    string // the ledger kind (consume, ship, transform_in, move_out, produce, receive, move_in)
	qty     quantity.Quantity
	opening bool // the row was created by the operation: the quantity is its opening quantity, not a ledger row
}

// outcome is a successful operation's effects, as its result reports them.
type outcome struct {
	eventID uuid.UUID
	op      string
	effects []effect
}

// tally collects what succeeded and what was refused, from many goroutines.
type tally struct {
	mu        sync.Mutex
	outcomes  []*outcome
	corrected map[uuid.UUID]bool
	ok        map[string]int
	refused   map[string]int
	timeouts  atomic.Int64
	calls     atomic.Int64
}

func newTally() *tally {
	return &tally{corrected: map[uuid.UUID]bool{}, ok: map[string]int{}, refused: map[string]int{}}
}

func (ta *tally) add(o *outcome) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	ta.outcomes = append(ta.outcomes, o)
	ta.ok[o.op]++
}

// refusal counts an allowed refusal and fails the test on anything else.
func (ta *tally) refusal(t *testing.T, op string, err error) {
	t.Helper()
	var iq *inventory.InsufficientQuantityError
	var ce *inventory.ConflictError
	switch {
	case errors.Is(err, inventory.ErrLockTimeout):
		ta.timeouts.Add(1)
		ta.mu.Lock()
		ta.refused[op+": lock timeout"]++
		ta.mu.Unlock()
	case errors.As(err, &iq):
		ta.mu.Lock()
		ta.refused[op+": insufficient"]++
		ta.mu.Unlock()
	case errors.As(err, &ce):
		ta.mu.Lock()
		ta.refused[op+": conflict"]++
		ta.mu.Unlock()
	case errors.Is(err, db.ErrDeadlock):
		t.Errorf("%s: deadlock detected by PostgreSQL: %v", op, err)
	default:
		t.Errorf("%s: unexpected error %T: %v", op, err, err)
	}
}

// movementOutcome turns a Movement into effects: every ledger row it wrote,
// and the opening quantity of every row it created (arrivals named in
// arrivals, by row).
func movementOutcome(m inventory.Movement, arrivals map[uuid.UUID]effect) *outcome {
	o := &outcome{eventID: m.EventID, op: m.Operation}
	for _, l := range m.Ledger {
		o.effects = append(o.effects, effect{batch: l.BatchID, kind: l.Kind, qty: l.Quantity})
	}
	for _, id := range m.Created {
		a := arrivals[id]
		o.effects = append(o.effects, effect{batch: id, kind: a.kind, qty: a.qty, opening: true})
	}
	return o
}

// rowOf is the batch row of product and lot at location among bs.
func rowOf(bs []inventory.Batch, product uuid.UUID, lot string, location uuid.UUID) uuid.UUID {
	for _, b := range bs {
		if b.ProductID == product && b.BatchNumber == lot && b.LocationID == location {
			return b.ID
		}
	}
	return uuid.Nil
}

// Many goroutines ship, transform, move, receive, consume (one at a time
// and several at once) and correct the same lots at once: transformations
// take the same inputs in opposite orders, one transformation's output is
// another's input, new output lots of the same code are created by several
// at once, stock shipped to our warehouse is received there. Afterwards no
// call hung or deadlocked, no balance is negative, every lot's ledger
// explains its balance and its mass balance adds up, and what the calls
// said they did is exactly what the ledger holds, kind by kind.
func TestConcurrentStockMovements(t *testing.T) {
	const workers = 24
	const opsPerWorker = 30
	const budget = 25 * time.Second // no new operation after this; a hang is caught below
	_, pool := newService(t, workers+8, 3*time.Second)
	// New production joins released output lots only where pending lots
	// are usable: the race is about quantities, not the release rule.
	svc := inventory.New(db.NewStore(pool), inventory.Options{LockTimeout: 3 * time.Second, AllowPending: true})
	w := newStockWorld(t, svc, pool)
	ctx := context.Background()
	plant := w.location.ID

	approved := func(product uuid.UUID, lot, qty string) inventory.Batch {
		return w.batch(qty, func(n *inventory.NewBatch) { n.ProductID, n.BatchNumber = product, lot })
	}
	tomA := approved(w.tomatoes.ID, "TOM-A", "3000")
	tomC := approved(w.tomatoes.ID, "TOM-C", "3000")
	saltB := approved(w.salt.ID, "SALT-B", "600")
	// The passata every transformation of tomatoes and salt adds to, and
	// the next one takes as input.
	mix := approved(w.passata.ID, "MIX-1", "2000")
	base := []inventory.Batch{tomA, tomC, saltB, mix}
	before := map[uuid.UUID]inventory.MassBalance{}
	for _, b := range base {
		before[b.ID] = w.balance(b)
	}
	ledgerBefore := ledgerSums(t, pool)

	ta := newTally()
	deadline := time.Now().Add(budget)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 20))
			<-start
			for i := range opsPerWorker {
				if time.Now().After(deadline) {
					return
				}
				ta.calls.Add(1)
				small := quantity.FromUnits(int64(1 + rng.IntN(3)))
				switch op := (g + i) % 11; op {
				case 0, 1: // transform (A, B) or (B, A) into MIX-1
					in := []inventory.StockItem{{BatchID: tomA.ID, Quantity: small}, {BatchID: saltB.ID, Quantity: q("0.5")}}
					if op == 1 {
						in[0], in[1] = in[1], in[0]
					}
					out := quantity.FromUnits(8)
					m, err := svc.Transform(ctx, alice, inventory.TransformRequest{Inputs: in,
						Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: "MIX-1", Quantity: out}}})
					if err != nil {
						ta.refusal(t, "transform", err)
						continue
					}
					ta.add(movementOutcome(m, map[uuid.UUID]effect{}))
				case 2: // MIX-1 (an output of the above) and TOM-C into a new lot some others create at once
					lot := fmt.Sprintf("NEW-%d", rng.IntN(3))
					in := []inventory.StockItem{{BatchID: mix.ID, Quantity: small}, {BatchID: tomC.ID, Quantity: small}}
					if g%2 == 0 {
						in[0], in[1] = in[1], in[0]
					}
					m, err := svc.Transform(ctx, alice, inventory.TransformRequest{Inputs: in,
						Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: lot, Quantity: q("3")}}})
					if err != nil {
						ta.refusal(t, "transform", err)
						continue
					}
					row := rowOf(m.Batches, w.passata.ID, lot, plant)
					ta.add(movementOutcome(m, map[uuid.UUID]effect{row: {kind: inventory.KindProduce, qty: q("3")}}))
				case 3: // ship two lots to the customer, in either order
					items := []inventory.StockItem{{BatchID: tomA.ID, Quantity: small}, {BatchID: tomC.ID, Quantity: small}}
					if g%2 == 1 {
						items[0], items[1] = items[1], items[0]
					}
					m, err := svc.Ship(ctx, alice, inventory.ShipRequest{Items: items, ShipToID: w.shop.ID})
					if err != nil {
						ta.refusal(t, "ship", err)
						continue
					}
					ta.add(movementOutcome(m, nil))
				case 4: // ship MIX-1 to our warehouse: in transit
					m, err := svc.Ship(ctx, alice, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: mix.ID, Quantity: small}},
						ShipToID: w.warehouse.ID})
					if err != nil {
						ta.refusal(t, "ship", err)
						continue
					}
					ta.add(movementOutcome(m, nil))
				case 5: // receive at the warehouse what is in transit from the plant
					m, err := svc.Receive(ctx, alice, inventory.ReceiveRequest{ProductID: w.passata.ID, BatchNumber: "MIX-1",
						LocationID: w.warehouse.ID, Quantity: q("1"), ShipFromID: &plant})
					if err != nil {
						ta.refusal(t, "receive", err)
						continue
					}
					row := rowOf(m.Batches, w.passata.ID, "MIX-1", w.warehouse.ID)
					ta.add(movementOutcome(m, map[uuid.UUID]effect{row: {kind: inventory.KindReceive, qty: q("1")}}))
				case 6: // move tomatoes to the warehouse
					m, err := svc.Move(ctx, alice, inventory.MoveRequest{BatchID: tomA.ID, Quantity: small, ToLocationID: w.warehouse.ID})
					if err != nil {
						ta.refusal(t, "move", err)
						continue
					}
					row := rowOf(m.Batches, w.tomatoes.ID, "TOM-A", w.warehouse.ID)
					ta.add(movementOutcome(m, map[uuid.UUID]effect{row: {kind: inventory.KindMoveIn, qty: small}}))
				case 7, 8: // the single consume fast path on the same rows
					id := []uuid.UUID{tomA.ID, saltB.ID, mix.ID, tomC.ID}[rng.IntN(4)]
					_, c, err := svc.Consume(ctx, alice, inventory.ConsumeRequest{BatchID: id, Quantity: q("0.25")})
					if err != nil {
						ta.refusal(t, "consume", err)
						continue
					}
					ta.add(&outcome{eventID: *c.EventID, op: "consume", effects: []effect{{batch: id, kind: "consume", qty: c.Quantity}}})
				case 9: // several at once, in opposite orders
					items := []inventory.ConsumeItem{{BatchID: saltB.ID, Quantity: q("0.125")}, {BatchID: tomA.ID, Quantity: q("0.5")}, {BatchID: mix.ID, Quantity: q("1")}}
					if g%2 == 1 {
						items[0], items[2] = items[2], items[0]
					}
					_, cs, err := svc.ConsumeMany(ctx, alice, items, "mixed")
					if err != nil {
						ta.refusal(t, "consume-many", err)
						continue
					}
					o := &outcome{op: "consume-many"}
					for _, c := range cs {
						o.effects = append(o.effects, effect{batch: c.BatchID, kind: c.Kind, qty: c.Quantity})
					}
					ta.add(o)
				case 10: // correct an earlier shipment or receipt while the others go on
					ta.mu.Lock()
					var target *outcome
					for k := len(ta.outcomes) - 1; k >= 0; k-- {
						o := ta.outcomes[k]
						if (o.op == "ship" || o.op == "receive") && !ta.corrected[o.eventID] && rng.IntN(3) == 0 {
							target = o
							break
						}
					}
					ta.mu.Unlock()
					if target == nil {
						continue
					}
					_, err := svc.CorrectEvent(ctx, alice, inventory.CorrectionRequest{EventID: target.eventID, Reason: "did_not_occur"})
					if err != nil {
						ta.refusal(t, "correct", err)
						continue
					}
					ta.mu.Lock()
					if ta.corrected[target.eventID] {
						t.Errorf("event %s corrected twice", target.eventID)
					}
					ta.corrected[target.eventID] = true
					ta.ok["correct"]++
					ta.mu.Unlock()
				}
			}
		})
	}
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(budget + 90*time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("operations still running long after the budget (a deadlock?):\n%s", buf[:runtime.Stack(buf, true)])
	}
	t.Logf("%d calls; succeeded %v; refused %v", ta.calls.Load(), ta.ok, ta.refused)
	if n := ta.timeouts.Load(); n*20 > ta.calls.Load() {
		t.Errorf("%d of %d calls timed out waiting for a lock; want under 5%%", n, ta.calls.Load())
	}
	for _, op := range []string{"transform", "ship", "receive", "move", "consume", "consume-many"} {
		if ta.ok[op] == 0 {
			t.Errorf("no %s succeeded: the test did not exercise it", op)
		}
	}

	// What the calls said they did, per row and per ledger kind; a corrected
	// event's effects are undone.
	type sums struct {
		out     map[string]quantity.Quantity // consume, ship, transform_in, move_out
		in      quantity.Quantity            // arrivals: opening quantities and produce/receive/move_in rows
		opening quantity.Quantity
	}
	rows := map[uuid.UUID]*sums{}
	row := func(id uuid.UUID) *sums {
		if rows[id] == nil {
			rows[id] = &sums{out: map[string]quantity.Quantity{}}
		}
		return rows[id]
	}
	for _, b := range base {
		row(b.ID)
	}
	kinds := map[string]quantity.Quantity{} // ledger rows written, by kind (reversal: signed)
	for _, o := range ta.outcomes {
		corrected := ta.corrected[o.eventID]
		for _, e := range o.effects {
			r := row(e.batch)
			delta := e.qty
			if e.kind == "consume" || e.kind == inventory.KindShip || e.kind == inventory.KindTransformIn || e.kind == inventory.KindMoveOut {
				delta = -e.qty
			}
			if e.opening {
				r.opening += e.qty
			} else {
				kinds[e.kind] += e.qty
			}
			if corrected {
				kinds["reversal"] -= delta
				continue
			}
			if delta < 0 {
				r.out[e.kind] += e.qty
			} else {
				r.in += e.qty
			}
		}
	}

	// Every row: ledger explains the balance, mass balance adds up and
	// agrees with the calls.
	var created quantity.Quantity
	for id, want := range rows {
		l, err := svc.CheckLedger(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !l.Balanced() || l.QuantityAvailable < 0 {
			t.Errorf("batch %s: ledger does not explain the balance: %+v", id, l)
		}
		m, err := svc.Balance(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Balanced || m.OnHand < 0 {
			t.Errorf("batch %s: mass balance does not add up: %+v", id, m)
		}
		b0 := before[id]
		got := map[string]quantity.Quantity{"consume": m.Consumed - b0.Consumed, inventory.KindShip: m.Shipped - b0.Shipped,
			inventory.KindTransformIn: m.Transformed - b0.Transformed, inventory.KindMoveOut: m.MovedOut - b0.MovedOut}
		for k, v := range got {
			if v != want.out[k] {
				t.Errorf("batch %s: %s %s in the mass balance, the calls that succeeded say %s", id, k, v, want.out[k])
			}
		}
		if in := m.In() - b0.In(); in != want.in {
			t.Errorf("batch %s: %s came in by the mass balance, the calls that succeeded say %s", id, in, want.in)
		}
		if m.Destroyed != b0.Destroyed || m.Adjusted != b0.Adjusted {
			t.Errorf("batch %s: destroyed or adjusted by nobody: %+v", id, m)
		}
		if _, ok := before[id]; !ok {
			created += l.QuantityProduced
		}
	}
	var opening quantity.Quantity
	for _, r := range rows {
		opening += r.opening
	}
	if created != opening {
		t.Errorf("rows created during the run opened with %s in all, the calls say %s", created, opening)
	}

	// The whole ledger, kind by kind, against the calls.
	after := ledgerSums(t, pool)
	for _, k := range []string{"consume", "reversal", inventory.KindShip, inventory.KindTransformIn, inventory.KindMoveOut,
		inventory.KindProduce, inventory.KindReceive, inventory.KindMoveIn, inventory.KindDestroy, "adjust"} {
		if got := after[k] - ledgerBefore[k]; got != kinds[k] {
			t.Errorf("ledger kind %s: %s written, the calls that succeeded say %s", k, got, kinds[k])
		}
	}

	// What is in transit to the warehouse is what was shipped there and
	// not received (both net of corrections).
	m, err := svc.Balance(ctx, mix.ID)
	if err != nil {
		t.Fatal(err)
	}
	var shippedThere, receivedThere quantity.Quantity
	for _, o := range ta.outcomes {
		if ta.corrected[o.eventID] {
			continue
		}
		for _, e := range o.effects {
			switch {
			case o.op == "ship" && e.batch == mix.ID:
				shippedThere += e.qty
			case o.op == "receive":
				receivedThere += e.qty
			}
		}
	}
	if m.InTransit != shippedThere-receivedThere {
		t.Errorf("in transit %s, want %s shipped to the warehouse - %s received", m.InTransit, shippedThere, receivedThere)
	}
}

// ledgerSums is the whole ledger's quantities by kind.
func ledgerSums(t *testing.T, pool *pgxpool.Pool) map[string]quantity.Quantity {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT kind, sum(quantity)::text FROM consumptions GROUP BY kind")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]quantity.Quantity{}
	for rows.Next() {
		var k, s string
		if err := rows.Scan(&k, &s); err != nil {
			t.Fatal(err)
		}
		out[k] = quantity.MustParse(s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// ledgerRow is a ledger row as stored, to compare before and after.
type ledgerRow struct {
	ID         uuid.UUID
	Kind       string
	Quantity   string
	After      string
	Version    int64
	ReversesID *uuid.UUID
}

func ledgerRows(t *testing.T, pool *pgxpool.Pool, batch uuid.UUID) []ledgerRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT id, kind, quantity::text, quantity_available_after::text, version_after, reverses_id
		FROM consumptions WHERE batch_id = $1 ORDER BY version_after`, batch)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []ledgerRow
	for rows.Next() {
		var r ledgerRow
		if err := rows.Scan(&r.ID, &r.Kind, &r.Quantity, &r.After, &r.Version, &r.ReversesID); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A correction reverses exactly the original's effects, also after other
// movements of the same lots: the rows written in between stay as they
// are, one reversal row per row of the original, and the mass balance
// counts the reversal against the kind it undoes.
func TestCorrectionAfterLaterMovements(t *testing.T) {
	svc, pool := newService(t, 8, 3*time.Second)
	w := newStockWorld(t, svc, pool)
	ctx := context.Background()
	approved := func(product uuid.UUID, qty string) inventory.Batch {
		return w.batch(qty, func(n *inventory.NewBatch) { n.ProductID = product })
	}
	correct := func(event uuid.UUID) inventory.Correction {
		t.Helper()
		c, err := svc.CorrectEvent(ctx, alice, inventory.CorrectionRequest{EventID: event, Reason: "did_not_occur"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// untouched: the rows of lots before the correction are all still
	// there, unchanged, followed only by the correction's reversals.
	untouched := func(t *testing.T, before, after []ledgerRow, reversals int) {
		t.Helper()
		if len(after) != len(before)+reversals {
			t.Fatalf("%d ledger rows after the correction, want %d + %d reversals", len(after), len(before), reversals)
		}
		for i := range before {
			if before[i] != after[i] {
				t.Errorf("ledger row %d changed: %+v -> %+v", i, before[i], after[i])
			}
		}
		for _, r := range after[len(before):] {
			if r.Kind != "reversal" || r.ReversesID == nil {
				t.Errorf("row added by the correction: %+v", r)
			}
		}
	}

	t.Run("shipment", func(t *testing.T) {
		lot, other := approved(w.tomatoes.ID, "100"), approved(w.tomatoes.ID, "50")
		ship1, err := svc.Ship(ctx, alice, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: lot.ID, Quantity: q("10")}}, ShipToID: w.shop.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Consume(ctx, alice, inventory.ConsumeRequest{BatchID: lot.ID, Quantity: q("5")}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Ship(ctx, alice, inventory.ShipRequest{Items: []inventory.StockItem{
			{BatchID: other.ID, Quantity: q("2")}, {BatchID: lot.ID, Quantity: q("3")}}, ShipToID: w.shop.ID}); err != nil {
			t.Fatal(err)
		}
		lotRows, otherRows := ledgerRows(t, pool, lot.ID), ledgerRows(t, pool, other.ID)
		c := correct(ship1.EventID)
		if len(c.Reversals) != 1 || c.Reversals[0].BatchID != lot.ID || c.Reversals[0].Quantity != q("10") {
			t.Fatalf("reversals %+v, want +10 on the lot", c.Reversals)
		}
		after := ledgerRows(t, pool, lot.ID)
		untouched(t, lotRows, after, 1)
		if got := after[len(after)-1].ReversesID; *got != ship1.Ledger[0].ID {
			t.Errorf("the reversal undoes row %s, want the shipment's %s", got, ship1.Ledger[0].ID)
		}
		untouched(t, otherRows, ledgerRows(t, pool, other.ID), 0)
		m := w.balance(lot)
		if m.OnHand != q("92") || m.Shipped != q("3") || m.Consumed != q("5") || m.Produced != q("100") {
			t.Errorf("after correcting the first shipment: %+v; want 100 - 5 consumed - 3 shipped = 92", m)
		}
		if m := w.balance(other); m.OnHand != q("48") || m.Shipped != q("2") {
			t.Errorf("the other lot: %+v", m)
		}
		w.ledger(lot)
		w.ledger(other)
	})

	t.Run("transformation", func(t *testing.T) {
		// A site without a QA release: new production joins the released
		// passata lot (where a release is required it may not).
		svc := inventory.New(db.NewStore(pool), inventory.Options{LockTimeout: 3 * time.Second, AllowPending: true})
		tom, salt, pas := approved(w.tomatoes.ID, "50"), approved(w.salt.ID, "10"), approved(w.passata.ID, "100")
		transform := func(tomatoes, salt2, jars string) inventory.Movement {
			t.Helper()
			m, err := svc.Transform(ctx, alice, inventory.TransformRequest{
				Inputs:  []inventory.StockItem{{BatchID: tom.ID, Quantity: q(tomatoes)}, {BatchID: salt.ID, Quantity: q(salt2)}},
				Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: pas.BatchNumber, Quantity: q(jars)}}})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		tr := transform("10", "1", "40")
		if _, _, err := svc.Consume(ctx, alice, inventory.ConsumeRequest{BatchID: tom.ID, Quantity: q("2")}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Ship(ctx, alice, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: pas.ID, Quantity: q("5")}}, ShipToID: w.shop.ID}); err != nil {
			t.Fatal(err)
		}
		transform("4", "1", "16")
		before := map[uuid.UUID][]ledgerRow{}
		for _, b := range []inventory.Batch{tom, salt, pas} {
			before[b.ID] = ledgerRows(t, pool, b.ID)
		}
		c := correct(tr.EventID)
		if len(c.Reversals) != 3 {
			t.Fatalf("%d reversals, want 3 (two inputs, one output)", len(c.Reversals))
		}
		for _, b := range []inventory.Batch{tom, salt, pas} {
			untouched(t, before[b.ID], ledgerRows(t, pool, b.ID), 1)
			w.ledger(b)
		}
		if m := w.balance(tom); m.OnHand != q("44") || m.Transformed != q("4") || m.Consumed != q("2") {
			t.Errorf("tomatoes: %+v; want 50 - 2 consumed - 4 transformed = 44", m)
		}
		if m := w.balance(salt); m.OnHand != q("9") || m.Transformed != q("1") {
			t.Errorf("salt: %+v; want 10 - 1 = 9", m)
		}
		if m := w.balance(pas); m.OnHand != q("111") || m.Produced != q("116") || m.Shipped != q("5") {
			t.Errorf("passata: %+v; want 100 + 16 produced - 5 shipped = 111", m)
		}
	})
}

// Corrections of one event at the same time: exactly one reverses it, the
// others are told it is corrected already.
func TestConcurrentCorrectionsOfOneEvent(t *testing.T) {
	svc, pool := newService(t, 16, 5*time.Second)
	w := newStockWorld(t, svc, pool)
	ctx := context.Background()
	lot := w.batch("100", func(n *inventory.NewBatch) { n.ProductID = w.tomatoes.ID })
	ship, err := svc.Ship(ctx, alice, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: lot.ID, Quantity: q("10")}}, ShipToID: w.shop.ID})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var ok, conflict atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			_, err := svc.CorrectEvent(ctx, alice, inventory.CorrectionRequest{EventID: ship.EventID, Reason: "incorrect_data"})
			var ce *inventory.ConflictError
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &ce):
				conflict.Add(1)
			default:
				t.Errorf("correction: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != n-1 {
		t.Fatalf("%d corrections succeeded and %d conflicted; want 1 and %d", ok.Load(), conflict.Load(), n-1)
	}
	rows := ledgerRows(t, pool, lot.ID)
	if len(rows) != 2 || rows[1].Kind != "reversal" {
		t.Fatalf("ledger %+v, want the shipment and one reversal", rows)
	}
	if m := w.balance(lot); m.OnHand != q("100") || m.Shipped != 0 {
		t.Errorf("after the correction: %+v", m)
	}
	w.ledger(lot)
}

// Receipts of stock in transit and corrections of earlier receipts of the
// same lot at once: a receipt locks the open transfers and then the lot's
// row; a correction of a receipt must take them in the same order, or the
// two wait on each other (PostgreSQL reported a deadlock in most rounds).
func TestConcurrentReceiptsAndTheirCorrections(t *testing.T) {
	svc, pool := newService(t, 24, 5*time.Second)
	w := newStockWorld(t, svc, pool)
	ctx := context.Background()
	plant := w.location.ID
	mix := w.batch("5000", func(n *inventory.NewBatch) { n.ProductID, n.BatchNumber = w.passata.ID, "MIX-R" })
	for _, qty := range []string{"2000", "1000"} { // two transfers, drawn oldest first
		if _, err := svc.Ship(ctx, alice, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: mix.ID, Quantity: q(qty)}},
			ShipToID: w.warehouse.ID}); err != nil {
			t.Fatal(err)
		}
	}
	ta := newTally()
	var mu sync.Mutex
	var open []uuid.UUID // receipts not corrected yet
	var wh uuid.UUID     // the lot's row at the warehouse
	var received, corrected atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(6 * time.Second)
	for g := range 16 {
		wg.Go(func() {
			for calls := 0; calls < 40 && time.Now().Before(deadline); {
				if g%2 == 0 {
					calls++
					ta.calls.Add(1)
					m, err := svc.Receive(ctx, alice, inventory.ReceiveRequest{ProductID: w.passata.ID, BatchNumber: "MIX-R",
						LocationID: w.warehouse.ID, Quantity: q("1"), ShipFromID: &plant})
					if err != nil {
						ta.refusal(t, "receive", err)
						continue
					}
					received.Add(1)
					mu.Lock()
					open = append(open, m.EventID)
					wh = rowOf(m.Batches, w.passata.ID, "MIX-R", w.warehouse.ID)
					mu.Unlock()
					continue
				}
				mu.Lock()
				if len(open) < 2 { // keep the row that opened the warehouse's stock
					mu.Unlock()
					time.Sleep(time.Millisecond)
					continue
				}
				id := open[len(open)-1]
				open = open[:len(open)-1]
				mu.Unlock()
				calls++
				ta.calls.Add(1)
				if _, err := svc.CorrectEvent(ctx, alice, inventory.CorrectionRequest{EventID: id, Reason: "did_not_occur"}); err != nil {
					ta.refusal(t, "correct", err)
					continue
				}
				corrected.Add(1)
			}
		})
	}
	wg.Wait()
	t.Logf("%d received, %d of them corrected; refused %v", received.Load(), corrected.Load(), ta.refused)
	if received.Load() == 0 || corrected.Load() == 0 {
		t.Fatal("nothing received or corrected")
	}
	if n := ta.timeouts.Load(); n*20 > ta.calls.Load() {
		t.Errorf("%d of %d calls timed out waiting for a lock", n, ta.calls.Load())
	}
	net := quantity.FromUnits(received.Load() - corrected.Load())
	if m := w.balance([16]byte(wh)); m.OnHand != net {
		t.Errorf("warehouse: %+v; want %s on hand (received - corrected)", m, net)
	}
	if m := w.balance(mix); m.InTransit != q("3000")-net || m.Shipped != q("3000") {
		t.Errorf("plant: %+v; want %s still in transit", m, q("3000")-net)
	}
	if l, err := svc.CheckLedger(ctx, wh); err != nil || !l.Balanced() {
		t.Errorf("warehouse ledger: %+v %v", l, err)
	}
	w.ledger(mix)
}
