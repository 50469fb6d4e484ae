package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

const chromiumPath = "/usr/bin/chromium"

// browser is a headless Chromium tab logged in to a test app.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	app  *testApp
}

// newBrowser starts Chromium on a fresh profile against a served test
// app, logged in as an admin through a session cookie.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	skipWithoutChromium(t)
	a := newTestApp(t)
	return openBrowser(t, a, a.listen(), a.newUser(roleAdmin))
}

// skipWithoutChromium skips a browser test where Chromium is missing,
// except in CI, where that is a failure.
func skipWithoutChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser tests need %s (CI is set, so this is a failure): %v", chromiumPath, err)
		}
		t.Skipf("browser tests skipped: %s not found (install it with scripts/deps.sh chromium)", chromiumPath)
	}
}

// openBrowser starts headless Chromium on a fresh profile against base,
// with a session cookie of user (none when user is the zero testUser).
func openBrowser(t *testing.T, a *testApp, base string, user testUser) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true), chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	start := chromedp.Action[chromedp.Void](chromedp.Navigate("about:blank"))
	if user.Email != "" {
		name, value := a.loginBrowserCookie(t, user)
		start = chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: base, Path: "/"})
			return err
		})
	}
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx, start); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	return &browser{t: t, ctx: ctx, base: base, app: a}
}

