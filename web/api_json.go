package web

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// The API's JSON shapes (api.md). Field names are a contract.

type productJSON struct {
	ID          uuid.UUID          `json:"id"`
	GTIN        string             `json:"gtin"`
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Category    string             `json:"category"`
	Unit        string             `json:"unit"` // the unit's name ("kg"), as before Rec 20 codes
	UOM         string             `json:"uom"`  // its UN/ECE Rec 20 code ("KGM")
	YieldMin    *quantity.Quantity `json:"yield_min"`
	YieldMax    *quantity.Quantity `json:"yield_max"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
}

func toProductJSON(p inventory.Product) productJSON {
	name, code := unitForms(p.UOM)
	return productJSON{p.ID, p.GTIN, p.Name, p.Description, p.Category, name, code, p.YieldMin, p.YieldMax, p.CreatedAt, p.UpdatedAt}
}

// unitForms gives a unit's name and Rec 20 code. A result kept for an
// Idempotency-Key before units were codes holds the name; it answers the same.
func unitForms(uom string) (name, code string) {
	if u, ok := gs1.LookupUnit(uom); ok {
		return u.Name, u.Code
	}
	return uom, uom
}

type locationJSON struct {
	ID        uuid.UUID  `json:"id"`
	GLN       string     `json:"gln"`
	Name      string     `json:"name"`
	Type      string     `json:"type"`
	Address   string     `json:"address"`
	ParentID  *uuid.UUID `json:"parent_id"`
	PartyID   *uuid.UUID `json:"party_id"`
	PartyName string     `json:"party_name"`
	Ours      bool       `json:"ours"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func toLocationJSON(l inventory.Location) locationJSON {
	return locationJSON{l.ID, l.GLN, l.Name, l.Type, l.Address, l.ParentID, l.PartyID, l.PartyName, l.Ours, l.CreatedAt, l.UpdatedAt}
}

type refJSON struct {
	ID   uuid.UUID `json:"id"`
	GTIN string    `json:"gtin,omitempty"`
	GLN  string    `json:"gln,omitempty"`
	Name string    `json:"name"`
}

type batchJSON struct {
	ID                uuid.UUID         `json:"id"`
	BatchNumber       string            `json:"batch_number"`
	Product           refJSON           `json:"product"`
	Location          refJSON           `json:"location"`
	ProductionDate    jsonDate          `json:"production_date"`
	ExpiryDate        *jsonDate         `json:"expiry_date"`
	BestBeforeDate    *jsonDate         `json:"best_before_date"`
	QuantityProduced  quantity.Quantity `json:"quantity_produced"`
	QuantityAvailable quantity.Quantity `json:"quantity_available"`
	UnitOfMeasure     string            `json:"unit_of_measure"` // the unit's name ("kg"), as before Rec 20 codes
	UOM               string            `json:"uom"`             // its UN/ECE Rec 20 code ("KGM")
	QualityStatus     string            `json:"quality_status"`
	Notes             string            `json:"notes"`
	Version           int64             `json:"version"`
	DigitalLink       string            `json:"digital_link"`
	CreatedAt         time.Time         `json:"created_at"`
	UpdatedAt         time.Time         `json:"updated_at"`
	StatusReason      string            `json:"status_reason"` // why it is on hold, rejected or recalled
	Origin            string            `json:"origin"`        // produced, received or moved
	TLCSource         string            `json:"tlc_source"`    // GLN of who assigned the traceability lot code
	KDEs              map[string]string `json:"kdes"`          // key data elements of its creation; {} for none
}

func (s *Server) toBatchJSON(b inventory.Batch) batchJSON {
	unit, uom := unitForms(b.UOM)
	kdes := b.KDEs
	if kdes == nil {
		kdes = map[string]string{}
	}
	return batchJSON{
		ID: b.ID, BatchNumber: b.BatchNumber,
		Product:        refJSON{ID: b.ProductID, GTIN: b.ProductGTIN, Name: b.ProductName},
		Location:       refJSON{ID: b.LocationID, GLN: b.LocationGLN, Name: b.LocationName},
		ProductionDate: jsonDate{b.ProductionDate}, ExpiryDate: dateJSON(b.ExpiryDate),
		BestBeforeDate: dateJSON(b.BestBeforeDate), QuantityProduced: b.QuantityProduced,
		QuantityAvailable: b.QuantityAvailable, UnitOfMeasure: unit, UOM: uom,
		QualityStatus: string(b.QualityStatus), Notes: b.Notes, Version: b.Version,
		DigitalLink: s.digitalLink(b), CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
		StatusReason: b.StatusReason, Origin: b.Origin, TLCSource: b.TLCSource, KDEs: kdes,
	}
}

// digitalLink is the batch's GS1 Digital Link URI on this app's resolver.
func (s *Server) digitalLink(b inventory.Batch) string {
	return gs1.DigitalLink(s.deps.PublicURL, b.ProductGTIN, b.BatchNumber, b.ExpiryDate)
}

type consumptionJSON struct {
	ID                     uuid.UUID         `json:"id"`
	BatchID                uuid.UUID         `json:"batch_id"`
	Kind                   string            `json:"kind"`
	Quantity               quantity.Quantity `json:"quantity"`
	QuantityAvailableAfter quantity.Quantity `json:"quantity_available_after"`
	VersionAfter           int64             `json:"version_after"`
	Reason                 string            `json:"reason"`
	Actor                  string            `json:"actor"`
	EventID                *uuid.UUID        `json:"event_id"`
	CreatedAt              time.Time         `json:"created_at"`
	ReversesID             *uuid.UUID        `json:"reverses_id"`   // a reversal's row undone (null: the opening quantity)
	ReversesKind           *string           `json:"reverses_kind"` // the kind a reversal undoes
}

func toConsumptionJSON(c inventory.Consumption) consumptionJSON {
	return consumptionJSON{c.ID, c.BatchID, c.Kind, c.Quantity, c.QuantityAvailableAfter, c.VersionAfter,
		c.Reason, c.Actor, c.EventID, c.CreatedAt, c.ReversesID, optString(c.ReversesKind)}
}

// optString is s, or nil (JSON null) when empty.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type eventJSON struct {
	ID                 uuid.UUID                `json:"id"`
	EventType          string                   `json:"event_type"`
	Action             *string                  `json:"action"`
	EventTime          time.Time                `json:"event_time"`
	EventTimezone      string                   `json:"event_timezone"`
	RecordedAt         time.Time                `json:"recorded_at"`
	BizStep            *string                  `json:"biz_step"`
	Disposition        *string                  `json:"disposition"`
	ReadPoint          *string                  `json:"read_point"`
	BizLocation        *string                  `json:"biz_location"`
	EPCList            []string                 `json:"epc_list"`
	QuantityList       []inventory.QuantityItem `json:"quantity_list"`
	InputQuantityList  []inventory.QuantityItem `json:"input_quantity_list"`
	OutputQuantityList []inventory.QuantityItem `json:"output_quantity_list"`
	BatchIDs           []uuid.UUID              `json:"batch_ids"`
	ILMD               json.RawMessage          `json:"ilmd"`
	Notes              string                   `json:"notes"`
	SourceType         string                   `json:"source_type"`
	Actor              string                   `json:"actor"`
	EventID            string                   `json:"event_id"` // the EPCIS eventID
	DeclaredInErrorAt  *time.Time               `json:"declared_in_error_at,omitempty"`
}

