package views

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func TestCaptureJobPage(t *testing.T) {
	created := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	finished := created.Add(3 * time.Second)
	refused := []CaptureJobError{
		{Index: 3, EventID: "urn:uuid:e4", Type: "ValidationException", Message: "eventTime is missing"},
		{Index: 7, Type: "epcisException:ValidationException", Message: "quantity must be a number"},
	}
	tests := []struct {
		name     string
		job      CaptureJobView
		status   string
		summary  string
		polls    bool
		errors   int
		firstRow []string // the first error row's cells
	}{
		{name: "running", job: CaptureJobView{ID: "j1", Href: "/events/upload/j1", Running: true, CreatedAt: created, EventCount: 12},
			status: "running", summary: "Storing 12 events…", polls: true},
		{name: "success", job: CaptureJobView{ID: "j2", Href: "/events/upload/j2", Success: true, CreatedAt: created, FinishedAt: &finished, EventCount: 12, StoredCount: 12},
			status: "success", summary: "All 12 events stored"},
		{name: "success without events", job: CaptureJobView{ID: "j6", Href: "/events/upload/j6", Success: true, CreatedAt: created, FinishedAt: &finished},
			status: "success", summary: "The document held no events"},
		{name: "failed rollback", job: CaptureJobView{ID: "j3", Href: "/events/upload/j3", Behaviour: CaptureRollback, CreatedAt: created, FinishedAt: &finished, EventCount: 12, Errors: refused},
			status: "failed", summary: "Nothing stored: 2 of 12 events have errors", errors: 2,
			firstRow: []string{"4", "urn:uuid:e4", "Invalid event", "eventTime is missing"}},
		{name: "partial proceed", job: CaptureJobView{ID: "j4", Href: "/events/upload/j4", Behaviour: CaptureProceed, CreatedAt: created, FinishedAt: &finished, EventCount: 12, StoredCount: 10, Errors: refused},
			status: "partial", summary: "10 of 12 events stored; 2 refused", errors: 2},
		{name: "document refused", job: CaptureJobView{ID: "j5", Href: "/events/upload/j5", CreatedAt: created, FinishedAt: &finished,
			Errors: []CaptureJobError{{Index: -1, Type: "ValidationException", Message: "not an EPCIS document"}}},
			status: "failed", summary: "Nothing stored: the document was refused", errors: 1,
			firstRow: []string{"Document", "—", "Invalid event", "not an EPCIS document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := renderDoc(t, CaptureJobPage(Chrome{Title: "Upload"}, tt.job))
			checkStructure(t, page)
			job := page.Find(`[data-testid="capture-job"]`)
			if got := job.AttrOr("data-status", ""); got != tt.status {
				t.Errorf("status = %q, want %q", got, tt.status)
			}
			if got := strings.TrimSpace(job.Find(`[data-testid="capture-summary"]`).Text()); got != tt.summary {
				t.Errorf("summary = %q, want %q", got, tt.summary)
			}
			_, polls := job.Attr("hx-trigger")
			if polls != tt.polls {
				t.Errorf("polls = %v, want %v", polls, tt.polls)
			}
			if polls && (job.AttrOr("hx-get", "") != tt.job.Href || job.AttrOr("hx-trigger", "") != "every 1s" || job.AttrOr("hx-swap", "") != "outerHTML") {
				t.Errorf("polling attributes: hx-get=%q hx-trigger=%q hx-swap=%q", job.AttrOr("hx-get", ""), job.AttrOr("hx-trigger", ""), job.AttrOr("hx-swap", ""))
			}
			rows := job.Find(`[data-testid="capture-error"]`)
			if rows.Length() != tt.errors {
				t.Errorf("%d error rows, want %d", rows.Length(), tt.errors)
			}
			if tt.firstRow != nil {
				var cells []string
				rows.First().Find("th, td").Each(func(_ int, c *goquery.Selection) { cells = append(cells, strings.TrimSpace(c.Text())) })
				if strings.Join(cells, "|") != strings.Join(tt.firstRow, "|") {
					t.Errorf("first error row = %q, want %q", cells, tt.firstRow)
				}
			}
		})
	}
}

