package web

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/views"
)

// destroyFromForm records stock of the lot destroyed or disposed of; an
// invalid or refused form comes back with its errors and entries.
func (s *Server) destroyFromForm(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f := views.DestroyForm{CSRF: csrfToken(c), BatchID: id.String(), Quantity: formValue(c, "quantity"),
		Disposition: formValue(c, "disposition"), Reason: formValue(c, "reason"), Errors: views.FieldErrors{}}
	req := inventory.DestroyRequest{BatchID: id, Disposition: f.Disposition, Reason: f.Reason}
	req.Quantity = parseQuantity(f.Quantity, "quantity", f.Errors)
	if f.Reason == "" {
		f.Errors.Add("reason", "is required: say why the stock was destroyed")
	}
	status := fiber.StatusUnprocessableEntity
	if !f.Errors.Any() {
		m, err := s.deps.Inventory.Destroy(ctx, uiActor(c), req)
		if err == nil {
			return redirectAfterPost(c, "/batches/"+id.String(), destroyedFlash(m, req))
		}
		if status, err = stockRefusal(f.Errors, err, "quantity"); err != nil {
			return err
		}
	}
	d, err := s.batchDetail(ctx, c, id)
	if err != nil {
		return err
	}
	f.Unit = d.Destroy.Unit
	d.Destroy = f
	if wantsFragment(c) {
		return render(c, status, views.DestroyFormView(f))
	}
	return render(c, status, views.BatchPage(chromeFor(c, "Batch "+d.Batch.BatchNumber, "batches"), d))
}

func destroyedFlash(m inventory.Movement, req inventory.DestroyRequest) string {
	verb := "Destroyed "
	if req.Disposition == "disposed" {
		verb = "Disposed of "
	}
	for _, b := range m.Batches {
		if b.ID == req.BatchID {
			unit := gs1.UnitName(b.UOM)
			return verb + req.Quantity.String() + " " + unit + "; " + b.QuantityAvailable.String() + " " + unit + " left."
		}
	}
	return verb + req.Quantity.String() + "."
}

// stockRefusal words a refused stock operation into field errors: invalid
// fields, not found, too little on hand, a lot that cannot be used. Other
// errors (lock timeouts, outages) go to the error handler. field is where a
// refusal about the quantity shows.
func stockRefusal(errs views.FieldErrors, err error, field string) (int, error) {
	if fe, ok := fieldErrors(err); ok {
		for k, v := range fe {
			errs.Add(k, v)
		}
		return fiber.StatusUnprocessableEntity, nil
	}
	var de inventory.Error
	if !errors.As(err, &de) {
		return 0, err
	}
	switch de.Kind() {
	case inventory.KindInsufficientQuantity, inventory.KindNotConsumable, inventory.KindConflict, inventory.KindStateConflict:
		// Next to the row the domain names, else where the form says.
		var iq *inventory.InsufficientQuantityError
		var ce *inventory.ConflictError
		switch {
		case errors.As(err, &iq) && iq.Field != "":
			field = iq.Field
		case errors.As(err, &ce) && ce.Field != "":
			field = ce.Field
		}
		errs.Add(field, de.Sentence())
		return fiber.StatusConflict, nil
	}
	return 0, err
}

// commissionOptions are the products and our locations the commission form offers.
func (s *Server) commissionOptions(ctx context.Context, c *fiber.Ctx, f views.CommissionForm) (views.CommissionForm, error) {
	products, locations, err := s.masterOptions(ctx)
	if err != nil {
		return f, err
	}
	ids := make([]uuid.UUID, 0, len(locations))
	for _, l := range locations {
		if id, err := uuid.Parse(l.Value); err == nil {
			ids = append(ids, id)
		}
	}
	ours, err := s.deps.Inventory.OurLocationIDs(ctx, ids)
	if err != nil {
		return f, err
	}
	f.Locations = nil
	for _, l := range locations {
		if id, err := uuid.Parse(l.Value); err == nil && ours[id] {
			f.Locations = append(f.Locations, l)
		}
	}
	f.CSRF, f.Products, f.Units = csrfToken(c), products, views.UnitOptions()
	return f, nil
}

func (s *Server) showCommission(c *fiber.Ctx) error {
	today := time.Now().Format(time.DateOnly)
	f, err := s.commissionOptions(c.UserContext(), c, views.CommissionForm{
		ProductID: queryValue(c, "product_id"), LocationID: queryValue(c, "location_id"),
		Stage: "harvesting", HarvestDate: today,
	})
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.CommissionPage(chromeFor(c, "Commission a lot", "batches"), f), views.CommissionFormID)
}

// commissionFromForm creates a lot with its KDEs and opens it; an invalid
// form comes back with its errors and everything typed (422).
func (s *Server) commissionFromForm(c *fiber.Ctx) error {
	ctx := c.UserContext()
	f := views.CommissionForm{
		ProductID: formValue(c, "product_id"), BatchNumber: formValue(c, "batch_number"),
		LocationID: formValue(c, "location_id"), Quantity: formValue(c, "quantity"), Unit: formValue(c, "unit"),
		Stage: formValue(c, "stage"), HarvestLocation: formValue(c, "harvest_location"), Field: formValue(c, "field"),
		HarvestDate: formValue(c, "harvest_date"), CoolingDate: formValue(c, "cooling_date"),
		PackingDate: formValue(c, "packing_date"), ExpiryDate: formValue(c, "expiry_date"), Errors: views.FieldErrors{},
	}
	req := inventory.CommissionRequest{BatchNumber: f.BatchNumber, Unit: f.Unit, Stage: f.Stage,
		HarvestLocation: f.HarvestLocation, Field: f.Field}
	req.ProductID = requiredUUID(f.ProductID, "product_id", "Choose a product", f.Errors)
	req.LocationID = requiredUUID(f.LocationID, "location_id", "Choose a location", f.Errors)
	req.Quantity = parseQuantity(f.Quantity, "quantity", f.Errors)
	req.HarvestDate = parseOptDate(f.HarvestDate, "harvest_date", f.Errors)
	req.CoolingDate = parseOptDate(f.CoolingDate, "cooling_date", f.Errors)
	req.PackingDate = parseOptDate(f.PackingDate, "packing_date", f.Errors)
	req.ExpiryDate = parseOptDate(f.ExpiryDate, "expiry_date", f.Errors)
	status := fiber.StatusUnprocessableEntity
	if !f.Errors.Any() {
		m, err := s.deps.Inventory.Commission(ctx, uiActor(c), req)
		if err == nil && len(m.Batches) > 0 {
			b := m.Batches[0]
			return redirectAfterPost(c, "/batches/"+b.ID.String(), "Lot "+b.BatchNumber+" commissioned: "+
				b.QuantityProduced.String()+" "+gs1.UnitName(b.UOM)+".")
		}
		if err == nil {
			return redirectAfterPost(c, "/batches", "Lot commissioned.")
		}
		if status, err = stockRefusal(f.Errors, err, "quantity"); err != nil {
			return err
		}
	}
	f, err := s.commissionOptions(ctx, c, f)
	if err != nil {
		return err
	}
	return render(c, status, views.CommissionPage(chromeFor(c, "Commission a lot", "batches"), f), views.CommissionFormID)
}