func toEventJSON(e inventory.Event) eventJSON {
	nonNil := func(l []inventory.QuantityItem) []inventory.QuantityItem {
		if l == nil {
			return []inventory.QuantityItem{}
		}
		return l
	}
	epcs := e.EPCList
	if epcs == nil {
		epcs = []string{}
	}
	ids := e.BatchIDs()
	if ids == nil {
		ids = []uuid.UUID{}
	}
	ilmd := e.ILMD
	if len(ilmd) == 0 {
		ilmd = json.RawMessage("null")
	}
	return eventJSON{
		ID: e.ID, EventType: e.EventType, Action: e.Action, EventTime: e.EventTime, EventTimezone: e.EventTimezone,
		RecordedAt: e.RecordedAt, BizStep: e.BizStep, Disposition: e.Disposition, ReadPoint: e.ReadPoint,
		BizLocation: e.BizLocation, EPCList: epcs, QuantityList: nonNil(e.QuantityList),
		InputQuantityList: nonNil(e.InputQuantityList), OutputQuantityList: nonNil(e.OutputQuantityList),
		BatchIDs: ids, ILMD: ilmd, Notes: e.Notes, SourceType: e.SourceType, Actor: e.Actor,
		EventID: e.EventID, DeclaredInErrorAt: e.DeclaredInErrorAt,
	}
}

type listJSON[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func toList[T, U any](p inventory.Page[T], f func(T) U) listJSON[U] {
	out := listJSON[U]{Items: make([]U, 0, len(p.Items))}
	for _, it := range p.Items {
		out.Items = append(out.Items, f(it))
	}
	if p.NextCursor != "" {
		out.NextCursor = &p.NextCursor
	}
	return out
}

// sendJSON writes v with status.
func sendJSON(c *fiber.Ctx, status int, v any) error {
	body, err := jsonMarshal(v)
	if err != nil {
		return err
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(body)
}

func etag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }

// jsonMarshal encodes without HTML escaping: API bodies are JSON, and a
// client reading "<script>" back should get exactly what it stored.
func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
