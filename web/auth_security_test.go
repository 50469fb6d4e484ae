package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"batchtrack/gs1"

	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/web/ratelimit"
)

var gtinSeq atomic.Int64

// distinctGTIN never repeats within a test binary (validGTIN drops a digit
// of its counter, so neighbours can collide).
func distinctGTIN() string {
	body := fmt.Sprintf("07%011d", gtinSeq.Add(1))
	return body + string(gs1.CheckDigit(body))
}

func TestCSRF(t *testing.T) {
	a := newTestApp(t)
	u := a.newUser(roleOperator)
	session := a.sessionFor(u)
	products := func() int {
		t.Helper()
		return len(decode[struct {
			Items []productJSON `json:"items"`
		}](t, a.do("GET", "/api/products?limit=100", nil)).Items)
	}
	newProduct := func() map[string]any { return map[string]any{"gtin": distinctGTIN(), "name": "Coffee"} }

	before := products()
	for _, tc := range []struct {
		name    string
		cred    credential
		headers []string
		want    int
	}{
		{"session without a token", credential{Cookie: session.Cookie}, nil, 403},
		{"session with a wrong token", credential{Cookie: session.Cookie, CSRF: "wrong" + session.CSRF}, nil, 403},
		{"session with another session's token", credential{Cookie: session.Cookie, CSRF: a.sessionFor(u).CSRF}, nil, 403},
		{"right token sent cross-site", session, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"right token from a foreign origin", session, []string{"Origin", "https://evil.example"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := a.doAs(tc.cred, "POST", "/api/products", newProduct(), tc.headers...)
			body := readBody(t, resp)
			if resp.StatusCode != tc.want || !strings.Contains(body, "/problems/csrf") {
				t.Errorf("status %d, body %.200s; want %d /problems/csrf", resp.StatusCode, body, tc.want)
			}
		})
	}
	if n := products(); n != before {
		t.Fatalf("refused requests changed the data: %d products, had %d", n, before)
	}
	if resp := a.doAs(session, "POST", "/api/products", newProduct(), "Sec-Fetch-Site", "same-origin", "Origin", "http://example.com"); resp.StatusCode != 201 {
		t.Errorf("session with its token: %d, want 201", resp.StatusCode)
	}
	if resp := a.doAs(bearer(a.tokenFor(u)), "POST", "/api/products", newProduct(), "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 201 {
		t.Errorf("bearer without a CSRF token: %d, want 201 (exempt)", resp.StatusCode)
	}
	if n := products(); n != before+2 {
		t.Errorf("%d products, want %d", n, before+2)
	}

	// A plain form carries the token as _csrf.
	admin := a.sessionFor(a.newUser(roleAdmin))
	form := url.Values{"email": {"new@example.com"}, "role": {"viewer"}}
	resp := a.doAs(credential{Cookie: admin.Cookie}, "POST", "/admin/users", form.Encode())
	if resp.StatusCode != 403 {
		t.Errorf("form without _csrf: %d, want 403", resp.StatusCode)
	}
	if _, err := a.auth.UserByEmail(context.Background(), "new@example.com"); err == nil {
		t.Fatal("the refused form created the user")
	}
	form.Set("_csrf", admin.CSRF)
	if resp := a.doAs(credential{Cookie: admin.Cookie}, "POST", "/admin/users", form.Encode()); resp.StatusCode != 201 {
		t.Errorf("form with _csrf: %d, want 201", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	a := newTestApp(t)
	admin := a.sessionFor(a.newUser(roleAdmin))
	for _, tc := range []struct {
		name    string
		cred    credential
		path    string
		noStore bool
	}{
		{"health", anonymousCred, "/healthz", false},
		{"login page", anonymousCred, "/login", true},
		{"anonymous API", anonymousCred, "/api/batches", false},
		{"anonymous page", anonymousCred, "/admin/users", false},
		{"API with a token", bearer(a.adminToken), "/api/batches", true},
		{"page with a session", admin, "/admin/users", true},
		{"not found", admin, "/no/such/page", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := a.doAs(tc.cred, "GET", tc.path, nil)
			resp.Body.Close()
			h := resp.Header
			want := map[string]string{
				"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "same-origin",
				"X-Frame-Options":         "DENY",
			}
			for k, v := range want {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
			if h.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS over plain http")
			}
			if tc.noStore && h.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", h.Get("Cache-Control"))
			}
		})
	}

	t.Run("TLS", func(t *testing.T) {
		a := newTestApp(t, appOptions{auth: AuthConfig{CookieSecure: true}})
		u := a.newUser(roleViewer)
		resp := a.loginForm(u.Email, u.Password, "")
		if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
			t.Errorf("HSTS = %q", got)
		}
		var found bool
		for _, c := range resp.Cookies() {
			if c.Name == "__Host-bt_session" {
				found = c.Secure && c.HttpOnly && c.Path == "/" && c.Domain == ""
			}
		}
		if !found {
			t.Errorf("want a Secure, HttpOnly __Host- session cookie; got %v", resp.Header.Values("Set-Cookie"))
		}
	})
}

