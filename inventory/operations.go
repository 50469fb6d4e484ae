package inventory

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/quantity"
)

// The staff's stock operations. Each validates its input, then plans and
// runs one movement (stock.go): one EPCIS event and its ledger rows.

// ReceiveRequest is stock arriving at one of our locations: from a
// supplier, or in transit from another of our locations.
type ReceiveRequest struct {
	ProductID      uuid.UUID
	BatchNumber    string // the lot code it came with; "" assigns ours (we are then its TLC source)
	LocationID     uuid.UUID
	Quantity       quantity.Quantity
	Unit           string     // Rec 20 code or name; default: the product's unit
	SupplierID     *uuid.UUID // the owning party it comes from; default: the ship-from location's party
	ShipFromID     *uuid.UUID // the location it was shipped from
	ProductionDate *time.Time
	ExpiryDate     *time.Time
	BestBeforeDate *time.Time
	TLCSource      string // GLN of who assigned the lot code; default: the ship-from location
	References     []BizTransaction
	EventTime      *time.Time
	Notes          string
}

// ShipRequest takes stock from one of our locations to a customer's (or
// another of our) locations.
type ShipRequest struct {
	Items      []StockItem // all at one location
	CustomerID *uuid.UUID  // default: the ship-to location's party
	ShipToID   uuid.UUID
	References []BizTransaction
	EventTime  *time.Time
	Notes      string
}

// TransformOutput is a lot a transformation makes.
type TransformOutput struct {
	ProductID      uuid.UUID
	BatchNumber    string // "" assigns one
	Quantity       quantity.Quantity
	Unit           string
	ProductionDate *time.Time // default: the event's day
	ExpiryDate     *time.Time
	BestBeforeDate *time.Time
}

// TransformRequest turns input lots into output lots.
type TransformRequest struct {
	Inputs      []StockItem
	Outputs     []TransformOutput
	LocationID  *uuid.UUID // where the outputs are made; default: the first input's location
	YieldReason string     // needed when the yield is outside an output product's range
	EventTime   *time.Time
	Notes       string
}

// DestroyRequest records stock destroyed or disposed of.
type DestroyRequest struct {
	BatchID     uuid.UUID
	Quantity    quantity.Quantity
	Disposition string // destroyed (default) or disposed
	Reason      string
	EventTime   *time.Time
}

// CommissionRequest creates a lot where it begins: at harvest, cooling or
// initial packing, with its key data elements.
type CommissionRequest struct {
	ProductID       uuid.UUID
	BatchNumber     string // "" assigns one
	LocationID      uuid.UUID
	Quantity        quantity.Quantity
	Unit            string
	Stage           string // harvesting, cooling, initial_packing
	HarvestLocation string // GLN or a description of the farm
	Field           string // field or growing area
	HarvestDate     *time.Time
	CoolingDate     *time.Time
	PackingDate     *time.Time
	ExpiryDate      *time.Time
	BestBeforeDate  *time.Time
	EventTime       *time.Time
	Notes           string
}

// MoveRequest moves stock between two of our locations at once.
type MoveRequest struct {
	BatchID      uuid.UUID
	Quantity     quantity.Quantity
	ToLocationID uuid.UUID
	EventTime    *time.Time
	Notes        string
}

// CommissionStages are CommissionRequest.Stage's values.
var CommissionStages = []string{"harvesting", "cooling", "initial_packing"}

// Destroy dispositions.
var DestroyDispositions = []string{"destroyed", "disposed"}

const maxItems = 100

