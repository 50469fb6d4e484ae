package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/db"
	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/inventory"
)

func lotKeyOf(b inventory.Batch) string {
	return "01/" + b.ProductGTIN + "/10/" + gs1.EscapeDigitalLink(b.BatchNumber, false)
}

func node(b inventory.Batch) string { return "b:" + b.ID.String() }

func trace(t *testing.T, svc *inventory.Service, dir string, depth int, roots ...inventory.Batch) inventory.TraceGraph {
	t.Helper()
	var ids []uuid.UUID
	for _, r := range roots {
		ids = append(ids, r.ID)
	}
	g, err := svc.Trace(context.Background(), inventory.TraceRequest{BatchIDs: ids, Direction: dir, Depth: depth})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		if seen[n.ID] {
			t.Fatalf("node %s twice", n.ID)
		}
		seen[n.ID] = true
	}
	for _, e := range g.Edges {
		if !seen[e.From] || !seen[e.To] {
			t.Fatalf("edge %s→%s names a node not in the graph", e.From, e.To)
		}
	}
	return g
}

func nodeIDs(g inventory.TraceGraph, kinds ...string) []string {
	var out []string
	for _, n := range g.Nodes {
		if len(kinds) == 0 || slices.Contains(kinds, n.Kind) {
			out = append(out, n.ID)
		}
	}
	sort.Strings(out)
	return out
}