func TestLoginThrottle(t *testing.T) {
	clock := newTestClock()
	a := newTestApp(t, appOptions{auth: AuthConfig{LoginLimiter: ratelimit.NewMemory(ratelimit.MemoryConfig{Now: clock.Now})}})
	u := a.newUser(roleViewer)
	login := func(password string) *http.Response {
		t.Helper()
		resp := a.loginForm(u.Email, password, "")
		resp.Body.Close()
		return resp
	}
	expect := func(step string, resp *http.Response, status int) {
		t.Helper()
		if resp.StatusCode != status {
			t.Fatalf("%s: status %d, want %d", step, resp.StatusCode, status)
		}
	}
	retryAfter := func(resp *http.Response) time.Duration {
		n, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return time.Duration(n) * time.Second
	}

	// Documented: 5 attempts a minute per account, then a wait.
	for i := range 5 {
		expect("wrong password "+strconv.Itoa(i+1), login("wrong password!"), 401)
	}
	resp := login(u.Password)
	expect("6th attempt within a minute, right password", resp, 429)
	if d := retryAfter(resp); d < 50*time.Second || d > time.Minute {
		t.Errorf("Retry-After %s, want about a minute", d)
	}
	clock.Advance(61 * time.Second)
	expect("right password after the short cool-down", login(u.Password), 303)

	// Documented: 10 attempts per 15 minutes per account, then refused.
	for i := range 4 {
		expect("wrong password "+strconv.Itoa(i+7), login("wrong password!"), 401)
	}
	clock.Advance(61 * time.Second)
	resp = login(u.Password)
	expect("11th attempt within 15 minutes", resp, 429)
	if d := retryAfter(resp); d < 10*time.Minute || d > 15*time.Minute {
		t.Errorf("Retry-After %s, want up to 15 minutes", d)
	}
	clock.Advance(retryAfter(resp))
	expect("right password after the long cool-down", login(u.Password), 303)

	// Documented: 30 attempts per 15 minutes per client address, whatever
	// the accounts.
	clock.Advance(time.Hour)
	for i := range 30 {
		expect("spray "+strconv.Itoa(i+1), a.loginForm("nobody"+strconv.Itoa(i)+"@example.com", "whatever password", ""), 401)
	}
	expect("31st attempt from one address", login(u.Password), 429)
}

// xssPayloads are stored in every free-text field and must come back
// escaped in HTML and verbatim in JSON.
var xssPayloads = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`'><svg onload=alert(1)>`,
	`javascript:alert(1)`,
	`{{7*7}}`,
	`</textarea><script>alert(2)</script>`,
	`&lt;b&gt;`,
}

// rawMarkers must never appear in a page: each would be live markup.
var rawMarkers = []string{`<script>alert`, `<img src=x`, `<svg onload`, `href="javascript:`, `&lt;b&gt;`}

