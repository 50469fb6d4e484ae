package seed_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/db/pgtest"
	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/seed"
)

// The scale data set is what the operations would have written: the
// ledger explains every balance, the trace, FSMA report and EPCIS query
// read it, and the operations carry on from it.
func TestScaleDataReadsLikeOperations(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	svc := inventory.New(db.NewStore(pool), inventory.Options{})
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	res, err := seed.RunScale(ctx, pool, seed.ScaleOptions{Scale: 0.005, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if res.Batches < 450 || res.Events < 10*res.Batches/2 {
		t.Errorf("%d lot rows and %d events at scale 0.005, want about 500 and 5,000", res.Batches, res.Events)
	}
	if _, err := seed.RunScale(ctx, pool, seed.ScaleOptions{Scale: 0.005, Now: now}); !errors.Is(err, seed.ErrNotEmpty) {
		t.Errorf("a second run: %v, want ErrNotEmpty", err)
	}

	var bad int
	if err := pool.QueryRow(ctx, seed.LedgerInvariantSQL).Scan(&bad); err != nil || bad != 0 {
		t.Errorf("ledger invariant: %d batches off, %v", bad, err)
	}
	var ids []uuid.UUID
	rows, err := pool.Query(ctx, `SELECT id FROM batches ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for i := 0; i < len(ids); i += len(ids) / 40 {
		if m, err := svc.Balance(ctx, ids[i]); err != nil || !m.Balanced {
			t.Errorf("batch %s: mass balance %+v, %v", ids[i], m, err)
		}
	}

	deep, err := svc.Trace(ctx, inventory.TraceRequest{BatchIDs: []uuid.UUID{res.Deep.BatchID}, Direction: inventory.TraceDown})
	if err != nil {
		t.Fatal(err)
	}
	deepest := 0
	for _, n := range deep.Nodes {
		if n.Kind == inventory.NodeLot {
			deepest = max(deepest, n.Depth)
		}
	}
	if deepest != seed.DeepLevels {
		t.Errorf("%s traces %d levels down, want %d", seed.DeepLot, deepest, seed.DeepLevels)
	}

	fan, err := svc.Trace(ctx, inventory.TraceRequest{BatchIDs: []uuid.UUID{res.Fan.BatchID}, Direction: inventory.TraceDown})
	if err != nil {
		t.Fatal(err)
	}
	shipments, customers := 0, map[string]bool{}
	for _, e := range fan.Edges {
		if e.Kind == inventory.EdgeShipment {
			shipments++
			customers[e.To] = true
		}
	}
	if shipments < res.FanShipments || res.FanShipments < 500 || len(customers) != res.Customers {
		t.Errorf("%s reaches %d shipments to %d customers, want %d (>= 500) to %d", seed.FanLot, shipments,
			len(customers), res.FanShipments, res.Customers)
	}

	year := now.AddDate(-1, 0, 0)
	rep, err := svc.FSMAReport(ctx, inventory.FSMARequest{ProductID: &res.FSMAProductID, From: year, To: now})
	if err != nil {
		t.Fatal(err)
	}
	ctes := map[string]int{}
	for _, r := range rep.Rows {
		ctes[r.CTE]++
	}
	if len(rep.Rows) == 0 || len(ctes) < 2 {
		t.Errorf("FSMA report of %s: %d rows, CTEs %v", res.FSMAProduct.GTIN, len(rep.Rows), ctes)
	}

	page, err := svc.QueryEvents(ctx, inventory.EventQuery{BizSteps: []string{"shipping"},
		AnyEPCClass: []inventory.KeyMatch{{Key: "01/" + res.Fan.GTIN + "/10/" + res.Fan.Lot}}, PerPage: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) < 500 {
		t.Errorf("EPCIS query: %d shipments of %s, want >= 500", len(page.Events), seed.FanLot)
	}

	// The operations carry on from the bulk rows: versions and balances line up.
	var usable uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT id FROM batches WHERE quality_status = 'approved' AND quantity_available >= 1
		AND expiry_date >= current_date ORDER BY id LIMIT 1`).Scan(&usable); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Consume(ctx, inventory.Actor{Name: "test"}, inventory.ConsumeRequest{BatchID: usable,
		Quantity: quantity.FromUnits(1), Reason: "after the seed"}); err != nil {
		t.Fatalf("consume from %s: %v", usable, err)
	}
	var customer uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT l.id FROM locations l JOIN parties p ON p.id = l.party_id
		WHERE 'customer' = ANY (p.roles) ORDER BY l.gln LIMIT 1`).Scan(&customer); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ship(ctx, inventory.Actor{Name: "test", Source: "import"}, inventory.ShipRequest{
		Items: []inventory.StockItem{{BatchID: usable, Quantity: quantity.FromUnits(1)}}, ShipToID: customer,
		References: []inventory.BizTransaction{{Type: "desadv", ID: "DA-1"}, {Type: "po", ID: "PO-1"}}}); err != nil {
		t.Fatalf("ship from %s: %v", usable, err)
	}
	// An event the operations just wrote and one of the seed's, of the
	// same kind and unit, have the same shape: columns set, document
	// fields, projection rows.
	for _, kind := range []string{"consume", "ship"} {
		var real, bulk string
		if err := pool.QueryRow(ctx, eventShapeSQL+` WHERE e.id = (SELECT event_id FROM consumptions
			WHERE batch_id = $1 AND kind = $2 AND actor = 'test')`, usable, kind).Scan(&real); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(ctx, eventShapeSQL+` WHERE e.id = (SELECT c.event_id FROM consumptions c
			JOIN batches b ON b.id = c.batch_id JOIN batches u ON u.id = $1
			WHERE c.kind = $2 AND c.actor = 'seed' AND b.unit_of_measure = u.unit_of_measure
			  AND c.quantity_available_after > 0 ORDER BY c.id LIMIT 1)`, usable, kind).Scan(&bulk); err != nil {
			t.Fatal(err)
		}
		if real != bulk {
			t.Errorf("a %s event:\n operations %s\n seed       %s", kind, real, bulk)
		}
	}
	if err := pool.QueryRow(ctx, seed.LedgerInvariantSQL).Scan(&bad); err != nil || bad != 0 {
		t.Errorf("ledger invariant after a consume: %d batches off, %v", bad, err)
	}
}

// eventShapeSQL describes an event without its values: type, action, step,
// disposition, which columns are set, the document's fields and the
// projection rows by role and type.
const eventShapeSQL = `
SELECT concat_ws(' | ', e.event_type, e.action, e.biz_step, e.disposition, e.source_type,
    (e.read_point IS NOT NULL)::text, (e.biz_location IS NOT NULL)::text, (e.context IS NOT NULL)::text,
    (e.ilmd IS NOT NULL)::text, jsonb_typeof(e.quantity_list), jsonb_array_length(e.quantity_list),
    (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(e.document) k),
    (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_array_elements(e.document -> 'quantityList') q, jsonb_object_keys(q) k),
    (SELECT string_agg(p.kind || ':' || p.type, ',' ORDER BY p.kind, p.type) FROM event_parties p WHERE p.event_id = e.id),
    (SELECT string_agg(b.type, ',' ORDER BY b.type) FROM event_biz_transactions b WHERE b.event_id = e.id),
    (SELECT string_agg(x.role || ':' || x.is_class || ':' || (x.quantity IS NOT NULL) || ':' || coalesce(x.uom, '-'), ','
                       ORDER BY x.role) FROM event_epcs x WHERE x.event_id = e.id),
    (SELECT string_agg(x.role || ':' || (x.quantity IS NOT NULL) || ':' || x.uom, ',' ORDER BY x.role)
     FROM event_batches x WHERE x.event_id = e.id),
    (SELECT string_agg(c.kind || ':' || (c.reason <> ''), ',' ORDER BY c.kind) FROM consumptions c WHERE c.event_id = e.id))
FROM events e`
