package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"batchtrack/inventory"
)

// An admin recalls the tomatoes from their lot page: the recall form
// comes filled in, the impact names the passata and the shop, nothing
// changes until the confirmation, and the case page lists what to pull
// and whom to notify; a destruction is recorded against it.
func TestBrowserRecall(t *testing.T) {
	skipWithoutChromium(t)
	a := newTestApp(t)
	w := newRecallWorld(a)
	b := openBrowser(t, a, a.listen(), a.newUser(roleAdmin))
	set := func(sel, value string) {
		t.Helper()
		b.eval(fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q;
			el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return true })()`, sel, value))
	}
	click := func(sel string) {
		t.Helper()
		b.eval(fmt.Sprintf(`document.querySelector(%q).click(), true`, sel))
	}

	b.do(chromedp.Navigate(b.base+"/batches/"+w.tom.ID.String()), chromedp.WaitVisible(chromedp.CSS(`[data-testid="recall"]`)))
	set(`#status-reason`, "Salmonella found in the supplier's retained sample")
	click(`[data-testid="recall"]`)
	b.waitFor(`document.querySelector('[data-testid="recall-form"]')`)
	if got := b.eval(`document.querySelector('[data-testid="recall-lot-search"]').value`); !strings.Contains(fmt.Sprint(got), "TOM-9") {
		t.Fatalf("the recall form does not name the lot: %v", got)
	}
	set(`#recall-classification`, "class_i")
	set(`#recall-decided-by`, "Recall committee")
	click(`[data-testid="recall-preview"]`)
	b.waitFor(`document.querySelector('[data-testid="recall-confirm"]')`)
	if got := b.text(`[data-testid="impact-to-notify"]`); !strings.Contains(got, "Corner Shop") || !strings.Contains(got, "DN-77") {
		t.Errorf("impact does not name the customer and the despatch advice: %q", got)
	}
	if s := w.batch(w.pas.ID).QualityStatus; s != inventory.StatusApproved {
		t.Fatalf("recalled before the confirmation: %s", s)
	}
	b.screenshot("recall-confirm")
	click(`[data-testid="recall-confirm-yes"]`)
	b.waitFor(`document.querySelector('[data-testid="recall-code"]')`)
	if s := w.batch(w.pas.ID).QualityStatus; s != inventory.StatusRecalled {
		t.Fatalf("passata %s after the confirmation", s)
	}
	if got := b.text(`[data-testid="impact-lots"]`); got != "2" {
		t.Errorf("case page counts %q lot rows", got)
	}
	b.screenshot("recall-case")

	set(`#recovery-lot`, w.pas.ID.String())
	set(`#recovery-quantity`, "180")
	set(`#recovery-note`, "Destroyed at the plant")
	click(`[data-testid="record-recovery"]`)
	b.waitFor(`document.querySelector('[data-testid="recovery-row"]')`)
	if got := b.text(`[data-testid="impact-on-hand"]`); !strings.Contains(got, "10 kg") || strings.Contains(got, "unit") {
		t.Errorf("after destroying the passata, on hand reads %q", got)
	}
	b.screenshot("recall-recovered")
}

// A viewer downloads the FSMA 204 spreadsheet from its form, and the file
// opens as a workbook with the chain's rows.
func TestBrowserFSMADownload(t *testing.T) {
	skipWithoutChromium(t)
	a := newTestApp(t)
	w := newStockWorld(a)
	day := fsmaChain(t, w)
	b := openBrowser(t, a, a.listen(), a.newUser(roleViewer))
	dir := t.TempDir()
	b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	}))
	b.do(chromedp.Navigate(b.base+"/fsma"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="fsma-form"]`)))
	b.eval(fmt.Sprintf(`(() => {
		document.querySelector('[data-testid="fsma-gtin"]').value = %q;
		document.querySelector('[data-testid="fsma-lot"]').value = "TOM-F";
		document.querySelector('[data-testid="fsma-from"]').value = %q;
		document.querySelector('[data-testid="fsma-to"]').value = %q;
		document.querySelector('[data-testid="fsma-format"]').value = "xlsx";
		document.querySelector('[data-testid="fsma-form"]').requestSubmit(); return true })()`,
		w.tomatoes.GTIN, day.Format(time.DateOnly), day.AddDate(0, 0, 1).Format(time.DateOnly)))

	var file string
	deadline := time.Now().Add(30 * time.Second)
	for file == "" && time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.xlsx"))
		if len(matches) == 1 {
			file = matches[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	if file == "" {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("no spreadsheet downloaded; the folder holds %v", entries)
	}
	x, err := excelize.OpenFile(file)
	if err != nil {
		t.Fatalf("the download does not open as a workbook: %v", err)
	}
	defer x.Close()
	rows, err := x.GetRows(x.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, r := range rows {
		text.WriteString(strings.Join(r, "|") + "\n")
	}
	for _, want := range []string{"TOM-F", "PAS-F", "Receiving", "Transformation", "Shipping"} {
		if !strings.Contains(strings.ToLower(text.String()), strings.ToLower(want)) {
			t.Errorf("the workbook has no %q:\n%s", want, text.String())
		}
	}
}
