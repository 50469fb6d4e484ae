package inventory_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"batchtrack/inventory"
)

// The lot picker searches 100,000 lots of a product through the lot
// number's trigram index, and answers in the order a person wants: prefix
// matches first, then first expiry.
func TestSearchLotsAmongThousands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100k lots")
	}
	svc, pool := newService(t, 4, 0)
	w := newWorld(t, svc)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `
		INSERT INTO batches (batch_number, product_id, location_id, production_date, expiry_date, quantity_produced,
		                     quantity_available, unit_of_measure, quality_status)
		SELECT 'L' || lpad(i::text, 6, '0'), $1, $2, date '2026-01-01', date '2026-06-01' + (i % 90), 10,
		       CASE WHEN i % 10 = 0 THEN 0 ELSE 10 END, 'KGM', CASE WHEN i % 7 = 0 THEN 'pending' ELSE 'approved' END
		FROM generate_series(1, 100000) i`, w.product.ID, w.location.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE batches"); err != nil {
		t.Fatal(err)
	}
	lots, err := svc.SearchLots(ctx, inventory.LotQuery{Text: "01234", ProductID: &w.product.ID, UsableOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(lots) != 10 { // L001234 and L012341..L012349; L012340 has no stock
		var got []string
		for _, l := range lots {
			got = append(got, l.BatchNumber)
		}
		t.Errorf("%d lots: %v", len(lots), got)
	}
	many, err := svc.SearchLots(ctx, inventory.LotQuery{Text: "L0", ProductID: &w.product.ID})
	if err != nil || len(many) != 20 {
		t.Fatalf("%d lots, %v: at most 20", len(many), err)
	}

	// The plan of the statement as written in queries/pickers.sql, with the
	// values a search sends (the pool plans each execution with its values).
	raw, err := os.ReadFile("../queries/pickers.sql")
	if err != nil {
		t.Fatal(err)
	}
	stmt := regexp.MustCompile(`(?s)-- name: PickLots :many.*?-- name:`).FindString(string(raw))
	stmt = regexp.MustCompile(`(?m)^--.*$`).ReplaceAllString(stmt, "")
	stmt = strings.NewReplacer("sqlc.embed(b)", "b.*", "sqlc.narg(product_id)", "'"+w.product.ID.String()+"'",
		"sqlc.narg(location_id)", "NULL", "@pattern", "'%01234%'", "@prefix", "'01234%'", "@usable_only", "true").Replace(stmt)
	var plan strings.Builder
	rows, err := pool.Query(ctx, "EXPLAIN "+strings.TrimSuffix(strings.TrimSpace(stmt), ";"))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.String(), "batches_number_trgm_idx") || strings.Contains(plan.String(), "Seq Scan on batches") {
		t.Errorf("the lot search does not use the trigram index:\n%s", plan.String())
	}
}
