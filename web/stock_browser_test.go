package web

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"batchtrack/inventory"
)

// An operator receives tomatoes and salt from a supplier found by name,
// releases both on their lot pages, transforms them into passata with two
// input rows, releases the passata, ships it to a customer with the FEFO
// suggestion, finds the shipment was wrong and corrects it from its event
// page; the lot pages then show the balances. Everything is clicked in the
// page (htmx swaps make node ids stale).
func TestBrowserStockMovements(t *testing.T) {
	skipWithoutChromium(t)
	a := newTestApp(t)
	w := newStockPageWorld(t, a)
	b := openBrowser(t, a, a.listen(), a.newUser(roleOperator))

	set := func(sel, value string) {
		t.Helper()
		b.eval(fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q;
			el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return true })()`, sel, value))
	}
	click := func(sel string) {
		t.Helper()
		b.eval(fmt.Sprintf(`document.querySelector(%q).click(), true`, sel))
	}
	// pick types into a picker and clicks the result that contains want.
	pick := func(searchSel, text, optionTestID, want string) {
		t.Helper()
		set(searchSel, text)
		opt := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="%s"]')].find(o => o.textContent.includes(%q))`, optionTestID, want)
		b.waitFor(opt)
		b.eval(opt + `.click(), true`)
		if n := b.eval(`document.querySelectorAll('.picker-list').length`); n != float64(0) {
			t.Errorf("%v result lists still open after choosing", n)
		}
	}
	lotOf := func(number string) inventory.Batch {
		t.Helper()
		lots, err := a.svc.SearchLots(context.Background(), inventory.LotQuery{Text: number})
		if err != nil || len(lots) != 1 {
			t.Fatalf("lot %s: %v %v", number, lots, err)
		}
		return lots[0].Batch
	}
	// axe-core on the states the page list of TestBrowserAxe does not
	// reach (a refused form, an open picker, the correction form), where
	// it is installed.
	axe := func(name string) {
		t.Helper()
		if src, err := os.ReadFile(axePath); err == nil {
			b.checkAxe(string(src), name)
		}
	}
	onEventPage := `location.pathname.startsWith("/events/") && !!document.querySelector('[data-testid="event-stock"]')`
	receive := func(product inventory.Product, qty, lot string, shot bool) {
		t.Helper()
		b.do(chromedp.Navigate(b.base + "/"))
		b.waitFor(`!!document.querySelector('[data-testid="nav-stock"]')`)
		click(`[data-testid="nav-stock"]`)
		b.waitFor(`!!document.querySelector('[data-testid="stock-form-receive"]')`)
		set(`[data-testid="receive-product"]`, product.ID.String())
		b.waitFor(`document.querySelector('[data-testid="receive-quantity-unit"]').textContent === "kg"`)
		set(`#receive-location`, w.plant.ID.String())
		set(`[data-testid="receive-quantity"]`, qty)
		set(`[data-testid="receive-lot"]`, lot)
		pick(`[data-testid="ship_from-search"]`, "Sunny", "location-option", "Hillside field")
		if got := b.eval(`document.querySelector('[data-testid="ship_from_id"]').value`); got != w.farm.ID.String() {
			t.Fatalf("ship-from picked %v, want the farm %s", got, w.farm.ID)
		}
		set(`[data-testid="reference"]`, "PO-2026-17")
		if shot {
			b.screenshot("stock-receive")
		}
		click(`[data-testid="stock-submit"]`)
		b.waitFor(onEventPage)
	}
	release := func(lot inventory.Batch) {
		t.Helper()
		b.do(chromedp.Navigate(b.base + "/batches/" + lot.ID.String()))
		b.waitFor(`!!document.querySelector('[data-testid="status-form"]')`)
		set(`#status-reason`, "Checked on arrival")
		click(`[data-testid="approve"]`)
		b.waitFor(`document.querySelector('[data-testid="quality-status"]')?.dataset.status === "approved"`)
	}

	receive(w.tomatoes, "500", "TOM-B1", true)
	receive(w.salt, "20", "SALT-B1", false)
	tomatoes, salt := lotOf("TOM-B1"), lotOf("SALT-B1")
	release(tomatoes)
	release(salt)

	// Transform: two input rows found by lot number, one output.
	b.do(chromedp.Navigate(b.base + "/stock/transform"))
	b.waitFor(`!!document.querySelector('[data-testid="stock-form-transform"]')`)
	pick(`#inputs-rows [data-row="inputs[0]"] [data-testid="lot-search"]`, "TOM-B", "lot-option", "TOM-B1")
	set(`input[name="inputs[0].quantity"]`, "50")
	click(`[data-testid="add-inputs"]`)
	b.waitFor(`!!document.querySelector('#inputs-rows [data-row="inputs[1]"]')`)
	pick(`#inputs-rows [data-row="inputs[1]"] [data-testid="lot-search"]`, "SALT", "lot-option", "SALT-B1")
	set(`input[name="inputs[1].quantity"]`, "1")
	set(`select[name="outputs[0].product_id"]`, w.passata.ID.String())
	set(`input[name="outputs[0].quantity"]`, "400")
	set(`input[name="outputs[0].batch_number"]`, "PAS-B1")
	units := b.eval(`[...document.querySelectorAll('#inputs-rows .unit, #outputs-rows .unit')].map(u => u.textContent).join(",")`)
	if units != "kg,kg,unit" {
		t.Errorf("units beside the quantities %v, want kg,kg,unit", units)
	}
	b.screenshot("stock-transform")
	click(`[data-testid="stock-submit"]`)
	b.waitFor(onEventPage)
	passata := lotOf("PAS-B1")
	release(passata)

	// Ship: the FEFO helper fills the rows; the customer is found by name.
	b.do(chromedp.Navigate(b.base + "/stock/ship"))
	b.waitFor(`!!document.querySelector('[data-testid="stock-form-ship"]')`)
	set(`[data-testid="fefo-product"]`, w.passata.ID.String())
	set(`#stock-location`, w.plant.ID.String())
	set(`[data-testid="fefo-quantity"]`, "1000")
	click(`[data-testid="fefo-suggest"]`)
	b.waitFor(`!!document.querySelector('[data-testid="fefo-short"]')`)
	set(`[data-testid="ship_to-search"]`, "Main")
	b.waitFor(`!!document.querySelector('[data-testid="location-option"]')`)
	axe("ship form, picker open")
	// Asking for more than the lot holds: refused beside the row, entries kept.
	click(`[data-testid="location-option"]`)
	if got := b.eval(`document.querySelector('input[name="items[0].quantity"]').value`); got != "400" {
		t.Errorf("FEFO row takes %v, want 400 (all the lot holds)", got)
	}
	set(`input[name="items[0].quantity"]`, "1000")
	click(`[data-testid="stock-submit"]`)
	b.waitFor(`!!document.querySelector('[data-testid="error-f-items-0-quantity"]')`)
	if got := b.eval(`document.querySelector('input[name="items[0].quantity"]').value`); got != "1000" {
		t.Errorf("quantity kept as %v, want the 1000 typed", got)
	}
	axe("ship form refused")
	b.do(chromedp.Navigate(b.base + "/stock/ship"))
	b.waitFor(`!!document.querySelector('[data-testid="stock-form-ship"]')`)
	set(`[data-testid="fefo-product"]`, w.passata.ID.String())
	set(`#stock-location`, w.plant.ID.String())
	set(`[data-testid="fefo-quantity"]`, "120")
	click(`[data-testid="fefo-suggest"]`)
	b.waitFor(`document.querySelector('#items-rows [data-testid="lot-batch-id"]')?.value === "` + passata.ID.String() + `"`)
	if got := b.eval(`[...document.querySelectorAll('#items-rows input[name$=".quantity"]')].map(i => i.value).join(",")`); got != "120" {
		t.Errorf("FEFO rows take %v, want 120", got)
	}
	pick(`[data-testid="ship_to-search"]`, "Corner", "location-option", "Shop on Main Street")
	b.screenshot("stock-ship")
	click(`[data-testid="stock-submit"]`)
	b.waitFor(onEventPage)
	if got := w.onHand(t, passata.ID); got != "280" {
		t.Errorf("passata after shipping %s, want 280", got)
	}

	// The shipment was wrong: "This was wrong" on its event page.
	click(`[data-testid="correction-open"]`)
	axe("correction form")
	click(`[data-testid="reason-did-not-occur"]`)
	set(`[data-testid="correction-note"]`, "Sent to the wrong customer")
	click(`[data-testid="correction-submit"]`)
	b.waitFor(`!!document.querySelector('[data-testid="correction-declared"]')`)
	if got := b.eval(`[...document.querySelectorAll('[data-testid="event-ledger-row"]')].map(r => r.dataset.kind).join(",")`); got != "ship,reversal" {
		t.Errorf("event ledger %v, want ship,reversal", got)
	}
	b.screenshot("stock-correction")

	// Balances in the lot pages.
	for _, c := range []struct {
		lot  inventory.Batch
		want string
	}{{passata, "400 unit"}, {tomatoes, "450 kg"}, {salt, "19 kg"}} {
		b.do(chromedp.Navigate(b.base + "/batches/" + c.lot.ID.String()))
		b.waitFor(`!!document.querySelector('[data-testid="balance-available"]')`)
		if got := strings.TrimSpace(fmt.Sprint(b.eval(`document.querySelector('[data-testid="balance-available"]').textContent`))); got != c.want {
			t.Errorf("lot %s shows %s, want %s", c.lot.BatchNumber, got, c.want)
		}
	}
}
