package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// recallChain is tomatoes received from the farm, made into passata with
// salt, the passata moved to the warehouse and shipped to two customers
// from there and one from the plant; an unrelated lot of tomatoes besides.
type recallChain struct {
	*stockWorld
	tom, saltLot, pas, pasWH, other inventory.Batch
	shop2                           inventory.Location
}

func newRecallChain(t *testing.T, svc *inventory.Service, pool *pgxpool.Pool) *recallChain {
	t.Helper()
	ctx := context.Background()
	c := &recallChain{stockWorld: newStockWorld(t, svc, pool)}
	l, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(), Name: "Second Shop", Type: "retailer"})
	if err != nil {
		t.Fatal(err)
	}
	partner(t, pool, l, "customer")
	c.shop2 = l
	rec, err := svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: c.tomatoes.ID, BatchNumber: "TOM-R",
		LocationID: c.location.ID, Quantity: q("60"), ShipFromID: &c.farm.ID})
	if err != nil {
		t.Fatal(err)
	}
	c.tom = rec.Batches[0]
	c.saltLot = c.batch("10", func(nb *inventory.NewBatch) { nb.ProductID = c.salt.ID })
	c.other = c.batch("40", func(nb *inventory.NewBatch) { nb.ProductID = c.tomatoes.ID })
	approve(t, svc, c.tom)
	m := transform(t, svc, []inventory.StockItem{{BatchID: c.tom.ID, Quantity: q("50")}, {BatchID: c.saltLot.ID, Quantity: q("1")}},
		inventory.TransformOutput{ProductID: c.passata.ID, BatchNumber: "PAS-R", Quantity: q("400")})
	c.pas = createdBatch(t, m, 0)
	approve(t, svc, c.pas)
	mv, err := svc.Move(ctx, inventory.System, inventory.MoveRequest{BatchID: c.pas.ID, Quantity: q("300"), ToLocationID: c.warehouse.ID})
	if err != nil {
		t.Fatal(err)
	}
	c.pasWH = createdBatch(t, mv, 0)
	for _, s := range []struct {
		from inventory.Batch
		to   inventory.Location
		qty  string
		ref  string
	}{{c.pasWH, c.shop, "120", "DN-1"}, {c.pasWH, c.shop2, "30", "DN-2"}, {c.pas, c.shop, "20", "DN-3"}} {
		if _, err := svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: s.from.ID, Quantity: q(s.qty)}},
			ShipToID: s.to.ID, References: []inventory.BizTransaction{{Type: "desadv", ID: s.ref}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := svc.Consume(ctx, inventory.System, inventory.ConsumeRequest{BatchID: c.pas.ID, Quantity: q("5"), Reason: "samples"}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRecallImpactAndCase(t *testing.T) {
	svc, pool := newService(t, 8, 2*time.Second)
	c := newRecallChain(t, svc, pool)
	ctx := context.Background()

	mock, err := svc.MockRecall(ctx, inventory.System, []uuid.UUID{c.tom.ID}, "quarterly drill")
	if err != nil {
		t.Fatal(err)
	}
	im := *mock.Impact
	if got, want := lotIDsOf(im.Lots), sortedIDs(c.tom.ID, c.pas.ID, c.pasWH.ID); !slices.Equal(got, want) {
		t.Fatalf("lots reached %v, want %v", got, want)
	}
	// Every lot's figures are its mass balance.
	for _, l := range im.Lots {
		m := c.balance(l.BatchID)
		if l.OnHand != m.OnHand || l.Shipped != m.Shipped || l.Consumed != m.Consumed || l.Transformed != m.Transformed ||
			l.In != m.In() || l.MovedOut != m.MovedOut || !l.Balanced {
			t.Errorf("lot %s %s: impact %+v, mass balance %+v", l.Lot, l.LocationName, l, m)
		}
	}
	if !im.Summary.Balanced || im.Summary.Customers != 2 || im.Summary.Shipments != 3 || im.Summary.Lots != 3 {
		t.Fatalf("summary %+v", im.Summary)
	}
	shipped := map[string]quantity.Quantity{}
	for _, cu := range im.Customers {
		for _, s := range cu.Shipments {
			shipped[cu.Name] += s.Quantity
		}
		if cu.PartyID == nil || cu.PGLN == "" {
			t.Errorf("customer without its party: %+v", cu)
		}
	}
	if shipped["Corner Shop Ltd"] != q("140") || shipped["Second Shop Ltd"] != q("30") {
		t.Fatalf("shipped per customer %v", shipped)
	}
	// On hand to pull: 400-300-20-5 = 75 at the plant, 300-150 = 150 at the warehouse.
	onHand := map[string]quantity.Quantity{}
	for _, at := range im.OnHand {
		for _, s := range at.Stock {
			onHand[at.Name+" "+s.Lot] += s.Quantity
		}
	}
	if want := map[string]quantity.Quantity{c.location.Name + " PAS-R": q("75"), "Warehouse PAS-R": q("150"), c.location.Name + " TOM-R": q("10")}; !mapsEqual(onHand, want) {
		t.Fatalf("on hand %v, want %v", onHand, want)
	}
	// A mock recall changes nothing.
	if b, _ := svc.GetBatch(ctx, c.pas.ID); b.QualityStatus != inventory.StatusApproved {
		t.Fatalf("mock recall changed the status: %s", b.QualityStatus)
	}
	if kept, err := svc.GetMockRecall(ctx, mock.ID); err != nil || kept.Impact.Summary.Lots != 3 || kept.DurationMs <= 0 {
		t.Fatalf("kept mock recall %+v, %v", kept, err)
	}

	var untouched []inventory.Batch
	for _, b := range []inventory.Batch{c.saltLot, c.other} {
		b, _ = svc.GetBatch(ctx, b.ID)
		untouched = append(untouched, b)
	}
	rc, err := svc.OpenRecall(ctx, inventory.Actor{Name: "qa@example.com"}, inventory.RecallRequest{BatchIDs: []uuid.UUID{c.tom.ID},
		Reason: "Salmonella in supplier lot", Classification: "class_i", DecidedBy: "Recall committee"})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Code() == "" || rc.Impact.Summary.Lots != 3 || rc.Status != inventory.RecallOpen {
		t.Fatalf("recall %+v", rc)
	}
	for _, b := range []inventory.Batch{c.tom, c.pas, c.pasWH} {
		got, _ := svc.GetBatch(ctx, b.ID)
		if got.QualityStatus != inventory.StatusRecalled {
			t.Errorf("%s at %s: %s, want recalled", got.BatchNumber, got.LocationName, got.QualityStatus)
		}
	}
	// Upstream and unrelated lots are not touched.
	for _, b := range untouched {
		if got, _ := svc.GetBatch(ctx, b.ID); got.QualityStatus != b.QualityStatus || got.Version != b.Version {
			t.Errorf("%s changed: %s v%d", got.BatchNumber, got.QualityStatus, got.Version)
		}
	}
	// Recalled lots are blocked everywhere.
	_, _, err = svc.Consume(ctx, inventory.System, inventory.ConsumeRequest{BatchID: c.pasWH.ID, Quantity: q("1")})
	var nc *inventory.NotConsumableError
	if !errors.As(err, &nc) {
		t.Fatalf("consume of a recalled lot: %v", err)
	}
	if _, err := svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: c.pas.ID, Quantity: q("1")}},
		ShipToID: c.shop.ID}); err == nil {
		t.Fatal("a recalled lot was shipped")
	}
	// One recall event per location, disposition recalled.
	var events int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT rl.event_id) FROM recall_lots rl JOIN events e ON e.id = rl.event_id
		WHERE rl.recall_id = $1 AND e.disposition = 'recalled' AND e.biz_step = 'holding'`, rc.ID).Scan(&events); err != nil || events != 2 {
		t.Fatalf("recall events: %d, %v", events, err)
	}

	// Recoveries: destroyed at the warehouse, returned by the shop.
	if _, err := svc.RecordRecovery(ctx, inventory.System, rc.ID, inventory.RecoveryRequest{Kind: inventory.RecoveryDestroyed,
		BatchID: c.pasWH.ID, Quantity: q("150"), Note: "incinerated"}); err != nil {
		t.Fatal(err)
	}
	shopParty := partyOf(t, pool, c.shop)
	ret, err := svc.RecordRecovery(ctx, inventory.System, rc.ID, inventory.RecoveryRequest{Kind: inventory.RecoveryReturned,
		BatchID: c.pasWH.ID, PartyID: &shopParty, Quantity: q("100")})
	if err != nil {
		t.Fatal(err)
	}
	if ret.BatchID != c.pasWH.ID || ret.PartyName != "Corner Shop Ltd" {
		t.Fatalf("return %+v", ret)
	}
	if _, err := svc.RecordRecovery(ctx, inventory.System, rc.ID, inventory.RecoveryRequest{Kind: inventory.RecoveryDestroyed,
		BatchID: c.saltLot.ID, Quantity: q("1")}); !isValidation(err) {
		t.Fatalf("recovery of a lot outside the case: %v", err)
	}
	got, err := svc.GetRecall(ctx, rc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Recoveries) != 2 || got.Current == nil || !got.Current.Summary.Balanced {
		t.Fatalf("case %+v", got)
	}
	for _, l := range got.Current.Lots {
		if l.BatchID == c.pasWH.ID && (l.OnHand != q("100") || l.Destroyed != q("150") || l.StatusBefore != inventory.StatusApproved) {
			t.Fatalf("warehouse row now %+v", l)
		}
	}
	if _, err := svc.CloseRecall(ctx, inventory.System, rc.ID, "all stock destroyed or returned"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CloseRecall(ctx, inventory.System, rc.ID, ""); !isStateConflict(err) {
		t.Fatalf("closing twice: %v", err)
	}
	if _, err := svc.RecordRecovery(ctx, inventory.System, rc.ID, inventory.RecoveryRequest{Kind: inventory.RecoveryDestroyed,
		BatchID: c.pasWH.ID, Quantity: q("1")}); !isStateConflict(err) {
		t.Fatalf("recovery on a closed case: %v", err)
	}
}

func TestRecallRefusesBadInput(t *testing.T) {
	svc, pool := newService(t, 4, 2*time.Second)
	c := newRecallChain(t, svc, pool)
	ctx := context.Background()
	ok := inventory.RecallRequest{BatchIDs: []uuid.UUID{c.tom.ID}, Reason: "r", Classification: "class_ii", DecidedBy: "QA"}
	for name, tc := range map[string]func(r *inventory.RecallRequest){
		"no lots":        func(r *inventory.RecallRequest) { r.BatchIDs = nil },
		"no reason":      func(r *inventory.RecallRequest) { r.Reason = "  " },
		"classification": func(r *inventory.RecallRequest) { r.Classification = "class_iv" },
		"decided by":     func(r *inventory.RecallRequest) { r.DecidedBy = strings.Repeat("x", 201) },
		"unknown lot":    func(r *inventory.RecallRequest) { r.BatchIDs = []uuid.UUID{uuid.New()} },
	} {
		r := ok
		tc(&r)
		_, err := svc.OpenRecall(ctx, inventory.System, r)
		var nf *inventory.NotFoundError
		if !isValidation(err) && !errors.As(err, &nf) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if b, _ := svc.GetBatch(ctx, c.tom.ID); b.QualityStatus != inventory.StatusApproved {
		t.Fatalf("a refused recall changed the lot: %s", b.QualityStatus)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM recalls`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("recalls after refusals: %d %v", n, err)
	}
}

