package inventory

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/quantity"
)

// batchtrackNamespace is the IRI of the "bt:" prefix that extension keys
// of events recorded through the staff UI and the JSON API carry.
const batchtrackNamespace = "https://batchtrack.dev/epcis/ns/"

// eventRow is one event ready to store: its events row (document
// included) and its projection. Every door (staff form, /api, consume,
// /epcis capture) stores events through writeEvents.
type eventRow struct {
	db.InsertEventRowParams
	epcs         []epcRow
	bizTx        []epcis.Typed
	sources      []epcis.Typed
	destinations []epcis.Typed
	links        []linkRow
}

type epcRow struct {
	role     string
	key      string
	class    bool
	quantity string // decimal; "" for none
	uom      string
}

// linkRow ties an event to one of our batches (event_batches).
type linkRow struct {
	batchID  uuid.UUID
	role     string // object, input, output
	quantity quantity.Quantity
	uom      string
	lot      string // lotKey of the batch's lot, where known
}

// newEventUUID makes a row id: time-ordered, so inserts stay at the right
// edge of the primary key.
func newEventUUID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// writeEvents stores rows in the caller's transaction: one INSERT for a
// single event, COPY for more, then the projections of all of them with one
// multi-row insert per table.
func writeEvents(ctx context.Context, q *db.Queries, rows []eventRow) error {
	if len(rows) == 1 {
		if err := q.InsertEventRow(ctx, rows[0].InsertEventRowParams); err != nil {
			return err
		}
	} else if len(rows) > 1 {
		params := make([]db.CopyEventsParams, len(rows))
		for i, r := range rows {
			params[i] = db.CopyEventsParams(r.InsertEventRowParams)
		}
		if _, err := q.CopyEvents(ctx, params); err != nil {
			return err
		}
	}
	var ep db.InsertEventEPCsParams
	var bt db.InsertEventBizTransactionsParams
	var pp db.InsertEventPartiesParams
	var lp db.InsertEventBatchLinksParams
	for _, r := range rows {
		id, t := r.ID, r.EventTime
		for _, e := range r.epcs {
			ep.EventIds = append(ep.EventIds, id)
			ep.Roles = append(ep.Roles, e.role)
			ep.Keys = append(ep.Keys, e.key)
			ep.IsClass = append(ep.IsClass, e.class)
			ep.Quantities = append(ep.Quantities, e.quantity)
			ep.Uoms = append(ep.Uoms, e.uom)
			ep.EventTimes = append(ep.EventTimes, t)
		}
		for _, x := range r.bizTx {
			bt.EventIds = append(bt.EventIds, id)
			bt.Types = append(bt.Types, x.Type)
			bt.Keys = append(bt.Keys, x.Key)
			bt.Ids = append(bt.Ids, x.ID)
		}
		for kind, list := range map[string][]epcis.Typed{"source": r.sources, "destination": r.destinations} {
			for _, x := range list {
				pp.EventIds = append(pp.EventIds, id)
				pp.Kinds = append(pp.Kinds, kind)
				pp.Types = append(pp.Types, x.Type)
				pp.Keys = append(pp.Keys, x.Key)
				pp.Ids = append(pp.Ids, x.ID)
			}
		}
		for _, l := range r.links {
			lp.EventIds = append(lp.EventIds, id)
			lp.BatchIds = append(lp.BatchIds, l.batchID)
			lp.Roles = append(lp.Roles, l.role)
			lp.Quantities = append(lp.Quantities, l.quantity)
			lp.Uoms = append(lp.Uoms, l.uom)
			lp.EventTimes = append(lp.EventTimes, t)
		}
	}
	if len(ep.EventIds) > 0 {
		if err := q.InsertEventEPCs(ctx, ep); err != nil {
			return err
		}
	}
	if len(bt.EventIds) > 0 {
		if err := q.InsertEventBizTransactions(ctx, bt); err != nil {
			return err
		}
	}
	if len(pp.EventIds) > 0 {
		if err := q.InsertEventParties(ctx, pp); err != nil {
			return err
		}
	}
	if len(lp.EventIds) > 0 {
		if err := q.InsertEventBatchLinks(ctx, lp); err != nil {
			return err
		}
	}
	return nil
}