func TestXSSPayloadsAreEscaped(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	all := strings.Join(xssPayloads, " ")
	loc, err := a.svc.CreateLocation(ctx, inventory.NewLocation{GLN: validGLN(), Name: "L " + all, Type: "factory", Address: all})
	if err != nil {
		t.Fatal(err)
	}
	prod, err := a.svc.CreateProduct(ctx, inventory.NewProduct{GTIN: validGTIN(), Name: "P " + all, Description: all, Category: "c" + xssPayloads[0], Unit: "kg"})
	if err != nil {
		t.Fatal(err)
	}
	expiry := time.Now().AddDate(0, 1, 0)
	b, err := a.svc.CreateBatch(ctx, inventory.System, inventory.NewBatch{
		ProductID: prod.ID, LocationID: loc.ID, ProductionDate: time.Now().AddDate(0, 0, -1), ExpiryDate: &expiry,
		QuantityProduced: quantity.MustParse("10"), QualityStatus: "approved", Notes: all,
	})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := a.svc.RecordEvent(ctx, inventory.Actor{Name: "x" + xssPayloads[1], Source: "api"}, inventory.NewEvent{
		EventType: "ObjectEvent", Action: "OBSERVE", BizStep: "inspecting",
		QuantityList: []inventory.QuantityItem{{BatchID: b.ID, Quantity: quantity.MustParse("1"), UOM: "kg"}}, Notes: all,
	})
	if err != nil {
		t.Fatal(err)
	}
	admin := a.sessionFor(a.newUser(roleAdmin))
	form := url.Values{"email": {"xss@example.com"}, "role": {"viewer"}, "display_name": {strings.Join(xssPayloads[:5], "")}, "_csrf": {admin.CSRF}}
	if resp := a.doAs(credential{Cookie: admin.Cookie}, "POST", "/admin/users", form.Encode()); resp.StatusCode != 201 {
		t.Fatalf("create user: %d %s", resp.StatusCode, readBody(t, resp))
	}

	// JSON gives the text back exactly as stored.
	if got := decode[productJSON](t, a.do("GET", "/api/products/"+prod.ID.String(), nil)); got.Name != "P "+all {
		t.Errorf("API product name = %q", got.Name)
	}
	if got := decode[batchJSON](t, a.do("GET", "/api/batches/"+b.ID.String(), nil)); got.Notes != all {
		t.Errorf("API batch notes = %q", got.Notes)
	}

	// Every page and fragment of the app, with the objects above.
	ids := map[string]string{"batches": b.ID.String(), "products": prod.ID.String(), "locations": loc.ID.String(), "events": ev.ID.String()}
	shown := map[string]bool{}
	for _, r := range appRoutes(a) {
		if r.method != http.MethodGet || strings.HasPrefix(r.path, "/api/") || routeRoles[r.method+" "+r.path] == "public" {
			continue
		}
		section := strings.Split(strings.TrimPrefix(r.path, "/"), "/")[0]
		path := routeParam.ReplaceAllStringFunc(r.path, func(p string) string {
			if p == ":id" {
				if id, ok := ids[section]; ok {
					return id
				}
			}
			return map[string]string{":gtin": prod.GTIN, ":lot": b.BatchNumber}[p]
		})
		for _, fragment := range []bool{false, true} {
			var headers []string
			if fragment {
				headers = []string{"HX-Request", "true"}
			}
			resp := a.doAs(admin, "GET", path, nil, headers...)
			body := readBody(t, resp)
			if !strings.Contains(resp.Header.Get("Content-Type"), "html") {
				continue
			}
			for _, m := range rawMarkers {
				if strings.Contains(body, m) {
					t.Errorf("GET %s (htmx %v) contains unescaped %q", path, fragment, m)
				}
			}
			if strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				shown[r.path] = true
			}
		}
	}
	t.Logf("pages showing the stored payloads (escaped): %v", shown)
	// The pages that must show them, so the check above checks something.
	for _, p := range []string{"/admin/users", "/batches/:id", "/batches", "/products", "/events", "/locations"} {
		if _, registered := routeRoles["GET "+p]; registered && !shown[p] {
			t.Errorf("GET %s does not show the stored text (escaped) at all", p)
		}
	}
}
