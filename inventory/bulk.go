package inventory

import (
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/epcis"
	"batchtrack/quantity"
)

// A bulk loader (seed --scale) writes its events with COPY instead of
// through the operations; these give it the operations' own encoding, so
// its documents and projections are the ones the operations store.

// BulkEvent is a stock movement's or status change's event, as the
// operations fill eventRecord.
type BulkEvent struct {
	ID                                     uuid.UUID
	Type                                   string // ObjectEvent or TransformationEvent
	Action, BizStep, Disposition           string // "" for none
	Time                                   time.Time
	ReadPointID, BizLocationID             *uuid.UUID
	Quantities, Inputs, Outputs            []QuantityItem
	Notes, SourceType, Actor               string
	BizTransactions, Sources, Destinations []epcis.Typed
	Yield                                  *float64 // a transformation's, recorded as "bt:yield"
}

// BulkName is what an event's encoding needs of a batch (its product's
// GTIN, lot number and unit) or a location (Code: its GLN).
type BulkName struct{ Code, Lot, Unit string }

// BulkEPC is an event_epcs row; Quantity is "" for none.
type BulkEPC struct {
	Role, Key     string
	Class         bool
	Quantity, UOM string
}

// BulkLink is an event_batches row.
type BulkLink struct {
	BatchID  uuid.UUID
	Role     string
	Quantity quantity.Quantity
	UOM      string
}

// BulkRow is an event encoded for storage: its events row and projection.
type BulkRow struct {
	Event                                  db.InsertEventRowParams
	EPCs                                   []BulkEPC
	BizTransactions, Sources, Destinations []epcis.Typed
	Links                                  []BulkLink
}

// EncodeBulkEvent encodes e as insertEvent would; names resolves the
// batches and locations it names by id.
func EncodeBulkEvent(e BulkEvent, names map[uuid.UUID]BulkName) BulkRow {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	rec := eventRecord{ID: e.ID, EventType: e.Type, Action: opt(e.Action), EventTime: e.Time,
		EventTimezone: timezoneOffset(e.Time), BizStep: opt(e.BizStep), Disposition: opt(e.Disposition),
		ReadPointID: e.ReadPointID, BizLocationID: e.BizLocationID, QuantityList: e.Quantities,
		InputQuantityList: e.Inputs, OutputQuantityList: e.Outputs, Notes: e.Notes, SourceType: e.SourceType,
		Actor: e.Actor, BizTransactions: e.BizTransactions, Sources: e.Sources, Destinations: e.Destinations}
	if e.Yield != nil {
		rec.Extensions = map[string]any{"bt:yield": roundYield(*e.Yield)}
	}
	n := make(map[uuid.UUID]lotName, len(names))
	for id, x := range names {
		n[id] = lotName{code: x.Code, lot: x.Lot, unit: x.Unit}
	}
	r := legacyRow(rec, n)
	out := BulkRow{Event: r.InsertEventRowParams, BizTransactions: r.bizTx, Sources: r.sources, Destinations: r.destinations}
	for _, x := range r.epcs {
		out.EPCs = append(out.EPCs, BulkEPC{Role: x.role, Key: x.key, Class: x.class, Quantity: x.quantity, UOM: x.uom})
	}
	for _, l := range r.links {
		out.Links = append(out.Links, BulkLink{BatchID: l.batchID, Role: l.role, Quantity: l.quantity, UOM: l.uom})
	}
	return out
}

// PartyRef and LocationRef are a movement's source or destination of that
// type, as the operations name them.
func PartyRef(typ, pgln string) epcis.Typed   { return partyRef(typ, pgln) }
func LocationRef(typ, gln string) epcis.Typed { return locationRef(typ, gln) }

// BizTransactionRef is a document number recorded at the location gln.
func BizTransactionRef(typ, number, gln string) epcis.Typed {
	return world{}.references([]BizTransaction{{Type: typ, ID: number}}, gln)[0]
}

// NewEventID is a fresh event row id, as the operations make them.
func NewEventID() uuid.UUID { return newEventUUID() }
