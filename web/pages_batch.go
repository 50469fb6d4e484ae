package web

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	qrcode "github.com/skip2/go-qrcode"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/views"
)

// How much of a batch's history its page shows.
const (
	pageLedgerRows = 20
	pageEventRows  = 20
)

// batchDetail loads what the batch page shows.
func (s *Server) batchDetail(ctx context.Context, c *fiber.Ctx, id uuid.UUID) (views.BatchDetail, error) {
	b, err := s.deps.Inventory.GetBatch(ctx, id)
	if err != nil {
		return views.BatchDetail{}, err
	}
	d := views.BatchDetail{CSRF: csrfToken(c), Batch: b, DigitalLink: s.digitalLink(b), Today: time.Now()}
	if err := s.loadHistory(ctx, &d); err != nil {
		return views.BatchDetail{}, err
	}
	if d.Trace, err = s.deps.Inventory.TraceLinks(ctx, id); err != nil {
		return views.BatchDetail{}, err
	}
	rows, err := s.deps.Inventory.LotLocations(ctx, b.ProductID, b.BatchNumber)
	if err != nil {
		return views.BatchDetail{}, err
	}
	for _, r := range rows {
		if r.ID != b.ID {
			d.Others = append(d.Others, r)
		}
	}
	if d.Recalls, err = s.deps.Inventory.RecallsOfBatch(ctx, id); err != nil {
		return views.BatchDetail{}, err
	}
	d.Consume = views.ConsumeForm{CSRF: d.CSRF, BatchID: id.String(), ExpectedVersion: b.Version, Unit: gs1.UnitName(b.UOM), Release: s.deps.Inventory.Release()}
	d.Status = views.StatusForm{CSRF: d.CSRF, BatchID: id.String(), Current: views.ShownStatus(b, d.Today),
		CurrentReason: views.StatusReasonOf(b), CanRecall: isAdmin(c)}
	d.Destroy = views.DestroyForm{CSRF: d.CSRF, BatchID: id.String(), Unit: gs1.UnitName(b.UOM), Disposition: "destroyed"}
	return d, nil
}

// loadHistory reads the fragments of d.Batch that change with its stock:
// mass balance, transfers in transit, ledger and events.
func (s *Server) loadHistory(ctx context.Context, d *views.BatchDetail) error {
	id := d.Batch.ID
	var err error
	if d.Mass, err = s.deps.Inventory.Balance(ctx, id); err != nil {
		return err
	}
	if d.Transits, err = s.deps.Inventory.InTransitFrom(ctx, id); err != nil {
		return err
	}
	ledger, err := s.deps.Inventory.ListConsumptions(ctx, id, inventory.ListOptions{Limit: pageLedgerRows})
	if err != nil {
		return err
	}
	d.Ledger = ledger.Items
	events, err := s.deps.Inventory.ListEvents(ctx, inventory.EventFilter{BatchID: &id}, inventory.ListOptions{Limit: pageEventRows})
	if err != nil {
		return err
	}
	d.Events, err = s.eventViews(ctx, events.Items)
	return err
}

func (s *Server) showBatchPage(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	d, err := s.batchDetail(c.UserContext(), c, id)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.BatchPage(chromeFor(c, "Batch "+d.Batch.BatchNumber, "batches"), d))
}

// showBalance answers the balance poll: 204 while the batch is at the
// version the page has, else the balance with the ledger, events and the
// consume form's expected version swapped out of band.
func (s *Server) showBalance(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	c.Vary("HX-Request")
	b, err := s.deps.Inventory.GetBatch(ctx, id)
	if err != nil {
		return err
	}
	if v, err := strconv.ParseInt(c.Query("version"), 10, 64); err == nil && v == b.Version {
		return c.SendStatus(fiber.StatusNoContent)
	}
	d := views.BatchDetail{CSRF: csrfToken(c), Batch: b, Today: time.Now()}
	if err := s.loadHistory(ctx, &d); err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.BalanceRefresh(d))
}