// Receive records stock arriving at one of our locations.
func (s *Service) Receive(ctx context.Context, actor Actor, r ReceiveRequest) (Movement, error) {
	var v ValidationError
	required(&v, "product_id", r.ProductID)
	required(&v, "location_id", r.LocationID)
	checkAmount(&v, "quantity", r.Quantity)
	unit := checkUnit(&v, "unit", r.Unit)
	if r.BatchNumber != "" {
		if err := gs1.ValidateLot(r.BatchNumber); err != nil {
			v.Add("batch_number", err.Error())
		}
	}
	if r.SupplierID == nil && r.ShipFromID == nil {
		v.Add("supplier_id", "is required: name the supplier, the ship-from location, or both")
	}
	if r.TLCSource != "" {
		if err := gs1.ValidateGLN(r.TLCSource); err != nil {
			v.Add("tlc_source", "GLN "+err.Error())
		}
	}
	eventTime := s.checkEventTime(&v, r.EventTime)
	// The production date defaults to the event's day; the dates are
	// checked against it either way (the table refuses an expiry before it).
	production := eventTime
	if r.ProductionDate != nil {
		production = *r.ProductionDate
	}
	checkDates(&v, production, r.ExpiryDate, r.BestBeforeDate)
	checkText(&v, "notes", r.Notes, 0, 5000)
	refs := checkReferences(&v, r.References)
	if err := v.OrNil(); err != nil {
		return Movement{}, err
	}
	return s.runMovement(ctx, actor, func(q *db.Queries) (stockPlan, error) {
		product, err := q.GetProduct(ctx, r.ProductID)
		if err != nil {
			return stockPlan{}, notFound(err, "product", "product_id")
		}
		w, err := loadWorld(ctx, q, []uuid.UUID{r.LocationID}, optIDs(r.ShipFromID), optIDs(r.SupplierID))
		if err != nil {
			return stockPlan{}, err
		}
		at, err := w.ourLocation(r.LocationID, "location_id")
		if err != nil {
			return stockPlan{}, err
		}
		a := add{productID: product.ID, lot: r.BatchNumber, locationID: at.ID, quantity: r.Quantity, uom: unit,
			kind: KindReceive, origin: OriginReceived, notes: r.Notes}
		if a.uom == "" {
			a.uom = product.Unit
		}
		plan := stockPlan{operation: "receive", reason: r.Notes}
		ev := eventRecord{EventType: "ObjectEvent", Action: ptr("OBSERVE"), EventTime: eventTime,
			BizStep: ptr("receiving"), Disposition: ptr("in_progress"), ReadPointID: &at.ID, BizLocationID: &at.ID,
			Notes: r.Notes}
		var supplier *db.PartiesForStockRow
		if r.SupplierID != nil {
			p, ok := w.parties[*r.SupplierID]
			if !ok {
				return stockPlan{}, &NotFoundError{What: "party", Field: "supplier_id"}
			}
			supplier = &p
		}
		if r.ShipFromID != nil {
			from, ok := w.locations[*r.ShipFromID]
			if !ok {
				return stockPlan{}, &NotFoundError{What: "location", Field: "ship_from_id"}
			}
			if from.ID == at.ID {
				return stockPlan{}, Invalid("ship_from_id", "must differ from the receiving location")
			}
			if from.Ours {
				// In transit from another of our locations.
				if r.BatchNumber == "" {
					return stockPlan{}, Invalid("batch_number", "is required: name the lot shipped from "+from.Name)
				}
				plan.fromTransfer = true
				a.origin, a.kind = OriginMoved, KindMoveIn // internal: moved in, not received
			} else {
				if supplier == nil && from.PartyID != nil {
					if p, err := partyByID(ctx, q, *from.PartyID); err == nil {
						supplier = &p
					}
				}
				ev.Sources = append(ev.Sources, locationRef("location", from.Gln))
				if r.TLCSource == "" && r.BatchNumber != "" {
					a.tlcSource = from.Gln
				}
			}
		}
		if supplier != nil {
			ev.Sources = append([]epcis.Typed{partyRef("owning_party", supplier.Pgln)}, ev.Sources...)
		}
		if own, err := q.OwnParty(ctx); err == nil {
			ev.Destinations = append(ev.Destinations, partyRef("owning_party", own.Pgln))
		}
		ev.Destinations = append(ev.Destinations, locationRef("location", at.Gln))
		if r.TLCSource != "" {
			a.tlcSource = r.TLCSource
		}
		if a.lot == "" {
			a.lot = generateBatchNumber(eventTime)
			a.tlcSource = at.Gln // we assign the traceability lot code
		}
		a.productionDate = eventTime
		if r.ProductionDate != nil {
			a.productionDate = *r.ProductionDate
		}
		a.expiry, a.bestBefore = r.ExpiryDate, r.BestBeforeDate
		if supplier != nil {
			a.kdes = map[string]string{"supplier": supplier.Pgln}
		}
		ev.BizTransactions = w.references(refs, at.Gln)
		plan.adds = []add{a}
		plan.event = ev
		return plan, nil
	})
}

