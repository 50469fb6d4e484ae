package loadtest

import (
	"strings"
	"testing"
)

func q(s string) Quantity {
	v, err := ParseQuantity(s)
	if err != nil {
		panic(err)
	}
	return v
}

func qp(s string) *Quantity { v := q(s); return &v }

func TestCheckBatchLedger(t *testing.T) {
	// A healthy ledger, newest first as the API lists it: produced 100,
	// consumed 0.125 + 2.5, adjusted -1, one consume of 2.5 reversed.
	healthy := func() BatchLedgerInput {
		return BatchLedgerInput{
			BatchID: "b1", QuantityProduced: q("100"), QuantityAvailable: q("96.375"),
			Entries: []LedgerEntry{
				{ID: "e5", Kind: KindConsume, Quantity: q("2.5"), QuantityAvailableAfter: qp("96.375"), VersionAfter: 6},
				{ID: "e4", Kind: KindReversal, Quantity: q("2.5"), QuantityAvailableAfter: qp("98.875"), VersionAfter: 5},
				{ID: "e3", Kind: KindConsume, Quantity: q("2.5"), QuantityAvailableAfter: qp("96.375"), VersionAfter: 4},
				{ID: "e2", Kind: KindAdjust, Quantity: q("-1"), QuantityAvailableAfter: qp("98.875"), VersionAfter: 3},
				{ID: "e1", Kind: KindConsume, Quantity: q("0.125"), QuantityAvailableAfter: qp("99.875"), VersionAfter: 2},
			},
			SeenConsumed: q("5.125"),
		}
	}
	tests := []struct {
		name        string
		mutate      func(*BatchLedgerInput)
		wantProblem string // empty: must pass
	}{
		{"healthy", func(*BatchLedgerInput) {}, ""},
		{"no ledger, untouched batch", func(in *BatchLedgerInput) {
			in.Entries, in.QuantityAvailable, in.SeenConsumed = nil, q("100"), 0
		}, ""},
		{"balance off by a thousandth", func(in *BatchLedgerInput) { in.QuantityAvailable = q("96.374") }, "ledger gives 96.375"},
		{"consume missing from the ledger (units lost)", func(in *BatchLedgerInput) {
			in.Entries = in.Entries[1:]
			in.QuantityAvailable = q("98.875")
		}, "units lost"},
		{"consume recorded twice (units doubled)", func(in *BatchLedgerInput) {
			in.Entries = append(in.Entries, LedgerEntry{ID: "e1b", Kind: KindConsume, Quantity: q("0.125")})
			in.QuantityAvailable = q("96.25")
		}, "units doubled"},
		{"extra ledger row explained by an uncertain consume", func(in *BatchLedgerInput) {
			in.Entries = append(in.Entries, LedgerEntry{ID: "e6", Kind: KindConsume, Quantity: q("1"), QuantityAvailableAfter: qp("95.375"), VersionAfter: 7})
			in.QuantityAvailable = q("95.375")
			in.UncertainConsumed = q("1")
		}, ""},
		{"row whose balance-after lies", func(in *BatchLedgerInput) {
			in.Entries[3].QuantityAvailableAfter = qp("99")
			// the sums still agree: only the replay can see this row lies
		}, "quantity_available_after 99"},
		{"negative balance", func(in *BatchLedgerInput) {
			in.Entries = []LedgerEntry{{ID: "x", Kind: KindConsume, Quantity: q("101")}}
			in.QuantityAvailable, in.SeenConsumed = q("-1"), q("101")
		}, "negative balance"},
		{"unknown kind", func(in *BatchLedgerInput) { in.Entries[0].Kind = "refund" }, "unknown kind"},
		{"non-positive consume", func(in *BatchLedgerInput) {
			in.Entries = append(in.Entries, LedgerEntry{ID: "z", Kind: KindConsume, Quantity: 0})
		}, "not positive"},
		{"duplicate version", func(in *BatchLedgerInput) { in.Entries[1].VersionAfter = 6 }, "share version_after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := healthy()
			tt.mutate(&in)
			got := CheckBatchLedger(in)
			if tt.wantProblem == "" {
				if !got.Pass {
					t.Fatalf("healthy ledger failed: %v", got.Problems)
				}
				return
			}
			if got.Pass {
				t.Fatalf("broken ledger passed: %+v", got)
			}
			if !strings.Contains(strings.Join(got.Problems, "\n"), tt.wantProblem) {
				t.Errorf("problems %q, want one mentioning %q", got.Problems, tt.wantProblem)
			}
		})
	}
	got := CheckBatchLedger(healthy())
	if got.LedgerConsumed != q("5.125") || got.LedgerAdjusted != q("-1") || got.LedgerReversed != q("2.5") || got.Entries != 5 {
		t.Errorf("sums: %+v", got)
	}
}

