package views

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

func traceGraphOf(direction string, nodes []inventory.TraceNode, edges ...[2]string) inventory.TraceGraph {
	g := inventory.TraceGraph{Roots: []string{"root"}, Direction: direction, Nodes: nodes}
	for _, e := range edges {
		g.Edges = append(g.Edges, inventory.TraceEdge{From: e[0], To: e[1], Kind: inventory.EdgeTransformation})
	}
	return g
}

func lotNodes(ids ...string) []inventory.TraceNode {
	var ns []inventory.TraceNode
	for _, id := range ids {
		ns = append(ns, inventory.TraceNode{ID: id, Kind: inventory.NodeLot, Lot: id})
	}
	return ns
}

func TestLayoutTraceColumns(t *testing.T) {
	tests := []struct {
		name string
		g    inventory.TraceGraph
		want map[string]int
	}{
		{"both ways", traceGraphOf(inventory.TraceBoth, lotNodes("root", "farm", "seed", "case", "shop"),
			[2]string{"farm", "root"}, [2]string{"seed", "farm"}, [2]string{"root", "case"}, [2]string{"case", "shop"}),
			map[string]int{"seed": -2, "farm": -1, "root": 0, "case": 1, "shop": 2}},
		{"diamond takes the shortest way", traceGraphOf(inventory.TraceDown, lotNodes("root", "a", "b"),
			[2]string{"root", "a"}, [2]string{"a", "b"}, [2]string{"root", "b"}),
			map[string]int{"root": 0, "a": 1, "b": 1}},
		{"cycle ends", traceGraphOf(inventory.TraceDown, lotNodes("root", "a"),
			[2]string{"root", "a"}, [2]string{"a", "root"}),
			map[string]int{"root": 0, "a": 1}},
		{"a partner of a downstream lot sits left of it", traceGraphOf(inventory.TraceBoth, lotNodes("root", "a", "partner"),
			[2]string{"root", "a"}, [2]string{"partner", "a"}),
			map[string]int{"root": 0, "a": 1, "partner": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := LayoutTrace(tt.g, nil)
			got := map[string]int{}
			for _, c := range l.Cards {
				got[c.Node.ID] = c.Column
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("columns = %v, want %v", got, tt.want)
			}
			checkLayout(t, l, len(tt.g.Nodes), len(tt.g.Edges))
		})
	}
}

// checkLayout asserts every node is drawn once, no two cards overlap, and
// the drawing covers every card.
func checkLayout(t *testing.T, l TraceLayout, nodes, edges int) {
	t.Helper()
	if len(l.Cards) != nodes || len(l.Lines) != edges {
		t.Fatalf("%d cards and %d lines, want %d and %d", len(l.Cards), len(l.Lines), nodes, edges)
	}
	for i, a := range l.Cards {
		if a.X < 0 || a.Y < 0 || a.X+TraceCardW > l.Width || a.Y+TraceCardH > l.Height {
			t.Errorf("card %s at (%d,%d) outside %dx%d", a.Node.ID, a.X, a.Y, l.Width, l.Height)
		}
		for _, b := range l.Cards[i+1:] {
			if a.X < b.X+TraceCardW && b.X < a.X+TraceCardW && a.Y < b.Y+TraceCardH && b.Y < a.Y+TraceCardH {
				t.Errorf("cards %s and %s overlap", a.Node.ID, b.Node.ID)
			}
		}
	}
	for _, ln := range l.Lines {
		if !strings.HasPrefix(ln.Path, "M") || ln.Label == "" {
			t.Errorf("line %+v", ln)
		}
	}
}

