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
	pool := s.store.Pool
	var seedIDs []uuid.UUID
	var err error
	if r.ProductID != nil {
		var exists bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM products WHERE id = $1)`, *r.ProductID).Scan(&exists); err != nil {
			return rep, db.Translate(err)
		}
		if !exists {
			return rep, &NotFoundError{What: "product", Field: "product_id"}
		}
		seedIDs, err = collectIDs(ctx, s, `SELECT id FROM batches WHERE product_id = $1`, *r.ProductID)
	} else {
		seedIDs, err = collectIDs(ctx, s, `SELECT b.id FROM batches b JOIN products p ON p.id = b.product_id
			WHERE p.gtin = $1 AND b.batch_number = $2`, r.GTIN, r.Lot)
		if err == nil && len(seedIDs) == 0 {
			return rep, &NotFoundError{What: "lot", Field: "lot"}
		}
	}
	if err != nil || len(seedIDs) == 0 {
		return rep, err
	}
	// The lots (product, lot code) reached through transformations, both
	// ways, one indexed step per level. UNION keeps each lot once, so a
	// cycle in the data ends the walk instead of looping.
	batchIDs, err := collectIDs(ctx, s, `
WITH RECURSIVE start AS (
  SELECT DISTINCT product_id, batch_number FROM batches WHERE id = ANY($1)
), down(product_id, batch_number) AS (
  SELECT product_id, batch_number FROM start
  UNION
  SELECT bo.product_id, bo.batch_number
  FROM down d
  JOIN batches bi ON bi.product_id = d.product_id AND bi.batch_number = d.batch_number
  JOIN event_batches ei ON ei.batch_id = bi.id AND ei.role = 'input'
  JOIN events e ON e.id = ei.event_id AND e.event_type = 'TransformationEvent' AND e.declared_in_error_at IS NULL
  JOIN event_batches eo ON eo.event_id = ei.event_id AND eo.role = 'output'
  JOIN batches bo ON bo.id = eo.batch_id
), up(product_id, batch_number) AS (
  SELECT product_id, batch_number FROM start
  UNION
  SELECT bi.product_id, bi.batch_number
  FROM up u
  JOIN batches bo ON bo.product_id = u.product_id AND bo.batch_number = u.batch_number
  JOIN event_batches eo ON eo.batch_id = bo.id AND eo.role = 'output'
  JOIN events e ON e.id = eo.event_id AND e.event_type = 'TransformationEvent' AND e.declared_in_error_at IS NULL
  JOIN event_batches ei ON ei.event_id = eo.event_id AND ei.role = 'input'
  JOIN batches bi ON bi.id = ei.batch_id
), lots AS (
  SELECT product_id, batch_number FROM down UNION SELECT product_id, batch_number FROM up
)
SELECT b.id FROM batches b JOIN lots USING (product_id, batch_number)`, seedIDs)
	if err != nil {
		return rep, err
	}
	from, to := r.From, r.To.Add(24*time.Hour)
	rows, err := pool.Query(ctx, `
SELECT e.id, e.event_id, e.event_type, coalesce(e.biz_step, ''), e.event_time, eb.role,
       eb.quantity::text, eb.uom, p.gtin, p.name, b.batch_number, b.tlc_source, b.kdes,
       coalesce(l.name, ''), coalesce(l.gln, ''), coalesce(nullif(l.address, ''), lp.address, '')
FROM event_batches eb
JOIN events e ON e.id = eb.event_id
JOIN batches b ON b.id = eb.batch_id
JOIN products p ON p.id = b.product_id
LEFT JOIN locations l ON l.id = coalesce(e.biz_location_id, e.read_point_id)
LEFT JOIN parties lp ON lp.id = l.party_id
WHERE eb.batch_id = ANY($1) AND e.declared_in_error_at IS NULL
  AND e.event_time >= $2 AND e.event_time < $3
  AND ((e.event_type = 'TransformationEvent' AND eb.role = 'output')
    OR (e.event_type = 'ObjectEvent' AND eb.role = 'object' AND e.biz_step IN ('commissioning', 'receiving', 'shipping')))
