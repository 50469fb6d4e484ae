package web

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"batchtrack/inventory"
	"batchtrack/views"
)

func (s *Server) showParties(c *fiber.Ctx) error {
	q := newQuery(c)
	m := views.PartyList{Q: q.str("q"), Role: q.str("role"), Query: url.Values{}}
	for k, v := range map[string]string{"q": m.Q, "role": m.Role} {
		if v != "" {
			m.Query.Set(k, v)
		}
	}
	if m.Role != "" && !slices.Contains(inventory.PartyRoles, m.Role) {
		return validationProblem(inventory.FieldError{Field: "role", Message: "must be one of " + strings.Join(inventory.PartyRoles, ", ")})
	}
	cursor := q.str("cursor")
	if err := q.done(); err != nil {
		return err
	}
	m.Paged = cursor != ""
	page, err := s.deps.Inventory.ListParties(c.UserContext(), inventory.PartyFilter{Q: m.Q, Role: m.Role}, inventory.ListOptions{Cursor: cursor, Limit: 50})
	if err != nil {
		return err
	}
	m.Parties, m.NextCursor = page.Items, page.NextCursor
	return render(c, fiber.StatusOK, views.PartiesPage(chromeFor(c, "Trading partners", "parties"), m), views.PartyListID)
}

func (s *Server) showPartyPage(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	p, err := s.deps.Inventory.GetParty(ctx, id)
	if err != nil {
		return err
	}
	ls, err := s.deps.Inventory.PartyLocations(ctx, id)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.PartyPage(chromeFor(c, p.Name, "parties"), views.PartyDetail{Party: p, Locations: ls}))
}

func (s *Server) showNewParty(c *fiber.Ctx) error {
	f := views.PartyForm{CSRF: csrfToken(c)}
	return render(c, fiber.StatusOK, views.PartyFormPage(chromeFor(c, "New partner", "parties"), f), views.PartyFormID)
}

// partyFromForm reads the party form as typed.
func partyFromForm(c *fiber.Ctx) views.PartyForm {
	return views.PartyForm{
		CSRF: csrfToken(c), PGLN: formValue(c, "pgln"), Name: formValue(c, "name"), IsOwn: formValue(c, "is_own") == "true",
		Roles: formValues(c, "roles"), Address: formValue(c, "address"), ContactName: formValue(c, "contact_name"),
		Email: formValue(c, "email"), Phone: formValue(c, "phone"), Notes: strings.Clone(c.FormValue("notes")),
		Errors: views.FieldErrors{},
	}
}

func (s *Server) createPartyFromForm(c *fiber.Ctx) error {
	f := partyFromForm(c)
	p, err := s.deps.Inventory.CreateParty(c.UserContext(), inventory.NewParty{PGLN: f.PGLN, Name: f.Name, IsOwn: f.IsOwn,
		Roles: f.Roles, Address: f.Address, ContactName: f.ContactName, Email: f.Email, Phone: f.Phone, Notes: f.Notes})
	if err == nil {
		return redirectAfterPost(c, "/parties/"+p.ID.String(), "Partner "+p.Name+" created.")
	}
	fe, ok := fieldErrors(err)
	if !ok {
		return err
	}
	f.Errors = fe
	return render(c, fiber.StatusUnprocessableEntity, views.PartyFormPage(chromeFor(c, "New partner", "parties"), f), views.PartyFormID)
}

func (s *Server) showEditParty(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.deps.Inventory.GetParty(c.UserContext(), id)
	if err != nil {
		return err
	}
	f := views.PartyForm{CSRF: csrfToken(c), ID: id.String(), PGLN: p.PGLN, Name: p.Name, IsOwn: p.IsOwn, Roles: p.Roles,
		Address: p.Address, ContactName: p.ContactName, Email: p.Email, Phone: p.Phone, Notes: p.Notes}
	return render(c, fiber.StatusOK, views.PartyFormPage(chromeFor(c, "Edit "+p.Name, "parties"), f), views.PartyFormID)
}

