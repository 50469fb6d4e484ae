package db_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"batchtrack/db"
	"batchtrack/db/pgtest"
)

// 00008 turns the unit names batches and products stored into UN/ECE Rec
// 20 codes and makes lot numbers unique per product; its Down undoes both.
func TestMigrationLotPerProductAndUnits(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	sub, err := fs.Sub(db.MigrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.DownTo(ctx, 7); err != nil {
		t.Fatal("down to 7:", err)
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO products (id, gtin, name, unit) VALUES
	        ('00000000-0000-4000-8000-000000000001', '00061414100014', 'coffee', 'kg'),
	        ('00000000-0000-4000-8000-000000000002', '00061414100021', 'eggs', 'unit')`)
	exec(`INSERT INTO locations (id, gln, name, type) VALUES ('00000000-0000-4000-8000-000000000003', '0614141000005', 'plant', 'factory')`)
	exec(`INSERT INTO batches (batch_number, product_id, location_id, production_date, quantity_produced, quantity_available, unit_of_measure)
	      SELECT n, '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000003', '2026-01-01', 1, 1, u
	      FROM (VALUES ('A', 'kg'), ('B', 'g'), ('C', 'L'), ('D', 'mL'), ('E', 'm'), ('F', 'unit')) AS v(n, u)`)

	if _, err := provider.UpTo(ctx, 8); err != nil {
		t.Fatal("up to 8:", err)
	}
	want := map[string]string{"A": "KGM", "B": "GRM", "C": "LTR", "D": "MLT", "E": "MTR", "F": "H87"}
	rows, err := pool.Query(ctx, `SELECT batch_number, unit_of_measure FROM batches`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var n, u string
		if err := rows.Scan(&n, &u); err != nil {
			t.Fatal(err)
		}
		got[n] = u
	}
	if rows.Err() != nil || len(got) != len(want) {
		t.Fatalf("batches after 00008: %v, %v", got, rows.Err())
	}
	for n, u := range want {
		if got[n] != u {
			t.Errorf("batch %s: unit %q, want %q", n, got[n], u)
		}
	}
	var units string
	if err := pool.QueryRow(ctx, `SELECT string_agg(unit, ',' ORDER BY name) FROM products`).Scan(&units); err != nil || units != "KGM,H87" {
		t.Errorf("product units %q, %v; want KGM,H87", units, err)
	}
	// The same lot under the second product is now a second batch.
	exec(`INSERT INTO batches (batch_number, product_id, location_id, production_date, quantity_produced, quantity_available)
	      VALUES ('A', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', '2026-01-01', 1, 1)`)
	if _, err := pool.Exec(ctx, `INSERT INTO batches (batch_number, product_id, location_id, production_date, quantity_produced, quantity_available)
	      VALUES ('A', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003', '2026-01-01', 1, 1)`); err == nil {
		t.Error("a second lot A of one product was stored")
	}
	if _, err := pool.Exec(ctx, `UPDATE batches SET unit_of_measure = 'kg' WHERE batch_number = 'B'`); err == nil {
		t.Error("a unit name was stored after 00008")
	}

	// Down again: possible once no lot number is shared.
	exec(`DELETE FROM batches WHERE product_id = '00000000-0000-4000-8000-000000000002'`)
	if _, err := provider.DownTo(ctx, 7); err != nil {
		t.Fatal("down to 7 again:", err)
	}
	var unit string
	if err := pool.QueryRow(ctx, `SELECT unit_of_measure FROM batches WHERE batch_number = 'B'`).Scan(&unit); err != nil || unit != "g" {
		t.Errorf("after Down, batch B's unit is %q, %v; want g", unit, err)
	}
}
