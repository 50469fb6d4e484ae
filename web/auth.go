package web

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"batchtrack/auth"
	"batchtrack/inventory"
	"batchtrack/views"
	"batchtrack/web/ratelimit"
)

// AuthConfig is what authentication needs from the program.
type AuthConfig struct {
	// Service holds accounts, sessions and tokens (required).
	Service *auth.Service
	// CookieSecure marks the session cookie Secure (and sends HSTS); it is
	// on anyway when PublicURL is https.
	CookieSecure bool
	// LoginLimiter throttles login attempts; nil is an in-process store.
	// Several instances share one by passing the Redis limiter.
	LoginLimiter ratelimit.Limiter
	// LoginPolicies override the default throttles (zero fields keep them).
	LoginPolicies LoginPolicies
}

// LoginPolicies are the login throttles. Every attempt counts, whatever
// its outcome, and is counted before the password is checked, so a flood
// of guesses costs no argon2 time once refused.
type LoginPolicies struct {
	// AccountBurst slows guessing one account down: 5 attempts a minute.
	AccountBurst ratelimit.Policy
	// Account then refuses: 10 attempts per 15 minutes.
	Account ratelimit.Policy
	// IP bounds one client spraying many accounts: 30 per 15 minutes.
	IP ratelimit.Policy
}

// DefaultLoginPolicies are the documented login throttles.
func DefaultLoginPolicies() LoginPolicies {
	d := ratelimit.DefaultPolicies()
	return LoginPolicies{
		AccountBurst: ratelimit.Policy{Name: "login_account_burst", Limit: 5, Window: time.Minute},
		Account:      d[ratelimit.PolicyLoginAccount],
		IP:           d[ratelimit.PolicyLoginIP],
	}
}

// loginThrottle is the part of the rate limiter login needs.
type loginThrottle interface {
	Allow(ctx context.Context, key string, p ratelimit.Policy) (ratelimit.Decision, error)
}

// authenticator holds the state of authentication for a Server.
type authenticator struct {
	svc      *auth.Service
	secure   bool
	throttle loginThrottle
	policies LoginPolicies
	trusted  []netip.Prefix
	// origin is PublicURL's scheme://host, accepted as Origin of forms.
	origin string
}

func newAuthenticator(deps Deps) *authenticator {
	cfg := deps.Auth
	a := &authenticator{svc: cfg.Service, throttle: cfg.LoginLimiter, policies: DefaultLoginPolicies(), trusted: deps.TrustedProxies}
	if a.svc == nil {
		panic("web: Deps.Auth.Service is required") // a wiring bug
	}
	if a.throttle == nil {
		a.throttle = ratelimit.NewMemory(ratelimit.MemoryConfig{})
	}
	if p := cfg.LoginPolicies.AccountBurst; p.Limit > 0 || p.Off {
		a.policies.AccountBurst = p
	}
	if p := cfg.LoginPolicies.Account; p.Limit > 0 || p.Off {
		a.policies.Account = p
	}
	if p := cfg.LoginPolicies.IP; p.Limit > 0 || p.Off {
		a.policies.IP = p
	}
	a.secure = cfg.CookieSecure
	if u, err := url.Parse(deps.PublicURL); err == nil && u.Host != "" {
		a.origin = u.Scheme + "://" + u.Host
		a.secure = a.secure || u.Scheme == "https"
	}
	return a
}

// Roles, as the guards and requireRole name them.
const (
	roleViewer   = auth.RoleViewer
	roleOperator = auth.RoleOperator
	roleAdmin    = auth.RoleAdmin
)

// Locals set by authenticate.
const (
	localCaller      = "caller"       // *caller
	localAuthFailure = "auth_failure" // string: why presented credentials were refused
)

// caller is who makes the request, as authenticate found it: one value
// per request (a single allocation on the path every API call takes), read
// by the guards, the limits and the handlers.
type caller struct {
	user    auth.User
	token   *auth.Token   // bearer requests
	session *auth.Session // browser sessions
	key     string        // rate limits and idempotency: "token:<id>" or "user:<id>"
	actor   inventory.Actor
}

func callerOf(c *fiber.Ctx) *caller {
	cl, _ := c.Locals(localCaller).(*caller)
	return cl
}

func (a *authenticator) cookieName() string {
	// __Host- makes browsers refuse the cookie unless it is Secure, for
	// Path=/ and without Domain: a sibling subdomain cannot plant one.
	if a.secure {
		return "__Host-bt_session"
	}
	return "bt_session"
}

