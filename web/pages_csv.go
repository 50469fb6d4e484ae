package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/views"
)

// CSV exports stream: each page of the list is written as it is read, so
// an export of any size holds one page in memory.
const (
	csvPageSize    = 200
	csvExportLimit = 10 * time.Minute
)

// csvCell defuses text a spreadsheet would run as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func datePtrText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}

func attachment(c *fiber.Ctx, name string) {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+"-"+time.Now().Format("20060102-1504")+`.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
}

// exportBatchesCSV writes the batches list under the current filters.
func (s *Server) exportBatchesCSV(c *fiber.Ctx) error {
	m, f, _ := batchListQuery(c)
	if m.Errors.Any() {
		return filterProblem(m.Errors)
	}
	// The stream runs after the handler returns: it gets its own context,
	// bounded, carrying the request's values (logger).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), csvExportLimit)
	page, err := s.deps.Inventory.ListBatchesSorted(ctx, f, m.Sort, inventory.ListOptions{Limit: csvPageSize})
	if err != nil {
		cancel()
		return err
	}
	log := s.log(c)
	attachment(c, "batches")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"id", "batch_number", "gtin", "product", "gln", "location", "production_date", "expiry_date",
			"best_before_date", "quantity_produced", "quantity_available", "unit_of_measure", "quality_status", "version",
			"digital_link", "notes", "created_at", "uom"})
		for {
			for _, b := range page.Items {
				_ = cw.Write([]string{b.ID.String(), b.BatchNumber, b.ProductGTIN, csvCell(b.ProductName), b.LocationGLN,
					csvCell(b.LocationName), b.ProductionDate.Format(time.DateOnly), datePtrText(b.ExpiryDate),
					datePtrText(b.BestBeforeDate), b.QuantityProduced.String(), b.QuantityAvailable.String(), gs1.UnitName(b.UOM),
					string(b.QualityStatus), strconv.FormatInt(b.Version, 10), s.digitalLink(b), csvCell(b.Notes),
					b.CreatedAt.Format(time.RFC3339), b.UOM})
			}
			cw.Flush()
			if err := w.Flush(); err != nil || page.NextCursor == "" {
				return // done, or the client went away
			}
			page, err = s.deps.Inventory.ListBatchesSorted(ctx, f, m.Sort, inventory.ListOptions{Limit: csvPageSize, Cursor: page.NextCursor})
			if err != nil {
				log.Error("batches export failed mid-stream", "err", err)
				return
			}
		}
	})
	return nil
}

// exportEventsCSV writes the events list under the current filters, one
// row per batch an event names (an FSMA 204 sortable spreadsheet).
func (s *Server) exportEventsCSV(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), csvExportLimit)
	m, f, _, err := s.eventListQuery(ctx, c)
	if err != nil {
		cancel()
		return err
	}
	if m.Errors.Any() {
		cancel()
		return filterProblem(m.Errors)
	}
	page, err := s.deps.Inventory.ListEvents(ctx, f, inventory.ListOptions{Limit: csvPageSize})
	if err != nil {
		cancel()
		return err
	}
	log := s.log(c)
	attachment(c, "events")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"event_id", "event_type", "action", "event_time", "event_timezone", "recorded_at", "biz_step",
			"disposition", "read_point", "read_point_name", "biz_location", "biz_location_name", "role", "batch_id",
			"batch_number", "product", "quantity", "unit", "source_type", "actor", "notes", "declared_in_error_at"})
		for {
			evs, err := s.eventViews(ctx, page.Items)
			if err != nil {
				log.Error("events export failed mid-stream", "err", err)
				return
			}
			for _, e := range evs {
				items := e.Items
				if len(items) == 0 {
					items = []views.EventItem{{}}
				}
				for _, it := range items {
					_ = cw.Write([]string{e.ID.String(), e.EventType, deref(e.Action), e.EventTime.Format(time.RFC3339),
						e.EventTimezone, e.RecordedAt.Format(time.RFC3339), deref(e.BizStep), deref(e.Disposition),
						deref(e.ReadPoint), csvCell(e.ReadPointName), deref(e.BizLocation), csvCell(e.BizLocationName),
						it.Role, it.BatchID, it.BatchNumber, csvCell(it.ProductName), it.Quantity, it.UOM, e.SourceType,
						csvCell(e.Actor), csvCell(e.Notes), declaredAt(e.Event)})
				}
			}
			cw.Flush()
			if err := w.Flush(); err != nil || page.NextCursor == "" {
				return
			}
			page, err = s.deps.Inventory.ListEvents(ctx, f, inventory.ListOptions{Limit: csvPageSize, Cursor: page.NextCursor})
			if err != nil {
				log.Error("events export failed mid-stream", "err", err)
				return
			}
		}
	})
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func filterProblem(errs views.FieldErrors) error {
	var fields []inventory.FieldError
	for k, v := range errs {
		fields = append(fields, inventory.FieldError{Field: k, Message: v})
	}
	sortFieldErrors(fields)
	return validationProblem(fields...)
}

// CSV import: a preview that validates every row, then a commit of all
// rows in one transaction.

func (s *Server) showImport(c *fiber.Ctx) error {
	f := views.ImportForm{CSRF: csrfToken(c), CSV: strings.Join(views.ImportColumns, ",") + "\n"}
	return render(c, fiber.StatusOK, views.ImportPage(chromeFor(c, "Import batches", "batches"), f), views.ImportFormID)
}

// importText is the CSV from the uploaded file, else the text area.
func importText(c *fiber.Ctx) (string, error) {
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		file, err := fh.Open()
		if err != nil {
			return "", err
		}
		defer file.Close()
		b, err := io.ReadAll(io.LimitReader(file, BodyLimit))
		if err != nil {
			return "", err
		}
		return string(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))), nil
	}
	return strings.Clone(c.FormValue("csv")), nil
}

func (s *Server) previewImport(c *fiber.Ctx) error {
	text, err := importText(c)
	if err != nil {
		return err
	}
	f, _ := s.checkImport(c, text)
	status := fiber.StatusOK
	if !f.Valid() {
		status = fiber.StatusUnprocessableEntity
	}
	return render(c, status, views.ImportPage(chromeFor(c, "Import batches", "batches"), f), views.ImportFormID)
}

func (s *Server) commitImport(c *fiber.Ctx) error {
	text, err := importText(c)
	if err != nil {
		return err
	}
	f, rows := s.checkImport(c, text)
	if f.Valid() {
		batches, err := s.deps.Inventory.ImportBatches(c.UserContext(), inventory.Actor{Name: actor(c).Name, Source: "import"}, rows)
		if err == nil {
			return redirectAfterPost(c, "/batches", "Imported "+strconv.Itoa(len(batches))+" batches.")
		}
		fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		applyRowErrors(&f, fe)
	}
	return render(c, fiber.StatusUnprocessableEntity, views.ImportPage(chromeFor(c, "Import batches", "batches"), f), views.ImportFormID)
}

// dropSecondErrors keeps one error per cell. Where a cell did not parse,
// the domain's check saw a zero value in its place (a quantity of 0, no
// date, no product) and objects to that too; only the parse error is
// true, so the domain's is dropped.
func dropSecondErrors(fe views.FieldErrors, cellErrs []views.FieldErrors) {
	cellOf := map[string]string{"product_id": "gtin", "location_id": "gln"}
	for k := range fe {
		m := rowField.FindStringSubmatch(k)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		cell := m[2]
		if c, ok := cellOf[cell]; ok {
			cell = c
		}
		if i < len(cellErrs) && cellErrs[i][cell] != "" {
			delete(fe, k)
		}
	}
}

var rowField = regexp.MustCompile(`^rows\[(\d+)\]\.(.+)$`)

// applyRowErrors puts "rows[i].field" errors on their rows.
func applyRowErrors(f *views.ImportForm, fe views.FieldErrors) {
	for k, v := range fe {
		m := rowField.FindStringSubmatch(k)
		if m == nil {
			f.Errors.Add("", k+" "+v)
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i < len(f.Rows) {
			f.Rows[i].Errors = append(f.Rows[i].Errors, m[2]+" "+v)
		}
	}
}

// checkImport parses the CSV, resolves GTINs and GLNs, and runs the
// domain's checks on every row.
func (s *Server) checkImport(c *fiber.Ctx, text string) (views.ImportForm, []inventory.NewBatch) {
	ctx := c.UserContext()
	f := views.ImportForm{CSRF: csrfToken(c), CSV: text, Checked: true, Errors: views.FieldErrors{}}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	records, err := r.ReadAll()
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		f.Errors.Add("", "The CSV does not parse at line "+strconv.Itoa(pe.Line)+": "+pe.Err.Error())
		return f, nil
	case err != nil:
		f.Errors.Add("", "The CSV does not parse")
		return f, nil
	case len(records) < 2:
		f.Errors.Add("", "The CSV needs a header row and at least one batch")
		return f, nil
	case len(records)-1 > inventory.MaxImportRows:
		f.Errors.Add("", "An import takes at most "+strconv.Itoa(inventory.MaxImportRows)+" rows")
		return f, nil
	}
	col := map[string]int{}
	for i, h := range records[0] {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"gtin", "gln", "production_date", "quantity_produced"} {
		if _, ok := col[need]; !ok {
			f.Errors.Add("", "The header row lacks the column "+need)
		}
	}
	if f.Errors.Any() {
		return f, nil
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	products := map[string]inventory.Product{}
	locations := map[string]inventory.Location{}
	rows := make([]inventory.NewBatch, 0, len(records)-1)
	cellErrs := make([]views.FieldErrors, 0, len(records)-1)
	for n, rec := range records[1:] {
		row := views.ImportRow{Line: n + 2, BatchNumber: get(rec, "batch_number"), GTIN: get(rec, "gtin"), GLN: get(rec, "gln"),
			ProductionDate: get(rec, "production_date"), ExpiryDate: get(rec, "expiry_date"),
			QuantityProduced: get(rec, "quantity_produced"), Unit: get(rec, "unit_of_measure"), QualityStatus: get(rec, "quality_status")}
		errs := views.FieldErrors{}
		in := inventory.NewBatch{BatchNumber: row.BatchNumber, UnitOfMeasure: row.Unit, QualityStatus: row.QualityStatus, Notes: get(rec, "notes")}
		if p, ok := products[row.GTIN]; ok {
			in.ProductID, row.ProductName = p.ID, p.Name
		} else if p, err := s.deps.Inventory.ProductByGTIN(ctx, row.GTIN); err == nil {
			products[row.GTIN], in.ProductID, row.ProductName = p, p.ID, p.Name
		} else {
			errs.Add("gtin", importRefError(err, "product"))
		}
		if l, ok := locations[row.GLN]; ok {
			in.LocationID, row.LocationName = l.ID, l.Name
		} else if l, err := s.deps.Inventory.LocationByGLN(ctx, row.GLN); err == nil {
			locations[row.GLN], in.LocationID, row.LocationName = l, l.ID, l.Name
		} else {
			errs.Add("gln", importRefError(err, "location"))
		}
		if t := parseOptDate(row.ProductionDate, "production_date", errs); t != nil {
			in.ProductionDate = *t
		} else if row.ProductionDate == "" {
			errs.Add("production_date", "is required")
		}
		in.ExpiryDate = parseOptDate(row.ExpiryDate, "expiry_date", errs)
		in.BestBeforeDate = parseOptDate(get(rec, "best_before_date"), "best_before_date", errs)
		in.QuantityProduced = parseQuantity(row.QuantityProduced, "quantity_produced", errs)
		for _, k := range sortedKeys(errs) {
			row.Errors = append(row.Errors, k+" "+errs[k])
		}
		if row.QualityStatus == "" {
			row.QualityStatus = string(inventory.StatusPending)
		}
		f.Rows = append(f.Rows, row)
		rows = append(rows, in)
		cellErrs = append(cellErrs, errs)
	}
	if err := s.deps.Inventory.CheckImport(ctx, rows); err != nil {
		fe, ok := fieldErrors(err)
		if !ok {
			f.Errors.Add("", "The rows could not be checked; try again")
			return f, nil
		}
		dropSecondErrors(fe, cellErrs)
		applyRowErrors(&f, fe)
	}
	return f, rows
}

func importRefError(err error, what string) string {
	var ve *inventory.ValidationError
	if errors.As(err, &ve) && len(ve.Fields) > 0 {
		return ve.Fields[0].Message
	}
	return "names no known " + what
}

func sortedKeys(m views.FieldErrors) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func declaredAt(e inventory.Event) string {
	if e.DeclaredInErrorAt == nil {
		return ""
	}
	return e.DeclaredInErrorAt.Format(time.RFC3339)
}
