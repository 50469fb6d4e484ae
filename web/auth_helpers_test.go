package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"batchtrack/auth"
	"batchtrack/db"
)

// testClock is the accounts' clock, moved by tests to expire sessions.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testArgon2 makes hashing cheap in tests; production costs are the
// defaults of auth.New.
var testArgon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newTestAuth(q *db.Queries, clock *testClock) *auth.Service {
	p := testArgon2
	return auth.New(q, auth.Options{Now: clock.Now, Argon2: &p})
}

var userSeq atomic.Int64

// testUser is an account made for a test, with its password.
type testUser struct {
	auth.User
	Password string
}

// newUser creates an enabled account of role with a known password.
func (a *testApp) newUser(role auth.Role) testUser {
	a.t.Helper()
	n := userSeq.Add(1)
	pw := fmt.Sprintf("correct horse %d battery", n)
	u, err := a.auth.CreateUser(context.Background(), auth.NewUser{
		Email: fmt.Sprintf("%s%d@example.com", role, n), DisplayName: fmt.Sprintf("Test %s %d", role, n), Role: role, Password: pw,
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return testUser{User: u, Password: pw}
}

// tokenFor makes an API token for u.
func (a *testApp) tokenFor(u testUser) string {
	a.t.Helper()
	_, secret, err := a.auth.CreateToken(context.Background(), auth.NewToken{UserID: u.ID, Name: "test"})
	if err != nil {
		a.t.Fatal(err)
	}
	return secret
}

// credential is how a test request authenticates: a bearer token, a
// session cookie (with its CSRF token), or nothing.
type credential struct {
	Bearer string
	Cookie string // session cookie value
	CSRF   string
}

var anonymousCred = credential{}

func bearer(token string) credential { return credential{Bearer: token} }

// sessionFor logs u in through the login form, as a browser would, and
// returns the session cookie and the page's CSRF token.
func (a *testApp) sessionFor(u testUser) credential {
	a.t.Helper()
	resp := a.loginForm(u.Email, u.Password, "")
	if resp.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("login as %s: status %d: %s", u.Email, resp.StatusCode, readBody(a.t, resp))
	}
	cookie := cookieValue(resp, "bt_session")
	if cookie == "" {
		a.t.Fatalf("login as %s set no session cookie", u.Email)
	}
	sess, err := a.auth.Session(context.Background(), cookie)
	if err != nil {
		a.t.Fatal(err)
	}
	return credential{Cookie: cookie, CSRF: sess.CSRFToken}
}

// loginForm fetches the login page for its pre-session CSRF cookie and
// token, then posts the form with them.
func (a *testApp) loginForm(email, password, next string, extra ...string) *http.Response {
	a.t.Helper()
	page := a.doAs(anonymousCred, "GET", "/login", nil)
	body := readBody(a.t, page)
	loginCSRF := cookieValue(page, loginCSRFCookie)
	field := hiddenInput(body, "_csrf")
	if loginCSRF == "" || field == "" {
		a.t.Fatalf("login page without its CSRF cookie or field (status %d)", page.StatusCode)
	}
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {field}}
	if next != "" {
		form.Set("next", next)
	}
	headers := append([]string{"Content-Type", "application/x-www-form-urlencoded", "Cookie", loginCSRFCookie + "=" + loginCSRF}, extra...)
	return a.doAs(anonymousCred, "POST", "/login", form.Encode(), headers...)
}

var hiddenInputPattern = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`)

func hiddenInput(body, name string) string {
	for _, m := range hiddenInputPattern.FindAllStringSubmatch(body, -1) {
		if m[1] == name {
			return m[2]
		}
	}
	return ""
}

func cookieValue(resp *http.Response, name string) string {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// doAs sends a request with exactly the given credential (do adds the
// admin token by default). A session request gets its CSRF header unless
// the headers name X-CSRF-Token themselves; a string body is a form.
func (a *testApp) doAs(cred credential, method, path string, body any, headers ...string) *http.Response {
	a.t.Helper()
	var r io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case string:
		r, contentType = strings.NewReader(b), "application/x-www-form-urlencoded"
	default:
		js, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		r, contentType = bytes.NewReader(js), "application/json"
	}
	req := httptest.NewRequest(method, path, r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if cred.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+cred.Bearer)
	}
	if cred.Cookie != "" {
		req.Header.Set("Cookie", "bt_session="+cred.Cookie)
		if cred.CSRF != "" && method != "GET" && method != "HEAD" {
			req.Header.Set("X-CSRF-Token", cred.CSRF)
		}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Cookie" && req.Header.Get("Cookie") != "" {
			req.Header.Set("Cookie", req.Header.Get("Cookie")+"; "+headers[i+1])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.srv.App().Test(req, 30_000)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// loginBrowserCookie creates a session for u directly, for browser tests
// that set the cookie instead of typing into the login form.
func (a *testApp) loginBrowserCookie(t testing.TB, u testUser) (name, value string) {
	t.Helper()
	sess, err := a.auth.StartSession(context.Background(), u.User, auth.ClientInfo{UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return "bt_session", sess.Token
}

// authProxy serves on a loopback port and forwards to target, adding the
// admin token to requests without credentials of their own.
func (a *testApp) authProxy(target string) string {
	a.t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		a.t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 256}
	token := a.adminToken
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" && r.Header.Get("Cookie") == "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		proxy.ServeHTTP(w, r)
	}))
	a.t.Cleanup(srv.Close)
	return srv.URL
}
