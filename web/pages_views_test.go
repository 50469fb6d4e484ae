package web

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/views"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// renderComponent renders a component as a handler would and parses it
// (a table row inside a table, as the HTML parser requires).
func renderComponent(t *testing.T, c templ.Component) (string, *goquery.Document) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	parse := buf.String()
	if strings.HasPrefix(parse, "<tr") {
		parse = "<table><tbody>" + parse + "</tbody></table>"
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(parse))
	if err != nil {
		t.Fatal(err)
	}
	return buf.String(), doc
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got); run with -update if the change is meant:\n%s", name, diff)
	}
}

func testid(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

func sampleBatch() inventory.Batch {
	expiry := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	return inventory.Batch{
		ID: uuid.MustParse("0b9c3a52-4b7e-4d0c-9a55-7f2f0c1d2e3f"), BatchNumber: "L260112-7KQ2M4",
		ProductID: uuid.MustParse("11111111-1111-4111-8111-111111111111"), ProductGTIN: "04006381333931", ProductName: "Arabica <beans>",
		LocationID: uuid.MustParse("22222222-2222-4222-8222-222222222222"), LocationGLN: "0614141000012", LocationName: "Roastery",
		ProductionDate: time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC), ExpiryDate: &expiry,
		QuantityProduced: quantity.MustParse("100"), QuantityAvailable: quantity.MustParse("7.5"),
		UOM: "KGM", QualityStatus: "approved", Version: 4,
	}
}

func TestBatchRowComponent(t *testing.T) {
	tests := []struct {
		name        string
		today       time.Time
		wantExpired bool
		golden      string
	}{
		{"before expiry", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), false, "batch_row.golden.html"},
		{"after expiry", time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			html, doc := renderComponent(t, views.BatchRow(sampleBatch(), tt.today))
			if tt.golden != "" {
				golden(t, tt.golden, html)
			}
			row := testid(doc, "batch-row")
			if row.Length() != 1 {
				t.Fatalf("want one batch-row, got %d in %s", row.Length(), html)
			}
			link := testid(doc, "batch-link")
			if got, _ := link.Attr("href"); got != "/batches/0b9c3a52-4b7e-4d0c-9a55-7f2f0c1d2e3f" {
				t.Errorf("link %q", got)
			}
			avail := testid(doc, "batch-available")
			if got := avail.Find("span").First().Text() + " | " + avail.Find(".muted").Text(); got != "7.5 kg | of 100 · 8%" {
				t.Errorf("available %q", got)
			}
			if strings.Contains(html, "<beans>") {
				t.Errorf("product name not escaped: %s", html)
			}
			if got := doc.Find(".error-text").Length(); got != 1 {
				t.Errorf("7.5 of 100 is low stock: want it marked, got %d marks", got)
			}
			// Expired is derived from the expiry date and shown as the status.
			want := "released"
			if tt.wantExpired {
				want = "expired"
			}
			if got := testid(doc, "quality-status").Text(); got != want {
				t.Errorf("status shown %q, want %q", got, want)
			}
		})
	}
}

func TestConsumeFormComponent(t *testing.T) {
	b := sampleBatch()
	f := views.ConsumeForm{
		CSRF: "tok-123", BatchID: b.ID.String(), Quantity: "12", Reason: "order 42", ExpectedVersion: 4, Unit: "kg",
		Problem: &views.ConsumeProblem{Kind: "insufficient-quantity", Title: "Not enough left",
			Detail: "You asked for 12; the batch has 7.5 available. Nothing was consumed.", QuantityAvailable: "7.5 kg", CurrentVersion: 4},
	}
	html, doc := renderComponent(t, views.ConsumeFormView(f, b, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)))
	golden(t, "consume_form_insufficient.golden.html", html)

	problem := testid(doc, "consume-problem")
	if kind, _ := problem.Attr("data-kind"); kind != "insufficient-quantity" {
		t.Errorf("problem kind %q", kind)
	}
	if role, _ := problem.Attr("role"); role != "alert" {
		t.Errorf("the refusal is not announced (role %q)", role)
	}
	if got := testid(doc, "problem-available").Text(); got != "7.5 kg" {
		t.Errorf("current balance shown %q", got)
	}
	if got, _ := testid(doc, "consume-quantity").Attr("value"); got != "12" {
		t.Errorf("typed quantity lost: %q", got)
	}
	if got, _ := testid(doc, "consume-reason").Attr("value"); got != "order 42" {
		t.Errorf("typed reason lost: %q", got)
	}
	if got, _ := doc.Find(`input[name="_csrf"]`).Attr("value"); got != "tok-123" {
		t.Errorf("csrf field %q", got)
	}
	if got, _ := doc.Find(`#consume-version`).Attr("value"); got != "4" {
		t.Errorf("expected_version %q", got)
	}
	form := testid(doc, "consume-form")
	for attr, want := range map[string]string{"hx-post": "/batches/" + b.ID.String() + "/consume", "action": "/batches/" + b.ID.String() + "/consume", "method": "post"} {
		if got, _ := form.Attr(attr); got != want {
			t.Errorf("form %s = %q, want %q", attr, got, want)
		}
	}
}

