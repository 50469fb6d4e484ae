package views

import (
	"github.com/a-h/templ"

	"batchtrack/inventory"
)

// FieldErrors maps a field name (the API's field names, as the domain
// reports them) to its message. The key "" holds a message for the form.
type FieldErrors map[string]string

// FromValidation collects a domain error's fields, keeping the first
// message per field.
func FromValidation(fields []inventory.FieldError) FieldErrors {
	e := FieldErrors{}
	for _, f := range fields {
		if _, ok := e[f.Field]; !ok {
			e[f.Field] = f.Message
		}
	}
	return e
}

// Add sets a message unless the field has one.
func (e FieldErrors) Add(field, message string) {
	if _, ok := e[field]; !ok {
		e[field] = message
	}
}

// Any reports whether there is an error at all.
func (e FieldErrors) Any() bool { return len(e) > 0 }

// Option is one choice of a select.
type Option struct {
	Value, Label string
}

// BatchForm is the new-batch form as typed.
type BatchForm struct {
	CSRF             string
	BatchNumber      string
	ProductID        string
	LocationID       string
	ProductionDate   string
	ExpiryDate       string
	BestBeforeDate   string
	QuantityProduced string
	UnitOfMeasure    string
	QualityStatus    string
	Notes            string
	Errors           FieldErrors
	Products         []Option
	Locations        []Option
	Units            []Option // value: Rec 20 code
}

// ConsumeForm is the inline consume form of a batch page.
type ConsumeForm struct {
	CSRF            string
	BatchID         string
	Quantity        string
	Reason          string
	ExpectedVersion int64
	Unit            string
	Release         inventory.Release // the site's rule for pending lots
	Errors          FieldErrors
	// Problem explains a refusal with the batch's current values.
	Problem *ConsumeProblem
	// Done is the confirmation after a successful consume.
	Done string
}

// ConsumeProblem is why a consume was refused, with the current state.
type ConsumeProblem struct {
	Kind              string // insufficient-quantity, version-conflict, not-consumable, lock-timeout
	Title             string
	Detail            string
	QuantityAvailable string
	CurrentVersion    int64
}

// StatusForm changes a batch's quality status; a reason is required.
type StatusForm struct {
	CSRF      string
	BatchID   string
	CanRecall bool   // only admins recall
	Current   string // ShownStatus's key
	// CurrentReason is why the lot is on hold, rejected or recalled now.
	CurrentReason string
	Reason        string
	Errors        FieldErrors
	BatchNumber   string
}

// EditBatchForm edits metadata with optimistic locking: Version is the
// version the form was loaded at, Orig* what the fields said then.
type EditBatchForm struct {
	CSRF           string
	BatchID        string
	BatchNumber    string
	Version        int64
	ProductionDate string
	ExpiryDate     string
	BestBeforeDate string
	Notes          string
	Orig           EditValues
	Errors         FieldErrors
	// Changes lists what someone else changed since the form was loaded.
	Changes []FieldChange
}

// EditValues are the editable fields as text.
type EditValues struct {
	ProductionDate, ExpiryDate, BestBeforeDate, Notes string
}

// FieldChange is one field someone else changed under a stale edit.
type FieldChange struct {
	Field, Label, Was, Now, Yours string
}

// ProductForm is the new-product form.
type ProductForm struct {
	CSRF        string
	GTIN        string
	Name        string
	Description string
	Category    string
	Unit        string // Rec 20 code, or a name as typed
	YieldMin    string // as typed
	YieldMax    string
	Errors      FieldErrors
	Units       []Option // value: Rec 20 code
}

// LocationForm is the new- and edit-location form; ID is empty for a new
// location.
type LocationForm struct {
	CSRF     string
	ID       string
	GLN      string
	Name     string
	Type     string
	Address  string
	ParentID string
	PartyID  string
	Errors   FieldErrors
	Types    []string
	Parents  []Option
	Parties  []Option
}

// Action is where the form posts.
func (f LocationForm) Action() string {
	if f.ID == "" {
		return "/locations"
	}
	return "/locations/" + f.ID + "/edit"
}

// QuantityRow is one line of an event's quantity list as typed.
type QuantityRow struct {
	Batch    string // lot number
	Product  string // product id, when the lot number alone names lots of several products
	Quantity string
}

// EventForm is the new-event form; its fields follow the event type.
type EventForm struct {
	CSRF          string
	EventType     string
	Action        string
	EventTime     string // datetime-local, in the offset EventTimezone
	EventTimezone string
	BizStep       string
	Disposition   string
	ReadPoint     string // GLN
	BizLocation   string // GLN
	Quantities    []QuantityRow
	Inputs        []QuantityRow
	Outputs       []QuantityRow
	Notes         string
	Errors        FieldErrors
	Locations     []Option            // value: GLN
	Lots          []Option            // suggestions: value lot number, label its product
	LotChoices    map[string][]Option // products to choose from, by a lot number several products use
	EventTypes    []string
	Actions       []string
	BizSteps      []string
	Dispositions  []string
}

// IsTransformation says which shape the form takes.
func (f EventForm) IsTransformation() bool { return f.EventType == "TransformationEvent" }

// ImportForm is the CSV import: the text, and after a preview its rows.
type ImportForm struct {
	CSRF    string
	CSV     string
	Rows    []ImportRow
	Errors  FieldErrors // "" for the file as a whole
	Checked bool        // a preview was made
}

// Valid says whether every row may be committed.
func (f ImportForm) Valid() bool {
	if !f.Checked || len(f.Rows) == 0 || f.Errors.Any() {
		return false
	}
	for _, r := range f.Rows {
		if len(r.Errors) > 0 {
			return false
		}
	}
	return true
}

// ImportRow is one CSV row as understood, with its problems.
type ImportRow struct {
	Line             int
	BatchNumber      string
	GTIN             string
	ProductName      string
	GLN              string
	LocationName     string
	ProductionDate   string
	ExpiryDate       string
	QuantityProduced string
	Unit             string
	QualityStatus    string
	Errors           []string
}

func fieldAttrs(id string, err string, describedBy ...string) templ.Attributes {
	a := templ.Attributes{"id": id}
	ids := describedBy
	if err != "" {
		a["aria-invalid"] = "true"
		ids = append(ids, id+"-error")
	}
	if len(ids) > 0 {
		s := ""
		for i, d := range ids {
			if i > 0 {
				s += " "
			}
			s += d
		}
		a["aria-describedby"] = s
	}
	return a
}