// Ship records stock leaving one of our locations.
func (s *Service) Ship(ctx context.Context, actor Actor, r ShipRequest) (Movement, error) {
	var v ValidationError
	checkItems(&v, "items", r.Items)
	required(&v, "ship_to_id", r.ShipToID)
	eventTime := s.checkEventTime(&v, r.EventTime)
	checkText(&v, "notes", r.Notes, 0, 5000)
	refs := checkReferences(&v, r.References)
	if err := v.OrNil(); err != nil {
		return Movement{}, err
	}
	return s.runMovement(ctx, actor, func(q *db.Queries) (stockPlan, error) {
		from, err := itemsLocation(ctx, q, r.Items, "items")
		if err != nil {
			return stockPlan{}, err
		}
		w, err := loadWorld(ctx, q, []uuid.UUID{from, r.ShipToID}, nil, optIDs(r.CustomerID))
		if err != nil {
			return stockPlan{}, err
		}
		at, err := w.ourLocation(from, "items[0].batch_id")
		if err != nil {
			return stockPlan{}, err
		}
		to, ok := w.locations[r.ShipToID]
		if !ok {
			return stockPlan{}, &NotFoundError{What: "location", Field: "ship_to_id"}
		}
		if to.ID == at.ID {
			return stockPlan{}, Invalid("ship_to_id", "must differ from the location the stock is at")
		}
		plan := stockPlan{operation: "ship", reason: r.Notes}
		for i, it := range r.Items {
			plan.takes = append(plan.takes, take{StockItem: it, kind: KindShip, field: "items[" + itoa(i) + "].", usable: "shipped"})
		}
		if to.Ours {
			plan.shipTo = &to.ID
		}
		ev := eventRecord{EventType: "ObjectEvent", Action: ptr("OBSERVE"), EventTime: eventTime,
			BizStep: ptr("shipping"), Disposition: ptr("in_transit"), ReadPointID: &at.ID, Notes: r.Notes}
		if own, err := q.OwnParty(ctx); err == nil {
			ev.Sources = append(ev.Sources, partyRef("owning_party", own.Pgln))
		}
		ev.Sources = append(ev.Sources, locationRef("location", at.Gln))
		var customer *db.PartiesForStockRow
		if r.CustomerID != nil {
			p, ok := w.parties[*r.CustomerID]
			if !ok {
				return stockPlan{}, &NotFoundError{What: "party", Field: "customer_id"}
			}
			customer = &p
		} else if to.PartyID != nil && !to.Ours {
			if p, err := partyByID(ctx, q, *to.PartyID); err == nil {
				customer = &p
			}
		}
		if customer != nil {
			ev.Destinations = append(ev.Destinations, partyRef("owning_party", customer.Pgln))
		}
		ev.Destinations = append(ev.Destinations, locationRef("location", to.Gln))
		ev.BizTransactions = w.references(refs, at.Gln)
		plan.event = ev
		return plan, nil
	})
}

