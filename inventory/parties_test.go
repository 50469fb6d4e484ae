package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"batchtrack/inventory"
)

func newParty(name string, roles ...string) inventory.NewParty {
	return inventory.NewParty{PGLN: gln(), Name: name, Roles: roles}
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var ve *inventory.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a ValidationError, got %T %v", err, err)
	}
	out := map[string]string{}
	for _, f := range ve.Fields {
		out[f.Field] = f.Message
	}
	return out
}

func TestCreatePartyValidates(t *testing.T) {
	svc, _ := newService(t, 4, 0)
	ctx := context.Background()
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name  string
		mod   func(*inventory.NewParty)
		field string
		want  string
	}{
		{"no pgln", func(p *inventory.NewParty) { p.PGLN = "" }, "pgln", "is required"},
		{"pgln check digit", func(p *inventory.NewParty) { p.PGLN = "0614141000013" }, "pgln", "check digit"},
		{"pgln length", func(p *inventory.NewParty) { p.PGLN = "12345" }, "pgln", "13 digits"},
		{"pgln letters", func(p *inventory.NewParty) { p.PGLN = "06141410000AB" }, "pgln", "digits"},
		{"no name", func(p *inventory.NewParty) { p.Name = "  " }, "name", "is required"},
		{"long name", func(p *inventory.NewParty) { p.Name = long(201) }, "name", "at most 200"},
		{"unknown role", func(p *inventory.NewParty) { p.Roles = []string{"supplier", "broker"} }, "roles", "supplier, customer, carrier"},
		{"long address", func(p *inventory.NewParty) { p.Address = long(501) }, "address", "at most 500"},
		{"long contact", func(p *inventory.NewParty) { p.ContactName = long(201) }, "contact_name", "at most 200"},
		{"long email", func(p *inventory.NewParty) { p.Email = long(250) + "@x.example" }, "email", "at most 254"},
		{"email without @", func(p *inventory.NewParty) { p.Email = "sales.example.com" }, "email", "email address"},
		{"email with a name", func(p *inventory.NewParty) { p.Email = "Sales <sales@example.com>" }, "email", "email address"},
		{"email without a domain dot", func(p *inventory.NewParty) { p.Email = "sales@localhost" }, "email", "email address"},
		{"long phone", func(p *inventory.NewParty) { p.Phone = long(51) }, "phone", "at most 50"},
		{"long notes", func(p *inventory.NewParty) { p.Notes = long(5001) }, "notes", "at most 5000"},
		{"control character", func(p *inventory.NewParty) { p.Notes = "a\x01b" }, "notes", "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newParty("Acme Farms", "supplier")
			tt.mod(&in)
			_, err := svc.CreateParty(ctx, in)
			got := fieldsOf(t, err)
			if !strings.Contains(got[tt.field], tt.want) {
				t.Errorf("%s: %q, want %q (all: %v)", tt.field, got[tt.field], tt.want, got)
			}
		})
	}
}

