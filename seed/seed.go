// Package seed fills an empty database with a small, realistic supply
// chain, so every screen has something to show on first start.
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// Options tune the demo data.
type Options struct {
	Progress io.Writer // one line per stage; nil for silence
	Now      time.Time // "today" of the story; zero is time.Now()
}

// ErrNotEmpty: Run only seeds an empty database.
var ErrNotEmpty = errors.New("the database already has products: seed only fills an empty database")

// IfEmpty seeds when there are no products yet and returns the number of
// batches created (0 when it did nothing).
func IfEmpty(ctx context.Context, svc *inventory.Service, opts Options) (int, error) {
	n, err := Run(ctx, svc, opts)
	if errors.Is(err, ErrNotEmpty) {
		return 0, nil
	}
	return n, err
}

// GLN and GTIN from a company prefix and a reference, with the check digit.
func gln(ref string) string  { body := "061414" + ref; return body + string(gs1.CheckDigit(body)) }
func gtin(ref string) string { body := "0061414" + ref; return body + string(gs1.CheckDigit(body)) }

type productSpec struct {
	ref, name, category, unit string // unit: a UN/ECE Rec 20 code
	shelfDays                 int
	lot                       float64 // typical lot size
}

var products = []productSpec{
	{"10001", "Green coffee beans, Huila", "Coffee", "KGM", 365, 1200},
	{"10002", "Roasted coffee beans, Huila", "Coffee", "KGM", 180, 800},
	{"10003", "Ground coffee 250 g", "Coffee", "H87", 150, 2000},
	{"20001", "Jasmine rice, paddy", "Rice", "KGM", 365, 5000},
	{"20002", "Jasmine rice, milled 5 kg", "Rice", "H87", 540, 900},
	{"30001", "Romaine lettuce hearts", "Leafy greens", "KGM", 12, 600},
	{"30002", "Baby spinach", "Leafy greens", "KGM", 9, 400},
	{"30003", "Salad mix 150 g", "Leafy greens", "H87", 7, 1500},
	{"40001", "Cold-pressed orange juice 1 L", "Juice", "LTR", 21, 1000},
	{"50001", "Shell eggs, free range", "Eggs", "H87", 35, 7200},
}

type locationSpec struct{ ref, name, typ, address string }

var locations = []locationSpec{
	{"000011", "Finca La Esperanza", "farm", "Pitalito, Huila, Colombia"},
	{"000028", "Salinas Valley Greens", "farm", "Salinas, CA, USA"},
	{"000035", "Chao Phraya Rice Cooperative", "farm", "Ayutthaya, Thailand"},
	{"000042", "Sunrise Egg Farm", "farm", "Lancaster, PA, USA"},
	{"000059", "Northside Processing Plant", "factory", "Oakland, CA, USA"},
	{"000066", "Bay Area Distribution Center", "warehouse", "Hayward, CA, USA"},
	{"000073", "FreshLine Distributors", "distributor", "Sacramento, CA, USA"},
	{"000080", "Green Basket Market, Mission St", "retailer", "San Francisco, CA, USA"},
	{"000097", "Green Basket Market, Berkeley", "retailer", "Berkeley, CA, USA"},
}

