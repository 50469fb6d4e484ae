package web

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/views"
)

// batchListQuery reads the batches list's filters as typed; m.Errors
// names the ones that do not parse and any parameter the list does not know.
func batchListQuery(c *fiber.Ctx) (views.BatchList, inventory.BatchFilter, inventory.ListOptions) {
	q := newQuery(c)
	m := views.BatchList{
		Q: q.str("q"), ProductID: q.str("product_id"), LocationID: q.str("location_id"),
		QualityStatus: q.str("quality_status"), ExpiringBefore: q.str("expiring_before"),
		Sort: q.str("sort"), Errors: views.FieldErrors{}, Query: url.Values{},
	}
	f := inventory.BatchFilter{Q: m.Q}
	for k, v := range map[string]string{"q": m.Q, "product_id": m.ProductID, "location_id": m.LocationID,
		"quality_status": m.QualityStatus, "expiring_before": m.ExpiringBefore, "sort": m.Sort} {
		if v != "" {
			m.Query.Set(k, v)
		}
	}
	f.ProductID = parseOptUUID(m.ProductID, "product_id", "must be a product from the list", m.Errors)
	f.LocationID = parseOptUUID(m.LocationID, "location_id", "must be a location from the list", m.Errors)
	if m.QualityStatus != "" {
		if inventory.QualityStatus(m.QualityStatus).Valid() {
			f.QualityStatus = m.QualityStatus
		} else {
			m.Errors.Add("quality_status", "Quality status must be one of the list")
		}
	}
	f.ExpiringBefore = parseOptDate(m.ExpiringBefore, "expiring_before", m.Errors)
	if !slices.Contains(inventory.BatchSorts, m.Sort) {
		m.Errors.Add("sort", "Sort must be one of the column headers")
		m.Sort = ""
	}
	cursor := q.str("cursor")
	q.unknownTo(m.Errors)
	m.Paged = cursor != ""
	return m, f, inventory.ListOptions{Cursor: cursor, Limit: 50}
}

func parseOptUUID(s, field, msg string, errs views.FieldErrors) *uuid.UUID {
	if s == "" {
		return nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		errs.Add(field, msg)
		return nil
	}
	return &id
}

func parseOptDate(s, field string, errs views.FieldErrors) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		errs.Add(field, "must be a date (YYYY-MM-DD)")
		return nil
	}
	return &t
}

// showBatches is the batches list; an htmx request gets only the table.
func (s *Server) showBatches(c *fiber.Ctx) error {
	ctx := c.UserContext()
	m, f, opts := batchListQuery(c)
	m.CSRF, m.Today = csrfToken(c), time.Now()
	status := fiber.StatusOK
	if m.Errors.Any() {
		status = fiber.StatusUnprocessableEntity
	} else {
		page, err := s.deps.Inventory.ListBatchesSorted(ctx, f, m.Sort, opts)
		if fe, ok := fieldErrors(err); ok {
			for k, v := range fe {
				m.Errors.Add(k, k+" "+v)
			}
			status = fiber.StatusUnprocessableEntity
		} else if err != nil {
			return err
		}
		m.Batches, m.NextCursor = page.Items, page.NextCursor
	}
	if !wantsFragment(c) {
		var err error
		if m.Products, m.Locations, err = s.masterOptions(ctx); err != nil {
			return err
		}
	}
	return render(c, status, views.BatchesPage(chromeFor(c, "Batches", "batches"), m), views.BatchListID)
}

// masterOptions are the products and locations to choose from in forms
// and filters (the first 200 of each by name).
func (s *Server) masterOptions(ctx context.Context) (products, locations []views.Option, err error) {
	ps, err := s.deps.Inventory.ListProducts(ctx, inventory.ProductFilter{}, inventory.ListOptions{Limit: 200})
	if err != nil {
		return nil, nil, err
	}
	for _, p := range ps.Items {
		products = append(products, views.Option{Value: p.ID.String(), Label: p.Name + " (" + p.GTIN + ")"})
	}
	ls, err := s.deps.Inventory.ListLocations(ctx, inventory.LocationFilter{}, inventory.ListOptions{Limit: 200})
	if err != nil {
		return nil, nil, err
	}
	for _, l := range ls.Items {
		locations = append(locations, views.Option{Value: l.ID.String(), Label: l.Name})
	}
	return products, locations, nil
}