ORDER BY e.event_time, p.gtin, b.batch_number, e.id`, batchIDs, from, to)
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
	for rows.Next() {
		var p pending
		var role, gtin, name, lot string
		var qty *string
		var kdes []byte
		var locName, locGLN, locAddr string
		if err := rows.Scan(&p.id, &p.row.EventID, &p.kind, &p.step, &p.row.EventTime, &role, &qty, &p.row.Unit,
			&gtin, &name, &lot, &p.tlcs, &kdes, &locName, &locGLN, &locAddr); err != nil {
			rows.Close()
			return rep, db.Translate(err)
		}
		if qty != nil {
			if q, err := quantity.Parse(*qty); err == nil {
				p.row.Quantity, p.row.HasQuantity = q, true
			}
		}
		p.row.Unit = gs1.UnitName(p.row.Unit)
		p.row.TLC = tlcText(gtin, lot)
		p.row.Product = name + " (GTIN " + gtin + ")"
		p.row.Location = placeText(locName, locGLN, locAddr)
		p.place = p.row.Location
		_ = json.Unmarshal(kdes, &p.kdes)
		if p.tlcs != "" {
			glns[p.tlcs] = true
		}
		eventSet[p.id] = true
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, db.Translate(err)
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

func collectIDs(ctx context.Context, s *Service, sql string, args ...any) ([]uuid.UUID, error) {
	rows, err := s.store.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, db.Translate(err)
	}
	defer rows.Close()
	ids := []uuid.UUID{}
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, db.Translate(err)
		}
		ids = append(ids, id)
	}
	return ids, db.Translate(rows.Err())
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
	rows, err := s.store.Pool.Query(ctx, `SELECT event_id, type, id FROM event_biz_transactions
		WHERE event_id = ANY($1) ORDER BY event_id, type, id`, events)
	if err != nil {
		return nil, db.Translate(err)
	}
	defer rows.Close()
	out := map[uuid.UUID][][2]string{}
	for rows.Next() {
		var ev uuid.UUID
		var typ, id string
		if err := rows.Scan(&ev, &typ, &id); err != nil {
			return nil, db.Translate(err)
		}
		typ = strings.TrimPrefix(typ, "urn:epcglobal:cbv:btt:")
		typ = strings.TrimPrefix(typ, "https://ref.gs1.org/cbv/BTT-")
		if plain, ok := btTypes[typ]; ok {
			typ = plain
		} else if typ == "" {
			typ = "Business transaction"
		}
		out[ev] = append(out[ev], [2]string{typ, referenceNumber(id)})
	}
	return out, db.Translate(rows.Err())
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
	rows, err := s.store.Pool.Query(ctx, `
SELECT ep.event_id, ep.kind, ep.type, ep.key,
       coalesce(l.name, pt.name, ''), coalesce(nullif(l.address, ''), lp.address, pt.address, '')
FROM event_parties ep
LEFT JOIN locations l ON ep.key = '414/' || l.gln
LEFT JOIN parties lp ON lp.id = l.party_id
LEFT JOIN parties pt ON ep.key = '417/' || pt.pgln
WHERE ep.event_id = ANY($1)
ORDER BY ep.event_id, ep.kind, ep.type, ep.key`, events)
	if err != nil {
		return nil, db.Translate(err)
	}
	defer rows.Close()
	out := map[uuid.UUID]fsmaEventParties{}
	for rows.Next() {
		var ev uuid.UUID
		var kind, typ, key, name, addr string
		if err := rows.Scan(&ev, &kind, &typ, &key, &name, &addr); err != nil {
			return nil, db.Translate(err)
		}
		p := out[ev]
		switch {
		case strings.HasPrefix(key, "414/"):
			text := placeText(name, key[4:], addr)
			if kind == "source" && p.sourceLocation == "" {
				p.sourceLocation = text
			} else if kind == "destination" && p.destLocation == "" {
				p.destLocation = text
			}
		case strings.HasPrefix(key, "417/"):
			text := placeText(name, "", "")
			if text != "" {
				text += ", "
			}
			text += "PGLN " + key[4:]
			if kind == "source" && p.sourceParty == "" {
				p.sourceParty = text
			} else if kind == "destination" && p.destParty == "" {
				p.destParty = text
			}
		}
		out[ev] = p
	}
	if err := rows.Err(); err != nil {
		return nil, db.Translate(err)
	}
	// A receipt of stock shipped from another of our locations names no
	// source in its event: the transfer it closes does.
	rows, err = s.store.Pool.Query(ctx, `