// do runs steps with a generous bound: the machine may be slow and busy.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("FAILED-" + b.t.Name())
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *browser) eval(js string) any {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor re-checks a JavaScript condition until it holds; evaluation
// errors while a page navigates count as "not yet".
func (b *browser) waitFor(js string) {
	b.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	b.screenshot("FAILED-" + b.t.Name())
	b.t.Fatalf("browser: still not true after 45s: %s (last error: %v)", js, last)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// screenshot saves the screen under .screenshots/ at the repository root,
// or under $BT_SCREENSHOTS when that is set.
func (b *browser) screenshot(name string) {
	dir := filepath.Join("..", ".screenshots")
	if d := os.Getenv("BT_SCREENSHOTS"); d != "" {
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Errorf("screenshot dir: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	name = strings.NewReplacer("/", "-", " ", "_").Replace(name)
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Errorf("screenshot: %v", err)
	}
}

// masterData makes a product and a location to create batches of.
func (a *testApp) masterData() (inventory.Product, inventory.Location) {
	a.t.Helper()
	ctx := context.Background()
	p, err := a.svc.CreateProduct(ctx, inventory.NewProduct{GTIN: validGTIN(), Name: "Arabica beans", Unit: "kg", Category: "coffee"})
	if err != nil {
		a.t.Fatal(err)
	}
	l, err := a.svc.CreateLocation(ctx, inventory.NewLocation{GLN: validGLN(), Name: "Roastery Hamburg", Type: "factory"})
	if err != nil {
		a.t.Fatal(err)
	}
	return p, l
}

func (a *testApp) namedBatch(p inventory.Product, l inventory.Location, number, produced string) inventory.Batch {
	a.t.Helper()
	expiry := time.Now().AddDate(0, 2, 0)
	b, err := a.svc.CreateBatch(context.Background(), inventory.System, inventory.NewBatch{
		BatchNumber: number, ProductID: p.ID, LocationID: l.ID, ProductionDate: time.Now().AddDate(0, 0, -2),
		ExpiryDate: &expiry, QuantityProduced: quantity.MustParse(produced), QualityStatus: "approved",
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}

func TestBrowserCreateBatchConsumeAndInsufficient(t *testing.T) {
	b := newBrowser(t)
	p, l := b.app.masterData()

	b.do(chromedp.Navigate(b.base+"/batches/new"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-batch-form"]`)))
	b.do(
		chromedp.SetValue(chromedp.ID("nb-product"), p.ID.String()),
		chromedp.SetValue(chromedp.ID("nb-location"), l.ID.String()),
		chromedp.SetValue(chromedp.ID("nb-status"), "approved"), // pending lots cannot be consumed (release rule)
		chromedp.SendKeys(chromedp.ID("nb-number"), "LOT-BROWSER-1"),
		chromedp.SendKeys(chromedp.ID("nb-quantity"), "10"),
		// Released at once: a pending lot cannot be consumed where a release is required.
		chromedp.SetValue(chromedp.ID("nb-status"), "approved"),
		chromedp.Click(chromedp.CSS(`[data-testid="create-batch"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="balance"]`)),
	)
	if got := b.text(`[data-testid="batch-number"]`); got != "LOT-BROWSER-1" {
		t.Fatalf("batch page shows %q, want LOT-BROWSER-1", got)
	}
	if got := b.text(`[data-testid="balance-available"]`); got != "10 kg" {
		t.Fatalf("balance %q, want 10 kg", got)
	}
	if got := b.text(`[data-testid="flash"]`); !strings.Contains(got, "LOT-BROWSER-1 created") {
		t.Errorf("flash %q", got)
	}

	// A marker on window survives only if the page is never reloaded.
	b.eval(`window.__noReload = "still here"`)
	b.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid="consume-quantity"]`), "2.5"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="consume-reason"]`), "roasting"),
		chromedp.Click(chromedp.CSS(`[data-testid="consume-submit"]`)),
	)
	b.waitFor(`document.querySelector('[data-testid="balance-available"]').textContent.trim() === "7.5 kg"`)
	b.waitFor(`document.querySelectorAll('[data-testid="ledger-row"]').length === 1`)
	if got := b.eval(`window.__noReload`); got != "still here" {
		t.Fatalf("the page reloaded during the consume (marker %v)", got)
	}
	if got := b.text(`[data-testid="consume-done"]`); !strings.Contains(got, "7.5 kg left") {
		t.Errorf("confirmation %q", got)
	}

	// Asking for more than is left: an inline message, the entry kept.
	b.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid="consume-quantity"]`), "100"),
		chromedp.Click(chromedp.CSS(`[data-testid="consume-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="consume-problem"]`)),
	)
	if got := b.text(`[data-testid="consume-problem"]`); !strings.Contains(got, "Not enough left") || !strings.Contains(got, "7.5 kg") {
		t.Errorf("insufficient-quantity message %q", got)
	}
	if got := b.eval(`document.querySelector('[data-testid="consume-quantity"]').value`); got != "100" {
		t.Errorf("quantity input after refusal = %v, want the 100 typed", got)
	}
	if got := b.eval(`window.__noReload`); got != "still here" {
		t.Fatalf("the page reloaded on the refusal")
	}
	b.screenshot("batch-consume-insufficient")
}

func TestBrowserBalanceRefreshesWhenSomeoneElseConsumes(t *testing.T) {
	b := newBrowser(t)
	p, l := b.app.masterData()
	batch := b.app.namedBatch(p, l, "LOT-POLL-1", "50")
	b.do(chromedp.Navigate(b.base+"/batches/"+batch.ID.String()), chromedp.WaitVisible(chromedp.CSS(`[data-testid="balance"]`)))
	b.eval(`window.__noReload = 1`)
	if _, _, err := b.app.svc.Consume(context.Background(), inventory.System, inventory.ConsumeRequest{
		BatchID: batch.ID, Quantity: quantity.MustParse("20"),
	}); err != nil {
		t.Fatal(err)
	}
	// The poll runs every 5 s; the wait allows for a slow machine.
	b.waitFor(`document.querySelector('[data-testid="balance-available"]').textContent.trim() === "30 kg"`)
	b.waitFor(`document.getElementById("consume-version").value === "2"`)
	if got := b.eval(`window.__noReload`); got != float64(1) {
		t.Fatalf("page reloaded (marker %v)", got)
	}
	b.screenshot("batch-balance-polled")
}

func TestBrowserFilterBatchesAsYouType(t *testing.T) {
	b := newBrowser(t)
	p, l := b.app.masterData()
	b.app.namedBatch(p, l, "ALPHA-100", "10")
	b.app.namedBatch(p, l, "BRAVO-200", "20")
	b.app.namedBatch(p, l, "BRAVO-300", "30")

	b.do(chromedp.Navigate(b.base+"/batches"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="batch-search"]`)))
	b.waitFor(`document.querySelectorAll('[data-testid="batch-row"]').length === 3`)
	b.eval(`window.__noReload = 1`)
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="batch-search"]`), "BRAVO"))
	b.waitFor(`document.querySelectorAll('[data-testid="batch-row"]').length === 2`)
	b.waitFor(`location.search.includes("q=BRAVO")`)
	if got := b.eval(`window.__noReload`); got != float64(1) {
		t.Fatalf("the list reloaded the page")
	}
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="batch-search"]`), "-3"))
	b.waitFor(`document.querySelectorAll('[data-testid="batch-row"]').length === 1 && document.querySelector('[data-testid="batch-row"]').dataset.batchNumber === "BRAVO-300"`)
	b.screenshot("batches-filtered")

	// The pushed URL is a bookmark: loaded afresh it shows the same list.
	loc := b.eval(`location.href`).(string)
	b.do(chromedp.Navigate(loc), chromedp.WaitVisible(chromedp.CSS(`[data-testid="batch-table"]`)))
	b.waitFor(`document.querySelectorAll('[data-testid="batch-row"]').length === 1`)
}

func TestBrowserRecordTransformationEvent(t *testing.T) {
	b := newBrowser(t)
	p, l := b.app.masterData()
	b.app.namedBatch(p, l, "GREEN-1", "100")
	b.app.unreleased(b.app.namedBatch(p, l, "ROAST-1", "80"))

	b.do(chromedp.Navigate(b.base+"/events/new"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="event-form"]`)))
	b.do(chromedp.SendKeys(chromedp.CSS(`[data-testid="ev-quantity-0-batch"]`), "GREEN-1"))
	// Switching the type re-renders the form for transformations and keeps what was typed.
	b.do(chromedp.SetValue(chromedp.CSS(`[data-testid="event-type"]`), "TransformationEvent"))
	b.eval(`document.querySelector('[data-testid="event-type"]').dispatchEvent(new Event("change", {bubbles: true}))`)
	b.waitFor(`document.querySelector('[data-testid="event-form"]').dataset.eventType === "TransformationEvent" && !!document.querySelector('[data-testid="rows-input"]')`)
	if got := b.eval(`document.getElementById("ev-action") === null`); got != true {
		t.Errorf("a TransformationEvent form still offers an action")
	}
	b.do(
		chromedp.SendKeys(chromedp.CSS(`[data-testid="ev-input-0-batch"]`), "GREEN-1"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="ev-input-0-qty"]`), "100"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="ev-output-0-batch"]`), "ROAST-1"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="ev-output-0-qty"]`), "80"),
		chromedp.SetValue(chromedp.ID("ev-step"), "commissioning"),
		chromedp.Click(chromedp.CSS(`[data-testid="record-event"]`)),
	)
	b.waitFor(`location.pathname === "/events" && !!document.querySelector('[data-testid="event-row"][data-event-type="TransformationEvent"]')`)
	if got := b.text(`[data-testid="flash"]`); !strings.Contains(got, "TransformationEvent recorded") {
		t.Errorf("flash %q", got)
	}
	b.screenshot("event-recorded")
}

func TestBrowserPrintLabel(t *testing.T) {
	b := newBrowser(t)
	p, l := b.app.masterData()
	batch := b.app.namedBatch(p, l, "LBL-1", "5")
	b.do(chromedp.Navigate(b.base+"/batches/"+batch.ID.String()+"/label"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="label"] svg`)))
	if got := b.text(`[data-testid="label-lot"]`); got != "(10) LBL-1" {
		t.Errorf("lot line %q", got)
	}
	if got := b.text(`[data-testid="label-gtin"]`); got != "(01) "+p.GTIN {
		t.Errorf("GTIN line %q", got)
	}
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	if got := b.eval(`getComputedStyle(document.querySelector(".sidebar")).display`); got != "none" {
		t.Errorf("print view shows the navigation (display %v)", got)
	}
	b.screenshot("label-print")
}