// authenticate identifies the caller of every request: an API token from
// Authorization: Bearer, else the session cookie. It refuses nothing
// itself (the route guards do), so public routes stay reachable.
func (s *Server) authenticate(c *fiber.Ctx) error {
	a := s.authn
	ctx := c.UserContext()
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, secret, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			c.Locals(localAuthFailure, "invalid_request")
			return c.Next()
		}
		tok, user, err := a.svc.TokenUser(ctx, strings.TrimSpace(secret))
		if errors.Is(err, auth.ErrInvalidToken) {
			// A bad token does not fall back to a cookie: a script must
			// learn its token is dead.
			c.Locals(localAuthFailure, "invalid_token")
			return c.Next()
		}
		if err != nil {
			return err
		}
		c.Locals(localCaller, &caller{user: user, token: &tok, key: "token:" + tok.ID.String(),
			actor: inventory.Actor{Name: user.Email + " (token " + tok.Prefix + ")", Source: "api"}})
		return c.Next()
	}
	if v := c.Cookies(a.cookieName()); v != "" {
		sess, err := a.svc.Session(ctx, v)
		if errors.Is(err, auth.ErrNoSession) {
			a.clearSessionCookie(c)
			return c.Next()
		}
		if err != nil {
			return err
		}
		c.Locals(localCaller, &caller{user: sess.User, session: &sess, key: "user:" + sess.User.ID.String(),
			actor: inventory.Actor{Name: sess.User.Email, Source: "manual"}})
	}
	return c.Next()
}

// currentUser is the authenticated caller, if any.
func currentUser(c *fiber.Ctx) (auth.User, bool) {
	if cl := callerOf(c); cl != nil {
		return cl.user, true
	}
	return auth.User{}, false
}

func currentSession(c *fiber.Ctx) (auth.Session, bool) {
	if cl := callerOf(c); cl != nil && cl.session != nil {
		return *cl.session, true
	}
	return auth.Session{}, false
}

// csrfToken is the session's CSRF token, for the pages to embed in
// <meta name="csrf-token"> and hidden _csrf inputs; "" without a session.
func csrfToken(c *fiber.Ctx) string {
	if s, ok := currentSession(c); ok {
		return s.CSRFToken
	}
	return ""
}

