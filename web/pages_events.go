package web

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/views"
)

// eventViews names the batches and locations of events for reading.
func (s *Server) eventViews(ctx context.Context, events []inventory.Event) ([]views.EventView, error) {
	var ids []uuid.UUID
	locs := map[uuid.UUID]string{}
	for _, e := range events {
		ids = append(ids, e.BatchIDs()...)
		for _, l := range []*uuid.UUID{e.ReadPointID, e.BizLocationID} {
			if l != nil {
				locs[*l] = ""
			}
		}
	}
	names, err := s.deps.Inventory.BatchNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	for id := range locs {
		l, err := s.deps.Inventory.GetLocation(ctx, id)
		if err != nil {
			return nil, err
		}
		locs[id] = l.Name
	}
	out := make([]views.EventView, 0, len(events))
	for _, e := range events {
		v := views.EventView{Event: e}
		for _, l := range []struct {
			role  string
			items []inventory.QuantityItem
		}{{"object", e.QuantityList}, {"input", e.InputQuantityList}, {"output", e.OutputQuantityList}} {
			for _, it := range l.items {
				n := names[it.BatchID]
				v.Items = append(v.Items, views.EventItem{Role: l.role, BatchID: it.BatchID.String(), BatchNumber: n.BatchNumber,
					ProductName: n.ProductName, Quantity: it.Quantity.String(), UOM: gs1.UnitName(it.UOM)})
			}
		}
		if e.ReadPointID != nil {
			v.ReadPointName = locs[*e.ReadPointID]
		}
		if e.BizLocationID != nil {
			v.BizLocationName = locs[*e.BizLocationID]
		}
		out = append(out, v)
	}
	return out, nil
}

// eventListQuery reads the events list's filters as typed.
func (s *Server) eventListQuery(ctx context.Context, c *fiber.Ctx) (views.EventList, inventory.EventFilter, inventory.ListOptions, error) {
	q := newQuery(c)
	m := views.EventList{
		EventType: q.str("event_type"), BizStep: q.str("biz_step"), Batch: q.str("batch"),
		BatchID: q.str("batch_id"), LocationID: q.str("location_id"), StartDate: q.str("start_date"),
		EndDate: q.str("end_date"), ProductID: q.str("product_id"), EPCClass: q.str("epc_class"),
		BizTransaction: q.str("biz_transaction"), DeclaredInError: q.str("declared_in_error"),
		Errors: views.FieldErrors{}, Query: url.Values{}, EventTypes: gs1.EventTypes, BizSteps: gs1.BizSteps,
	}
	for k, v := range map[string]string{"event_type": m.EventType, "biz_step": m.BizStep, "batch": m.Batch, "batch_id": m.BatchID,
		"location_id": m.LocationID, "start_date": m.StartDate, "end_date": m.EndDate, "product_id": m.ProductID,
		"epc_class": m.EPCClass, "biz_transaction": m.BizTransaction, "declared_in_error": m.DeclaredInError} {
		if v != "" {
			m.Query.Set(k, v)
		}
	}
	f := inventory.EventFilter{}
	if m.EventType != "" {
		if slices.Contains(gs1.EventTypes, m.EventType) {
			f.EventType = m.EventType
		} else {
			m.Errors.Add("event_type", "Event type must be one of the list")
		}
	}
	if m.BizStep != "" {
		if gs1.ValidVocabulary(gs1.BizSteps, m.BizStep) {
			f.BizStep = m.BizStep
		} else {
			m.Errors.Add("biz_step", "Business step must be a CBV 2.0 business step")
		}
	}
	f.BatchID = parseOptUUID(m.BatchID, "batch_id", "Batch must be a batch id", m.Errors)
	if m.Batch != "" && f.BatchID == nil {
		found, err := s.deps.Inventory.LotsByNumber(ctx, []string{m.Batch})
		if err != nil {
			return m, f, inventory.ListOptions{}, err
		}
		lot, err := inventory.PickLot(found[m.Batch], m.Batch, nil)
		if err == nil {
			f.BatchID = &lot.BatchID
		} else {
			// An ambiguous number: each lot it names is a link to its events.
			m.Errors.Add("batch", lotMessage(err, true))
			for _, l := range found[m.Batch] {
				m.LotChoices = append(m.LotChoices, views.Option{Value: l.BatchID.String(), Label: l.ProductName + " (" + l.ProductGTIN + ")"})
			}
		}
	}
	f.LocationID = parseOptUUID(m.LocationID, "location_id", "Location must be one of the list", m.Errors)
	f.ProductID = parseOptUUID(m.ProductID, "product_id", "Product must be one of the list", m.Errors)
	if m.EPCClass != "" {
		if _, ok := inventory.LotClassKey(m.EPCClass); ok {
			f.EPCClass = m.EPCClass
		} else {
			m.Errors.Add("epc_class", "EPC class must be a lot's GS1 Digital Link (https://id.gs1.org/01/…/10/…) or EPC class URN (urn:epc:class:lgtin:…)")
		}
	}
	f.BizTransaction = m.BizTransaction
	switch m.DeclaredInError {
	case "", "show":
		m.DeclaredInError = ""
	case "hide", "only":
		f.DeclaredInError = m.DeclaredInError
	default:
		m.Errors.Add("declared_in_error", "Declared in error must be show, hide or only")
	}
	f.StartDate = parseOptDate(m.StartDate, "start_date", m.Errors)
	f.EndDate = parseOptDate(m.EndDate, "end_date", m.Errors)
	if f.StartDate != nil && f.EndDate != nil && f.EndDate.Before(*f.StartDate) {
		m.Errors.Add("end_date", "The end date must not be before the start date")
	}
	cursor := q.str("cursor")
	q.unknownTo(m.Errors)
	m.Paged = cursor != ""
	return m, f, inventory.ListOptions{Cursor: cursor, Limit: 50}, nil
}

