// Package fsma writes the FSMA 204 electronic sortable spreadsheet
// (21 CFR 1.1455) as CSV or XLSX, one row at a time.
package fsma

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"batchtrack/inventory"
)

// Formats and their media types.
const (
	CSV  = "csv"
	XLSX = "xlsx"

	CSVType  = "text/csv; charset=utf-8"
	XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// SheetName is the XLSX sheet's name.
const SheetName = "FSMA 204"

// WriteCSV writes a header row, then one line per row.
func WriteCSV(w io.Writer, rows []inventory.FSMARow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(inventory.FSMAColumns); err != nil {
		return err
	}
	for _, r := range rows {
		cells := r.Cells()
		for i, c := range cells {
			cells[i] = defuse(c)
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// defuse keeps a spreadsheet from running a cell as a formula.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// widths of the XLSX columns, in characters, in FSMAColumns' order.
var widths = []float64{18, 20, 30, 40, 36, 10, 10, 44, 44, 44, 36, 44, 28, 24, 48, 46, 40}

// WriteXLSX writes one sheet: a bold frozen header, an autofilter over the
// table, dates as dates and quantities as numbers.
func WriteXLSX(w io.Writer, rows []inventory.FSMARow) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	dateFmt := "yyyy-mm-dd hh:mm"
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(SheetName)
	if err != nil {
		return err
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	header := make([]any, len(inventory.FSMAColumns))
	for i, c := range inventory.FSMAColumns {
		header[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for i, r := range rows {
		cells := r.Cells()
		vals := make([]any, len(cells))
		for j, c := range cells {
			vals[j] = c
		}
		vals[1] = excelize.Cell{StyleID: date, Value: r.EventTime.UTC()}
		if r.HasQuantity {
			if q, err := strconv.ParseFloat(r.Quantity.String(), 64); err == nil {
				vals[5] = q
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
	}
	// A table over the rows gives every header a filter and sort button; a
	// table needs at least one row under its header.
	if len(rows) > 0 {
		last, err := excelize.CoordinatesToCellName(len(inventory.FSMAColumns), len(rows)+1)
		if err != nil {
			return err
		}
		if err := sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: "FSMA204", StyleName: "TableStyleLight1"}); err != nil {
			return fmt.Errorf("table: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}
