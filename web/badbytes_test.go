package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"batchtrack/inventory"
)

// badTexts are what a client can send that no field may hold: NUL and
// other control characters, invalid UTF-8, an overlong encoding, an
// encoded surrogate, each as raw bytes.
var badTexts = []string{"\x00", "a\x00b", "\x01", "\x7f", "\xff\xfe", "\xc0\x80", "\xed\xa0\x80", "caf\xe9"}

// badJSONStrings are the same inside JSON strings, raw or escaped, with
// lone surrogates in escapes.
var badJSONStrings = []string{`"\u0000"`, `"x\u0001y"`, `"\ud800"`, `"\udfff"`, `"\ud800x"`, "\"\xff\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\""}

// Every route, every form and every JSON field of the API, sent bad bytes:
// no answer is a 5xx and nothing in the database changes.
func TestBadBytesNeverFailOrChangeAnything(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("100")
	admin := a.newUser(roleAdmin)
	session := a.sessionFor(admin)
	id := b.ID.String()
	party, err := a.svc.CreateParty(context.Background(), inventory.NewParty{PGLN: validGLN(), Name: "Farm", Roles: []string{"supplier"}})
	if err != nil {
		t.Fatal(err)
	}
	partyID := party.ID.String()
	w := &stockWorld{a: a}
	farm, shop, store := a.location("Farm", "farm"), a.location("Shop", "retailer"), a.location("Store", "warehouse")
	w.partner(farm, "supplier")
	w.partner(shop, "customer")
	pid, lid := b.ProductID.String(), b.LocationID.String()
	before := a.digest()

	type request struct {
		method, path, contentType string
		body                      []byte
		headers                   []string
	}
	var requests []request
	api := func(method, path string, body []byte, headers ...string) {
		requests = append(requests, request{method, path, "application/json", body,
			append([]string{"Authorization", "Bearer " + a.adminToken}, headers...)})
	}
	ui := func(method, path, contentType string, body []byte, headers ...string) {
		requests = append(requests, request{method, path, contentType, body,
			append([]string{"Cookie", "bt_session=" + session.Cookie, "X-CSRF-Token", session.CSRF}, headers...)})
	}

	// Every registered route, with bad query values and names.
	seen := map[string]bool{}
	for _, r := range a.srv.App().GetRoutes(true) {
		if r.Method == "HEAD" || r.Method == "USE" || seen[r.Method+r.Path] {
			continue
		}
		seen[r.Method+r.Path] = true
		path := strings.NewReplacer(":id", id, ":gtin", b.ProductGTIN, ":lot", b.BatchNumber, "*", "app.css").Replace(r.Path)
		for _, bad := range badTexts {
			q := "?q=" + url.QueryEscape(bad) + "&" + url.QueryEscape("n"+bad) + "=1"
			if strings.HasPrefix(path, "/api/") || path == "/metrics" {
				api(r.Method, path+q, nil)
			} else {
				ui(r.Method, path+q, "", nil)
			}
		}
		if r.Method == "POST" && !strings.HasPrefix(path, "/api/") {
			for _, bad := range badTexts {
				form := url.Values{}
				for _, f := range []string{"name", "gtin", "gln", "email", "password", "notes", "reason", "quantity_to_consume",
					"batch_number", "product_id", "location_id", "production_date", "biz_step", "role", "limits"} {
					form.Set(f, bad)
				}
				ui("POST", path, "application/x-www-form-urlencoded", []byte(form.Encode()))
			}
		}
	}
	// Bad bytes in the path itself.
	for _, bad := range badTexts {
		api("GET", "/api/batches/"+url.PathEscape(bad), nil)
		ui("GET", "/01/"+b.ProductGTIN+"/10/"+url.PathEscape(bad), "", nil)
		api("GET", "/api/trace?gtin="+b.ProductGTIN+"&lot="+url.QueryEscape(bad), nil)
		api("GET", "/api/trace?gtin="+url.QueryEscape(bad)+"&lot="+url.QueryEscape(b.BatchNumber), nil)
		api("GET", "/api/trace?digital_link="+url.QueryEscape("https://id.gs1.org/01/"+b.ProductGTIN+"/10/"+bad), nil)
		api("GET", "/api/batches/"+id+"/trace?direction="+url.QueryEscape(bad)+"&depth="+url.QueryEscape(bad), nil)
		ui("GET", "/batches/"+id+"/trace?direction="+url.QueryEscape(bad)+"&depth="+url.QueryEscape(bad), "", nil)
		// The FSMA spreadsheet's parameters, each bad in turn.
		for _, field := range []string{"product_id", "gtin", "lot", "from", "to", "format"} {
			v := url.Values{"gtin": {b.ProductGTIN}, "lot": {b.BatchNumber}, "from": {"2026-01-01"}, "to": {"2026-01-31"}, "format": {"xlsx"}}
			v.Set(field, bad)
			api("GET", "/api/fsma/spreadsheet?"+v.Encode(), nil)
			v.Set("download", "1")
			ui("GET", "/fsma?"+v.Encode(), "", nil)
		}
	}
	// Every string of every API write body, and its keys.
	templates := []struct{ method, path, body string }{
		{"POST", "/api/products", `{"gtin": "` + validGTIN() + `", "name": "N", "description": "D", "category": "C", "unit": "kg"}`},
		{"POST", "/api/locations", `{"gln": "` + validGLN() + `", "name": "N", "type": "warehouse", "address": "A", "party_id": "` + partyID + `"}`},
		{"PATCH", "/api/locations/" + b.LocationID.String(), `{"gln": "` + validGLN() + `", "name": "N", "type": "warehouse", "address": "A",
			"party_id": "` + partyID + `", "parent_id": null}`},
		{"POST", "/api/parties", `{"pgln": "` + validGLN() + `", "name": "N", "roles": ["supplier"], "address": "A", "contact_name": "C",
			"email": "a@b.example", "phone": "1", "notes": "n", "role": "customer", "contact": "D"}`},
		{"PATCH", "/api/parties/" + partyID, `{"pgln": "` + validGLN() + `", "name": "N", "roles": ["carrier"], "address": "A",
			"contact_name": "C", "email": "a@b.example", "phone": "1", "notes": "n"}`},
		{"POST", "/api/batches", `{"product_id": "` + b.ProductID.String() + `", "location_id": "` + b.LocationID.String() +
			`", "production_date": "2026-11-01", "quantity_produced": "5", "notes": "n", "batch_number": "LOTX1", "unit_of_measure": "kg"}`},
		{"POST", "/api/batches/" + id + "/consume", `{"quantity_to_consume": "1", "reason": "r"}`},
		{"POST", "/api/batches/consume", `{"batch_id": "` + id + `", "quantity_to_consume": "1", "reason": "r"}`},
		{"PATCH", "/api/batches/" + id, `{"notes": "n", "reason": "r", "production_date": "2026-11-01"}`},
		{"POST", "/api/batches/" + id + "/adjust", `{"quantity": "1", "reason": "r"}`},
		{"POST", "/api/consumptions", `{"items": [{"batch_id": "` + id + `", "quantity_to_consume": "1"}], "reason": "r"}`},
		{"POST", "/api/events", `{"event_type": "ObjectEvent", "action": "OBSERVE", "biz_step": "inspecting", "disposition": "active",
			"event_timezone": "+01:00", "batch_ids": ["` + id + `"], "notes": "n", "ilmd": {"k": "v", "nested": ["w"]},
			"quantity_list": [{"batch_id": "` + id + `", "quantity": "1", "uom": "KGM"}]}`},
		{"POST", "/api/receipts", `{"product_id": "` + pid + `", "batch_number": "LOTR1", "location_id": "` + lid +
			`", "quantity": "3", "unit": "kg", "ship_from_id": "` + farm.ID.String() + `", "production_date": "2026-11-01",
			"expiry_date": "2027-11-01", "tlc_source": "` + farm.GLN + `", "references": [{"type": "po", "id": "PO-1"}],
			"event_time": "2026-11-02T10:00:00Z", "notes": "n"}`},
		{"POST", "/api/shipments", `{"items": [{"batch_id": "` + id + `", "quantity": "1"}], "ship_to_id": "` + shop.ID.String() +
			`", "references": [{"type": "desadv", "id": "D-1"}], "event_time": "2026-11-02T10:00:00Z", "notes": "n"}`},
		{"POST", "/api/transformations", `{"inputs": [{"batch_id": "` + id + `", "quantity": "1"}], "outputs": [{"product_id": "` + pid +
			`", "batch_number": "LOTT1", "quantity": "1", "unit": "kg", "production_date": "2026-11-01", "expiry_date": "2027-11-01"}],
			"location_id": "` + lid + `", "yield_reason": "y", "event_time": "2026-11-02T10:00:00Z", "notes": "n"}`},
		{"POST", "/api/destructions", `{"batch_id": "` + id + `", "quantity": "1", "disposition": "disposed", "reason": "r",
			"event_time": "2026-11-02T10:00:00Z"}`},
		{"POST", "/api/commissions", `{"product_id": "` + pid + `", "batch_number": "LOTC1", "location_id": "` + lid +
			`", "quantity": "1", "unit": "kg", "stage": "cooling", "harvest_location": "h", "field": "f", "harvest_date": "2026-11-01",
			"cooling_date": "2026-11-01", "packing_date": "2026-11-02", "expiry_date": "2027-11-01", "event_time": "2026-11-02T10:00:00Z", "notes": "n"}`},
		{"POST", "/api/moves", `{"batch_id": "` + id + `", "quantity": "1", "to_location_id": "` + store.ID.String() +
			`", "event_time": "2026-11-02T10:00:00Z", "notes": "n"}`},
		{"POST", "/api/events/" + id + "/corrections", `{"reason": "did_not_occur", "corrective_event_ids": ["urn:uuid:` + id + `"], "note": "n"}`},
	}
	for _, tmpl := range templates {
		for _, body := range badBodies(t, tmpl.body) {
			api(tmpl.method, tmpl.path, body)
		}
		// Headers the app reads or stores.
		for _, bad := range badTexts {
			api(tmpl.method, tmpl.path, []byte(tmpl.body), "Idempotency-Key", "k"+bad)
			if tmpl.method == "PATCH" {
				api(tmpl.method, tmpl.path, []byte(tmpl.body), "If-Match", bad)
			}
		}
	}
	// The CSV import with bad bytes in a cell.
	for _, bad := range badTexts {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		fw, _ := w.CreateFormFile("file", "batches.csv")
		fmt.Fprintf(fw, "gtin,gln,batch_number,production_date,quantity_produced,notes\n%s,%s,LOT%s,2026-11-01,5,x%s\n",
			b.ProductGTIN, b.LocationGLN, bad, bad)
		w.Close()
		ui("POST", "/batches/import/preview", w.FormDataContentType(), buf.Bytes())
		ui("POST", "/batches/import", w.FormDataContentType(), buf.Bytes())

		for _, csv := range []string{
			"pgln,name,roles,notes\n" + validGLN() + ",N" + bad + ",supplier,x\n",
			"pgln,name,roles,notes\n" + validGLN() + ",N,supplier" + bad + ",x\n",
			"pgln,name,roles,address,contact_name,email,phone,notes\n" + validGLN() + ",N,,,,,,x" + bad + "\n",
			"pgln,name" + bad + "\n" + validGLN() + ",N\n",
		} {
			api("POST", "/api/parties/import", []byte(csv), "Content-Type", "text/csv")
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			fw, _ := w.CreateFormFile("file", "parties.csv")
			fw.Write([]byte(csv))
			w.Close()
			api("POST", "/api/parties/import", buf.Bytes(), "Content-Type", w.FormDataContentType())
			ui("POST", "/parties/import/preview", w.FormDataContentType(), buf.Bytes())
			ui("POST", "/parties/import", w.FormDataContentType(), buf.Bytes())
		}
	}
	// The parties' pages and forms, with the party's own id.
	for _, bad := range badTexts {
		form := url.Values{}
		for _, f := range []string{"pgln", "name", "roles", "address", "contact_name", "email", "phone", "notes", "is_own"} {
			form.Set(f, bad)
		}
		ui("POST", "/parties/"+partyID+"/edit", "application/x-www-form-urlencoded", []byte(form.Encode()))
		ui("POST", "/parties", "application/x-www-form-urlencoded", []byte(form.Encode()))
		ui("POST", "/locations/"+b.LocationID.String()+"/edit", "application/x-www-form-urlencoded", []byte(form.Encode()))
		ui("GET", "/parties/"+partyID+"?q="+url.QueryEscape(bad), "", nil)
		api("GET", "/api/parties/"+partyID+"?q="+url.QueryEscape(bad), nil)
		api("GET", "/api/parties?own="+url.QueryEscape(bad), nil)
		api("GET", "/api/parties?role="+url.QueryEscape(bad), nil)
		api("GET", "/api/parties/"+url.PathEscape(bad), nil)
	}

	statuses := map[int]int{}
	for _, r := range requests {
		req := httptest.NewRequest(r.method, "/", bytes.NewReader(r.body))
		req.URL = &url.URL{Opaque: r.path}
		req.RequestURI = r.path
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		for i := 0; i+1 < len(r.headers); i += 2 {
			req.Header[r.headers[i]] = []string{r.headers[i+1]}
		}
		resp, err := a.srv.App().Test(req, 30_000)
		if err != nil {
			t.Fatalf("%s %q: %v", r.method, r.path, err)
		}
		statuses[resp.StatusCode]++
		if resp.StatusCode < 300 && r.method != "GET" {
			t.Logf("accepted: %s %q body %q headers %q", r.method, r.path, r.body, r.headers[2:])
		}
		if resp.StatusCode >= 500 {
			t.Errorf("%s %q (body %q, headers %q): %d %s", r.method, r.path, r.body, r.headers, resp.StatusCode, readBody(t, resp))
		}
		resp.Body.Close()
	}
	if after := a.digest(); after != before {
		t.Errorf("the database changed:\n%s", diffLines(before, after))
	}
	t.Logf("%d requests; statuses %v", len(requests), statuses)

	// A login whose User-Agent is not UTF-8 works: that header is only
	// kept for information, so it is cleaned, not refused.
	resp := a.loginForm(admin.Email, admin.Password, "", "User-Agent", "Mozilla\xff\x00/5.0")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with a non-UTF-8 User-Agent: %d %s", resp.StatusCode, readBody(t, resp))
	}
}