func edgeSet(g inventory.TraceGraph, kinds ...string) []string {
	var out []string
	for _, e := range g.Edges {
		if len(kinds) == 0 || slices.Contains(kinds, e.Kind) {
			out = append(out, e.Kind+" "+e.From+" "+e.To+" "+e.EventID.String())
		}
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string { sort.Strings(s); return s }

func transform(t *testing.T, svc *inventory.Service, inputs []inventory.StockItem, outputs ...inventory.TransformOutput) inventory.Movement {
	t.Helper()
	m, err := svc.Transform(context.Background(), inventory.System, inventory.TransformRequest{Inputs: inputs, Outputs: outputs,
		YieldReason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func createdBatch(t *testing.T, m inventory.Movement, i int) inventory.Batch {
	t.Helper()
	for _, b := range m.Batches {
		if b.ID == m.Created[i] {
			return b
		}
	}
	t.Fatalf("movement %s: no batch %d created", m.Operation, i)
	return inventory.Batch{}
}

func approve(t *testing.T, svc *inventory.Service, bs ...inventory.Batch) {
	t.Helper()
	for _, b := range bs {
		if _, err := svc.UpdateBatch(context.Background(), inventory.System, b.ID, inventory.BatchUpdate{QualityStatus: ptr("approved")}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// A chain through every kind of edge: receipt from the farm, a
// transformation, a move to the warehouse, a shipment to the shop.
func TestTraceChain(t *testing.T) {
	svc, pool := newService(t, 8, 2*time.Second)
	w := newStockWorld(t, svc, pool)
	ctx := context.Background()
	rec, err := svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.tomatoes.ID, BatchNumber: "TOM-1",
		LocationID: w.location.ID, Quantity: q("50"), ShipFromID: &w.farm.ID,
		References: []inventory.BizTransaction{{Type: "po", ID: "PO-4711"}}})
	if err != nil {
		t.Fatal(err)
	}
	tom := rec.Batches[0]
	salt := w.batch("10", func(nb *inventory.NewBatch) { nb.ProductID = w.salt.ID })
	approve(t, svc, tom)
	m := transform(t, svc, []inventory.StockItem{{BatchID: tom.ID, Quantity: q("50")}, {BatchID: salt.ID, Quantity: q("1")}},
		inventory.TransformOutput{ProductID: w.passata.ID, BatchNumber: "PAS-1", Quantity: q("400")})
	pas := createdBatch(t, m, 0)
	approve(t, svc, pas)
	mv, err := svc.Move(ctx, inventory.System, inventory.MoveRequest{BatchID: pas.ID, Quantity: q("300"), ToLocationID: w.warehouse.ID})
	if err != nil {
		t.Fatal(err)
	}
	pasWH := createdBatch(t, mv, 0)
	ship, err := svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: pasWH.ID, Quantity: q("120")}},
		ShipToID: w.shop.ID, References: []inventory.BizTransaction{{Type: "desadv", ID: "DN-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Stock shipped to another of our locations is a movement, once received.
	transfer, err := svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: pas.ID, Quantity: q("50")}},
		ShipToID: w.warehouse.ID})
	if err != nil {
		t.Fatal(err)
	}
	arrival, err := svc.Receive(ctx, inventory.System, inventory.ReceiveRequest{ProductID: w.passata.ID, BatchNumber: "PAS-1",
		LocationID: w.warehouse.ID, Quantity: q("50"), ShipFromID: &w.location.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !transfer.InTransit || arrival.Batches[0].ID != pasWH.ID {
		t.Fatalf("transfer %+v, arrival in %+v", transfer, arrival.Batches)
	}
	farm, shop := "l:"+w.farm.GLN, "l:"+w.shop.GLN

	down := trace(t, svc, inventory.TraceDown, 0, tom)
	if got, want := nodeIDs(down), sorted(node(tom), node(pas), node(pasWH), shop); !slices.Equal(got, want) {
		t.Fatalf("down nodes\n got %v\nwant %v", got, want)
	}
	if got, want := edgeSet(down), sorted(
		"transformation "+node(tom)+" "+node(pas)+" "+m.EventID.String(),
		"movement "+node(pas)+" "+node(pasWH)+" "+mv.EventID.String(),
		"movement "+node(pas)+" "+node(pasWH)+" "+arrival.EventID.String(),
		"shipment "+node(pasWH)+" "+shop+" "+ship.EventID.String(),
	); !slices.Equal(got, want) {
		t.Fatalf("down edges\n got %v\nwant %v", got, want)
	}
	for _, e := range down.Edges {
		switch e.Kind {
		case inventory.EdgeTransformation:
			if *e.InputQuantity != q("50") || *e.OutputQuantity != q("400") {
				t.Errorf("transformation quantities %v %v", *e.InputQuantity, *e.OutputQuantity)
			}
		case inventory.EdgeShipment:
			if *e.Quantity != q("120") || len(e.References) != 1 || e.References[0].ID != "DN-1" {
				t.Errorf("shipment %+v", e)
			}
		}
	}
	for _, n := range down.Nodes {
		switch n.ID {
		case node(tom):
			if n.Depth != 0 || n.Quantities.Produced != q("50") || n.Quantities.Transformed != q("50") || n.Quantities.OnHand != 0 ||
				n.Product != "Tomatoes" || n.Lot != "TOM-1" || n.GTIN != w.tomatoes.GTIN {
				t.Errorf("tomatoes %+v %+v", n, *n.Quantities)
			}
		case node(pasWH):
			if n.Depth != 2 || n.Quantities.Produced != q("350") || n.Quantities.Shipped != q("120") || n.Quantities.OnHand != q("230") ||
				n.LocationGLN != w.warehouse.GLN {
				t.Errorf("passata at the warehouse %+v %+v", n, *n.Quantities)
			}
		case shop:
			if n.Kind != inventory.NodeLocation || n.LocationName != "Corner Shop" || n.PartyName != "Corner Shop Ltd" {
				t.Errorf("shop %+v", n)
			}
		}
	}

	up := trace(t, svc, inventory.TraceUp, 0, pasWH)
	if got, want := nodeIDs(up, inventory.NodeLot), sorted(node(tom), node(salt), node(pas), node(pasWH)); !slices.Equal(got, want) {
		t.Fatalf("up nodes\n got %v\nwant %v", got, want)
	}
	if got := nodeIDs(up, inventory.NodeLocation); !slices.Equal(got, []string{farm}) {
		t.Fatalf("up locations %v", got)
	}
	for _, e := range up.Edges {
		if e.Kind == inventory.EdgeReceipt && (e.From != farm || e.To != node(tom) || e.EventID != rec.EventID ||
			len(e.References) != 1 || e.References[0].ID != "PO-4711") {
			t.Errorf("receipt %+v", e)
		}
	}
	one := trace(t, svc, inventory.TraceUp, 1, pasWH)
	if got, want := nodeIDs(one, inventory.NodeLot), sorted(node(pas), node(pasWH)); !slices.Equal(got, want) {
		t.Fatalf("up depth 1 %v", got)
	}
	both := trace(t, svc, inventory.TraceBoth, 0, pas)
	if got, want := nodeIDs(both, inventory.NodeLot), sorted(node(tom), node(salt), node(pas), node(pasWH)); !slices.Equal(got, want) {
		t.Fatalf("both %v", got)
	}
	byLot, err := svc.TraceLot(ctx, w.passata.GTIN, "PAS-1", inventory.TraceDown, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(byLot.Roots) != 2 || !slices.Equal(nodeIDs(byLot, inventory.NodeLot), sorted(node(pas), node(pasWH))) {
		t.Fatalf("by lot %+v", byLot)
	}
	if _, err := svc.TraceLot(ctx, w.passata.GTIN, "NOPE", "", 0); !errors.As(err, new(*inventory.NotFoundError)) {
		t.Fatalf("unknown lot: %v", err)
	}
	if _, err := svc.Trace(ctx, inventory.TraceRequest{BatchIDs: []uuid.UUID{tom.ID}, Direction: "sideways"}); !errors.As(err, new(*inventory.ValidationError)) {
		t.Fatalf("bad direction: %v", err)
	}
	if _, err := svc.Trace(ctx, inventory.TraceRequest{BatchIDs: []uuid.UUID{uuid.New()}}); !errors.As(err, new(*inventory.NotFoundError)) {
		t.Fatalf("unknown batch: %v", err)
	}

	// Events declared in error leave the trace, one by one.
	correct := func(id uuid.UUID) {
		t.Helper()
		if _, err := svc.CorrectEvent(ctx, inventory.System, inventory.CorrectionRequest{EventID: id, Reason: "did_not_occur"}); err != nil {
			t.Fatal(err)
		}
	}
	correct(arrival.EventID)
	if got := edgeSet(trace(t, svc, inventory.TraceDown, 0, tom), inventory.EdgeMovement); len(got) != 1 {
		t.Fatalf("movements after the arrival's correction: %v", got)
	}
	correct(transfer.EventID)
	correct(ship.EventID)
	if got := nodeIDs(trace(t, svc, inventory.TraceDown, 0, tom)); !slices.Equal(got, sorted(node(tom), node(pas), node(pasWH))) {
		t.Fatalf("after the shipment's correction: %v", got)
	}
	correct(mv.EventID)
	correct(m.EventID)
	after := trace(t, svc, inventory.TraceBoth, 0, tom)
	if got, want := nodeIDs(after), sorted(node(tom), farm); !slices.Equal(got, want) {
		t.Fatalf("after corrections %v (%v)", got, edgeSet(after))
	}
}

// A diamond (A → B, A → C, B + C → D) has D once and both paths' edges.
func TestTraceDiamondAndFanOut(t *testing.T) {
	svc, _ := newService(t, 8, 2*time.Second)
	w := newWorld(t, svc)
	a := w.batch("1000")
	m1 := transform(t, svc, []inventory.StockItem{{BatchID: a.ID, Quantity: q("10")}},
		inventory.TransformOutput{ProductID: w.product.ID, Quantity: q("5")}, inventory.TransformOutput{ProductID: w.product.ID, Quantity: q("5")})
	b, c := createdBatch(t, m1, 0), createdBatch(t, m1, 1)
	approve(t, svc, b, c)
	m2 := transform(t, svc, []inventory.StockItem{{BatchID: b.ID, Quantity: q("5")}, {BatchID: c.ID, Quantity: q("5")}},
		inventory.TransformOutput{ProductID: w.product.ID, Quantity: q("10")})
	d := createdBatch(t, m2, 0)
	g := trace(t, svc, inventory.TraceDown, 0, a)
	if got, want := nodeIDs(g), sorted(node(a), node(b), node(c), node(d)); !slices.Equal(got, want) {
		t.Fatalf("diamond nodes %v", got)
	}
	if len(edgeSet(g)) != 4 {
		t.Fatalf("diamond edges %v", edgeSet(g))
	}
	for _, n := range g.Nodes {
		if n.ID == node(d) && n.Depth != 2 {
			t.Fatalf("D at depth %d", n.Depth)
		}
	}
	// Fan-out: a shared by 50 more transformations.
	var outs []string
	for range 50 {
		m := transform(t, svc, []inventory.StockItem{{BatchID: a.ID, Quantity: q("1")}},
			inventory.TransformOutput{ProductID: w.product.ID, Quantity: q("1")})
		outs = append(outs, node(createdBatch(t, m, 0)))
	}
	g = trace(t, svc, inventory.TraceDown, 1, a)
	if len(nodeIDs(g)) != 53 || len(g.Edges) != 52 {
		t.Fatalf("fan-out: %d nodes %d edges", len(g.Nodes), len(g.Edges))
	}
	up := trace(t, svc, inventory.TraceUp, 0, d)
	if got, want := nodeIDs(up), sorted(node(a), node(b), node(c), node(d)); !slices.Equal(got, want) {
		t.Fatalf("up from d %v", got)
	}
	// The bound cuts the nearest nodes first and says so.
	cut, err := svc.Trace(context.Background(), inventory.TraceRequest{BatchIDs: []uuid.UUID{a.ID}, Direction: inventory.TraceDown, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !cut.Truncated || len(cut.Nodes) != 10 {
		t.Fatalf("limit: truncated %v, %d nodes", cut.Truncated, len(cut.Nodes))
	}
	_ = outs
}

// Partners' TransformationEvents close a cycle (A → B by us, B → A by a
// partner) and name lots we do not hold.
func TestTraceCycleAndExternalLots(t *testing.T) {
	svc := pendingService(t)
	w := newWorld(t, svc)
	a := w.batch("100", pending)
	m := transform(t, svc, []inventory.StockItem{{BatchID: a.ID, Quantity: q("10")}},
		inventory.TransformOutput{ProductID: w.product.ID, Quantity: q("10")})
	b := createdBatch(t, m, 0)
	ext := "01/09999999999999/10/FOREIGN-1"
	ext2 := "01/09999999999982/10/NOT-HELD"
	ev := captured("urn:uuid:cycle-1", func(e *epcis.Event) { e.Type, e.Action, e.BizStep = "TransformationEvent", "", "commissioning" },
		ids(class(epcis.RoleInput, lotKeyOf(b), "1", "KGM"), class(epcis.RoleInput, ext, "2", "KGM"),
			class(epcis.RoleOutput, lotKeyOf(a), "3", "KGM"), class(epcis.RoleOutput, ext2, "4", "KGM")))
	if res := capture(t, svc, false, ev); res.Stored != 1 {
		t.Fatalf("%+v", res)
	}
	for _, dir := range []string{inventory.TraceUp, inventory.TraceDown, inventory.TraceBoth} {
		g := trace(t, svc, dir, 0, a)
		want := sorted(node(a), node(b), "x:"+ext2)
		if dir != inventory.TraceDown {
			want = sorted(node(a), node(b), "x:"+ext2, "x:"+ext)
		}
		if dir == inventory.TraceUp {
			want = sorted(node(a), node(b), "x:"+ext)
		}
		if got := nodeIDs(g); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v (%v)", dir, got, want, edgeSet(g))
		}
	}
	g := trace(t, svc, inventory.TraceDown, 0, a)
	for _, n := range g.Nodes {
		if n.ID == "x:"+ext2 && (n.Kind != inventory.NodeExternalLot || n.Lot != "NOT-HELD" || n.GTIN != "09999999999982" || n.Quantities != nil) {
			t.Errorf("external lot %+v", n)
		}
	}
}

// Lot numbers with characters a lot key escapes ('/' and '%'): a key that
// names a lot we hold is that lot's row, one we do not hold is an
// external node, and the walk goes on through it.
func TestTraceEscapedLots(t *testing.T) {
	svc := pendingService(t)
	w := newWorld(t, svc)
	a := w.batch("100", pending, func(nb *inventory.NewBatch) { nb.BatchNumber = "P/Q%2" })
	c := w.batch("100", pending, func(nb *inventory.NewBatch) { nb.BatchNumber = "R%3" })
	ext := "01/09999999999999/10/" + gs1.EscapeDigitalLink("A/B%1", false)
	evs := []epcis.Event{
		captured("urn:uuid:escaped-1", func(e *epcis.Event) { e.Type, e.Action, e.BizStep = "TransformationEvent", "", "commissioning" },
			ids(class(epcis.RoleInput, lotKeyOf(a), "1", "KGM"), class(epcis.RoleOutput, ext, "1", "KGM"))),
		captured("urn:uuid:escaped-2", at(time.Minute), func(e *epcis.Event) { e.Type, e.Action, e.BizStep = "TransformationEvent", "", "commissioning" },
			ids(class(epcis.RoleInput, ext, "1", "KGM"), class(epcis.RoleOutput, lotKeyOf(c), "1", "KGM"))),
	}
	if res := capture(t, svc, false, evs...); res.Stored != 2 {
		t.Fatalf("%+v", res)
	}
	tests := []struct {
		dir  string
		root inventory.Batch
		want []string
	}{
		{inventory.TraceDown, a, sorted(node(a), "x:"+ext, node(c))},
		{inventory.TraceUp, c, sorted(node(a), "x:"+ext, node(c))},
		{inventory.TraceDown, c, []string{node(c)}},
	}
	for _, tt := range tests {
		g := trace(t, svc, tt.dir, 0, tt.root)
		if got := nodeIDs(g); !slices.Equal(got, tt.want) {
			t.Errorf("%s from %s: %v, want %v", tt.dir, tt.root.BatchNumber, got, tt.want)
		}
		for _, n := range g.Nodes {
			if n.ID == "x:"+ext && n.Lot != "A/B%1" {
				t.Errorf("external lot %+v", n)
			}
		}
	}
}

// gs1_unescape (migration 00012) undoes gs1_escape, and gives NULL for
// what no escaping makes (bytes that are not UTF-8, NUL, a stray '%').
func TestGS1Unescape(t *testing.T) {
	_, pool := newService(t, 2, 0)
	ctx := context.Background()
	tests := []struct {
		in   string
		want *string
	}{
		{"", ptr("")},
		{"ABC-1", ptr("ABC-1")},
		{"A%2FB%251", ptr("A/B%1")},
		{"%C3%A9t%C3%A9", ptr("été")},
		{"%e2%82%ac", ptr("€")},
		{"%F0%9F%98%80", ptr("😀")},
		{"%FF", nil},
		{"%00", nil},
		{"%C3", nil},
		{"%C0%AF", nil},
		{"%ED%A0%80", nil},
		{"%F4%90%80%80", nil},
		{"50%", nil},
		{"%G1", nil},
	}
	for _, tt := range tests {
		var got *string
		if err := pool.QueryRow(ctx, `SELECT gs1_unescape($1)`, tt.in).Scan(&got); err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
			t.Errorf("gs1_unescape(%q) = %v, want %v", tt.in, deref(got), deref(tt.want))
		}
	}
	for _, s := range []string{"A/B%1", "!\"%&'()*+,./:;<=>?_-", "Zürich ✓", "a b"} {
		var back string
		if err := pool.QueryRow(ctx, `SELECT gs1_unescape(gs1_escape($1))`, s).Scan(&back); err != nil || back != s {
			t.Errorf("round trip of %q: %q, %v", s, back, err)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}

// A captured move of two lots links each lot's rows, not one lot to the
// other: lot X at the plant leads to X at the warehouse only.
func TestTraceMoveOfTwoLots(t *testing.T) {
	w := newEffectWorld(t)
	x := w.stock(w.tomatoes, "MV-X", "10", w.location)
	z := w.stock(w.salt, "MV-Z", "10", w.location)
	// Z at the warehouse already (a move created the row): the captured
	// move adds to it (a move_in row).
	first, err := w.svc.Move(context.Background(), inventory.System, inventory.MoveRequest{BatchID: z.ID, Quantity: q("1"),
		ToLocationID: w.warehouse.ID})
	if err != nil {
		t.Fatal(err)
	}
	zWH := createdBatch(t, first, 0)
	ev := captured("urn:uuid:two-lots", step("OBSERVE", "transporting", ""), readPoint(w.location), from(w.location),
		to(w.warehouse), ids(lotClass("epc", w.tomatoes, "MV-X", "3", "KGM"), lotClass("epc", w.salt, "MV-Z", "4", "KGM")))
	if res := capture(t, w.svc, false, ev); res.Stored != 1 {
		t.Fatalf("%+v", res)
	}
	xWH, _, _ := w.row("MV-X", w.warehouse)
	xWHNode := "b:" + xWH.String()
	tests := []struct {
		dir  string
		root inventory.Batch
		want []string
	}{
		{inventory.TraceDown, x, sorted(node(x), xWHNode)},
		{inventory.TraceDown, z, sorted(node(z), node(zWH))},
		{inventory.TraceUp, zWH, sorted(node(z), node(zWH))},
	}
	for _, tt := range tests {
		if got := nodeIDs(trace(t, w.svc, tt.dir, 0, tt.root), inventory.NodeLot); !slices.Equal(got, tt.want) {
			t.Errorf("%s from %s: %v, want %v", tt.dir, tt.root.BatchNumber, got, tt.want)
		}
	}
	var xUp []inventory.Batch
	for _, n := range trace(t, w.svc, inventory.TraceUp, 0, inventory.Batch{ID: xWH}).Nodes {
		if n.BatchID != nil {
			xUp = append(xUp, inventory.Batch{ID: *n.BatchID})
		}
	}
	if len(xUp) != 2 {
		t.Errorf("up from X at the warehouse (created by the move): %d lot rows, want 2", len(xUp))
	}
}

// pendingService is a site without a QA release: partners' transformations
// may then add to lots we hold.
func pendingService(t *testing.T) *inventory.Service {
	_, pool := newService(t, 8, 2*time.Second)
	return inventory.New(db.NewStore(pool), inventory.Options{AllowPending: true})
}

func pending(nb *inventory.NewBatch) { nb.QualityStatus = "pending" }

// traceEdge is an edge loaded plainly for the brute-force walk.
type traceEdge struct{ from, to, kind, event string }

// bruteForceEdges loads every lot edge with simple queries.
func bruteForceEdges(t *testing.T, pool *pgxpool.Pool) []traceEdge {
	t.Helper()
	ctx := context.Background()
	ours := map[string]bool{}
	rows, err := pool.Query(ctx, `SELECT lot_key(p.gtin, b.batch_number) FROM batches b JOIN products p ON p.id = b.product_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		ours[k] = true
	}
	rows.Close()
	type member struct{ event, role, node string }
	var members []member
	rows, err = pool.Query(ctx, `SELECT eb.event_id::text, eb.role, eb.batch_id::text FROM event_batches eb JOIN events e ON e.id = eb.event_id
		WHERE e.event_type = 'TransformationEvent' AND e.declared_in_error_at IS NULL AND eb.role IN ('input', 'output')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m member
		_ = rows.Scan(&m.event, &m.role, &m.node)
		m.node = "b:" + m.node
		members = append(members, m)
	}
	rows.Close()
	rows, err = pool.Query(ctx, `SELECT ee.event_id::text, ee.role, ee.key FROM event_epcs ee JOIN events e ON e.id = ee.event_id
		WHERE e.event_type = 'TransformationEvent' AND e.declared_in_error_at IS NULL AND ee.role IN ('input', 'output')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m member
		_ = rows.Scan(&m.event, &m.role, &m.node)
		if !ours[m.node] {
			m.node = "x:" + m.node
			members = append(members, m)
		}
	}
	rows.Close()
	var edges []traceEdge
	for _, i := range members {
		for _, o := range members {
			if i.event == o.event && i.role == "input" && o.role == "output" && i.node != o.node {
				edges = append(edges, traceEdge{i.node, o.node, "transformation", i.event})
			}
		}
	}
	// A move: from its move_out row to the rows of the same lot it filled.
	rows, err = pool.Query(ctx, `SELECT DISTINCT c.batch_id::text, d.id::text, c.event_id::text FROM consumptions c
		JOIN events e ON e.id = c.event_id JOIN event_batches eb ON eb.event_id = c.event_id AND eb.batch_id <> c.batch_id
		JOIN batches s ON s.id = c.batch_id
		JOIN batches d ON d.id = eb.batch_id AND d.product_id = s.product_id AND d.batch_number = s.batch_number
		WHERE c.kind = 'move_out' AND e.declared_in_error_at IS NULL
		  AND (d.created_event_id = c.event_id OR EXISTS (SELECT 1 FROM consumptions i
		                                                  WHERE i.event_id = c.event_id AND i.batch_id = d.id AND i.kind = 'move_in'))`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e traceEdge
		_ = rows.Scan(&e.from, &e.to, &e.event)
		e.from, e.to, e.kind = "b:"+e.from, "b:"+e.to, "movement"
		edges = append(edges, e)
	}
	rows.Close()
	return edges
}

// bruteForce walks edges breadth first from roots: node → least depth.
func bruteForce(edges []traceEdge, roots []string, dir string, depth int) map[string]int {
	out := map[string]int{}
	walk := func(down bool) {
		seen := map[string]int{}
		frontier := roots
		for _, r := range roots {
			seen[r] = 0
		}
		for d := 1; len(frontier) > 0 && (depth == 0 || d <= depth); d++ {
			var next []string
			for _, n := range frontier {
				for _, e := range edges {
					from, to := e.from, e.to
					if !down {
						from, to = to, from
					}
					if from == n {
						if _, ok := seen[to]; !ok {
							seen[to] = d
							next = append(next, to)
						}
					}
				}
			}
			frontier = next
		}
		for n, d := range seen {
			if old, ok := out[n]; !ok || d < old {
				out[n] = d
			}
		}
	}
	if dir != inventory.TraceUp {
		walk(true)
	}
	if dir != inventory.TraceDown {
		walk(false)
	}
	return out
}

// On random graphs (cycles, diamonds, external lots, moves) the
// recursive query finds what a plain walk over every edge finds.
func TestTraceMatchesBruteForce(t *testing.T) {
	svc, pool := newService(t, 8, 2*time.Second)
	svc = inventory.New(db.NewStore(pool), inventory.Options{AllowPending: true})
	w := newStockWorld(t, svc, pool)
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(21, 1))
	var lots []inventory.Batch
	for i := range 30 {
		lots = append(lots, w.batch("1000", func(nb *inventory.NewBatch) { nb.BatchNumber = fmt.Sprintf("R-%02d", i) }, pending))
	}
	// Some moves, so lots have rows at two locations.
	for i := 0; i < 30; i += 6 {
		if _, err := svc.Move(ctx, inventory.System, inventory.MoveRequest{BatchID: lots[i].ID, Quantity: q("10"), ToLocationID: w.warehouse.ID}); err != nil {
			t.Fatal(err)
		}
	}
	var evs []epcis.Event
	for i := range 60 {
		var list []epcis.Identifier
		for _, k := range rnd.Perm(len(lots))[:1+rnd.IntN(3)] {
			list = append(list, class(epcis.RoleInput, lotKeyOf(lots[k]), "1", "KGM"))
		}
		for _, k := range rnd.Perm(len(lots))[:1+rnd.IntN(2)] {
			list = append(list, class(epcis.RoleOutput, lotKeyOf(lots[k]), "1", "KGM"))
		}
		if rnd.IntN(6) == 0 {
			list = append(list, class(epcis.RoleOutput, fmt.Sprintf("01/09999999999999/10/X-%d", rnd.IntN(5)), "1", "KGM"))
		}
		if rnd.IntN(8) == 0 {
			list = append(list, class(epcis.RoleInput, fmt.Sprintf("01/09999999999999/10/X-%d", rnd.IntN(5)), "1", "KGM"))
		}
		evs = append(evs, captured(fmt.Sprintf("urn:uuid:random-%d", i), at(time.Duration(i)*time.Minute),
			func(e *epcis.Event) {
				e.Type, e.Action, e.BizStep = "TransformationEvent", "", "commissioning"
				e.ReadPoint = "414/" + w.location.GLN
			}, ids(list...)))
	}
	if res := capture(t, svc, false, evs...); res.Stored != 60 {
		t.Fatalf("%+v", res)
	}
	edges := bruteForceEdges(t, pool)
	kinds := map[string]int{}
	for _, e := range edges {
		kinds[e.kind]++
		if e.from[0] == 'x' || e.to[0] == 'x' {
			kinds["external"]++
		}
	}
	if kinds["movement"] != 5 || kinds["transformation"] < 60 || kinds["external"] == 0 {
		t.Fatalf("random graph: %v", kinds)
	}
	largest := 0
	for trial := range 12 {
		var roots []inventory.Batch
		for range 1 + trial%2 {
			roots = append(roots, lots[rnd.IntN(len(lots))])
		}
		dir := []string{inventory.TraceUp, inventory.TraceDown, inventory.TraceBoth}[trial%3]
		depth := []int{0, 1, 2, 4}[trial%4]
		var rootIDs []string
		for _, r := range roots {
			if !slices.Contains(rootIDs, node(r)) {
				rootIDs = append(rootIDs, node(r))
			}
		}
		want := bruteForce(edges, rootIDs, dir, depth)
		largest = max(largest, len(want))
		g := trace(t, svc, dir, depth, roots...)
		got := map[string]int{}
		for _, n := range g.Nodes {
			if n.Kind != inventory.NodeLocation {
				got[n.ID] = n.Depth
			}
		}
		if len(got) != len(want) {
			t.Errorf("trial %d (%s, depth %d): %d nodes, brute force %d", trial, dir, depth, len(got), len(want))
		}
		for n, d := range want {
			if gd, ok := got[n]; !ok || gd != d {
				t.Errorf("trial %d: node %s at %d (found %v), brute force at %d", trial, n, gd, ok, d)
			}
		}
		var wantEdges []string
		for _, e := range edges {
			if _, ok := want[e.from]; ok {
				if _, ok := want[e.to]; ok {
					wantEdges = append(wantEdges, e.kind+" "+e.from+" "+e.to+" "+e.event)
				}
			}
		}
		sort.Strings(wantEdges)
		wantEdges = slices.Compact(wantEdges)
		gotEdges := slices.Compact(edgeSet(g, inventory.EdgeTransformation, inventory.EdgeMovement))
		if !slices.Equal(gotEdges, wantEdges) {
			t.Errorf("trial %d: %d edges, brute force %d", trial, len(gotEdges), len(wantEdges))
		}
	}
	if largest < 20 {
		t.Errorf("the largest trace had %d nodes: the random graph is too sparse to compare", largest)
	}
}
