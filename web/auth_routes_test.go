package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"batchtrack/auth"
)

// routeRoles is the role matrix (auth/README.md) as the routes carry it:
// the least role each registered route needs, or "public". Every route the
// app registers must be listed here: a new route cannot slip through
// without a decision about who may call it.
var routeRoles = map[string]string{
	"GET /healthz": "public",
	"GET /readyz":  "public",
	"GET /login":   "public",
	"POST /login":  "public",

	"GET /01/:gtin/10/:lot":            "viewer",
	"GET /01/:gtin/10/:lot/21/:serial": "viewer",

	"GET /api/products":        "viewer",
	"POST /api/products":       "operator",
	"GET /api/products/:id":    "viewer",
	"GET /api/locations":       "viewer",
	"POST /api/locations":      "operator",
	"GET /api/locations/:id":   "viewer",
	"PATCH /api/locations/:id": "operator",

	"GET /api/parties":         "viewer",
	"POST /api/parties":        "operator",
	"POST /api/parties/import": "operator",
	"GET /api/parties/:id":     "viewer",
	"PATCH /api/parties/:id":   "operator",

	"GET /api/batches":                  "viewer",
	"POST /api/batches":                 "operator",
	"POST /api/batches/consume":         "operator",
	"GET /api/batches/:id":              "viewer",
	"PATCH /api/batches/:id":            "operator",
	"POST /api/batches/:id/consume":     "operator",
	"POST /api/batches/:id/adjust":      "admin",
	"GET /api/batches/:id/consumptions": "viewer",
	"GET /api/batches/:id/qr.png":       "viewer",
	"GET /api/batches/:id/qr.svg":       "viewer",
	"POST /api/consumptions":            "operator",
	"GET /api/batches/:id/balance":      "viewer",
	"GET /api/products/:id/fefo":        "viewer",
	"GET /api/batches/:id/trace":        "viewer",
	"GET /api/trace":                    "viewer",

	// Stock movements.
	"POST /api/receipts":               "operator",
	"POST /api/shipments":              "operator",
	"POST /api/transformations":        "operator",
	"POST /api/destructions":           "operator",
	"POST /api/commissions":            "operator",
	"POST /api/moves":                  "operator",
	"POST /api/events/:id/corrections": "operator",

	"GET /api/events":     "viewer",
	"POST /api/events":    "operator",
	"GET /api/events/:id": "viewer",

	"GET /api/fsma/spreadsheet":        "viewer",
	"GET /api/fsma204":                 "viewer",
	"POST /api/recalls/impact":         "viewer",
	"POST /api/mock-recalls":           "admin",
	"GET /api/mock-recalls":            "viewer",
	"GET /api/mock-recalls/:id":        "viewer",
	"POST /api/recalls":                "admin",
	"GET /api/recalls":                 "viewer",
	"GET /api/recalls/:id":             "viewer",
	"GET /api/recalls/:id/report.csv":  "viewer",
	"POST /api/recalls/:id/recoveries": "operator",
	"POST /api/recalls/:id/close":      "admin",

	// EPCIS 2.0 REST binding.
	"GET /epcis/":                   "viewer",
	"OPTIONS /epcis/capture":        "viewer",
	"POST /epcis/capture":           "operator",
	"GET /epcis/capture":            "viewer",
	"GET /epcis/capture/:captureID": "viewer",
	"OPTIONS /epcis/events":         "viewer",
	"GET /epcis/events":             "viewer",
	"POST /epcis/events":            "operator",
	"GET /epcis/events/:eventID":    "viewer",

	"GET /static/*": "public",

	// Staff pages.
	"GET /":                        "viewer",
	"GET /dashboard":               "viewer",
	"GET /batches":                 "viewer",
	"GET /batches.csv":             "viewer",
	"GET /batches/new":             "operator",
	"POST /batches":                "operator",
	"GET /batches/import":          "operator",
	"POST /batches/import/preview": "operator",
	"POST /batches/import":         "operator",
	"GET /batches/:id":             "viewer",
	"GET /batches/:id/balance":     "viewer",
	"GET /batches/:id/trace":       "viewer",
	"POST /batches/:id/consume":    "operator",
	"GET /batches/:id/edit":        "operator",
	"POST /batches/:id/edit":       "operator",
	"POST /batches/:id/approve":    "operator",
	"POST /batches/:id/reject":     "operator",
	"POST /batches/:id/recall":     "admin",
	"POST /batches/:id/hold":       "operator",
	"POST /batches/:id/destroy":    "operator",
	"GET /stock/commission":        "operator",
	"POST /stock/commission":       "operator",
	"GET /batches/:id/label":       "viewer",
	"GET /labels":                  "viewer",
	"GET /events":                  "viewer",
	"GET /events.csv":              "viewer",
	"GET /events/new":              "operator",
	"POST /events":                 "operator",
	"GET /events/upload":           "operator",
	"POST /events/upload":          "operator",
	"GET /events/upload/:id":       "viewer",
	"GET /events/:id":              "viewer",
	"GET /fsma":                    "viewer",
	"GET /recalls":                 "viewer",
	"GET /recalls/new":             "admin",
	"POST /recalls/preview":        "admin",
	"POST /recalls/mock":           "admin",
	"POST /recalls":                "admin",
	"GET /recalls/:id":             "viewer",
	"GET /recalls/:id/report.csv":  "viewer",
	"POST /recalls/:id/recoveries": "operator",
	"POST /recalls/:id/close":      "admin",
	"GET /mock-recalls/:id":        "viewer",
	"POST /events/:id/correct":     "operator",
	"GET /stock/receive":           "operator",
	"POST /stock/receive":          "operator",
	"GET /stock/ship":              "operator",
	"POST /stock/ship":             "operator",
	"GET /stock/transform":         "operator",
	"POST /stock/transform":        "operator",
	"GET /stock/move":              "operator",
	"POST /stock/move":             "operator",
	"GET /pickers/lots":            "operator",
	"GET /pickers/locations":       "operator",
	"GET /pickers/fefo":            "operator",
	"GET /products":                "viewer",
	"GET /products/new":            "operator",
	"POST /products":               "operator",
	"GET /locations":               "viewer",
	"GET /locations/new":           "operator",
	"POST /locations":              "operator",
	"GET /locations/:id/edit":      "operator",
	"POST /locations/:id/edit":     "operator",
	"GET /parties":                 "viewer",
	"GET /parties/new":             "operator",
	"POST /parties":                "operator",
	"GET /parties/import":          "operator",
	"POST /parties/import/preview": "operator",
	"POST /parties/import":         "operator",
	"GET /parties/:id":             "viewer",
	"GET /parties/:id/edit":        "operator",
	"POST /parties/:id/edit":       "operator",

	// Operations: the dashboard, Prometheus (an admin's token), its JSON.
	"GET /dashboard/live": "viewer",
	"GET /metrics":        "admin",
	"GET /api/metrics":    "viewer",

	"POST /logout":                   "viewer",
	"GET /admin/users":               "admin",
	"POST /admin/users":              "admin",
	"POST /admin/users/:id":          "admin",
	"POST /admin/users/:id/password": "admin",
	"GET /admin/tokens":              "admin",
	"POST /admin/tokens":             "admin",
	"POST /admin/tokens/:id/revoke":  "admin",
	"POST /admin/tokens/:id/limits":  "admin",
}