// consumeFromForm is the batch page's inline consume. With htmx, success
// and refusal both answer with fragments (form, balance, ledger, events);
// without, success redirects and a refusal re-renders the page.
func (s *Server) consumeFromForm(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f := views.ConsumeForm{
		CSRF: csrfToken(c), BatchID: id.String(), Quantity: formValue(c, "quantity_to_consume"),
		Reason: formValue(c, "reason"), Errors: views.FieldErrors{}, Release: s.deps.Inventory.Release(),
	}
	req := inventory.ConsumeRequest{BatchID: id, Reason: f.Reason}
	req.Quantity = parseQuantity(f.Quantity, "quantity_to_consume", f.Errors)
	if raw := formValue(c, "expected_version"); raw != "" {
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v < 1 {
			f.Errors.Add("expected_version", "must be a version number")
		} else {
			req.ExpectedVersion = &v
			f.ExpectedVersion = v
		}
	}
	status := fiber.StatusUnprocessableEntity
	if !f.Errors.Any() {
		b, cons, err := s.deps.Inventory.Consume(ctx, uiActor(c), req)
		if err == nil {
			unit := gs1.UnitName(b.UOM)
			done := "Consumed " + cons.Quantity.String() + " " + unit + "; " +
				b.QuantityAvailable.String() + " " + unit + " left."
			if !wantsFragment(c) {
				return redirectAfterPost(c, "/batches/"+id.String(), done)
			}
			d, err := s.batchDetail(ctx, c, id)
			if err != nil {
				return err
			}
			d.Consume.Done = done
			return render(c, fiber.StatusOK, views.ConsumeResult(d))
		}
		status, err = consumeRefusal(&f, err, int(s.deps.LockTimeout.Seconds()+0.999), c)
		if err != nil {
			return err
		}
	}
	d, err := s.batchDetail(ctx, c, id)
	if err != nil {
		return err
	}
	// The refusal shows the batch as it is now, and a resubmit of the kept
	// entry goes against that version.
	f.Unit, f.ExpectedVersion = gs1.UnitName(d.Batch.UOM), d.Batch.Version
	if f.Problem != nil && f.Problem.QuantityAvailable == "" && f.Problem.Kind != "lock-timeout" {
		f.Problem.QuantityAvailable = d.Batch.QuantityAvailable.String() + " " + gs1.UnitName(d.Batch.UOM)
		f.Problem.CurrentVersion = d.Batch.Version
	}
	d.Consume = f
	if wantsFragment(c) {
		return render(c, status, views.ConsumeResult(d))
	}
	return render(c, status, views.BatchPage(chromeFor(c, "Batch "+d.Batch.BatchNumber, "batches"), d))
}

// consumeRefusal words a refused consume into the form and picks the
// status; other errors are returned for the error handler.
func consumeRefusal(f *views.ConsumeForm, err error, retryAfter int, c *fiber.Ctx) (int, error) {
	var ve *inventory.ValidationError
	if errors.As(err, &ve) {
		for k, v := range views.FromValidation(ve.Fields) {
			f.Errors.Add(k, v)
		}
		return fiber.StatusUnprocessableEntity, nil
	}
	var de inventory.Error
	if !errors.As(err, &de) {
		return 0, err
	}
	t := problemTypes[string(de.Kind())]
	if t.formKind == "" {
		return 0, err
	}
	detail := de.Sentence() + " Nothing was consumed."
	switch de.Kind() {
	case inventory.KindVersionConflict:
		detail = de.Sentence() + " Nothing was consumed; check the balance and submit again."
	case inventory.KindLockTimeout:
		detail = de.Sentence() + " Nothing was consumed; your entry is kept."
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(retryAfter))
	}
	f.Problem = &views.ConsumeProblem{Kind: t.formKind, Title: t.formTitle, Detail: detail}
	return t.status, nil
}

// Quality status changes: approve and reject are operator work, recall
// is admin work, hence one route each. A recall goes on to the recall
// form, which shows everything it reaches (lots made from this one,
// customers) before it is confirmed.
func (s *Server) approveBatch(c *fiber.Ctx) error { return s.changeStatus(c, inventory.StatusApproved) }
func (s *Server) holdBatch(c *fiber.Ctx) error    { return s.changeStatus(c, inventory.StatusOnHold) }
func (s *Server) rejectBatch(c *fiber.Ctx) error  { return s.changeStatus(c, inventory.StatusRejected) }
func (s *Server) recallBatch(c *fiber.Ctx) error  { return s.changeStatus(c, inventory.StatusRecalled) }

// statusVerbs word a status change: "Batch L-1 put on hold."
var statusVerbs = map[inventory.QualityStatus]string{
	inventory.StatusApproved: "released", inventory.StatusOnHold: "put on hold",
	inventory.StatusRejected: "rejected", inventory.StatusRecalled: "recalled",
}

