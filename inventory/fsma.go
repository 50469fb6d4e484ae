package inventory

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/gs1"
	"batchtrack/quantity"
)

// The FSMA 204 electronic sortable spreadsheet (21 CFR 1.1455): every
// Critical Tracking Event of the chosen lots, and of the lots transformed
// from and into them, with its Key Data Elements (1.1325–1.1350).

// FSMA CTEs.
const (
	CTEHarvesting     = "Harvesting"
	CTECooling        = "Cooling"
	CTEInitialPacking = "Initial packing"
	CTEReceiving      = "Receiving"
	CTEShipping       = "Shipping"
	CTETransformation = "Transformation"
)

// FSMAMaxDays bounds a report's date range (records are kept two years).
const FSMAMaxDays = 731

// FSMARequest names the lots (all of a product's, or one TLC) and the days.
type FSMARequest struct {
	ProductID *uuid.UUID
	GTIN      string
	Lot       string
	From, To  time.Time // days, inclusive, UTC
}

// FSMARow is one CTE of one lot, its KDEs in the template's column order.
type FSMARow struct {
	CTE             string
	EventTime       time.Time
	TLC             string // (01)GTIN(10)lot
	TLCSource       string
	Product         string
	Quantity        quantity.Quantity
	HasQuantity     bool
	Unit            string
	Location        string
	ShipFrom        string
	ShipTo          string
	PreviousSource  string // receiving: the immediate previous source
	HarvestCooling  string // harvesting, cooling, initial packing: the harvest and cooling data
	ReferenceType   string
	ReferenceNumber string
	InputTLCs       string // transformation: "TLC (qty unit); ..."
	EventID         string
	MissingKDEs     []string
}

// FSMAReport is the spreadsheet's rows, sorted by date then TLC.
type FSMAReport struct {
	Request FSMARequest
	Rows    []FSMARow
}

// FSMAColumns are the spreadsheet's headers, in order.
var FSMAColumns = []string{
	"Critical tracking event", "Event date", "Traceability lot code", "Traceability lot code source",
	"Product description", "Quantity", "Unit of measure", "Location of the event",
	"Ship-from location", "Ship-to or receiving location", "Immediate previous source",
	"Harvest and cooling data", "Reference document type", "Reference document number",
	"Input traceability lot codes", "EPCIS event id", "Missing KDEs",
}

// Cells are the row's values as text, in FSMAColumns' order.
func (r FSMARow) Cells() []string {
	q := ""
	if r.HasQuantity {
		q = r.Quantity.String()
	}
	return []string{r.CTE, r.EventTime.UTC().Format("2006-01-02 15:04:05Z"), r.TLC, r.TLCSource, r.Product, q, r.Unit,
		r.Location, r.ShipFrom, r.ShipTo, r.PreviousSource, r.HarvestCooling, r.ReferenceType, r.ReferenceNumber,
		r.InputTLCs, r.EventID, strings.Join(r.MissingKDEs, "; ")}
}

