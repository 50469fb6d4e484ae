package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"batchtrack/auth"
)

func TestLoginAndLogout(t *testing.T) {
	a := newTestApp(t)
	u := a.newUser(roleOperator)

	resp := a.loginForm(u.Email, u.Password, "/api/batches?limit=1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/api/batches?limit=1" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "bt_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure on http", cookie)
	}
	cred := credential{Cookie: cookie.Value}
	if resp := a.doAs(cred, "GET", "/api/batches", nil); resp.StatusCode != 200 {
		t.Fatalf("with the session: %d", resp.StatusCode)
	}
	sess, err := a.auth.Session(context.Background(), cookie.Value)
	if err != nil {
		t.Fatal(err)
	}
	cred.CSRF = sess.CSRFToken

	resp = a.doAs(cred, "POST", "/logout", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("logout: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if v := cookieValue(resp, "bt_session"); v != "" {
		t.Errorf("logout left the cookie %q", v)
	}
	// The browser may keep the old cookie; the server must not.
	if resp := a.doAs(cred, "GET", "/api/batches", nil); resp.StatusCode != 401 {
		t.Errorf("old cookie after logout on the API: %d, want 401", resp.StatusCode)
	}
	if resp := a.doAs(cred, "GET", "/admin/users", nil); resp.StatusCode != 303 {
		t.Errorf("old cookie after logout on a page: %d, want 303 to login", resp.StatusCode)
	}
	if _, err := a.auth.Session(context.Background(), cookie.Value); err == nil {
		t.Error("the session row outlived logout")
	}
}

func TestLoginRefusals(t *testing.T) {
	a := newTestApp(t)
	u := a.newUser(roleViewer)
	wrong := a.loginForm(u.Email, "not the password", "")
	unknown := a.loginForm("nobody@example.com", u.Password, "")
	wrongBody, unknownBody := readBody(t, wrong), readBody(t, unknown)
	if wrong.StatusCode != 401 || unknown.StatusCode != 401 {
		t.Errorf("wrong password %d, unknown user %d; want 401 for both", wrong.StatusCode, unknown.StatusCode)
	}
	const msg = "Wrong email or password."
	if !strings.Contains(wrongBody, msg) || !strings.Contains(unknownBody, msg) {
		t.Errorf("the two failures do not say the same thing")
	}
	if cookieValue(wrong, "bt_session") != "" {
		t.Error("a failed login set a session cookie")
	}
	if strings.Contains(a.logBuf.String(), "not the password") || strings.Contains(a.logBuf.String(), u.Password) {
		t.Error("a password reached the log")
	}

	// Login CSRF: without the double-submit cookie, or from another site.
	form := url.Values{"email": {u.Email}, "password": {u.Password}, "_csrf": {"forged"}}.Encode()
	if resp := a.doAs(anonymousCred, "POST", "/login", form); resp.StatusCode != 403 || cookieValue(resp, "bt_session") != "" {
		t.Errorf("login without the CSRF cookie: %d", resp.StatusCode)
	}
	if resp := a.loginForm(u.Email, u.Password, "", "Origin", "https://evil.example"); resp.StatusCode != 403 {
		t.Errorf("login posted from another origin: %d, want 403", resp.StatusCode)
	}
	if resp := a.loginForm(u.Email, u.Password, "", "Sec-Fetch-Site", "cross-site"); resp.StatusCode != 403 {
		t.Errorf("login posted cross-site: %d, want 403", resp.StatusCode)
	}
	if resp := a.loginForm(u.Email, u.Password, "", "Origin", "http://example.com"); resp.StatusCode != 303 {
		t.Errorf("login from our own origin: %d, want 303", resp.StatusCode)
	}
}

func TestLoginNextIsLocal(t *testing.T) {
	a := newTestApp(t)
	for _, tc := range []struct{ next, want string }{
		{"/batches?status=pending", "/batches?status=pending"},
		{"//evil.example/x", "/"},
		{"https://evil.example/", "/"},
		{`/\evil.example`, "/"},
		{"javascript:alert(1)", "/"},
		{"/login", "/"},
		{"", "/"},
	} {
		u := a.newUser(roleViewer) // one each: five logins a minute is the throttle
		resp := a.loginForm(u.Email, u.Password, tc.next)
		if got := resp.Header.Get("Location"); resp.StatusCode != 303 || got != tc.want {
			t.Errorf("next=%q: %d to %q, want %q", tc.next, resp.StatusCode, got, tc.want)
		}
	}
}

