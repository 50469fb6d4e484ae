package web

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/views"
)

// The staff's stock forms: receive, ship, transform and move, each posting
// to one domain operation; their pickers; and "this was wrong" on an event.

func (s *Server) showReceiveForm(c *fiber.Ctx) error {
	f := views.StockForm{Kind: "receive", ProductID: c.Query("product_id"), LocationID: c.Query("location_id"), ReferenceType: "po"}
	return s.renderStockForm(c, fiber.StatusOK, f)
}

func (s *Server) showShipForm(c *fiber.Ctx) error {
	f := views.StockForm{Kind: "ship", FEFOProductID: c.Query("product_id"), FEFOLocationID: c.Query("location_id"), ReferenceType: "desadv"}
	return s.showLotForm(c, f)
}

func (s *Server) showTransformForm(c *fiber.Ctx) error {
	f := views.StockForm{Kind: "transform", FEFOProductID: c.Query("product_id"), FEFOLocationID: c.Query("location_id"),
		LocationID: c.Query("location_id"), Outputs: []views.OutputRow{{}}}
	return s.showLotForm(c, f)
}

func (s *Server) showMoveForm(c *fiber.Ctx) error {
	return s.showLotForm(c, views.StockForm{Kind: "move"})
}

// showLotForm opens a form on the lot named by ?batch_id=, or on one
// empty row.
func (s *Server) showLotForm(c *fiber.Ctx, f views.StockForm) error {
	row := views.LotRow{}
	if id, err := uuid.Parse(c.Query("batch_id")); err == nil {
		b, err := s.deps.Inventory.GetBatch(c.UserContext(), id)
		if err != nil {
			return err
		}
		row = lotRow(b, "", time.Now())
	}
	f.Rows = []views.LotRow{row}
	return s.renderStockForm(c, fiber.StatusOK, f)
}

func (s *Server) renderStockForm(c *fiber.Ctx, status int, f views.StockForm) error {
	ctx := c.UserContext()
	f.CSRF = csrfToken(c)
	if f.Errors == nil {
		f.Errors = views.FieldErrors{}
	}
	var err error
	if f.Products, err = s.productChoices(ctx); err != nil {
		return err
	}
	if f.Locations, err = s.ourLocations(ctx); err != nil {
		return err
	}
	for i, o := range f.Outputs {
		if o.Unit == "" {
			for _, p := range f.Products {
				if p.ID == o.ProductID {
					f.Outputs[i].Unit = p.Unit
				}
			}
		}
	}
	return render(c, status, views.StockPage(chromeFor(c, f.Title(), "stock"), f), views.StockFormID)
}

func (s *Server) productChoices(ctx context.Context) ([]views.ProductChoice, error) {
	ps, err := s.deps.Inventory.ListProducts(ctx, inventory.ProductFilter{}, inventory.ListOptions{Limit: 200})
	if err != nil {
		return nil, err
	}
	out := make([]views.ProductChoice, len(ps.Items))
	for i, p := range ps.Items {
		out[i] = views.ProductChoice{ID: p.ID.String(), Label: p.Name + " (" + p.GTIN + ")", Unit: gs1.UnitName(p.UOM)}
	}
	return out, nil
}

func (s *Server) ourLocations(ctx context.Context) ([]views.Option, error) {
	ours := true
	ls, err := s.deps.Inventory.SearchLocations(ctx, "", &ours)
	if err != nil {
		return nil, err
	}
	out := make([]views.Option, len(ls))
	for i, l := range ls {
		out[i] = views.Option{Value: l.ID.String(), Label: l.Name}
	}
	return out, nil
}

// lotRow describes a chosen lot in its row: unit, state and what it holds.
func lotRow(b inventory.Batch, qty string, today time.Time) views.LotRow {
	r := views.LotRow{BatchID: b.ID.String(), Lot: views.PickLabel(b), Quantity: qty, Unit: gs1.UnitName(b.UOM),
		Status: views.ShownStatus(b, today)}
	r.Detail = b.QuantityAvailable.String() + " " + r.Unit + " available"
	if b.ExpiryDate != nil {
		r.Detail += " · expires " + b.ExpiryDate.Format(time.DateOnly)
	}
	return r
}