func TestCaptureUploadPage(t *testing.T) {
	created := time.Date(2026, 12, 7, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		form      CaptureForm
		checked   string
		errorIDs  []string
		jobRows   int
		pastedOut string
	}{
		{name: "empty form defaults to rollback", form: CaptureForm{Action: "/events/upload"}, checked: CaptureRollback},
		{name: "proceed chosen, errors shown, text kept", form: CaptureForm{Action: "/events/upload", Behaviour: CaptureProceed, Pasted: `{"type":"EPCISDocument"`,
			Errors: FieldErrors{"document": "This is not JSON: unexpected end of input", "": "Nothing was uploaded."}},
			checked: CaptureProceed, errorIDs: []string{"capture-document"}, pastedOut: `{"type":"EPCISDocument"`},
		{name: "recent jobs listed", form: CaptureForm{Action: "/events/upload", Jobs: []CaptureJobView{
			{ID: "j1", Href: "/events/upload/j1", Running: true, CreatedAt: created, EventCount: 3},
			{ID: "j2", Href: "/events/upload/j2", Success: true, CreatedAt: created, EventCount: 3, StoredCount: 3},
		}}, checked: CaptureRollback, jobRows: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := renderDoc(t, CaptureUploadPage(Chrome{Title: "Upload EPCIS", CSRFToken: "tok"}, tt.form))
			checkStructure(t, page)
			form := page.Find(`form[data-testid="capture-form"]`)
			for attr, want := range map[string]string{"action": tt.form.Action, "hx-post": tt.form.Action, "method": "post",
				"enctype": "multipart/form-data", "hx-encoding": "multipart/form-data"} {
				if got := form.AttrOr(attr, ""); got != want {
					t.Errorf("form %s = %q, want %q", attr, got, want)
				}
			}
			if got := form.Find(`input[name="_csrf"]`).AttrOr("value", ""); got != "tok" {
				t.Errorf("csrf = %q, want tok", got)
			}
			if accept := form.Find(`input[type="file"][name="file"]`).AttrOr("accept", ""); !strings.Contains(accept, ".jsonld") || !strings.Contains(accept, ".json") {
				t.Errorf("file accept = %q", accept)
			}
			if got := form.Find(`input[name="behaviour"][checked]`).AttrOr("value", ""); got != tt.checked {
				t.Errorf("checked behaviour = %q, want %q", got, tt.checked)
			}
			if got := form.Find(`textarea[name="document"]`).Text(); got != tt.pastedOut {
				t.Errorf("textarea = %q, want %q", got, tt.pastedOut)
			}
			for _, id := range tt.errorIDs {
				if form.Find(`[data-testid="error-`+id+`"]`).Length() != 1 {
					t.Errorf("no error shown for %s", id)
				}
				if form.Find("#"+id).AttrOr("aria-invalid", "") != "true" {
					t.Errorf("%s not marked invalid", id)
				}
			}
			if tt.form.Errors.Any() != (form.Find(`[data-testid="form-errors"]`).Length() == 1) {
				t.Error("form error summary shown when it should not be, or missing")
			}
			if got := page.Find(`[data-testid="capture-job-row"]`).Length(); got != tt.jobRows {
				t.Errorf("%d job rows, want %d", got, tt.jobRows)
			}
			if tt.jobRows == 0 && page.Find(`[data-testid="capture-jobs-empty"]`).Length() != 1 {
				t.Error("no 'no uploads' message")
			}
		})
	}
}

func TestErrorTypeText(t *testing.T) {
	for in, want := range map[string]string{
		"ValidationException":                    "Invalid event",
		"epcisException:ValidationException":     "Invalid event",
		"CaptureLimitExceededException":          "Too many events",
		"DuplicateEventException":                "Duplicate event",
		"https://example.com/errors#unknown_uom": "Unknown uom",
		"":                                       "Error",
	} {
		if got := ErrorTypeText(in); got != want {
			t.Errorf("ErrorTypeText(%q) = %q, want %q", in, got, want)
		}
	}
}
