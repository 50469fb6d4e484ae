package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"batchtrack/inventory"
)

// traceChain is tomatoes and salt (on hold since) made into passata,
// shipped to two customers.
func traceChain(t *testing.T, a *testApp) (tom, pas inventory.Batch) {
	t.Helper()
	w := newStockWorld(a)
	ctx := context.Background()
	tom = w.receive(w.tomatoes, "TOM-TP-1", "100", nil, "approved")
	salt := w.receive(w.salt, "SALT-TP-1", "10", nil, "approved")
	m, err := a.svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:  []inventory.StockItem{{BatchID: tom.ID, Quantity: qty("100")}, {BatchID: salt.ID, Quantity: qty("2")}},
		Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: "PAS-TP-1", Quantity: qty("800")}}, YieldReason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	pas = w.batch(m.Created[0])
	status, held := "approved", "on_hold"
	if _, err := a.svc.UpdateBatch(ctx, inventory.System, pas.ID, inventory.BatchUpdate{QualityStatus: &status, Reason: "lab"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.UpdateBatch(ctx, inventory.System, salt.ID, inventory.BatchUpdate{QualityStatus: &held, Reason: "supplier notice"}, nil); err != nil {
		t.Fatal(err)
	}
	grocer := a.location("Corner Grocer", "retailer")
	w.partner(grocer, "customer")
	for _, to := range []struct {
		id  uuid.UUID
		qty string
	}{{w.shop.ID, "300"}, {grocer.ID, "120"}} {
		if _, err := a.svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: pas.ID, Quantity: qty(to.qty)}},
			ShipToID: to.id}); err != nil {
			t.Fatal(err)
		}
	}
	return tom, pas
}

func TestTracePage(t *testing.T) {
	a := newTestApp(t)
	tom, pas := traceChain(t, a)
	ctx := context.Background()

	tests := []struct {
		name      string
		query     string
		direction string
		depth     int
	}{
		{"both ways", "", inventory.TraceBoth, 0},
		{"down", "?direction=down", inventory.TraceDown, 0},
		{"up one hop", "?direction=up&depth=1", inventory.TraceUp, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := a.svc.Trace(ctx, inventory.TraceRequest{BatchIDs: []uuid.UUID{tom.ID}, Direction: tt.direction, Depth: tt.depth})
			if err != nil {
				t.Fatal(err)
			}
			resp := a.get("/batches/"+tom.ID.String()+"/trace"+tt.query, false)
			wantStatus(t, resp, http.StatusOK)
			_, doc := parseDoc(t, resp)
			svg := testid(doc, "trace-svg")
			if svg.Length() != 1 || svg.AttrOr("role", "") != "group" || svg.Find("title").Length() == 0 ||
				!strings.Contains(svg.AttrOr("aria-label", ""), "edges") {
				t.Fatalf("no accessible svg")
			}
			if got := testid(doc, "trace-node").Length(); got != len(g.Nodes) {
				t.Errorf("%d node cards, want %d", got, len(g.Nodes))
			}
			if got := testid(doc, "trace-edge").Length(); got != len(g.Edges) {
				t.Errorf("%d edges drawn, want %d", got, len(g.Edges))
			}
			if got := testid(doc, "trace-node-row").Length(); got != len(g.Nodes) {
				t.Errorf("%d table rows, want %d", got, len(g.Nodes))
			}
			if got := testid(doc, "trace-edge-row").Length(); got != len(g.Edges) {
				t.Errorf("%d edge rows, want %d", got, len(g.Edges))
			}
			if testid(doc, "trace-truncated").Length() != 0 {
				t.Error("a small trace says it is truncated")
			}
		})
	}

	t.Run("both ways draws the chain", func(t *testing.T) {
		_, doc := parseDoc(t, a.get("/batches/"+tom.ID.String()+"/trace", false))
		pasCard := doc.Find(`[data-testid="trace-node"][data-node="b:` + pas.ID.String() + `"]`)
		if pasCard.Length() != 1 || pasCard.AttrOr("href", "") != "/batches/"+pas.ID.String() ||
			!strings.Contains(pasCard.Text(), "PAS-TP-1") {
			t.Errorf("passata card %q", pasCard.Text())
		}
		labels := testid(doc, "trace-svg").Find(".trace-edge > title").Text()
		if !strings.Contains(labels, "transformation 100 kg → 800") || !strings.Contains(labels, "shipment 120 unit → Corner Grocer Ltd") {
			t.Errorf("edge labels %q", labels)
		}
	})

	for _, q := range []string{"?direction=sideways", "?depth=-1", "?depth=x", "?depth=5000", "?colour=red"} {
		t.Run("bad "+q, func(t *testing.T) {
			resp := a.get("/batches/"+tom.ID.String()+"/trace"+q, false)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			_, doc := parseDoc(t, resp)
			if testid(doc, "form-errors").Length() != 1 || testid(doc, "trace-svg").Length() != 0 {
				t.Error("no inline error")
			}
		})
	}
	t.Run("unknown batch", func(t *testing.T) {
		wantStatus(t, a.get("/batches/"+uuid.NewString()+"/trace", false), http.StatusNotFound)
	})
	t.Run("the lot page links to the trace", func(t *testing.T) {
		doc := a.lotPage(t, pas.ID)
		if got := testid(doc, "trace-link").AttrOr("href", ""); got != "/batches/"+pas.ID.String()+"/trace" {
			t.Errorf("trace link %q", got)
		}
	})
}
