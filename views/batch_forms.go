package views

import (
	"sort"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// Fragment ids of the lot page's stock forms.
const (
	MassBalanceID    = "mass-balance"
	DestroyFormID    = "destroy-form"
	CommissionFormID = "commission-form"
)

// DestroyForm records stock of the lot destroyed or disposed of.
type DestroyForm struct {
	CSRF        string
	BatchID     string
	Unit        string // the lot's unit, by name
	Quantity    string
	Disposition string // destroyed or disposed
	Reason      string
	Errors      FieldErrors
}

// CommissionForm creates a lot where it begins (harvest, cooling, initial
// packing) with its key data elements, as typed.
type CommissionForm struct {
	CSRF            string
	ProductID       string
	BatchNumber     string
	LocationID      string
	Quantity        string
	Unit            string
	Stage           string
	HarvestLocation string
	Field           string
	HarvestDate     string
	CoolingDate     string
	PackingDate     string
	ExpiryDate      string
	Products        []Option
	Locations       []Option // ours only
	Units           []Option
	Errors          FieldErrors
}

// dispositionOptions are DestroyForm.Disposition's choices.
func dispositionOptions() []Option {
	return []Option{{"destroyed", "Destroyed"}, {"disposed", "Disposed of"}}
}

// stageOptions are CommissionForm.Stage's choices.
func stageOptions() []Option {
	out := make([]Option, 0, len(inventory.CommissionStages))
	for _, s := range inventory.CommissionStages {
		out = append(out, Option{s, humanize(s)})
	}
	return out
}

// balanceLine is one figure of a lot's mass balance.
type balanceLine struct {
	Key   string // data-testid suffix
	Label string
	Sign  string // "+" came in, "−" went out, "±" adjustments
	Qty   quantity.Quantity
}

// balanceLines are the mass balance's figures in reading order: what came
// in, then what went out.
func balanceLines(m inventory.MassBalance) []balanceLine {
	return []balanceLine{
		{"produced", "Produced", "+", m.Produced},
		{"received", "Received", "+", m.Received},
		{"moved-in", "Moved in", "+", m.MovedIn},
		{"adjusted", "Adjustments", "±", m.Adjusted},
		{"consumed", "Consumed", "−", m.Consumed},
		{"shipped", "Shipped", "−", m.Shipped},
		{"transformed", "Used in transformations", "−", m.Transformed},
		{"destroyed", "Destroyed", "−", m.Destroyed},
		{"moved-out", "Moved out", "−", m.MovedOut},
	}
}

// originLabel words how a location's stock of a lot began.
func originLabel(origin string) string {
	switch origin {
	case inventory.OriginReceived:
		return "received from a supplier"
	case inventory.OriginMoved:
		return "moved or shipped here from another of our locations"
	case inventory.OriginProduced:
		return "produced here"
	}
	return orDash(origin)
}

// kdeLabels name the key data elements commissioning and receiving record.
var kdeLabels = map[string]string{
	"stage": "Stage", "harvestLocation": "Harvest location", "field": "Field", "harvestDate": "Harvest date",
	"coolingDate": "Cooling date", "packingDate": "Packing date", "supplier": "Supplier (PGLN)",
}

type kde struct{ Key, Label, Value string }

// kdeList is a lot's KDEs in a stable order, named where known.
func kdeList(m map[string]string) []kde {
	out := make([]kde, 0, len(m))
	for k, v := range m {
		label, ok := kdeLabels[k]
		if !ok {
			label = k
		}
		if k == "stage" {
			v = humanize(v)
		}
		out = append(out, kde{k, label, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
