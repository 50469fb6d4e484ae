package web

import (
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/views"
)

// Staff pages over the EPCIS store: one event whole, and the upload of an
// EPCIS document with its capture job's result.

// showEventPage is one event with every field a person can read.
func (s *Server) showEventPage(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	return s.renderEventPage(c, fiber.StatusOK, id, views.CorrectionForm{})
}

// renderEventPage shows event id, with the correction form as given.
func (s *Server) renderEventPage(c *fiber.Ctx, status int, id uuid.UUID, form views.CorrectionForm) error {
	ctx := c.UserContext()
	stored, err := s.deps.Inventory.GetStoredEvent(ctx, id)
	if err != nil {
		return err
	}
	ev, err := s.deps.Inventory.GetEvent(ctx, id)
	if err != nil {
		return err
	}
	meta := views.EventMeta{
		ID: id.String(), EventID: stored.EventID, HashID: stored.HashID, RecordTime: stored.RecordTime,
		SourceType: stored.SourceType, Actor: stored.Actor, Notes: ev.Notes, DeclaredInError: stored.DeclaredInError,
		Declaration: stored.ErrorDeclaration,
	}
	names, err := s.deps.Inventory.BatchNames(ctx, ev.BatchIDs())
	if err != nil {
		return err
	}
	for _, bid := range ev.BatchIDs() {
		n := names[bid]
		meta.Lots = append(meta.Lots, views.LotLink{Label: n.ProductName + " · " + n.BatchNumber, Href: "/batches/" + bid.String()})
	}
	for _, corrective := range stored.CorrectiveEventIDs {
		meta.CorrectedBy = append(meta.CorrectedBy, views.EventLink{Label: corrective, Href: eventURL(corrective)})
	}
	if err := s.loadEventStock(ctx, c, &meta, form); err != nil {
		return err
	}
	d, err := views.NewEventDetail(stored.Document, meta)
	if err != nil {
		return err
	}
	return render(c, status, views.EventDetailPage(chromeFor(c, d.Title(), "events"), d))
}

// captureUploadAction is where the upload form posts.
const captureUploadAction = "/events/upload"

// showCaptureUpload is the upload form with the recent capture jobs.
func (s *Server) showCaptureUpload(c *fiber.Ctx) error {
	f := views.CaptureForm{Action: captureUploadAction, Behaviour: "rollback", Errors: views.FieldErrors{}}
	return s.renderCaptureUpload(c, fiber.StatusOK, f)
}

func (s *Server) renderCaptureUpload(c *fiber.Ctx, status int, f views.CaptureForm) error {
	jobs, err := s.deps.Inventory.ListCaptureJobs(c.UserContext(), inventory.ListOptions{Limit: 10})
	if err != nil {
		return err
	}
	for _, j := range jobs.Items {
		f.Jobs = append(f.Jobs, captureJobView(j))
	}
	return render(c, status, views.CaptureUploadPage(chromeFor(c, "Upload EPCIS events", "events"), f), views.CaptureFormID)
}

// uploadCapture starts a capture job for an uploaded or pasted document
// and shows its result page; a document refused whole is shown again
// with its errors.
func (s *Server) uploadCapture(c *fiber.Ctx) error {
	f := views.CaptureForm{Action: captureUploadAction, Behaviour: formValue(c, "behaviour"),
		Pasted: formValue(c, "document"), Errors: views.FieldErrors{}}
	if f.Behaviour != "proceed" {
		f.Behaviour = "rollback"
	}
	doc := []byte(f.Pasted)
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		file, err := fh.Open()
		if err != nil {
			return err
		}
		doc, err = io.ReadAll(io.LimitReader(file, CaptureFileSizeLimit+1))
		_ = file.Close()
		if err != nil {
			return err
		}
		f.Pasted = ""
	}
	switch {
	case len(strings.TrimSpace(string(doc))) == 0:
		f.Errors.Add("document", "Choose a file or paste an EPCIS document.")
	case len(doc) > CaptureFileSizeLimit:
		f.Errors.Add("document", "The document is larger than "+strconv.Itoa(CaptureFileSizeLimit>>20)+" MiB.")
	}
	if f.Errors.Any() {
		return s.renderCaptureUpload(c, fiber.StatusUnprocessableEntity, f)
	}
	job, err := s.startCapture(c.UserContext(), uiActor(c), doc, f.Behaviour == "proceed")
	var p *Problem
	if errors.As(err, &p) && p.Status < 500 {
		f.Errors.Add("document", p.Detail)
		for _, e := range p.Errors {
			f.Errors.Add("document", e.Field+": "+e.Message)
		}
		return s.renderCaptureUpload(c, fiber.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	return redirectAfterPost(c, captureJobPath(job.ID), "Capture started.")
}

// captureJobEventsShown is how many stored events a job page links to.
const captureJobEventsShown = 50

func captureJobPath(id uuid.UUID) string { return "/events/upload/" + id.String() }

// showCaptureJobPage is one job's result; while it runs, the page polls
// its status fragment.
func (s *Server) showCaptureJobPage(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	job, err := s.deps.Inventory.GetCaptureJob(c.UserContext(), id)
	if err != nil {
		return err
	}
	v := captureJobView(job)
	if !v.Running && job.StoredCount > 0 {
		evs, err := s.deps.Inventory.CaptureJobEvents(c.UserContext(), id, captureJobEventsShown)
		if err != nil {
			return err
		}
		for _, e := range evs {
			v.Events = append(v.Events, views.CaptureJobEvent{Href: "/events/" + e.ID.String(), EventType: e.EventType,
				Action: deref(e.Action), BizStep: deref(e.BizStep), EventTime: e.EventTime})
		}
	}
	return render(c, fiber.StatusOK, views.CaptureJobPage(chromeFor(c, "Capture job", "events"), v), views.CaptureJobID)
}

func captureJobView(j inventory.CaptureJob) views.CaptureJobView {
	v := views.CaptureJobView{
		ID: j.ID.String(), Href: captureJobPath(j.ID), Running: j.Status == "running",
		Success: j.Status != "failed" && len(j.Errors) == 0, Behaviour: j.ErrorBehaviour,
		CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt, EventCount: j.EventCount, StoredCount: j.StoredCount,
	}
	for _, e := range j.Errors {
		v.Errors = append(v.Errors, views.CaptureJobError{Index: e.Index, EventID: e.EventID, Type: e.Type, Message: e.Message})
	}
	return v
}