func TestLayoutTrace200Nodes(t *testing.T) {
	// A root made from 20 farm lots, going into 30 products, each shipped to 5 customers.
	ids := []string{"root"}
	var edges [][2]string
	for i := range 20 {
		id := fmt.Sprintf("farm%d", i)
		ids = append(ids, id)
		edges = append(edges, [2]string{id, "root"})
	}
	for i := range 30 {
		p := fmt.Sprintf("product%d", i)
		ids = append(ids, p)
		edges = append(edges, [2]string{"root", p})
		for j := range 5 {
			c := fmt.Sprintf("shop%d-%d", i, j)
			ids = append(ids, c)
			edges = append(edges, [2]string{p, c})
		}
	}
	g := traceGraphOf(inventory.TraceBoth, lotNodes(ids...), edges...)
	if len(g.Nodes) != 201 {
		t.Fatalf("%d nodes", len(g.Nodes))
	}
	l := LayoutTrace(g, nil)
	checkLayout(t, l, len(g.Nodes), len(g.Edges))
	// Each product's shops stay together, in the product's order.
	row := map[string]int{}
	for _, c := range l.Cards {
		row[c.Node.ID] = c.Row
	}
	for i := range 30 {
		for j := range 5 {
			if got, want := row[fmt.Sprintf("shop%d-%d", i, j)]/5, row[fmt.Sprintf("product%d", i)]; got != want {
				t.Fatalf("shop%d-%d in block %d, its product is at row %d", i, j, got, want)
			}
		}
	}
}

func TestEdgeLabel(t *testing.T) {
	q := inventory.TraceEdge{Kind: inventory.EdgeShipment}
	if got := EdgeLabel(q, inventory.TraceNode{PartyName: "Corner Grocer"}, nil); got != "shipment → Corner Grocer" {
		t.Errorf("label = %q", got)
	}
	in, out := quantity.MustParse("50"), quantity.MustParse("400")
	tf := inventory.TraceEdge{From: "b:in", To: "b:out", Kind: inventory.EdgeTransformation, InputQuantity: &in, OutputQuantity: &out}
	if got := EdgeLabel(tf, inventory.TraceNode{}, map[string]string{"b:in": "kg", "b:out": "unit"}); got != "transformation 50 kg → 400 unit" {
		t.Errorf("label = %q", got)
	}
}

func TestTracePageTruncated(t *testing.T) {
	g := traceGraphOf(inventory.TraceDown, lotNodes("root", "a"), [2]string{"root", "a"})
	for _, truncated := range []bool{false, true} {
		g.Truncated = truncated
		var buf strings.Builder
		m := TracePage{BatchID: "x", Errors: FieldErrors{}, Graph: &g, Layout: LayoutTrace(g, nil)}
		if err := TracePageView(Chrome{}, m).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		html := buf.String()
		if got := strings.Contains(html, `data-testid="trace-truncated"`); got != truncated {
			t.Errorf("truncated %v: message shown %v", truncated, got)
		}
		if !strings.Contains(html, ">1 down<") || !strings.Contains(html, ">traced lot<") {
			t.Error("the table does not say which way each lot is")
		}
	}
}

func TestTraceNodeHref(t *testing.T) {
	id := uuid.MustParse("0193a1b2-0000-7000-8000-000000000001")
	tests := []struct {
		node inventory.TraceNode
		want string
	}{
		{inventory.TraceNode{Kind: inventory.NodeLot, BatchID: &id}, "/batches/" + id.String()},
		{inventory.TraceNode{Kind: inventory.NodeExternalLot, GTIN: "09506000134352", Lot: "A/1"},
			"/events?epc_class=" + url.QueryEscape("https://id.gs1.org/01/09506000134352/10/A%2F1")},
		{inventory.TraceNode{Kind: inventory.NodeLocation, LocationGLN: "9506000000001", PartyPGLN: "9506000000018"}, "/parties?q=9506000000018"},
		{inventory.TraceNode{Kind: inventory.NodeLocation, LocationGLN: "9506000000001"}, "/locations?q=9506000000001"},
		{inventory.TraceNode{Kind: inventory.NodeLocation}, ""},
	}
	for _, tt := range tests {
		if got := TraceNodeHref(tt.node); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.node.Kind, got, tt.want)
		}
	}
}