// Transform takes every input from its lot and makes the output lots.
func (s *Service) Transform(ctx context.Context, actor Actor, r TransformRequest) (Movement, error) {
	var v ValidationError
	checkItems(&v, "inputs", r.Inputs)
	if len(r.Outputs) == 0 {
		v.Add("outputs", "must name at least one output lot")
	}
	if len(r.Outputs) > maxItems {
		v.Add("outputs", "must have at most "+itoa(maxItems)+" entries")
	}
	eventTime := s.checkEventTime(&v, r.EventTime)
	units := make([]string, len(r.Outputs))
	for i, o := range r.Outputs {
		p := "outputs[" + itoa(i) + "]."
		required(&v, p+"product_id", o.ProductID)
		checkAmount(&v, p+"quantity", o.Quantity)
		units[i] = checkUnit(&v, p+"unit", o.Unit)
		if o.BatchNumber != "" {
			if err := gs1.ValidateLot(o.BatchNumber); err != nil {
				v.Add(p+"batch_number", err.Error())
			}
		}
		production := eventTime // the default, as for the lot made below
		if o.ProductionDate != nil {
			production = *o.ProductionDate
		}
		var dv ValidationError
		checkDates(&dv, production, o.ExpiryDate, o.BestBeforeDate)
		for _, f := range dv.Fields {
			v.Add(p+f.Field, f.Message)
		}
	}
	checkText(&v, "yield_reason", r.YieldReason, 0, 1000)
	checkText(&v, "notes", r.Notes, 0, 5000)
	if err := v.OrNil(); err != nil {
		return Movement{}, err
	}
	return s.runMovement(ctx, actor, func(q *db.Queries) (stockPlan, error) {
		where := uuid.Nil
		if r.LocationID != nil {
			where = *r.LocationID
		} else {
			loc, err := itemsLocation(ctx, q, r.Inputs[:1], "inputs")
			if err != nil {
				return stockPlan{}, err
			}
			where = loc
		}
		w, err := loadWorld(ctx, q, []uuid.UUID{where}, nil, nil)
		if err != nil {
			return stockPlan{}, err
		}
		at, err := w.ourLocation(where, "location_id")
		if err != nil {
			return stockPlan{}, err
		}
		plan := stockPlan{operation: "transform", reason: r.Notes, yieldCheck: true, yieldReason: r.YieldReason}
		for i, it := range r.Inputs {
			plan.takes = append(plan.takes, take{StockItem: it, kind: KindTransformIn, field: "inputs[" + itoa(i) + "].",
				usable: "used as a transformation input"})
		}
		for i, o := range r.Outputs {
			p := "outputs[" + itoa(i) + "]."
			product, err := q.GetProduct(ctx, o.ProductID)
			if err != nil {
				return stockPlan{}, notFound(err, "product", p+"product_id")
			}
			a := add{productID: product.ID, lot: o.BatchNumber, locationID: at.ID, quantity: o.Quantity, uom: units[i],
				kind: KindProduce, origin: OriginProduced, productionDate: eventTime, expiry: o.ExpiryDate,
				bestBefore: o.BestBeforeDate, tlcSource: at.Gln, field: p, newLot: true}
			if a.uom == "" {
				a.uom = product.Unit
			}
			if o.ProductionDate != nil {
				a.productionDate = *o.ProductionDate
			}
			if a.lot == "" {
				a.lot = generateBatchNumber(a.productionDate)
			}
			plan.adds = append(plan.adds, a)
		}
		plan.event = eventRecord{EventType: "TransformationEvent", EventTime: eventTime, BizStep: ptr("commissioning"),
			Disposition: ptr("active"), ReadPointID: &at.ID, BizLocationID: &at.ID, Notes: r.Notes}
		return plan, nil
	})
}

// Destroy records stock destroyed or disposed of; any status may go.
func (s *Service) Destroy(ctx context.Context, actor Actor, r DestroyRequest) (Movement, error) {
	var v ValidationError
	required(&v, "batch_id", r.BatchID)
	checkAmount(&v, "quantity", r.Quantity)
	if r.Disposition == "" {
		r.Disposition = "destroyed"
	}
	if !slices.Contains(DestroyDispositions, r.Disposition) {
		v.Add("disposition", "must be destroyed or disposed")
	}
	checkText(&v, "reason", r.Reason, 1, 1000)
	eventTime := s.checkEventTime(&v, r.EventTime)
	if err := v.OrNil(); err != nil {
		return Movement{}, err
	}
	return s.runMovement(ctx, actor, func(q *db.Queries) (stockPlan, error) {
		loc, err := itemsLocation(ctx, q, []StockItem{{BatchID: r.BatchID}}, "")
		if err != nil {
			return stockPlan{}, err
		}
		return stockPlan{operation: "destroy", reason: r.Reason,
			takes: []take{{StockItem: StockItem{r.BatchID, r.Quantity}, kind: KindDestroy}},
			event: eventRecord{EventType: "ObjectEvent", Action: ptr("DELETE"), EventTime: eventTime,
				BizStep: ptr("destroying"), Disposition: &r.Disposition, ReadPointID: &loc, BizLocationID: &loc,
				Notes: r.Reason}}, nil
	})
}