// Movements racing a recall either land before it, and are in its report,
// or find the lots recalled and are refused: none lands after.
func TestRecallConcurrentWithMovements(t *testing.T) {
	svc, pool := newService(t, 16, 5*time.Second)
	c := newRecallChain(t, svc, pool)
	ctx := context.Background()

	var wg sync.WaitGroup
	start := make(chan struct{})
	var mu sync.Mutex
	var landed, refused int
	var made []uuid.UUID
	result := func(created []uuid.UUID, err error) {
		mu.Lock()
		defer mu.Unlock()
		var nc *inventory.NotConsumableError
		var cf *inventory.ConflictError
		switch {
		case err == nil:
			landed++
			made = append(made, created...)
		case errors.As(err, &nc), errors.As(err, &cf), errors.Is(err, inventory.ErrLockTimeout):
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < 8; i++ {
				switch (g + i) % 3 {
				case 0:
					_, _, err := svc.Consume(ctx, inventory.System, inventory.ConsumeRequest{BatchID: c.pasWH.ID, Quantity: q("1")})
					result(nil, err)
				case 1:
					m, err := svc.Ship(ctx, inventory.System, inventory.ShipRequest{
						Items: []inventory.StockItem{{BatchID: c.pas.ID, Quantity: q("1")}}, ShipToID: c.shop2.ID})
					result(m.Created, err)
				case 2:
					m, err := svc.Transform(ctx, inventory.System, inventory.TransformRequest{
						Inputs:      []inventory.StockItem{{BatchID: c.pas.ID, Quantity: q("2")}},
						Outputs:     []inventory.TransformOutput{{ProductID: c.passata.ID, BatchNumber: fmt.Sprintf("BOX-%d-%d", g, i), Quantity: q("2")}},
						YieldReason: "repack"})
					result(m.Created, err)
				}
			}
		}()
	}
	close(start)
	time.Sleep(20 * time.Millisecond)
	rc, err := svc.OpenRecall(ctx, inventory.System, inventory.RecallRequest{BatchIDs: []uuid.UUID{c.tom.ID},
		Reason: "race", Classification: "class_i", DecidedBy: "QA"})
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if landed == 0 && refused == 0 {
		t.Fatal("no movement ran")
	}
	// Every lot the landed transformations made is in the recall, recalled.
	inCase := map[uuid.UUID]bool{}
	for _, l := range rc.Impact.Lots {
		inCase[l.BatchID] = true
	}
	for _, id := range made {
		b, _ := svc.GetBatch(ctx, id)
		if !inCase[id] || b.QualityStatus != inventory.StatusRecalled {
			t.Errorf("lot %s made during the recall: in case %v, status %s", b.BatchNumber, inCase[id], b.QualityStatus)
		}
	}
	// Nothing moved after the recall: its report equals the lots now.
	now, err := svc.GetRecall(ctx, rc.ID)
	if err != nil {
		t.Fatal(err)
	}
	snap := map[uuid.UUID]inventory.RecallLot{}
	for _, l := range rc.Impact.Lots {
		snap[l.BatchID] = l
	}
	for _, l := range now.Current.Lots {
		s := snap[l.BatchID]
		if s.OnHand != l.OnHand || s.Shipped != l.Shipped || s.Consumed != l.Consumed || s.Transformed != l.Transformed || !l.Balanced {
			t.Errorf("lot %s at %s moved after the recall: then %+v, now %+v", l.Lot, l.LocationName, s, l)
		}
	}
	t.Logf("%d movements landed before the recall, %d refused; %d lots recalled", landed, refused, len(rc.Impact.Lots))
}

func lotIDsOf(lots []inventory.RecallLot) []uuid.UUID {
	ids := make([]uuid.UUID, len(lots))
	for i, l := range lots {
		ids[i] = l.BatchID
	}
	return sortedIDs(ids...)
}

func sortedIDs(ids ...uuid.UUID) []uuid.UUID {
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return compareStrings(a.String(), b.String()) })
	return ids
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func mapsEqual(a, b map[string]quantity.Quantity) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func partyOf(t *testing.T, pool *pgxpool.Pool, l inventory.Location) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := pool.QueryRow(context.Background(), `SELECT party_id FROM locations WHERE id = $1`, l.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func isValidation(err error) bool {
	var v *inventory.ValidationError
	return errors.As(err, &v)
}

func isStateConflict(err error) bool {
	var c *inventory.StateConflictError
	return errors.As(err, &c)
}