func (s *Service) checkFSMARequest(r *FSMARequest) error {
	var v ValidationError
	r.GTIN, r.Lot = strings.TrimSpace(r.GTIN), strings.TrimSpace(r.Lot)
	switch {
	case r.ProductID != nil && (r.GTIN != "" || r.Lot != ""):
		v.Add("product_id", "name either a product or a traceability lot code (GTIN and lot), not both")
	case r.ProductID == nil && r.GTIN == "" && r.Lot == "":
		v.Add("product_id", "is required: name a product, or a traceability lot code (GTIN and lot)")
	case r.ProductID == nil:
		if g, err := gs1.NormalizeGTIN(r.GTIN); err != nil {
			v.Add("gtin", err.Error())
		} else {
			r.GTIN = g
		}
		if r.Lot == "" {
			v.Add("lot", "is required with a GTIN")
		} else if err := gs1.ValidateLot(r.Lot); err != nil {
			v.Add("lot", err.Error())
		}
	}
	if r.From.IsZero() {
		v.Add("from", "is required")
	}
	if r.To.IsZero() {
		v.Add("to", "is required")
	}
	if !r.From.IsZero() && !r.To.IsZero() {
		r.From = day(r.From)
		r.To = day(r.To)
		if r.To.Before(r.From) {
			v.Add("to", "must not be before from")
		} else if r.To.Sub(r.From) > FSMAMaxDays*24*time.Hour {
			v.Add("to", "must be at most two years after from")
		}
	}
	return v.OrNil()
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// FSMAReport builds the sortable spreadsheet's rows.
func (s *Service) FSMAReport(ctx context.Context, r FSMARequest) (FSMAReport, error) {
	if err := s.checkFSMARequest(&r); err != nil {
		return FSMAReport{}, err
	}
	rep := FSMAReport{Request: r, Rows: []FSMARow{}}
	q := s.store.Queries
	var seedIDs []uuid.UUID
	var err error
	if r.ProductID != nil {
		exists, err := q.FSMAProductExists(ctx, *r.ProductID)
		if err != nil {
			return rep, db.Translate(err)
		}
		if !exists {
			return rep, &NotFoundError{What: "product", Field: "product_id"}
		}
		seedIDs, err = q.FSMABatchesOfProduct(ctx, *r.ProductID)
		if err != nil {
			return rep, db.Translate(err)
		}
	} else {
		seedIDs, err = q.FSMABatchesOfLot(ctx, db.FSMABatchesOfLotParams{Gtin: r.GTIN, BatchNumber: r.Lot})
		if err != nil {
			return rep, db.Translate(err)
		}
		if len(seedIDs) == 0 {
			return rep, &NotFoundError{What: "lot", Field: "lot"}
		}
	}
	if len(seedIDs) == 0 {
		return rep, nil
	}
	batchIDs, err := q.FSMATraceBatches(ctx, seedIDs)
	if err != nil {
		return rep, db.Translate(err)
	}
	events, err := q.FSMAEventRows(ctx, db.FSMAEventRowsParams{BatchIds: batchIDs, FromTime: r.From, ToTime: r.To.Add(24 * time.Hour)})
	if err != nil {
		return rep, db.Translate(err)
	}
	type pending struct {
		row   FSMARow
		id    uuid.UUID
		kind  string
		step  string
		tlcs  string
		kdes  map[string]string
		place string
	}
	var ps []pending
	eventSet := map[uuid.UUID]bool{}
	glns := map[string]bool{}
	for _, e := range events {
		p := pending{id: e.ID, kind: e.EventType, step: e.BizStep, tlcs: e.TlcSource}
		p.row.EventID, p.row.EventTime = e.EventID, e.EventTime
		if e.Quantity != nil {
			p.row.Quantity, p.row.HasQuantity = *e.Quantity, true
		}
		p.row.Unit = gs1.UnitName(e.Uom)
		p.row.TLC = tlcText(e.Gtin, e.BatchNumber)
		p.row.Product = e.ProductName + " (GTIN " + e.Gtin + ")"
		p.row.Location = placeText(e.LocationName, e.LocationGln, e.LocationAddress)
		p.place = p.row.Location
		p.kdes = kdeStrings(e.Kdes)
		if p.tlcs != "" {
			glns[p.tlcs] = true
		}
		eventSet[p.id] = true
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return rep, nil
	}
	eventIDs := make([]uuid.UUID, 0, len(eventSet))
	for id := range eventSet {
		eventIDs = append(eventIDs, id)
	}
	refs, err := s.fsmaReferences(ctx, eventIDs)
	if err != nil {
		return rep, err
	}
	parties, err := s.fsmaParties(ctx, eventIDs)
	if err != nil {
		return rep, err
	}
	inputs, err := s.fsmaInputs(ctx, eventIDs)
	if err != nil {
		return rep, err
	}
	gs := make([]string, 0, len(glns))
	for g := range glns {
		gs = append(gs, g)
	}
	places, err := s.fsmaPlaces(ctx, gs)
	if err != nil {
		return rep, err
	}
	for _, p := range ps {
		row := p.row
		if p.tlcs != "" {
			row.TLCSource = places[p.tlcs]
			if row.TLCSource == "" {
				row.TLCSource = "GLN " + p.tlcs
			}
		}
		if rs := refs[p.id]; len(rs) > 0 {
			var types, nums []string
			for _, r := range rs {
				types = append(types, r[0])
				nums = append(nums, r[1])
			}
			row.ReferenceType, row.ReferenceNumber = strings.Join(types, "; "), strings.Join(nums, "; ")
		}
		ep := parties[p.id]
		switch {
		case p.kind == "TransformationEvent":
			row.CTE = CTETransformation
			row.InputTLCs = strings.Join(inputs[p.id], "; ")
			if row.ReferenceType == "" {
				// Our own production record is the transformation's reference document.
				row.ReferenceType, row.ReferenceNumber = "Production record (EPCIS transformation event)", row.EventID
			}
		case p.step == "receiving":
			row.CTE = CTEReceiving
			row.ShipFrom = ep.sourceLocation
			row.ShipTo = p.place
			row.PreviousSource = ep.sourceParty
			if row.PreviousSource == "" {
				row.PreviousSource = ep.sourceLocation
			}
		case p.step == "shipping":
			row.CTE = CTEShipping
			row.ShipFrom = p.place
			if row.ShipFrom == "" {
				row.ShipFrom = ep.sourceLocation
			}
			row.ShipTo = ep.destLocation
			if ep.destParty != "" && row.ShipTo != "" {
				row.ShipTo += "; for " + ep.destParty
			}
		default:
			switch p.kdes["stage"] {
			case "harvesting":
				row.CTE = CTEHarvesting
			case "cooling":
				row.CTE = CTECooling
			case "initial_packing":
				row.CTE = CTEInitialPacking
			default:
				continue // a lot recorded without a stage is no harvest, cooling or packing
			}
			row.HarvestCooling = harvestText(p.kdes)
			if row.ReferenceType == "" {
				row.ReferenceType, row.ReferenceNumber = "Commissioning record (EPCIS object event)", row.EventID
			}
		}
		row.MissingKDEs = missingKDEs(row, p.kdes)
		rep.Rows = append(rep.Rows, row)
	}
	sort.SliceStable(rep.Rows, func(i, j int) bool {
		a, b := rep.Rows[i], rep.Rows[j]
		if !a.EventTime.Equal(b.EventTime) {
			return a.EventTime.Before(b.EventTime)
		}
		return a.TLC < b.TLC
	})
	return rep, nil
}

// kdeStrings reads a lot's KDEs; a value that is not text is kept as its JSON.
func kdeStrings(raw []byte) map[string]string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return map[string]string{}
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		var str string
		if json.Unmarshal(v, &str) == nil {
			out[k] = str
		} else if string(v) != "null" {
			out[k] = string(v)
		}
	}
	return out
}