func (s *Server) batchForm(ctx context.Context, c *fiber.Ctx, f views.BatchForm) (views.BatchForm, error) {
	var err error
	f.CSRF, f.Units = csrfToken(c), views.UnitOptions()
	f.Products, f.Locations, err = s.masterOptions(ctx)
	return f, err
}

func (s *Server) showNewBatch(c *fiber.Ctx) error {
	f, err := s.batchForm(c.UserContext(), c, views.BatchForm{
		ProductID: queryValue(c, "product_id"), LocationID: queryValue(c, "location_id"),
		ProductionDate: time.Now().Format(time.DateOnly), QualityStatus: string(inventory.StatusPending),
	})
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.NewBatchPage(chromeFor(c, "New batch", "batches"), f), views.NewBatchFormID)
}

// createBatchFromForm creates a batch from the new-batch form; an invalid
// form comes back with its errors and everything typed (422).
func (s *Server) createBatchFromForm(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := views.BatchForm{
		BatchNumber: formValue(c, "batch_number"), ProductID: formValue(c, "product_id"),
		LocationID: formValue(c, "location_id"), ProductionDate: formValue(c, "production_date"),
		ExpiryDate: formValue(c, "expiry_date"), BestBeforeDate: formValue(c, "best_before_date"),
		QuantityProduced: formValue(c, "quantity_produced"), UnitOfMeasure: formValue(c, "unit_of_measure"),
		QualityStatus: formValue(c, "quality_status"), Notes: formValue(c, "notes"), Errors: views.FieldErrors{},
	}
	in := inventory.NewBatch{BatchNumber: f.BatchNumber, UnitOfMeasure: f.UnitOfMeasure, QualityStatus: f.QualityStatus, Notes: f.Notes}
	in.ProductID = requiredUUID(f.ProductID, "product_id", "Choose a product", f.Errors)
	in.LocationID = requiredUUID(f.LocationID, "location_id", "Choose a location", f.Errors)
	if f.ProductionDate == "" {
		f.Errors.Add("production_date", "is required")
	} else if t := parseOptDate(f.ProductionDate, "production_date", f.Errors); t != nil {
		in.ProductionDate = *t
	}
	in.ExpiryDate = parseOptDate(f.ExpiryDate, "expiry_date", f.Errors)
	in.BestBeforeDate = parseOptDate(f.BestBeforeDate, "best_before_date", f.Errors)
	in.QuantityProduced = parseQuantity(f.QuantityProduced, "quantity_produced", f.Errors)
	if !f.Errors.Any() {
		b, err := s.deps.Inventory.CreateBatch(ctx, uiActor(c), in)
		if err == nil {
			return redirectAfterPost(c, "/batches/"+b.ID.String(), "Batch "+b.BatchNumber+" created.")
		}
		fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		for k, v := range fe {
			f.Errors.Add(k, v)
		}
	}
	f, err := s.batchForm(ctx, c, f)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusUnprocessableEntity, views.NewBatchPage(chromeFor(c, "New batch", "batches"), f), views.NewBatchFormID)
}

func requiredUUID(s, field, missing string, errs views.FieldErrors) uuid.UUID {
	if s == "" {
		errs.Add(field, missing)
		return uuid.Nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		errs.Add(field, missing+" from the list")
		return uuid.Nil
	}
	return id
}

// parseQuantity reads a required positive decimal, wording the error.
func parseQuantity(s, field string, errs views.FieldErrors) quantity.Quantity {
	if s == "" {
		errs.Add(field, "is required")
		return 0
	}
	q, err := quantity.Parse(s)
	switch {
	case errors.Is(err, quantity.ErrPrecision), errors.Is(err, quantity.ErrRange):
		errs.Add(field, err.Error())
	case err != nil:
		errs.Add(field, quantity.ErrSyntax.Error())
	case q <= 0:
		errs.Add(field, "must be greater than 0")
	}
	return q
}