func (s *Server) changeStatus(c *fiber.Ctx, to inventory.QualityStatus) error {
	status := string(to)
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f := views.StatusForm{CSRF: csrfToken(c), BatchID: id.String(), CanRecall: isAdmin(c), Reason: formValue(c, "reason"), Errors: views.FieldErrors{}}
	httpStatus := fiber.StatusUnprocessableEntity
	// A release may go without a note; holding, rejecting and recalling say why.
	if f.Reason == "" && to != inventory.StatusApproved {
		f.Errors.Add("reason", "is required: say why the batch is "+statusVerbs[to])
	} else if to == inventory.StatusRecalled {
		return redirectAfterPost(c, recallLink(id, f.Reason), "")
	} else {
		b, err := s.deps.Inventory.UpdateBatch(ctx, uiActor(c), id, inventory.BatchUpdate{QualityStatus: &status, Reason: f.Reason}, nil)
		if err == nil {
			return redirectAfterPost(c, "/batches/"+id.String(), "Batch "+b.BatchNumber+" "+statusVerbs[to]+".")
		}
		fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		for k, v := range fe {
			f.Errors.Add(k, v)
		}
	}
	d, err := s.batchDetail(ctx, c, id)
	if err != nil {
		return err
	}
	f.Current, f.CurrentReason, f.BatchNumber = d.Status.Current, d.Status.CurrentReason, d.Batch.BatchNumber
	d.Status = f
	if wantsFragment(c) {
		return render(c, httpStatus, views.StatusFormView(f))
	}
	return render(c, httpStatus, views.BatchPage(chromeFor(c, "Batch "+d.Batch.BatchNumber, "batches"), d))
}

func editValues(b inventory.Batch) views.EditValues {
	opt := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	return views.EditValues{ProductionDate: b.ProductionDate.Format(time.DateOnly), ExpiryDate: opt(b.ExpiryDate),
		BestBeforeDate: opt(b.BestBeforeDate), Notes: b.Notes}
}

func (s *Server) showEditBatch(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.deps.Inventory.GetBatch(c.UserContext(), id)
	if err != nil {
		return err
	}
	v := editValues(b)
	f := views.EditBatchForm{CSRF: csrfToken(c), BatchID: id.String(), BatchNumber: b.BatchNumber, Version: b.Version,
		ProductionDate: v.ProductionDate, ExpiryDate: v.ExpiryDate, BestBeforeDate: v.BestBeforeDate, Notes: v.Notes, Orig: v}
	return render(c, fiber.StatusOK, views.EditBatchPage(chromeFor(c, "Edit "+b.BatchNumber, "batches"), f), views.EditBatchFormID)
}

// saveBatch stores edited metadata if nobody changed the batch since the
// form was loaded; otherwise it shows what changed and keeps the entries.
func (s *Server) saveBatch(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f := views.EditBatchForm{
		CSRF: csrfToken(c), BatchID: id.String(), ProductionDate: formValue(c, "production_date"),
		ExpiryDate: formValue(c, "expiry_date"), BestBeforeDate: formValue(c, "best_before_date"),
		Notes: strings.Clone(c.FormValue("notes")), Errors: views.FieldErrors{},
		Orig: views.EditValues{ProductionDate: formValue(c, "orig_production_date"), ExpiryDate: formValue(c, "orig_expiry_date"),
			BestBeforeDate: formValue(c, "orig_best_before_date"), Notes: strings.Clone(c.FormValue("orig_notes"))},
	}
	version, err := strconv.ParseInt(formValue(c, "version"), 10, 64)
	if err != nil || version < 1 {
		f.Errors.Add("version", "is missing: reload the page and edit again")
	}
	f.Version = version
	upd := inventory.BatchUpdate{Notes: &f.Notes}
	if f.ProductionDate == "" {
		f.Errors.Add("production_date", "is required")
	} else {
		upd.ProductionDate = parseOptDate(f.ProductionDate, "production_date", f.Errors)
	}
	upd.ExpiryDate = parseOptDate(f.ExpiryDate, "expiry_date", f.Errors)
	upd.ClearExpiry = f.ExpiryDate == ""
	upd.BestBeforeDate = parseOptDate(f.BestBeforeDate, "best_before_date", f.Errors)
	upd.ClearBestBefore = f.BestBeforeDate == ""
	status := fiber.StatusUnprocessableEntity
	if !f.Errors.Any() {
		b, err := s.deps.Inventory.UpdateBatch(ctx, uiActor(c), id, upd, &version)
		if err == nil {
			return redirectAfterPost(c, "/batches/"+id.String(), "Batch "+b.BatchNumber+" saved.")
		}
		var vc *inventory.VersionConflictError
		if errors.As(err, &vc) {
			status = fiber.StatusConflict
			f.Errors.Add("version", "changed")
		} else if fe, ok := fieldErrors(err); ok {
			for k, v := range fe {
				f.Errors.Add(k, v)
			}
		} else {
			return err
		}
	}
	cur, err := s.deps.Inventory.GetBatch(ctx, id)
	if err != nil {
		return err
	}
	f.BatchNumber = cur.BatchNumber
	if status == fiber.StatusConflict {
		f.Changes = changedFields(f.Orig, editValues(cur), f)
		// Saving again now is a deliberate overwrite of what they see.
		f.Version, f.Orig = cur.Version, editValues(cur)
	}
	return render(c, status, views.EditBatchPage(chromeFor(c, "Edit "+cur.BatchNumber, "batches"), f), views.EditBatchFormID)
}