func TestPartyCRUD(t *testing.T) {
	svc, _ := newService(t, 4, 0)
	ctx := context.Background()
	in := inventory.NewParty{PGLN: " " + gln() + " ", Name: " Acme Farms ", Roles: []string{"Customer", "supplier", "supplier"},
		Address: "Field 1", ContactName: "Ann", Email: "ann@acme.example", Phone: "+1 555", Notes: "Organic"}
	p, err := svc.CreateParty(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if p.PGLN != strings.TrimSpace(in.PGLN) || p.Name != "Acme Farms" || !cmp.Equal(p.Roles, []string{"supplier", "customer"}) || p.IsOwn {
		t.Errorf("created %+v", p)
	}
	got, err := svc.GetParty(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("get differs (-created +got):\n%s", diff)
	}
	// A PGLN taken is a conflict, on create and on update.
	var ce *inventory.ConflictError
	if _, err := svc.CreateParty(ctx, inventory.NewParty{PGLN: p.PGLN, Name: "Other"}); !errors.As(err, &ce) || ce.Field != "pgln" {
		t.Errorf("duplicate PGLN: %v", err)
	}
	other, err := svc.CreateParty(ctx, newParty("Other"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateParty(ctx, other.ID, inventory.PartyUpdate{PGLN: &p.PGLN}); !errors.As(err, &ce) {
		t.Errorf("update to a taken PGLN: %v", err)
	}
	// Partial update: only what is named changes.
	name, roles, empty := "Acme Farms Ltd", []string{"carrier"}, ""
	up, err := svc.UpdateParty(ctx, p.ID, inventory.PartyUpdate{Name: &name, Roles: &roles, Notes: &empty})
	if err != nil {
		t.Fatal(err)
	}
	want := p
	want.Name, want.Roles, want.Notes, want.UpdatedAt = name, roles, "", up.UpdatedAt
	if diff := cmp.Diff(want, up); diff != "" {
		t.Errorf("update (-want +got):\n%s", diff)
	}
	bad := "x@"
	if _, err := svc.UpdateParty(ctx, p.ID, inventory.PartyUpdate{Email: &bad}); fieldsOf(t, err)["email"] == "" {
		t.Errorf("bad email accepted: %v", err)
	}
	var nf *inventory.NotFoundError
	if _, err := svc.GetParty(ctx, [16]byte{1}); !errors.As(err, &nf) {
		t.Errorf("unknown party: %v", err)
	}
	if _, err := svc.UpdateParty(ctx, [16]byte{1}, inventory.PartyUpdate{Name: &name}); !errors.As(err, &nf) {
		t.Errorf("update unknown party: %v", err)
	}
	if _, err := svc.PartyLocations(ctx, [16]byte{1}); !errors.As(err, &nf) {
		t.Errorf("locations of an unknown party: %v", err)
	}
}

func TestOnlyOnePartyIsOurs(t *testing.T) {
	svc, _ := newService(t, 8, 0)
	ctx := context.Background()
	own := newParty("Us")
	own.IsOwn = true
	us, err := svc.CreateParty(ctx, own)
	if err != nil {
		t.Fatal(err)
	}
	second := newParty("Also us")
	second.IsOwn = true
	if got := fieldsOf(t, func() error { _, err := svc.CreateParty(ctx, second); return err }()); !strings.Contains(got["is_own"], "Us") {
		t.Errorf("second own party: %v", got)
	}
	partner, err := svc.CreateParty(ctx, newParty("Partner", "supplier"))
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	if _, err := svc.UpdateParty(ctx, partner.ID, inventory.PartyUpdate{IsOwn: &yes}); fieldsOf(t, err)["is_own"] == "" {
		t.Errorf("partner made our own beside us: %v", err)
	}
	// Our own party may be saved again as ours; once it is not, another may be.
	if _, err := svc.UpdateParty(ctx, us.ID, inventory.PartyUpdate{IsOwn: &yes}); err != nil {
		t.Errorf("saving our own party: %v", err)
	}
	if _, err := svc.UpdateParty(ctx, us.ID, inventory.PartyUpdate{IsOwn: &no}); err != nil {
		t.Fatal(err)
	}
	// Two at once: one wins.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newParty(fmt.Sprintf("Race %d", i))
			p.IsOwn = true
			_, errs[i] = svc.CreateParty(ctx, p)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	page, err := svc.ListParties(ctx, inventory.PartyFilter{Own: &yes}, inventory.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ok != 1 || len(page.Items) != 1 {
		t.Errorf("concurrent own parties: %d created, %d own (%v)", ok, len(page.Items), errs)
	}
}

func TestListPartiesPagesAndFilters(t *testing.T) {
	svc, _ := newService(t, 4, 0)
	ctx := context.Background()
	var names []string
	for i := range 7 {
		role := "supplier"
		if i%2 == 1 {
			role = "customer"
		}
		p, err := svc.CreateParty(ctx, newParty(fmt.Sprintf("Farm %02d", i), role))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, p.Name)
	}
	// Same name twice: the id orders them, and paging loses neither.
	twin1, err := svc.CreateParty(ctx, newParty("Farm 03", "carrier"))
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, twin1.Name)
	own := inventory.NewParty{PGLN: "4000001000005", Name: "Zeta Foods", IsOwn: true}
	if _, err := svc.CreateParty(ctx, own); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := svc.ListParties(ctx, inventory.PartyFilter{Q: "farm"}, inventory.ListOptions{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Items {
			got = append(got, p.Name)
		}
		if cursor = page.NextCursor; cursor == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
	}
	wantNames := []string{"Farm 00", "Farm 01", "Farm 02", "Farm 03", "Farm 03", "Farm 04", "Farm 05", "Farm 06"}
	if diff := cmp.Diff(wantNames, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	yes, no := true, false
	count := func(f inventory.PartyFilter) int {
		t.Helper()
		page, err := svc.ListParties(ctx, f, inventory.ListOptions{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Items)
	}
	tests := []struct {
		name string
		f    inventory.PartyFilter
		want int
	}{
		{"all", inventory.PartyFilter{}, 9},
		{"name part, any case", inventory.PartyFilter{Q: "RM 0"}, 8},
		{"PGLN prefix", inventory.PartyFilter{Q: "4000001"}, 1},
		{"PGLN middle does not match", inventory.PartyFilter{Q: "0001000005"}, 0},
		{"suppliers", inventory.PartyFilter{Role: "supplier"}, 4},
		{"customers", inventory.PartyFilter{Role: "customer"}, 3},
		{"carriers named farm", inventory.PartyFilter{Role: "carrier", Q: "farm"}, 1},
		{"own", inventory.PartyFilter{Own: &yes}, 1},
		{"not own", inventory.PartyFilter{Own: &no}, 8},
	}
	for _, tt := range tests {
		if got := count(tt.f); got != tt.want {
			t.Errorf("%s: %d parties, want %d", tt.name, got, tt.want)
		}
	}
	if _, err := svc.ListParties(ctx, inventory.PartyFilter{Role: "broker"}, inventory.ListOptions{}); fieldsOf(t, err)["role"] == "" {
		t.Errorf("unknown role filter: %v", err)
	}
	if _, err := svc.ListParties(ctx, inventory.PartyFilter{}, inventory.ListOptions{Cursor: "nonsense"}); fieldsOf(t, err)["cursor"] == "" {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestLocationsBelongToParties(t *testing.T) {
	svc, _ := newService(t, 4, 0)
	ctx := context.Background()
	own := newParty("Us")
	own.IsOwn = true
	us, err := svc.CreateParty(ctx, own)
	if err != nil {
		t.Fatal(err)
	}
	farm, err := svc.CreateParty(ctx, newParty("Farm", "supplier"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(), Name: "A plant", Type: "factory"})
	if err != nil {
		t.Fatal(err)
	}
	ours, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(), Name: "B warehouse", Type: "warehouse", PartyID: &us.ID})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(), Name: "C field", Type: "farm", PartyID: &farm.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		l         inventory.Location
		partyName string
		ours      bool
	}{{plain, "", true}, {ours, "Us", true}, {theirs, "Farm", false}} {
		got, err := svc.GetLocation(ctx, tt.l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.PartyName != tt.partyName || got.Ours != tt.ours || tt.l.PartyName != tt.partyName || tt.l.Ours != tt.ours {
			t.Errorf("%s: created %q %v, got %q %v; want %q %v", tt.l.Name, tt.l.PartyName, tt.l.Ours, got.PartyName, got.Ours, tt.partyName, tt.ours)
		}
	}
	page, err := svc.ListLocations(ctx, inventory.LocationFilter{}, inventory.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 || page.Items[2].PartyName != "Farm" || page.Items[2].Ours {
		t.Errorf("list: %+v", page.Items)
	}
	ls, err := svc.PartyLocations(ctx, farm.ID)
	if err != nil || len(ls) != 1 || ls[0].ID != theirs.ID {
		t.Errorf("farm's locations: %+v, %v", ls, err)
	}
	var nf *inventory.NotFoundError
	id := farm.ID
	id[0] ^= 0xff
	if _, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(), Name: "D", Type: "farm", PartyID: &id}); !errors.As(err, &nf) || nf.Field != "party_id" {
		t.Errorf("unknown party: %v", err)
	}
}

const goodPartiesCSV = "pgln,name,roles,address,contact_name,email,phone,notes\n" +
	"%s,North Farm,supplier,Road 1,Ann,ann@north.example,+1 555,\n" +
	"%s,\"Shop, Inc.\",customer;carrier,,,,,\"two\nlines\"\n" +
	"%s,Hauler,carrier|supplier,,,,,\n"

func TestImportParties(t *testing.T) {
	svc, pool := newService(t, 4, 0)
	ctx := context.Background()
	rows, err := inventory.ParsePartiesCSV(strings.NewReader("\ufeff" + fmt.Sprintf(goodPartiesCSV, gln(), gln(), gln())))
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.ImportParties(ctx, inventory.System, rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].Name != "Shop, Inc." || !cmp.Equal(got[1].Roles, []string{"customer", "carrier"}) ||
		!cmp.Equal(got[2].Roles, []string{"supplier", "carrier"}) || got[1].Notes != "two\nlines" || got[0].Email != "ann@north.example" {
		t.Errorf("imported %+v", got)
	}

	var before int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM parties").Scan(&before); err != nil {
		t.Fatal(err)
	}
	taken := got[0].PGLN
	fresh := gln()
	bad := "pgln,name,roles,email\n" +
		fresh + ",Good row,supplier,\n" + // row 0: fine
		"0614141000013,Bad digit,supplier,\n" + // row 1
		taken + ",Taken,customer,\n" + // row 2
		gln() + ",,broker,x@\n" + // row 3: three errors
		fresh + ",Twice,supplier,\n" // row 4: repeats row 0
	rows, err = inventory.ParsePartiesCSV(strings.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.CheckPartyImport(ctx, rows); err == nil {
		t.Error("check passed a bad file")
	}
	_, err = svc.ImportParties(ctx, inventory.System, rows)
	fields := fieldsOf(t, err)
	for field, want := range map[string]string{
		"rows[1].pgln":  "check digit",
		"rows[2].pgln":  "already",
		"rows[3].name":  "is required",
		"rows[3].roles": "supplier, customer, carrier",
		"rows[3].email": "email address",
		"rows[4].pgln":  "repeats the PGLN of row 1",
	} {
		if !strings.Contains(fields[field], want) {
			t.Errorf("%s: %q, want %q", field, fields[field], want)
		}
	}
	if _, ok := fields["rows[0].pgln"]; ok || len(fields) != 6 {
		t.Errorf("errors: %v", fields)
	}
	var after int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM parties").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("a refused import stored %d parties", after-before)
	}
}

func TestParsePartiesCSV(t *testing.T) {
	tests := []struct{ name, csv, want string }{
		{"empty", "", "needs a header row"},
		{"header only", "pgln,name\n", "needs a header row"},
		{"no name column", "pgln,roles\n1,supplier\n", "lacks the column name"},
		{"unknown column", "pgln,name,fax\n1,x,2\n", "unknown column fax"},
		{"bad quoting", "pgln,name\n\"1,x\n", "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inventory.ParsePartiesCSV(strings.NewReader(tt.csv))
			if got := fieldsOf(t, err)["csv"]; !strings.Contains(got, tt.want) {
				t.Errorf("%q, want %q", got, tt.want)
			}
		})
	}
	rows, err := inventory.ParsePartiesCSV(strings.NewReader("NAME , PGLN\nA,1\n"))
	if err != nil || len(rows) != 1 || rows[0].Name != "A" || rows[0].PGLN != "1" {
		t.Errorf("case and spaces in the header: %+v, %v", rows, err)
	}
}

func TestUpdateLocation(t *testing.T) {
	svc, _ := newService(t, 4, 0)
	ctx := context.Background()
	farm, err := svc.CreateParty(ctx, newParty("Farm", "supplier"))
	if err != nil {
		t.Fatal(err)
	}
	site, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(), Name: "Site", Type: "factory", Address: "Road 1"})
	if err != nil {
		t.Fatal(err)
	}
	hall, err := svc.CreateLocation(ctx, inventory.NewLocation{GLN: gln(), Name: "Hall", Type: "warehouse", ParentID: &site.ID})
	if err != nil {
		t.Fatal(err)
	}
	// Only what is named changes; a party is set, then cleared.
	name := "Site North"
	got, err := svc.UpdateLocation(ctx, site.ID, inventory.LocationUpdate{Name: &name, SetParty: true, PartyID: &farm.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || got.Address != "Road 1" || got.GLN != site.GLN || got.PartyName != "Farm" || got.Ours {
		t.Errorf("updated %+v", got)
	}
	got, err = svc.UpdateLocation(ctx, site.ID, inventory.LocationUpdate{SetParty: true})
	if err != nil || got.PartyID != nil || !got.Ours {
		t.Errorf("party cleared: %+v, %v", got, err)
	}
	var nf *inventory.NotFoundError
	var ce *inventory.ConflictError
	unknown := farm.ID
	unknown[0] ^= 0xff
	badType := "moon"
	tests := []struct {
		name  string
		id    [16]byte
		u     inventory.LocationUpdate
		check func(error) bool
	}{
		{"unknown location", unknown, inventory.LocationUpdate{Name: &name}, func(err error) bool { return errors.As(err, &nf) && nf.Field == "" }},
		{"unknown party", site.ID, inventory.LocationUpdate{SetParty: true, PartyID: &unknown}, func(err error) bool { return errors.As(err, &nf) && nf.Field == "party_id" }},
		{"unknown parent", site.ID, inventory.LocationUpdate{SetParent: true, ParentID: &unknown}, func(err error) bool { return errors.As(err, &nf) && nf.Field == "parent_id" }},
		{"parent is itself", site.ID, inventory.LocationUpdate{SetParent: true, ParentID: &site.ID}, func(err error) bool { return fieldsOf(t, err)["parent_id"] != "" }},
		{"parent inside it", site.ID, inventory.LocationUpdate{SetParent: true, ParentID: &hall.ID}, func(err error) bool { return fieldsOf(t, err)["parent_id"] != "" }},
		{"bad type", site.ID, inventory.LocationUpdate{Type: &badType}, func(err error) bool { return fieldsOf(t, err)["type"] != "" }},
		{"taken GLN", site.ID, inventory.LocationUpdate{GLN: &hall.GLN}, func(err error) bool { return errors.As(err, &ce) && ce.Field == "gln" }},
	}
	for _, tt := range tests {
		if _, err := svc.UpdateLocation(ctx, tt.id, tt.u); !tt.check(err) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
