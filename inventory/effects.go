package inventory

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/quantity"
)

// What an event does to our stock, whichever door it comes in by (staff
// form, POST /api/events, /epcis capture). One table, run by the engine
// (stock.go); README.md ("Events from partners move stock too") and docs/api.md repeat it.
//
//	type                 action          bizStep / disposition                 stock effect
//	ObjectEvent          ADD             commissioning                         commission: produce at L (new row origin produced)
//	ObjectEvent          OBSERVE, ADD    receiving                             receive at L (from our own location in sourceList: draws the transfer in transit)
//	ObjectEvent          OBSERVE         shipping                              ship from the lot's row at L; destinationList location ours: in transit there
//	TransformationEvent  -               any                                   inputs we hold: transform_in; outputs of our products: produce at L (else the inputs' location)
//	ObjectEvent          OBSERVE, DELETE destroying, or destroyed / disposed   destroy
//	ObjectEvent          OBSERVE         transporting, source and destination locations both ours   move
//	ObjectEvent          OBSERVE         dispensing                            consume
//	ObjectEvent          any             inspecting + conformant / non_conformant; holding   status approved / rejected / on_hold, no ledger row
//	any event with an errorDeclaration of a stored event                       the original's effects reversed (capture)
//	anything else, or naming no lot we hold                                    stored as a record, no stock effect
//
// L is the event's bizLocation, else its readPoint, the first that is one
// of our locations. A lot is held when it has a row at one of our
// locations; a lot with rows at several of ours is taken from the row at L
// (or the sourceList location), and refused when the event names none of
// them. Quantities are the class's quantity in its uom, converted to the
// lot's unit within a dimension when exact at 3 decimals; no uom means
// the lot's unit; an EPC instance (no quantity) names no quantity and is
// a record.

// effectItem is a lot an event names.
type effectItem struct {
	role     string // object, input, output
	gtin     string
	lot      string
	batchID  uuid.UUID // a row named by id (JSON API); Nil when named by class
	quantity string    // decimal as sent; "" when none
	uom      string
	field    string // for errors: "quantity_list[0]." or "event 3 quantityList"
}

// effectEvent is what the mapping reads of an event.
type effectEvent struct {
	eventID      string
	typ          string
	action       string
	bizStep      string
	disposition  string
	readPoint    string // GLN
	bizLocation  string // GLN
	items        []effectItem
	instances    bool // names EPC instances (no quantities)
	outInstances bool // a transformation's outputs include EPC instances
	sources      []epcis.Typed
	destinations []epcis.Typed
	bizTx        []epcis.Typed
	ilmd         json.RawMessage
	eventTime    time.Time
	notes        string
}

// statusChange is an inspection's or a hold's effect: no ledger row.
type statusChange struct {
	ids    []uuid.UUID
	status QualityStatus
	reason string
}

// effect is an event's stock effect: a movement, a status change, or
// neither (a record).
type effect struct {
	plan   *stockPlan
	status *statusChange
	// unused are the lots the event names that the effect does not move.
	unused []effectItem
}

func (e effect) none() bool { return e.plan == nil && e.status == nil }

// mayMoveStock says whether an event's type, bizStep and disposition appear in
// the mapping at all (a cheap test before looking its lots up).
func mayMoveStock(typ, bizStep, disposition string) bool {
	if typ == "TransformationEvent" {
		return true
	}
	if typ != "ObjectEvent" {
		return false
	}
	switch bizStep {
	case "commissioning", "receiving", "shipping", "destroying", "transporting", "dispensing", "inspecting", "holding":
		return true
	}
	return disposition == "destroyed" || disposition == "disposed"
}

