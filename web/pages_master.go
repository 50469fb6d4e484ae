package web

import (
	"net/url"
	"slices"

	"github.com/gofiber/fiber/v2"

	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/views"
)

func (s *Server) showProducts(c *fiber.Ctx) error {
	ctx := c.UserContext()
	q := newQuery(c)
	m := views.ProductList{Q: q.str("q"), Category: q.str("category"), Query: url.Values{}}
	for k, v := range map[string]string{"q": m.Q, "category": m.Category} {
		if v != "" {
			m.Query.Set(k, v)
		}
	}
	cursor := q.str("cursor")
	if err := q.done(); err != nil {
		return err
	}
	m.Paged = cursor != ""
	page, err := s.deps.Inventory.ListProducts(ctx, inventory.ProductFilter{Q: m.Q, Category: m.Category}, inventory.ListOptions{Cursor: cursor, Limit: 50})
	if err != nil {
		return err
	}
	m.Products, m.NextCursor = page.Items, page.NextCursor
	if m.Categories, err = s.deps.Inventory.ProductCategories(ctx); err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.ProductsPage(chromeFor(c, "Products", "products"), m), views.ProductListID)
}

func (s *Server) showNewProduct(c *fiber.Ctx) error {
	f := views.ProductForm{CSRF: csrfToken(c), Unit: "H87", Units: views.UnitOptions()}
	return render(c, fiber.StatusOK, views.NewProductPage(chromeFor(c, "New product", "products"), f), views.ProductFormID)
}

func (s *Server) createProductFromForm(c *fiber.Ctx) error {
	f := views.ProductForm{
		CSRF: csrfToken(c), GTIN: formValue(c, "gtin"), Name: formValue(c, "name"), Description: formValue(c, "description"),
		Category: formValue(c, "category"), Unit: formValue(c, "unit"), Units: views.UnitOptions(), Errors: views.FieldErrors{},
		YieldMin: formValue(c, "yield_min"), YieldMax: formValue(c, "yield_max"),
	}
	if f.GTIN == "" {
		f.Errors.Add("gtin", "is required")
	}
	optQuantity := func(s, field string) *quantity.Quantity {
		if s == "" {
			return nil
		}
		q := parseQuantity(s, field, f.Errors)
		return &q
	}
	yieldMin, yieldMax := optQuantity(f.YieldMin, "yield_min"), optQuantity(f.YieldMax, "yield_max")
	if !f.Errors.Any() {
		p, err := s.deps.Inventory.CreateProduct(c.UserContext(), inventory.NewProduct{GTIN: f.GTIN, Name: f.Name,
			Description: f.Description, Category: f.Category, Unit: f.Unit, YieldMin: yieldMin, YieldMax: yieldMax})
		if err == nil {
			return redirectAfterPost(c, "/products", "Product "+p.Name+" created.")
		}
		fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		f.Errors = fe
	}
	return render(c, fiber.StatusUnprocessableEntity, views.NewProductPage(chromeFor(c, "New product", "products"), f), views.ProductFormID)
}

func (s *Server) showLocations(c *fiber.Ctx) error {
	q := newQuery(c)
	m := views.LocationList{Q: q.str("q"), Type: q.str("type"), Query: url.Values{}}
	for k, v := range map[string]string{"q": m.Q, "type": m.Type} {
		if v != "" {
			m.Query.Set(k, v)
		}
	}
	if m.Type != "" && !slices.Contains(inventory.LocationTypes, m.Type) {
		return validationProblem(inventory.FieldError{Field: "type", Message: "must be one of the location types"})
	}
	cursor := q.str("cursor")
	if err := q.done(); err != nil {
		return err
	}
	m.Paged = cursor != ""
	page, err := s.deps.Inventory.ListLocations(c.UserContext(), inventory.LocationFilter{Q: m.Q, Type: m.Type}, inventory.ListOptions{Cursor: cursor, Limit: 50})
	if err != nil {
		return err
	}
	m.Locations, m.NextCursor = page.Items, page.NextCursor
	return render(c, fiber.StatusOK, views.LocationsPage(chromeFor(c, "Locations", "locations"), m), views.LocationListID)
}

