package views

import (
	"net/url"
	"slices"
	"strings"

	"batchtrack/inventory"
)

const (
	PartyListID       = "party-list"
	PartyFormID       = "party-form"
	PartyImportFormID = "party-import-form"
)

// PartyList is the trading partners list with its filters.
type PartyList struct {
	Query      url.Values
	Q          string
	Role       string
	Parties    []inventory.Party
	NextCursor string
	Paged      bool
}

// PartyDetail is one party with its locations.
type PartyDetail struct {
	Party     inventory.Party
	Locations []inventory.Location
}

// PartyForm is the new- and edit-party form as typed. ID is empty for a
// new party.
type PartyForm struct {
	CSRF        string
	ID          string
	PGLN        string
	Name        string
	IsOwn       bool
	Roles       []string
	Address     string
	ContactName string
	Email       string
	Phone       string
	Notes       string
	Errors      FieldErrors
}

// Action is where the form posts.
func (f PartyForm) Action() string {
	if f.ID == "" {
		return "/parties"
	}
	return "/parties/" + f.ID + "/edit"
}

// HasRole says whether a role's box is ticked.
func (f PartyForm) HasRole(r string) bool { return slices.Contains(f.Roles, r) }

// PartyImportForm is the parties CSV import: the text, and after a check
// its rows.
type PartyImportForm struct {
	CSRF    string
	CSV     string
	Rows    []PartyImportRow
	Errors  FieldErrors // "" for the file as a whole
	Checked bool
}

// Valid says whether every row may be committed.
func (f PartyImportForm) Valid() bool {
	if !f.Checked || len(f.Rows) == 0 || f.Errors.Any() {
		return false
	}
	for _, r := range f.Rows {
		if len(r.Errors) > 0 {
			return false
		}
	}
	return true
}

// PartyImportRow is one CSV row as understood, with its problems. Line is
// the line of the file (the header is line 1).
type PartyImportRow struct {
	Line   int
	PGLN   string
	Name   string
	Roles  string
	Email  string
	Errors []string
}

func rolesText(p inventory.Party) string {
	roles := p.Roles
	if p.IsOwn {
		roles = append([]string{"own company"}, roles...)
	}
	if len(roles) == 0 {
		return "—"
	}
	return strings.Join(roles, ", ")
}

func partyLocationLabel(l inventory.Location) string {
	switch {
	case l.PartyName != "":
		return l.PartyName
	case l.PartyID == nil:
		return "Ours"
	}
	return "—"
}
