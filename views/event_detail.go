package views

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
)

// EventMeta is what the server knows about a stored event beside its
// EPCIS document.
type EventMeta struct {
	ID              string // our id of the stored event
	EventID         string
	HashID          string
	RecordTime      time.Time
	SourceType      string
	Actor           string
	Notes           string
	DeclaredInError bool
	// Declaration is the errorDeclaration of a declaration captured after
	// the event; empty when the document carries its own or none exists.
	Declaration json.RawMessage
	CorrectedBy []EventLink
	Corrects    []EventLink
	Lots        []LotLink // our batches the event names
	// Stock is the event's ledger rows and its correction; nil for an
	// event that moved no stock and may not be corrected here.
	Stock *EventStock
}

// EventLink points at another stored event.
type EventLink struct {
	Label, Href string
}

// LotLink points at one of our batches; Label is the identifier (EPC URN,
// Digital Link or class) as the event writes it.
type LotLink struct {
	Label, Href string
}

// Value is one JSON value shaped for reading: a scalar as written, an
// object as named fields, an array as items.
type Value struct {
	Kind   ValueKind
	Text   string // a scalar as written in the document
	Href   string // set when the identifier names one of our lots or events
	Fields []Field
	Items  []Value
}

// ValueKind says how a Value is shown.
type ValueKind int

const (
	KindText ValueKind = iota
	KindURI            // monospace, wraps anywhere
	KindNumber
	KindBool
	KindNull
	KindObject
	KindList
)

// Field is one named value of an object.
type Field struct {
	Name  string // the key as written ("bizRules", "ext1:float")
	Label string // words for a standard key; the key itself for an extension
	Value Value
}

// Extension says whether the key is a prefix:name extension field.
func (f Field) Extension() bool { return strings.Contains(f.Name, ":") }

// Vocabulary is a CBV value (or any URI used in its place) in words.
type Vocabulary struct {
	Text  string // as written
	Words string // "Receiving"; empty when the value has no words (a URI we do not know)
}

// IsURI says whether the value as written is a URI, shown beside its words.
func (v Vocabulary) IsURI() bool { return looksLikeURI(v.Text) }

// QuantityLine is one element of a quantity list.
type QuantityLine struct {
	Class    Value  // epcClass
	Quantity string // as written; empty when absent
	UnitCode string // UN/ECE Rec 20
	Unit     string // the unit in words ("kg")
	Extra    []Field
}

// Place is a readPoint or bizLocation.
type Place struct {
	ID    Value
	Extra []Field
}

// TypedRef is a business transaction, source or destination with its type.
type TypedRef struct {
	Type  Vocabulary
	Ref   Value
	Extra []Field
}

// Sensor is one sensorElement.
type Sensor struct {
	Metadata []Field
	Reports  []SensorReport
	Extra    []Field
}

// SensorReport is one sensorReport, its common fields apart.
type SensorReport struct {
	Type                  string
	Value, Min, Max, Mean string
	UnitCode, Unit        string
	Time                  string
	Device                Value
	Other                 []Field
}

// ErrorDeclaration says the event should not have been recorded as it was.
type ErrorDeclaration struct {
	DeclarationTime string
	Reason          Vocabulary
	Corrective      []Value // correctiveEventIDs, linked when the server knows them
	Extra           []Field
}