// Commission creates a lot where it begins, with its key data elements.
func (s *Service) Commission(ctx context.Context, actor Actor, r CommissionRequest) (Movement, error) {
	var v ValidationError
	required(&v, "product_id", r.ProductID)
	required(&v, "location_id", r.LocationID)
	checkAmount(&v, "quantity", r.Quantity)
	unit := checkUnit(&v, "unit", r.Unit)
	if r.BatchNumber != "" {
		if err := gs1.ValidateLot(r.BatchNumber); err != nil {
			v.Add("batch_number", err.Error())
		}
	}
	if r.Stage == "" {
		r.Stage = "harvesting"
	}
	if !slices.Contains(CommissionStages, r.Stage) {
		v.Add("stage", "must be one of "+strings.Join(CommissionStages, ", "))
	}
	checkText(&v, "harvest_location", r.HarvestLocation, 0, 200)
	checkText(&v, "field", r.Field, 0, 200)
	eventTime := s.checkEventTime(&v, r.EventTime)
	checkText(&v, "notes", r.Notes, 0, 5000)
	production := eventTime
	for _, d := range []*time.Time{r.HarvestDate, r.CoolingDate, r.PackingDate} {
		if d != nil && d.Before(production) {
			production = *d
		}
	}
	checkDates(&v, production, r.ExpiryDate, r.BestBeforeDate)
	if err := v.OrNil(); err != nil {
		return Movement{}, err
	}
	return s.runMovement(ctx, actor, func(q *db.Queries) (stockPlan, error) {
		product, err := q.GetProduct(ctx, r.ProductID)
		if err != nil {
			return stockPlan{}, notFound(err, "product", "product_id")
		}
		w, err := loadWorld(ctx, q, []uuid.UUID{r.LocationID}, nil, nil)
		if err != nil {
			return stockPlan{}, err
		}
		at, err := w.ourLocation(r.LocationID, "location_id")
		if err != nil {
			return stockPlan{}, err
		}
		kdes := map[string]string{"stage": r.Stage}
		ilmd := map[string]string{"stage": r.Stage}
		for k, val := range map[string]string{"harvestLocation": r.HarvestLocation, "field": r.Field,
			"harvestDate": isoDate(r.HarvestDate), "coolingDate": isoDate(r.CoolingDate), "packingDate": isoDate(r.PackingDate)} {
			if val != "" {
				kdes[k], ilmd[k] = val, val
			}
		}
		a := add{productID: product.ID, lot: r.BatchNumber, locationID: at.ID, quantity: r.Quantity, uom: unit,
			kind: KindProduce, origin: OriginProduced, productionDate: production, expiry: r.ExpiryDate,
			bestBefore: r.BestBeforeDate, tlcSource: at.Gln, kdes: kdes, notes: r.Notes, newLot: true}
		if a.uom == "" {
			a.uom = product.Unit
		}
		if a.lot == "" {
			a.lot = generateBatchNumber(production)
		}
		ilmdJSON, _ := json.Marshal(ilmd)
		return stockPlan{operation: "commission", reason: r.Notes, adds: []add{a},
			event: eventRecord{EventType: "ObjectEvent", Action: ptr("ADD"), EventTime: eventTime,
				BizStep: ptr("commissioning"), Disposition: ptr("active"), ReadPointID: &at.ID, BizLocationID: &at.ID,
				ILMD: ilmdJSON, Notes: r.Notes}}, nil
	})
}