func (s *Server) locationForm(c *fiber.Ctx, f views.LocationForm) (views.LocationForm, error) {
	f.CSRF, f.Types = csrfToken(c), inventory.LocationTypes
	ls, err := s.deps.Inventory.ListLocations(c.UserContext(), inventory.LocationFilter{}, inventory.ListOptions{Limit: 200})
	if err != nil {
		return f, err
	}
	for _, l := range ls.Items {
		f.Parents = append(f.Parents, views.Option{Value: l.ID.String(), Label: l.Name})
	}
	ps, err := s.deps.Inventory.ListParties(c.UserContext(), inventory.PartyFilter{}, inventory.ListOptions{Limit: 200})
	if err != nil {
		return f, err
	}
	for _, p := range ps.Items {
		f.Parties = append(f.Parties, views.Option{Value: p.ID.String(), Label: p.Name + " (" + p.PGLN + ")"})
	}
	return f, nil
}

func (s *Server) showNewLocation(c *fiber.Ctx) error {
	f, err := s.locationForm(c, views.LocationForm{})
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.NewLocationPage(chromeFor(c, "New location", "locations"), f), views.LocationFormID)
}

func (s *Server) createLocationFromForm(c *fiber.Ctx) error {
	f := views.LocationForm{GLN: formValue(c, "gln"), Name: formValue(c, "name"), Type: formValue(c, "type"),
		Address: formValue(c, "address"), ParentID: formValue(c, "parent_id"), PartyID: formValue(c, "party_id"), Errors: views.FieldErrors{}}
	in := inventory.NewLocation{GLN: f.GLN, Name: f.Name, Type: f.Type, Address: f.Address}
	if f.GLN == "" {
		f.Errors.Add("gln", "is required")
	}
	in.ParentID = parseOptUUID(f.ParentID, "parent_id", "must be a location from the list", f.Errors)
	in.PartyID = parseOptUUID(f.PartyID, "party_id", "must be a partner from the list", f.Errors)
	if !f.Errors.Any() {
		l, err := s.deps.Inventory.CreateLocation(c.UserContext(), in)
		if err == nil {
			return redirectAfterPost(c, "/locations", "Location "+l.Name+" created.")
		}
		fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		f.Errors = fe
	}
	f, err := s.locationForm(c, f)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusUnprocessableEntity, views.NewLocationPage(chromeFor(c, "New location", "locations"), f), views.LocationFormID)
}

func (s *Server) showEditLocation(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	l, err := s.deps.Inventory.GetLocation(c.UserContext(), id)
	if err != nil {
		return err
	}
	f := views.LocationForm{ID: id.String(), GLN: l.GLN, Name: l.Name, Type: l.Type, Address: l.Address}
	if l.ParentID != nil {
		f.ParentID = l.ParentID.String()
	}
	if l.PartyID != nil {
		f.PartyID = l.PartyID.String()
	}
	if f, err = s.locationForm(c, f); err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.NewLocationPage(chromeFor(c, "Edit "+l.Name, "locations"), f), views.LocationFormID)
}

// saveLocation stores the whole form: an empty parent or partner is none.
func (s *Server) saveLocation(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	f := views.LocationForm{ID: id.String(), GLN: formValue(c, "gln"), Name: formValue(c, "name"), Type: formValue(c, "type"),
		Address: formValue(c, "address"), ParentID: formValue(c, "parent_id"), PartyID: formValue(c, "party_id"), Errors: views.FieldErrors{}}
	u := inventory.LocationUpdate{GLN: &f.GLN, Name: &f.Name, Type: &f.Type, Address: &f.Address, SetParent: true, SetParty: true}
	u.ParentID = parseOptUUID(f.ParentID, "parent_id", "must be a location from the list", f.Errors)
	u.PartyID = parseOptUUID(f.PartyID, "party_id", "must be a partner from the list", f.Errors)
	if !f.Errors.Any() {
		l, err := s.deps.Inventory.UpdateLocation(c.UserContext(), id, u)
		if err == nil {
			return redirectAfterPost(c, "/locations", "Location "+l.Name+" saved.")
		}
		fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		f.Errors = fe
	}
	if f, err = s.locationForm(c, f); err != nil {
		return err
	}
	return render(c, fiber.StatusUnprocessableEntity, views.NewLocationPage(chromeFor(c, "Edit location", "locations"), f), views.LocationFormID)
}