SELECT DISTINCT ON (tr.receive_event_id) tr.receive_event_id, l.name, l.gln, coalesce(nullif(l.address, ''), lp.address, '')
FROM transfer_receipts tr
JOIN transfers t ON t.id = tr.transfer_id
JOIN batches b ON b.id = t.from_batch_id
JOIN locations l ON l.id = b.location_id
LEFT JOIN parties lp ON lp.id = l.party_id
WHERE tr.receive_event_id = ANY($1)
ORDER BY tr.receive_event_id, l.name`, events)
	if err != nil {
		return nil, db.Translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev uuid.UUID
		var name, gln, addr string
		if err := rows.Scan(&ev, &name, &gln, &addr); err != nil {
			return nil, db.Translate(err)
		}
		if p := out[ev]; p.sourceLocation == "" {
			p.sourceLocation = placeText(name, gln, addr)
			out[ev] = p
		}
	}
	return out, db.Translate(rows.Err())
}

func (s *Service) fsmaInputs(ctx context.Context, events []uuid.UUID) (map[uuid.UUID][]string, error) {
	rows, err := s.store.Pool.Query(ctx, `
SELECT eb.event_id, p.gtin, b.batch_number, eb.quantity::text, eb.uom
FROM event_batches eb JOIN batches b ON b.id = eb.batch_id JOIN products p ON p.id = b.product_id
WHERE eb.event_id = ANY($1) AND eb.role = 'input'
ORDER BY eb.event_id, p.gtin, b.batch_number`, events)
	if err != nil {
		return nil, db.Translate(err)
	}
	defer rows.Close()
	out := map[uuid.UUID][]string{}
	for rows.Next() {
		var ev uuid.UUID
		var gtin, lot, uom string
		var qty *string
		if err := rows.Scan(&ev, &gtin, &lot, &qty, &uom); err != nil {
			return nil, db.Translate(err)
		}
		text := tlcText(gtin, lot)
		if qty != nil {
			if q, err := quantity.Parse(*qty); err == nil {
				text += " (" + strings.TrimSpace(q.String()+" "+gs1.UnitName(uom)) + ")"
			}
		}
		out[ev] = append(out[ev], text)
	}
	return out, db.Translate(rows.Err())
}

// fsmaPlaces describes TLC sources: the location (or party) with that GLN.
func (s *Service) fsmaPlaces(ctx context.Context, glns []string) (map[string]string, error) {
	out := map[string]string{}
	if len(glns) == 0 {
		return out, nil
	}
	rows, err := s.store.Pool.Query(ctx, `
SELECT l.gln, l.name, coalesce(nullif(l.address, ''), p.address, '')
FROM locations l LEFT JOIN parties p ON p.id = l.party_id WHERE l.gln = ANY($1)`, glns)
	if err != nil {
		return nil, db.Translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var gln, name, addr string
		if err := rows.Scan(&gln, &name, &addr); err != nil {
			return nil, db.Translate(err)
		}
		out[gln] = placeText(name, gln, addr)
	}
	return out, db.Translate(rows.Err())
}