// effectOfCaptured is a captured event as the mapping reads it.
func effectOfCaptured(ev epcis.Event) effectEvent {
	e := effectEvent{eventID: ev.EventID, typ: ev.Type, action: ev.Action, bizStep: ev.BizStep,
		disposition: ev.Disposition, sources: ev.Sources, destinations: ev.Destinations, bizTx: ev.BizTransactions,
		eventTime: ev.EventTime}
	e.readPoint, _ = glnOfKey(ev.ReadPoint)
	e.bizLocation, _ = glnOfKey(ev.BizLocation)
	n := map[string]int{}
	for _, id := range ev.Identifiers {
		role, list := "", ""
		switch id.Role {
		case epcis.RoleEPC:
			role, list = "object", "quantityList"
		case epcis.RoleInput:
			role, list = "input", "inputQuantityList"
		case epcis.RoleOutput:
			role, list = "output", "outputQuantityList"
		default:
			continue
		}
		if !id.Class {
			e.instances = true
			e.outInstances = e.outInstances || role == "output"
			continue
		}
		field := list + "[" + itoa(n[list]) + "]."
		n[list]++
		g, l, ok := parseLotKey(id.Key)
		if !ok {
			continue
		}
		e.items = append(e.items, effectItem{role: role, gtin: g, lot: l, quantity: id.Quantity, uom: id.UOM, field: field})
	}
	var doc struct {
		ILMD json.RawMessage `json:"ilmd"`
	}
	if json.Unmarshal(ev.Raw, &doc) == nil && len(doc.ILMD) > 0 && doc.ILMD[0] == '{' {
		e.ilmd = doc.ILMD
	}
	return e
}

// eventStock is what planEffect looked up: the rows of the lots named,
// the products of their GTINs, the locations named.
type eventStock struct {
	rows      []db.LotStockForEventRow
	products  map[string]db.ProductsByGTINRow
	locations map[string]db.LocationsForStockRow // by GLN
}