// Run seeds the demo supply chain.
func Run(ctx context.Context, svc *inventory.Service, opts Options) (int, error) {
	page, err := svc.ListProducts(ctx, inventory.ProductFilter{}, inventory.ListOptions{Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(page.Items) > 0 {
		return 0, ErrNotEmpty
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	say := func(format string, a ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "seed: "+format+"\n", a...)
		}
	}
	rng := rand.New(rand.NewPCG(2026, 12))
	actor := inventory.Actor{Name: "seed", Source: "import"}

	locs := map[string]inventory.Location{}
	var farms, sites []inventory.Location
	for _, l := range locations {
		loc, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(l.ref), Name: l.name, Type: l.typ, Address: l.address})
		if err != nil {
			return 0, fmt.Errorf("location %s: %w", l.name, err)
		}
		locs[l.typ+":"+l.name] = loc
		if l.typ == "farm" {
			farms = append(farms, loc)
		} else {
			sites = append(sites, loc)
		}
	}
	say("%d locations", len(locations))
	prods := make([]inventory.Product, len(products))
	for i, p := range products {
		prods[i], err = svc.CreateProduct(ctx, inventory.NewProduct{GTIN: gtin(p.ref), Name: p.name, Category: p.category, Unit: p.unit})
		if err != nil {
			return 0, fmt.Errorf("product %s: %w", p.name, err)
		}
	}
	say("%d products", len(products))

	plant, warehouse := sites[0], sites[1]
	farmFor := map[string]inventory.Location{"Coffee": farms[0], "Leafy greens": farms[1], "Rice": farms[2], "Eggs": farms[3], "Juice": plant}
	statuses := []string{"approved", "approved", "approved", "pending", "approved", "rejected", "approved", "recalled"}
	var batches []inventory.Batch
	for round := range 4 {
		for i, spec := range products {
			p := prods[i]
			produced := now.AddDate(0, 0, -(3 + rng.IntN(25) + round))
			at := farmFor[spec.category]
			if spec.category == "Coffee" && i > 0 || spec.category == "Rice" && i > 3 || spec.ref == "30003" {
				at = plant
			}
			expiry := produced.AddDate(0, 0, spec.shelfDays)
			qty := quantity.Quantity(int64(spec.lot*(0.6+rng.Float64()*0.8)) * 1000)
			b, err := svc.CreateBatch(ctx, actor, inventory.NewBatch{
				BatchNumber: fmt.Sprintf("%s-%s-%02d", p.GTIN[8:13], produced.Format("0102"), round+1),
				ProductID:   p.ID, LocationID: at.ID, ProductionDate: produced, ExpiryDate: &expiry,
				QuantityProduced: qty, QualityStatus: statuses[(i+round)%len(statuses)],
				Notes: "Demo lot " + fmt.Sprint(round+1) + " of " + p.Name + ".",
			})
			if err != nil {
				return 0, fmt.Errorf("batch of %s: %w", p.Name, err)
			}
			batches = append(batches, b)
		}
	}
	say("%d batches", len(batches))

	// Life of the batches: consumption, some down to nothing, some low.
	for i, b := range batches {
		if !b.Consumable(now, inventory.ReleaseRequired) {
			continue
		}
		var share float64
		switch i % 7 {
		case 0:
			share = 1 // depleted
		case 1:
			share = 0.95 // low on stock
		case 2, 3:
			share = 0.3 + rng.Float64()*0.4
		default:
			share = rng.Float64() * 0.2
		}
		target := quantity.Quantity(float64(b.QuantityProduced) * share)
		// Countable things (eggs, bags) are consumed in whole units,
		// weights and volumes to the gram or millilitre.
		step := quantity.Quantity(1)
		if b.UOM == "H87" {
			step = quantity.FromUnits(1)
		}
		target -= target % step
		steps := 1 + rng.IntN(4)
		for s := range steps {
			part := target / quantity.Quantity(steps) / step * step
			if s == steps-1 {
				part = target - part*quantity.Quantity(steps-1)
			}
			if part <= 0 {
				continue
			}
			if _, _, err := svc.Consume(ctx, actor, inventory.ConsumeRequest{BatchID: b.ID, Quantity: part,
				Reason: []string{"order picking", "production run", "retail replenishment"}[rng.IntN(3)]}); err != nil {
				return 0, fmt.Errorf("consume %s: %w", b.BatchNumber, err)
			}
		}
	}
	say("consumption recorded")

	// Supply-chain events over the last weeks.
	events := 0
	record := func(e inventory.NewEvent) error {
		e.RecordOnly = true // the demo's history, beside stock it does not explain
		if _, err := svc.RecordEvent(ctx, actor, e); err != nil {
			return fmt.Errorf("event %s %s: %w", e.EventType, e.BizStep, err)
		}
		events++
		return nil
	}
	chain := []struct {
		step, disposition string
		where             inventory.Location
	}{
		{"shipping", "in_transit", inventory.Location{}},
		{"receiving", "in_progress", warehouse},
		{"storing", "sellable_not_accessible", warehouse},
		{"shipping", "in_transit", warehouse},
		{"receiving", "sellable_accessible", sites[2]},
		{"shipping", "in_transit", sites[2]},
		{"receiving", "sellable_accessible", sites[3+rng.IntN(2)]},
	}
	for _, b := range batches {
		t := b.ProductionDate.Add(8 * time.Hour)
		origin := inventory.Location{ID: b.LocationID, GLN: b.LocationGLN}
		uom := b.UOM
		for si, step := range chain {
			if si >= 2+rng.IntN(len(chain)-1) {
				break
			}
			t = t.Add(time.Duration(6+rng.IntN(30)) * time.Hour)
			if t.After(now) {
				break
			}
			where := step.where
			if where.ID == uuid.Nil {
				where = origin
			}
			tt := t
			if err := record(inventory.NewEvent{
				EventType: "ObjectEvent", Action: "OBSERVE", EventTime: &tt, BizStep: step.step,
				Disposition: step.disposition, ReadPoint: where.GLN, BizLocation: where.GLN,
				QuantityList: []inventory.QuantityItem{{BatchID: b.ID, Quantity: b.QuantityProduced / 4, UOM: uom}},
			}); err != nil {
				return 0, err
			}
		}
		if b.QualityStatus != inventory.StatusPending {
			tt := b.ProductionDate.Add(30 * time.Hour)
			if tt.Before(now) {
				if err := record(inventory.NewEvent{
					EventType: "ObjectEvent", Action: "OBSERVE", EventTime: &tt, BizStep: "inspecting",
					Disposition: b.QualityStatus.Disposition(),
					ReadPoint:   origin.GLN, BizLocation: origin.GLN, BatchIDs: []uuid.UUID{b.ID},
					Notes: "Quality inspection: " + string(b.QualityStatus),
				}); err != nil {
					return 0, err
				}
			}
		}
	}
	// Transformations: green coffee in, roasted coffee out; paddy in,
	// milled rice out; lettuce and spinach in, salad mix out.
	byProduct := map[string][]inventory.Batch{}
	for _, b := range batches {
		byProduct[b.ProductGTIN] = append(byProduct[b.ProductGTIN], b)
	}
	transform := []struct {
		in        []string
		out, note string
	}{
		{[]string{"10001"}, "10002", "Roasting"},
		{[]string{"10002"}, "10003", "Grinding and packing"},
		{[]string{"20001"}, "20002", "Milling and bagging"},
		{[]string{"30001", "30002"}, "30003", "Washing, cutting and bagging salad mix"},
	}
	for _, tr := range transform {
		outs := byProduct[gtin(tr.out)]
		for r, out := range outs {
			var inputs []inventory.QuantityItem
			for _, ref := range tr.in {
				ins := byProduct[gtin(ref)]
				in := ins[r%len(ins)]
				uom := in.UOM
				inputs = append(inputs, inventory.QuantityItem{BatchID: in.ID, Quantity: in.QuantityProduced / 5, UOM: uom})
			}
			uom := out.UOM
			tt := out.ProductionDate.Add(4 * time.Hour)
			if err := record(inventory.NewEvent{
				EventType: "TransformationEvent", EventTime: &tt, BizStep: "commissioning", Disposition: "active",
				ReadPoint: plant.GLN, BizLocation: plant.GLN, InputQuantityList: inputs,
				OutputQuantityList: []inventory.QuantityItem{{BatchID: out.ID, Quantity: out.QuantityProduced, UOM: uom}},
				Notes:              tr.note,
			}); err != nil {
				return 0, err
			}
		}
	}
	say("%d events", events)
	return len(batches), nil
}
