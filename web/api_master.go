package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

func (s *Server) listProducts(c *fiber.Ctx) error {
	q := newQuery(c)
	f := inventory.ProductFilter{Q: q.str("q"), Category: q.str("category")}
	opts := q.list()
	if err := q.done(); err != nil {
		return err
	}
	page, err := s.deps.Inventory.ListProducts(c.UserContext(), f, opts)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toList(page, toProductJSON))
}

type createProductRequest struct {
	GTIN        *string            `json:"gtin"`
	Name        *string            `json:"name"`
	Description string             `json:"description"`
	Category    string             `json:"category"`
	Unit        string             `json:"unit"`
	YieldMin    *quantity.Quantity `json:"yield_min"`
	YieldMax    *quantity.Quantity `json:"yield_max"`
}

func (s *Server) createProduct(c *fiber.Ctx) error {
	var req createProductRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "gtin", req.GTIN)
	required(&v, "name", req.Name)
	if err := v.OrNil(); err != nil {
		return err
	}
	p, err := s.deps.Inventory.CreateProduct(c.UserContext(), inventory.NewProduct{
		GTIN: *req.GTIN, Name: *req.Name, Description: req.Description, Category: req.Category, Unit: req.Unit,
		YieldMin: req.YieldMin, YieldMax: req.YieldMax,
	})
	if err != nil {
		return err
	}
	c.Location("/api/products/" + p.ID.String())
	return sendJSON(c, fiber.StatusCreated, toProductJSON(p))
}

func (s *Server) showProduct(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.deps.Inventory.GetProduct(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toProductJSON(p))
}

func (s *Server) listLocations(c *fiber.Ctx) error {
	q := newQuery(c)
	f := inventory.LocationFilter{Q: q.str("q"), Type: q.str("type")}
	opts := q.list()
	if err := q.done(); err != nil {
		return err
	}
	page, err := s.deps.Inventory.ListLocations(c.UserContext(), f, opts)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toList(page, toLocationJSON))
}

type createLocationRequest struct {
	GLN      *string    `json:"gln"`
	Name     *string    `json:"name"`
	Type     *string    `json:"type"`
	Address  string     `json:"address"`
	ParentID *uuid.UUID `json:"parent_id"`
	PartyID  *uuid.UUID `json:"party_id"`
}

func (s *Server) createLocation(c *fiber.Ctx) error {
	var req createLocationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "gln", req.GLN)
	required(&v, "name", req.Name)
	required(&v, "type", req.Type)
	if err := v.OrNil(); err != nil {
		return err
	}
	l, err := s.deps.Inventory.CreateLocation(c.UserContext(), inventory.NewLocation{
		GLN: *req.GLN, Name: *req.Name, Type: *req.Type, Address: req.Address, ParentID: req.ParentID,
		PartyID: req.PartyID,
	})
	if err != nil {
		return err
	}
	c.Location("/api/locations/" + l.ID.String())
	return sendJSON(c, fiber.StatusCreated, toLocationJSON(l))
}

func (s *Server) showLocation(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	l, err := s.deps.Inventory.GetLocation(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toLocationJSON(l))
}

type patchLocationRequest struct {
	GLN      *string      `json:"gln"`
	Name     *string      `json:"name"`
	Type     *string      `json:"type"`
	Address  *string      `json:"address"`
	ParentID nullableUUID `json:"parent_id"`
	PartyID  nullableUUID `json:"party_id"`
}

func (s *Server) patchLocation(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	if err := refuseIfMatch(c, "location"); err != nil {
		return err
	}
	var req patchLocationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	l, err := s.deps.Inventory.UpdateLocation(c.UserContext(), id, inventory.LocationUpdate{
		GLN: req.GLN, Name: req.Name, Type: req.Type, Address: req.Address,
		SetParent: req.ParentID.Set, ParentID: req.ParentID.Value, SetParty: req.PartyID.Set, PartyID: req.PartyID.Value,
	})
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toLocationJSON(l))
}

// refuseIfMatch answers 412 to a condition a resource without an ETag
// cannot meet (anything but "*").
func refuseIfMatch(c *fiber.Ctx, what string) error {
	if im := c.Get(fiber.HeaderIfMatch); im != "" && im != "*" {
		return problemError(fiber.StatusPreconditionFailed, "precondition-failed", "Precondition failed",
			"A "+what+" has no ETag to match; send the PATCH without If-Match.")
	}
	return nil
}

// required adds "is required" for a missing field.
func required[T any](v *inventory.ValidationError, field string, p *T) {
	if p == nil {
		v.Add(field, "is required")
	}
}
