package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// A synthetic supply chain of benchmark size (seed --scale N): at N=1
// about 100,000 lot rows and 1,000,000 events over 400 days. The story is
// simulated in memory, each movement as the operations would record it
// (stock.go, operations.go, consume.go, batches.go), then written with
// COPY in one transaction: events with their documents and projections
// encoded by inventory.EncodeBulkEvent, ledger rows with their versions,
// lot rows with their final balance.

// ScaleOptions tune a scale data set.
type ScaleOptions struct {
	Scale    float64   // 1: about 100,000 lot rows and 1,000,000 events
	Progress io.Writer // one line per stage; nil for silence
	Now      time.Time // the last day of the story; zero is time.Now()
}

// BenchLot is a lot the benchmarks name: a batch row of it.
type BenchLot struct {
	GTIN, Lot string
	BatchID   uuid.UUID
}

// ScaleResult says what was written and where the benchmark lots are.
type ScaleResult struct {
	Batches, Events, Ledger int
	// Deep: a supplier receipt whose downstream trace is 10 deep. Fan: a
	// received lot shipped, through its moves, FanShipments times to
	// Customers customers.
	Deep, Fan    BenchLot
	FanShipments int
	Customers    int
	// FSMAProduct has receipts, transformations and shipments over the
	// year before Now.
	FSMAProduct   BenchLot // Lot and BatchID empty
	FSMAProductID uuid.UUID
}

// Lot numbers of the benchmark lots.
const (
	DeepLot = "SC-DEEP-0001"
	FanLot  = "SC-FAN-0001"
	// DeepLevels is the depth of DeepLot's downstream trace.
	DeepLevels = 10
)

// World sizes: fixed whatever the scale, 540 parties, so that one lot
// can reach 500 customers.
const (
	scaleOwnParties = 3
	scaleSuppliers  = 37
	scaleCustomers  = 500
	scaleFamilies   = 10
	scaleStages     = 8 // stage 0 is received, 1..7 are made
	fanShipments    = 560
	fsmaFamily      = 9
)

var scaleFamilyNames = [scaleFamilies]string{"Coffee", "Rice", "Cocoa", "Wheat flour", "Tomatoes", "Oranges",
	"Almonds", "Milk", "Eggs", "Romaine lettuce"}

var scaleStageNames = [scaleStages]string{"raw", "cleaned", "sorted", "processed", "blended", "portioned", "packed", "cased"}

type sProduct struct {
	id               uuid.UUID
	gtin, name, unit string
	family, stage    int
	shelfDays        int
}

type sLocation struct {
	id        uuid.UUID
	gln, name string
	typ       string
	address   string
	party     int // index in parties
}

type sParty struct {
	id        uuid.UUID
	pgln      string
	name      string
	own       bool
	roles     []string
	address   string
	locations []int
}

// sRow is a lot's stock at one of our locations, as the simulation goes.
type sRow struct {
	id           uuid.UUID
	product      int
	lot          string
	site         int // index in locations
	produced     quantity.Quantity
	avail        quantity.Quantity
	version      int64
	status       string
	statusReason string
	origin       string
	createdEvent uuid.UUID
	created      time.Time
	updated      time.Time
	production   time.Time
	expiry       time.Time
	tlcSource    string
	kdes         string
	notes        string
}

type sLedger struct {
	row      int32
	kind     string
	qty      quantity.Quantity
	after    quantity.Quantity
	version  int64
	reason   string
	actor    string
	recorded time.Time
}

type sOp struct {
	ev       inventory.BulkEvent
	recorded time.Time
	ledger   []sLedger
}

type scaleGen struct {
	rng       *rand.Rand
	now       time.Time
	products  []sProduct
	parties   []sParty
	locations []sLocation
	plants    []int // our factories
	stores    []int // our warehouses and distributors
	suppliers []int // party indexes
	customers []int
	rows      []*sRow
	rowIndex  map[*sRow]int32
	lotSites  map[string][]int // product/lot -> sites with a row
	ops       []sOp
	seq       int
	docSeq    int
	byID      map[uuid.UUID]int
}

const (
	scaleActor   = "seed"
	scaleImport  = "import"
	scaleSystem  = "system"
	scaleHorizon = 400 // days of history
)

