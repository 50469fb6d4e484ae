package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/idempotency"
	"batchtrack/quantity"
)

// QuantityItem is one entry of an EPCIS quantity list: a batch (the EPC
// class of its lot), a quantity and a UN/ECE Rec 20 unit code.
type QuantityItem struct {
	BatchID  uuid.UUID         `json:"batch_id"`
	Quantity quantity.Quantity `json:"quantity"`
	UOM      string            `json:"uom"`
}

// Event is a GS1 EPCIS 2.0 event as stored.
type Event struct {
	ID                 uuid.UUID
	EventID            string // the EPCIS eventID (urn:uuid:{ID} unless the sender gave one)
	EventType          string
	Action             *string
	EventTime          time.Time
	EventTimezone      string
	RecordedAt         time.Time
	BizStep            *string
	Disposition        *string
	ReadPoint          *string // GLN
	BizLocation        *string // GLN
	ReadPointID        *uuid.UUID
	BizLocationID      *uuid.UUID
	EPCList            []string
	QuantityList       []QuantityItem
	InputQuantityList  []QuantityItem
	OutputQuantityList []QuantityItem
	ILMD               json.RawMessage
	Notes              string
	SourceType         string
	Actor              string
	DeclaredInErrorAt  *time.Time // when a later error declaration marked it
}

// BatchIDs lists every batch the event names, once.
func (e Event) BatchIDs() []uuid.UUID {
	var ids []uuid.UUID
	for _, l := range [][]QuantityItem{e.QuantityList, e.InputQuantityList, e.OutputQuantityList} {
		for _, it := range l {
			if !slices.Contains(ids, it.BatchID) {
				ids = append(ids, it.BatchID)
			}
		}
	}
	return ids
}

// NewEvent is the input for RecordEvent.
type NewEvent struct {
	EventType          string
	Action             string
	EventTime          *time.Time
	EventTimezone      string // "+02:00"; default: the offset of EventTime
	BizStep            string
	Disposition        string
	ReadPoint          string // GLN of a known location
	BizLocation        string // GLN of a known location
	EPCList            []string
	QuantityList       []QuantityItem
	InputQuantityList  []QuantityItem
	OutputQuantityList []QuantityItem
	BatchIDs           []uuid.UUID // batches named without a quantity
	Notes              string
	ILMD               json.RawMessage
	// Parties, locations and documents (EPCIS sourceList, destinationList,
	// bizTransactionList): a CBV type and an identifier URI (a bare GLN is
	// taken as a location's or a party's GLN).
	SourceList         []EventRef
	DestinationList    []EventRef
	BizTransactionList []EventRef
}

// EventRef is an entry of an event's source, destination or business
// transaction list.
type EventRef struct {
	Type string
	ID   string
}

// checkRefs validates a source, destination or business transaction list
// and returns it as the event stores it.
func checkRefs(v *ValidationError, field string, voc gs1.Vocabulary, refs []EventRef, needType bool) []epcis.Typed {
	if len(refs) > 20 {
		v.Add(field, "must have at most 20 entries")
	}
	var out []epcis.Typed
	for i, r := range refs {
		f := field + "[" + itoa(i) + "]."
		typ := strings.TrimSpace(r.Type)
		if typ == "" && needType {
			v.Add(f+"type", "is required: one of "+strings.Join(voc.Values, ", "))
		} else if typ != "" {
			typ = normalizeCBV(v, f+"type", voc, typ)
		}
		id := strings.TrimSpace(r.ID)
		if len(id) == 13 && gs1.ValidateGLN(id) == nil {
			if typ == "owning_party" || typ == "possessing_party" {
				id = "https://id.gs1.org/417/" + id
			} else {
				id = gs1.GLNDigitalLink(id)
			}
		}
		if id == "" || len(id) > 500 || !gs1.ValidVocabulary(nil, id) {
			v.Add(f+"id", "must be a URI (urn:epc:id:sgln:..., a GS1 Digital Link) or a GLN")
			continue
		}
		out = append(out, epcis.Typed{Type: typ, ID: id, Key: epcis.Key(id)})
	}
	return out
}

