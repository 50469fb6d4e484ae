package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// newAnonymousBrowser is a headless Chromium on a fresh profile against an
// app served without the test proxy's admin token: it must log in.
func newAnonymousBrowser(t *testing.T) *browser {
	t.Helper()
	skipWithoutChromium(t)
	a := newTestApp(t, appOptions{anonymous: true})
	return openBrowser(t, a, a.listen(), testUser{})
}

// TestBrowserLoginOperatorJobLogoutBack: a private page sends the browser
// to the login form and back; an operator consumes from the batch page;
// after logout, the back button shows no private page.
func TestBrowserLoginOperatorJobLogoutBack(t *testing.T) {
	b := newAnonymousBrowser(t)
	operator := b.app.newUser(roleOperator)
	p, l := b.app.masterData()
	batch := b.app.namedBatch(p, l, "LOT-AUTH-1", "10")
	batchPage := "/batches/" + batch.ID.String()

	b.do(chromedp.Navigate(b.base+batchPage), chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)))
	if got := b.eval(`location.pathname + location.search`).(string); got != "/login?next="+strings.ReplaceAll(batchPage, "/", "%2F") {
		t.Errorf("sent to %q", got)
	}
	if strings.Contains(b.eval(`document.body.innerText`).(string), "LOT-AUTH-1") {
		t.Fatal("the login page shows private data")
	}
	b.screenshot("auth-login")
	b.do(
		chromedp.SendKeys(chromedp.ID("email"), operator.Email),
		chromedp.SendKeys(chromedp.ID("password"), operator.Password),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="balance"]`)),
	)
	if got := b.eval(`location.pathname`).(string); got != batchPage {
		t.Errorf("after login at %q, want back at %q", got, batchPage)
	}
	if got := b.eval(`document.cookie`).(string); strings.Contains(got, "bt_session") {
		t.Error("the session cookie is readable from JavaScript")
	}

	// The operator's job: consume through the page's htmx form (CSRF
	// token in the header, from the meta tag).
	b.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid="consume-quantity"]`), "2"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="consume-reason"]`), "roasting"),
		chromedp.Click(chromedp.CSS(`[data-testid="consume-submit"]`)),
	)
	b.waitFor(`document.querySelector('[data-testid="balance-available"]').textContent.trim() === "8 kg"`)
	b.waitFor(`document.querySelectorAll('[data-testid="ledger-row"]').length === 1`)
	if got := b.text(`[data-testid="ledger-row"]`); !strings.Contains(got, operator.Email) {
		t.Errorf("ledger row %q does not name the operator", got)
	}
	b.screenshot("auth-operator-consumed")

	// Log out with the page's button (a POST carrying the CSRF token); a
	// page without one gets the same form built from its meta tag.
	b.eval(`(function () {
		var btn = document.querySelector('[data-testid="logout"]');
		if (btn) { btn.click(); return "button"; }
		var f = document.createElement("form");
		f.method = "post"; f.action = "/logout";
		var i = document.createElement("input");
		i.type = "hidden"; i.name = "_csrf"; i.value = document.querySelector('meta[name="csrf-token"]').content;
		f.appendChild(i); document.body.appendChild(f); f.submit(); return "form";
	})()`)
	b.waitFor(`location.pathname === "/login" && !!document.querySelector('[data-testid="login-form"]')`)

	b.do(chromedp.NavigateBack())
	b.waitFor(`document.readyState === "complete"`)
	b.screenshot("auth-back-after-logout")
	text := b.eval(`document.body ? document.body.innerText : ""`).(string)
	if strings.Contains(text, "LOT-AUTH-1") || b.eval(`!!document.querySelector('[data-testid="balance"]')`) == true {
		t.Fatalf("the back button after logout shows the private batch page (at %v)", b.eval(`location.href`))
	}
	if _, err := b.app.auth.UserByEmail(context.Background(), operator.Email); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserAdminCreatesToken: an admin makes a token on /admin/tokens,
// sees it once, a script uses it, the admin revokes it.
func TestBrowserAdminCreatesToken(t *testing.T) {
	b := newAnonymousBrowser(t)
	admin := b.app.newUser(roleAdmin)
	operator := b.app.newUser(roleOperator)
	b.do(chromedp.Navigate(b.base+"/admin/tokens"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)))
	b.do(
		chromedp.SendKeys(chromedp.ID("email"), admin.Email),
		chromedp.SendKeys(chromedp.ID("password"), admin.Password),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-token-form"]`)),
	)
	b.do(
		chromedp.SetValue(chromedp.ID("user"), operator.Email),
		chromedp.SendKeys(chromedp.ID("name"), "nightly import"),
		chromedp.SendKeys(chromedp.ID("expires"), "30"),
		chromedp.Click(chromedp.CSS(`[data-testid="new-token-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="shown-once"]`)),
	)
	secret := b.text(`[data-testid="secret"]`)
	b.screenshot("auth-admin-token-created")
	if resp := b.app.doAs(bearer(secret), "GET", "/api/batches", nil); resp.StatusCode != 200 {
		t.Fatalf("the token shown on the page: %d", resp.StatusCode)
	}
	b.do(chromedp.Navigate(b.base+"/admin/tokens"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="tokens"]`)))
	if strings.Contains(b.eval(`document.body.innerHTML`).(string), secret) {
		t.Fatal("the token list shows the secret again")
	}
	b.do(chromedp.Click(chromedp.CSS(`[data-testid="token-` + secret[:11] + `"] [data-testid="revoke"]`)))
	b.waitFor(`!document.querySelector('[data-testid="token-` + secret[:11] + `"] [data-testid="revoke"]')`)
	if resp := b.app.doAs(bearer(secret), "GET", "/api/batches", nil); resp.StatusCode != 401 {
		t.Errorf("the revoked token: %d, want 401", resp.StatusCode)
	}
	b.do(chromedp.Navigate(b.base+"/admin/users"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="users"]`)))
	b.screenshot("auth-admin-users")
}
