package views

import (
	"net/url"
	"strconv"
	"strings"

	"batchtrack/inventory"
)

// Stock forms: receive, ship, transform and move, with their rows as typed.

// StockKinds are the four forms, in the nav's order.
var StockKinds = []string{"receive", "ship", "transform", "move"}

// ProductChoice is a product to pick, with the unit its quantities are in.
type ProductChoice struct {
	ID, Label, Unit string // Unit: its name ("kg")
}

// LotRow is one lot and quantity of a shipment, transformation input or
// move, as typed; Lot/Unit/State describe the chosen lot.
type LotRow struct {
	BatchID  string
	Lot      string // the picker's text: the chosen lot's label, or a lot number typed
	Quantity string
	Unit     string // the lot's unit, by name
	State    string // "" (usable) or pending, on_hold, rejected, recalled, expired
	Status   string // the shown status badge
	Detail   string // available and expiry
}

// OutputRow is one lot a transformation makes, as typed.
type OutputRow struct {
	ProductID   string
	BatchNumber string
	Quantity    string
	Unit        string // the product's unit, by name
	ExpiryDate  string
}

// PlacePick is a location chosen by the location picker.
type PlacePick struct {
	ID    string
	Label string // the picker's text
}

// StockForm is any of the four stock forms as typed, with its errors.
type StockForm struct {
	CSRF string
	Kind string // receive, ship, transform, move
	// Receive.
	ProductID      string
	LocationID     string // ours: receive at, transform at
	Quantity       string
	BatchNumber    string
	ShipFrom       PlacePick
	ProductionDate string
	ExpiryDate     string
	BestBeforeDate string
	Reference      string // a PO, despatch advice or bill of lading number
	ReferenceType  string // po, desadv, bol
	// Ship, transform, move.
	Rows    []LotRow // items, inputs, or the one lot moved
	Outputs []OutputRow
	ShipTo  PlacePick
	// ToLocationID is a move's destination.
	ToLocationID string
	YieldReason  string
	// AskYield shows the yield reason (the server said it is needed).
	AskYield bool
	Notes    string
	// The FEFO helper's choices.
	FEFOProductID, FEFOLocationID, FEFOQuantity string
	Errors                                      FieldErrors
	Problem                                     string // a refusal of the whole form
	Products                                    []ProductChoice
	Locations                                   []Option // ours
}

// RowsField is the form field name of the lot rows.
func (f StockForm) RowsField() string {
	switch f.Kind {
	case "ship":
		return "items"
	case "transform":
		return "inputs"
	}
	return ""
}

// Title is the form's heading.
func (f StockForm) Title() string {
	switch f.Kind {
	case "receive":
		return "Receive stock"
	case "ship":
		return "Ship stock"
	case "transform":
		return "Transform lots"
	case "move":
		return "Move stock"
	}
	return "Stock"
}

// rowPrefix is the field name prefix of row i ("inputs[2]"), or "" for the
// move form's single lot.
func rowPrefix(rows string, i int) string {
	if rows == "" {
		return ""
	}
	return rows + "[" + strconv.Itoa(i) + "]"
}

func joinField(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func fieldID(name string) string {
	return "f-" + strings.NewReplacer("[", "-", "]", "", ".", "-", "_", "-").Replace(name)
}

// LotPicks is the lot picker's answer.
type LotPicks struct {
	Lots  []inventory.PickableLot
	Today string
}

// PlacePicks is the location picker's answer.
type PlacePicks struct {
	Locations []inventory.PickableLocation
}

// CorrectionForm declares an event in error from its page.
type CorrectionForm struct {
	CSRF       string
	EventID    string
	Reason     string
	Note       string
	Corrective string // the EPCIS eventID of a corrective event
	Errors     FieldErrors
	Problem    string
	Open       bool // shown open (after a refusal)
}

// EventStock is an event's stock effects and their correction, shown on
// the event page.
type EventStock struct {
	Ledger     []inventory.LedgerLine
	Declared   *inventory.Declaration
	CanCorrect bool
	Form       CorrectionForm
}

// ReasonWords says a CBV error reason in plain words.
func ReasonWords(r string) string {
	switch r {
	case "did_not_occur":
		return "It did not happen"
	case "incorrect_data":
		return "It happened, but was recorded wrongly"
	}
	return r
}

// pickLabel is how a chosen lot reads in its picker.
func pickLabel(b inventory.Batch) string {
	return b.BatchNumber + " · " + b.ProductName + " · " + b.LocationName
}

// PickLabel is the picker text of a chosen lot.
func PickLabel(b inventory.Batch) string { return pickLabel(b) }

// PlaceLabel is the picker text of a chosen location.
func PlaceLabel(l inventory.PickableLocation) string {
	s := l.Name
	if l.PartyName != "" {
		s += " · " + l.PartyName
	}
	return s + " · " + l.GLN
}

// stockURL opens a stock form on a lot.
func stockURL(kind string, b inventory.Batch) string {
	return "/stock/" + kind + "?" + url.Values{"batch_id": {b.ID.String()}, "product_id": {b.ProductID.String()},
		"location_id": {b.LocationID.String()}}.Encode()
}
