package loadtest

import (
	"fmt"
	"sort"
	"strings"
)

// Ledger row kinds, as the API names them.
const (
	KindConsume     = "consume"
	KindAdjust      = "adjust"
	KindReversal    = "reversal"
	KindReceive     = "receive"
	KindProduce     = "produce"
	KindShip        = "ship"
	KindTransformIn = "transform_in"
	KindDestroy     = "destroy"
	KindMoveOut     = "move_out"
	KindMoveIn      = "move_in"
)

// ledgerDelta is what a row does to the balance (the app's ledger_delta):
// stock leaving is subtracted; arrivals, adjustments and reversals (both
// signed) are added. ok is false for a kind the check does not know.
func ledgerDelta(kind string, q Quantity) (delta Quantity, ok bool) {
	switch kind {
	case KindConsume, KindShip, KindTransformIn, KindDestroy, KindMoveOut:
		return -q, true
	case KindAdjust, KindReversal, KindReceive, KindProduce, KindMoveIn:
		return q, true
	}
	return 0, false
}

// movementKinds are the kinds a stock movement writes, which a run tallies
// besides consume.
var movementKinds = []string{KindReceive, KindProduce, KindShip, KindTransformIn, KindDestroy, KindMoveOut, KindMoveIn}

// MassBalance is GET /api/batches/{id}/balance.
type MassBalance struct {
	Origin      string   `json:"origin"`
	Produced    Quantity `json:"produced"`
	Received    Quantity `json:"received"`
	MovedIn     Quantity `json:"moved_in"`
	Adjusted    Quantity `json:"adjusted"`
	Consumed    Quantity `json:"consumed"`
	Shipped     Quantity `json:"shipped"`
	Transformed Quantity `json:"transformed"`
	Destroyed   Quantity `json:"destroyed"`
	MovedOut    Quantity `json:"moved_out"`
	OnHand      Quantity `json:"on_hand"`
	InTransit   Quantity `json:"in_transit"`
	Entries     int64    `json:"entries"`
	Balanced    bool     `json:"balanced"`
}

// LedgerEntry is one row of GET /api/batches/{id}/consumptions.
type LedgerEntry struct {
	ID                     string    `json:"id"`
	Kind                   string    `json:"kind"`
	Quantity               Quantity  `json:"quantity"` // positive; an adjust carries its sign
	QuantityAvailableAfter *Quantity `json:"quantity_available_after"`
	VersionAfter           int64     `json:"version_after"`
	ReversesKind           *string   `json:"reverses_kind"` // the kind a reversal undoes
}

// BatchLedgerInput is what the check needs for one batch: its balance, its
// ledger, and what the load test itself saw.
type BatchLedgerInput struct {
	BatchID           string
	QuantityProduced  Quantity
	QuantityAvailable Quantity
	Entries           []LedgerEntry
	// SeenConsumed sums the consumes the run got a 200 for.
	SeenConsumed Quantity
	// UncertainConsumed sums the consumes whose outcome the run never
	// learnt (transport errors, timeouts): the server may or may not have
	// applied them, so the ledger may hold up to this much more.
	UncertainConsumed Quantity
	// Moved and UncertainMoved are the same for the movement kinds (ship,
	// transform_in, produce, ...), by kind; nil when the run moved none of
	// this batch's stock, and then those kinds are not compared.
	Moved, UncertainMoved map[string]Quantity
	// Origin and Balance are the batch's origin and its mass balance
	// (GET /api/batches/{id}/balance); Balance nil skips that comparison.
	Origin  string
	Balance *MassBalance
	// ShippedInTransit: every shipment of this batch went to another of our
	// locations and none was received, so all of it is still in transit.
	ShippedInTransit bool
}

// BatchLedgerCheck is the verdict for one batch.
type BatchLedgerCheck struct {
	BatchID           string   `json:"batch_id"`
	QuantityProduced  Quantity `json:"quantity_produced"`
	QuantityAvailable Quantity `json:"quantity_available"`
	LedgerConsumed    Quantity `json:"ledger_consumed"`
	LedgerAdjusted    Quantity `json:"ledger_adjusted"`
	LedgerReversed    Quantity `json:"ledger_reversed"`
	// LedgerMoved sums the rows of the movement kinds, by kind.
	LedgerMoved       map[string]Quantity `json:"ledger_moved,omitempty"`
	Moved             map[string]Quantity `json:"seen_moved,omitempty"`
	MassBalance       *MassBalance        `json:"mass_balance,omitempty"`
	SeenConsumed      Quantity            `json:"seen_consumed"`
	UncertainConsumed Quantity            `json:"uncertain_consumed"`
	Entries           int                 `json:"entries"`
	Pass              bool                `json:"pass"`
	Problems          []string            `json:"problems,omitempty"`
}