func (s *Server) showEvents(c *fiber.Ctx) error {
	ctx := c.UserContext()
	m, f, opts, err := s.eventListQuery(ctx, c)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if m.Errors.Any() {
		status = fiber.StatusUnprocessableEntity
	} else {
		page, err := s.deps.Inventory.ListEvents(ctx, f, opts)
		if fe, ok := fieldErrors(err); ok {
			for k, v := range fe {
				m.Errors.Add(k, k+" "+v)
			}
			status = fiber.StatusUnprocessableEntity
		} else if err != nil {
			return err
		}
		if m.Events, err = s.eventViews(ctx, page.Items); err != nil {
			return err
		}
		m.NextCursor = page.NextCursor
	}
	if !wantsFragment(c) {
		if m.Products, m.Locations, err = s.masterOptions(ctx); err != nil {
			return err
		}
	}
	return render(c, status, views.EventsPage(chromeFor(c, "Events", "events"), m), views.EventListID)
}

// minEventRows is how many blank batch lines the event form offers.
const minEventRows = 3

// eventFormFrom reads the event form (from the query when the type select
// re-renders it, from the body when it is submitted).
func eventFormFrom(c *fiber.Ctx) views.EventForm {
	get := formValue
	if c.Method() == fiber.MethodGet {
		get = queryValue
	}
	f := views.EventForm{
		EventType: get(c, "event_type"), Action: get(c, "action"), EventTime: get(c, "event_time"),
		EventTimezone: get(c, "event_timezone"), BizStep: get(c, "biz_step"), Disposition: get(c, "disposition"),
		ReadPoint: get(c, "read_point"), BizLocation: get(c, "biz_location"), Notes: get(c, "notes"),
		Quantities: quantityRows(c, "quantity"), Inputs: quantityRows(c, "input"), Outputs: quantityRows(c, "output"),
		Errors: views.FieldErrors{},
	}
	if b := get(c, "batch"); b != "" && len(f.Quantities) == 0 {
		f.Quantities = []views.QuantityRow{{Batch: b, Product: get(c, "product_id")}}
	}
	return f
}