var rowKey = regexp.MustCompile(`^([a-z]+)\[(\d+)\]\.([a-z_]+)$`)

// formRows reads the rows of a repeated field ("inputs[3].quantity") in
// index order: a row's values by name. Rows left empty are dropped, so
// the domain's row numbers are the rows' positions.
func formRows(c *fiber.Ctx, field string) []map[string]string {
	rows := map[int]map[string]string{}
	c.Context().PostArgs().VisitAll(func(k, v []byte) {
		m := rowKey.FindStringSubmatch(string(k))
		if m == nil || m[1] != field {
			return
		}
		i, err := strconv.Atoi(m[2])
		if err != nil || i > 10000 {
			return
		}
		if rows[i] == nil {
			rows[i] = map[string]string{}
		}
		rows[i][m[3]] = strings.TrimSpace(string(v))
	})
	idx := make([]int, 0, len(rows))
	for i, r := range rows {
		empty := true
		for _, v := range r {
			if v != "" {
				empty = false
			}
		}
		if !empty {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	out := make([]map[string]string, len(idx))
	for n, i := range idx {
		out[n] = rows[i]
	}
	return out
}

// readLotRows resolves the rows' lots: the picked batch id, else the lot
// number typed (without JavaScript) when it names exactly one lot.
func (s *Server) readLotRows(ctx context.Context, raw []map[string]string, prefix func(int) string, usable bool, locationID *uuid.UUID,
	errs views.FieldErrors) ([]views.LotRow, []inventory.StockItem) {
	today := time.Now()
	rows := make([]views.LotRow, len(raw))
	items := make([]inventory.StockItem, len(raw))
	for i, r := range raw {
		p := prefix(i)
		rows[i] = views.LotRow{BatchID: r["batch_id"], Lot: r["lot"], Quantity: r["quantity"]}
		items[i].Quantity = parseQuantity(r["quantity"], join(p, "quantity"), errs)
		var b inventory.Batch
		var found bool
		if id, err := uuid.Parse(r["batch_id"]); err == nil {
			if got, err := s.deps.Inventory.GetBatch(ctx, id); err == nil {
				b, found = got, true
			}
		} else if r["lot"] != "" {
			lots, err := s.deps.Inventory.SearchLots(ctx, inventory.LotQuery{Text: r["lot"], LocationID: locationID, UsableOnly: usable})
			if err == nil {
				var exact []inventory.PickableLot
				for _, l := range lots {
					if l.BatchNumber == r["lot"] || views.PickLabel(l.Batch) == r["lot"] {
						exact = append(exact, l)
					}
				}
				switch len(exact) {
				case 1:
					b, found = exact[0].Batch, true
				case 0:
					errs.Add(join(p, "batch_id"), "no lot "+r["lot"]+" with stock: choose one from the list")
				default:
					errs.Add(join(p, "batch_id"), "names lots of several products or locations: choose one from the list")
				}
			}
		} else {
			errs.Add(join(p, "batch_id"), "is required: choose a lot")
		}
		if found {
			rows[i] = lotRow(b, r["quantity"], today)
			items[i].BatchID = b.ID
		}
	}
	return rows, items
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func indexed(field string) func(int) string {
	return func(i int) string { return field + "[" + strconv.Itoa(i) + "]" }
}

// readPlace resolves a location picker: the picked id, else the text
// typed when it names exactly one location (by GLN, name or label).
func (s *Server) readPlace(ctx context.Context, c *fiber.Ctx, key, idField string, errs views.FieldErrors) (views.PlacePick, *uuid.UUID) {
	p := views.PlacePick{ID: formValue(c, idField), Label: formValue(c, key)}
	if id, err := uuid.Parse(p.ID); err == nil {
		return p, &id
	}
	if p.Label == "" {
		return p, nil
	}
	ls, err := s.deps.Inventory.SearchLocations(ctx, p.Label, nil)
	if err != nil {
		errs.Add(idField, "could not be searched")
		return p, nil
	}
	var match []inventory.PickableLocation
	for _, l := range ls {
		if l.GLN == p.Label || strings.EqualFold(l.Name, p.Label) || views.PlaceLabel(l) == p.Label {
			match = append(match, l)
		}
	}
	if len(match) == 1 {
		p.ID, p.Label = match[0].ID.String(), views.PlaceLabel(match[0])
		return p, &match[0].ID
	}
	errs.Add(idField, "no single location matches "+strconv.Quote(p.Label)+": choose one from the list")
	return p, nil
}

func optUUID(raw, field string, errs views.FieldErrors) *uuid.UUID {
	if raw == "" {
		return nil
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		errs.Add(field, "is not a valid choice")
		return nil
	}
	return &id
}

func reqUUID(raw, field string, errs views.FieldErrors) uuid.UUID {
	if raw == "" {
		errs.Add(field, "is required")
		return uuid.Nil
	}
	if id := optUUID(raw, field, errs); id != nil {
		return *id
	}
	return uuid.Nil
}

func formReferences(f *views.StockForm) []inventory.BizTransaction {
	if f.Reference == "" {
		return nil
	}
	return []inventory.BizTransaction{{Type: f.ReferenceType, ID: f.Reference}}
}

func (s *Server) receiveFromForm(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := views.StockForm{Kind: "receive", Errors: views.FieldErrors{}, ProductID: formValue(c, "product_id"),
		LocationID: formValue(c, "location_id"), Quantity: formValue(c, "quantity"), BatchNumber: formValue(c, "batch_number"),
		ProductionDate: formValue(c, "production_date"), ExpiryDate: formValue(c, "expiry_date"),
		BestBeforeDate: formValue(c, "best_before_date"), Reference: formValue(c, "reference"),
		ReferenceType: formValue(c, "reference_type"), Notes: formValue(c, "notes")}
	req := inventory.ReceiveRequest{ProductID: reqUUID(f.ProductID, "product_id", f.Errors),
		LocationID: reqUUID(f.LocationID, "location_id", f.Errors), BatchNumber: f.BatchNumber, Notes: f.Notes,
		References: formReferences(&f)}
	req.Quantity = parseQuantity(f.Quantity, "quantity", f.Errors)
	f.ShipFrom, req.ShipFromID = s.readPlace(ctx, c, "ship_from", "ship_from_id", f.Errors)
	req.ProductionDate = parseOptDate(f.ProductionDate, "production_date", f.Errors)
	req.ExpiryDate = parseOptDate(f.ExpiryDate, "expiry_date", f.Errors)
	req.BestBeforeDate = parseOptDate(f.BestBeforeDate, "best_before_date", f.Errors)
	if req.ShipFromID == nil && f.Errors["ship_from_id"] == "" {
		f.Errors.Add("ship_from_id", "is required: choose the supplier's location")
	}
	return s.finishMovement(c, &f, func() (inventory.Movement, error) {
		return s.deps.Inventory.Receive(ctx, uiActor(c), req)
	})
}

func (s *Server) shipFromForm(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := s.lotFormValues(c, "ship")
	f.Reference, f.ReferenceType = formValue(c, "reference"), formValue(c, "reference_type")
	if edit := formValue(c, "edit"); edit != "" {
		f.ShipTo = views.PlacePick{ID: formValue(c, "ship_to_id"), Label: formValue(c, "ship_to")}
		return s.editRows(c, &f, edit)
	}
	var items []inventory.StockItem
	f.Rows, items = s.readLotRows(ctx, formRows(c, "items"), indexed("items"), true, optUUID(f.FEFOLocationID, "fefo_location_id", f.Errors), f.Errors)
	req := inventory.ShipRequest{Items: items, Notes: f.Notes, References: formReferences(&f)}
	var to *uuid.UUID
	f.ShipTo, to = s.readPlace(ctx, c, "ship_to", "ship_to_id", f.Errors)
	if to != nil {
		req.ShipToID = *to
	} else {
		f.Errors.Add("ship_to_id", "is required: choose where it goes")
	}
	if len(items) == 0 {
		f.Errors.Add("items[0].batch_id", "is required: choose a lot")
	}
	return s.finishMovement(c, &f, func() (inventory.Movement, error) {
		return s.deps.Inventory.Ship(ctx, uiActor(c), req)
	})
}

func (s *Server) transformFromForm(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := s.lotFormValues(c, "transform")
	f.LocationID, f.YieldReason = formValue(c, "location_id"), formValue(c, "yield_reason")
	req := inventory.TransformRequest{LocationID: optUUID(f.LocationID, "location_id", f.Errors), YieldReason: f.YieldReason, Notes: f.Notes}
	for _, r := range formRows(c, "outputs") {
		f.Outputs = append(f.Outputs, views.OutputRow{ProductID: r["product_id"], BatchNumber: r["batch_number"], Quantity: r["quantity"], ExpiryDate: r["expiry_date"]})
	}
	if edit := formValue(c, "edit"); edit != "" {
		return s.editRows(c, &f, edit)
	}
	f.Rows, req.Inputs = s.readLotRows(ctx, formRows(c, "inputs"), indexed("inputs"), true, req.LocationID, f.Errors)
	for i, o := range f.Outputs {
		p := "outputs[" + strconv.Itoa(i) + "]."
		out := inventory.TransformOutput{ProductID: reqUUID(o.ProductID, p+"product_id", f.Errors), BatchNumber: o.BatchNumber,
			ExpiryDate: parseOptDate(o.ExpiryDate, p+"expiry_date", f.Errors)}
		out.Quantity = parseQuantity(o.Quantity, p+"quantity", f.Errors)
		if out.ExpiryDate != nil {
			today := time.Now().UTC().Truncate(24 * time.Hour)
			out.ProductionDate = &today
		}
		req.Outputs = append(req.Outputs, out)
	}
	if len(req.Inputs) == 0 {
		f.Errors.Add("inputs[0].batch_id", "is required: choose a lot")
		f.Rows = []views.LotRow{{}}
	}
	if len(f.Outputs) == 0 {
		f.Errors.Add("outputs[0].product_id", "is required: name what the transformation makes")
		f.Outputs = []views.OutputRow{{}}
	}
	return s.finishMovement(c, &f, func() (inventory.Movement, error) {
		return s.deps.Inventory.Transform(ctx, uiActor(c), req)
	})
}

func (s *Server) moveFromForm(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := s.lotFormValues(c, "move")
	f.ToLocationID = formValue(c, "to_location_id")
	raw := map[string]string{"batch_id": formValue(c, "batch_id"), "lot": formValue(c, "lot"), "quantity": formValue(c, "quantity")}
	var items []inventory.StockItem
	f.Rows, items = s.readLotRows(ctx, []map[string]string{raw}, func(int) string { return "" }, false, nil, f.Errors)
	req := inventory.MoveRequest{BatchID: items[0].BatchID, Quantity: items[0].Quantity,
		ToLocationID: reqUUID(f.ToLocationID, "to_location_id", f.Errors), Notes: f.Notes}
	return s.finishMovement(c, &f, func() (inventory.Movement, error) {
		return s.deps.Inventory.Move(ctx, uiActor(c), req)
	})
}

func (s *Server) lotFormValues(c *fiber.Ctx, kind string) views.StockForm {
	return views.StockForm{Kind: kind, Errors: views.FieldErrors{}, Notes: formValue(c, "notes"),
		FEFOProductID: formValue(c, "fefo_product_id"), FEFOLocationID: formValue(c, "fefo_location_id"),
		FEFOQuantity: formValue(c, "fefo_quantity")}
}

// finishMovement runs the operation unless the form has errors already;
// success goes to the event's page, a refusal re-renders the form with
// the domain's errors beside their rows.
func (s *Server) finishMovement(c *fiber.Ctx, f *views.StockForm, run func() (inventory.Movement, error)) error {
	status := fiber.StatusUnprocessableEntity
	if !f.Errors.Any() {
		m, err := run()
		if err == nil {
			return redirectAfterPost(c, "/events/"+m.EventID.String(), movementDone(m))
		}
		if status, err = s.stockRefusal(f, err, c); err != nil {
			return err
		}
	}
	if len(f.Rows) == 0 && f.Kind != "receive" {
		f.Rows = []views.LotRow{{}}
	}
	if f.Errors["yield_reason"] != "" {
		f.AskYield = true
	}
	return s.renderStockForm(c, status, *f)
}

// movementDone is the flash after a movement: what it did to which lots.
func movementDone(m inventory.Movement) string {
	var parts []string
	for _, b := range m.Batches {
		parts = append(parts, b.BatchNumber+" at "+b.LocationName+": "+b.QuantityAvailable.String()+" "+gs1.UnitName(b.UOM))
	}
	verb := map[string]string{"receive": "Received", "ship": "Shipped", "transform": "Transformed", "move": "Moved"}[m.Operation]
	if verb == "" {
		verb = "Recorded"
	}
	msg := verb + "."
	if m.InTransit {
		msg += " In transit to our location until received there."
	}
	if len(parts) > 0 {
		msg += " Now " + strings.Join(parts, "; ") + "."
	}
	return msg
}

// stockRefusal puts a refused movement's reasons beside the fields at
// fault; other errors go to the error handler.
func (s *Server) stockRefusal(f *views.StockForm, err error, c *fiber.Ctx) (int, error) {
	rowField := func(i int, name string) string {
		if f.Kind == "move" {
			return name
		}
		return f.RowsField() + "[" + strconv.Itoa(i) + "]." + name
	}
	var (
		ve *inventory.ValidationError
		nf *inventory.NotFoundError
		ce *inventory.ConflictError
		iq *inventory.InsufficientQuantityError
		nc *inventory.NotConsumableError
	)
	switch {
	case errors.As(err, &ve):
		var unshown []string
		for _, fe := range ve.Fields {
			f.Errors.Add(fe.Field, fe.Message)
			if !shownField(f.Kind, fe.Field) {
				unshown = append(unshown, fe.Field+" "+fe.Message)
			}
		}
		if len(unshown) > 0 {
			f.Problem = "Nothing was moved: " + strings.Join(unshown, "; ") + "."
		}
		return fiber.StatusUnprocessableEntity, nil
	case errors.As(err, &nf):
		if nf.Field == "" {
			return 0, err
		}
		f.Errors.Add(nf.Field, "was not found")
		if !shownField(f.Kind, nf.Field) {
			f.Problem = "Nothing was moved: " + nf.Field + " was not found."
		}
		return fiber.StatusNotFound, nil
	case errors.As(err, &iq):
		field := iq.Field
		if field == "" {
			field = rowField(max(iq.Item, 0), "quantity")
		}
		msg := "is more than lot " + iq.Lot + " has: " + iq.QuantityAvailable.String() + " available"
		f.Errors.Add(field, msg)
		f.Problem = "Nothing was moved: " + iq.Sentence()
		return fiber.StatusConflict, nil
	case errors.As(err, &nc):
		f.Errors.Add(rowField(max(nc.Item, 0), "batch_id"), nc.Sentence())
		f.Problem = "Nothing was moved: " + nc.Sentence()
		return fiber.StatusConflict, nil
	case errors.As(err, &ce):
		msg := ce.FieldMessage
		if msg == "" {
			msg = ce.Message
		}
		f.Errors.Add(ce.Field, msg)
		f.Problem = "Nothing was moved: " + ce.Message
		return fiber.StatusConflict, nil
	case errors.Is(err, inventory.ErrLockTimeout):
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(s.deps.LockTimeout.Seconds()+0.999)))
		f.Problem = "The lots are busy; nothing was moved and your entry is kept: submit again in a moment."
		return fiber.StatusServiceUnavailable, nil
	}
	return 0, err
}

// shownField says whether a form shows an error of field beside an input;
// the others are said at the top of the form.
func shownField(kind, field string) bool {
	name := field
	if i := strings.LastIndex(field, "."); i >= 0 {
		name = field[i+1:]
	}
	switch name {
	case "items", "inputs", "outputs", "references", "event_time", "customer_id", "tlc_source", "unit",
		"best_before_date", "production_date":
		return kind == "receive" && (name == "best_before_date" || name == "production_date")
	}
	return true
}

// Pickers: fragments for the forms' search fields.

// showLotPicker lists lots matching ?q= (or the field named by ?field=).
func (s *Server) showLotPicker(c *fiber.Ctx) error {
	q := pickerText(c)
	errs := views.FieldErrors{}
	lq := inventory.LotQuery{Text: q, UsableOnly: c.Query("usable") == "1",
		ProductID:  optUUID(c.Query("product_id"), "product_id", errs),
		LocationID: optUUID(firstNonEmpty(c.Query("location_id"), c.Query("fefo_location_id")), "location_id", errs)}
	for field, msg := range errs {
		return validationProblem(inventory.FieldError{Field: field, Message: msg})
	}
	lots, err := s.deps.Inventory.SearchLots(c.UserContext(), lq)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.LotPickList(views.LotPicks{Lots: lots}))
}

