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

// partnerGLN is a GLN under a trading partner's own company prefix.
func partnerGLN(prefix, ref string) string {
	body := prefix + ref
	return body + string(gs1.CheckDigit(body))
}

// ownCompany is our company: every location above is one of its sites.
var ownCompany = inventory.NewParty{
	PGLN: gln("000004"), Name: "Northside Foods Inc.", IsOwn: true, Address: "1200 Harbor Way, Oakland, CA, USA",
	ContactName: "Quality desk", Email: "quality@northside.example", Phone: "+1 510 555 0100",
}

// partnerSpec is a trading partner with its one location.
type partnerSpec struct {
	party    inventory.NewParty
	location locationSpec // ref: the location's GLN, whole
}

var partners = []partnerSpec{
	{inventory.NewParty{PGLN: partnerGLN("770123", "000009"), Name: "Cafetera Andina S.A.S.", Roles: []string{"supplier"},
		Address: "Neiva, Huila, Colombia", ContactName: "Lucía Ramírez", Email: "export@cafetera-andina.example"},
		locationSpec{partnerGLN("770123", "000016"), "Cafetera Andina, Garzón farm", "farm", "Garzón, Huila, Colombia"}},
	{inventory.NewParty{PGLN: partnerGLN("008521", "000002"), Name: "Pajaro Valley Growers", Roles: []string{"supplier"},
		Address: "Watsonville, CA, USA", ContactName: "Dan Okafor", Email: "orders@pajarogrowers.example", Phone: "+1 831 555 0142"},
		locationSpec{partnerGLN("008521", "000019"), "Pajaro Valley Growers, Ranch 3", "farm", "Watsonville, CA, USA"}},
	{inventory.NewParty{PGLN: partnerGLN("008537", "000008"), Name: "Valley Citrus Co-op", Roles: []string{"supplier"},
		Address: "Visalia, CA, USA", ContactName: "Maria Chen", Email: "dispatch@valleycitrus.example"},
		locationSpec{partnerGLN("008537", "000015"), "Valley Citrus, Packing shed", "farm", "Visalia, CA, USA"}},
	{inventory.NewParty{PGLN: partnerGLN("004011", "000003"), Name: "Corner Grocer Ltd.", Roles: []string{"customer"},
		Address: "Portland, OR, USA", ContactName: "Sam Patel", Email: "buying@cornergrocer.example", Phone: "+1 503 555 0199"},
		locationSpec{partnerGLN("004011", "000010"), "Corner Grocer, Alberta St", "retailer", "Portland, OR, USA"}},
	{inventory.NewParty{PGLN: partnerGLN("004025", "000006"), Name: "Pacific Fresh Distribution", Roles: []string{"customer", "carrier"},
		Address: "Reno, NV, USA", ContactName: "Jo Alvarez", Email: "intake@pacificfresh.example"},
		locationSpec{partnerGLN("004025", "000013"), "Pacific Fresh, Reno cross-dock", "distributor", "Reno, NV, USA"}},
	{inventory.NewParty{PGLN: partnerGLN("004039", "000004"), Name: "Harvest Table Markets", Roles: []string{"customer"},
		Address: "Seattle, WA, USA", ContactName: "Kim Nguyen", Email: "supply@harvesttable.example"},
		locationSpec{partnerGLN("004039", "000011"), "Harvest Table, Capitol Hill", "retailer", "Seattle, WA, USA"}},
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

	own, err := ownParty(ctx, svc)
	if err != nil {
		return 0, fmt.Errorf("own company: %w", err)
	}
	locs := map[string]inventory.Location{}
	var farms, sites []inventory.Location
	for _, l := range locations {
		loc, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(l.ref), Name: l.name, Type: l.typ, Address: l.address, PartyID: &own.ID})
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
	partnerSites := make([]inventory.Location, len(partners))
	for i, pt := range partners {
		p, err := svc.CreateParty(ctx, pt.party)
		if err != nil {
			return 0, fmt.Errorf("partner %s: %w", pt.party.Name, err)
		}
		l := pt.location
		if partnerSites[i], err = svc.CreateLocation(ctx, inventory.NewLocation{GLN: l.ref, Name: l.name, Type: l.typ, Address: l.address, PartyID: &p.ID}); err != nil {
			return 0, fmt.Errorf("location %s: %w", l.name, err)
		}
	}
	say("our company and %d trading partners", len(partners))
	prods := make([]inventory.Product, len(products))
	for i, p := range products {
		np := inventory.NewProduct{GTIN: gtin(p.ref), Name: p.name, Category: p.category, Unit: p.unit}
		if p.ref == "10002" { // roasting loses 12 to 20 % of the green beans' weight
			lo, hi := quantity.MustParse("0.8"), quantity.MustParse("0.88")
			np.YieldMin, np.YieldMax = &lo, &hi
		}
		prods[i], err = svc.CreateProduct(ctx, np)
		if err != nil {
			return 0, fmt.Errorf("product %s: %w", p.name, err)
		}
	}
	say("%d products", len(products))

	plant := sites[0]
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

	events, err := movements(ctx, svc, actor, now, prods, sites, partnerSites)
	if err != nil {
		return 0, err
	}
	say("%d events", events)
	return len(batches), nil
}

// ownParty is our company: the one already recorded, else the demo's.
func ownParty(ctx context.Context, svc *inventory.Service) (inventory.Party, error) {
	yes := true
	page, err := svc.ListParties(ctx, inventory.PartyFilter{Own: &yes}, inventory.ListOptions{Limit: 1})
	if err != nil {
		return inventory.Party{}, err
	}
	if len(page.Items) > 0 {
		return page.Items[0], nil
	}
	return svc.CreateParty(ctx, ownCompany)
}