// sumLinks merges links of the same batch and role (event_batches has one
// row per pair): a batch named twice in a list gets the sum.
func sumLinks(links []linkRow) []linkRow {
	type linkKey struct {
		id   uuid.UUID
		role string
	}
	at := map[linkKey]int{}
	var out []linkRow
	for _, l := range links {
		k := linkKey{l.batchID, l.role}
		if i, ok := at[k]; ok {
			out[i].quantity += l.quantity
			if out[i].uom == "" {
				out[i].uom = l.uom
			}
			continue
		}
		at[k] = len(out)
		out = append(out, l)
	}
	return out
}

// lotKey is the canonical key of a lot (LGTIN): 01/{gtin14}/10/{lot},
// the lot percent-encoded as in a Digital Link (SQL: lot_key).
func lotKey(gtin, lot string) string {
	return "01/" + gtin + "/10/" + gs1.EscapeDigitalLink(lot, false)
}

// parseLotKey reads a key lotKey made: the GTIN and the unescaped lot.
func parseLotKey(key string) (gtin, lot string, ok bool) {
	rest, found := strings.CutPrefix(key, "01/")
	if !found || len(rest) < 18 || rest[14:18] != "/10/" {
		return "", "", false
	}
	gtin, esc := rest[:14], rest[18:]
	for _, c := range gtin {
		if c < '0' || c > '9' {
			return "", "", false
		}
	}
	if esc == "" || strings.Contains(esc, "/") {
		return "", "", false
	}
	lot, ok = unescapeKey(esc)
	return gtin, lot, ok
}

