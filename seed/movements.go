package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// movements runs the demo's supply chain through the stock operations, so
// every balance, ledger row and EPCIS event is what staff would have made:
// suppliers' lots received at the plant and released, coffee roasted and
// ground and salad mixed there, stock moved to the distribution centre and
// shipped to customers (once to our own distributor, in transit and then
// received), a lot put on hold, a shipment recorded in error and
// corrected, and a mock recall. It returns how many events it recorded.
func movements(ctx context.Context, svc *inventory.Service, actor inventory.Actor, now time.Time,
	prods []inventory.Product, sites, partnerSites []inventory.Location) (int, error) {
	product := func(ref string) inventory.Product {
		for i, spec := range products {
			if spec.ref == ref {
				return prods[i]
			}
		}
		panic("seed: no product " + ref)
	}
	plant, dc, distributor := sites[0], sites[1], sites[2]
	andina, pajaro := partnerSites[0], partnerSites[1]
	cornerGrocer, pacificFresh, harvestTable := partnerSites[3], partnerSites[4], partnerSites[5]
	q := quantity.MustParse
	at := func(daysAgo, hour int) *time.Time {
		t := time.Date(now.Year(), now.Month(), now.Day(), hour, 0, 0, 0, time.UTC).AddDate(0, 0, -daysAgo)
		return &t
	}
	events := 0
	var err error
	step := func(what string) func(inventory.Movement, error) inventory.Movement {
		return func(m inventory.Movement, e error) inventory.Movement {
			if err == nil && e != nil {
				err = fmt.Errorf("%s: %w", what, e)
			}
			if e == nil {
				events++
			}
			return m
		}
	}
	release := func(b inventory.Batch) {
		if err != nil {
			return
		}
		approved := string(inventory.StatusApproved)
		if _, e := svc.UpdateBatch(ctx, actor, b.ID, inventory.BatchUpdate{QualityStatus: &approved, Reason: "QA release"}, nil); e != nil {
			err = fmt.Errorf("release %s: %w", b.BatchNumber, e)
		}
		events++
	}
	expiry := func(days int) *time.Time { t := now.AddDate(0, 0, days); return &t }

	// Receipts at the plant, with the suppliers' lot codes and documents.
	green := step("receive green coffee")(svc.Receive(ctx, actor, inventory.ReceiveRequest{
		ProductID: product("10001").ID, BatchNumber: "CA-2611-07", LocationID: plant.ID, Quantity: q("1500"),
		ShipFromID: &andina.ID, ExpiryDate: expiry(300), EventTime: at(20, 9),
		References: []inventory.BizTransaction{{Type: "po", ID: "PO-26-0412"}, {Type: "bol", ID: "MAEU-88120"}}}))
	lettuce := step("receive lettuce")(svc.Receive(ctx, actor, inventory.ReceiveRequest{
		ProductID: product("30001").ID, BatchNumber: "PV-R3-1128", LocationID: plant.ID, Quantity: q("400"),
		ShipFromID: &pajaro.ID, ExpiryDate: expiry(6), EventTime: at(6, 6),
		References: []inventory.BizTransaction{{Type: "po", ID: "PO-26-0431"}, {Type: "desadv", ID: "PV-DA-5521"}}}))
	spinach := step("receive spinach")(svc.Receive(ctx, actor, inventory.ReceiveRequest{
		ProductID: product("30002").ID, BatchNumber: "PV-R3-1129", LocationID: plant.ID, Quantity: q("250"),
		ShipFromID: &pajaro.ID, ExpiryDate: expiry(5), EventTime: at(6, 6),
		References: []inventory.BizTransaction{{Type: "po", ID: "PO-26-0431"}, {Type: "desadv", ID: "PV-DA-5521"}}}))
	lettuce2 := step("receive lettuce")(svc.Receive(ctx, actor, inventory.ReceiveRequest{
		ProductID: product("30001").ID, BatchNumber: "PV-R3-1201", LocationID: plant.ID, Quantity: q("380"),
		ShipFromID: &pajaro.ID, ExpiryDate: expiry(8), EventTime: at(1, 6),
		References: []inventory.BizTransaction{{Type: "po", ID: "PO-26-0440"}}}))
	if err != nil {
		return events, err
	}
	for _, m := range []inventory.Movement{green, lettuce, spinach} {
		release(m.Batches[0])
	}

	// Production at the plant.
	roasted := step("roast")(svc.Transform(ctx, actor, inventory.TransformRequest{
		Inputs:    []inventory.StockItem{{BatchID: green.Batches[0].ID, Quantity: q("600")}},
		Outputs:   []inventory.TransformOutput{{ProductID: product("10002").ID, BatchNumber: "RST-2611-01", Quantity: q("510"), ExpiryDate: expiry(170)}},
		EventTime: at(15, 10), Notes: "Roasting, medium profile"}))
	if err != nil {
		return events, err
	}
	roastedLot := outputOf(roasted)
	release(roastedLot)
	ground := step("grind")(svc.Transform(ctx, actor, inventory.TransformRequest{
		Inputs:    []inventory.StockItem{{BatchID: roastedLot.ID, Quantity: q("250")}},
		Outputs:   []inventory.TransformOutput{{ProductID: product("10003").ID, BatchNumber: "GRD-2611-01", Quantity: q("1000"), ExpiryDate: expiry(140)}},
		EventTime: at(14, 8), Notes: "Grinding and packing 250 g bags"}))
	salad := step("mix salad")(svc.Transform(ctx, actor, inventory.TransformRequest{
		Inputs: []inventory.StockItem{{BatchID: lettuce.Batches[0].ID, Quantity: q("120")},
			{BatchID: spinach.Batches[0].ID, Quantity: q("80")}},
		Outputs:   []inventory.TransformOutput{{ProductID: product("30003").ID, BatchNumber: "SLD-1202-A", Quantity: q("1200"), ExpiryDate: expiry(5)}},
		EventTime: at(5, 7), Notes: "Washing, cutting and bagging salad mix"}))
	if err != nil {
		return events, err
	}
	groundLot, saladLot := outputOf(ground), outputOf(salad)
	release(groundLot)
	release(saladLot)

	// To the distribution centre, and out to customers.
	step("move ground coffee")(svc.Move(ctx, actor, inventory.MoveRequest{BatchID: groundLot.ID, Quantity: q("400"),
		ToLocationID: dc.ID, EventTime: at(13, 9), Notes: "Replenishing the distribution centre"}))
	if err != nil {
		return events, err
	}
	lots, e := svc.LotsByNumber(ctx, []string{groundLot.BatchNumber})
	if e != nil {
		return events, e
	}
	var atDC inventory.Lot
	for _, l := range lots[groundLot.BatchNumber] {
		if l.LocationName == dc.Name {
			atDC = l
		}
	}
	step("ship coffee")(svc.Ship(ctx, actor, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: atDC.BatchID, Quantity: q("150")}},
		ShipToID: cornerGrocer.ID, EventTime: at(10, 14), References: []inventory.BizTransaction{{Type: "desadv", ID: "DA-26-1187"}, {Type: "po", ID: "CG-7781"}}}))
	step("ship salad")(svc.Ship(ctx, actor, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: saladLot.ID, Quantity: q("300")}},
		ShipToID: harvestTable.ID, EventTime: at(4, 15), References: []inventory.BizTransaction{{Type: "desadv", ID: "DA-26-1203"}}}))
	step("ship salad")(svc.Ship(ctx, actor, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: saladLot.ID, Quantity: q("200")}},
		ShipToID: pacificFresh.ID, EventTime: at(4, 16), References: []inventory.BizTransaction{{Type: "desadv", ID: "DA-26-1204"}}}))
	wrong := step("ship salad")(svc.Ship(ctx, actor, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: saladLot.ID, Quantity: q("120")}},
		ShipToID: cornerGrocer.ID, EventTime: at(3, 11), References: []inventory.BizTransaction{{Type: "desadv", ID: "DA-26-1209"}}}))
	// Roasted coffee to our own distributor: in transit, then received.
	step("ship to our distributor")(svc.Ship(ctx, actor, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: roastedLot.ID, Quantity: q("100")}},
		ShipToID: distributor.ID, EventTime: at(9, 7), References: []inventory.BizTransaction{{Type: "desadv", ID: "DA-26-1190"}}}))
	step("receive at our distributor")(svc.Receive(ctx, actor, inventory.ReceiveRequest{ProductID: roastedLot.ProductID,
		BatchNumber: roastedLot.BatchNumber, LocationID: distributor.ID, Quantity: q("100"), ShipFromID: &plant.ID, EventTime: at(8, 10),
		References: []inventory.BizTransaction{{Type: "desadv", ID: "DA-26-1190"}}}))
	if err != nil {
		return events, err
	}

	// The shipment to Corner Grocer on day 3 never left: corrected.
	if _, e := svc.CorrectEvent(ctx, actor, inventory.CorrectionRequest{EventID: wrong.EventID, Reason: "did_not_occur",
		Note: "Entered twice; the pallet is still in the cold room"}); e != nil {
		return events, fmt.Errorf("correct the shipment: %w", e)
	}
	// The newest lettuce waits for its lab result.
	onHold := string(inventory.StatusOnHold)
	if _, e := svc.UpdateBatch(ctx, actor, lettuce2.Batches[0].ID, inventory.BatchUpdate{QualityStatus: &onHold,
		Reason: "Awaiting lab result: E. coli O157 sample 26-1201"}, nil); e != nil {
		return events, fmt.Errorf("hold: %w", e)
	}
	// A quarterly drill: a mock recall of the green coffee, which reaches
	// the roast, the ground coffee at two sites and a customer.
	if _, e := svc.MockRecall(ctx, actor, []uuid.UUID{green.Batches[0].ID},
		"Quarterly mock recall drill: supplier lot CA-2611-07"); e != nil {
		return events, fmt.Errorf("mock recall: %w", e)
	}
	return events + 2, nil
}

// outputOf is the lot a one-output transformation made.
func outputOf(m inventory.Movement) inventory.Batch {
	for _, b := range m.Batches {
		if len(m.Created) > 0 && b.ID == m.Created[0] {
			return b
		}
	}
	return m.Batches[len(m.Batches)-1]
}