// LedgerReport is the suite's final check over every batch it consumed from.
type LedgerReport struct {
	Batches []BatchLedgerCheck `json:"batches"`
	Pass    bool               `json:"pass"`
	Error   string             `json:"error,omitempty"`
}

// CheckBatchLedger verifies that the ledger explains the balance exactly
// (quantity_produced + the sum of every row's ledger_delta = available >= 0),
// that it holds the consumes and movements the run saw succeed, no more and
// no fewer, and that the mass balance agrees with the ledger and adds up.
func CheckBatchLedger(in BatchLedgerInput) BatchLedgerCheck {
	out := BatchLedgerCheck{
		BatchID:           in.BatchID,
		QuantityProduced:  in.QuantityProduced,
		QuantityAvailable: in.QuantityAvailable,
		SeenConsumed:      in.SeenConsumed,
		UncertainConsumed: in.UncertainConsumed,
		Entries:           len(in.Entries),
	}
	problem := func(format string, args ...any) { out.Problems = append(out.Problems, fmt.Sprintf(format, args...)) }

	expected := in.QuantityProduced
	for _, e := range in.Entries {
		delta, ok := ledgerDelta(e.Kind, e.Quantity)
		if !ok {
			problem("entry %s: unknown kind %q", e.ID, e.Kind)
			continue
		}
		expected += delta
		switch e.Kind {
		case KindConsume:
			out.LedgerConsumed += e.Quantity
		case KindAdjust:
			out.LedgerAdjusted += e.Quantity
		case KindReversal:
			out.LedgerReversed += e.Quantity
		default:
			if out.LedgerMoved == nil {
				out.LedgerMoved = map[string]Quantity{}
			}
			out.LedgerMoved[e.Kind] += e.Quantity
		}
		switch {
		case e.Kind == KindAdjust || e.Kind == KindReversal:
			if e.Quantity == 0 {
				problem("entry %s: %s of zero", e.ID, e.Kind)
			}
		case e.Quantity <= 0:
			problem("entry %s: %s quantity %s is not positive", e.ID, e.Kind, e.Quantity)
		}
	}
	if expected != in.QuantityAvailable {
		problem("balance %s but ledger gives %s (produced %s + adjust %s + reversal %s - consume %s, movements %v)",
			in.QuantityAvailable, expected, in.QuantityProduced, out.LedgerAdjusted, out.LedgerReversed, out.LedgerConsumed, out.LedgerMoved)
	}
	if in.QuantityAvailable < 0 {
		problem("negative balance %s", in.QuantityAvailable)
	}
	switch {
	case out.LedgerConsumed < in.SeenConsumed:
		problem("units lost: run saw %s consumed, ledger holds %s", in.SeenConsumed, out.LedgerConsumed)
	case out.LedgerConsumed > in.SeenConsumed+in.UncertainConsumed:
		problem("units doubled: run saw %s consumed (+%s uncertain), ledger holds %s", in.SeenConsumed, in.UncertainConsumed, out.LedgerConsumed)
	}
	if in.Moved != nil {
		out.Moved = in.Moved
		for _, k := range movementKinds {
			got, seen, unsure := out.LedgerMoved[k], in.Moved[k], in.UncertainMoved[k]
			switch {
			case got < seen:
				problem("%s lost: run saw %s, ledger holds %s", k, seen, got)
			case got > seen+unsure:
				problem("%s doubled: run saw %s (+%s uncertain), ledger holds %s", k, seen, unsure, got)
			}
		}
	}
	if in.Balance != nil {
		out.MassBalance = in.Balance
		for _, p := range massBalanceProblems(in) {
			problem("%s", p)
		}
		if shipped := out.LedgerMoved[KindShip]; in.ShippedInTransit && in.Balance.InTransit != shipped {
			problem("%s in transit, but %s shipped to our location and nothing received", in.Balance.InTransit, shipped)
		}
	}
	for _, p := range replayProblems(in) {
		problem("%s", p)
	}
	out.Pass = len(out.Problems) == 0
	return out
}

// replayProblems applies the rows oldest first (by version_after) and
// compares each row's quantity_available_after with the running balance,
// which catches a ledger whose sums happen to agree but whose rows lie.
// Rows without version or balance-after are not replayed.
func replayProblems(in BatchLedgerInput) []string {
	rows := make([]LedgerEntry, 0, len(in.Entries))
	for _, e := range in.Entries {
		if e.VersionAfter <= 0 || e.QuantityAvailableAfter == nil {
			return nil
		}
		rows = append(rows, e)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].VersionAfter < rows[j].VersionAfter })
	var problems []string
	balance := in.QuantityProduced
	for i, e := range rows {
		if i > 0 && e.VersionAfter == rows[i-1].VersionAfter {
			problems = append(problems, fmt.Sprintf("entries %s and %s share version_after %d", rows[i-1].ID, e.ID, e.VersionAfter))
		}
		delta, _ := ledgerDelta(e.Kind, e.Quantity)
		balance += delta
		if *e.QuantityAvailableAfter != balance {
			problems = append(problems, fmt.Sprintf("entry %s (version %d): quantity_available_after %s, replay gives %s", e.ID, e.VersionAfter, *e.QuantityAvailableAfter, balance))
			balance = *e.QuantityAvailableAfter // report each broken row once, not every row after it
		}
		if balance < 0 {
			problems = append(problems, fmt.Sprintf("entry %s: balance below zero (%s)", e.ID, balance))
		}
	}
	if n := len(rows); n > 0 && balance != in.QuantityAvailable {
		problems = append(problems, fmt.Sprintf("newest entry leaves %s, batch shows %s", balance, in.QuantityAvailable))
	}
	return problems
}

