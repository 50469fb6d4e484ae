package views

import (
	"cmp"
	"fmt"
	"slices"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// Trace graph geometry, in SVG user units.
const (
	TraceCardW  = 200
	TraceCardH  = 78
	traceColGap = 170
	traceRowGap = 22
	traceMargin = 20
)

// TraceCard is a node placed on the trace drawing.
type TraceCard struct {
	Node   inventory.TraceNode
	Column int // signed: upstream < 0 < downstream, roots at 0
	Row    int
	X, Y   int
}

// TraceLine is an edge drawn between two cards.
type TraceLine struct {
	Edge   inventory.TraceEdge
	Path   string
	Label  string // the whole label, for the edge's <title>
	Kind   string // first line: the kind, and where a shipment went
	Qty    string // second line: the quantity
	LabelX int
	LabelY int
}

// TraceLayout is a trace graph laid out in columns, ready to draw.
type TraceLayout struct {
	Cards         []TraceCard
	Lines         []TraceLine
	Width, Height int
}

// LayoutTrace places each node in a column by its signed distance from the
// roots (upstream left, downstream right) and orders each column by the
// mean row of its neighbours in the column before, which removes most
// crossings of a supply chain's mostly tree-shaped graph. units names each
// lot row's unit of measure by node id (inventory's TraceUnits).
func LayoutTrace(g inventory.TraceGraph, units map[string]string) TraceLayout {
	index := make(map[string]int, len(g.Nodes))
	for i, n := range g.Nodes {
		index[n.ID] = i
	}
	out := make([][]int, len(g.Nodes))
	in := make([][]int, len(g.Nodes))
	for _, e := range g.Edges {
		f, ok1 := index[e.From]
		t, ok2 := index[e.To]
		if ok1 && ok2 && f != t {
			out[f] = append(out[f], t)
			in[t] = append(in[t], f)
		}
	}
	col := traceColumns(g, index, out, in)

	byCol := map[int][]int{}
	for i := range g.Nodes {
		byCol[col[i]] = append(byCol[col[i]], i)
	}
	cols := make([]int, 0, len(byCol))
	for c := range byCol {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	row := make([]int, len(g.Nodes))
	for _, c := range cols {
		for r, i := range byCol[c] {
			row[i] = r
		}
	}
	// Two sweeps: outwards from the roots, ordering by neighbours nearer the roots.
	slices.SortFunc(cols, func(a, b int) int { return cmp.Compare(abs(a), abs(b)) })
	for range 2 {
		for _, c := range cols {
			if c == 0 {
				continue
			}
			nearer := in
			if c < 0 {
				nearer = out
			}
			orderColumn(byCol[c], row, func(i int) []int {
				var ns []int
				for _, j := range nearer[i] {
					if col[j] == c-sign(c) {
						ns = append(ns, j)
					}
				}
				return ns
			})
		}
	}

	l := TraceLayout{Cards: make([]TraceCard, len(g.Nodes))}
	minCol, maxRows := 0, 0
	if len(cols) > 0 {
		minCol = slices.Min(cols)
	}
	for _, c := range cols {
		maxRows = max(maxRows, len(byCol[c]))
	}
	for i, n := range g.Nodes {
		l.Cards[i] = TraceCard{Node: n, Column: col[i], Row: row[i],
			X: traceMargin + (col[i]-minCol)*(TraceCardW+traceColGap),
			Y: traceMargin + row[i]*(TraceCardH+traceRowGap)}
	}
	l.Width = 2 * traceMargin
	l.Height = 2 * traceMargin
	if len(cols) > 0 {
		l.Width += (slices.Max(cols)-minCol+1)*(TraceCardW+traceColGap) - traceColGap
		l.Height += maxRows*(TraceCardH+traceRowGap) - traceRowGap
	}
	for _, e := range g.Edges {
		f, ok1 := index[e.From]
		t, ok2 := index[e.To]
		if !ok1 || !ok2 {
			continue
		}
		a, b := l.Cards[f], l.Cards[t]
		x1, y1 := a.X+TraceCardW, a.Y+TraceCardH/2
		x2, y2 := b.X, b.Y+TraceCardH/2
		if b.Column <= a.Column { // same column or backwards: loop round the right side
			x2 = b.X + TraceCardW
		}
		dx := max(abs(x2-x1)/2, 40)
		c2 := x2 - dx
		if b.Column <= a.Column {
			c2 = x2 + dx
		}
		ln := TraceLine{Edge: e, Label: EdgeLabel(e, g.Nodes[t], units), Kind: edgeHead(e, g.Nodes[t]), Qty: EdgeQuantity(e, units),
			Path:   fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, x1+dx, y1, c2, y2, x2, y2),
			LabelX: (x1 + x2) / 2, LabelY: (y1+y2)/2 - 4}
		l.Lines = append(l.Lines, ln)
	}
	return l
}

// traceColumns walks downstream and upstream from the roots; nodes the
// walks do not reach (a partner that sent a downstream lot) sit next to
// a placed neighbour.
func traceColumns(g inventory.TraceGraph, index map[string]int, out, in [][]int) []int {
	const unset = 1 << 30
	col := make([]int, len(g.Nodes))
	for i := range col {
		col[i] = unset
	}
	var roots []int
	for _, r := range g.Roots {
		if i, ok := index[r]; ok {
			col[i] = 0
			roots = append(roots, i)
		}
	}
	walk := func(next [][]int, step int) {
		frontier := slices.Clone(roots)
		for d := step; len(frontier) > 0; d += step {
			var nf []int
			for _, i := range frontier {
				for _, j := range next[i] {
					if col[j] == unset {
						col[j] = d
						nf = append(nf, j)
					}
				}
			}
			frontier = nf
		}
	}
	if g.Direction != inventory.TraceUp {
		walk(out, 1)
	}
	if g.Direction != inventory.TraceDown {
		walk(in, -1)
	}
	for changed := true; changed; {
		changed = false
		for i := range col {
			if col[i] != unset {
				continue
			}
			for _, j := range out[i] {
				if col[j] != unset {
					col[i], changed = col[j]-1, true
					break
				}
			}
			if col[i] != unset {
				continue
			}
			for _, j := range in[i] {
				if col[j] != unset {
					col[i], changed = col[j]+1, true
					break
				}
			}
		}
	}
	for i := range col {
		if col[i] == unset {
			col[i] = g.Nodes[i].Depth
			if g.Direction == inventory.TraceUp {
				col[i] = -col[i]
			}
		}
	}
	return col
}

// orderColumn sorts a column by the mean row of each node's neighbours,
// keeping nodes without neighbours where they were, and renumbers rows.
func orderColumn(nodes []int, row []int, neighbours func(int) []int) {
	key := make(map[int]float64, len(nodes))
	for _, i := range nodes {
		ns := neighbours(i)
		if len(ns) == 0 {
			key[i] = float64(row[i])
			continue
		}
		sum := 0
		for _, j := range ns {
			sum += row[j]
		}
		key[i] = float64(sum) / float64(len(ns))
	}
	slices.SortStableFunc(nodes, func(a, b int) int { return cmp.Compare(key[a], key[b]) })
	for r, i := range nodes {
		row[i] = r
	}
}

// EdgeLabel is an edge's kind and quantity, and the partner a shipment
// went to.
func EdgeLabel(e inventory.TraceEdge, to inventory.TraceNode, units map[string]string) string {
	s := e.Kind
	if q := EdgeQuantity(e, units); q != "" {
		s += " " + q
	}
	return s + shippedTo(e, to)
}

// edgeHead is the label's first line on the drawing: the kind and, for a
// shipment, the partner.
func edgeHead(e inventory.TraceEdge, to inventory.TraceNode) string {
	return e.Kind + shippedTo(e, to)
}

func shippedTo(e inventory.TraceEdge, to inventory.TraceNode) string {
	if e.Kind == inventory.EdgeShipment {
		if name := cmp.Or(to.PartyName, to.LocationName); name != "" {
			return " → " + name
		}
	}
	return ""
}

// EdgeQuantity is what an edge moved, in the unit of the lot row it left
// (or, for a receipt, reached); a transformation's input and output.
func EdgeQuantity(e inventory.TraceEdge, units map[string]string) string {
	in, out := units[e.From], units[e.To]
	lot := in
	if e.Kind == inventory.EdgeReceipt {
		lot = out
	}
	switch {
	case e.InputQuantity != nil && e.OutputQuantity != nil:
		return withUnit(*e.InputQuantity, in) + " → " + withUnit(*e.OutputQuantity, out)
	case e.Quantity != nil:
		return withUnit(*e.Quantity, lot)
	case e.OutputQuantity != nil:
		return withUnit(*e.OutputQuantity, out)
	case e.InputQuantity != nil:
		return withUnit(*e.InputQuantity, in)
	}
	return ""
}

// withUnit writes a quantity with its unit, or bare when the unit is unknown.
func withUnit(q quantity.Quantity, uom string) string {
	if uom == "" {
		return q.String()
	}
	return fmtQty(q, uom)
}

func sign(n int) int {
	if n < 0 {
		return -1
	}
	return 1
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