// EventDetail is a stored EPCIS event shaped for the detail page: every
// field of the document grouped as what, when, where, why, who, with the
// fields the page does not know kept under Extensions.
type EventDetail struct {
	Meta   EventMeta
	Type   string
	Action string

	// What
	EPCs             []Value
	Quantities       []QuantityLine
	ParentID         *Value
	ChildEPCs        []Value
	ChildQuantities  []QuantityLine
	InputEPCs        []Value
	InputQuantities  []QuantityLine
	OutputEPCs       []Value
	OutputQuantities []QuantityLine
	TransformationID *Value
	ILMD             []Field

	// When
	EventTimeText  string // as written
	EventTimeUTC   string // "2005-04-05 02:33:31.116 UTC"; empty when unreadable
	EventTimeLocal string // in TimeZoneOffset; empty without an offset
	TimeZoneOffset string
	RecordTimeText string // the document's recordTime, as written

	// Where
	ReadPoint   *Place
	BizLocation *Place

	// Why
	BizStep         *Vocabulary
	Disposition     *Vocabulary
	PersistentSet   []Vocabulary
	PersistentUnset []Vocabulary
	PersistentExtra []Field
	BizTransactions []TypedRef
	Sources         []TypedRef
	Destinations    []TypedRef

	Sensors       []Sensor
	Certification []Value

	// Who
	EventID string // the document's eventID, or the server's

	Error *ErrorDeclaration

	Extensions []Field // every other field, extension or not
	RawJSON    string  // the document, pretty-printed
}

// Title names the event the way people say it: its business step, or its type.
func (d EventDetail) Title() string {
	if d.BizStep != nil && d.BizStep.Words != "" {
		return d.BizStep.Words
	}
	if d.Type != "" {
		return d.Type
	}
	return "Event"
}

// InError says whether the event carries an error declaration or the
// server marked it declared in error.
func (d EventDetail) InError() bool { return d.Error != nil || d.Meta.DeclaredInError }

// IsTransformation says whether inputs and outputs are shown side by side.
func (d EventDetail) IsTransformation() bool {
	return d.Type == "TransformationEvent" || len(d.InputEPCs)+len(d.InputQuantities)+len(d.OutputEPCs)+len(d.OutputQuantities) > 0
}

func (d EventDetail) hasWhat() bool {
	return d.Action != "" || len(d.EPCs)+len(d.Quantities)+len(d.ChildEPCs)+len(d.ChildQuantities)+len(d.ILMD) > 0 ||
		d.ParentID != nil || d.TransformationID != nil || d.IsTransformation()
}

func (d EventDetail) hasWhy() bool {
	return d.BizStep != nil || d.Disposition != nil || len(d.PersistentSet)+len(d.PersistentUnset)+len(d.PersistentExtra) > 0 ||
		len(d.BizTransactions)+len(d.Sources)+len(d.Destinations) > 0
}

// ErrNotAnEvent is returned for a document that is not a JSON object.
var ErrNotAnEvent = errors.New("views: the event document is not a JSON object")

