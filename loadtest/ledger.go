package loadtest

import (
	"fmt"
	"sort"
)

// Ledger row kinds, as the API names them.
const (
	KindConsume  = "consume"
	KindAdjust   = "adjust"
	KindReversal = "reversal"
)

// LedgerEntry is one row of GET /api/batches/{id}/consumptions.
type LedgerEntry struct {
	ID                     string    `json:"id"`
	Kind                   string    `json:"kind"`
	Quantity               Quantity  `json:"quantity"` // positive; an adjust carries its sign
	QuantityAvailableAfter *Quantity `json:"quantity_available_after"`
	VersionAfter           int64     `json:"version_after"`
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
}

// BatchLedgerCheck is the verdict for one batch.
type BatchLedgerCheck struct {
	BatchID           string   `json:"batch_id"`
	QuantityProduced  Quantity `json:"quantity_produced"`
	QuantityAvailable Quantity `json:"quantity_available"`
	LedgerConsumed    Quantity `json:"ledger_consumed"`
	LedgerAdjusted    Quantity `json:"ledger_adjusted"`
	LedgerReversed    Quantity `json:"ledger_reversed"`
	SeenConsumed      Quantity `json:"seen_consumed"`
	UncertainConsumed Quantity `json:"uncertain_consumed"`
	Entries           int      `json:"entries"`
	Pass              bool     `json:"pass"`
	Problems          []string `json:"problems,omitempty"`
}

// LedgerReport is the suite's final check over every batch it consumed from.
type LedgerReport struct {
	Batches []BatchLedgerCheck `json:"batches"`
	Pass    bool               `json:"pass"`
	Error   string             `json:"error,omitempty"`
}

// CheckBatchLedger verifies that the ledger explains the balance exactly
// (produced + adjustments + reversals - consumptions = available >= 0) and
// that it holds the consumes the run saw succeed, no more and no fewer.
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

	for _, e := range in.Entries {
		switch e.Kind {
		case KindConsume:
			out.LedgerConsumed += e.Quantity
		case KindAdjust:
			out.LedgerAdjusted += e.Quantity
		case KindReversal:
			out.LedgerReversed += e.Quantity
		default:
			problem("entry %s: unknown kind %q", e.ID, e.Kind)
		}
		if e.Kind != KindAdjust && e.Quantity <= 0 {
			problem("entry %s: %s quantity %s is not positive", e.ID, e.Kind, e.Quantity)
		}
	}
	expected := in.QuantityProduced + out.LedgerAdjusted + out.LedgerReversed - out.LedgerConsumed
	if expected != in.QuantityAvailable {
		problem("balance %s but ledger gives %s (produced %s + adjust %s + reversal %s - consume %s)",
			in.QuantityAvailable, expected, in.QuantityProduced, out.LedgerAdjusted, out.LedgerReversed, out.LedgerConsumed)
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
		switch e.Kind {
		case KindConsume:
			balance -= e.Quantity
		case KindAdjust, KindReversal:
			balance += e.Quantity
		}
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
