package inventory

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/gs1"
	"batchtrack/idempotency"
)

// PartyRoles are what a trading partner may be to us.
var PartyRoles = []string{"supplier", "customer", "carrier"}

// PartyCSVColumns are the header names ImportParties' CSV reads.
var PartyCSVColumns = []string{"pgln", "name", "roles", "address", "contact_name", "email", "phone", "notes"}

// Party is a trading partner, or our own company (IsOwn), identified by
// its PGLN (a GLN for a party).
type Party struct {
	ID          uuid.UUID
	PGLN        string
	Name        string
	IsOwn       bool
	Roles       []string
	Address     string
	ContactName string
	Email       string
	Phone       string
	Notes       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewParty is the input for CreateParty and ImportParties.
type NewParty struct {
	PGLN        string
	Name        string
	IsOwn       bool
	Roles       []string
	Address     string
	ContactName string
	Email       string
	Phone       string
	Notes       string
}

// PartyUpdate holds the fields a PATCH may change; nil leaves a field as is.
type PartyUpdate struct {
	PGLN        *string
	Name        *string
	IsOwn       *bool
	Roles       *[]string
	Address     *string
	ContactName *string
	Email       *string
	Phone       *string
	Notes       *string
}

// PartyFilter narrows ListParties. Q matches a part of the name or the
// start of the PGLN; Own nil is any party.
type PartyFilter struct {
	Q    string
	Role string
	Own  *bool
}

// CreateParty validates and stores a party. At most one party is our own.
func (s *Service) CreateParty(ctx context.Context, in NewParty) (Party, error) {
	var v ValidationError
	p := cleanParty(in)
	checkParty(&v, "", p)
	if err := v.OrNil(); err != nil {
		return Party{}, err
	}
	if out, ok, err := idempotency.Replay[Party](ctx); ok {
		return out, err
	}
	var out Party
	err := s.store.InTx(ctx, db.TxOptions{}, func(q *db.Queries) error {
		if p.IsOwn {
			if err := checkOneOwn(ctx, q, nil); err != nil {
				return err
			}
		}
		row, err := insertParty(ctx, q, "", p)
		if err != nil {
			return err
		}
		out = partyFromRow(row)
		return idempotency.Keep(ctx, q, out)
	})
	return out, unwrapDomain(err)
}

// GetParty returns one party.
func (s *Service) GetParty(ctx context.Context, id uuid.UUID) (Party, error) {
	row, err := s.store.GetParty(ctx, id)
	if err != nil {
		return Party{}, notFound(err, "party", "")
	}
	return partyFromRow(row), nil
}

// UpdateParty changes the fields u names.
func (s *Service) UpdateParty(ctx context.Context, id uuid.UUID, u PartyUpdate) (Party, error) {
	if out, ok, err := idempotency.Replay[Party](ctx); ok {
		return out, err
	}
	var out Party
	err := s.store.InTx(ctx, db.TxOptions{LockTimeout: s.lockTimeout}, func(q *db.Queries) error {
		cur, err := q.LockParty(ctx, id)
		if err != nil {
			return notFound(err, "party", "")
		}
		next := NewParty{PGLN: cur.Pgln, Name: cur.Name, IsOwn: cur.IsOwn, Roles: cur.Roles, Address: cur.Address,
			ContactName: cur.ContactName, Email: cur.Email, Phone: cur.Phone, Notes: cur.Notes}
		set := func(dst *string, src *string) {
			if src != nil {
				*dst = *src
			}
		}
		set(&next.PGLN, u.PGLN)
		set(&next.Name, u.Name)
		set(&next.Address, u.Address)
		set(&next.ContactName, u.ContactName)
		set(&next.Email, u.Email)
		set(&next.Phone, u.Phone)
		set(&next.Notes, u.Notes)
		if u.IsOwn != nil {
			next.IsOwn = *u.IsOwn
		}
		if u.Roles != nil {
			next.Roles = *u.Roles
		}
		next = cleanParty(next)
		var v ValidationError
		checkParty(&v, "", next)
		if err := v.OrNil(); err != nil {
			return err
		}
		if next.IsOwn && !cur.IsOwn {
			if err := checkOneOwn(ctx, q, &id); err != nil {
				return err
			}
		}
		row, err := q.UpdateParty(ctx, db.UpdatePartyParams{ID: id, Pgln: next.PGLN, Name: next.Name, IsOwn: next.IsOwn,
			Roles: next.Roles, Address: next.Address, ContactName: next.ContactName, Email: next.Email,
			Phone: next.Phone, Notes: next.Notes})
		if errors.Is(db.Translate(err), db.ErrConflict) {
			return &ConflictError{Field: "pgln", Message: "a party with PGLN " + next.PGLN + " already exists"}
		}
		if err != nil {
			return err
		}
		out = partyFromRow(row)
		return idempotency.Keep(ctx, q, out)
	})
	return out, unwrapDomain(err)
}

// ListParties lists parties by name.
func (s *Service) ListParties(ctx context.Context, f PartyFilter, opts ListOptions) (Page[Party], error) {
	var v ValidationError
	limit := opts.limit(&v)
	cur := decodeCursor(opts.Cursor, "n", &v)
	if f.Role != "" && !slices.Contains(PartyRoles, f.Role) {
		v.Add("role", "must be one of "+strings.Join(PartyRoles, ", "))
	}
	if err := v.OrNil(); err != nil {
		return Page[Party]{}, err
	}
	p := db.ListPartiesParams{Q: optText(f.Q), Role: optText(f.Role), Own: f.Own, RowLimit: limit + 1}
	if cur != nil {
		p.AfterName, p.AfterID = cur.Name, &cur.ID
	}
	rows, err := s.store.ListParties(ctx, p)
	if err != nil {
		return Page[Party]{}, err
	}
	return pageOf(rows, limit, partyFromRow, func(last Party) string {
		return cursor{Name: &last.Name, ID: last.ID}.encode()
	}), nil
}

// PartyLocations lists a party's locations by name.
func (s *Service) PartyLocations(ctx context.Context, partyID uuid.UUID) ([]Location, error) {
	party, err := s.store.GetParty(ctx, partyID)
	if err != nil {
		return nil, notFound(err, "party", "")
	}
	rows, err := s.store.ListPartyLocations(ctx, &partyID)
	if err != nil {
		return nil, err
	}
	out := make([]Location, len(rows))
	for i, r := range rows {
		out[i] = locationWithParty(r, party.Name, party.IsOwn)
	}
	return out, nil
}

// ImportParties creates every party or none. Rows are checked first, each
// error naming its row as "rows[i].field" (i from 0, the first row after
// the header); a PGLN that is already a party's is an error of its row.
// Imported parties are never our own.
func (s *Service) ImportParties(ctx context.Context, actor Actor, rows []NewParty) ([]Party, error) {
	var v ValidationError
	switch {
	case len(rows) == 0:
		v.Add("rows", "must have at least one party")
	case len(rows) > MaxImportRows:
		v.Add("rows", "must have at most "+itoa(MaxImportRows)+" parties")
	}
	clean, pglns := checkPartyRows(&v, rows)
	if len(v.Fields) > 0 {
		// Refused anyway: say all that is wrong, taken PGLNs too.
		if err := s.checkTakenPGLNs(ctx, &v, pglns); err != nil {
			return nil, err
		}
		return nil, v.OrNil()
	}
	// A replay comes before the PGLNs' check: its first run took them.
	if out, ok, err := idempotency.Replay[[]Party](ctx); ok {
		return out, err
	}
	if err := s.checkTakenPGLNs(ctx, &v, pglns); err != nil {
		return nil, err
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	out := make([]Party, 0, len(clean))
	err := s.store.InTx(ctx, db.TxOptions{}, func(q *db.Queries) error {
		for i, p := range clean {
			row, err := insertParty(ctx, q, "rows["+itoa(i)+"].", p)
			if err != nil {
				return err
			}
			out = append(out, partyFromRow(row))
		}
		return idempotency.Keep(ctx, q, out)
	})
	if err != nil {
		return nil, unwrapDomain(err)
	}
	s.logger.InfoContext(ctx, "parties imported", "count", len(out), "actor", actor.name())
	return out, nil
}

// CheckPartyImport validates rows as ImportParties would, without writing:
// the preview before a commit.
func (s *Service) CheckPartyImport(ctx context.Context, rows []NewParty) error {
	var v ValidationError
	_, pglns := checkPartyRows(&v, rows)
	if err := s.checkTakenPGLNs(ctx, &v, pglns); err != nil {
		return err
	}
	return v.OrNil()
}

// checkPartyRows holds the rules of every row and of the rows together
// (no PGLN twice); it returns the rows cleaned, and each valid PGLN with
// the row that first has it.
func checkPartyRows(v *ValidationError, rows []NewParty) ([]NewParty, map[string]int) {
	clean := make([]NewParty, len(rows))
	seen := map[string]int{}
	for i, r := range rows {
		prefix := "rows[" + itoa(i) + "]."
		r.IsOwn = false
		clean[i] = cleanParty(r)
		checkParty(v, prefix, clean[i])
		if g := clean[i].PGLN; gs1.ValidateGLN(g) == nil {
			if j, dup := seen[g]; dup {
				v.Add(prefix+"pgln", "repeats the PGLN of row "+itoa(j+1))
			} else {
				seen[g] = i
			}
		}
	}
	return clean, seen
}

// checkTakenPGLNs reports the rows whose PGLN is already a party's.
func (s *Service) checkTakenPGLNs(ctx context.Context, v *ValidationError, rowOf map[string]int) error {
	if len(rowOf) == 0 {
		return nil
	}
	pglns := make([]string, 0, len(rowOf))
	for g := range rowOf {
		pglns = append(pglns, g)
	}
	taken, err := s.store.PartiesByPGLN(ctx, pglns)
	if err != nil {
		return err
	}
	for _, g := range taken {
		v.Add("rows["+itoa(rowOf[g])+"].pgln", "is already a party's PGLN")
	}
	sortFields(v)
	return nil
}

// ParsePartiesCSV reads a parties CSV (a header row naming some of
// PartyCSVColumns, pgln and name required; roles separated by ";" or
// "|"). A file that does not parse is a ValidationError on "csv".
func ParsePartiesCSV(r io.Reader) ([]NewParty, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	records, err := cr.ReadAll()
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		return nil, Invalid("csv", "does not parse at line "+itoa(pe.Line)+": "+pe.Err.Error())
	case err != nil:
		return nil, Invalid("csv", "does not parse")
	case len(records) < 2:
		return nil, Invalid("csv", "needs a header row and at least one party")
	case len(records)-1 > MaxImportRows:
		return nil, Invalid("csv", "must have at most "+itoa(MaxImportRows)+" parties")
	}
	var v ValidationError
	col := map[string]int{}
	for i, h := range records[0] {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(PartyCSVColumns, h) {
			v.Add("csv", "has an unknown column "+h+" (the columns are "+strings.Join(PartyCSVColumns, ", ")+")")
			continue
		}
		col[h] = i
	}
	for _, need := range []string{"pgln", "name"} {
		if _, ok := col[need]; !ok {
			v.Add("csv", "lacks the column "+need)
		}
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	rows := make([]NewParty, 0, len(records)-1)
	for _, rec := range records[1:] {
		rows = append(rows, NewParty{
			PGLN: get(rec, "pgln"), Name: get(rec, "name"), Roles: SplitRoles(get(rec, "roles")),
			Address: get(rec, "address"), ContactName: get(rec, "contact_name"), Email: get(rec, "email"),
			Phone: get(rec, "phone"), Notes: get(rec, "notes"),
		})
	}
	return rows, nil
}

// SplitRoles reads roles as written in a CSV cell or a form: separated by
// ";", "|" or ",".
func SplitRoles(s string) []string {
	var out []string
	for _, r := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == ',' }) {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// cleanParty trims what surrounding spaces never mean anything in, and
// puts the roles in one order without repeats.
func cleanParty(p NewParty) NewParty {
	p.PGLN = strings.TrimSpace(p.PGLN)
	p.Name = strings.TrimSpace(p.Name)
	p.Email = strings.TrimSpace(p.Email)
	p.Phone = strings.TrimSpace(p.Phone)
	p.ContactName = strings.TrimSpace(p.ContactName)
	roles := make([]string, 0, len(p.Roles))
	for _, r := range p.Roles {
		r = strings.ToLower(strings.TrimSpace(r))
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	slices.SortStableFunc(roles, func(a, b string) int { return roleRank(a) - roleRank(b) })
	p.Roles = roles
	return p
}

func roleRank(r string) int {
	if i := slices.Index(PartyRoles, r); i >= 0 {
		return i
	}
	return len(PartyRoles)
}

// checkParty holds the rules of one party; prefix names its row in an
// import.
func checkParty(v *ValidationError, prefix string, p NewParty) {
	if p.PGLN == "" {
		v.Add(prefix+"pgln", "is required")
	} else if err := gs1.ValidateGLN(p.PGLN); err != nil {
		v.Add(prefix+"pgln", err.Error())
	}
	checkText(v, prefix+"name", p.Name, 1, 200)
	for _, r := range p.Roles {
		if !slices.Contains(PartyRoles, r) {
			v.Add(prefix+"roles", "must each be one of "+strings.Join(PartyRoles, ", "))
			break
		}
	}
	checkText(v, prefix+"address", p.Address, 0, 500)
	checkText(v, prefix+"contact_name", p.ContactName, 0, 200)
	checkText(v, prefix+"email", p.Email, 0, 254)
	if p.Email != "" && !validEmail(p.Email) {
		v.Add(prefix+"email", "must be an email address such as name@example.com")
	}
	checkText(v, prefix+"phone", p.Phone, 0, 50)
	checkText(v, prefix+"notes", p.Notes, 0, 5000)
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.ContainsAny(s, " \t\r\n")
}

// checkOneOwn refuses a second own party; it takes the lock that makes
// the check and the write that follows one step.
func checkOneOwn(ctx context.Context, q *db.Queries, self *uuid.UUID) error {
	if err := q.LockOwnParty(ctx); err != nil {
		return err
	}
	name, err := q.OtherOwnParty(ctx, self)
	switch err := db.Translate(err); {
	case errors.Is(err, db.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	return Invalid("is_own", "another party is already our own company ("+name+")")
}

func insertParty(ctx context.Context, q *db.Queries, prefix string, p NewParty) (db.Party, error) {
	row, err := q.CreateParty(ctx, db.CreatePartyParams{Pgln: p.PGLN, Name: p.Name, IsOwn: p.IsOwn, Roles: p.Roles,
		Address: p.Address, ContactName: p.ContactName, Email: p.Email, Phone: p.Phone, Notes: p.Notes})
	if errors.Is(db.Translate(err), db.ErrConflict) {
		return row, &ConflictError{Field: prefix + "pgln", Message: "a party with PGLN " + p.PGLN + " already exists"}
	}
	return row, err
}

func partyFromRow(r db.Party) Party {
	return Party{ID: r.ID, PGLN: r.Pgln, Name: r.Name, IsOwn: r.IsOwn, Roles: r.Roles, Address: r.Address,
		ContactName: r.ContactName, Email: r.Email, Phone: r.Phone, Notes: r.Notes, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// sortFields puts row errors in row order, keeping each row's fields in
// the order they were found.
func sortFields(v *ValidationError) {
	row := func(f FieldError) int {
		var n int
		if _, err := fmt.Sscanf(f.Field, "rows[%d]", &n); err != nil {
			return -1
		}
		return n
	}
	slices.SortStableFunc(v.Fields, func(a, b FieldError) int { return row(a) - row(b) })
}