// NewEventDetail shapes a stored EPCIS 2.0 event (one element of an
// eventList, as received) for the detail page. Fields of unexpected shape
// are not refused: they go to Extensions, so nothing is ever dropped.
func NewEventDetail(doc json.RawMessage, meta EventMeta) (EventDetail, error) {
	root, err := decodeOrdered(doc)
	if err != nil {
		return EventDetail{}, fmt.Errorf("views: reading the event document: %w", err)
	}
	obj, ok := root.(object)
	if !ok {
		return EventDetail{}, ErrNotAnEvent
	}
	b := detailBuilder{lots: map[string]string{}, events: map[string]string{}}
	for _, l := range meta.Lots {
		b.lots[l.Label] = l.Href
	}
	for _, l := range meta.CorrectedBy {
		b.events[l.Label] = l.Href
	}
	d := EventDetail{Meta: meta}
	var pretty bytes.Buffer
	if json.Indent(&pretty, doc, "", "  ") == nil {
		d.RawJSON = pretty.String()
	} else {
		d.RawJSON = string(doc)
	}
	m := newMembers(obj)

	d.Type, _ = m.text("type")
	d.Action, _ = m.text("action")
	d.EPCs, _ = m.idList("epcList", b)
	d.Quantities, _ = m.quantities("quantityList", b)
	if v, ok := m.scalarIdent("parentID", b); ok {
		d.ParentID = &v
	}
	d.ChildEPCs, _ = m.idList("childEPCs", b)
	d.ChildQuantities, _ = m.quantities("childQuantityList", b)
	d.InputEPCs, _ = m.idList("inputEPCList", b)
	d.InputQuantities, _ = m.quantities("inputQuantityList", b)
	d.OutputEPCs, _ = m.idList("outputEPCList", b)
	d.OutputQuantities, _ = m.quantities("outputQuantityList", b)
	if v, ok := m.scalarIdent("transformationID", b); ok {
		d.TransformationID = &v
	}
	if o, ok := m.object("ilmd"); ok {
		d.ILMD = b.fields(newMembers(o).rest())
	}

	if s, ok := m.text("eventTime"); ok {
		d.EventTimeText = s
		d.TimeZoneOffset, _ = m.text("eventTimeZoneOffset")
		d.EventTimeUTC, d.EventTimeLocal = eventTimes(s, d.TimeZoneOffset)
	} else if s, ok := m.text("eventTimeZoneOffset"); ok {
		d.TimeZoneOffset = s
	}
	d.RecordTimeText, _ = m.text("recordTime")

	d.ReadPoint = m.place("readPoint", b)
	d.BizLocation = m.place("bizLocation", b)

	if s, ok := m.text("bizStep"); ok {
		v := vocabulary(s)
		d.BizStep = &v
	}
	if s, ok := m.text("disposition"); ok {
		v := vocabulary(s)
		d.Disposition = &v
	}
	if o, ok := m.object("persistentDisposition"); ok {
		pm := newMembers(o)
		d.PersistentSet, _ = pm.vocabularies("set")
		d.PersistentUnset, _ = pm.vocabularies("unset")
		d.PersistentExtra = b.fields(pm.rest())
	}
	d.BizTransactions, _ = m.typedRefs("bizTransactionList", "bizTransaction", b)
	d.Sources, _ = m.typedRefs("sourceList", "source", b)
	d.Destinations, _ = m.typedRefs("destinationList", "destination", b)

	d.Sensors, _ = m.sensors("sensorElementList", b)
	if v, ok := m.get("certificationInfo"); ok {
		switch c := v.(type) {
		case []any:
			for _, x := range c {
				d.Certification = append(d.Certification, b.value(x))
			}
		default:
			d.Certification = []Value{b.value(c)}
		}
	}

	d.EventID, _ = m.text("eventID")
	if d.EventID == "" {
		d.EventID = meta.EventID
	}
	if o, ok := m.object("errorDeclaration"); ok {
		d.Error = b.errorDeclaration(o)
	} else if len(meta.Declaration) > 0 {
		// Declared by a later event: its errorDeclaration, beside the
		// document as received.
		if o, err := decodeOrdered(meta.Declaration); err == nil {
			if o, ok := o.(object); ok {
				d.Error = b.errorDeclaration(o)
			}
		}
	}
	d.Extensions = b.fields(m.rest())
	return d, nil
}

// errorDeclaration reads an errorDeclaration object.
func (b detailBuilder) errorDeclaration(o object) *ErrorDeclaration {
	em := newMembers(o)
	e := &ErrorDeclaration{}
	e.DeclarationTime, _ = em.text("declarationTime")
	if s, ok := em.text("reason"); ok {
		e.Reason = vocabulary(s)
	}
	if ids, ok := em.idList("correctiveEventIDs", b); ok {
		for _, id := range ids {
			if href, ok := b.events[id.Text]; ok {
				id.Href = href
			}
			e.Corrective = append(e.Corrective, id)
		}
	}
	e.Extra = b.fields(em.rest())
	return e
}

// eventTimes shows an RFC 3339 time in UTC and in its own offset.
func eventTimes(s, offset string) (utc, local string) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", ""
	}
	utc = FormatUTC(t)
	if loc, ok := parseOffset(offset); ok {
		local = t.In(loc).Format("2006-01-02 15:04:05.999") + " " + offset
	}
	return utc, local
}