// showLocationPicker lists locations matching ?q= by name, GLN or party;
// ?ours=true|false narrows to ours or partners'.
func (s *Server) showLocationPicker(c *fiber.Ctx) error {
	var ours *bool
	switch c.Query("ours") {
	case "true":
		t := true
		ours = &t
	case "false":
		f := false
		ours = &f
	}
	ls, err := s.deps.Inventory.SearchLocations(c.UserContext(), pickerText(c), ours)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.PlacePickList(views.PlacePicks{Locations: ls}))
}

func pickerText(c *fiber.Ctx) string {
	q := c.Query("q")
	if q == "" && c.Query("field") != "" {
		q = c.Query(c.Query("field"))
	}
	return strings.Clone(strings.TrimSpace(q))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// showFEFORows answers the FEFO helper: rows of the usable lots of a
// product at a location, first expiry first, taking the quantity.
func (s *Server) showFEFORows(c *fiber.Ctx) error {
	target := c.Query("target")
	if target != "items" && target != "inputs" {
		return validationProblem(inventory.FieldError{Field: "target", Message: "must be items or inputs"})
	}
	errs := views.FieldErrors{}
	product := reqUUID(firstNonEmpty(c.Query("product_id"), c.Query("fefo_product_id")), "product_id", errs)
	location := reqUUID(firstNonEmpty(c.Query("location_id"), c.Query("fefo_location_id")), "location_id", errs)
	var qty quantity.Quantity
	if raw := firstNonEmpty(c.Query("quantity"), c.Query("fefo_quantity")); raw != "" {
		qty = parseQuantity(raw, "quantity", errs)
	}
	start, _ := strconv.Atoi(c.Query("start"))
	if start < 0 || start > 10000 {
		start = 0
	}
	if errs.Any() {
		msg := "Choose a product, a location and a quantity first."
		if m := errs["quantity"]; m != "" {
			msg = "Quantity " + m + "."
		}
		return render(c, fiber.StatusOK, views.FEFORows(target, start, nil, msg))
	}
	rows, short, err := s.fefoRows(c.UserContext(), product, location, qty)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.FEFORows(target, start, rows, short))
}