func TestConsumeResultSwapsOutOfBand(t *testing.T) {
	b := sampleBatch()
	d := views.BatchDetail{Batch: b, Consume: views.ConsumeForm{BatchID: b.ID.String(), Done: "Consumed 1 kg; 7.5 kg left.", Unit: "kg"}, Today: time.Now()}
	_, doc := renderComponent(t, views.ConsumeResult(d))
	for _, id := range []string{views.BalanceID, views.LedgerID, views.BatchEventsID} {
		el := doc.Find("#" + id)
		if got, _ := el.Attr("hx-swap-oob"); got != "true" {
			t.Errorf("#%s hx-swap-oob = %q, want true", id, got)
		}
		if got, _ := el.Attr("aria-live"); got != "polite" {
			t.Errorf("#%s is not an aria-live region", id)
		}
	}
	if _, oob := doc.Find("#" + views.ConsumeFormID).Attr("hx-swap-oob"); oob {
		t.Error("the form itself is the main swap, not out of band")
	}
}

// TestPagesAreCSPSafe: no inline script, event handler or style, and
// every visible input has a label.
func TestPagesAreCSPSafe(t *testing.T) {
	b := sampleBatch()
	ch := views.Chrome{Title: "t", Section: "batches", CSRFToken: "tok-1"}
	d := views.BatchDetail{Batch: b, Consume: views.ConsumeForm{BatchID: b.ID.String()}, Status: views.StatusForm{BatchID: b.ID.String()}, Today: time.Now()}
	pages := map[string]templ.Component{
		"batch":     views.BatchPage(ch, d),
		"batches":   views.BatchesPage(ch, views.BatchList{Batches: []inventory.Batch{b}, Errors: views.FieldErrors{}}),
		"new batch": views.NewBatchPage(ch, views.BatchForm{Errors: views.FieldErrors{}}),
		"new event": views.NewEventPage(ch, views.EventForm{EventType: "ObjectEvent", Quantities: make([]views.QuantityRow, 3), EventTypes: []string{"ObjectEvent"}, Errors: views.FieldErrors{}}),
		"events":    views.EventsPage(ch, views.EventList{Errors: views.FieldErrors{}}),
		"error":     views.ErrorPage(ch, views.ErrorInfo{Status: 500, Title: "x", RequestID: "r"}),
	}
	for name, c := range pages {
		t.Run(name, func(t *testing.T) {
			html, doc := renderComponent(t, c)
			doc.Find("script").Each(func(_ int, s *goquery.Selection) {
				if _, ok := s.Attr("src"); !ok || strings.TrimSpace(s.Text()) != "" {
					t.Errorf("inline script: %s", s.Text())
				}
			})
			doc.Find("*").Each(func(_ int, s *goquery.Selection) {
				for _, a := range s.Nodes[0].Attr {
					if strings.HasPrefix(a.Key, "on") || a.Key == "style" || a.Key == "hx-on" || strings.HasPrefix(a.Key, "hx-on:") {
						t.Errorf("<%s %s=%q> breaks a strict CSP", s.Nodes[0].Data, a.Key, a.Val)
					}
				}
			})
			if got, _ := doc.Find(`meta[name="csrf-token"]`).Attr("content"); got != "tok-1" {
				t.Errorf("csrf meta %q", got)
			}
			if cfg, _ := doc.Find(`meta[name="htmx-config"]`).Attr("content"); !strings.Contains(cfg, `"allowEval":false`) {
				t.Errorf("htmx config %q", cfg)
			}
			doc.Find("form").Each(func(_ int, f *goquery.Selection) {
				if method, _ := f.Attr("method"); method == "post" && f.Find(`input[name="_csrf"]`).Length() != 1 {
					id, _ := f.Attr("id")
					t.Errorf("form %s has no _csrf input", id)
				}
			})
			doc.Find("input, select, textarea").Each(func(_ int, in *goquery.Selection) {
				typ, _ := in.Attr("type")
				if typ == "hidden" {
					return
				}
				id, _ := in.Attr("id")
				_, aria := in.Attr("aria-label")
				if !aria && (id == "" || doc.Find(`label[for="`+id+`"]`).Length() == 0) {
					name, _ := in.Attr("name")
					t.Errorf("input %q (id %q) has no label", name, id)
				}
			})
			_ = html
		})
	}
}