// FormatUTC is how the detail page writes an event time in UTC.
func FormatUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.999") + " UTC" }

func parseOffset(s string) (*time.Location, bool) {
	t, err := time.Parse("-07:00", s)
	if err != nil {
		return nil, false
	}
	_, off := t.Zone()
	return time.FixedZone(s, off), true
}

// detailBuilder resolves identifiers to our lots and events.
type detailBuilder struct {
	lots   map[string]string
	events map[string]string
}

func (b detailBuilder) value(v any) Value {
	switch x := v.(type) {
	case string:
		out := Value{Kind: KindText, Text: x}
		if looksLikeURI(x) {
			out.Kind = KindURI
		}
		out.Href = b.lots[x]
		return out
	case json.Number:
		return Value{Kind: KindNumber, Text: x.String()}
	case bool:
		if x {
			return Value{Kind: KindBool, Text: "true"}
		}
		return Value{Kind: KindBool, Text: "false"}
	case nil:
		return Value{Kind: KindNull, Text: "null"}
	case object:
		return Value{Kind: KindObject, Fields: b.fields(x)}
	case []any:
		out := Value{Kind: KindList, Items: make([]Value, 0, len(x))}
		for _, it := range x {
			out.Items = append(out.Items, b.value(it))
		}
		return out
	}
	return Value{Kind: KindText, Text: fmt.Sprint(v)}
}

func (b detailBuilder) fields(o object) []Field {
	out := make([]Field, 0, len(o))
	for _, mb := range o {
		out = append(out, Field{Name: mb.key, Label: fieldLabel(mb.key), Value: b.value(mb.val)})
	}
	return out
}

// members reads an object's fields once each; what is left is rest.
type members struct {
	o    object
	used []bool
}

func newMembers(o object) *members { return &members{o: o, used: make([]bool, len(o))} }

func (m *members) find(key string) int {
	for i, mb := range m.o {
		if !m.used[i] && mb.key == key {
			return i
		}
	}
	return -1
}

// get takes a field whatever its shape.
func (m *members) get(key string) (any, bool) {
	i := m.find(key)
	if i < 0 {
		return nil, false
	}
	m.used[i] = true
	return m.o[i].val, true
}

// take takes a field only when accept says its shape is the expected one.
func (m *members) take(key string, accept func(any) bool) (any, bool) {
	i := m.find(key)
	if i < 0 || !accept(m.o[i].val) {
		return nil, false
	}
	m.used[i] = true
	return m.o[i].val, true
}

func (m *members) rest() object {
	var out object
	for i, mb := range m.o {
		if !m.used[i] {
			out = append(out, mb)
		}
	}
	return out
}

func isString(v any) bool { _, ok := v.(string); return ok }

func isScalar(v any) bool {
	switch v.(type) {
	case string, json.Number, bool:
		return true
	}
	return false
}

func isObject(v any) bool { _, ok := v.(object); return ok }

func isListOf(elem func(any) bool) func(any) bool {
	return func(v any) bool {
		l, ok := v.([]any)
		if !ok {
			return false
		}
		for _, x := range l {
			if !elem(x) {
				return false
			}
		}
		return true
	}
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return ""
}

func (m *members) text(key string) (string, bool) {
	v, ok := m.take(key, isString)
	if !ok {
		return "", false
	}
	return v.(string), true
}

func (m *members) scalar(key string) (string, bool) {
	v, ok := m.take(key, isScalar)
	if !ok {
		return "", false
	}
	return scalarText(v), true
}

func (m *members) object(key string) (object, bool) {
	v, ok := m.take(key, isObject)
	if !ok {
		return nil, false
	}
	return v.(object), true
}

func (m *members) scalarIdent(key string, b detailBuilder) (Value, bool) {
	v, ok := m.take(key, isString)
	if !ok {
		return Value{}, false
	}
	return b.value(v), true
}