// tlcText is a TLC in GS1 element strings: (01)GTIN(10)lot.
func tlcText(gtin, lot string) string { return "(01)" + gtin + "(10)" + lot }

func placeText(name, gln, address string) string {
	var parts []string
	if name != "" {
		parts = append(parts, name)
	}
	if gln != "" {
		parts = append(parts, "GLN "+gln)
	}
	if address != "" {
		parts = append(parts, address)
	}
	return strings.Join(parts, ", ")
}

var harvestKDEs = [][2]string{{"harvestLocation", "harvest location"}, {"field", "field"},
	{"harvestDate", "harvest date"}, {"coolingDate", "cooling date"}, {"packingDate", "packing date"}}

func harvestText(k map[string]string) string {
	var parts []string
	for _, h := range harvestKDEs {
		if v := k[h[0]]; v != "" {
			parts = append(parts, h[1]+": "+v)
		}
	}
	return strings.Join(parts, "; ")
}

// missingKDEs names every KDE the rule requires of the row's CTE that it lacks.
func missingKDEs(r FSMARow, k map[string]string) []string {
	miss := []string{}
	need := func(ok bool, name string) {
		if !ok {
			miss = append(miss, name)
		}
	}
	common := func() {
		need(r.HasQuantity, "quantity")
		need(r.Unit != "", "unit of measure")
		need(r.Product != "", "product description")
	}
	tlc := func() {
		need(r.TLC != "", "traceability lot code")
		need(r.TLCSource != "", "traceability lot code source")
	}
	ref := func() {
		need(r.ReferenceType != "", "reference document type")
		need(r.ReferenceNumber != "", "reference document number")
	}
	switch r.CTE {
	case CTEHarvesting:
		common()
		need(r.Location != "", "location of the event")
		need(k["harvestLocation"] != "", "harvest location")
		need(k["field"] != "", "field")
		need(k["harvestDate"] != "", "harvest date")
		ref()
	case CTECooling:
		common()
		need(r.Location != "", "location of the event")
		need(k["harvestLocation"] != "", "harvest location")
		need(k["coolingDate"] != "", "cooling date")
		ref()
	case CTEInitialPacking:
		tlc()
		common()
		need(r.Location != "", "location of the event")
		need(k["harvestLocation"] != "", "harvest location")
		need(k["harvestDate"] != "", "harvest date")
		need(k["packingDate"] != "", "packing date")
		ref()
	case CTEReceiving:
		tlc()
		common()
		need(r.PreviousSource != "", "immediate previous source")
		need(r.ShipTo != "", "receiving location")
		ref()
	case CTEShipping:
		tlc()
		common()
		need(r.ShipFrom != "", "ship-from location")
		need(r.ShipTo != "", "ship-to location")
		ref()
	case CTETransformation:
		tlc()
		common()
		need(r.InputTLCs != "", "input traceability lot codes")
		need(r.Location != "", "location of the event")
		ref()
	}
	return miss
}