// changedFields lists what someone else changed between the form's load
// (was) and now; a version bump without metadata changes (a consume)
// lists the balance instead, so the panel never says nothing.
func changedFields(was, now views.EditValues, yours views.EditBatchForm) []views.FieldChange {
	var out []views.FieldChange
	add := func(field, label, w, n, y string) {
		if w != n {
			out = append(out, views.FieldChange{Field: field, Label: label, Was: w, Now: n, Yours: y})
		}
	}
	add("production_date", "Production date", was.ProductionDate, now.ProductionDate, yours.ProductionDate)
	add("expiry_date", "Expiry date", was.ExpiryDate, now.ExpiryDate, yours.ExpiryDate)
	add("best_before_date", "Best before", was.BestBeforeDate, now.BestBeforeDate, yours.BestBeforeDate)
	add("notes", "Notes", was.Notes, now.Notes, yours.Notes)
	if len(out) == 0 {
		out = append(out, views.FieldChange{Field: "balance", Label: "Balance or status (no detail you edit)",
			Was: "", Now: "changed", Yours: "unchanged"})
	}
	return out
}

// labelFor builds one printable label, with the QR code drawn inline so a
// sheet of many labels prints without fetching an image per label.
func (s *Server) labelFor(b inventory.Batch) (views.LabelModel, error) {
	link := s.digitalLink(b)
	code, err := qrCodeFor(link)
	if err != nil {
		return views.LabelModel{}, err
	}
	return views.LabelModel{BatchID: b.ID.String(), BatchNumber: b.BatchNumber, ProductName: b.ProductName,
		GTIN: b.ProductGTIN, Expiry: b.ExpiryDate, BestBefore: b.BestBeforeDate, DigitalLink: link, QRSVG: qrSVG(code)}, nil
}

func (s *Server) showLabel(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.deps.Inventory.GetBatch(c.UserContext(), id)
	if err != nil {
		return err
	}
	// A label changes with the batch (its version) and the public URL; the
	// page around it with the session (its CSRF token), so that is in too.
	if notModified(c, contentTag(b.ID.String(), strconv.FormatInt(b.Version, 10), s.digitalLink(b), csrfToken(c)),
		b.UpdatedAt, "private, no-cache") {
		return c.SendStatus(fiber.StatusNotModified)
	}
	l, err := s.labelFor(b)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.LabelsPage(chromeFor(c, "Label of "+b.BatchNumber, "batches"), []views.LabelModel{l}, "/batches/"+id.String(), s.localBase()))
}

// maxLabels bounds one sheet.
const maxLabels = 200

// showLabelSheet prints the batches ticked in the list (?ids=...).
func (s *Server) showLabelSheet(c *fiber.Ctx) error {
	ids := formValues(c, "ids")
	if len(ids) > maxLabels {
		return validationProblem(inventory.FieldError{Field: "ids", Message: "must name at most " + strconv.Itoa(maxLabels) + " batches"})
	}
	var labels []views.LabelModel
	for _, raw := range ids {
		id, err := uuid.Parse(raw)
		if err != nil {
			return validationProblem(inventory.FieldError{Field: "ids", Message: "must be batch ids"})
		}
		b, err := s.deps.Inventory.GetBatch(c.UserContext(), id)
		if err != nil {
			return err
		}
		l, err := s.labelFor(b)
		if err != nil {
			return err
		}
		labels = append(labels, l)
	}
	title := "Labels: " + strconv.Itoa(len(labels)) + " batches"
	return render(c, fiber.StatusOK, views.LabelsPage(chromeFor(c, title, "batches"), labels, "/batches", s.localBase()))
}

// localBase is PUBLIC_URL when only this machine can resolve it, which the
// label page warns about; "" otherwise.
func (s *Server) localBase() string {
	if IsLoopbackURL(s.deps.PublicURL) {
		return s.deps.PublicURL
	}
	return ""
}

func qrCodeFor(link string) (*qrcode.QRCode, error) { return qrcode.New(link, qrcode.Medium) }