func (m *members) idList(key string, b detailBuilder) ([]Value, bool) {
	v, ok := m.take(key, isListOf(isString))
	if !ok {
		return nil, false
	}
	var out []Value
	for _, x := range v.([]any) {
		out = append(out, b.value(x))
	}
	return out, true
}

func (m *members) vocabularies(key string) ([]Vocabulary, bool) {
	v, ok := m.take(key, isListOf(isString))
	if !ok {
		return nil, false
	}
	var out []Vocabulary
	for _, x := range v.([]any) {
		out = append(out, vocabulary(x.(string)))
	}
	return out, true
}

func (m *members) quantities(key string, b detailBuilder) ([]QuantityLine, bool) {
	v, ok := m.take(key, isListOf(isObject))
	if !ok {
		return nil, false
	}
	var out []QuantityLine
	for _, x := range v.([]any) {
		qm := newMembers(x.(object))
		var q QuantityLine
		q.Class, _ = qm.scalarIdent("epcClass", b)
		q.Quantity, _ = qm.scalar("quantity")
		if u, ok := qm.text("uom"); ok {
			q.UnitCode, q.Unit = u, UnitName(u)
		}
		q.Extra = b.fields(qm.rest())
		out = append(out, q)
	}
	return out, true
}

func (m *members) place(key string, b detailBuilder) *Place {
	o, ok := m.object(key)
	if !ok {
		return nil
	}
	pm := newMembers(o)
	p := &Place{}
	p.ID, _ = pm.scalarIdent("id", b)
	p.Extra = b.fields(pm.rest())
	return p
}

func (m *members) typedRefs(key, refKey string, b detailBuilder) ([]TypedRef, bool) {
	v, ok := m.take(key, isListOf(isObject))
	if !ok {
		return nil, false
	}
	var out []TypedRef
	for _, x := range v.([]any) {
		rm := newMembers(x.(object))
		var r TypedRef
		if s, ok := rm.text("type"); ok {
			r.Type = vocabulary(s)
		}
		r.Ref, _ = rm.scalarIdent(refKey, b)
		r.Extra = b.fields(rm.rest())
		out = append(out, r)
	}
	return out, true
}

func (m *members) sensors(key string, b detailBuilder) ([]Sensor, bool) {
	v, ok := m.take(key, isListOf(isObject))
	if !ok {
		return nil, false
	}
	var out []Sensor
	for _, x := range v.([]any) {
		sm := newMembers(x.(object))
		var s Sensor
		if o, ok := sm.object("sensorMetadata"); ok {
			s.Metadata = b.fields(o)
		}
		if reports, ok := sm.take("sensorReport", isListOf(isObject)); ok {
			for _, r := range reports.([]any) {
				s.Reports = append(s.Reports, b.sensorReport(r.(object)))
			}
		}
		s.Extra = b.fields(sm.rest())
		out = append(out, s)
	}
	return out, true
}

func (b detailBuilder) sensorReport(o object) SensorReport {
	m := newMembers(o)
	var r SensorReport
	r.Type, _ = m.text("type")
	r.Value, _ = m.scalar("value")
	r.Min, _ = m.scalar("minValue")
	r.Max, _ = m.scalar("maxValue")
	r.Mean, _ = m.scalar("meanValue")
	if u, ok := m.text("uom"); ok {
		r.UnitCode, r.Unit = u, UnitName(u)
	}
	r.Time, _ = m.text("time")
	r.Device, _ = m.scalarIdent("deviceID", b)
	r.Other = b.fields(m.rest())
	return r
}

// UnitName is a UN/ECE Rec 20 unit code as people write it ("KGM" -> "kg");
// an unknown code is its own name.
func UnitName(code string) string {
	if n, ok := unitNames[code]; ok {
		return n
	}
	return code
}