// RunScale writes a scale data set into an empty database.
func RunScale(ctx context.Context, pool *pgxpool.Pool, opts ScaleOptions) (ScaleResult, error) {
	if opts.Scale <= 0 || math.IsNaN(opts.Scale) || opts.Scale > 100 {
		return ScaleResult{}, fmt.Errorf("scale must be above 0 and at most 100, not %v", opts.Scale)
	}
	var used bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM products) OR EXISTS (SELECT 1 FROM batches)
		OR EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM parties) OR EXISTS (SELECT 1 FROM locations)`).Scan(&used); err != nil {
		return ScaleResult{}, err
	}
	if used {
		return ScaleResult{}, ErrNotEmpty
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	start := time.Now()
	say := func(format string, a ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "seed --scale: %-44s (%.1fs)\n", fmt.Sprintf(format, a...), time.Since(start).Seconds())
		}
	}
	g := &scaleGen{rng: rand.New(rand.NewPCG(2026, 21)), now: now.UTC().Truncate(time.Second),
		rowIndex: map[*sRow]int32{}, lotSites: map[string][]int{}}
	g.world()
	res := g.simulate(int(math.Round(100_000 * opts.Scale)))
	ledger := 0
	for _, op := range g.ops {
		ledger += len(op.ledger)
	}
	res.Batches, res.Events, res.Ledger = len(g.rows), len(g.ops), ledger
	say("simulated %d lot rows, %d events, %d ledger rows", res.Batches, res.Events, res.Ledger)

	tx, err := pool.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit, a no-op
	// Losing the last commits on a crash costs a rerun, not data.
	if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
		return res, err
	}
	// Foreign keys are checked row by row by triggers, which cost more than
	// the COPY itself; a superuser may skip them (the events trigger only
	// fills what the rows already carry) and verify fails the transaction
	// on anything they would have refused.
	var super bool
	if err := tx.QueryRow(ctx, "SELECT current_setting('is_superuser') = 'on'").Scan(&super); err != nil {
		return res, err
	}
	if super {
		if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return res, err
		}
	}
	if err := g.writeMaster(ctx, tx); err != nil {
		return res, fmt.Errorf("master data: %w", err)
	}
	say("%d parties, %d locations, %d products", len(g.parties), len(g.locations), len(g.products))
	if err := g.writeBatches(ctx, tx); err != nil {
		return res, fmt.Errorf("batches: %w", err)
	}
	say("%d lot rows", len(g.rows))
	if err := g.writeEvents(ctx, tx, say); err != nil {
		return res, fmt.Errorf("events: %w", err)
	}
	if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = origin"); err != nil {
		return res, err
	}
	if err := verifyScale(ctx, tx); err != nil {
		return res, err
	}
	say("verified references and ledger")
	if err := tx.Commit(ctx); err != nil {
		return res, err
	}
	say("committed")
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		return res, err
	}
	say("analyzed")
	return res, nil
}

// world makes the parties, their locations and the products.
func (g *scaleGen) world() {
	ownNames := []string{"Northside Foods Inc.", "Northside Fresh Logistics LLC", "Northside Packing Co."}
	for i := range scaleOwnParties {
		p := sParty{id: uuid.New(), pgln: gln(fmt.Sprintf("9%05d", i)), name: ownNames[i], own: true,
			address: "1200 Harbor Way, Oakland, CA, USA"}
		g.parties = append(g.parties, p)
	}
	cities := []string{"Oakland, CA", "Fresno, CA", "Reno, NV", "Portland, OR", "Boise, ID", "Phoenix, AZ",
		"Denver, CO", "Salt Lake City, UT", "Tacoma, WA", "Sacramento, CA"}
	addSite := func(party int, typ, name string) {
		i := len(g.locations)
		g.locations = append(g.locations, sLocation{id: uuid.New(), gln: gln(fmt.Sprintf("8%05d", i)), name: name,
			typ: typ, address: cities[i%len(cities)] + ", USA", party: party})
		g.parties[party].locations = append(g.parties[party].locations, i)
		if typ == "factory" {
			g.plants = append(g.plants, i)
		} else {
			g.stores = append(g.stores, i)
		}
	}
	for i := range 6 {
		addSite(i%2*2, "factory", fmt.Sprintf("Northside Plant %d, %s", i+1, cities[i]))
	}
	for i := range 8 {
		addSite(1, "warehouse", fmt.Sprintf("Northside Warehouse %d, %s", i+1, cities[(i+3)%len(cities)]))
	}
	for i := range 10 {
		addSite(1, "distributor", fmt.Sprintf("Northside Distribution %d, %s", i+1, cities[(i+5)%len(cities)]))
	}
	partner := func(prefix, name string, roles []string, typ, siteName, address string) int {
		pi := len(g.parties)
		g.parties = append(g.parties, sParty{id: uuid.New(), pgln: partnerGLN(prefix, "000009"), name: name, roles: roles,
			address: address})
		li := len(g.locations)
		g.locations = append(g.locations, sLocation{id: uuid.New(), gln: partnerGLN(prefix, "000016"), name: siteName,
			typ: typ, address: address, party: pi})
		g.parties[pi].locations = append(g.parties[pi].locations, li)
		return pi
	}
	for i := range scaleSuppliers {
		fam := scaleFamilyNames[i%scaleFamilies]
		name := fmt.Sprintf("%s Growers %02d", fam, i+1)
		g.suppliers = append(g.suppliers, partner(fmt.Sprintf("77%04d", i), name, []string{"supplier"}, "farm",
			name+", farm", fmt.Sprintf("Region %d", i%13+1)))
	}
	for i := range scaleCustomers {
		typ := "retailer"
		if i%9 == 0 {
			typ = "distributor"
		}
		name := fmt.Sprintf("Customer Market %03d", i+1)
		g.customers = append(g.customers, partner(fmt.Sprintf("40%04d", i), name, []string{"customer"}, typ,
			name+", store", cities[i%len(cities)]+", USA"))
	}
	for f := range scaleFamilies {
		for s := range scaleStages {
			unit := "KGM"
			if s >= 6 {
				unit = "H87"
			}
			body := fmt.Sprintf("006141490%02d%02d", f, s)
			g.products = append(g.products, sProduct{id: uuid.New(), gtin: body + string(gs1.CheckDigit(body)),
				name: scaleFamilyNames[f] + ", " + scaleStageNames[s], unit: unit, family: f, stage: s,
				shelfDays: 120 + 60*(s%4)})
		}
	}
}

func (g *scaleGen) product(family, stage int) int { return family*scaleStages + stage }

func (g *scaleGen) nextLot() string {
	g.seq++
	return fmt.Sprintf("SC%07d", g.seq)
}

func (g *scaleGen) docNumber(prefix string) string {
	g.docSeq++
	return fmt.Sprintf("%s-%07d", prefix, g.docSeq)
}

func units(n int64) quantity.Quantity { return quantity.FromUnits(n) }

// share is a whole-unit part of q, at least one unit when q has one.
func share(q quantity.Quantity, f float64) quantity.Quantity {
	n := int64(float64(q.Milli()/1000) * f)
	if n < 1 {
		n = 1
	}
	return units(n)
}

func (g *scaleGen) after(t time.Time, minHours, maxHours int) time.Time {
	return t.Add(time.Duration(minHours)*time.Hour + time.Duration(g.rng.IntN((maxHours-minHours)*60+1))*time.Minute)
}

func (g *scaleGen) recorded(t time.Time) time.Time {
	r := t.Add(time.Duration(30+g.rng.IntN(600)) * time.Second)
	if r.After(g.now) {
		return g.now
	}
	return r
}

func (g *scaleGen) addRow(r *sRow) *sRow {
	g.rowIndex[r] = int32(len(g.rows))
	g.rows = append(g.rows, r)
	k := g.products[r.product].gtin + "/" + r.lot
	g.lotSites[k] = append(g.lotSites[k], r.site)
	return r
}

func (g *scaleGen) item(r *sRow, q quantity.Quantity) inventory.QuantityItem {
	return inventory.QuantityItem{BatchID: r.id, Quantity: q, UOM: g.products[r.product].unit}
}

// take writes a ledger row taking q from r at t.
func (g *scaleGen) take(r *sRow, kind string, q quantity.Quantity, reason, actor string, t time.Time) sLedger {
	r.avail -= q
	r.version++
	r.updated = t
	if r.avail < 0 {
		panic("seed: negative balance")
	}
	return sLedger{row: g.rowIndex[r], kind: kind, qty: q, after: r.avail, version: r.version, reason: reason, actor: actor}
}

func (g *scaleGen) emit(ev inventory.BulkEvent, ledger ...sLedger) {
	rec := g.recorded(ev.Time)
	for i := range ledger {
		ledger[i].recorded = rec
	}
	g.ops = append(g.ops, sOp{ev: ev, recorded: rec, ledger: ledger})
}

func ptrID(id uuid.UUID) *uuid.UUID { return &id }

// receive records a supplier's lot arriving at one of our plants.
func (g *scaleGen) receive(product, supplier, site int, lot string, q quantity.Quantity, t time.Time) *sRow {
	p := g.products[product]
	sup := g.parties[supplier]
	from := g.locations[sup.locations[0]]
	at := g.locations[site]
	id := inventory.NewEventID()
	kdes, _ := json.Marshal(map[string]string{"supplier": sup.pgln})
	r := g.addRow(&sRow{id: uuid.New(), product: product, lot: lot, site: site, produced: q, avail: q, version: 1,
		status: string(inventory.StatusPending), origin: inventory.OriginReceived, createdEvent: id, created: t, updated: t,
		production: t, expiry: t.AddDate(0, 0, p.shelfDays), tlcSource: from.gln, kdes: string(kdes)})
	g.emit(inventory.BulkEvent{ID: id, Type: "ObjectEvent", Action: "OBSERVE", BizStep: "receiving", Disposition: "in_progress",
		Time: t, ReadPointID: &at.id, BizLocationID: &at.id, Quantities: []inventory.QuantityItem{g.item(r, q)},
		SourceType: scaleImport, Actor: scaleActor,
		Sources:      []epcis.Typed{inventory.PartyRef("owning_party", sup.pgln), inventory.LocationRef("location", from.gln)},
		Destinations: []epcis.Typed{inventory.PartyRef("owning_party", g.parties[0].pgln), inventory.LocationRef("location", at.gln)},
		BizTransactions: []epcis.Typed{inventory.BizTransactionRef("po", g.docNumber("PO"), at.gln),
			inventory.BizTransactionRef("desadv", g.docNumber("DA"), at.gln)}})
	return r
}

// setStatus records a quality status change (UpdateBatch).
func (g *scaleGen) setStatus(r *sRow, status inventory.QualityStatus, reason string, t time.Time) {
	notes := "quality status " + r.status + " → " + string(status)
	if reason != "" {
		notes += ": " + reason
	}
	at := g.locations[r.site].id
	g.emit(inventory.BulkEvent{ID: inventory.NewEventID(), Type: "ObjectEvent", Action: "OBSERVE",
		BizStep: status.BizStep(), Disposition: status.Disposition(), Time: t, ReadPointID: &at, BizLocationID: &at,
		Quantities: []inventory.QuantityItem{g.item(r, r.avail)}, SourceType: scaleSystem, Actor: scaleActor, Notes: notes})
	r.status = string(status)
	r.statusReason = ""
	if status != inventory.StatusApproved && status != inventory.StatusPending {
		r.statusReason = reason
	}
	r.version++
	r.updated = t
}

// transform turns q of in into out of a new lot of product at in's plant.
func (g *scaleGen) transform(in *sRow, q quantity.Quantity, product int, lot string, out quantity.Quantity, t time.Time) *sRow {
	p := g.products[product]
	at := g.locations[in.site]
	id := inventory.NewEventID()
	notes := "Production run: " + p.name
	r := g.addRow(&sRow{id: uuid.New(), product: product, lot: lot, site: in.site, produced: out, avail: out, version: 1,
		status: string(inventory.StatusPending), origin: inventory.OriginProduced, createdEvent: id, created: t, updated: t,
		production: t, expiry: t.AddDate(0, 0, p.shelfDays), tlcSource: at.gln, kdes: "{}"})
	var yield *float64
	inU, _ := gs1.LookupUnit(g.products[in.product].unit)
	outU, _ := gs1.LookupUnit(p.unit)
	if inU.Dimension == outU.Dimension {
		y := (float64(out.Milli()) / 1000 * outU.Base) / (float64(q.Milli()) / 1000 * inU.Base)
		yield = &y
	}
	inItem := g.item(in, q)
	led := g.take(in, inventory.KindTransformIn, q, notes, scaleActor, t)
	g.emit(inventory.BulkEvent{ID: id, Type: "TransformationEvent", BizStep: "commissioning", Disposition: "active",
		Time: t, ReadPointID: &at.id, BizLocationID: &at.id, Inputs: []inventory.QuantityItem{inItem},
		Outputs: []inventory.QuantityItem{g.item(r, out)}, Notes: notes, SourceType: scaleImport, Actor: scaleActor,
		Yield: yield}, led)
	return r
}

// move takes q of r to another of our locations, where the lot gets a row.
func (g *scaleGen) move(r *sRow, q quantity.Quantity, site int, t time.Time) *sRow {
	from, to := g.locations[r.site], g.locations[site]
	id := inventory.NewEventID()
	dst := g.addRow(&sRow{id: uuid.New(), product: r.product, lot: r.lot, site: site, produced: q, avail: q, version: 1,
		status: r.status, statusReason: r.statusReason, origin: inventory.OriginMoved, createdEvent: id, created: t, updated: t,
		production: r.production, expiry: r.expiry, tlcSource: r.tlcSource, kdes: r.kdes})
	srcItem := g.item(r, q)
	notes := "Replenishing " + to.name
	led := g.take(r, inventory.KindMoveOut, q, notes, scaleActor, t)
	g.emit(inventory.BulkEvent{ID: id, Type: "ObjectEvent", Action: "OBSERVE", BizStep: "transporting", Time: t,
		ReadPointID: &from.id, BizLocationID: &to.id, Quantities: []inventory.QuantityItem{srcItem, g.item(dst, q)},
		Notes: notes, SourceType: scaleImport, Actor: scaleActor,
		Sources:      []epcis.Typed{inventory.LocationRef("location", from.gln)},
		Destinations: []epcis.Typed{inventory.LocationRef("location", to.gln)}}, led)
	return dst
}

// ship sends q of r to a customer.
func (g *scaleGen) ship(r *sRow, q quantity.Quantity, customer int, t time.Time) {
	at := g.locations[r.site]
	c := g.parties[customer]
	to := g.locations[c.locations[0]]
	item := g.item(r, q)
	led := g.take(r, inventory.KindShip, q, "", scaleActor, t)
	g.emit(inventory.BulkEvent{ID: inventory.NewEventID(), Type: "ObjectEvent", Action: "OBSERVE", BizStep: "shipping",
		Disposition: "in_transit", Time: t, ReadPointID: &at.id, Quantities: []inventory.QuantityItem{item},
		SourceType: scaleImport, Actor: scaleActor,
		Sources:      []epcis.Typed{inventory.PartyRef("owning_party", g.parties[0].pgln), inventory.LocationRef("location", at.gln)},
		Destinations: []epcis.Typed{inventory.PartyRef("owning_party", c.pgln), inventory.LocationRef("location", to.gln)},
		BizTransactions: []epcis.Typed{inventory.BizTransactionRef("desadv", g.docNumber("DA"), at.gln),
			inventory.BizTransactionRef("po", g.docNumber("CPO"), at.gln)}}, led)
}

var consumeReasons = []string{"order picking", "production run", "retail replenishment", "sample for lab", "quality retain"}

// consume takes q of r (a consume: dispensing).
func (g *scaleGen) consume(r *sRow, q quantity.Quantity, t time.Time) {
	disposition := "partially_dispensed"
	if q == r.avail {
		disposition = "dispensed"
	}
	reason := consumeReasons[g.rng.IntN(len(consumeReasons))]
	at := g.locations[r.site].id
	item := g.item(r, q)
	led := g.take(r, "consume", q, reason, scaleActor, t)
	g.emit(inventory.BulkEvent{ID: inventory.NewEventID(), Type: "ObjectEvent", Action: "OBSERVE", BizStep: "dispensing",
		Disposition: disposition, Time: t, ReadPointID: &at, BizLocationID: &at, Quantities: []inventory.QuantityItem{item},
		SourceType: scaleSystem, Actor: scaleActor, Notes: reason}, led)
}

// outputQuantity is what q of in makes of product: mass loses a little,
// packing counts 250 g packs and cases of 12.
func (g *scaleGen) outputQuantity(in int, q quantity.Quantity, product int) quantity.Quantity {
	n := q.Milli() / 1000
	switch {
	case g.products[in].unit == "KGM" && g.products[product].unit == "KGM":
		n = n * int64(85+g.rng.IntN(14)) / 100
	case g.products[in].unit == "KGM":
		n *= 4
	default:
		n /= 12
	}
	return units(max(n, 1))
}

// release decides a new lot's status: most are released, some wait for
// QA, some are held.
func (g *scaleGen) release(r *sRow, t time.Time) (time.Time, bool) {
	t = g.after(t, 2, 30)
	if t.After(g.now) {
		return t, false
	}
	switch x := g.rng.IntN(100); {
	case x < 6:
		return t, false
	case x < 11:
		g.setStatus(r, inventory.StatusOnHold, "Awaiting lab result, sample "+g.docNumber("LAB"), t)
		return t, false
	}
	g.setStatus(r, inventory.StatusApproved, "QA release", t)
	return t, true
}

// life runs a released or moved row until its stock is mostly gone or
// the story ends: maybe a transformation into the next stage, maybe moves
// to our warehouses, shipments and consumes.
func (g *scaleGen) life(r *sRow, t time.Time, stagesLeft, movesLeft int) {
	if r.origin != inventory.OriginMoved {
		var ok bool
		if t, ok = g.release(r, t); !ok {
			return
		}
	}
	p := g.products[r.product]
	isPlant := g.locations[r.site].typ == "factory"
	if stagesLeft > 0 && isPlant && p.stage < scaleStages-1 {
		t = g.after(t, 4, 72)
		if t.Before(g.now) {
			q := share(r.avail, 0.4+g.rng.Float64()*0.3)
			next := g.product(p.family, p.stage+1)
			out := g.transform(r, q, next, g.nextLot(), g.outputQuantity(r.product, q, next), t)
			g.life(out, t, stagesLeft-1, movesLeft)
		}
	}
	for movesLeft > 0 && g.rng.IntN(100) < 45 {
		t = g.after(t, 6, 96)
		site := g.stores[g.rng.IntN(len(g.stores))]
		k := p.gtin + "/" + r.lot
		if t.After(g.now) || r.avail < units(20) || contains(g.lotSites[k], site) {
			break
		}
		moved := g.move(r, share(r.avail, 0.2+g.rng.Float64()*0.3), site, t)
		g.life(moved, t, 0, movesLeft-1)
		movesLeft--
	}
	g.drain(r, t, 3+g.rng.IntN(6), 3+g.rng.IntN(6))
}

// drain ships and consumes from r, in time order.
func (g *scaleGen) drain(r *sRow, t time.Time, ships, consumes int) {
	for ships+consumes > 0 {
		t = g.after(t, 3, 120)
		if t.After(g.now) || r.avail == 0 {
			return
		}
		if g.rng.IntN(ships+consumes) < ships {
			ships--
			g.ship(r, min(r.avail, share(r.produced, 0.03+g.rng.Float64()*0.07)), g.customers[g.rng.IntN(len(g.customers))], t)
		} else {
			consumes--
			q := share(r.produced, 0.01+g.rng.Float64()*0.05)
			if ships+consumes == 0 && g.rng.IntN(4) == 0 {
				q = r.avail // the last of it
			}
			g.consume(r, min(r.avail, q), t)
		}
	}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// simulate writes the story: the benchmark lots, then supplier receipts
// spread over the horizon until there are lots rows.
func (g *scaleGen) simulate(lots int) ScaleResult {
	var res ScaleResult
	day := func(daysAgo int, hour int) time.Time {
		d := g.now.AddDate(0, 0, -daysAgo)
		return time.Date(d.Year(), d.Month(), d.Day(), hour, 0, 0, 0, time.UTC)
	}
	supplierOf := func(family int) int { return g.suppliers[(family+scaleFamilies*g.rng.IntN(4))%len(g.suppliers)] }

	// Deep: received, seven stages at one plant, three moves.
	plant := g.plants[0]
	deep := g.receive(g.product(0, 0), supplierOf(0), plant, DeepLot, units(20000), day(200, 8))
	res.Deep = BenchLot{GTIN: g.products[deep.product].gtin, Lot: DeepLot, BatchID: deep.id}
	g.setStatus(deep, inventory.StatusApproved, "QA release", day(199, 9))
	cur, t := deep, day(198, 7)
	for s := 1; s < scaleStages; s++ {
		q := share(cur.avail, 0.6)
		next := g.product(0, s)
		cur = g.transform(cur, q, next, fmt.Sprintf("SC-DEEP-S%d", s), g.outputQuantity(cur.product, q, next), t)
		g.setStatus(cur, inventory.StatusApproved, "QA release", t.Add(3*time.Hour))
		t = t.Add(26 * time.Hour)
	}
	for _, site := range []int{g.stores[0], g.stores[8], g.stores[9]} { // warehouse, two distribution centres
		cur = g.move(cur, share(cur.avail, 0.7), site, t)
		t = t.Add(30 * time.Hour)
	}
	g.drain(cur, t, 6, 2)

	// Fan-out: received, moved to three distribution centres, shipped to
	// every customer, some twice.
	fanPlant := g.plants[1]
	fan := g.receive(g.product(1, 0), supplierOf(1), fanPlant, FanLot, units(90000), day(120, 8))
	res.Fan = BenchLot{GTIN: g.products[fan.product].gtin, Lot: FanLot, BatchID: fan.id}
	g.setStatus(fan, inventory.StatusApproved, "QA release", day(119, 9))
	var dcs []*sRow
	for i, site := range []int{g.stores[10], g.stores[11], g.stores[12]} {
		dcs = append(dcs, g.move(fan, units(25000), site, day(118-i, 6)))
	}
	t = day(115, 6)
	for i := range fanShipments {
		g.ship(dcs[i%len(dcs)], units(int64(20+g.rng.IntN(20))), g.customers[i%len(g.customers)], t)
		t = t.Add(time.Duration(3+g.rng.IntN(4)) * time.Hour)
	}
	res.FanShipments, res.Customers = fanShipments, len(g.customers)

	fsma := g.products[g.product(fsmaFamily, 0)]
	res.FSMAProduct, res.FSMAProductID = BenchLot{GTIN: fsma.gtin}, fsma.id

	// Everything else: receipts over the horizon, the FSMA product's a
	// steady 1 in 60.
	for i := 0; len(g.rows) < lots; i++ {
		family := g.rng.IntN(scaleFamilies - 1)
		if i%60 == 0 { // by count, not chance: a small scale has some too
			family = fsmaFamily
		}
		t := day(5+g.rng.IntN(scaleHorizon-5), 5+g.rng.IntN(10)).Add(time.Duration(g.rng.IntN(60)) * time.Minute)
		p := g.product(family, 0)
		r := g.receive(p, supplierOf(family), g.plants[g.rng.IntN(len(g.plants))], g.nextLot(),
			units(int64(2000+g.rng.IntN(18000))), t)
		stages := []int{0, 1, 1, 2, 2, 2, 3, 3, 4, 5, 7}[g.rng.IntN(11)]
		g.life(r, t, stages, 2)
	}
	return res
}

// writeMaster writes parties, locations and products.
func (g *scaleGen) writeMaster(ctx context.Context, tx pgx.Tx) error {
	base := g.now.AddDate(0, 0, -scaleHorizon-30)
	var rows [][]any
	for i, p := range g.parties {
		roles := p.roles
		if roles == nil {
			roles = []string{}
		}
		at := base.Add(time.Duration(i) * time.Minute) // our company first, as OwnParty orders them
		rows = append(rows, []any{p.id, p.pgln, p.name, p.own, roles, p.address, at, at})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"parties"},
		[]string{"id", "pgln", "name", "is_own", "roles", "address", "created_at", "updated_at"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	rows = rows[:0]
	for i, l := range g.locations {
		at := base.Add(time.Duration(i) * time.Minute)
		rows = append(rows, []any{l.id, l.gln, l.name, l.typ, l.address, g.parties[l.party].id, at, at})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"locations"},
		[]string{"id", "gln", "name", "type", "address", "party_id", "created_at", "updated_at"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	rows = rows[:0]
	for i, p := range g.products {
		at := base.Add(time.Duration(i) * time.Minute)
		rows = append(rows, []any{p.id, p.gtin, p.name, scaleFamilyNames[p.family], p.unit, at, at})
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"products"},
		[]string{"id", "gtin", "name", "category", "unit", "created_at", "updated_at"}, pgx.CopyFromRows(rows))
	return err
}

func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// writeBatches writes every lot row with its final balance and version.
func (g *scaleGen) writeBatches(ctx context.Context, tx pgx.Tx) error {
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"batches"},
		[]string{"id", "batch_number", "product_id", "location_id", "production_date", "expiry_date", "quantity_produced",
			"quantity_available", "unit_of_measure", "quality_status", "notes", "version", "created_at", "updated_at",
			"origin", "created_event_id", "status_reason", "tlc_source", "kdes"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(g.rows) {
				return nil, nil
			}
			r := g.rows[i]
			i++
			p := g.products[r.product]
			return []any{r.id, r.lot, p.id, g.locations[r.site].id, dateOf(r.production), dateOf(r.expiry), r.produced,
				r.avail, p.unit, r.status, r.notes, r.version, r.created, r.updated, r.origin, r.createdEvent,
				r.statusReason, r.tlcSource, r.kdes}, nil
		}))
	return err
}

// writeEvents writes the events, their projections and the ledger, in
// chunks of events.
func (g *scaleGen) writeEvents(ctx context.Context, tx pgx.Tx, say func(string, ...any)) error {
	const chunk = 20_000
	names := map[uuid.UUID]inventory.BulkName{}
	for _, l := range g.locations {
		names[l.id] = inventory.BulkName{Code: l.gln}
	}
	counts := map[string]int{}
	for from := 0; from < len(g.ops); from += chunk {
		ops := g.ops[from:min(from+chunk, len(g.ops))]
		var events, epcs, bizTx, parties, links, ledger [][]any
		for _, op := range ops {
			small := map[uuid.UUID]inventory.BulkName{}
			for _, id := range []*uuid.UUID{op.ev.ReadPointID, op.ev.BizLocationID} {
				if id != nil {
					small[*id] = names[*id]
				}
			}
			for _, l := range [][]inventory.QuantityItem{op.ev.Quantities, op.ev.Inputs, op.ev.Outputs} {
				for _, it := range l {
					small[it.BatchID] = g.batchName(it.BatchID)
				}
			}
			row := inventory.EncodeBulkEvent(op.ev, small)
			e := row.Event
			events = append(events, []any{e.ID, e.EventID, e.EventType, e.Action, e.EventTime, e.EventTimezone, e.BizStep,
				e.Disposition, e.ReadPointID, e.BizLocationID, e.EpcList, e.QuantityList, e.InputQuantityList,
				e.OutputQuantityList, e.Ilmd, e.Notes, e.SourceType, e.Actor, e.Document, e.Context, e.ReadPoint,
				e.BizLocation, op.recorded})
			for _, x := range row.EPCs {
				var q, uom any
				if x.Quantity != "" {
					q = x.Quantity
				}
				if x.UOM != "" {
					uom = x.UOM
				}
				epcs = append(epcs, []any{e.ID, x.Role, x.Key, x.Class, q, uom, e.EventTime})
			}
			for _, x := range row.BizTransactions {
				bizTx = append(bizTx, []any{e.ID, x.Type, x.Key, x.ID})
			}
			for _, x := range row.Sources {
				parties = append(parties, []any{e.ID, "source", x.Type, x.Key, x.ID})
			}
			for _, x := range row.Destinations {
				parties = append(parties, []any{e.ID, "destination", x.Type, x.Key, x.ID})
			}
			for _, l := range row.Links {
				links = append(links, []any{e.ID, l.BatchID, l.Role, l.Quantity, l.UOM, e.EventTime})
			}
			for _, l := range op.ledger {
				ledger = append(ledger, []any{g.rows[l.row].id, l.kind, l.qty, l.after, l.version, l.reason, l.actor,
					e.ID, l.recorded})
			}
		}
		for _, c := range []struct {
			table   string
			columns []string
			rows    [][]any
		}{
			{"events", []string{"id", "event_id", "event_type", "action", "event_time", "event_timezone", "biz_step",
				"disposition", "read_point_id", "biz_location_id", "epc_list", "quantity_list", "input_quantity_list",
				"output_quantity_list", "ilmd", "notes", "source_type", "actor", "document", "context", "read_point",
				"biz_location", "recorded_at"}, events},
			{"event_batches", []string{"event_id", "batch_id", "role", "quantity", "uom", "event_time"}, links},
			{"event_epcs", []string{"event_id", "role", "key", "is_class", "quantity", "uom", "event_time"}, epcs},
			{"event_biz_transactions", []string{"event_id", "type", "key", "id"}, bizTx},
			{"event_parties", []string{"event_id", "kind", "type", "key", "id"}, parties},
			{"consumptions", []string{"batch_id", "kind", "quantity", "quantity_available_after", "version_after", "reason",
				"actor", "event_id", "created_at"}, ledger},
		} {
			if len(c.rows) == 0 {
				continue
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.columns, pgx.CopyFromRows(c.rows)); err != nil {
				return fmt.Errorf("%s: %w", c.table, err)
			}

			counts[c.table] += len(c.rows)
		}
		if done := from + len(ops); done%200_000 == 0 || done == len(g.ops) {
			say("%d/%d events, %d ledger rows", done, len(g.ops), counts["consumptions"])
		}
	}
	say("projections: %d event_batches, %d event_epcs, %d parties, %d biz tx", counts["event_batches"],
		counts["event_epcs"], counts["event_parties"], counts["event_biz_transactions"])
	return nil
}

func (g *scaleGen) batchName(id uuid.UUID) inventory.BulkName {
	r := g.rows[g.rowByID(id)]
	p := g.products[r.product]
	return inventory.BulkName{Code: p.gtin, Lot: r.lot, Unit: p.unit}
}

func (g *scaleGen) rowByID(id uuid.UUID) int {
	if g.byID == nil {
		g.byID = make(map[uuid.UUID]int, len(g.rows))
		for i, r := range g.rows {
			g.byID[r.id] = i
		}
	}
	i, ok := g.byID[id]
	if !ok {
		panic(errors.New("seed: unknown batch " + id.String()))
	}
	return i
}

// scaleChecks are what the foreign keys would have refused, and the
// ledger invariant: each must count no rows.
var scaleChecks = []struct{ what, sql string }{
	{"events at unknown locations", `SELECT count(*) FROM events e WHERE (e.read_point_id IS NOT NULL AND NOT EXISTS
		(SELECT 1 FROM locations l WHERE l.id = e.read_point_id)) OR (e.biz_location_id IS NOT NULL AND NOT EXISTS
		(SELECT 1 FROM locations l WHERE l.id = e.biz_location_id))`},
	{"batches with unknown product, location or event", `SELECT count(*) FROM batches b
		LEFT JOIN products p ON p.id = b.product_id LEFT JOIN locations l ON l.id = b.location_id
		LEFT JOIN events e ON e.id = b.created_event_id WHERE p.id IS NULL OR l.id IS NULL OR e.id IS NULL`},
	{"event_batches with unknown event or batch", `SELECT count(*) FROM event_batches x
		LEFT JOIN events e ON e.id = x.event_id LEFT JOIN batches b ON b.id = x.batch_id WHERE e.id IS NULL OR b.id IS NULL`},
	{"event_epcs of unknown events", `SELECT count(*) FROM event_epcs x LEFT JOIN events e ON e.id = x.event_id WHERE e.id IS NULL`},
	{"event_parties of unknown events", `SELECT count(*) FROM event_parties x LEFT JOIN events e ON e.id = x.event_id WHERE e.id IS NULL`},
	{"event_biz_transactions of unknown events", `SELECT count(*) FROM event_biz_transactions x
		LEFT JOIN events e ON e.id = x.event_id WHERE e.id IS NULL`},
	{"ledger rows with unknown batch or event", `SELECT count(*) FROM consumptions c
		LEFT JOIN batches b ON b.id = c.batch_id LEFT JOIN events e ON e.id = c.event_id WHERE b.id IS NULL OR e.id IS NULL`},
	{"locations of unknown parties", `SELECT count(*) FROM locations l WHERE l.party_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM parties p WHERE p.id = l.party_id)`},
	{"batches whose balance is not their ledger's", LedgerInvariantSQL},
}

// LedgerInvariantSQL counts the batches whose balance the ledger does not
// explain: quantity_available = quantity_produced + Σ ledger_delta, every
// row's quantity_available_after the running balance in version order,
// versions above 1 and at most the batch's.
const LedgerInvariantSQL = `
WITH running AS (
    SELECT c.batch_id, c.version_after, c.quantity_available_after,
           b.quantity_produced + sum(ledger_delta(c.kind, c.quantity)) OVER w AS balance
    FROM consumptions c JOIN batches b ON b.id = c.batch_id
    WINDOW w AS (PARTITION BY c.batch_id ORDER BY c.version_after)
), bad AS (
    SELECT batch_id FROM running
    WHERE balance <> quantity_available_after OR balance < 0 OR version_after <= 1
    UNION
    SELECT b.id FROM batches b LEFT JOIN consumptions c ON c.batch_id = b.id
    GROUP BY b.id
    HAVING b.quantity_available <> b.quantity_produced + coalesce(sum(ledger_delta(c.kind, c.quantity)), 0)
        OR coalesce(max(c.version_after), 1) > b.version
)
SELECT count(*) FROM bad`

func verifyScale(ctx context.Context, tx pgx.Tx) error {
	for _, c := range scaleChecks {
		var n int64
		if err := tx.QueryRow(ctx, c.sql).Scan(&n); err != nil {
			return fmt.Errorf("verify %s: %w", c.what, err)
		}
		if n != 0 {
			return fmt.Errorf("verify: %d %s", n, c.what)
		}
	}
	return nil
}
