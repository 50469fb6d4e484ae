package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"batchtrack/inventory"
)

type partyOut struct {
	ID          string   `json:"id"`
	PGLN        string   `json:"pgln"`
	Name        string   `json:"name"`
	IsOwn       bool     `json:"is_own"`
	Roles       []string `json:"roles"`
	Role        string   `json:"role"`
	ContactName string   `json:"contact_name"`
	Contact     string   `json:"contact"`
	Email       string   `json:"email"`
	Locations   []struct {
		ID        string `json:"id"`
		PartyID   string `json:"party_id"`
		PartyName string `json:"party_name"`
		Ours      bool   `json:"ours"`
	} `json:"locations"`
}

type problemOut struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Errors []struct {
		Field, Message string
	} `json:"errors"`
}

func (p problemOut) field(name string) string {
	for _, e := range p.Errors {
		if e.Field == name {
			return e.Message
		}
	}
	return ""
}

func TestPartiesAPI(t *testing.T) {
	a := newTestApp(t)
	pgln := validGLN()
	resp := a.do("POST", "/api/parties", map[string]any{"pgln": pgln, "name": "Valley Farm", "roles": []string{"supplier"},
		"email": "sales@valley.example", "contact_name": "Ann"})
	wantStatus(t, resp, http.StatusCreated)
	p := decode[partyOut](t, resp)
	if resp.Header.Get("Location") != "/api/parties/"+p.ID || p.PGLN != pgln || p.Role != "supplier" || p.Contact != "Ann" || p.IsOwn {
		t.Errorf("created %+v, Location %q", p, resp.Header.Get("Location"))
	}
	if n := a.count("parties"); n != 1 {
		t.Errorf("%d parties stored", n)
	}
	// The contract's own names: role and contact.
	resp = a.do("POST", "/api/parties", map[string]any{"pgln": validGLN(), "name": "Us", "role": "own", "contact": "Desk"})
	wantStatus(t, resp, http.StatusCreated)
	us := decode[partyOut](t, resp)
	if !us.IsOwn || us.Role != "own" || us.ContactName != "Desk" || len(us.Roles) != 0 || us.Roles == nil {
		t.Errorf("own party %+v", us)
	}

	// A location names its party; the party lists it.
	resp = a.do("POST", "/api/locations", map[string]any{"gln": validGLN(), "name": "Valley field", "type": "farm", "party_id": p.ID})
	wantStatus(t, resp, http.StatusCreated)
	loc := decode[map[string]any](t, resp)
	if loc["party_id"] != p.ID || loc["party_name"] != "Valley Farm" || loc["ours"] != false {
		t.Errorf("location %v", loc)
	}
	resp = a.do("GET", "/api/locations/"+loc["id"].(string), nil)
	if got := decode[map[string]any](t, resp); got["party_name"] != "Valley Farm" {
		t.Errorf("location read back: %v", got)
	}
	resp = a.do("GET", "/api/parties/"+p.ID, nil)
	wantStatus(t, resp, http.StatusOK)
	got := decode[partyOut](t, resp)
	if len(got.Locations) != 1 || got.Locations[0].ID != loc["id"] || got.Locations[0].Ours {
		t.Errorf("party's locations: %+v", got.Locations)
	}
	resp = a.do("GET", "/api/parties/"+us.ID, nil)
	if body := readBody(t, resp); !strings.Contains(body, `"locations":[]`) {
		t.Errorf("a party without locations: %s", body)
	}

	// PATCH changes what it names.
	resp = a.do("PATCH", "/api/parties/"+p.ID, `{"name": "Valley Farm Ltd", "roles": ["supplier", "carrier"]}`)
	wantStatus(t, resp, http.StatusOK)
	got = decode[partyOut](t, resp)
	if got.Name != "Valley Farm Ltd" || strings.Join(got.Roles, ",") != "supplier,carrier" || got.Email != "sales@valley.example" {
		t.Errorf("patched %+v", got)
	}

	// Lists: filters, and paging by cursor.
	for _, name := range []string{"Shop A", "Shop B", "Shop C"} {
		resp := a.do("POST", "/api/parties", map[string]any{"pgln": validGLN(), "name": name, "roles": []string{"customer"}})
		wantStatus(t, resp, http.StatusCreated)
	}
	type list struct {
		Items      []partyOut `json:"items"`
		NextCursor *string    `json:"next_cursor"`
	}
	for _, tt := range []struct {
		query string
		want  int
	}{
		{"", 5}, {"?q=shop", 3}, {"?q=" + pgln, 1}, {"?role=customer", 3}, {"?role=carrier", 1},
		{"?own=true", 1}, {"?own=false", 4}, {"?q=valley&role=customer", 0},
	} {
		resp := a.do("GET", "/api/parties"+tt.query, nil)
		wantStatus(t, resp, http.StatusOK)
		if l := decode[list](t, resp); len(l.Items) != tt.want {
			t.Errorf("%s: %d parties, want %d", tt.query, len(l.Items), tt.want)
		}
	}
	var names []string
	next := ""
	for range 5 {
		resp := a.do("GET", "/api/parties?q=shop&limit=2&cursor="+url.QueryEscape(next), nil)
		wantStatus(t, resp, http.StatusOK)
		l := decode[list](t, resp)
		for _, it := range l.Items {
			names = append(names, it.Name)
		}
		if l.NextCursor == nil {
			break
		}
		next = *l.NextCursor
	}
	if strings.Join(names, ",") != "Shop A,Shop B,Shop C" {
		t.Errorf("paged: %v", names)
	}

	// Refusals: problem+json naming the field.
	before := a.digest() + a.partiesDigest()
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		typ, field               string
	}{
		{"duplicate PGLN", "POST", "/api/parties", `{"pgln": "` + pgln + `", "name": "x"}`, 409, "/problems/conflict", "pgln"},
		{"check digit", "POST", "/api/parties", `{"pgln": "0614141000013", "name": "x"}`, 422, "/problems/validation", "pgln"},
		{"no pgln", "POST", "/api/parties", `{"name": "x"}`, 422, "/problems/validation", "pgln"},
		{"unknown role", "POST", "/api/parties", `{"pgln": "` + validGLN() + `", "name": "x", "roles": ["broker"]}`, 422, "/problems/validation", "roles"},
		{"bad email", "POST", "/api/parties", `{"pgln": "` + validGLN() + `", "name": "x", "email": "nobody"}`, 422, "/problems/validation", "email"},
		{"unknown field", "POST", "/api/parties", `{"pgln": "` + validGLN() + `", "name": "x", "fax": "1"}`, 422, "/problems/validation", "fax"},
		{"second own party", "POST", "/api/parties", `{"pgln": "` + validGLN() + `", "name": "x", "is_own": true}`, 422, "/problems/validation", "is_own"},
		{"patch to own", "PATCH", "/api/parties/" + p.ID, `{"is_own": true}`, 422, "/problems/validation", "is_own"},
		{"patch to taken PGLN", "PATCH", "/api/parties/" + p.ID, `{"pgln": "` + us.PGLN + `"}`, 409, "/problems/conflict", "pgln"},
		{"patch long name", "PATCH", "/api/parties/" + p.ID, `{"name": "` + strings.Repeat("n", 201) + `"}`, 422, "/problems/validation", "name"},
		{"patch unknown party", "PATCH", "/api/parties/" + uuid.NewString(), `{"name": "x"}`, 404, "/problems/not-found", ""},
		{"unknown party", "GET", "/api/parties/" + uuid.NewString(), "", 404, "/problems/not-found", ""},
		{"bad id", "GET", "/api/parties/nope", "", 422, "/problems/validation", "id"},
		{"bad own", "GET", "/api/parties?own=maybe", "", 422, "/problems/validation", "own"},
		{"bad role", "GET", "/api/parties?role=broker", "", 422, "/problems/validation", "role"},
		{"bad cursor", "GET", "/api/parties?cursor=zzz", "", 422, "/problems/validation", "cursor"},
		{"unknown parameter", "GET", "/api/parties?kind=x", "", 422, "/problems/validation", "kind"},
		{"location of an unknown party", "POST", "/api/locations", `{"gln": "` + validGLN() + `", "name": "x", "type": "farm", "party_id": "` + uuid.NewString() + `"}`, 404, "/problems/not-found", ""},
		{"location, party not a UUID", "POST", "/api/locations", `{"gln": "` + validGLN() + `", "name": "x", "type": "farm", "party_id": "x"}`, 422, "/problems/validation", "party_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			resp := a.do(tt.method, tt.path, body)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), readBody(t, resp))
			}
			pr := decode[problemOut](t, resp)
			if pr.Type != tt.typ || (tt.field != "" && pr.field(tt.field) == "") {
				t.Errorf("problem %+v, want %s on %q", pr, tt.typ, tt.field)
			}
		})
	}
	if after := a.digest() + a.partiesDigest(); after != before {
		t.Errorf("a refused request changed the database:\n%s", diffLines(before, after))
	}
}

