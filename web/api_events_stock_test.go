package web

import (
	"context"
	"strings"
	"testing"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// POST /api/events runs the same event-to-stock mapping as a capture: a
// transformation beyond a lot's balance is 409 naming the lot, our inputs
// without outputs 422, and a shipment with its destination and documents
// takes the stock.
func TestEventsAPIMovesStock(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	lot := a.fixture("487.5")
	resp := a.do("POST", "/api/events", map[string]any{
		"event_type": "TransformationEvent", "biz_step": "commissioning",
		"input_quantity_list":  []map[string]any{{"batch_id": lot.ID, "quantity": 100000}},
		"output_quantity_list": []map[string]any{{"batch_id": lot.ID, "quantity": 1}},
	})
	p := decode[Problem](t, resp)
	if resp.StatusCode != 409 || p.Type != "/problems/insufficient-quantity" || p.BatchID != lot.ID.String() {
		t.Fatalf("beyond the balance: %d %+v", resp.StatusCode, p)
	}
	resp = a.do("POST", "/api/events", map[string]any{
		"event_type":          "TransformationEvent",
		"input_quantity_list": []map[string]any{{"batch_id": lot.ID, "quantity": 10}},
	})
	p = decode[Problem](t, resp)
	if resp.StatusCode != 422 || len(p.Errors) == 0 || !strings.Contains(p.Errors[0].Message, "needs outputs") {
		t.Fatalf("without outputs: %d %+v", resp.StatusCode, p)
	}
	shop, err := a.svc.CreateLocation(ctx, inventory.NewLocation{GLN: validGLN(), Name: "Shop", Type: "retailer"})
	if err != nil {
		t.Fatal(err)
	}
	resp = a.do("POST", "/api/events", map[string]any{
		"event_type": "ObjectEvent", "action": "OBSERVE", "biz_step": "shipping", "disposition": "in_transit",
		"read_point":           lot.LocationGLN,
		"quantity_list":        []map[string]any{{"batch_id": lot.ID, "quantity": "7.5"}},
		"destination_list":     []map[string]any{{"type": "location", "destination": shop.GLN}},
		"source_list":          []map[string]any{{"type": "location", "source": "https://id.gs1.org/414/" + lot.LocationGLN}},
		"biz_transaction_list": []map[string]any{{"type": "desadv", "biz_transaction": "urn:epcglobal:cbv:bt:" + lot.LocationGLN + ":DA-1"}},
	})
	if resp.StatusCode != 201 {
		t.Fatalf("shipment: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if l := a.checkLedger(lot); l.QuantityAvailable != quantity.MustParse("480") {
		t.Errorf("after the shipment: %s on hand", l.QuantityAvailable)
	}
}