// requireRole returns nil when the caller's role includes need, else the
// error to return: 401 for no caller, 403 for too small a role. Handlers
// call it for checks that depend on the request body, such as a PATCH that
// recalls a batch (admin) on an operator route.
func requireRole(c *fiber.Ctx, need auth.Role) error {
	u, ok := currentUser(c)
	if !ok {
		// Behind a guard this cannot happen; elsewhere, refuse plainly.
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="batchtrack"`)
		return problemError(fiber.StatusUnauthorized, "unauthenticated", "Authentication required", "Log in or send a token.")
	}
	if !u.Role.Allows(need) {
		return problemError(fiber.StatusForbidden, "forbidden", "Forbidden",
			"This needs the "+string(need)+" role; you are "+string(u.Role)+".")
	}
	return nil
}

// unauthenticated answers a request without valid credentials: a problem
// with WWW-Authenticate for the API, the login page for a browser (an htmx
// request gets HX-Redirect, so the whole page goes there, not a fragment).
// A nil return means the response is written and the handler must not run.
func unauthenticated(c *fiber.Ctx) error {
	failure, _ := c.Locals(localAuthFailure).(string)
	if isAPI(c) || failure != "" {
		challenge := `Bearer realm="batchtrack"`
		detail := "Send Authorization: Bearer <token>, or log in."
		if failure != "" {
			challenge += `, error="` + failure + `"`
			detail = "The token is invalid, expired or revoked."
		}
		c.Set(fiber.HeaderWWWAuthenticate, challenge)
		return problemError(fiber.StatusUnauthorized, "unauthenticated", "Authentication required", detail)
	}
	login := "/login"
	if next := returnPath(c); next != "" && next != "/" {
		login += "?next=" + url.QueryEscape(next)
	}
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", login)
		return c.Status(fiber.StatusUnauthorized).SendString("")
	}
	return c.Redirect(login, fiber.StatusSeeOther)
}

// returnPath is where to come back to after logging in: the page itself
// for a GET, the page an htmx request or a form was sent from otherwise.
func returnPath(c *fiber.Ctx) string {
	if c.Get("HX-Request") == "true" {
		if cur := c.Get("HX-Current-URL"); cur != "" {
			return localPath(cur)
		}
	}
	if c.Method() == fiber.MethodGet {
		return localPath(string(c.Request().URI().RequestURI()))
	}
	return localPath(c.Get(fiber.HeaderReferer))
}

// localPath reduces a URL to path?query when it is one of ours (no other
// host), else "": a next= parameter can never send the browser elsewhere.
func localPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	p := u.EscapedPath()
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.Contains(p, `\`) {
		return ""
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

// safeNext validates a next= value typed by anyone: a local absolute path
// only, never the login or logout pages.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	if u.Path == "/login" || u.Path == "/logout" {
		return "/"
	}
	return next
}

func (a *authenticator) setSessionCookie(c *fiber.Ctx, sess auth.Session) {
	c.Cookie(&fiber.Cookie{
		Name: a.cookieName(), Value: sess.Token, Path: "/", HTTPOnly: true, Secure: a.secure, SameSite: fiber.CookieSameSiteLaxMode,
		// The cookie lives as long as the session may; the server decides
		// before that, by the idle timeout.
		Expires: sess.ExpiresAt,
	})
}

func (a *authenticator) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: a.cookieName(), Value: "", Path: "/", HTTPOnly: true, Secure: a.secure, SameSite: fiber.CookieSameSiteLaxMode,
		Expires: time.Unix(0, 0), MaxAge: -1,
	})
}

// Login form CSRF: before a session exists there is no synchronizer
// token, so the form carries a random value also set as a cookie
// (double submit), and the Origin / Sec-Fetch-Site headers must not name
// another site.
const loginCSRFCookie = "bt_login_csrf"

func (s *Server) showLoginPage(c *fiber.Ctx) error {
	if _, ok := currentUser(c); ok {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	return s.renderLogin(c, fiber.StatusOK, views.LoginForm{Next: safeNext(c.Query("next")), Email: c.Query("email")})
}

func (s *Server) renderLogin(c *fiber.Ctx, status int, f views.LoginForm) error {
	a := s.authn
	token := randomLoginCSRF()
	c.Cookie(&fiber.Cookie{
		Name: loginCSRFCookie, Value: token, Path: "/login", HTTPOnly: true, Secure: a.secure,
		SameSite: fiber.CookieSameSiteStrictMode, MaxAge: 3600,
	})
	f.CSRF = token
	if f.Next == "/" {
		f.Next = ""
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, status, views.LoginPage(f))
}

func (s *Server) login(c *fiber.Ctx) error {
	a := s.authn
	ctx := c.UserContext()
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	f := views.LoginForm{Email: email, Next: safeNext(c.FormValue("next"))}

	if !a.sameOrigin(c) || !constantTimeEqual(c.Cookies(loginCSRFCookie), c.FormValue("_csrf")) {
		f.Error = "The login form expired or came from another site. Please try again."
		return s.renderLogin(c, fiber.StatusForbidden, f)
	}
	if wait, err := a.throttleLogin(ctx, auth.NormalizeEmail(email), ratelimit.ClientIP(c, a.trusted)); err != nil {
		return err
	} else if wait > 0 {
		secs := int(wait.Seconds() + 0.999)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		f.Error = "Too many login attempts. Try again in " + humanWait(wait) + "."
		return s.renderLogin(c, fiber.StatusTooManyRequests, f)
	}
	user, err := a.svc.Authenticate(ctx, email, password)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		s.log(c).Info("login failed", "ip", ratelimit.ClientIP(c, a.trusted))
		f.Error = "Wrong email or password."
		return s.renderLogin(c, fiber.StatusUnauthorized, f)
	}
	if err != nil {
		return err
	}
	// Whatever session the browser had ends here; the new one gets a new
	// id, so an id planted before login (fixation) is worth nothing.
	if old := c.Cookies(a.cookieName()); old != "" {
		if err := a.svc.EndSession(ctx, old); err != nil {
			return err
		}
	}
	sess, err := a.svc.StartSession(ctx, user, auth.ClientInfo{
		UserAgent: c.Get(fiber.HeaderUserAgent), IP: ratelimit.ClientIP(c, a.trusted),
	})
	if err != nil {
		return err
	}
	a.setSessionCookie(c, sess)
	c.Cookie(&fiber.Cookie{Name: loginCSRFCookie, Value: "", Path: "/login", Expires: time.Unix(0, 0), MaxAge: -1})
	s.log(c).Info("login", "user_id", user.ID)
	return c.Redirect(f.Next, fiber.StatusSeeOther)
}

// throttleLogin counts one attempt against the client's address, then the
// account's short and long windows; it returns how long to wait when any
// is used up. A limiter failure lets the attempt through: refusing every
// login while the store is down would lock everyone out.
func (a *authenticator) throttleLogin(ctx context.Context, email, ip string) (time.Duration, error) {
	checks := []struct {
		key string
		p   ratelimit.Policy
	}{
		{"ip:" + ip, a.policies.IP},
		{"account:" + email, a.policies.AccountBurst},
		{"account:" + email, a.policies.Account},
	}
	for _, ch := range checks {
		if ch.p.Off {
			continue
		}
		d, err := a.throttle.Allow(ctx, ch.key, ch.p)
		if err != nil {
			return 0, nil
		}
		if !d.Allowed {
			return max(d.RetryAfter, time.Second), nil
		}
	}
	return 0, nil
}

func humanWait(d time.Duration) string {
	if d < time.Minute {
		n := int(d.Seconds() + 0.999)
		if n == 1 {
			return "1 second"
		}
		return strconv.Itoa(n) + " seconds"
	}
	n := int(d.Minutes() + 0.999)
	if n == 1 {
		return "1 minute"
	}
	return strconv.Itoa(n) + " minutes"
}

func (s *Server) logout(c *fiber.Ctx) error {
	a := s.authn
	if err := a.svc.EndSession(c.UserContext(), c.Cookies(a.cookieName())); err != nil {
		return err
	}
	a.clearSessionCookie(c)
	c.Set("Clear-Site-Data", `"cache"`)
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", "/login")
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}