// massBalanceProblems compares the app's mass balance with the one the
// ledger gives: the opening quantity counted by the batch's origin, each
// row by its kind, a reversal against the kind it undoes (an adjustment
// when it names none). It must add up and show the batch's balance on hand.
func massBalanceProblems(in BatchLedgerInput) []string {
	got := *in.Balance
	var want MassBalance
	add := func(kind string, delta Quantity) {
		switch kind {
		case KindProduce:
			want.Produced += delta
		case KindReceive:
			want.Received += delta
		case KindMoveIn:
			want.MovedIn += delta
		case KindConsume:
			want.Consumed -= delta
		case KindShip:
			want.Shipped -= delta
		case KindTransformIn:
			want.Transformed -= delta
		case KindDestroy:
			want.Destroyed -= delta
		case KindMoveOut:
			want.MovedOut -= delta
		default:
			want.Adjusted += delta
		}
	}
	switch in.Origin {
	case "received":
		want.Received = in.QuantityProduced
	case "moved":
		want.MovedIn = in.QuantityProduced
	default:
		want.Produced = in.QuantityProduced
	}
	for _, e := range in.Entries {
		delta, ok := ledgerDelta(e.Kind, e.Quantity)
		if !ok {
			continue
		}
		kind := e.Kind
		if kind == KindReversal {
			kind = KindAdjust
			if e.ReversesKind != nil {
				kind = *e.ReversesKind
			}
		}
		add(kind, delta)
	}
	want.OnHand = in.QuantityAvailable
	var problems []string
	for _, f := range []struct {
		name      string
		got, want Quantity
	}{
		{"produced", got.Produced, want.Produced}, {"received", got.Received, want.Received},
		{"moved_in", got.MovedIn, want.MovedIn}, {"adjusted", got.Adjusted, want.Adjusted},
		{"consumed", got.Consumed, want.Consumed}, {"shipped", got.Shipped, want.Shipped},
		{"transformed", got.Transformed, want.Transformed}, {"destroyed", got.Destroyed, want.Destroyed},
		{"moved_out", got.MovedOut, want.MovedOut}, {"on_hand", got.OnHand, want.OnHand},
	} {
		if f.got != f.want {
			problems = append(problems, fmt.Sprintf("mass balance %s %s, the ledger gives %s", f.name, f.got, f.want))
		}
	}
	in_ := got.Produced + got.Received + got.MovedIn + got.Adjusted
	out := got.Consumed + got.Shipped + got.Transformed + got.Destroyed + got.MovedOut
	if !got.Balanced || in_-out != got.OnHand {
		problems = append(problems, fmt.Sprintf("mass balance does not add up: in %s - out %s = %s, on hand %s (balanced %v)",
			in_, out, in_-out, got.OnHand, got.Balanced))
	}
	if got.Entries != int64(len(in.Entries)) {
		problems = append(problems, fmt.Sprintf("mass balance counts %d entries, the ledger lists %d", got.Entries, len(in.Entries)))
	}
	return problems
}

// MovedText is the movement kinds in the ledger, each with what the run
// saw succeed: "ship 12.5 (12.5), transform_in 3 (3)".
func (c BatchLedgerCheck) MovedText() string {
	var parts []string
	for _, k := range movementKinds {
		got, ok1 := c.LedgerMoved[k]
		seen, ok2 := c.Moved[k]
		if ok1 || ok2 {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", k, got, seen))
		}
	}
	return strings.Join(parts, ", ")
}

// MassBalanceText sums up the app's mass balance of the batch.
func (c BatchLedgerCheck) MassBalanceText() string {
	m := c.MassBalance
	if m == nil {
		return ""
	}
	word := "balanced"
	if !m.Balanced {
		word = "NOT balanced"
	}
	return fmt.Sprintf("%s: in %s - out %s = on hand %s, in transit %s", word,
		m.Produced+m.Received+m.MovedIn+m.Adjusted, m.Consumed+m.Shipped+m.Transformed+m.Destroyed+m.MovedOut, m.OnHand, m.InTransit)
}