// TestBrowserTour visits the other screens (and a phone-sized one) so a
// person can look at the screenshots; it checks each shows its content.
func TestBrowserTour(t *testing.T) {
	b := newBrowser(t)
	p, l := b.app.masterData()
	low := b.app.namedBatch(p, l, "TOUR-LOW", "100")
	if _, _, err := b.app.svc.Consume(context.Background(), inventory.System, inventory.ConsumeRequest{BatchID: low.ID, Quantity: quantity.MustParse("95")}); err != nil {
		t.Fatal(err)
	}
	soon := time.Now().AddDate(0, 0, 5)
	if _, err := b.app.svc.CreateBatch(context.Background(), inventory.System, inventory.NewBatch{
		BatchNumber: "TOUR-SOON", ProductID: p.ID, LocationID: l.ID, ProductionDate: time.Now().AddDate(0, 0, -1),
		ExpiryDate: &soon, QuantityProduced: quantity.MustParse("12"),
	}); err != nil {
		t.Fatal(err)
	}
	pages := []struct{ name, path, sel string }{
		{"overview", "/", `[data-testid="low-stock"] a`},
		{"products", "/products", `[data-testid="product-row"]`},
		{"locations", "/locations", `[data-testid="location-row"]`},
		{"new-product", "/products/new", `[data-testid="np-gtin"]`},
		{"batch-edit", "/batches/" + low.ID.String() + "/edit", `[data-testid="edit-form"]`},
		{"import", "/batches/import", `[data-testid="import-form"]`},
		{"not-found", "/no/such/page", `[data-testid="error-page"]`},
	}
	for _, pg := range pages {
		b.do(chromedp.Navigate(b.base+pg.path), chromedp.WaitVisible(chromedp.CSS(pg.sel)))
		b.screenshot("tour-" + pg.name)
	}
	// The GTIN check digit is checked as it is typed.
	b.do(chromedp.Navigate(b.base+"/products/new"), chromedp.SendKeys(chromedp.CSS(`[data-testid="np-gtin"]`), "4006381333932"))
	b.waitFor(`document.querySelector('[data-testid="np-gtin-live"]').textContent.includes("wrong check digit (expected 1)")`)
	b.screenshot("tour-gtin-live-check")

	b.do(chromedp.EmulateViewport(390, 844), chromedp.Navigate(b.base+"/batches/"+low.ID.String()), chromedp.WaitVisible(chromedp.CSS(`[data-testid="balance"]`)))
	if got := b.eval(`document.documentElement.scrollWidth <= window.innerWidth + 1`); got != true {
		t.Errorf("the batch page scrolls sideways on a phone: %v", b.eval(`[document.documentElement.scrollWidth, window.innerWidth, [...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + "." + e.className + "#" + e.id)]`))
	}
	b.screenshot("tour-phone-batch")
}