func (a *testApp) partiesDigest() string {
	a.t.Helper()
	var sum string
	if err := a.pool.QueryRow(context.Background(),
		"SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM parties t").Scan(&sum); err != nil {
		a.t.Fatal(err)
	}
	return "\nparties: " + sum
}

func TestPartiesImportAPI(t *testing.T) {
	a := newTestApp(t)
	taken, err := a.svc.CreateParty(context.Background(), inventory.NewParty{PGLN: validGLN(), Name: "Old farm"})
	if err != nil {
		t.Fatal(err)
	}
	good := "pgln,name,roles,email\n" + validGLN() + ",North farm,supplier,n@north.example\n" + validGLN() + ",Shop,customer|carrier,\n"
	resp := a.do("POST", "/api/parties/import", good, "Content-Type", "text/csv")
	wantStatus(t, resp, http.StatusCreated)
	out := decode[struct{ Items []partyOut }](t, resp)
	if len(out.Items) != 2 || strings.Join(out.Items[1].Roles, ",") != "customer,carrier" {
		t.Errorf("imported %+v", out.Items)
	}
	// The same as a multipart form's file.
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("file", "parties.csv")
	fw.Write([]byte("pgln,name\n" + validGLN() + ",Carrier co\n"))
	w.Close()
	resp = a.do("POST", "/api/parties/import", buf.Bytes(), "Content-Type", w.FormDataContentType())
	wantStatus(t, resp, http.StatusCreated)

	before := a.count("parties")
	bad := "pgln,name,roles,email\n" +
		validGLN() + ",Fine,supplier,\n" +
		"0614141000013,Bad digit,,\n" +
		taken.PGLN + ",Taken,,\n" +
		validGLN() + ",Bad role and email,broker,nobody\n"
	resp = a.do("POST", "/api/parties/import", bad, "Content-Type", "text/csv")
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	pr := decode[problemOut](t, resp)
	for _, f := range []string{"rows[1].pgln", "rows[2].pgln", "rows[3].roles", "rows[3].email"} {
		if pr.field(f) == "" {
			t.Errorf("no error for %s: %+v", f, pr.Errors)
		}
	}
	if len(pr.Errors) != 4 {
		t.Errorf("errors: %+v", pr.Errors)
	}
	if n := a.count("parties"); n != before {
		t.Errorf("a refused import stored %d parties", n-before)
	}
	for _, tt := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"JSON body", "application/json", `{}`, 415},
		{"unknown column", "text/csv", "pgln,name,fax\n" + validGLN() + ",x,1\n", 422},
		{"header only", "text/csv", "pgln,name\n", 422},
		{"no file in the form", "multipart/form-data; boundary=x", "--x--\r\n", 422},
	} {
		resp := a.do("POST", "/api/parties/import", tt.body, "Content-Type", tt.contentType)
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", tt.name, resp.StatusCode, readBody(t, resp))
		}
		resp.Body.Close()
	}
}