// fefoRows are the rows of the FEFO suggestion, and what it lacks in words.
func (s *Server) fefoRows(ctx context.Context, product, location uuid.UUID, qty quantity.Quantity) ([]views.LotRow, string, error) {
	plan, err := s.deps.Inventory.FEFO(ctx, product, location, qty)
	if err != nil {
		return nil, "", err
	}
	today := time.Now()
	rows := make([]views.LotRow, len(plan.Picks))
	for i, p := range plan.Picks {
		take := ""
		if p.Take > 0 {
			take = p.Take.String()
		}
		rows[i] = lotRow(p.Batch, take, today)
	}
	short := ""
	switch {
	case len(rows) == 0:
		short = "No usable lot of this product here."
	case plan.Short > 0:
		short = "The usable lots here lack " + plan.Short.String() + " of the " + plan.Requested.String() + " asked for."
	}
	return rows, short, nil
}

// editRows answers the form's own buttons when they post (no JavaScript):
// add a row, or append the FEFO suggestion; nothing is recorded.
func (s *Server) editRows(c *fiber.Ctx, f *views.StockForm, edit string) error {
	ctx := c.UserContext()
	f.Rows, _ = s.readLotRows(ctx, formRows(c, f.RowsField()), indexed(f.RowsField()), true, nil, views.FieldErrors{})
	switch edit {
	case "add-" + f.RowsField():
		f.Rows = append(f.Rows, views.LotRow{})
	case "add-outputs":
		f.Outputs = append(f.Outputs, views.OutputRow{})
	case "fefo":
		errs := views.FieldErrors{}
		product := reqUUID(f.FEFOProductID, "fefo_product_id", errs)
		location := reqUUID(f.FEFOLocationID, "fefo_location_id", errs)
		var qty quantity.Quantity
		if f.FEFOQuantity != "" {
			qty = parseQuantity(f.FEFOQuantity, "fefo_quantity", errs)
		}
		if errs.Any() {
			f.Problem = "To suggest lots, choose a product, a location and a quantity."
			break
		}
		rows, short, err := s.fefoRows(ctx, product, location, qty)
		if err != nil {
			return err
		}
		f.Rows = append(f.Rows, rows...)
		f.Problem = short
	}
	if len(f.Rows) == 0 {
		f.Rows = []views.LotRow{{}}
	}
	if len(f.Outputs) == 0 && f.Kind == "transform" {
		f.Outputs = []views.OutputRow{{}}
	}
	return s.renderStockForm(c, fiber.StatusOK, *f)
}

