package fsma_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"batchtrack/fsma"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

func rows() []inventory.FSMARow {
	t := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	return []inventory.FSMARow{
		{CTE: inventory.CTEReceiving, EventTime: t, TLC: "(01)05000000000081(10)TOM-1", TLCSource: "Sunny Farm, GLN 7614140000047",
			Product: "Tomatoes (GTIN 05000000000081)", Quantity: quantity.MustParse("50.5"), HasQuantity: true, Unit: "kg",
			Location: "Plant, GLN 7614140000023", ShipFrom: "Sunny Farm, GLN 7614140000047", ShipTo: "Plant, GLN 7614140000023",
			PreviousSource: "Sunny Farm Ltd, PGLN 7614140000061", ReferenceType: "Purchase order", ReferenceNumber: "PO-4711",
			EventID: "urn:uuid:1", MissingKDEs: []string{}},
		{CTE: inventory.CTEShipping, EventTime: t.Add(48 * time.Hour), TLC: "(01)05000000000104(10)PAS-1, \"quoted\"",
			Product: "Passata", Unit: "unit", EventID: "urn:uuid:2",
			MissingKDEs: []string{"quantity", "reference document type"}},
	}
}

func TestFSMACSV(t *testing.T) {
	var buf bytes.Buffer
	if err := fsma.WriteCSV(&buf, rows()); err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{inventory.FSMAColumns, rows()[0].Cells(), rows()[1].Cells()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("CSV read back (-want +got):\n%s", diff)
	}
	if got[2][16] != "quantity; reference document type" || got[1][5] != "50.5" {
		t.Fatalf("cells: %q", got[1:])
	}
}

func TestFSMAXLSX(t *testing.T) {
	var buf bytes.Buffer
	if err := fsma.WriteXLSX(&buf, rows()); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) != 1 || sheets[0] != fsma.SheetName {
		t.Fatalf("sheets: %q", sheets)
	}
	got, err := f.GetRows(fsma.SheetName)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !cmp.Equal(got[0], inventory.FSMAColumns) {
		t.Fatalf("rows: %q", got)
	}
	if got[1][2] != "(01)05000000000081(10)TOM-1" || got[1][5] != "50.5" || got[1][13] != "PO-4711" ||
		got[2][16] != "quantity; reference document type" || got[2][2] != "(01)05000000000104(10)PAS-1, \"quoted\"" {
		t.Fatalf("cells: %q", got[1:])
	}
	if got[1][1] != "2026-11-27 09:30" {
		t.Fatalf("date shown as %q", got[1][1])
	}
	// The date is a real date (a serial number with a date format), the quantity a number.
	rawRows, err := f.GetRows(fsma.SheetName, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if rawRows[1][1] == got[1][1] || !strings.HasPrefix(rawRows[1][1], "46") {
		t.Fatalf("event date stored as %q", rawRows[1][1])
	}
	if typ, _ := f.GetCellType(fsma.SheetName, "F2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Fatalf("quantity cell type %v", typ)
	}
	// Bold header, frozen under the header, autofilter over the table.
	style, err := f.GetCellStyle(fsma.SheetName, "A1")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := f.GetStyle(style); err != nil || s.Font == nil || !s.Font.Bold {
		t.Fatalf("header style: %+v %v", s, err)
	}
	panes, err := f.GetPanes(fsma.SheetName)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Fatalf("panes: %+v %v", panes, err)
	}
	if w, err := f.GetColWidth(fsma.SheetName, "C"); err != nil || w != 30 {
		t.Fatalf("column C width %v %v", w, err)
	}
	tables, err := f.GetTables(fsma.SheetName)
	if err != nil || len(tables) != 1 || tables[0].Range != "A1:Q3" {
		t.Fatalf("tables: %+v %v", tables, err)
	}
	if table := zipFile(t, raw, "xl/tables/table1.xml"); !strings.Contains(table, `<autoFilter ref="A1:Q3"`) {
		t.Fatalf("no autofilter over A1:Q3: %s", table)
	}
}

func zipFile(t *testing.T, raw []byte, name string) string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := z.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFSMAXLSXEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := fsma.WriteXLSX(&buf, nil); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := f.GetRows(fsma.SheetName); err != nil || len(got) != 1 || !cmp.Equal(got[0], inventory.FSMAColumns) {
		t.Fatalf("rows: %q %v", got, err)
	}
}
