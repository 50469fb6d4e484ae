package web

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowserTracePage follows a lot page's Trace link to the drawn graph.
func TestBrowserTracePage(t *testing.T) {
	skipWithoutChromium(t)
	a := newTestApp(t)
	_, pas := traceChain(t, a)
	b := openBrowser(t, a, a.listen(), a.newUser(roleViewer))

	b.do(chromedp.Navigate(b.base+"/batches/"+pas.ID.String()), chromedp.WaitVisible(chromedp.CSS(`[data-testid="trace-link"]`)))
	b.eval(`document.querySelector('[data-testid="trace-link"]').click(), true`)
	b.waitFor(`document.querySelector('[data-testid="trace-svg"]')`)
	if got := b.eval(`location.pathname`); got != "/batches/"+pas.ID.String()+"/trace" {
		t.Fatalf("at %v", got)
	}
	if n := b.eval(`document.querySelectorAll('[data-testid="trace-node"]').length`); n != b.eval(`document.querySelectorAll('[data-testid="trace-node-row"]').length`) || n == float64(0) {
		t.Errorf("%v node cards, table disagrees or empty", n)
	}
	// The drawing has a size: the layout's width and height reached the page.
	if w := b.eval(`document.querySelector('[data-testid="trace-svg"]').getBoundingClientRect().width`); w.(float64) < 200 {
		t.Errorf("svg width %v", w)
	}
	b.screenshot("trace")

	// On a phone the page keeps its width and the drawing scrolls inside it.
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 390, Height: 844, DeviceScaleFactor: 2, Mobile: true})
		return err
	}))
	if got := b.eval(`(() => { const c = document.querySelector('[data-testid="trace-scroll"]');
		return document.documentElement.scrollWidth <= window.innerWidth + 1 && c.scrollWidth > c.clientWidth })()`); got != true {
		t.Errorf("on a phone the page overflows or the graph does not scroll: page %v of %v", b.eval(`document.documentElement.scrollWidth`), b.eval(`window.innerWidth`))
	}
	b.screenshot("trace-phone")
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		return err
	}))

	// Printed, the form goes and the drawing shrinks to the page's width.
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	if got := b.eval(`getComputedStyle(document.querySelector('[data-testid="trace-form"]')).display`); got != "none" {
		t.Errorf("print view shows the form (display %v)", got)
	}
	if got := b.eval(`(() => { const s = document.querySelector('[data-testid="trace-svg"]').getBoundingClientRect();
		const c = document.querySelector('[data-testid="trace-scroll"]').getBoundingClientRect(); return s.width <= c.width + 1 })()`); got != true {
		t.Error("printed, the graph is wider than the page")
	}
	b.screenshot("trace-print")
}
