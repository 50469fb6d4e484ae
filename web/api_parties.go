package web

import (
	"bytes"
	"io"
	"mime"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
)

type partyJSON struct {
	ID          uuid.UUID       `json:"id"`
	PGLN        string          `json:"pgln"`
	Name        string          `json:"name"`
	IsOwn       bool            `json:"is_own"`
	Roles       []string        `json:"roles"`
	Role        string          `json:"role"` // api.md v2: own, or the first of roles ("" for none)
	Address     string          `json:"address"`
	ContactName string          `json:"contact_name"`
	Contact     string          `json:"contact"` // api.md v2's name for contact_name
	Email       string          `json:"email"`
	Phone       string          `json:"phone"`
	Notes       string          `json:"notes"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Locations   *[]locationJSON `json:"locations,omitempty"`
}

func toPartyJSON(p inventory.Party) partyJSON {
	role, roles := "", p.Roles
	if roles == nil {
		roles = []string{}
	}
	switch {
	case p.IsOwn:
		role = "own"
	case len(p.Roles) > 0:
		role = p.Roles[0]
	}
	return partyJSON{ID: p.ID, PGLN: p.PGLN, Name: p.Name, IsOwn: p.IsOwn, Roles: roles, Role: role,
		Address: p.Address, ContactName: p.ContactName, Contact: p.ContactName, Email: p.Email, Phone: p.Phone,
		Notes: p.Notes, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (s *Server) listParties(c *fiber.Ctx) error {
	q := newQuery(c)
	f := inventory.PartyFilter{Q: q.str("q"), Role: q.str("role")}
	f.Own = q.boolean("own")
	opts := q.list()
	if err := q.done(); err != nil {
		return err
	}
	page, err := s.deps.Inventory.ListParties(c.UserContext(), f, opts)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toList(page, toPartyJSON))
}

type createPartyRequest struct {
	PGLN        *string  `json:"pgln"`
	Name        *string  `json:"name"`
	IsOwn       bool     `json:"is_own"`
	Roles       []string `json:"roles"`
	Role        string   `json:"role"` // api.md v2: one of own, supplier, customer, carrier
	Address     string   `json:"address"`
	ContactName string   `json:"contact_name"`
	Contact     string   `json:"contact"`
	Email       string   `json:"email"`
	Phone       string   `json:"phone"`
	Notes       string   `json:"notes"`
}

func (s *Server) createParty(c *fiber.Ctx) error {
	var req createPartyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "pgln", req.PGLN)
	required(&v, "name", req.Name)
	if err := v.OrNil(); err != nil {
		return err
	}
	in := inventory.NewParty{PGLN: *req.PGLN, Name: *req.Name, IsOwn: req.IsOwn, Roles: req.Roles, Address: req.Address,
		ContactName: req.ContactName, Email: req.Email, Phone: req.Phone, Notes: req.Notes}
	switch req.Role {
	case "":
	case "own":
		in.IsOwn = true
	default:
		in.Roles = append(in.Roles, req.Role)
	}
	if in.ContactName == "" {
		in.ContactName = req.Contact
	}
	p, err := s.deps.Inventory.CreateParty(c.UserContext(), in)
	if err != nil {
		return err
	}
	c.Location("/api/parties/" + p.ID.String())
	return sendJSON(c, fiber.StatusCreated, toPartyJSON(p))
}

func (s *Server) showParty(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.deps.Inventory.GetParty(c.UserContext(), id)
	if err != nil {
		return err
	}
	ls, err := s.deps.Inventory.PartyLocations(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := toPartyJSON(p)
	locs := make([]locationJSON, len(ls))
	for i, l := range ls {
		locs[i] = toLocationJSON(l)
	}
	out.Locations = &locs
	return sendJSON(c, fiber.StatusOK, out)
}

type patchPartyRequest struct {
	PGLN        *string   `json:"pgln"`
	Name        *string   `json:"name"`
	IsOwn       *bool     `json:"is_own"`
	Roles       *[]string `json:"roles"`
	Address     *string   `json:"address"`
	ContactName *string   `json:"contact_name"`
	Email       *string   `json:"email"`
	Phone       *string   `json:"phone"`
	Notes       *string   `json:"notes"`
}

func (s *Server) patchParty(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	if err := refuseIfMatch(c, "party"); err != nil {
		return err
	}
	var req patchPartyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Roles != nil && *req.Roles == nil {
		*req.Roles = []string{}
	}
	p, err := s.deps.Inventory.UpdateParty(c.UserContext(), id, inventory.PartyUpdate{
		PGLN: req.PGLN, Name: req.Name, IsOwn: req.IsOwn, Roles: req.Roles, Address: req.Address,
		ContactName: req.ContactName, Email: req.Email, Phone: req.Phone, Notes: req.Notes,
	})
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toPartyJSON(p))
}

// importParties takes a CSV as the body (text/csv), or as the file of a
// multipart form like the batches import page's.
func (s *Server) importParties(c *fiber.Ctx) error {
	var body []byte
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	switch mt {
	case "text/csv", "text/plain":
		body = c.Body()
	case fiber.MIMEMultipartForm:
		fh, err := c.FormFile("file")
		if err != nil {
			return validationProblem(inventory.FieldError{Field: "file", Message: "is required: a CSV file"})
		}
		f, err := fh.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		if body, err = io.ReadAll(io.LimitReader(f, BodyLimit)); err != nil {
			return err
		}
	default:
		return problemError(fiber.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"Send the parties as text/csv, or as the file field of a multipart/form-data form.")
	}
	rows, err := inventory.ParsePartiesCSV(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))))
	if err != nil {
		return err
	}
	parties, err := s.deps.Inventory.ImportParties(c.UserContext(), inventory.Actor{Name: actor(c).Name, Source: "import"}, rows)
	if err != nil {
		return err
	}
	items := make([]partyJSON, len(parties))
	for i, p := range parties {
		items[i] = toPartyJSON(p)
	}
	return sendJSON(c, fiber.StatusCreated, map[string]any{"items": items})
}