// Move moves stock between two of our locations at once; any status may go
// and the lot keeps it at the destination.
func (s *Service) Move(ctx context.Context, actor Actor, r MoveRequest) (Movement, error) {
	var v ValidationError
	required(&v, "batch_id", r.BatchID)
	required(&v, "to_location_id", r.ToLocationID)
	checkAmount(&v, "quantity", r.Quantity)
	eventTime := s.checkEventTime(&v, r.EventTime)
	checkText(&v, "notes", r.Notes, 0, 5000)
	if err := v.OrNil(); err != nil {
		return Movement{}, err
	}
	return s.runMovement(ctx, actor, func(q *db.Queries) (stockPlan, error) {
		src, err := q.GetBatch(ctx, r.BatchID)
		if err != nil {
			return stockPlan{}, notFound(err, "batch", "batch_id")
		}
		b := src.Batch
		w, err := loadWorld(ctx, q, []uuid.UUID{b.LocationID, r.ToLocationID}, nil, nil)
		if err != nil {
			return stockPlan{}, err
		}
		from, err := w.ourLocation(b.LocationID, "batch_id")
		if err != nil {
			return stockPlan{}, err
		}
		to, err := w.ourLocation(r.ToLocationID, "to_location_id")
		if err != nil {
			return stockPlan{}, err
		}
		if from.ID == to.ID {
			return stockPlan{}, Invalid("to_location_id", "must differ from the location the stock is at")
		}
		var kdes map[string]string
		_ = json.Unmarshal(b.Kdes, &kdes)
		return stockPlan{operation: "move", reason: r.Notes,
			takes: []take{{StockItem: StockItem{r.BatchID, r.Quantity}, kind: KindMoveOut}},
			adds: []add{{productID: b.ProductID, lot: b.BatchNumber, locationID: to.ID, quantity: r.Quantity,
				uom: b.UnitOfMeasure, kind: KindMoveIn, origin: OriginMoved, status: QualityStatus(b.QualityStatus),
				statusReason: b.StatusReason, productionDate: b.ProductionDate, expiry: b.ExpiryDate,
				bestBefore: b.BestBeforeDate, tlcSource: b.TlcSource, kdes: kdes, field: ""}},
			event: eventRecord{EventType: "ObjectEvent", Action: ptr("OBSERVE"), EventTime: eventTime,
				BizStep: ptr("transporting"), ReadPointID: &from.ID, BizLocationID: &to.ID, Notes: r.Notes,
				Sources:      []epcis.Typed{locationRef("location", from.Gln)},
				Destinations: []epcis.Typed{locationRef("location", to.Gln)}}}, nil
	})
}

// world is the locations and parties a movement names.
type world struct {
	locations map[uuid.UUID]db.LocationsForStockRow
	parties   map[uuid.UUID]db.PartiesForStockRow
}

func loadWorld(ctx context.Context, q *db.Queries, locationIDs, moreLocations, partyIDs []uuid.UUID) (world, error) {
	w := world{locations: map[uuid.UUID]db.LocationsForStockRow{}, parties: map[uuid.UUID]db.PartiesForStockRow{}}
	locs, err := q.LocationsForStock(ctx, db.LocationsForStockParams{Ids: append(slices.Clone(locationIDs), moreLocations...), Glns: []string{}})
	if err != nil {
		return w, err
	}
	for _, l := range locs {
		w.locations[l.ID] = l
	}
	if len(partyIDs) > 0 {
		ps, err := q.PartiesForStock(ctx, db.PartiesForStockParams{Ids: partyIDs, Pglns: []string{}})
		if err != nil {
			return w, err
		}
		for _, p := range ps {
			w.parties[p.ID] = p
		}
	}
	return w, nil
}

// ourLocation is location id, which must exist and be ours.
func (w world) ourLocation(id uuid.UUID, field string) (db.LocationsForStockRow, error) {
	l, ok := w.locations[id]
	if !ok {
		return l, &NotFoundError{What: "location", Field: field}
	}
	if !l.Ours {
		return l, Invalid(field, "must be one of our locations: "+l.Name+" belongs to "+l.PartyName)
	}
	return l, nil
}

// references turns the staff's document numbers into EPCIS business
// transactions: a number becomes a CBV business transaction URI under the
// GLN of the location that records it.
func (w world) references(refs []BizTransaction, gln string) []epcis.Typed {
	var out []epcis.Typed
	for _, r := range refs {
		id := r.ID
		if !strings.Contains(id, ":") {
			id = "urn:epcglobal:cbv:bt:" + gln + ":" + id
		}
		out = append(out, epcis.Typed{Type: r.Type, ID: id, Key: epcis.Key(id)})
	}
	return out
}

func partyByID(ctx context.Context, q *db.Queries, id uuid.UUID) (db.PartiesForStockRow, error) {
	ps, err := q.PartiesForStock(ctx, db.PartiesForStockParams{Ids: []uuid.UUID{id}, Pglns: []string{}})
	if err != nil || len(ps) == 0 {
		return db.PartiesForStockRow{}, &NotFoundError{What: "party"}
	}
	return ps[0], nil
}

func partyRef(typ, pgln string) epcis.Typed {
	uri := "https://id.gs1.org/417/" + pgln
	return epcis.Typed{Type: typ, ID: uri, Key: epcis.Key(uri)}
}