// badBodies returns body with each of its strings, and then each of its
// keys, replaced in turn by every bad JSON string, plus a duplicate key.
func badBodies(t *testing.T, body string) [][]byte {
	t.Helper()
	var doc any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("template %s: %v", body, err)
	}
	const mark = "\"@@BAD@@\""
	var out [][]byte
	var walk func(v any, set func(any))
	walk = func(v any, set func(any)) {
		switch x := v.(type) {
		case string:
			set("@@BAD@@")
			js, _ := json.Marshal(doc)
			for _, bad := range badJSONStrings {
				out = append(out, bytes.Replace(js, []byte(mark), []byte(bad), 1))
			}
			set(x)
		case []any:
			for i := range x {
				walk(x[i], func(n any) { x[i] = n })
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k], func(n any) { x[k] = n })
				// The key itself.
				val := x[k]
				delete(x, k)
				x["@@BAD@@"] = val
				js, _ := json.Marshal(doc)
				for _, bad := range badJSONStrings {
					out = append(out, bytes.Replace(js, []byte(mark), []byte(bad), 1))
				}
				delete(x, "@@BAD@@")
				x[k] = val
			}
		}
	}
	walk(doc, func(any) {})
	// A duplicate key at the top level.
	out = append(out, []byte(strings.Replace(body, "{", `{"reason": "a", "reason": "b", `, 1)))
	return out
}