var unitNames = map[string]string{
	"KGM": "kg", "GRM": "g", "LTR": "L", "MLT": "mL", "H87": "pieces", "CEL": "°C",
}

// vocabulary puts a CBV value, bare or as a URI, in words.
func vocabulary(s string) Vocabulary { return Vocabulary{Text: s, Words: InWords(s)} }

// InWords is a CBV value in words: "in_transit" and
// "urn:epcglobal:cbv:disp:in_transit" are "In transit", "po" is
// "Purchase order". A URI outside the CBV has no words ("").
func InWords(s string) string {
	code := s
	switch {
	case strings.HasPrefix(s, "urn:epcglobal:cbv:"):
		code = s[strings.LastIndex(s, ":")+1:]
	case strings.HasPrefix(s, "https://ref.gs1.org/cbv/"), strings.HasPrefix(s, "https://gs1.org/voc/"):
		code = s[strings.LastIndex(s, "/")+1:]
		if i := strings.Index(code, "-"); i >= 0 {
			code = code[i+1:]
		}
	case looksLikeURI(s):
		return ""
	}
	if w, ok := cbvAbbreviations[code]; ok {
		return w
	}
	return sentence(humanize(code))
}

// cbvAbbreviations are the CBV codes that are not words.
var cbvAbbreviations = map[string]string{
	"po": "Purchase order", "poc": "Purchase order confirmation", "bol": "Bill of lading",
	"inv": "Invoice", "desadv": "Despatch advice", "recadv": "Receiving advice",
	"prodorder": "Production order", "rma": "Return merchandise authorisation",
	"cert": "Certificate", "testprd": "Test procedure", "testres": "Test result",
	"upevt": "Update event", "pedigree": "Pedigree",
}

func sentence(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}

func looksLikeURI(s string) bool {
	if strings.ContainsAny(s, " \t\n") {
		return false
	}
	i := strings.Index(s, ":")
	if i <= 0 {
		return false
	}
	switch strings.ToLower(s[:i]) {
	case "urn", "http", "https", "ni", "did", "tag", "mailto":
		return true
	}
	return strings.HasPrefix(s[i:], "://")
}

// fieldLabel is the words for a standard EPCIS key; an extension keeps its name.
func fieldLabel(key string) string {
	if l, ok := fieldLabels[key]; ok {
		return l
	}
	return key
}

var fieldLabels = map[string]string{
	"id": "ID", "time": "Time", "startTime": "Start time", "endTime": "End time",
	"deviceID": "Device", "deviceMetadata": "Device metadata", "rawData": "Raw data",
	"dataProcessingMethod": "Data processing method", "bizRules": "Business rules",
	"type": "Type", "value": "Value", "stringValue": "Text value", "booleanValue": "Boolean value",
	"hexBinaryValue": "Hex binary value", "uriValue": "URI value", "minValue": "Minimum",
	"maxValue": "Maximum", "meanValue": "Mean", "sDev": "Standard deviation",
	"percRank": "Percentile rank", "percValue": "Percentile value", "uom": "Unit",
	"component": "Component", "chemicalSubstance": "Chemical substance",
	"microorganism": "Microorganism", "coordinateReferenceSystem": "Coordinate reference system",
	"exception": "Exception", "epcClass": "Class", "quantity": "Quantity",
	"eventID": "Event ID", "recordTime": "Record time", "certificationInfo": "Certification",
}

// object is a JSON object with its keys in document order.
type object []member

type member struct {
	key string
	val any
}

// decodeOrdered reads one JSON value, objects kept in document order and
// numbers as written.
func decodeOrdered(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, err := readValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func readValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		o := object{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := k.(string)
			v, err := readValue(dec)
			if err != nil {
				return nil, err
			}
			o = append(o, member{key, v})
		}
		_, err := dec.Token()
		return o, err
	case '[':
		l := []any{}
		for dec.More() {
			v, err := readValue(dec)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		_, err := dec.Token()
		return l, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}