func TestPartyPages(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	farm, err := a.svc.CreateParty(ctx, inventory.NewParty{PGLN: validGLN(), Name: "Valley <Farm>", Roles: []string{"supplier"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.CreateParty(ctx, inventory.NewParty{PGLN: validGLN(), Name: "Corner shop", Roles: []string{"customer"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.CreateLocation(ctx, inventory.NewLocation{GLN: validGLN(), Name: "North field", Type: "farm", PartyID: &farm.ID}); err != nil {
		t.Fatal(err)
	}

	// The list: a full page with the nav, or only the rows for htmx.
	resp := a.get("/parties", false)
	wantStatus(t, resp, http.StatusOK)
	_, doc := parseDoc(t, resp)
	if testid(doc, "party-row").Length() != 2 || testid(doc, "nav-parties").AttrOr("aria-current", "") != "page" {
		t.Errorf("list: %d rows, nav %q", testid(doc, "party-row").Length(), testid(doc, "nav-parties").AttrOr("aria-current", ""))
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"?q=valley", []string{"Valley <Farm>"}},
		{"?q=" + farm.PGLN, []string{"Valley <Farm>"}},
		{"?role=customer", []string{"Corner shop"}},
		{"?q=nothing", nil},
	} {
		resp := a.get("/parties"+tt.query, true)
		wantStatus(t, resp, http.StatusOK)
		body, doc := parseDoc(t, resp)
		if strings.Contains(body, "<nav aria-label=\"Main\"") {
			t.Errorf("%s: the htmx answer is a full page", tt.query)
		}
		var got []string
		testid(doc, "party-link").Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: %v, want %v", tt.query, got, tt.want)
		}
		if len(tt.want) == 0 && testid(doc, "no-parties").Length() != 1 {
			t.Errorf("%s: no empty-list message", tt.query)
		}
	}

	// The detail page lists the party's locations.
	resp = a.get("/parties/"+farm.ID.String(), false)
	wantStatus(t, resp, http.StatusOK)
	_, doc = parseDoc(t, resp)
	if testid(doc, "party-name").Text() != "Valley <Farm>" || testid(doc, "party-location-row").Length() != 1 ||
		testid(doc, "party-pgln").Text() != farm.PGLN || testid(doc, "edit-party").Length() != 1 {
		t.Errorf("detail: name %q, %d locations", testid(doc, "party-name").Text(), testid(doc, "party-location-row").Length())
	}
	resp = a.get("/parties/"+uuid.NewString(), false)
	wantStatus(t, resp, http.StatusNotFound)

	// A viewer reads, and is offered no changes.
	viewer := a.sessionFor(a.newUser(roleViewer))
	resp = a.doAs(viewer, "GET", "/parties/"+farm.ID.String(), nil)
	wantStatus(t, resp, http.StatusOK)
	_, doc = parseDoc(t, resp)
	if testid(doc, "edit-party").Length() != 0 {
		t.Error("a viewer is offered the edit link")
	}
	resp = a.doAs(viewer, "GET", "/parties", nil)
	_, doc = parseDoc(t, resp)
	if testid(doc, "new-party").Length() != 0 || testid(doc, "party-row").Length() != 2 {
		t.Error("a viewer's list offers a new partner, or misses rows")
	}
}

func TestPartyForms(t *testing.T) {
	a := newTestApp(t)
	resp := a.get("/parties/new", false)
	wantStatus(t, resp, http.StatusOK)
	body, doc := parseDoc(t, resp)
	if testid(doc, "party-form").Length() != 1 || !strings.Contains(body, `name="_csrf"`) {
		t.Fatal("no party form with its CSRF field")
	}
	taken := validGLN()
	resp = a.postForm("/parties", url.Values{"pgln": {taken}, "name": {"Valley Farm"}, "roles": {"supplier", "carrier"},
		"email": {"a@valley.example"}}, false)
	wantStatus(t, resp, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/parties/") {
		t.Fatalf("Location %q", loc)
	}
	p, err := a.svc.GetParty(context.Background(), uuid.MustParse(strings.TrimPrefix(loc, "/parties/")))
	if err != nil || strings.Join(p.Roles, ",") != "supplier,carrier" || p.Email != "a@valley.example" {
		t.Fatalf("stored %+v, %v", p, err)
	}
	own := url.Values{"pgln": {validGLN()}, "name": {"Us"}, "is_own": {"true"}}
	wantStatus(t, a.postForm("/parties", own, true), http.StatusOK)

	tests := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"no pgln", url.Values{"name": {"x"}}, "error-party-pgln", "is required"},
		{"check digit", url.Values{"pgln": {"0614141000013"}, "name": {"x"}}, "error-party-pgln", "check digit"},
		{"taken", url.Values{"pgln": {taken}, "name": {"x"}}, "error-party-pgln", "is already taken"},
		{"no name", url.Values{"pgln": {validGLN()}}, "error-party-name", "is required"},
		{"bad role", url.Values{"pgln": {validGLN()}, "name": {"x"}, "roles": {"broker"}}, "error-party-roles", "must each be one of"},
		{"bad email", url.Values{"pgln": {validGLN()}, "name": {"x"}, "email": {"nobody"}}, "error-party-email", "email address"},
		{"second own", url.Values{"pgln": {validGLN()}, "name": {"x"}, "is_own": {"true"}}, "error-party-own", "already our own"},
		{"long phone", url.Values{"pgln": {validGLN()}, "name": {"x"}, "phone": {strings.Repeat("1", 51)}}, "error-party-phone", "at most 50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := a.postForm("/parties", tt.form, true)
			wantStatus(t, resp, http.StatusUnprocessableEntity)
			_, doc := parseDoc(t, resp)
			if got := testid(doc, tt.field).Text(); !strings.Contains(got, tt.want) {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
			if got := testid(doc, "party-pgln").AttrOr("value", ""); got != tt.form.Get("pgln") {
				t.Errorf("PGLN typed %q came back as %q", tt.form.Get("pgln"), got)
			}
			if got := testid(doc, "party-name-input").AttrOr("value", ""); got != tt.form.Get("name") {
				t.Errorf("name typed %q came back as %q", tt.form.Get("name"), got)
			}
			if tt.form.Get("is_own") == "true" && testid(doc, "party-own").AttrOr("checked", "-") == "-" {
				t.Error("the own box came back unticked")
			}
		})
	}

	// Edit: prefilled; a bad entry is kept with its error; a good one saved.
	edit := "/parties/" + p.ID.String() + "/edit"
	resp = a.get(edit, false)
	wantStatus(t, resp, http.StatusOK)
	_, doc = parseDoc(t, resp)
	if testid(doc, "party-pgln").AttrOr("value", "") != taken || testid(doc, "party-role-supplier").AttrOr("checked", "-") == "-" ||
		testid(doc, "party-role-customer").AttrOr("checked", "-") != "-" {
		t.Error("edit form not prefilled")
	}
	resp = a.postForm(edit, url.Values{"pgln": {taken}, "name": {"Valley Farm"}, "email": {"bad"}, "roles": {"customer"}}, true)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	_, doc = parseDoc(t, resp)
	if testid(doc, "error-party-email").Length() != 1 || testid(doc, "party-role-customer").AttrOr("checked", "-") == "-" {
		t.Error("edit error not shown, or entries lost")
	}
	resp = a.postForm(edit, url.Values{"pgln": {taken}, "name": {"Valley Farm Ltd"}, "roles": {"customer"}}, true)
	wantStatus(t, resp, http.StatusOK)
	if resp.Header.Get("HX-Redirect") != "/parties/"+p.ID.String() {
		t.Errorf("HX-Redirect %q", resp.Header.Get("HX-Redirect"))
	}
	p, _ = a.svc.GetParty(context.Background(), p.ID)
	if p.Name != "Valley Farm Ltd" || strings.Join(p.Roles, ",") != "customer" || p.Email != "" {
		t.Errorf("saved %+v", p)
	}

	// The location form offers the partners, and stores the choice.
	resp = a.get("/locations/new", false)
	_, doc = parseDoc(t, resp)
	if doc.Find(`#nl-party option[value="`+p.ID.String()+`"]`).Length() != 1 {
		t.Error("the location form does not offer the partner")
	}
	resp = a.postForm("/locations", url.Values{"gln": {validGLN()}, "name": {"Shop floor"}, "type": {"retailer"}, "party_id": {p.ID.String()}}, false)
	wantStatus(t, resp, http.StatusSeeOther)
	ls, err := a.svc.PartyLocations(context.Background(), p.ID)
	if err != nil || len(ls) != 1 {
		t.Errorf("partner's locations: %+v, %v", ls, err)
	}
	resp = a.postForm("/locations", url.Values{"gln": {validGLN()}, "name": {"x"}, "type": {"retailer"}, "party_id": {uuid.NewString()}}, true)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	_, doc = parseDoc(t, resp)
	if testid(doc, "error-nl-party").Length() != 1 {
		t.Error("no error on an unknown partner")
	}
	_, doc = parseDoc(t, a.get("/locations?q=Shop", false))
	if got := testid(doc, "location-party").Text(); !strings.Contains(got, "Valley Farm Ltd") {
		t.Errorf("the locations list names the partner as %q", got)
	}
}

func TestPartyImportPage(t *testing.T) {
	a := newTestApp(t)
	taken, err := a.svc.CreateParty(context.Background(), inventory.NewParty{PGLN: validGLN(), Name: "Old farm"})
	if err != nil {
		t.Fatal(err)
	}
	resp := a.get("/parties/import", false)
	wantStatus(t, resp, http.StatusOK)
	_, doc := parseDoc(t, resp)
	if testid(doc, "party-import-form").Length() != 1 {
		t.Fatal("no import form")
	}
	bad := "pgln,name,roles\n" + validGLN() + ",Fine,supplier\n" + "0614141000013,Bad,\n" + taken.PGLN + ",Taken,\n" + validGLN() + ",,broker\n"
	for _, path := range []string{"/parties/import/preview", "/parties/import"} {
		resp = a.postForm(path, url.Values{"csv": {bad}}, true)
		wantStatus(t, resp, http.StatusUnprocessableEntity)
		_, doc = parseDoc(t, resp)
		rows := testid(doc, "party-import-row")
		if rows.Length() != 4 {
			t.Fatalf("%s: %d rows", path, rows.Length())
		}
		want := []int{0, 1, 1, 2}
		rows.Each(func(i int, s *goquery.Selection) {
			if n := s.Find(`[data-testid="party-import-row-error"]`).Length(); n != want[i] {
				t.Errorf("%s: row %d has %d errors, want %d: %s", path, i, n, want[i], s.Text())
			}
		})
		if testid(doc, "party-import-csv").Text() != bad || testid(doc, "party-import-blocked").Length() != 1 || testid(doc, "party-import-commit").Length() != 0 {
			t.Errorf("%s: entries lost or commit offered", path)
		}
	}
	if n := a.count("parties"); n != 1 {
		t.Errorf("%d parties after refused imports", n)
	}
	resp = a.postForm("/parties/import/preview", url.Values{"csv": {"pgln,fax\n1,2\n"}}, true)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	_, doc = parseDoc(t, resp)
	if got := testid(doc, "error-party-import-csv").Text(); !strings.Contains(got, "unknown column fax") || !strings.Contains(got, "lacks the column name") {
		t.Errorf("file error %q", got)
	}

	good := "pgln,name,roles\n" + validGLN() + ",North farm,supplier\n" + validGLN() + ",Shop,customer;carrier\n"
	resp = a.postForm("/parties/import/preview", url.Values{"csv": {good}}, true)
	wantStatus(t, resp, http.StatusOK)
	_, doc = parseDoc(t, resp)
	if testid(doc, "party-import-commit").Length() != 1 || testid(doc, "party-import-row-error").Length() != 0 {
		t.Fatal("a good file is not offered for import")
	}
	resp = a.postForm("/parties/import", url.Values{"csv": {good}}, false)
	wantStatus(t, resp, http.StatusSeeOther)
	if n := a.count("parties"); n != 3 {
		t.Errorf("%d parties after the import", n)
	}
}

func TestEditLocation(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	farm, err := a.svc.CreateParty(ctx, inventory.NewParty{PGLN: validGLN(), Name: "Valley Farm", Roles: []string{"supplier"}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := a.svc.CreateLocation(ctx, inventory.NewLocation{GLN: validGLN(), Name: "Field", Type: "farm", Address: "Road 1"})
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/locations/" + l.ID.String()

	// API: PATCH names the party, then clears it; other fields stay.
	resp := a.do("PATCH", path, `{"party_id": "`+farm.ID.String()+`", "name": "North field"}`)
	wantStatus(t, resp, http.StatusOK)
	got := decode[map[string]any](t, resp)
	if got["party_id"] != farm.ID.String() || got["party_name"] != "Valley Farm" || got["ours"] != false ||
		got["name"] != "North field" || got["address"] != "Road 1" || got["gln"] != l.GLN {
		t.Errorf("patched %v", got)
	}
	resp = a.do("PATCH", path, `{"party_id": null}`)
	wantStatus(t, resp, http.StatusOK)
	if got := decode[map[string]any](t, resp); got["party_id"] != nil || got["ours"] != true {
		t.Errorf("party cleared: %v", got)
	}
	for _, tt := range []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"unknown party", path, `{"party_id": "` + uuid.NewString() + `"}`, 404, ""},
		{"party not a UUID", path, `{"party_id": 7}`, 422, "party_id"},
		{"own parent", path, `{"parent_id": "` + l.ID.String() + `"}`, 422, "parent_id"},
		{"bad GLN", path, `{"gln": "0614141000013"}`, 422, "gln"},
		{"unknown field", path, `{"kind": "farm"}`, 422, "kind"},
		{"unknown location", "/api/locations/" + uuid.NewString(), `{"name": "x"}`, 404, ""},
	} {
		resp := a.do("PATCH", tt.path, tt.body)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d %s", tt.name, resp.StatusCode, readBody(t, resp))
			continue
		}
		if pr := decode[problemOut](t, resp); tt.field != "" && pr.field(tt.field) == "" {
			t.Errorf("%s: %+v", tt.name, pr)
		}
	}
	resp = a.do("PATCH", path, `{"name": "x"}`, "If-Match", `"v1"`)
	wantStatus(t, resp, http.StatusPreconditionFailed)

	// UI: the list links to the edit form, prefilled; errors keep entries.
	_, doc := parseDoc(t, a.get("/locations", false))
	if testid(doc, "edit-location").AttrOr("href", "") != "/locations/"+l.ID.String()+"/edit" {
		t.Errorf("edit link %q", testid(doc, "edit-location").AttrOr("href", ""))
	}
	edit := "/locations/" + l.ID.String() + "/edit"
	resp = a.get(edit, false)
	wantStatus(t, resp, http.StatusOK)
	_, doc = parseDoc(t, resp)
	if testid(doc, "nl-gln").AttrOr("value", "") != l.GLN || doc.Find(`#nl-type option[selected]`).AttrOr("value", "") != "farm" {
		t.Error("edit form not prefilled")
	}
	form := url.Values{"gln": {l.GLN}, "name": {""}, "type": {"farm"}, "address": {"Road 2"}, "party_id": {farm.ID.String()}}
	resp = a.postForm(edit, form, true)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	_, doc = parseDoc(t, resp)
	if testid(doc, "error-nl-name").Length() != 1 || doc.Find(`#nl-party option[selected]`).AttrOr("value", "") != farm.ID.String() ||
		doc.Find(`#nl-address`).AttrOr("value", "") != "Road 2" {
		t.Error("edit error not shown, or entries lost")
	}
	form.Set("name", "South field")
	resp = a.postForm(edit, form, false)
	wantStatus(t, resp, http.StatusSeeOther)
	saved, err := a.svc.GetLocation(ctx, l.ID)
	if err != nil || saved.Name != "South field" || saved.Address != "Road 2" || saved.PartyName != "Valley Farm" {
		t.Errorf("saved %+v, %v", saved, err)
	}
	// A viewer is not offered the edit link.
	viewer := a.sessionFor(a.newUser(roleViewer))
	_, doc = parseDoc(t, a.doAs(viewer, "GET", "/locations", nil))
	if testid(doc, "edit-location").Length() != 0 {
		t.Error("a viewer is offered the edit link")
	}
}