func TestSessionFixation(t *testing.T) {
	a := newTestApp(t)
	victim := a.newUser(roleAdmin)
	attacker := a.newUser(roleViewer)
	// The attacker logs in and plants their own session id in the victim's
	// browser; the victim then logs in with that browser.
	planted := a.sessionFor(attacker)
	page := a.doAs(anonymousCred, "GET", "/login", nil)
	body := readBody(t, page)
	form := url.Values{"email": {victim.Email}, "password": {victim.Password}, "_csrf": {hiddenInput(body, "_csrf")}}.Encode()
	resp := a.doAs(anonymousCred, "POST", "/login", form,
		"Cookie", "bt_session="+planted.Cookie+"; "+loginCSRFCookie+"="+cookieValue(page, loginCSRFCookie))
	if resp.StatusCode != 303 {
		t.Fatalf("login: %d %s", resp.StatusCode, readBody(t, resp))
	}
	fresh := cookieValue(resp, "bt_session")
	if fresh == "" || fresh == planted.Cookie {
		t.Fatalf("the session id did not change at login (%q)", fresh)
	}
	if resp := a.doAs(planted, "GET", "/admin/users", nil); resp.StatusCode != 303 {
		t.Errorf("the planted id after the victim's login: %d, want it dead (303 to login)", resp.StatusCode)
	}
	if resp := a.doAs(credential{Cookie: fresh}, "GET", "/admin/users", nil); resp.StatusCode != 200 {
		t.Errorf("the new session: %d", resp.StatusCode)
	}
}

func TestSessionExpiry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []time.Duration // clock moves, each followed by a request
		alive []bool
	}{
		{"idle timeout", []time.Duration{time.Hour, 2*time.Hour + time.Minute}, []bool{true, false}},
		{"absolute timeout while busy", []time.Duration{90 * time.Minute, 90 * time.Minute, 90 * time.Minute, 90 * time.Minute,
			90 * time.Minute, 90 * time.Minute, 90 * time.Minute, 90 * time.Minute}, []bool{true, true, true, true, true, true, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestApp(t)
			cred := a.sessionFor(a.newUser(roleViewer))
			for i, d := range tc.steps {
				a.clock.Advance(d)
				resp := a.doAs(cred, "GET", "/api/batches", nil)
				resp.Body.Close()
				if got := resp.StatusCode == 200; got != tc.alive[i] {
					t.Fatalf("step %d (+%s): status %d, want alive=%v", i, d, resp.StatusCode, tc.alive[i])
				}
			}
		})
	}
}

func TestExpiredSessionDuringHTMXRequest(t *testing.T) {
	a := newTestApp(t)
	cred := a.sessionFor(a.newUser(roleViewer))
	a.clock.Advance(3 * time.Hour)
	resp := a.doAs(cred, "GET", "/admin/users", nil,
		"HX-Request", "true", "HX-Current-URL", "http://example.com/batches?status=pending")
	if got := resp.Header.Get("HX-Redirect"); got != "/login?next="+url.QueryEscape("/batches?status=pending") {
		t.Errorf("HX-Redirect = %q (status %d)", got, resp.StatusCode)
	}
	if resp.StatusCode != 401 {
		t.Errorf("status %d, want 401 so no fragment is swapped in", resp.StatusCode)
	}
	if v := cookieValue(resp, "bt_session"); v != "" {
		t.Error("the dead cookie was not cleared")
	}
	// An ordinary page comes back after login.
	resp = a.doAs(anonymousCred, "GET", "/admin/tokens?x=1", nil)
	if got := resp.Header.Get("Location"); got != "/login?next="+url.QueryEscape("/admin/tokens?x=1") {
		t.Errorf("redirect to %q", got)
	}
}