// digest is a fingerprint of every table a request could change.
func (a *testApp) digest() string {
	a.t.Helper()
	var lines []string
	for _, table := range []string{"products", "locations", "parties", "batches", "consumptions", "events", "event_batches",
		"idempotency_keys", "users"} {
		var n int
		var sum string
		if err := a.pool.QueryRow(context.Background(),
			"SELECT count(*), coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM "+table+" t").Scan(&n, &sum); err != nil {
			a.t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("%s: %d rows %s", table, n, sum))
	}
	return strings.Join(lines, "\n")
}

func diffLines(before, after string) string {
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	var out []string
	for i := range b {
		if i < len(a) && a[i] != b[i] {
			out = append(out, "- "+b[i], "+ "+a[i])
		}
	}
	return strings.Join(out, "\n")
}

// A body over the limit gets its 413 as problem+json, whatever its size,
// and the client reads it (no connection reset while it still sends).
func TestOversizedBodyGets413(t *testing.T) {
	a := newTestApp(t, appOptions{anonymous: true}) // straight to the server, no proxy
	base := a.listen()
	for _, size := range []int{BodyLimit + 1, 3 << 20, 16 << 20, 64 << 20} {
		req, err := http.NewRequest("POST", base+"/api/products", bytes.NewReader(bytes.Repeat([]byte("a"), size)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%d bytes: %v", size, err)
			continue
		}
		p := decode[Problem](t, resp)
		if resp.StatusCode != 413 || p.Type != "/problems/body-too-large" {
			t.Errorf("%d bytes: %d %s", size, resp.StatusCode, p.Type)
		}
	}
}

// Oversized headers get a 431 as problem+json.
func TestOversizedHeadersGet431(t *testing.T) {
	a := newTestApp(t, appOptions{anonymous: true})
	base := a.listen()
	req, _ := http.NewRequest("GET", base+"/api/products", nil)
	req.Header.Set("X-Padding", strings.Repeat("p", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	p := decode[Problem](t, resp)
	if resp.StatusCode != 431 || p.Type != "/problems/headers-too-large" {
		t.Errorf("%d %s", resp.StatusCode, p.Type)
	}
}
