package inventory_test

import (
	"context"
	"errors"
	"github.com/google/uuid"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// stockWorld is our plant and warehouse, a supplier's farm and a
// customer's shop, with tomatoes, salt and passata.
type stockWorld struct {
	*world
	warehouse inventory.Location
	farm      inventory.Location
	shop      inventory.Location
	tomatoes  inventory.Product
	salt      inventory.Product
	passata   inventory.Product
}

func newStockWorld(t testing.TB, svc *inventory.Service, pool *pgxpool.Pool) *stockWorld {
	t.Helper()
	w := &stockWorld{world: newWorld(t, svc)}
	ctx := context.Background()
	mk := func(name, typ string) inventory.Location {
		l, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(), Name: name, Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	w.warehouse = mk("Warehouse", "warehouse")
	w.farm = mk("Sunny Farm", "farm")
	w.shop = mk("Corner Shop", "retailer")
	partner(t, pool, w.farm, "supplier")
	partner(t, pool, w.shop, "customer")
	w.tomatoes = w.otherProduct("Tomatoes", "kg")
	w.salt = w.otherProduct("Salt", "kg")
	w.passata = w.otherProduct("Passata 500 g", "unit")
	return w
}

// partner makes l a location of a new partner party with role.
func partner(t testing.TB, pool *pgxpool.Pool, l inventory.Location, role string) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		WITH p AS (INSERT INTO parties (pgln, name, roles) VALUES ($1, $2, ARRAY[$3]) RETURNING id)
		UPDATE locations SET party_id = (SELECT id FROM p) WHERE id = $4`, gln(), l.Name+" Ltd", role, l.ID)
	if err != nil {
		t.Fatal(err)
	}
}

func (w *stockWorld) balance(id any) inventory.MassBalance {
	w.t.Helper()
	var bid = batchID(id)
	m, err := w.svc.Balance(context.Background(), bid)
	if err != nil {
		w.t.Fatal(err)
	}
	if !m.Balanced {
		w.t.Fatalf("mass balance does not add up: %+v", m)
	}
	return m
}

func batchID(v any) [16]byte {
	switch b := v.(type) {
	case inventory.Batch:
		return b.ID
	case [16]byte:
		return b
	case uuid.UUID:
		return b
	}
	panic("batchID")
}

func q(s string) quantity.Quantity { return quantity.MustParse(s) }

func TestStockOperationsMoveStock(t *testing.T) {
	svc, pool := newService(t, 8, 2*time.Second)
	w := newStockWorld(t, svc, pool)
	ctx := context.Background()

	// Receive tomatoes and salt from the farm.
	rec, err := svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.tomatoes.ID, BatchNumber: "TOM-1",
		LocationID: w.location.ID, Quantity: q("50"), ShipFromID: &w.farm.ID,
		References: []inventory.BizTransaction{{Type: "po", ID: "PO-4711"}}})
	if err != nil {
		t.Fatal(err)
	}
	tom := rec.Batches[0]
	if tom.QualityStatus != inventory.StatusPending || tom.QuantityAvailable != q("50") || tom.Origin != "received" || tom.TLCSource != w.farm.GLN {
		t.Fatalf("received lot: %+v", tom)
	}
	// Pending lots cannot be transformed where a release is required.
	saltRec, err := svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.salt.ID,
		LocationID: w.location.ID, Quantity: q("5"), ShipFromID: &w.farm.ID})
	if err != nil {
		t.Fatal(err)
	}
	salt := saltRec.Batches[0]
	_, err = svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:  []inventory.StockItem{{BatchID: tom.ID, Quantity: q("50")}, {BatchID: salt.ID, Quantity: q("1")}},
		Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, Quantity: q("400")}}})
	var nc *inventory.NotConsumableError
	if !errors.As(err, &nc) || nc.Why != inventory.UnusablePending {
		t.Fatalf("transform of pending lots: %v", err)
	}
	for _, b := range []inventory.Batch{tom, salt} {
		if _, err := svc.UpdateBatch(ctx, inventory.System, b.ID, inventory.BatchUpdate{QualityStatus: ptr("approved")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Unreleased stock cannot join a released row.
	var ce *inventory.ConflictError
	if _, err := svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.tomatoes.ID, BatchNumber: "TOM-1",
		LocationID: w.location.ID, Quantity: q("5"), ShipFromID: &w.farm.ID}); !errors.As(err, &ce) || ce.Field != "batch_number" {
		t.Fatalf("pending stock joined an approved row: %v", err)
	}
	// Too much input: 409 naming the lot, nothing changed.
	_, err = svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:  []inventory.StockItem{{BatchID: tom.ID, Quantity: q("100000")}},
		Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, Quantity: q("400")}}})
	var iq *inventory.InsufficientQuantityError
	if !errors.As(err, &iq) || iq.Lot != "TOM-1" {
		t.Fatalf("transform beyond the balance: %v", err)
	}
	tr, err := svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:  []inventory.StockItem{{BatchID: tom.ID, Quantity: q("50")}, {BatchID: salt.ID, Quantity: q("1")}},
		Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: "PAS-1", Quantity: q("400")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.balance(tom); got.Transformed != q("50") || got.OnHand != 0 {
		t.Fatalf("tomatoes after the transformation: %+v", got)
	}
	if got := w.balance(salt); got.Transformed != q("1") || got.OnHand != q("4") {
		t.Fatalf("salt after the transformation: %+v", got)
	}
	var pas inventory.Batch
	for _, b := range tr.Batches {
		if b.BatchNumber == "PAS-1" {
			pas = b
		}
	}
	if pas.QuantityAvailable != q("400") || pas.Origin != "produced" {
		t.Fatalf("passata: %+v", pas)
	}
	if _, err := svc.UpdateBatch(ctx, inventory.System, pas.ID, inventory.BatchUpdate{QualityStatus: ptr("approved")}, nil); err != nil {
		t.Fatal(err)
	}
	// Move some to our warehouse, ship some to the shop.
	if _, err := svc.Move(ctx, inventory.System, inventory.MoveRequest{BatchID: pas.ID, Quantity: q("100"), ToLocationID: w.warehouse.ID}); err != nil {
		t.Fatal(err)
	}
	ship, err := svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: pas.ID, Quantity: q("120")}},
		ShipToID: w.shop.ID, References: []inventory.BizTransaction{{Type: "desadv", ID: "DA-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.balance(pas); got.Produced != q("400") || got.MovedOut != q("100") || got.Shipped != q("120") || got.OnHand != q("180") {
		t.Fatalf("passata at the plant: %+v", got)
	}
	// Ship to our warehouse: in transit until received.
	toWh, err := svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: pas.ID, Quantity: q("30")}}, ShipToID: w.warehouse.ID})
	if err != nil || !toWh.InTransit {
		t.Fatalf("ship to our warehouse: %v %+v", err, toWh)
	}
	if got := w.balance(pas); got.InTransit != q("30") {
		t.Fatalf("in transit: %+v", got)
	}
	if _, err := svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.passata.ID, BatchNumber: "PAS-1",
		LocationID: w.warehouse.ID, Quantity: q("40"), ShipFromID: &w.location.ID}); err == nil {
		t.Fatal("received more than was in transit")
	}
	in, err := svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.passata.ID, BatchNumber: "PAS-1",
		LocationID: w.warehouse.ID, Quantity: q("30"), ShipFromID: &w.location.ID})
	if err != nil {
		t.Fatal(err)
	}
	wh := in.Batches[0]
	if got := w.balance(wh); got.MovedIn != q("130") || got.Received != q("0") || got.OnHand != q("130") {
		t.Fatalf("passata at the warehouse: %+v", got)
	}
	if wh.QualityStatus != inventory.StatusApproved {
		t.Fatalf("a moved lot keeps its release: %s", wh.QualityStatus)
	}
	// The shipment to the shop was wrong: the correction gives the 120 back.
	if _, err := svc.CorrectEvent(ctx, inventory.System, inventory.CorrectionRequest{EventID: ship.EventID, Reason: "did_not_occur"}); err != nil {
		t.Fatal(err)
	}
	if got := w.balance(pas); got.Shipped != q("30") || got.OnHand != q("270") {
		t.Fatalf("after the correction: %+v", got)
	}
	if _, err := svc.CorrectEvent(ctx, inventory.System, inventory.CorrectionRequest{EventID: ship.EventID, Reason: "did_not_occur"}); err == nil {
		t.Fatal("corrected twice")
	}
	// The transformation cannot be undone while its output has moved on.
	if _, err := svc.CorrectEvent(ctx, inventory.System, inventory.CorrectionRequest{EventID: tr.EventID, Reason: "incorrect_data"}); err == nil {
		t.Fatal("reversed a transformation whose output has left")
	}
	w.ledger(pas)
	w.ledger(tom)
	w.ledger(wh)
}

func ptr[T any](v T) *T { return &v }

// A yield outside the output product's expected range needs a reason; the
// yield is kept in the event's document either way.
func TestTransformationYieldRange(t *testing.T) {
	svc, pool := newService(t, 4, 2*time.Second)
	w := newStockWorld(t, svc, pool)
	ctx := context.Background()
	roasted, err := svc.CreateProduct(ctx, inventory.NewProduct{GTIN: gtin(), Name: "Roasted coffee", Unit: "kg",
		YieldMin: ptr(q("0.8")), YieldMax: ptr(q("0.9"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateProduct(ctx, inventory.NewProduct{GTIN: gtin(), Name: "Bad range", YieldMin: ptr(q("0.9")), YieldMax: ptr(q("0.8"))}); err == nil {
		t.Fatal("a range from 0.9 to 0.8 was taken")
	}
	green := w.batch("100")
	transform := func(out, reason string) (inventory.Movement, error) {
		return svc.Transform(ctx, inventory.System, inventory.TransformRequest{YieldReason: reason,
			Inputs:  []inventory.StockItem{{BatchID: green.ID, Quantity: q("10")}},
			Outputs: []inventory.TransformOutput{{ProductID: roasted.ID, Quantity: q(out)}}})
	}
	var ve *inventory.ValidationError
	if _, err := transform("9.5", ""); !errors.As(err, &ve) || ve.Fields[0].Field != "yield_reason" {
		t.Fatalf("yield 0.95 without a reason: %v", err)
	}
	m, err := transform("9.5", "new roaster, lighter profile")
	if err != nil || m.Yield == nil || *m.Yield != 0.95 {
		t.Fatalf("yield 0.95 with a reason: %v %+v", err, m.Yield)
	}
	var doc string
	if err := pool.QueryRow(ctx, `SELECT document->>'bt:yield' || ' ' || (document->>'bt:yieldReason') FROM events WHERE id = $1`, m.EventID).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	if doc != "0.9500 new roaster, lighter profile" {
		t.Errorf("document yield %q", doc)
	}
	if m, err := transform("8.5", ""); err != nil || *m.Yield != 0.85 {
		t.Fatalf("yield 0.85 within the range: %v", err)
	}
	if got := w.balance(green); got.Transformed != q("20") || got.OnHand != q("80") { // the refused one took nothing
		t.Errorf("green coffee: %+v", got)
	}
}
