// Package epcis reads, checks and writes GS1 EPCIS 2.0 documents and
// events (JSON / JSON-LD). It knows nothing of HTTP or the database: the
// inventory package stores what it parses, the web package serves it.
package epcis

import (
	"encoding/json"
	"time"
)

// Event is one EPCIS 2.0 event: the JSON object as received (with CBV
// values in their bare form) and the projection that queries, tracing and
// the ledger need.
type Event struct {
	// Raw is the event's JSON object as received, except that CBV values
	// (bizStep, disposition, persistentDisposition, bizTransaction,
	// source/destination types, error reason) are in their bare form and
	// recordTime is removed (the server sets it). Everything else,
	// extensions included, is byte for byte what the client sent.
	Raw json.RawMessage
	// Context holds the namespace prefixes the event's extensions use
	// (prefix -> IRI), from the document's and the event's @context.
	Context map[string]string

	Type           string    // ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent
	EventID        string    // as sent; "" when the client sent none
	EventTime      time.Time // UTC
	TimeZoneOffset string    // "+02:00"
	Action         string    // ADD, OBSERVE, DELETE; "" for a TransformationEvent
	BizStep        string    // bare CBV value or an extension URI; "" if none
	Disposition    string    // bare CBV value or an extension URI; "" if none
	// PersistentDispositionSet and Unset are bare CBV values or URIs.
	PersistentDispositionSet   []string
	PersistentDispositionUnset []string
	ReadPoint                  string // canonical key (see Key); "" if none
	BizLocation                string // canonical key; "" if none
	TransformationID           string // as sent
	// Identifiers lists every EPC and EPC class the event names, with its
	// role, in document order.
	Identifiers     []Identifier
	BizTransactions []Typed // Type is the bare CBV type or a URI; "" if untyped
	Sources         []Typed
	Destinations    []Typed
	SensorReports   int // number of sensorReport entries, for display
	Error           *ErrorDeclaration
	// HashID is the CBV 2.0 event hash (ni:///sha-256;...?ver=CBV2.0).
	HashID string
}

// Roles of an identifier in an event.
const (
	RoleEPC    = "epc"    // epcList, or quantityList when Class
	RoleParent = "parent" // parentID
	RoleChild  = "child"  // childEPCs, or childQuantityList when Class
	RoleInput  = "input"  // inputEPCList, or inputQuantityList when Class
	RoleOutput = "output" // outputEPCList, or outputQuantityList when Class
)

// Identifier is one EPC (an instance) or EPC class (with an optional
// quantity) named by an event.
type Identifier struct {
	Role  string
	Key   string // canonical key, the same for the URN and Digital Link forms
	URI   string // as sent
	Class bool   // from a quantity list (epcClass)
	// Quantity is the decimal as sent ("200", "12.5"); "" when absent.
	Quantity string
	UOM      string // UN/ECE Rec 20 code; "" when absent
}

// Typed is a business transaction, source or destination: a CBV type
// (bare) or extension URI, and an identifier URI as sent. Key is the
// identifier's canonical key.
type Typed struct {
	Type string
	ID   string
	Key  string
}

// ErrorDeclaration says an event was recorded in error.
type ErrorDeclaration struct {
	DeclarationTime    time.Time
	Reason             string // bare CBV error reason or a URI; "" if none
	CorrectiveEventIDs []string
}
