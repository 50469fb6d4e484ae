package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An operator logs in, uploads a pasted two-event document from the events
// list, watches the job page finish (htmx polling) and opens an event,
// whose business step reads in words.
func TestBrowserUploadEPCISDocument(t *testing.T) {
	b := newAnonymousBrowser(t)
	operator := b.app.newUser(roleOperator)
	b.do(chromedp.Navigate(b.base+"/login"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)))
	b.do(
		chromedp.SendKeys(chromedp.ID("email"), operator.Email),
		chromedp.SendKeys(chromedp.ID("password"), operator.Password),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
	)
	b.waitFor(`location.pathname === "/" && !!document.querySelector('[data-testid="nav-events"]')`)
	b.eval(`document.querySelector('[data-testid="nav-events"]').click(), true`) // a click in the page: an htmx swap between finding and clicking a node cannot make it stale
	b.waitFor(`location.pathname === "/events" && !!document.querySelector('[data-testid="upload-epcis"]')`)
	b.eval(`document.querySelector('[data-testid="upload-epcis"]').click(), true`)
	b.waitFor(`location.pathname === "/events/upload" && !!document.querySelector('[data-testid="capture-form"]')`)
	b.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid="capture-document"]`), twoEventDocument(t)),
		chromedp.Click(chromedp.CSS(`[data-testid="capture-submit"]`)),
	)
	b.waitFor(`location.pathname.startsWith("/events/upload/")`)
	b.waitFor(`document.querySelector('[data-testid="capture-summary"]')?.textContent === "All 2 events stored"`)
	if got := b.eval(`document.querySelectorAll('[data-testid="capture-event-link"]').length`); got != float64(2) {
		t.Fatalf("%v event links on the finished job page", got)
	}
	b.screenshot("epcis-upload-job")
	b.eval(`document.querySelector('[data-testid="capture-event-link"]').click(), true`)
	b.waitFor(`location.pathname.startsWith("/events/") && !!document.querySelector('[data-testid="event-detail"]')`)
	if got := strings.TrimSpace(fmt.Sprint(b.eval(`document.querySelector('[data-testid="biz-step"]')?.textContent ?? ''`))); !strings.HasPrefix(got, "Shipping") {
		t.Errorf("business step %q, want it in words (Shipping)", got)
	}
	b.screenshot("epcis-event")
}