// RecordEvent validates an EPCIS event and appends it.
func (s *Service) RecordEvent(ctx context.Context, actor Actor, in NewEvent) (Event, error) {
	var v ValidationError
	if !slices.Contains(gs1.EventTypes, in.EventType) {
		v.Add("event_type", "must be one of "+strings.Join(gs1.EventTypes, ", "))
	}
	isTransformation := in.EventType == "TransformationEvent"
	switch {
	case isTransformation && in.Action != "":
		v.Add("action", "must be empty: a TransformationEvent has no action")
	case !isTransformation && in.Action == "":
		v.Add("action", "is required: one of ADD, OBSERVE, DELETE")
	case !isTransformation && !slices.Contains(gs1.Actions, in.Action):
		v.Add("action", "must be one of ADD, OBSERVE, DELETE")
	}
	// CBV values are stored bare, whichever of their forms came in.
	in.BizStep = normalizeCBV(&v, "biz_step", gs1.BizStepVocabulary, in.BizStep)
	in.Disposition = normalizeCBV(&v, "disposition", gs1.DispositionVocabulary, in.Disposition)
	now := s.now()
	eventTime := now
	if in.EventTime != nil {
		eventTime = *in.EventTime
		if eventTime.After(now.Add(24 * time.Hour)) {
			v.Add("event_time", "must not be more than a day in the future")
		}
		if eventTime.Year() < 1900 {
			v.Add("event_time", "must be after 1900")
		}
	}
	tz := in.EventTimezone
	if tz == "" {
		tz = timezoneOffset(eventTime)
	} else if !validOffset(tz) {
		v.Add("event_timezone", "must be an offset such as +02:00 or -05:00")
	}
	for _, f := range []struct {
		name string
		gln  string
	}{{"read_point", in.ReadPoint}, {"biz_location", in.BizLocation}} {
		if f.gln != "" {
			if err := gs1.ValidateGLN(f.gln); err != nil {
				v.Add(f.name, "GLN "+err.Error())
			}
		}
	}
	if isTransformation {
		if len(in.QuantityList) > 0 {
			v.Add("quantity_list", "must be empty for a TransformationEvent: use input_quantity_list and output_quantity_list")
		}
		if len(in.InputQuantityList) == 0 && len(in.OutputQuantityList) == 0 {
			v.Add("input_quantity_list", "a TransformationEvent needs inputs or outputs")
		}
	} else {
		if len(in.InputQuantityList) > 0 {
			v.Add("input_quantity_list", "is only for a TransformationEvent")
		}
		if len(in.OutputQuantityList) > 0 {
			v.Add("output_quantity_list", "is only for a TransformationEvent")
		}
	}
	if len(in.EPCList) > 1000 {
		v.Add("epc_list", "must have at most 1000 entries")
	}
	for i, epc := range in.EPCList {
		if !gs1.ValidVocabulary(nil, epc) {
			v.Add("epc_list["+itoa(i)+"]", "must be an EPC URI (urn:epc:...) or a GS1 Digital Link URI")
		}
	}
	checkText(&v, "notes", in.Notes, 0, 5000)
	sources := checkRefs(&v, "source_list", gs1.SourceDestTypeVocabulary, in.SourceList, true)
	destinations := checkRefs(&v, "destination_list", gs1.SourceDestTypeVocabulary, in.DestinationList, true)
	bizTx := checkRefs(&v, "biz_transaction_list", gs1.BizTransactionTypeVocabulary, in.BizTransactionList, false)
	if len(in.ILMD) > 0 && !json.Valid(in.ILMD) {
		v.Add("ilmd", "must be a JSON object")
	} else if len(in.ILMD) > 0 && strings.TrimSpace(string(in.ILMD))[0] != '{' {
		v.Add("ilmd", "must be a JSON object")
	}
	lists := []struct {
		field string
		items []QuantityItem
		role  string
	}{
		{"quantity_list", in.QuantityList, "object"},
		{"input_quantity_list", in.InputQuantityList, "input"},
		{"output_quantity_list", in.OutputQuantityList, "output"},
	}
	ids := slices.Clone(in.BatchIDs)
	for _, l := range lists {
		if len(l.items) > 200 {
			v.Add(l.field, "must have at most 200 entries")
		}
		for i, it := range l.items {
			f := l.field + "[" + itoa(i) + "]"
			if it.BatchID == uuid.Nil {
				v.Add(f+".batch_id", "is required")
			}
			checkAmount(&v, f+".quantity", it.Quantity)
			ids = append(ids, it.BatchID)
		}
	}
	if err := v.OrNil(); err != nil {
		return Event{}, err
	}

	if ev, ok, err := idempotency.Replay[Event](ctx); ok {
		return ev, err
	}
	var ev Event
	var moved []uuid.UUID
	err := s.store.InTx(ctx, db.TxOptions{LockTimeout: s.lockTimeout}, func(q *db.Queries) error {
		// Batches: they must exist; quantities are in the batch's unit.
		units, err := q.BatchUnits(ctx, ids)
		if err != nil {
			return err
		}
		known := map[uuid.UUID]db.BatchUnitsRow{}
		for _, u := range units {
			known[u.ID] = u
		}
		for i, id := range in.BatchIDs {
			if _, ok := known[id]; !ok {
				return &NotFoundError{What: "batch", Field: "batch_ids[" + itoa(i) + "]"}
			}
		}
		normalized := make([][]QuantityItem, len(lists))
		for li, l := range lists {
			for i, it := range l.items {
				f := l.field + "[" + itoa(i) + "]"
				b, ok := known[it.BatchID]
				if !ok {
					return &NotFoundError{What: "batch", Field: f + ".batch_id"}
				}
				if it.UOM == "" {
					it.UOM = b.UnitOfMeasure
				}
				// The batch's Rec 20 code, or its name (normalised to the code).
				if code, ok := gs1.UNECECode(it.UOM); !ok || code != b.UnitOfMeasure {
					v.Add(f+".uom", "must be the batch's unit: "+b.UnitOfMeasure+" ("+gs1.UnitName(b.UnitOfMeasure)+")")
				}
				it.UOM = b.UnitOfMeasure
				normalized[li] = append(normalized[li], it)
			}
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		// Locations: GLNs of known locations.
		var readPointID, bizLocationID *uuid.UUID
		if glns := nonEmpty(in.ReadPoint, in.BizLocation); len(glns) > 0 {
			locs, err := q.LocationsByGLN(ctx, glns)
			if err != nil {
				return err
			}
			byGLN := map[string]uuid.UUID{}
			for _, l := range locs {
				byGLN[l.Gln] = l.ID
			}
			if in.ReadPoint != "" {
				id, ok := byGLN[in.ReadPoint]
				if !ok {
					return &NotFoundError{What: "location", Field: "read_point"}
				}
				readPointID = &id
			}
			if in.BizLocation != "" {
				id, ok := byGLN[in.BizLocation]
				if !ok {
					return &NotFoundError{What: "location", Field: "biz_location"}
				}
				bizLocationID = &id
			}
		}
		rec := eventRecord{
			ID: newEventUUID(), EventType: in.EventType, Action: optText(in.Action), EventTime: eventTime, EventTimezone: tz,
			BizStep: optText(in.BizStep), Disposition: optText(in.Disposition),
			ReadPointID: readPointID, BizLocationID: bizLocationID, EPCList: in.EPCList,
			QuantityList: normalized[0], InputQuantityList: normalized[1], OutputQuantityList: normalized[2],
			ExtraBatchIDs: in.BatchIDs, ILMD: in.ILMD, Notes: in.Notes,
			SourceType: actor.source(), Actor: actor.name(),
			Sources: sources, Destinations: destinations, BizTransactions: bizTx,
		}
		// The same mapping as a captured event (effects.go): naming our
		// lots with a business step that moves stock, it moves stock.
		fe := effectEvent{eventID: "urn:uuid:" + rec.ID.String(), typ: in.EventType, action: in.Action, bizStep: in.BizStep, disposition: in.Disposition,
			readPoint: in.ReadPoint, bizLocation: in.BizLocation, sources: sources, destinations: destinations,
			bizTx: bizTx, ilmd: in.ILMD, eventTime: eventTime, notes: in.Notes, instances: len(in.EPCList) > 0}
		for li, l := range lists {
			for i, it := range normalized[li] {
				fe.items = append(fe.items, effectItem{role: l.role, batchID: it.BatchID, quantity: it.Quantity.String(),
					uom: it.UOM, field: l.field + "[" + itoa(i) + "]."})
			}
		}
		eff, err := planEffect(ctx, q, fe)
		if err != nil {
			return err
		}
		var id uuid.UUID
		if eff.none() {
			if id, err = insertEvent(ctx, q, rec); err != nil {
				return err
			}
		} else {
			out, err := s.runEffect(ctx, q, actor, eff, nil, rec)
			if err != nil {
				return err
			}
			id = out.EventID
			for _, b := range out.Batches {
				moved = append(moved, b.ID)
			}
		}
		row, err := q.GetEvent(ctx, id)
		if err != nil {
			return err
		}
		ev = eventFromRow(db.ListEventsRow(row))
		return idempotency.Keep(ctx, q, ev)
	})
	if errors.Is(err, db.ErrLockTimeout) {
		s.metrics.LockTimeouts.Inc()
		return Event{}, ErrLockTimeout
	}
	if err != nil {
		return Event{}, unwrapDomain(err)
	}
	s.changed(ctx, Change{Batches: append(ev.BatchIDs(), moved...), List: len(moved) > 0, Events: true})
	return ev, nil
}

// normalizeCBV returns value in its stored form, or adds field's error.
func normalizeCBV(v *ValidationError, field string, voc gs1.Vocabulary, value string) string {
	if value == "" {
		return ""
	}
	bare, err := voc.Normalize(value)
	if err != nil {
		v.Add(field, err.Error())
		return value
	}
	return bare
}

func validOffset(tz string) bool {
	if len(tz) != 6 || (tz[0] != '+' && tz[0] != '-') || tz[3] != ':' {
		return false
	}
	_, err := time.Parse("-07:00", tz)
	return err == nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// eventRecord is an event ready to insert, inside a transaction.
type eventRecord struct {
	ID                 uuid.UUID // the row id; a fresh one when Nil
	EventType          string
	Action             *string
	EventTime          time.Time
	EventTimezone      string
	BizStep            *string
	Disposition        *string
	ReadPointID        *uuid.UUID
	BizLocationID      *uuid.UUID
	EPCList            []string
	QuantityList       []QuantityItem
	InputQuantityList  []QuantityItem
	OutputQuantityList []QuantityItem
	ExtraBatchIDs      []uuid.UUID
	ILMD               json.RawMessage
	Notes              string
	SourceType         string
	Actor              string
	// Stock movements name their documents and partners; ID is a URI.
	BizTransactions []epcis.Typed
	Sources         []epcis.Typed
	Destinations    []epcis.Typed
	// Extensions are top-level "bt:" fields of the document ("bt:yield").
	Extensions map[string]any
}

// GetEvent returns one event.
func (s *Service) GetEvent(ctx context.Context, id uuid.UUID) (Event, error) {
	row, err := s.store.GetEvent(ctx, id)
	if err != nil {
		return Event{}, notFound(err, "event", "")
	}
	return eventFromRow(db.ListEventsRow(row)), nil
}

// EventFilter narrows ListEvents. Dates are inclusive days in UTC.
type EventFilter struct {
	EventType  string
	BizStep    string
	BatchID    *uuid.UUID
	LocationID *uuid.UUID
	SourceType string
	StartDate  *time.Time
	EndDate    *time.Time
	ProductID  *uuid.UUID // events naming any lot of the product
	// EPCClass is a lot as a GS1 Digital Link or EPC class URN
	// (urn:epc:class:lgtin:...); BizTransaction a business transaction
	// identifier of any type (a PO, a despatch advice).
	EPCClass       string
	BizTransaction string
	// DeclaredInError: "" or "show" lists every event, "hide" leaves out
	// those declared in error, "only" lists only them.
	DeclaredInError string
}

// DeclaredInErrorChoices are EventFilter.DeclaredInError's values.
var DeclaredInErrorChoices = []string{"show", "hide", "only"}

// LotClassKey is the canonical key (event_epcs.key) of a lot named by its
// GS1 Digital Link or EPC class URN; ok is false for anything else.
func LotClassKey(uri string) (key string, ok bool) {
	key, _ = epcis.MatchKey(strings.TrimSpace(uri))
	_, _, ok = parseLotKey(key)
	return key, ok
}

// ListEvents lists events, newest event_time first.
func (s *Service) ListEvents(ctx context.Context, f EventFilter, opts ListOptions) (Page[Event], error) {
	var v ValidationError
	limit := opts.limit(&v)
	cur := decodeCursor(opts.Cursor, "t", &v)
	if f.EventType != "" && !slices.Contains(gs1.EventTypes, f.EventType) {
		v.Add("event_type", "must be one of "+strings.Join(gs1.EventTypes, ", "))
	}
	f.BizStep = normalizeCBV(&v, "biz_step", gs1.BizStepVocabulary, f.BizStep)
	if f.SourceType != "" && !slices.Contains([]string{"manual", "api", "system", "import", "capture"}, f.SourceType) {
		v.Add("source_type", "must be one of manual, api, system, import, capture")
	}
	if f.StartDate != nil && f.EndDate != nil && f.EndDate.Before(*f.StartDate) {
		v.Add("end_date", "must not be before start_date")
	}
	var epcClass, bizTransaction *string
	if f.EPCClass != "" {
		if k, ok := LotClassKey(f.EPCClass); ok {
			epcClass = &k
		} else {
			v.Add("epc_class", "must be a lot's GS1 Digital Link or EPC class URN (urn:epc:class:lgtin:...)")
		}
	}
	if b := strings.TrimSpace(f.BizTransaction); b != "" {
		k := epcis.Key(b)
		bizTransaction = &k
	}
	checkText(&v, "biz_transaction", f.BizTransaction, 0, 500)
	var declared *bool
	switch f.DeclaredInError {
	case "", "show":
	case "hide", "only":
		only := f.DeclaredInError == "only"
		declared = &only
	default:
		v.Add("declared_in_error", "must be show, hide or only")
	}
	if err := v.OrNil(); err != nil {
		return Page[Event]{}, err
	}
	var start, end *time.Time
	if f.StartDate != nil {
		start = datePtr(f.StartDate)
	}
	if f.EndDate != nil {
		e := dateOnly(*f.EndDate).AddDate(0, 0, 1)
		end = &e
	}
	var afterTime *time.Time
	var afterID *uuid.UUID
	if cur != nil {
		afterTime, afterID = cur.Time, &cur.ID
	}
	var rows []db.ListEventsRow
	var err error
	if f.BatchID != nil {
		var br []db.ListBatchEventsRow
		br, err = s.store.ListBatchEvents(ctx, db.ListBatchEventsParams{
			BatchID: *f.BatchID, EventType: optText(f.EventType), BizStep: optText(f.BizStep),
			LocationID: f.LocationID, SourceType: optText(f.SourceType), StartTime: start, EndTime: end,
			ProductID: f.ProductID, EpcClass: epcClass, BizTransaction: bizTransaction, DeclaredInError: declared,
			AfterTime: afterTime, AfterID: afterID, RowLimit: limit + 1,
		})
		for _, r := range br {
			rows = append(rows, db.ListEventsRow(r))
		}
	} else {
		rows, err = s.store.ListEvents(ctx, db.ListEventsParams{
			EventType: optText(f.EventType), BizStep: optText(f.BizStep), LocationID: f.LocationID,
			SourceType: optText(f.SourceType), StartTime: start, EndTime: end,
			ProductID: f.ProductID, EpcClass: epcClass, BizTransaction: bizTransaction, DeclaredInError: declared,
			AfterTime: afterTime, AfterID: afterID, RowLimit: limit + 1,
		})
	}
	if err != nil {
		return Page[Event]{}, err
	}
	return pageOf(rows, limit, eventFromRow, func(last Event) string {
		return cursor{Time: &last.EventTime, ID: last.ID}.encode()
	}), nil
}

func eventFromRow(r db.ListEventsRow) Event {
	e := Event{
		ID: r.ID, EventType: r.EventType, Action: r.Action, EventTime: r.EventTime, EventTimezone: r.EventTimezone,
		RecordedAt: r.RecordedAt, BizStep: r.BizStep, Disposition: r.Disposition,
		ReadPoint: r.ReadPointGln, BizLocation: r.BizLocationGln, ReadPointID: r.ReadPointID, BizLocationID: r.BizLocationID,
		ILMD: r.Ilmd, Notes: r.Notes, SourceType: r.SourceType, Actor: r.Actor, EventID: r.EventID,
		DeclaredInErrorAt: r.DeclaredInErrorAt,
	}
	_ = json.Unmarshal(r.EpcList, &e.EPCList)
	_ = json.Unmarshal(r.QuantityList, &e.QuantityList)
	_ = json.Unmarshal(r.InputQuantityList, &e.InputQuantityList)
	_ = json.Unmarshal(r.OutputQuantityList, &e.OutputQuantityList)
	return e
}

// TraceLink is a batch linked to another through a TransformationEvent.
type TraceLink struct {
	BatchID     uuid.UUID
	BatchNumber string
	ProductName string
	Direction   string // upstream (an input of this batch) or downstream
	EventID     uuid.UUID
	EventTime   time.Time
}

// TraceLinks lists the batches directly upstream and downstream of id.
func (s *Service) TraceLinks(ctx context.Context, id uuid.UUID) ([]TraceLink, error) {
	rows, err := s.store.ListTraceLinks(ctx, id)
	if err != nil {
		return nil, err
	}
	links := make([]TraceLink, 0, len(rows))
	for _, r := range rows {
		links = append(links, TraceLink{BatchID: r.BatchID, BatchNumber: r.BatchNumber, ProductName: r.ProductName,
			Direction: r.Direction, EventID: r.EventID, EventTime: r.EventTime})
	}
	return links, nil
}

// CaptureJobEvent is an event a capture job stored, to link to.
type CaptureJobEvent struct {
	ID        uuid.UUID
	EventType string
	Action    *string
	BizStep   *string
	EventTime time.Time
}

// CaptureJobEvents lists the first limit events a capture job stored.
func (s *Service) CaptureJobEvents(ctx context.Context, jobID uuid.UUID, limit int) ([]CaptureJobEvent, error) {
	rows, err := s.store.ListCaptureJobEvents(ctx, db.ListCaptureJobEventsParams{CaptureJobID: &jobID, RowLimit: int32(limit)})
	if err != nil {
		return nil, err
	}
	out := make([]CaptureJobEvent, 0, len(rows))
	for _, r := range rows {
		out = append(out, CaptureJobEvent{ID: r.ID, EventType: r.EventType, Action: r.Action, BizStep: r.BizStep, EventTime: r.EventTime})
	}
	return out, nil
}
