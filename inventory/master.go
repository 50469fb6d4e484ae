package inventory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/gs1"
	"batchtrack/idempotency"
	"batchtrack/quantity"
)

// unitChoices is the message for a unit batchtrack does not know.
var unitChoices = func() string {
	var names, codes []string
	for _, u := range gs1.Units() {
		names, codes = append(names, u.Name), append(codes, u.Code)
	}
	return "must be one of " + strings.Join(names, ", ") + " or their UN/ECE Rec 20 codes (" + strings.Join(codes, ", ") + ")"
}()

// LocationTypes are the kinds of location in the supply chain.
var LocationTypes = []string{"farm", "factory", "warehouse", "distributor", "retailer"}

// NewProduct is the input for CreateProduct.
type NewProduct struct {
	GTIN        string
	Name        string
	Description string
	Category    string
	Unit        string // a Rec 20 code or its name ("KGM", "kg"); default H87 (unit)
	// YieldMin and YieldMax bound a transformation's output over input
	// (in a common unit) making this product; outside, it needs a reason.
	YieldMin, YieldMax *quantity.Quantity
}

// CreateProduct validates and stores a product, its GTIN normalised to 14.
func (s *Service) CreateProduct(ctx context.Context, in NewProduct) (Product, error) {
	var v ValidationError
	gtin, err := gs1.NormalizeGTIN(strings.TrimSpace(in.GTIN))
	if err != nil {
		v.Add("gtin", err.Error())
	}
	checkText(&v, "name", in.Name, 1, 200)
	checkText(&v, "description", in.Description, 0, 2000)
	checkText(&v, "category", in.Category, 0, 100)
	uom := "H87"
	if in.Unit != "" {
		u, ok := gs1.LookupUnit(in.Unit)
		if !ok {
			v.Add("unit", unitChoices)
		}
		uom = u.Code
	}
	for _, y := range []struct {
		field string
		v     *quantity.Quantity
	}{{"yield_min", in.YieldMin}, {"yield_max", in.YieldMax}} {
		if y.v != nil && (*y.v <= 0 || *y.v > quantity.MustParse("99999")) {
			v.Add(y.field, "must be a ratio greater than 0, such as 0.85")
		}
	}
	if in.YieldMin != nil && in.YieldMax != nil && *in.YieldMin > *in.YieldMax {
		v.Add("yield_max", "must not be below yield_min")
	}
	if err := v.OrNil(); err != nil {
		return Product{}, err
	}
	if p, ok, err := idempotency.Replay[Product](ctx); ok {
		return p, err
	}
	var p Product
	err = s.store.InTx(ctx, db.TxOptions{}, func(q *db.Queries) error {
		row, err := q.CreateProduct(ctx, db.CreateProductParams{
			Gtin: gtin, Name: strings.TrimSpace(in.Name), Description: in.Description,
			Category: strings.TrimSpace(in.Category), Unit: uom, YieldMin: in.YieldMin, YieldMax: in.YieldMax,
		})
		if errors.Is(db.Translate(err), db.ErrConflict) {
			return &ConflictError{Field: "gtin", Message: "a product with GTIN " + gtin + " already exists"}
		}
		if err != nil {
			return err
		}
		p = productFromRow(row)
		return idempotency.Keep(ctx, q, p)
	})
	return p, unwrapDomain(err)
}

// GetProduct returns one product.
func (s *Service) GetProduct(ctx context.Context, id uuid.UUID) (Product, error) {
	row, err := s.store.GetProduct(ctx, id)
	if err != nil {
		return Product{}, notFound(err, "product", "")
	}
	return productFromRow(row), nil
}

// ProductFilter narrows ListProducts.
type ProductFilter struct {
	Q        string
	Category string
}

// ListProducts lists products by name.
func (s *Service) ListProducts(ctx context.Context, f ProductFilter, opts ListOptions) (Page[Product], error) {
	var v ValidationError
	limit := opts.limit(&v)
	cur := decodeCursor(opts.Cursor, "n", &v)
	if err := v.OrNil(); err != nil {
		return Page[Product]{}, err
	}
	p := db.ListProductsParams{Q: optText(f.Q), Category: optText(f.Category), RowLimit: limit + 1}
	if cur != nil {
		p.AfterName, p.AfterID = cur.Name, &cur.ID
	}
	rows, err := s.store.ListProducts(ctx, p)
	if err != nil {
		return Page[Product]{}, err
	}
	return pageOf(rows, limit, productFromRow, func(last Product) string {
		return cursor{Name: &last.Name, ID: last.ID}.encode()
	}), nil
}