type registeredRoute struct{ method, path string }

// appRoutes lists the app's routes as Fiber holds them, without the HEAD
// twins of GETs and without middleware.
func appRoutes(a *testApp) []registeredRoute {
	seen := map[registeredRoute]bool{}
	var out []registeredRoute
	for _, r := range a.srv.App().GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "USE" {
			continue
		}
		rr := registeredRoute{r.Method, r.Path}
		if !seen[rr] {
			seen[rr] = true
			out = append(out, rr)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

var routeParam = regexp.MustCompile(`:[A-Za-z_]+\??|\*`)

func TestEveryRouteIsInTheRoleMatrix(t *testing.T) {
	a := newTestApp(t)
	registered := map[string]bool{}
	for _, r := range appRoutes(a) {
		key := r.method + " " + r.path
		registered[key] = true
		if _, ok := routeRoles[key]; !ok {
			t.Errorf("route %s is not in routeRoles: add it with the least role that may call it (and to auth/README.md)", key)
		}
	}
	for key := range routeRoles {
		if !registered[key] {
			t.Errorf("routeRoles lists %s, which the app does not register", key)
		}
	}
}

// TestRouteGuards calls every registered route anonymously and as each
// role, with a token and with a session: anonymous callers get 401 (API)
// or the login page, smaller roles 403, and the matrix's roles anything
// but 401/403.
func TestRouteGuards(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("1000")
	ctx := context.Background()
	product, err := a.svc.GetProduct(ctx, b.ProductID)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{":id": b.ID.String(), ":gtin": product.GTIN, ":lot": b.BatchNumber, "*": "app.css"}
	concrete := func(path string) string {
		return routeParam.ReplaceAllStringFunc(path, func(p string) string {
			if v, ok := values[strings.TrimSuffix(p, "?")]; ok {
				return v
			}
			return "x"
		})
	}
	users := map[auth.Role]testUser{}
	tokens := map[auth.Role]string{}
	for _, r := range auth.Roles() {
		users[r] = a.newUser(r)
		tokens[r] = a.tokenFor(users[r])
	}
	newSession := func(u testUser) credential {
		sess, err := a.auth.StartSession(ctx, u.User, auth.ClientInfo{})
		if err != nil {
			t.Fatal(err)
		}
		return credential{Cookie: sess.Token, CSRF: sess.CSRFToken}
	}

	for _, r := range appRoutes(a) {
		key := r.method + " " + r.path
		need, listed := routeRoles[key]
		if !listed {
			continue // TestEveryRouteIsInTheRoleMatrix reports it
		}
		path := concrete(r.path)
		api := strings.HasPrefix(path, "/api/") || path == "/metrics" || strings.HasPrefix(path, "/epcis/") // as isAPI answers
		forbidden := `"type":"/problems/forbidden"`
		if strings.HasPrefix(path, "/epcis/") {
			forbidden = `"type":"epcisException:SecurityException"` // the binding's name for it
		}
		var body any
		if r.method != http.MethodGet {
			if api {
				body = map[string]any{}
			} else {
				body = ""
			}
		}
		t.Run(key, func(t *testing.T) {
			resp := a.doAs(anonymousCred, r.method, path, body)
			resp.Body.Close()
			switch {
			case need == "public":
				// POST /login without its form token is a 403 of its own.
				if resp.StatusCode == 401 || strings.HasPrefix(resp.Header.Get("Location"), "/login") {
					t.Errorf("anonymous on a public route: %d %s", resp.StatusCode, resp.Header.Get("Location"))
				}
				return
			case api:
				if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("anonymous: %d (WWW-Authenticate %q), want 401 with a Bearer challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
				}
			default:
				if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
					t.Errorf("anonymous: %d to %q, want 303 to the login page", resp.StatusCode, resp.Header.Get("Location"))
				}
			}
			for _, role := range auth.Roles() {
				allowed := role.Allows(auth.Role(need))
				for _, via := range []string{"token", "session"} {
					cred := bearer(tokens[role])
					if via == "session" {
						cred = newSession(users[role])
					}
					resp := a.doAs(cred, r.method, path, body)
					got := readBody(t, resp)
					denied := resp.StatusCode == 401 || resp.StatusCode == 403
					if allowed && denied {
						t.Errorf("%s by %s: %d, want it allowed: %.200s", role, via, resp.StatusCode, got)
					}
					if !allowed && resp.StatusCode != 403 {
						t.Errorf("%s by %s: %d, want 403", role, via, resp.StatusCode)
					}
					if !allowed && api && !strings.Contains(got, forbidden) {
						t.Errorf("%s by %s: body %.200s, want a %s problem", role, via, got, forbidden)
					}
				}
			}
		})
	}
}

// A PATCH that recalls a batch needs admin; other status changes are an
// operator's.
func TestRecallNeedsAdmin(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	operator := bearer(a.tokenFor(a.newUser(roleOperator)))
	admin := bearer(a.tokenFor(a.newUser(roleAdmin)))
	for _, tc := range []struct {
		name string
		cred credential
		body string
		want int
	}{
		{"operator recalls", operator, `{"quality_status":"recalled","reason":"x"}`, 403},
		{"operator recalls, other case (not a status at all)", operator, `{"quality_status":"RECALLED","reason":"x"}`, 422},
		// Duplicate keys are refused before anyone reads them.
		{"operator hides it in a duplicate key", operator, `{"quality_status":"approved","quality_status":"recalled","reason":"x"}`, 422},
		{"operator rejects", operator, `{"quality_status":"rejected","reason":"x"}`, 200},
		{"admin recalls", admin, `{"quality_status":"recalled","reason":"x"}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("PATCH", "/api/batches/"+b.ID.String(), strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tc.cred.Bearer)
			resp, err := a.srv.App().Test(req, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d: %.200s", resp.StatusCode, tc.want, body)
			}
		})
	}
}
