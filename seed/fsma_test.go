package seed_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"batchtrack/db"
	"batchtrack/db/pgtest"
	"batchtrack/fsma"
	"batchtrack/inventory"
	"batchtrack/seed"
)

// The demo chain's FSMA 204 spreadsheet has every KDE of every row, for
// the salad (lettuce and spinach in, shipped out) and the coffee (green
// received, roasted, ground, moved, shipped, received at our distributor),
// and reads back from XLSX.
func TestSeedFSMASpreadsheetIsComplete(t *testing.T) {
	ctx := context.Background()
	svc := inventory.New(db.NewStore(pgtest.New(t)), inventory.Options{})
	if _, err := seed.Run(ctx, svc, seed.Options{}); err != nil {
		t.Fatal(err)
	}
	page, err := svc.ListProducts(ctx, inventory.ProductFilter{}, inventory.ListOptions{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC()
	for _, tc := range []struct {
		name string
		ctes []string
	}{
		{"salad", []string{"Receiving", "Transformation", "Shipping"}},
		{"ground coffee", []string{"Receiving", "Transformation", "Shipping"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var product *inventory.Product
			for i, p := range page.Items {
				if strings.Contains(strings.ToLower(p.Name), strings.Fields(tc.name)[0]) {
					product = &page.Items[i]
				}
			}
			if product == nil {
				t.Fatalf("no %s product in the seed", tc.name)
			}
			rep, err := svc.FSMAReport(ctx, inventory.FSMARequest{ProductID: &product.ID, From: today.AddDate(0, 0, -60), To: today})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, r := range rep.Rows {
				seen[r.CTE] = true
				if len(r.MissingKDEs) > 0 {
					t.Errorf("%s %s %s: missing %q", r.EventTime.Format(time.DateOnly), r.CTE, r.TLC, r.MissingKDEs)
				}
				cells := r.Cells()
				for i, col := range inventory.FSMAColumns {
					if cells[i] == "" && kdeColumn(r.CTE, col) {
						t.Errorf("%s %s: %q empty", r.CTE, r.TLC, col)
					}
				}
			}
			for _, c := range tc.ctes {
				if !seen[c] {
					t.Errorf("no %s row in %d rows", c, len(rep.Rows))
				}
			}
			var buf bytes.Buffer
			if err := fsma.WriteXLSX(&buf, rep.Rows); err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := f.GetRows(fsma.SheetName)
			if err != nil || len(rows) != len(rep.Rows)+1 {
				t.Fatalf("XLSX read back: %d rows for %d, %v", len(rows), len(rep.Rows), err)
			}
			for i, r := range rep.Rows {
				if rows[i+1][0] != r.CTE || rows[i+1][2] != r.TLC || rows[i+1][15] != r.EventID {
					t.Errorf("XLSX row %d: %q", i+1, rows[i+1])
				}
			}
		})
	}
}

// kdeColumn: the columns a CTE must fill.
func kdeColumn(cte, col string) bool {
	switch col {
	case "Missing KDEs":
		return false
	case "Ship-from location", "Ship-to or receiving location":
		return cte == inventory.CTEReceiving || cte == inventory.CTEShipping
	case "Immediate previous source":
		return cte == inventory.CTEReceiving
	case "Harvest and cooling data":
		return cte == inventory.CTEHarvesting || cte == inventory.CTECooling || cte == inventory.CTEInitialPacking
	case "Input traceability lot codes":
		return cte == inventory.CTETransformation
	}
	return true
}