// loadEventStock adds an event's ledger rows, its correction and (for
// operators, while it stands) the "this was wrong" form to meta.
func (s *Server) loadEventStock(ctx context.Context, c *fiber.Ctx, meta *views.EventMeta, form views.CorrectionForm) error {
	id, err := uuid.Parse(meta.ID)
	if err != nil {
		return err
	}
	h, err := s.deps.Inventory.EventHistory(ctx, id, meta.EventID)
	if err != nil {
		return err
	}
	for _, cid := range h.Corrects {
		meta.Corrects = append(meta.Corrects, views.EventLink{Label: "Event " + cid.String(), Href: "/events/" + cid.String()})
	}
	form.CSRF, form.EventID = csrfToken(c), meta.ID
	if form.Errors == nil {
		form.Errors = views.FieldErrors{}
	}
	meta.Stock = &views.EventStock{Ledger: h.Ledger, Declared: h.Declared, Form: form,
		CanCorrect: h.Declared == nil && !meta.DeclaredInError && (isOperator(c) || isAdmin(c))}
	return nil
}

// correctEventFromForm declares an event in error from its page and
// reverses its stock effects; a refusal shows on the page, entries kept.
func (s *Server) correctEventFromForm(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	f := views.CorrectionForm{Reason: formValue(c, "reason"), Note: formValue(c, "note"),
		Corrective: formValue(c, "corrective_event_id"), Errors: views.FieldErrors{}, Open: true}
	req := inventory.CorrectionRequest{EventID: id, Reason: f.Reason, Note: f.Note}
	if f.Corrective != "" {
		corrective := f.Corrective
		if _, err := uuid.Parse(corrective); err == nil {
			corrective = "urn:uuid:" + corrective
		}
		req.CorrectiveEventIDs = []string{corrective}
	}
	if f.Reason == "" {
		f.Errors.Add("reason", "is required: say what was wrong")
	}
	status := fiber.StatusUnprocessableEntity
	if !f.Errors.Any() {
		corr, err := s.deps.Inventory.CorrectEvent(c.UserContext(), uiActor(c), req)
		if err == nil {
			msg := "Declared in error; nothing to reverse."
			switch n := len(corr.Reversals); n {
			case 0:
			case 1:
				msg = "Declared in error; 1 ledger row reversed."
			default:
				msg = "Declared in error; " + strconv.Itoa(n) + " ledger rows reversed."
			}
			return redirectAfterPost(c, "/events/"+id.String(), msg)
		}
		var ve *inventory.ValidationError
		var ce *inventory.ConflictError
		switch {
		case errors.As(err, &ve):
			for k, v := range views.FromValidation(ve.Fields) {
				if strings.HasPrefix(k, "corrective_event_ids") {
					k = "corrective_event_id"
				}
				f.Errors.Add(k, v)
			}
		case errors.As(err, &ce):
			status = fiber.StatusConflict
			f.Problem = ce.Message
		case errors.Is(err, inventory.ErrLockTimeout):
			status = fiber.StatusServiceUnavailable
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(s.deps.LockTimeout.Seconds()+0.999)))
			f.Problem = "The lots are busy; nothing was changed. Submit again in a moment."
		default:
			return err
		}
	}
	return s.renderEventPage(c, status, id, f)
}