// saveParty stores the whole form: every field as typed, the boxes not
// ticked as roles the party no longer has.
func (s *Server) saveParty(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	f := partyFromForm(c)
	f.ID = id.String()
	p, err := s.deps.Inventory.UpdateParty(c.UserContext(), id, inventory.PartyUpdate{PGLN: &f.PGLN, Name: &f.Name,
		IsOwn: &f.IsOwn, Roles: &f.Roles, Address: &f.Address, ContactName: &f.ContactName, Email: &f.Email,
		Phone: &f.Phone, Notes: &f.Notes})
	if err == nil {
		return redirectAfterPost(c, "/parties/"+p.ID.String(), "Partner "+p.Name+" saved.")
	}
	fe, ok := fieldErrors(err)
	if !ok {
		return err
	}
	f.Errors = fe
	return render(c, fiber.StatusUnprocessableEntity, views.PartyFormPage(chromeFor(c, "Edit partner", "parties"), f), views.PartyFormID)
}

// Parties CSV import: a preview that checks every row, then a commit of
// all rows in one transaction.

func (s *Server) showPartyImport(c *fiber.Ctx) error {
	f := views.PartyImportForm{CSRF: csrfToken(c), CSV: strings.Join(inventory.PartyCSVColumns, ",") + "\n"}
	return render(c, fiber.StatusOK, views.PartyImportPage(chromeFor(c, "Import partners", "parties"), f), views.PartyImportFormID)
}

func (s *Server) previewPartyImport(c *fiber.Ctx) error {
	text, err := importText(c)
	if err != nil {
		return err
	}
	f, _, err := s.checkPartyImport(c, text)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if !f.Valid() {
		status = fiber.StatusUnprocessableEntity
	}
	return render(c, status, views.PartyImportPage(chromeFor(c, "Import partners", "parties"), f), views.PartyImportFormID)
}

func (s *Server) commitPartyImport(c *fiber.Ctx) error {
	text, err := importText(c)
	if err != nil {
		return err
	}
	f, rows, err := s.checkPartyImport(c, text)
	if err != nil {
		return err
	}
	if f.Valid() {
		parties, err := s.deps.Inventory.ImportParties(c.UserContext(), inventory.Actor{Name: actor(c).Name, Source: "import"}, rows)
		if err == nil {
			return redirectAfterPost(c, "/parties", "Imported "+strconv.Itoa(len(parties))+" partners.")
		}
		fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		applyPartyRowErrors(&f, fe)
	}
	return render(c, fiber.StatusUnprocessableEntity, views.PartyImportPage(chromeFor(c, "Import partners", "parties"), f), views.PartyImportFormID)
}

// checkPartyImport parses the CSV and runs the domain's checks on every
// row, putting each error on its row.
func (s *Server) checkPartyImport(c *fiber.Ctx, text string) (views.PartyImportForm, []inventory.NewParty, error) {
	f := views.PartyImportForm{CSRF: csrfToken(c), CSV: text, Checked: true, Errors: views.FieldErrors{}}
	rows, err := inventory.ParsePartiesCSV(strings.NewReader(text))
	var ve *inventory.ValidationError
	if errors.As(err, &ve) {
		var msgs []string
		for _, fe := range ve.Fields {
			msgs = append(msgs, "The CSV "+fe.Message+".")
		}
		f.Errors.Add("", strings.Join(msgs, " "))
		return f, nil, nil
	} else if err != nil {
		return f, nil, err
	}
	for i, r := range rows {
		f.Rows = append(f.Rows, views.PartyImportRow{Line: i + 2, PGLN: r.PGLN, Name: r.Name,
			Roles: strings.Join(r.Roles, ", "), Email: r.Email})
	}
	if err := s.deps.Inventory.CheckPartyImport(c.UserContext(), rows); err != nil {
		fe, ok := fieldErrors(err)
		if !ok {
			return f, nil, err
		}
		applyPartyRowErrors(&f, fe)
	}
	return f, rows, nil
}

// applyPartyRowErrors puts "rows[i].field" errors on their rows, in the
// order of the fields.
func applyPartyRowErrors(f *views.PartyImportForm, fe views.FieldErrors) {
	for _, k := range sortedKeys(fe) {
		m := rowField.FindStringSubmatch(k)
		if m == nil {
			f.Errors.Add("", k+" "+fe[k])
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i < len(f.Rows) {
			f.Rows[i].Errors = append(f.Rows[i].Errors, m[2]+" "+fe[k])
		}
	}
}