func TestCheckBatchLedgerMovements(t *testing.T) {
	// Produced 10; a transformation added 4; 1 shipped, 2 used as input, 0.5
	// consumed; the shipment corrected (reversal +1 against ship). The mass
	// balance as the app answers it.
	rk := func(s string) *string { return &s }
	healthy := func() BatchLedgerInput {
		return BatchLedgerInput{
			BatchID: "m1", QuantityProduced: q("10"), QuantityAvailable: q("11.5"), Origin: "produced",
			Entries: []LedgerEntry{
				{ID: "r", Kind: KindReversal, Quantity: q("1"), QuantityAvailableAfter: qp("11.5"), VersionAfter: 6, ReversesKind: rk(KindShip)},
				{ID: "c", Kind: KindConsume, Quantity: q("0.5"), QuantityAvailableAfter: qp("10.5"), VersionAfter: 5},
				{ID: "t", Kind: KindTransformIn, Quantity: q("2"), QuantityAvailableAfter: qp("11"), VersionAfter: 4},
				{ID: "s", Kind: KindShip, Quantity: q("1"), QuantityAvailableAfter: qp("13"), VersionAfter: 3},
				{ID: "p", Kind: KindProduce, Quantity: q("4"), QuantityAvailableAfter: qp("14"), VersionAfter: 2},
			},
			SeenConsumed: q("0.5"),
			Moved:        map[string]Quantity{KindProduce: q("4"), KindShip: q("1"), KindTransformIn: q("2")},
			Balance: &MassBalance{Origin: "produced", Produced: q("14"), Consumed: q("0.5"), Shipped: 0, Transformed: q("2"),
				OnHand: q("11.5"), Entries: 5, Balanced: true},
		}
	}
	tests := []struct {
		name        string
		mutate      func(*BatchLedgerInput)
		wantProblem string
	}{
		{"healthy", func(*BatchLedgerInput) {}, ""},
		{"a transformation input missing from the ledger", func(in *BatchLedgerInput) {
			in.Moved[KindTransformIn] = q("3")
		}, "transform_in lost"},
		{"a shipment recorded twice", func(in *BatchLedgerInput) {
			in.Moved[KindShip] = 0
		}, "ship doubled"},
		{"an uncertain shipment explains the row", func(in *BatchLedgerInput) {
			in.Moved[KindShip] = 0
			in.UncertainMoved = map[string]Quantity{KindShip: q("1")}
		}, ""},
		{"mass balance counts the reversal as an adjustment", func(in *BatchLedgerInput) {
			in.Balance.Shipped, in.Balance.Adjusted = q("1"), q("1")
		}, "mass balance shipped 1"},
		{"mass balance says unbalanced", func(in *BatchLedgerInput) { in.Balance.Balanced = false }, "does not add up"},
		{"mass balance on hand differs", func(in *BatchLedgerInput) { in.Balance.OnHand = q("11") }, "on_hand"},
		{"mass balance entries differ", func(in *BatchLedgerInput) { in.Balance.Entries = 4 }, "4 entries"},
		{"a negative reversal is allowed (of a produce)", func(in *BatchLedgerInput) {
			in.Entries = append(in.Entries, LedgerEntry{ID: "r2", Kind: KindReversal, Quantity: q("-4"),
				QuantityAvailableAfter: qp("7.5"), VersionAfter: 7, ReversesKind: rk(KindProduce)})
			in.QuantityAvailable = q("7.5")
			in.Balance.Produced, in.Balance.OnHand, in.Balance.Entries = q("10"), q("7.5"), 6
		}, ""},
		{"a shipment that does not add up", func(in *BatchLedgerInput) { in.QuantityAvailable = q("12.5") }, "ledger gives 11.5"},
		{"shipped to our location, in transit", func(in *BatchLedgerInput) {
			in.ShippedInTransit, in.Balance.InTransit = true, q("1")
		}, ""},
		{"shipped to our location, not in transit", func(in *BatchLedgerInput) {
			in.ShippedInTransit = true
		}, "0 in transit, but 1 shipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := healthy()
			tt.mutate(&in)
			got := CheckBatchLedger(in)
			if tt.wantProblem == "" {
				if !got.Pass {
					t.Fatalf("healthy ledger failed: %v", got.Problems)
				}
				return
			}
			if got.Pass || !strings.Contains(strings.Join(got.Problems, "\n"), tt.wantProblem) {
				t.Errorf("pass %v, problems %q; want one mentioning %q", got.Pass, got.Problems, tt.wantProblem)
			}
		})
	}
}