func unescapeKey(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, lo := unhex(s[i+1]), unhex(s[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	return b.String(), true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// glnOfKey is the GLN of a location key 414/{gln}, if key is one.
func glnOfKey(key string) (string, bool) {
	gln, ok := strings.CutPrefix(key, "414/")
	if !ok || len(gln) != 13 {
		return "", false
	}
	for _, c := range gln {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return gln, true
}

// legacyEPCKey is the key of an EPC URI recorded by the staff UI or the
// JSON API: a Digital Link's path, else the URI (SQL: legacy_epc_key).
func legacyEPCKey(uri string) string {
	for _, scheme := range []string{"https://", "http://"} {
		if rest, ok := strings.CutPrefix(uri, scheme); ok {
			if i := strings.IndexByte(rest, '/'); i > 0 && i+1 < len(rest) && rest[i+1] >= '0' && rest[i+1] <= '9' {
				return rest[i+1:]
			}
		}
	}
	return uri
}

// eventTimeString is t in RFC 3339 at the event's offset, with at most
// microseconds (what PostgreSQL keeps) and no trailing zeros.
func eventTimeString(t time.Time, tz string) string {
	offset, err := time.Parse("-07:00", tz)
	loc := time.UTC
	if err == nil {
		_, secs := offset.Zone()
		loc = time.FixedZone(tz, secs)
	}
	return t.Truncate(time.Microsecond).In(loc).Format("2006-01-02T15:04:05.999999") + tz
}

// The document of an event recorded through the staff UI, the JSON API or
// a consume: the same as the SQL function legacy_document (migration
// 00009) builds, which a test checks.
type legacyDocument struct {
	Type                string                     `json:"type"`
	EventID             string                     `json:"eventID"`
	EventTime           string                     `json:"eventTime"`
	EventTimeZoneOffset string                     `json:"eventTimeZoneOffset"`
	Action              string                     `json:"action,omitempty"`
	BizStep             string                     `json:"bizStep,omitempty"`
	Disposition         string                     `json:"disposition,omitempty"`
	ReadPoint           *documentID                `json:"readPoint,omitempty"`
	BizLocation         *documentID                `json:"bizLocation,omitempty"`
	EPCList             []string                   `json:"epcList,omitempty"`
	QuantityList        []documentQuantity         `json:"quantityList,omitempty"`
	InputQuantityList   []documentQuantity         `json:"inputQuantityList,omitempty"`
	OutputQuantityList  []documentQuantity         `json:"outputQuantityList,omitempty"`
	BizTransactionList  []documentBizTransaction   `json:"bizTransactionList,omitempty"`
	SourceList          []documentSource           `json:"sourceList,omitempty"`
	DestinationList     []documentDestination      `json:"destinationList,omitempty"`
	ILMD                map[string]json.RawMessage `json:"ilmd,omitempty"`
}

type documentBizTransaction struct {
	Type           string `json:"type,omitempty"`
	BizTransaction string `json:"bizTransaction"`
}

type documentSource struct {
	Type   string `json:"type"`
	Source string `json:"source"`
}

type documentDestination struct {
	Type        string `json:"type"`
	Destination string `json:"destination"`
}

type documentID struct {
	ID string `json:"id"`
}

type documentQuantity struct {
	EPCClass string      `json:"epcClass"`
	Quantity json.Number `json:"quantity"`
	UOM      string      `json:"uom,omitempty"`
}

// lotName is what a document needs of a batch or a location.
type lotName struct {
	code string // GTIN of a batch's product, GLN of a location
	lot  string // batch number; "" for a location
	unit string
}

// legacyRow turns an event recorded the old way into a row to store, with
// its document and projection. names resolves the batches and locations it
// names by id.
func legacyRow(e eventRecord, names map[uuid.UUID]lotName) eventRow {
	id := e.ID
	if id == uuid.Nil {
		id = newEventUUID()
	}
	eventTime := e.EventTime.Truncate(time.Microsecond)
	doc := legacyDocument{
		Type: e.EventType, EventID: "urn:uuid:" + id.String(),
		EventTime: eventTimeString(eventTime, e.EventTimezone), EventTimeZoneOffset: e.EventTimezone,
		Action: deref(e.Action), BizStep: deref(e.BizStep), Disposition: deref(e.Disposition),
		EPCList: e.EPCList,
	}
	r := eventRow{bizTx: e.BizTransactions, sources: e.Sources, destinations: e.Destinations}
	for _, t := range e.BizTransactions {
		doc.BizTransactionList = append(doc.BizTransactionList, documentBizTransaction{Type: t.Type, BizTransaction: t.ID})
	}
	for _, t := range e.Sources {
		doc.SourceList = append(doc.SourceList, documentSource{Type: t.Type, Source: t.ID})
	}
	for _, t := range e.Destinations {
		doc.DestinationList = append(doc.DestinationList, documentDestination{Type: t.Type, Destination: t.ID})
	}
	var readPoint, bizLocation *string
	if e.ReadPointID != nil {
		if n, ok := names[*e.ReadPointID]; ok {
			doc.ReadPoint = &documentID{gs1.GLNDigitalLink(n.code)}
			readPoint = ptr("414/" + n.code)
		}
	}
	if e.BizLocationID != nil {
		if n, ok := names[*e.BizLocationID]; ok {
			doc.BizLocation = &documentID{gs1.GLNDigitalLink(n.code)}
			bizLocation = ptr("414/" + n.code)
		}
	}
	for _, epc := range e.EPCList {
		r.epcs = append(r.epcs, epcRow{role: epcis.RoleEPC, key: legacyEPCKey(epc)})
	}
	named := map[uuid.UUID]bool{}
	quantities := func(role, linkRole string, items []QuantityItem) []documentQuantity {
		var out []documentQuantity
		for _, it := range items {
			n, ok := names[it.BatchID]
			key, class := "urn:uuid:"+it.BatchID.String(), "urn:uuid:"+it.BatchID.String()
			if ok {
				key = lotKey(n.code, n.lot)
				class = "https://id.gs1.org/" + key
			}
			uom := it.UOM
			if code, ok := gs1.UNECECode(uom); ok {
				uom = code
			}
			if uom == "" {
				uom = n.unit // already a Rec 20 code, or a unit name to translate
				if code, ok := gs1.UNECECode(n.unit); ok {
					uom = code
				}
			}
			out = append(out, documentQuantity{EPCClass: class, Quantity: json.Number(it.Quantity.String()), UOM: uom})
			r.epcs = append(r.epcs, epcRow{role: role, key: key, class: true, quantity: it.Quantity.String(), uom: uom})
			r.links = append(r.links, linkRow{batchID: it.BatchID, role: linkRole, quantity: it.Quantity, uom: it.UOM})
			named[it.BatchID] = named[it.BatchID] || linkRole == "object"
		}
		return out
	}
	doc.QuantityList = quantities(epcis.RoleEPC, "object", e.QuantityList)
	doc.InputQuantityList = quantities(epcis.RoleInput, "input", e.InputQuantityList)
	doc.OutputQuantityList = quantities(epcis.RoleOutput, "output", e.OutputQuantityList)
	r.links = sumLinks(r.links)
	for _, bid := range e.ExtraBatchIDs {
		if named[bid] {
			continue
		}
		named[bid] = true
		if n, ok := names[bid]; ok {
			r.epcs = append(r.epcs, epcRow{role: epcis.RoleEPC, key: lotKey(n.code, n.lot), class: true})
		}
		r.links = append(r.links, linkRow{batchID: bid, role: "object"})
	}
	var context json.RawMessage
	if len(e.ILMD) > 0 {
		var ilmd map[string]json.RawMessage
		if json.Unmarshal(e.ILMD, &ilmd) == nil && ilmd != nil {
			doc.ILMD = make(map[string]json.RawMessage, len(ilmd))
			for k, v := range ilmd {
				if !strings.Contains(k, ":") {
					context = json.RawMessage(`{"bt":"` + batchtrackNamespace + `"}`)
					k = "bt:" + k
				}
				doc.ILMD[k] = v
			}
		}
	}
	document, _ := json.Marshal(doc)
	if len(e.Extensions) > 0 {
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(document, &fields)
		for k, v := range e.Extensions {
			fields[k], _ = json.Marshal(v)
		}
		document, _ = json.Marshal(fields)
		context = json.RawMessage(`{"bt":"` + batchtrackNamespace + `"}`)
	}
	jsonList := func(l []QuantityItem) json.RawMessage {
		if l == nil {
			l = []QuantityItem{}
		}
		b, _ := json.Marshal(l)
		return b
	}
	epcs := e.EPCList
	if epcs == nil {
		epcs = []string{}
	}
	epcJSON, _ := json.Marshal(epcs)
	var ilmd json.RawMessage
	if len(e.ILMD) > 0 {
		ilmd = e.ILMD
	}
	r.InsertEventRowParams = db.InsertEventRowParams{
		ID: id, EventID: doc.EventID, EventType: e.EventType, Action: e.Action, EventTime: eventTime,
		EventTimezone: e.EventTimezone, BizStep: e.BizStep, Disposition: e.Disposition,
		ReadPointID: e.ReadPointID, BizLocationID: e.BizLocationID, EpcList: epcJSON,
		QuantityList: jsonList(e.QuantityList), InputQuantityList: jsonList(e.InputQuantityList),
		OutputQuantityList: jsonList(e.OutputQuantityList), Ilmd: ilmd, Notes: e.Notes,
		SourceType: e.SourceType, Actor: e.Actor, Document: document, Context: context,
		ReadPoint: readPoint, BizLocation: bizLocation,
	}
	return r
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// insertEvent appends an event recorded the old way (staff form, JSON API,
// batch changes, multi-batch consumes) with its EPCIS document, projection
// and batch links.
func insertEvent(ctx context.Context, q *db.Queries, e eventRecord) (uuid.UUID, error) {
	var batchIDs, locationIDs []uuid.UUID
	for _, l := range [][]QuantityItem{e.QuantityList, e.InputQuantityList, e.OutputQuantityList} {
		for _, it := range l {
			batchIDs = append(batchIDs, it.BatchID)
		}
	}
	batchIDs = append(batchIDs, e.ExtraBatchIDs...)
	for _, id := range []*uuid.UUID{e.ReadPointID, e.BizLocationID} {
		if id != nil {
			locationIDs = append(locationIDs, *id)
		}
	}
	names := map[uuid.UUID]lotName{}
	if len(batchIDs)+len(locationIDs) > 0 {
		rows, err := q.EventNames(ctx, db.EventNamesParams{BatchIds: batchIDs, LocationIds: locationIDs})
		if err != nil {
			return uuid.Nil, err
		}
		for _, n := range rows {
			names[n.ID] = lotName{code: n.Code, lot: n.BatchNumber, unit: n.UnitOfMeasure}
		}
	}
	row := legacyRow(e, names)
	if err := writeEvents(ctx, q, []eventRow{row}); err != nil {
		return uuid.Nil, err
	}
	return row.ID, nil
}