// ProductCategories lists the categories in use.
func (s *Service) ProductCategories(ctx context.Context) ([]string, error) {
	return s.store.ListProductCategories(ctx)
}

// NewLocation is the input for CreateLocation.
type NewLocation struct {
	GLN      string
	Name     string
	Type     string
	Address  string
	ParentID *uuid.UUID
	PartyID  *uuid.UUID // the partner whose location it is; nil for ours
}

// CreateLocation validates and stores a location.
func (s *Service) CreateLocation(ctx context.Context, in NewLocation) (Location, error) {
	var v ValidationError
	gln := strings.TrimSpace(in.GLN)
	if err := gs1.ValidateGLN(gln); err != nil {
		v.Add("gln", err.Error())
	}
	checkText(&v, "name", in.Name, 1, 200)
	checkText(&v, "address", in.Address, 0, 500)
	if !slices.Contains(LocationTypes, in.Type) {
		v.Add("type", "must be one of "+strings.Join(LocationTypes, ", "))
	}
	if err := v.OrNil(); err != nil {
		return Location{}, err
	}
	if l, ok, err := idempotency.Replay[Location](ctx); ok {
		return l, err
	}
	var l Location
	err := s.store.InTx(ctx, db.TxOptions{}, func(q *db.Queries) error {
		if in.PartyID != nil {
			if _, err := q.GetParty(ctx, *in.PartyID); err != nil {
				return notFound(err, "party", "party_id")
			}
		}
		row, err := q.CreateLocation(ctx, db.CreateLocationParams{
			Gln: gln, Name: strings.TrimSpace(in.Name), Type: in.Type, Address: in.Address, ParentID: in.ParentID,
			PartyID: in.PartyID,
		})
		switch err := db.Translate(err); {
		case errors.Is(err, db.ErrConflict):
			return &ConflictError{Field: "gln", Message: "a location with GLN " + gln + " already exists"}
		case errors.Is(err, db.ErrForeignKey):
			return &NotFoundError{What: "parent location", Field: "parent_id"}
		case err != nil:
			return err
		}
		full, err := q.GetLocationWithParty(ctx, row.ID)
		if err != nil {
			return err
		}
		l = locationWithParty(full.Location, full.PartyName, full.Ours)
		return idempotency.Keep(ctx, q, l)
	})
	return l, unwrapDomain(err)
}

// LocationUpdate holds the fields a PATCH may change; nil leaves a field
// as is. SetParent and SetParty change the parent or the party, to none
// when the ID is nil.
type LocationUpdate struct {
	GLN       *string
	Name      *string
	Type      *string
	Address   *string
	SetParent bool
	ParentID  *uuid.UUID
	SetParty  bool
	PartyID   *uuid.UUID
}

// UpdateLocation changes the fields u names.
func (s *Service) UpdateLocation(ctx context.Context, id uuid.UUID, u LocationUpdate) (Location, error) {
	if l, ok, err := idempotency.Replay[Location](ctx); ok {
		return l, err
	}
	var l Location
	err := s.store.InTx(ctx, db.TxOptions{LockTimeout: s.lockTimeout}, func(q *db.Queries) error {
		cur, err := q.LockLocation(ctx, id)
		if err != nil {
			return notFound(err, "location", "")
		}
		next := db.UpdateLocationParams{ID: id, Gln: cur.Gln, Name: cur.Name, Type: cur.Type, Address: cur.Address,
			ParentID: cur.ParentID, PartyID: cur.PartyID}
		if u.GLN != nil {
			next.Gln = strings.TrimSpace(*u.GLN)
		}
		if u.Name != nil {
			next.Name = strings.TrimSpace(*u.Name)
		}
		if u.Type != nil {
			next.Type = *u.Type
		}
		if u.Address != nil {
			next.Address = *u.Address
		}
		if u.SetParent {
			next.ParentID = u.ParentID
		}
		if u.SetParty {
			next.PartyID = u.PartyID
		}
		var v ValidationError
		if err := gs1.ValidateGLN(next.Gln); err != nil {
			v.Add("gln", err.Error())
		}
		checkText(&v, "name", next.Name, 1, 200)
		checkText(&v, "address", next.Address, 0, 500)
		if !slices.Contains(LocationTypes, next.Type) {
			v.Add("type", "must be one of "+strings.Join(LocationTypes, ", "))
		}
		if err := v.OrNil(); err != nil {
			return err
		}
		if u.SetParent && next.ParentID != nil {
			above, err := q.LocationAncestors(ctx, *next.ParentID)
			if err != nil {
				return err
			}
			if len(above) == 0 {
				return &NotFoundError{What: "parent location", Field: "parent_id"}
			}
			if slices.Contains(above, id) {
				return Invalid("parent_id", "must not be the location itself or one inside it")
			}
		}
		if u.SetParty && next.PartyID != nil {
			if _, err := q.GetParty(ctx, *next.PartyID); err != nil {
				return notFound(err, "party", "party_id")
			}
		}
		if _, err := q.UpdateLocation(ctx, next); err != nil {
			if errors.Is(db.Translate(err), db.ErrConflict) {
				return &ConflictError{Field: "gln", Message: "a location with GLN " + next.Gln + " already exists"}
			}
			return err
		}
		full, err := q.GetLocationWithParty(ctx, id)
		if err != nil {
			return err
		}
		l = locationWithParty(full.Location, full.PartyName, full.Ours)
		return idempotency.Keep(ctx, q, l)
	})
	return l, unwrapDomain(err)
}