// quantityRows pairs the repeated batch and quantity inputs of a list,
// dropping blank lines so row i is item i of the list sent on.
func quantityRows(c *fiber.Ctx, prefix string) []views.QuantityRow {
	batches, products, qtys := formValues(c, prefix+"_batch"), formValues(c, prefix+"_product"), formValues(c, prefix+"_qty")
	var rows []views.QuantityRow
	for i := range max(len(batches), len(qtys)) {
		var r views.QuantityRow
		if i < len(batches) {
			r.Batch = batches[i]
		}
		if i < len(products) && r.Batch != "" {
			r.Product = products[i]
		}
		if i < len(qtys) {
			r.Quantity = qtys[i]
		}
		if r.Batch != "" || r.Quantity != "" {
			rows = append(rows, r)
		}
	}
	return rows
}

func padRows(rows []views.QuantityRow) []views.QuantityRow {
	for len(rows) < minEventRows || (len(rows) > 0 && rows[len(rows)-1] != views.QuantityRow{}) {
		rows = append(rows, views.QuantityRow{})
	}
	return rows
}

// completeEventForm adds the choices and blank lines the form shows.
func (s *Server) completeEventForm(ctx context.Context, c *fiber.Ctx, f views.EventForm) (views.EventForm, error) {
	f.CSRF = csrfToken(c)
	f.EventTypes, f.Actions, f.BizSteps, f.Dispositions = gs1.EventTypes, gs1.Actions, gs1.BizSteps, gs1.Dispositions
	if f.EventType == "" {
		f.EventType = "ObjectEvent"
	}
	if f.EventTimezone == "" {
		f.EventTimezone = time.Now().Format("-07:00")
	}
	f.Quantities, f.Inputs, f.Outputs = padRows(f.Quantities), padRows(f.Inputs), padRows(f.Outputs)
	ls, err := s.deps.Inventory.ListLocations(ctx, inventory.LocationFilter{}, inventory.ListOptions{Limit: 200})
	if err != nil {
		return f, err
	}
	for _, l := range ls.Items {
		f.Locations = append(f.Locations, views.Option{Value: l.GLN, Label: l.Name + " (" + l.GLN + ")"})
	}
	lots, err := s.deps.Inventory.RecentLots(ctx, 200)
	for _, l := range lots {
		f.Lots = append(f.Lots, views.Option{Value: l.BatchNumber, Label: l.ProductName + " (" + l.ProductGTIN + ")"})
	}
	return f, err
}

// showNewEvent is the event form; changing its type re-renders it (htmx
// fragment) with what was typed so far.
func (s *Server) showNewEvent(c *fiber.Ctx) error {
	f := eventFormFrom(c)
	if f.Action == "" && f.EventType != "TransformationEvent" {
		f.Action = "OBSERVE"
	}
	f, err := s.completeEventForm(c.UserContext(), c, f)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.NewEventPage(chromeFor(c, "Record event", "events"), f), views.EventFormID)
}