func loadEventStock(ctx context.Context, q *db.Queries, e effectEvent) (eventStock, error) {
	st := eventStock{products: map[string]db.ProductsByGTINRow{}, locations: map[string]db.LocationsForStockRow{}}
	var gtins, lots []string
	var ids []uuid.UUID
	for _, it := range e.items {
		if it.batchID != uuid.Nil {
			ids = append(ids, it.batchID)
		} else {
			gtins, lots = append(gtins, it.gtin), append(lots, it.lot)
		}
	}
	rows, err := q.LotStockForEvent(ctx, db.LotStockForEventParams{Gtins: nonNilStrings(gtins), Lots: nonNilStrings(lots), Ids: append([]uuid.UUID{}, ids...)})
	if err != nil {
		return st, err
	}
	st.rows = rows
	for _, r := range rows {
		gtins = append(gtins, r.Gtin)
	}
	if len(gtins) > 0 {
		ps, err := q.ProductsByGTIN(ctx, gtins)
		if err != nil {
			return st, err
		}
		for _, p := range ps {
			st.products[p.Gtin] = p
		}
	}
	glns := nonEmpty(e.readPoint, e.bizLocation)
	for _, t := range append(slices.Clone(e.sources), e.destinations...) {
		if g, ok := glnOfKey(t.Key); ok {
			glns = append(glns, g)
		}
	}
	if len(glns) > 0 {
		locs, err := q.LocationsForStock(ctx, db.LocationsForStockParams{Ids: []uuid.UUID{}, Glns: glns})
		if err != nil {
			return st, err
		}
		for _, l := range locs {
			st.locations[l.Gln] = l
		}
	}
	return st, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ours is the location of a GLN when it is one of ours.
func (st eventStock) ours(gln string) (db.LocationsForStockRow, bool) {
	l, ok := st.locations[gln]
	return l, ok && l.Ours
}

// listLocation is the location of the first entry of type "location" in a
// source or destination list.
func (st eventStock) listLocation(list []epcis.Typed) (db.LocationsForStockRow, bool) {
	for _, t := range list {
		if t.Type != "location" {
			continue
		}
		if g, ok := glnOfKey(t.Key); ok {
			l, known := st.locations[g]
			return l, known
		}
	}
	return db.LocationsForStockRow{}, false
}

func listParty(list []epcis.Typed) string {
	for _, t := range list {
		if t.Type == "owning_party" {
			if p, ok := strings.CutPrefix(t.Key, "417/"); ok {
				return p
			}
		}
	}
	return ""
}

// at is L: the bizLocation, else the readPoint, the first that is ours.
func (st eventStock) at(e effectEvent) (db.LocationsForStockRow, bool) {
	for _, g := range nonEmpty(e.bizLocation, e.readPoint) {
		if l, ok := st.ours(g); ok {
			return l, true
		}
	}
	return db.LocationsForStockRow{}, false
}

// held is the row of it's lot at one of our locations the event takes
// from: the row named by id, or the one at a preferred location, or the
// only one. ok is false when we hold none (a record).
func (st eventStock) held(it effectItem, prefer ...string) (db.LotStockForEventRow, bool, error) {
	var mine []db.LotStockForEventRow
	for _, r := range st.rows {
		if it.batchID != uuid.Nil {
			if r.ID == it.batchID {
				return r, r.Ours, nil
			}
			continue
		}
		if r.Gtin == it.gtin && r.BatchNumber == it.lot && r.Ours {
			mine = append(mine, r)
		}
	}
	for _, g := range prefer {
		for _, r := range mine {
			if g != "" && r.LocationGln == g {
				return r, true, nil
			}
		}
	}
	switch len(mine) {
	case 0:
		return db.LotStockForEventRow{}, false, nil
	case 1:
		return mine[0], true, nil
	}
	names := make([]string, len(mine))
	for i, r := range mine {
		names[i] = r.LocationGln
	}
	return db.LotStockForEventRow{}, false, Invalid(it.field+"quantity", "lot "+it.lot+" is at several of our locations ("+
		strings.Join(names, ", ")+"): name the one it leaves from as readPoint or bizLocation")
}

// amount is it's quantity in unit, or ok false when it names none.
func amount(it effectItem, unit string) (quantity.Quantity, bool, error) {
	if it.quantity == "" {
		return 0, false, nil
	}
	v, err := quantity.Parse(it.quantity)
	if err != nil || v <= 0 {
		return 0, false, Invalid(it.field+"quantity", "must be a positive quantity with at most 3 decimals")
	}
	if it.uom == "" {
		return v, true, nil
	}
	from, ok1 := gs1.LookupUnit(it.uom)
	to, ok2 := gs1.LookupUnit(unit)
	if !ok1 || !ok2 {
		return 0, false, Invalid(it.field+"uom", "unit "+it.uom+" is not one we can convert to "+unit)
	}
	if from.Code == to.Code {
		return v, true, nil
	}
	if from.Dimension != to.Dimension {
		return 0, false, Invalid(it.field+"uom", "must be in the lot's unit "+to.Code+" ("+to.Name+") or one of its dimension, not "+from.Code)
	}
	milli := float64(v.Milli()) * from.Base / to.Base
	r := math.Round(milli)
	if math.Abs(milli-r) > 1e-6*math.Max(1, math.Abs(milli)) || r > float64(quantity.Max.Milli()) {
		return 0, false, Invalid(it.field+"quantity", it.quantity+" "+from.Code+" is not an exact quantity of "+to.Code+" at 3 decimals")
	}
	return quantity.Quantity(int64(r)), true, nil
}

// planEffect maps an event to its stock effect (see the table above). A
// refusal (an ambiguous lot, a unit that does not convert) is a domain error.
func planEffect(ctx context.Context, q *db.Queries, e effectEvent) (effect, error) {
	if !mayMoveStock(e.typ, e.bizStep, e.disposition) {
		return effect{}, nil
	}
	st, err := loadEventStock(ctx, q, e)
	if err != nil {
		return effect{}, err
	}
	at, atOurs := st.at(e)
	plan := &stockPlan{reason: e.notes}
	used := map[int]bool{}
	takeAll := func(kind, usable string, prefer ...string) error {
		for i, it := range e.items {
			if it.role != "object" {
				continue
			}
			r, ok, err := st.held(it, prefer...)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			qty, ok, err := amount(it, r.UnitOfMeasure)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			plan.takes = append(plan.takes, take{StockItem: StockItem{r.ID, qty}, kind: kind, field: it.field, usable: usable})
			used[i] = true
		}
		return nil
	}
	// adds puts items of our products at loc; existing rows keep their unit.
	addAll := func(role, kind, origin string, loc db.LocationsForStockRow, mod func(*add)) error {
		for i, it := range e.items {
			if it.role != role {
				continue
			}
			gtin, lot := it.gtin, it.lot
			if it.batchID != uuid.Nil {
				found := false
				for _, r := range st.rows {
					if r.ID == it.batchID {
						gtin, lot, found = r.Gtin, r.BatchNumber, true
						if r.Ours {
							loc = db.LocationsForStockRow{ID: r.LocationID, Gln: r.LocationGln, Ours: true}
						}
					}
				}
				if !found {
					continue
				}
			}
			p, ok := st.products[gtin]
			if !ok || !loc.Ours {
				continue
			}
			unit := p.Unit
			for _, r := range st.rows {
				if r.Gtin == gtin && r.BatchNumber == lot && r.LocationID == loc.ID {
					unit = r.UnitOfMeasure
				}
			}
			qty, ok, err := amount(it, unit)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			code, _ := gs1.UNECECode(unit)
			a := add{productID: p.ID, lot: lot, locationID: loc.ID, quantity: qty, uom: code, kind: kind,
				origin: origin, productionDate: e.eventTime, tlcSource: loc.Gln, notes: e.notes, field: it.field}
			if mod != nil {
				mod(&a)
			}
			plan.adds = append(plan.adds, a)
			used[i] = true
		}
		return nil
	}

	switch {
	case e.typ == "TransformationEvent":
		plan.operation = "transform"
		for i, it := range e.items {
			if it.role != "input" {
				continue
			}
			r, ok, err := st.held(it, e.bizLocation, e.readPoint)
			if err != nil {
				return effect{}, err
			}
			if !ok {
				continue
			}
			qty, ok, err := amount(it, r.UnitOfMeasure)
			if err != nil {
				return effect{}, err
			}
			if !ok {
				continue
			}
			plan.takes = append(plan.takes, take{StockItem: StockItem{r.ID, qty}, kind: KindTransformIn, field: it.field,
				usable: "used as a transformation input"})
			used[i] = true
			if !atOurs {
				// The outputs are made where the inputs are.
				at, atOurs = db.LocationsForStockRow{ID: r.LocationID, Gln: r.LocationGln, Ours: true}, true
			}
		}
		hasOutputs := slices.ContainsFunc(e.items, func(it effectItem) bool { return it.role == "output" })
		if len(plan.takes) > 0 && !hasOutputs && !e.outInstances {
			return effect{}, Invalid("output_quantity_list", "a transformation needs outputs: it takes from our lots")
		}
		kdes := ilmdKDEs(e.ilmd)
		if err := addAll("output", KindProduce, OriginProduced, at, func(a *add) { a.kdes = kdes }); err != nil {
			return effect{}, err
		}
	case e.typ != "ObjectEvent":
		return effect{}, nil
	case e.bizStep == "commissioning" && e.action == "ADD":
		plan.operation = "commission"
		kdes := ilmdKDEs(e.ilmd)
		expiry, bestBefore := ilmdDate(e.ilmd, "itemExpirationDate"), ilmdDate(e.ilmd, "bestBeforeDate")
		if err := addAll("object", KindProduce, OriginProduced, at, func(a *add) {
			a.kdes, a.expiry, a.bestBefore = kdes, expiry, bestBefore
		}); err != nil {
			return effect{}, err
		}
	case e.bizStep == "receiving" && (e.action == "OBSERVE" || e.action == "ADD"):
		if !atOurs {
			return effect{}, nil
		}
		plan.operation = "receive"
		from, fromKnown := st.listLocation(e.sources)
		if fromKnown && from.Ours && from.ID != at.ID {
			plan.fromTransfer = true
			if err := addAll("object", KindReceive, OriginMoved, at, nil); err != nil {
				return effect{}, err
			}
			if len(plan.adds) > 1 {
				return effect{}, Invalid("quantity_list", "a receipt of stock in transit from one of our locations names one lot")
			}
			break
		}
		supplier := listParty(e.sources)
		expiry, bestBefore := ilmdDate(e.ilmd, "itemExpirationDate"), ilmdDate(e.ilmd, "bestBeforeDate")
		if err := addAll("object", KindReceive, OriginReceived, at, func(a *add) {
			a.tlcSource = ""
			if fromKnown {
				a.tlcSource = from.Gln
			}
			if supplier != "" {
				a.kdes = map[string]string{"supplier": supplier}
			}
			a.expiry, a.bestBefore = expiry, bestBefore
		}); err != nil {
			return effect{}, err
		}
	case e.bizStep == "shipping" && e.action == "OBSERVE":
		plan.operation = "ship"
		if err := takeAll(KindShip, "shipped", e.bizLocation, e.readPoint); err != nil {
			return effect{}, err
		}
		if to, ok := st.listLocation(e.destinations); ok && to.Ours {
			for _, t := range plan.takes {
				if r := st.row(t.BatchID); r.LocationID == to.ID {
					return effect{}, Invalid("destination_list", "the destination is the location lot "+r.BatchNumber+" is at")
				}
			}
			plan.shipTo = &to.ID
		}
	case (e.bizStep == "destroying" || e.disposition == "destroyed" || e.disposition == "disposed") &&
		(e.action == "OBSERVE" || e.action == "DELETE"):
		plan.operation = "destroy"
		if err := takeAll(KindDestroy, "", e.bizLocation, e.readPoint); err != nil {
			return effect{}, err
		}
	case e.bizStep == "transporting" && e.action == "OBSERVE":
		from, ok1 := st.listLocation(e.sources)
		to, ok2 := st.listLocation(e.destinations)
		if !ok1 || !ok2 || !from.Ours || !to.Ours || from.ID == to.ID {
			return effect{}, nil
		}
		plan.operation = "move"
		for i, it := range e.items {
			if it.role != "object" {
				continue
			}
			r, ok, err := st.held(it, from.Gln)
			if err != nil {
				return effect{}, err
			}
			if !ok || r.LocationID != from.ID {
				continue
			}
			qty, ok, err := amount(it, r.UnitOfMeasure)
			if err != nil {
				return effect{}, err
			}
			if !ok {
				continue
			}
			b, err := q.GetBatch(ctx, r.ID)
			if err != nil {
				return effect{}, err
			}
			src := b.Batch
			var kdes map[string]string
			_ = json.Unmarshal(src.Kdes, &kdes)
			plan.takes = append(plan.takes, take{StockItem: StockItem{r.ID, qty}, kind: KindMoveOut, field: it.field})
			plan.adds = append(plan.adds, add{productID: src.ProductID, lot: src.BatchNumber, locationID: to.ID,
				quantity: qty, uom: src.UnitOfMeasure, kind: KindMoveIn, origin: OriginMoved,
				status: QualityStatus(src.QualityStatus), statusReason: src.StatusReason,
				productionDate: src.ProductionDate, expiry: src.ExpiryDate, bestBefore: src.BestBeforeDate,
				tlcSource: src.TlcSource, kdes: kdes, field: it.field})
			used[i] = true
		}
	case e.bizStep == "dispensing" && e.action == "OBSERVE":
		plan.operation = "consume"
		if err := takeAll("consume", "consumed", e.bizLocation, e.readPoint); err != nil {
			return effect{}, err
		}
	case e.bizStep == "inspecting" && (e.disposition == "conformant" || e.disposition == "non_conformant"),
		e.bizStep == "holding":
		sc := &statusChange{status: StatusApproved}
		switch {
		case e.bizStep == "holding":
			sc.status = StatusOnHold
		case e.disposition == "non_conformant":
			sc.status = StatusRejected
		}
		if sc.status != StatusApproved {
			sc.reason = strings.TrimSpace(e.notes)
			if sc.reason == "" {
				sc.reason = "EPCIS event " + e.eventID
			}
		}
		for _, it := range e.items {
			if it.role != "object" {
				continue
			}
			var at []uuid.UUID
			var all []uuid.UUID
			for _, r := range st.rows {
				if (it.batchID != uuid.Nil && r.ID == it.batchID) ||
					(it.batchID == uuid.Nil && r.Gtin == it.gtin && r.BatchNumber == it.lot) {
					if !r.Ours {
						continue
					}
					all = append(all, r.ID)
					if r.LocationGln == e.bizLocation || r.LocationGln == e.readPoint {
						at = append(at, r.ID)
					}
				}
			}
			if len(at) > 0 {
				all = at
			}
			sc.ids = append(sc.ids, all...)
		}
		if len(sc.ids) == 0 {
			return effect{}, nil
		}
		return effect{status: sc}, nil
	}
	if len(plan.takes) == 0 && len(plan.adds) == 0 {
		return effect{}, nil
	}
	eff := effect{plan: plan}
	for i, it := range e.items {
		if !used[i] {
			eff.unused = append(eff.unused, it)
		}
	}
	return eff, nil
}

func (st eventStock) row(id uuid.UUID) db.LotStockForEventRow {
	for _, r := range st.rows {
		if r.ID == id {
			return r
		}
	}
	return db.LotStockForEventRow{}
}

// ilmdKDEs are the FSMA key data elements an ILMD carries, under their
// local names whatever the namespace prefix ("bt:harvestDate").
func ilmdKDEs(ilmd json.RawMessage) map[string]string {
	var m map[string]json.RawMessage
	if len(ilmd) == 0 || json.Unmarshal(ilmd, &m) != nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		name := k
		if i := strings.LastIndexAny(k, ":#/"); i >= 0 {
			name = k[i+1:]
		}
		if !slices.Contains([]string{"stage", "harvestLocation", "field", "harvestDate", "coolingDate", "packingDate"}, name) {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) == nil && s != "" {
			out[name] = s
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// ilmdDate is a date field of the ILMD (cbvmda:itemExpirationDate).
func ilmdDate(ilmd json.RawMessage, name string) *time.Time {
	var m map[string]json.RawMessage
	if len(ilmd) == 0 || json.Unmarshal(ilmd, &m) != nil {
		return nil
	}
	for k, v := range m {
		if k != name && !strings.HasSuffix(k, ":"+name) {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return nil
		}
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return &t
		}
	}
	return nil
}

// setStatus carries out a status change inside the caller's transaction:
// the rows locked in id order, the status set, the event written; no
// ledger row.
func (s *Service) setStatus(ctx context.Context, q *db.Queries, sc statusChange, write func() error) ([]Batch, error) {
	rows, err := q.LockStock(ctx, sc.ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if err := q.SetBatchStatus(ctx, db.SetBatchStatusParams{ID: r.Batch.ID, QualityStatus: string(sc.status),
			StatusReason: sc.reason}); err != nil {
			return nil, err
		}
	}
	if err := write(); err != nil {
		return nil, err
	}
	var out []Batch
	for _, r := range rows {
		b, err := batchInTx(ctx, q, r.Batch.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// runEffect runs an effect in the caller's transaction with ev as its
// event: a captured row as received (prepared), else a record to build.
func (s *Service) runEffect(ctx context.Context, q *db.Queries, actor Actor, eff effect, prepared *eventRow, rec eventRecord) (Movement, error) {
	if eff.status != nil {
		var id uuid.UUID
		batches, err := s.setStatus(ctx, q, *eff.status, func() error {
			if prepared != nil {
				id = prepared.ID
				return writeEvents(ctx, q, []eventRow{*prepared})
			}
			var err error
			id, err = insertEvent(ctx, q, rec)
			return err
		})
		if err != nil {
			return Movement{}, err
		}
		return Movement{EventID: id, Operation: "status", Batches: batches}, nil
	}
	plan := *eff.plan
	if prepared != nil {
		plan.prepared = prepared
		plan.event.ID = prepared.ID
		plan.event.EventType = prepared.EventType
	} else {
		plan.event = rec
		for _, it := range eff.unused {
			if it.batchID == uuid.Nil {
				continue
			}
			qty, _ := quantity.Parse(it.quantity)
			item := QuantityItem{BatchID: it.batchID, Quantity: qty, UOM: it.uom}
			switch it.role {
			case "input":
				plan.alsoNamed[1] = append(plan.alsoNamed[1], item)
			case "output":
				plan.alsoNamed[2] = append(plan.alsoNamed[2], item)
			default:
				plan.alsoNamed[0] = append(plan.alsoNamed[0], item)
			}
		}
	}
	return s.move(ctx, q, actor, plan)
}
