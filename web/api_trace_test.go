package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"batchtrack/inventory"
)

func TestTraceAPI(t *testing.T) {
	a := newTestApp(t)
	w := newStockWorld(a)
	ctx := context.Background()
	tom := w.receive(w.tomatoes, "TOM-TR-1", "100", nil, "approved")
	m, err := a.svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:  []inventory.StockItem{{BatchID: tom.ID, Quantity: qty("100")}},
		Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: "PAS/TR%1", Quantity: qty("800")}}, YieldReason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	pas := w.batch(m.Created[0])
	status := "approved"
	if _, err := a.svc.UpdateBatch(ctx, inventory.System, pas.ID, inventory.BatchUpdate{QualityStatus: &status, Reason: "lab"}, nil); err != nil {
		t.Fatal(err)
	}
	ship, err := a.svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: pas.ID, Quantity: qty("300")}},
		ShipToID: w.shop.ID, References: []inventory.BizTransaction{{Type: "desadv", ID: "DN-9"}}})
	if err != nil {
		t.Fatal(err)
	}
	tomNode, pasNode, shopNode := "b:"+tom.ID.String(), "b:"+pas.ID.String(), "l:"+w.shop.GLN
	link := "https://id.gs1.org/01/" + pas.ProductGTIN + "/10/" + url.PathEscape("PAS/TR%1") + "?linkType=gs1:traceability"

	get := func(t *testing.T, path string, want int) traceJSON {
		t.Helper()
		resp := a.do("GET", path, nil)
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, want, readBody(t, resp))
		}
		if want != http.StatusOK {
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("GET %s: Content-Type %q", path, ct)
			}
			return traceJSON{}
		}
		return decode[traceJSON](t, resp)
	}

	t.Run("down from the tomatoes", func(t *testing.T) {
		g := get(t, "/api/batches/"+tom.ID.String()+"/trace?direction=down", http.StatusOK)
		if len(g.Roots) != 1 || g.Roots[0] != tomNode || g.Direction != "down" || g.Depth != 0 || g.Truncated {
			t.Fatalf("header %+v", g)
		}
		kinds := map[string]traceNodeJSON{}
		for _, n := range g.Nodes {
			kinds[n.ID] = n
		}
		if len(g.Nodes) != 3 || kinds[tomNode].Kind != "lot" || kinds[pasNode].Kind != "lot" || kinds[shopNode].Kind != "location" {
			t.Fatalf("nodes %+v", g.Nodes)
		}
		p := kinds[pasNode]
		if p.BatchID == nil || *p.BatchID != pas.ID || p.Lot != "PAS/TR%1" || p.Product != "Passata 500 g" || p.Depth != 1 ||
			p.Location == nil || p.Location.GLN != w.plant.GLN || p.Quantities == nil || p.Quantities.Produced != qty("800") ||
			p.Quantities.Shipped != qty("300") || p.Quantities.OnHand != qty("500") || p.QualityStatus != "approved" ||
			p.UOM != "H87" || p.Unit != "unit" {
			t.Errorf("passata %+v", p)
		}
		if s := kinds[shopNode]; s.Party == nil || s.Party.Name != "Corner Shop Ltd" || s.Location.Name != "Corner Shop" {
			t.Errorf("shop %+v", s)
		}
		if len(g.Edges) != 2 {
			t.Fatalf("edges %+v", g.Edges)
		}
		for _, e := range g.Edges {
			switch e.Kind {
			case "transformation":
				if e.From != tomNode || e.To != pasNode || e.EventID != m.EventID || *e.InputQuantity != qty("100") || *e.OutputQuantity != qty("800") {
					t.Errorf("transformation %+v", e)
				}
			case "shipment":
				if e.From != pasNode || e.To != shopNode || e.EventID != ship.EventID || *e.Quantity != qty("300") ||
					len(e.References) != 1 || e.References[0] != (traceReferenceJSON{"desadv", "DN-9"}) {
					t.Errorf("shipment %+v", e)
				}
			default:
				t.Errorf("edge %+v", e)
			}
		}
	})
	t.Run("up, by lot and by Digital Link", func(t *testing.T) {
		for _, path := range []string{
			"/api/batches/" + pas.ID.String() + "/trace?direction=up&depth=1",
			"/api/trace?gtin=" + pas.ProductGTIN + "&lot=" + url.QueryEscape("PAS/TR%1") + "&direction=up&depth=1",
			"/api/trace?digital_link=" + url.QueryEscape(link) + "&direction=up&depth=1",
			"/api/trace?dl=" + url.QueryEscape(link) + "&direction=up&depth=1", // api.md's name
		} {
			g := get(t, path, http.StatusOK)
			var lots []string
			for _, n := range g.Nodes {
				lots = append(lots, n.ID)
			}
			if len(g.Roots) != 1 || g.Roots[0] != pasNode || len(lots) != 3 || g.Depth != 1 { // passata, tomatoes, farm
				t.Errorf("%s: roots %v nodes %v", path, g.Roots, lots)
			}
			// api.md's names for the root and a lot node's figures.
			if g.Root == nil || *g.Root != pas.ID {
				t.Errorf("%s: root %v", path, g.Root)
			}
			for _, n := range g.Nodes {
				if n.BatchID != nil && (n.BatchNumber != n.Lot || n.ProductName != n.Product || n.QuantityProduced == nil ||
					*n.QuantityAvailable != n.Quantities.OnHand || *n.QuantityShipped != n.Quantities.Shipped) {
					t.Errorf("%s: node %s lacks the contract's fields: %+v", path, n.ID, n)
				}
			}
		}
		if g := get(t, "/api/batches/"+pas.ID.String()+"/trace", http.StatusOK); g.Direction != "both" || len(g.Nodes) != 4 {
			t.Errorf("default both: %s %d nodes", g.Direction, len(g.Nodes))
		}
	})
	t.Run("refused", func(t *testing.T) {
		for path, want := range map[string]int{
			"/api/batches/00000000-0000-0000-0000-000000000001/trace":       http.StatusNotFound,
			"/api/batches/nope/trace":                                       http.StatusUnprocessableEntity,
			"/api/batches/" + tom.ID.String() + "/trace?direction=sideways": http.StatusUnprocessableEntity,
			"/api/batches/" + tom.ID.String() + "/trace?depth=-1":           http.StatusUnprocessableEntity,
			"/api/batches/" + tom.ID.String() + "/trace?depth=two":          http.StatusUnprocessableEntity,
			"/api/batches/" + tom.ID.String() + "/trace?depth=1001":         http.StatusUnprocessableEntity,
			"/api/batches/" + tom.ID.String() + "/trace?dir=up":             http.StatusUnprocessableEntity,
			"/api/trace":                         http.StatusUnprocessableEntity,
			"/api/trace?gtin=123&lot=A":          http.StatusUnprocessableEntity,
			"/api/trace?gtin=" + pas.ProductGTIN: http.StatusUnprocessableEntity,
			"/api/trace?gtin=" + pas.ProductGTIN + "&lot=NO-SUCH-LOT":                       http.StatusNotFound,
			"/api/trace?digital_link=not-a-link":                                            http.StatusUnprocessableEntity,
			"/api/trace?digital_link=https%3A%2F%2Fid.gs1.org%2F414%2F1234567890128":        http.StatusUnprocessableEntity,
			"/api/trace?digital_link=" + url.QueryEscape(link) + "&gtin=" + pas.ProductGTIN: http.StatusUnprocessableEntity,
		} {
			get(t, path, want)
		}
	})
}