// btTypes are the CBV business transaction types in plain words.
var btTypes = map[string]string{"po": "Purchase order", "desadv": "Despatch advice", "bol": "Bill of lading",
	"inv": "Invoice", "recadv": "Receiving advice", "prodorder": "Production order", "pedigree": "Pedigree",
	"poc": "Purchase order confirmation", "rma": "Return merchandise authorisation", "cert": "Certificate"}

func (s *Service) fsmaReferences(ctx context.Context, events []uuid.UUID) (map[uuid.UUID][][2]string, error) {
	rows, err := s.store.FSMAReferences(ctx, events)
	if err != nil {
		return nil, db.Translate(err)
	}
	out := map[uuid.UUID][][2]string{}
	for _, r := range rows {
		typ := strings.TrimPrefix(r.Type, "urn:epcglobal:cbv:btt:")
		typ = strings.TrimPrefix(typ, "https://ref.gs1.org/cbv/BTT-")
		if plain, ok := btTypes[typ]; ok {
			typ = plain
		} else if typ == "" {
			typ = "Business transaction"
		}
		out[r.EventID] = append(out[r.EventID], [2]string{typ, referenceNumber(r.ID)})
	}
	return out, nil
}

// referenceNumber is the document number in a CBV business transaction URI
// (urn:epcglobal:cbv:bt:{gln}:{number}), or the identifier as it is.
func referenceNumber(id string) string {
	if rest, ok := strings.CutPrefix(id, "urn:epcglobal:cbv:bt:"); ok {
		if _, num, ok := strings.Cut(rest, ":"); ok {
			return num
		}
	}
	return id
}

type fsmaEventParties struct {
	sourceParty, sourceLocation, destParty, destLocation string
}

func (s *Service) fsmaParties(ctx context.Context, events []uuid.UUID) (map[uuid.UUID]fsmaEventParties, error) {
	rows, err := s.store.FSMAEventParties(ctx, events)
	if err != nil {
		return nil, db.Translate(err)
	}
	out := map[uuid.UUID]fsmaEventParties{}
	for _, r := range rows {
		p := out[r.EventID]
		switch {
		case strings.HasPrefix(r.Key, "414/"):
			text := placeText(r.Name, r.Key[4:], r.Address)
			if r.Kind == "source" && p.sourceLocation == "" {
				p.sourceLocation = text
			} else if r.Kind == "destination" && p.destLocation == "" {
				p.destLocation = text
			}
		case strings.HasPrefix(r.Key, "417/"):
			text := placeText(r.Name, "", "")
			if text != "" {
				text += ", "
			}
			text += "PGLN " + r.Key[4:]
			if r.Kind == "source" && p.sourceParty == "" {
				p.sourceParty = text
			} else if r.Kind == "destination" && p.destParty == "" {
				p.destParty = text
			}
		}
		out[r.EventID] = p
	}
	transfers, err := s.store.FSMATransferSources(ctx, events)
	if err != nil {
		return nil, db.Translate(err)
	}
	for _, t := range transfers {
		if p := out[t.ReceiveEventID]; p.sourceLocation == "" {
			p.sourceLocation = placeText(t.Name, t.Gln, t.Address)
			out[t.ReceiveEventID] = p
		}
	}
	return out, nil
}

func (s *Service) fsmaInputs(ctx context.Context, events []uuid.UUID) (map[uuid.UUID][]string, error) {
	rows, err := s.store.FSMAInputs(ctx, events)
	if err != nil {
		return nil, db.Translate(err)
	}
	out := map[uuid.UUID][]string{}
	for _, r := range rows {
		text := tlcText(r.Gtin, r.BatchNumber)
		if r.Quantity != nil {
			text += " (" + strings.TrimSpace(r.Quantity.String()+" "+gs1.UnitName(r.Uom)) + ")"
		}
		out[r.EventID] = append(out[r.EventID], text)
	}
	return out, nil
}

// fsmaPlaces describes TLC sources: the location with that GLN.
func (s *Service) fsmaPlaces(ctx context.Context, glns []string) (map[string]string, error) {
	out := map[string]string{}
	if len(glns) == 0 {
		return out, nil
	}
	rows, err := s.store.FSMAPlaces(ctx, glns)
	if err != nil {
		return nil, db.Translate(err)
	}
	for _, r := range rows {
		out[r.Gln] = placeText(r.Name, r.Gln, r.Address)
	}
	return out, nil
}