// GetLocation returns one location.
func (s *Service) GetLocation(ctx context.Context, id uuid.UUID) (Location, error) {
	row, err := s.store.GetLocationWithParty(ctx, id)
	if err != nil {
		return Location{}, notFound(err, "location", "")
	}
	return locationWithParty(row.Location, row.PartyName, row.Ours), nil
}

// LocationFilter narrows ListLocations.
type LocationFilter struct {
	Q    string
	Type string
}

// ListLocations lists locations by name.
func (s *Service) ListLocations(ctx context.Context, f LocationFilter, opts ListOptions) (Page[Location], error) {
	var v ValidationError
	limit := opts.limit(&v)
	cur := decodeCursor(opts.Cursor, "n", &v)
	if f.Type != "" && !slices.Contains(LocationTypes, f.Type) {
		v.Add("type", "must be one of "+strings.Join(LocationTypes, ", "))
	}
	if err := v.OrNil(); err != nil {
		return Page[Location]{}, err
	}
	p := db.ListLocationsParams{Q: optText(f.Q), Type: optText(f.Type), RowLimit: limit + 1}
	if cur != nil {
		p.AfterName, p.AfterID = cur.Name, &cur.ID
	}
	rows, err := s.store.ListLocations(ctx, p)
	if err != nil {
		return Page[Location]{}, err
	}
	return pageOf(rows, limit, func(r db.ListLocationsRow) Location {
		return locationWithParty(r.Location, r.PartyName, r.Ours)
	}, func(last Location) string {
		return cursor{Name: &last.Name, ID: last.ID}.encode()
	}), nil
}

func productFromRow(r db.Product) Product {
	return Product{ID: r.ID, GTIN: r.Gtin, Name: r.Name, Description: r.Description, Category: r.Category,
		UOM: r.Unit, YieldMin: r.YieldMin, YieldMax: r.YieldMax, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func locationWithParty(r db.Location, partyName string, ours bool) Location {
	return Location{ID: r.ID, GLN: r.Gln, Name: r.Name, Type: r.Type, Address: r.Address, ParentID: r.ParentID,
		PartyID: r.PartyID, PartyName: partyName, Ours: ours || r.PartyID == nil, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// checkText validates a free-text field's length in characters. Any text
// is stored verbatim (escaping is the views' job), but control characters
// other than newlines and tabs are refused.
func checkText(v *ValidationError, field, s string, minLen, maxLen int) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		v.Add(field, "must be valid UTF-8 text")
	case minLen > 0 && strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case n < minLen:
		v.Add(field, "is too short")
	case n > maxLen:
		v.Add(field, "must be at most "+itoa(maxLen)+" characters")
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f }):
		v.Add(field, "must not contain control characters")
	}
}

func optText(s string) *string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return &s
}

// notFound turns the database's no-rows into a NotFoundError.
func notFound(err error, what, field string) error {
	if errors.Is(db.Translate(err), db.ErrNotFound) {
		return &NotFoundError{What: what, Field: field}
	}
	return err
}