func TestDisabledUserAndRevokedTokenLoseAccessAtOnce(t *testing.T) {
	a := newTestApp(t)
	ctx := context.Background()
	u := a.newUser(roleOperator)
	session := a.sessionFor(u)
	token := bearer(a.tokenFor(u))
	for _, cred := range []credential{session, token} {
		if resp := a.doAs(cred, "GET", "/api/batches", nil); resp.StatusCode != 200 {
			t.Fatalf("before: %d", resp.StatusCode)
		}
	}
	// Through the admin page, as an admin would.
	admin := a.sessionFor(a.newUser(roleAdmin))
	form := url.Values{"display_name": {u.DisplayName}, "role": {"operator"}, "disabled": {"true"}}.Encode()
	if resp := a.doAs(admin, "POST", "/admin/users/"+u.ID.String(), form); resp.StatusCode != 303 {
		t.Fatalf("disable: %d %s", resp.StatusCode, readBody(t, resp))
	}
	for name, cred := range map[string]credential{"session": session, "token": token} {
		if resp := a.doAs(cred, "GET", "/api/batches", nil); resp.StatusCode != 401 {
			t.Errorf("%s of a disabled user: %d, want 401", name, resp.StatusCode)
		}
	}
	if resp := a.loginForm(u.Email, u.Password, ""); resp.StatusCode != 401 {
		t.Errorf("login of a disabled user: %d, want 401", resp.StatusCode)
	}

	v := a.newUser(roleViewer)
	tok, secret, err := a.auth.CreateToken(ctx, auth.NewToken{UserID: v.ID, Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	if resp := a.doAs(bearer(secret), "GET", "/api/batches", nil); resp.StatusCode != 200 {
		t.Fatalf("new token: %d", resp.StatusCode)
	}
	if resp := a.doAs(admin, "POST", "/admin/tokens/"+tok.ID.String()+"/revoke", ""); resp.StatusCode != 303 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	resp := a.doAs(bearer(secret), "GET", "/api/batches", nil)
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("revoked token: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// A bad token never falls back to a session cookie in the same request.
	both := credential{Bearer: secret, Cookie: a.sessionFor(v).Cookie}
	if resp := a.doAs(both, "GET", "/api/batches", nil); resp.StatusCode != 401 {
		t.Errorf("revoked token with a live cookie: %d, want 401", resp.StatusCode)
	}
}

func TestActorIsRecorded(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	u := a.newUser(roleOperator)
	token := a.tokenFor(u)
	tok, _, err := a.auth.TokenUser(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	resp := a.doAs(bearer(token), "POST", "/api/batches/"+b.ID.String()+"/consume", map[string]any{"quantity_to_consume": "1"})
	got := decode[consumeResponse](t, resp)
	if want := u.Email + " (token " + tok.Prefix + ")"; got.Consumption.Actor != want {
		t.Errorf("ledger actor by token = %q, want %q", got.Consumption.Actor, want)
	}
	resp = a.doAs(a.sessionFor(u), "POST", "/api/batches/"+b.ID.String()+"/consume", map[string]any{"quantity_to_consume": "1"})
	got = decode[consumeResponse](t, resp)
	if got.Consumption.Actor != u.Email {
		t.Errorf("ledger actor by session = %q, want %q", got.Consumption.Actor, u.Email)
	}
}

// A session made through one instance works through another on the same
// database, and a logout through the second ends it on the first: sessions
// live in PostgreSQL, not in a process.
func TestSessionWorksAcrossInstances(t *testing.T) {
	one := newTestApp(t)
	two := one.sibling(nil)
	u := one.newUser(roleOperator)
	resp := one.loginForm(u.Email, u.Password, "/")
	cookie := cookieValue(resp, "bt_session")
	if resp.StatusCode != http.StatusSeeOther || cookie == "" {
		t.Fatalf("login through the first instance: %d", resp.StatusCode)
	}
	cred := credential{Cookie: cookie}
	if resp := two.doAs(cred, "GET", "/batches", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session through the second instance: %d", resp.StatusCode)
	}
	sess, err := one.auth.Session(context.Background(), cookie)
	if err != nil {
		t.Fatal(err)
	}
	cred.CSRF = sess.CSRFToken
	if resp := two.doAs(cred, "POST", "/logout", ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout through the second instance: %d", resp.StatusCode)
	}
	if resp := one.doAs(cred, "GET", "/api/batches", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the first instance still takes the ended session: %d", resp.StatusCode)
	}
}