func locationRef(typ, gln string) epcis.Typed {
	uri := gs1.GLNDigitalLink(gln)
	return epcis.Typed{Type: typ, ID: uri, Key: epcis.Key(uri)}
}

// itemsLocation is the one location the items' batches are at.
func itemsLocation(ctx context.Context, q *db.Queries, items []StockItem, field string) (uuid.UUID, error) {
	ids := make([]uuid.UUID, len(items))
	for i, it := range items {
		ids[i] = it.BatchID
	}
	units, err := q.BatchLocations(ctx, ids)
	if err != nil {
		return uuid.Nil, err
	}
	at := map[uuid.UUID]uuid.UUID{}
	for _, u := range units {
		at[u.ID] = u.LocationID
	}
	prefix := func(i int) string {
		if field == "" {
			return ""
		}
		return field + "[" + itoa(i) + "]."
	}
	var loc uuid.UUID
	for i, it := range items {
		l, ok := at[it.BatchID]
		if !ok {
			return uuid.Nil, &NotFoundError{What: "batch", Field: prefix(i) + "batch_id"}
		}
		if loc != uuid.Nil && l != loc {
			return uuid.Nil, Invalid(prefix(i)+"batch_id", "is at another location than the first item: a shipment leaves from one location")
		}
		loc = l
	}
	return loc, nil
}

func required(v *ValidationError, field string, id uuid.UUID) {
	if id == uuid.Nil {
		v.Add(field, "is required")
	}
}

func optIDs(ids ...*uuid.UUID) []uuid.UUID {
	var out []uuid.UUID
	for _, id := range ids {
		if id != nil {
			out = append(out, *id)
		}
	}
	return out
}

// checkUnit is a unit's Rec 20 code, "" for none.
func checkUnit(v *ValidationError, field, unit string) string {
	if unit == "" {
		return ""
	}
	u, ok := gs1.LookupUnit(unit)
	if !ok {
		v.Add(field, unitChoices)
		return ""
	}
	return u.Code
}

func checkItems(v *ValidationError, field string, items []StockItem) {
	if len(items) == 0 {
		v.Add(field, "must name at least one batch")
	}
	if len(items) > maxItems {
		v.Add(field, "must have at most "+itoa(maxItems)+" entries")
	}
	var seen []uuid.UUID
	for i, it := range items {
		p := field + "[" + itoa(i) + "]."
		required(v, p+"batch_id", it.BatchID)
		checkAmount(v, p+"quantity", it.Quantity)
		if it.BatchID != uuid.Nil && slices.Contains(seen, it.BatchID) {
			v.Add(p+"batch_id", "names a batch already in the list")
		}
		seen = append(seen, it.BatchID)
	}
}

func checkReferences(v *ValidationError, refs []BizTransaction) []BizTransaction {
	if len(refs) > 20 {
		v.Add("references", "must have at most 20 entries")
	}
	out := make([]BizTransaction, 0, len(refs))
	for i, r := range refs {
		p := "references[" + itoa(i) + "]."
		r.ID = strings.TrimSpace(r.ID)
		if r.ID == "" {
			v.Add(p+"id", "is required")
		}
		checkText(v, p+"id", r.ID, 0, 200)
		if strings.ContainsAny(r.ID, " \t\n<>\"") {
			v.Add(p+"id", "must be a document number or URI without spaces")
		}
		if r.Type != "" {
			t, err := gs1.BizTransactionTypeVocabulary.Normalize(r.Type)
			if err != nil {
				v.Add(p+"type", err.Error())
			}
			r.Type = t
		}
		out = append(out, r)
	}
	return out
}

// checkEventTime is when the operation happened: now, or a given time not
// far in the future.
func (s *Service) checkEventTime(v *ValidationError, t *time.Time) time.Time {
	now := s.now()
	if t == nil {
		return now
	}
	if t.After(now.Add(24 * time.Hour)) {
		v.Add("event_time", "must not be more than a day in the future")
	}
	if t.Year() < 1900 {
		v.Add("event_time", "must be after 1900")
	}
	return *t
}

func isoDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

func formatYieldNumber(y float64) string { return strconv.FormatFloat(y, 'f', 4, 64) }