// recordEventFromForm records the event or shows the form again with its
// errors beside the fields (422).
func (s *Server) recordEventFromForm(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := eventFormFrom(c)
	isTransformation := f.EventType == "TransformationEvent"
	in := inventory.NewEvent{EventType: f.EventType, BizStep: f.BizStep, Disposition: f.Disposition,
		ReadPoint: f.ReadPoint, BizLocation: f.BizLocation, Notes: f.Notes, EventTimezone: f.EventTimezone}
	if !isTransformation {
		in.Action = f.Action
	}
	if f.EventTime != "" {
		t, err := parseLocalTime(f.EventTime, f.EventTimezone)
		if err != nil {
			f.Errors.Add("event_time", "must be a date and time")
		} else {
			in.EventTime = &t
		}
	}
	var numbers []string
	for _, rows := range [][]views.QuantityRow{f.Quantities, f.Inputs, f.Outputs} {
		for _, r := range rows {
			if r.Batch != "" {
				numbers = append(numbers, r.Batch)
			}
		}
	}
	lots, err := s.deps.Inventory.LotsByNumber(ctx, numbers)
	if err != nil {
		return err
	}
	f.LotChoices = map[string][]views.Option{}
	toItems := func(field string, rows []views.QuantityRow) []inventory.QuantityItem {
		items := make([]inventory.QuantityItem, 0, len(rows))
		for i, r := range rows {
			p := field + "[" + strconv.Itoa(i) + "]."
			it := inventory.QuantityItem{}
			if r.Batch == "" {
				f.Errors.Add(p+"batch_id", "is required")
			} else if lot, err := inventory.PickLot(lots[r.Batch], r.Batch, parseProductID(r.Product)); err != nil {
				f.Errors.Add(p+"batch_id", lotMessage(err, false))
				if choices := lotChoices(lots[r.Batch]); len(choices) > 0 {
					f.LotChoices[r.Batch] = choices
				}
			} else {
				it.BatchID = lot.BatchID
			}
			it.Quantity = parseQuantity(r.Quantity, p+"quantity", f.Errors)
			items = append(items, it)
		}
		return items
	}
	if isTransformation {
		in.InputQuantityList = toItems("input_quantity_list", f.Inputs)
		in.OutputQuantityList = toItems("output_quantity_list", f.Outputs)
	} else {
		in.QuantityList = toItems("quantity_list", f.Quantities)
	}
	status := fiber.StatusUnprocessableEntity
	if !f.Errors.Any() {
		e, err := s.deps.Inventory.RecordEvent(ctx, uiActor(c), in)
		if err == nil {
			return redirectAfterPost(c, "/events", e.EventType+" recorded.")
		}
		// A refused movement (too little stock, a lot not released) shows
		// in the form like an invalid field.
		if status, err = stockRefusal(f.Errors, err, ""); err != nil {
			return err
		}
	}
	f, err = s.completeEventForm(ctx, c, f)
	if err != nil {
		return err
	}
	return render(c, status, views.NewEventPage(chromeFor(c, "Record event", "events"), f), views.EventFormID)
}

// lotMessage words why a lot number names no single batch: as a sentence
// (the events filter), or to follow the field's name (the event form's rows).
func lotMessage(err error, sentence bool) string {
	var le *inventory.LotError
	if !errors.As(err, &le) {
		return err.Error()
	}
	switch {
	case len(le.Ambiguous) > 0:
		products := strconv.Itoa(len(le.Ambiguous)) + " products (" + strings.Join(le.Ambiguous, ", ") + "): choose the product"
		if sentence {
			return "Lot " + le.Number + " exists for " + products
		}
		return le.Number + " is a lot of " + products
	case le.Product:
		return "has no batch with number " + le.Number + " for the chosen product"
	case sentence:
		return "No batch has the number " + le.Number
	}
	return "has no batch with number " + le.Number
}

// lotChoices are the products of the lots a number names, to choose from.
func lotChoices(lots []inventory.Lot) []views.Option {
	out := make([]views.Option, 0, len(lots))
	for _, l := range lots {
		out = append(out, views.Option{Value: l.ProductID.String(), Label: l.ProductName + " (" + l.ProductGTIN + ")"})
	}
	return out
}

// parseProductID reads a row's product choice; anything but an id is none.
func parseProductID(s string) *uuid.UUID {
	id, err := uuid.Parse(s)
	if err != nil {
		return nil
	}
	return &id
}

// parseLocalTime reads a datetime-local value in the given UTC offset.
func parseLocalTime(s, offset string) (time.Time, error) {
	loc := time.Local
	if offset != "" {
		if t, err := time.Parse("-07:00", offset); err == nil {
			_, secs := t.Zone()
			loc = time.FixedZone(offset, secs)
		}
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &time.ParseError{Value: s}
}
