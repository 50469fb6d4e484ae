package inventory

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/quantity"
)

// What the staff's stock forms search and show: lots and locations to pick
// from, and the ledger an event wrote with its correction.

// LotQuery searches lots by lot number; zero fields do not filter.
type LotQuery struct {
	Text       string // part of the lot number; a prefix ranks first
	ProductID  *uuid.UUID
	LocationID *uuid.UUID
	UsableOnly bool // lots with stock, neither rejected nor recalled
}

// PickableLot is a lot found by SearchLots with why it may not be usable.
type PickableLot struct {
	Batch
	// Why is "" (Usable) or pending, on_hold, rejected, recalled, expired.
	Why Unusable
}

// SearchLots finds at most 20 lots.
func (s *Service) SearchLots(ctx context.Context, q LotQuery) ([]PickableLot, error) {
	text := strings.TrimSpace(q.Text)
	rows, err := s.store.PickLots(ctx, db.PickLotsParams{Pattern: likePattern(text, true), Prefix: likePattern(text, false) + "%",
		ProductID: q.ProductID, LocationID: q.LocationID, UsableOnly: q.UsableOnly})
	if err != nil {
		return nil, err
	}
	today := s.today()
	out := make([]PickableLot, 0, len(rows))
	for _, r := range rows {
		b := batchFromRow(r.Batch, r.ProductGtin, r.ProductName, r.LocationGln, r.LocationName)
		out = append(out, PickableLot{Batch: b, Why: b.Unusable(today, s.release)})
	}
	return out, nil
}

// PickableLocation is a location with whose it is.
type PickableLocation struct {
	ID        uuid.UUID
	GLN       string
	Name      string
	Ours      bool
	PartyName string // "" for ours without a party
}

// SearchLocations finds at most 20 locations by name, GLN prefix or
// party name; ours nil finds both ours and partners'.
func (s *Service) SearchLocations(ctx context.Context, text string, ours *bool) ([]PickableLocation, error) {
	text = strings.TrimSpace(text)
	rows, err := s.store.PickLocations(ctx, db.PickLocationsParams{Ours: ours, Pattern: likePattern(text, true),
		Prefix: likePattern(text, false) + "%"})
	if err != nil {
		return nil, err
	}
	out := make([]PickableLocation, len(rows))
	for i, r := range rows {
		out[i] = PickableLocation{ID: r.ID, GLN: r.Gln, Name: r.Name, Ours: r.Ours, PartyName: r.PartyName}
	}
	return out, nil
}

// likePattern is text escaped for LIKE, within % on both sides when
// anywhere; "" stays "" (no filter).
func likePattern(text string, anywhere bool) string {
	if text == "" {
		return ""
	}
	e := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text)
	if anywhere {
		return "%" + e + "%"
	}
	return e
}

// LedgerLine is a ledger row an event wrote, or a reversal of one, with
// its lot.
type LedgerLine struct {
	ID           uuid.UUID
	BatchID      uuid.UUID
	BatchNumber  string
	ProductName  string
	LocationName string
	UOM          string
	Kind         string
	Quantity     quantity.Quantity
	After        quantity.Quantity
	Reason       string
	Actor        string
	CreatedAt    time.Time
	ReversesID   *uuid.UUID
	ReversesKind string // the kind a reversal undoes
}

// EventHistory is an event's stock effects and their correction.
type EventHistory struct {
	Ledger []LedgerLine // in the order written; reversals after what they undo
	// Declared is set once the event is declared in error.
	Declared *Declaration
	// Corrects are the events whose error declaration names this one as
	// corrective.
	Corrects []uuid.UUID
}

// Declaration is who declared an event in error, when and why.
type Declaration struct {
	At     time.Time
	Reason string
	Actor  string
}

// EventHistory reads an event's ledger rows and correction.
func (s *Service) EventHistory(ctx context.Context, id uuid.UUID, epcisEventID string) (EventHistory, error) {
	var h EventHistory
	rows, err := s.store.EventLedgerLines(ctx, &id)
	if err != nil {
		return h, err
	}
	for _, r := range rows {
		l := LedgerLine{ID: r.ID, BatchID: r.BatchID, BatchNumber: r.BatchNumber, ProductName: r.ProductName,
			LocationName: r.LocationName, UOM: r.UnitOfMeasure, Kind: r.Kind, Quantity: r.Quantity,
			After: r.QuantityAvailableAfter, Reason: r.Reason, Actor: r.Actor, CreatedAt: r.CreatedAt, ReversesID: r.ReversesID}
		if r.ReversesKind != nil {
			l.ReversesKind = *r.ReversesKind
		}
		h.Ledger = append(h.Ledger, l)
	}
	decl, err := s.store.EventDeclaration(ctx, id)
	if err != nil {
		return h, err
	}
	if len(decl) > 0 {
		h.Declared = &Declaration{At: decl[0].DeclarationTime, Reason: decl[0].Reason, Actor: decl[0].Actor}
	}
	if epcisEventID != "" {
		corrects, err := s.store.EventsCorrectedBy(ctx, epcisEventID)
		if err != nil {
			return h, err
		}
		for _, c := range corrects {
			h.Corrects = append(h.Corrects, c.ID)
		}
	}
	return h, nil
}
