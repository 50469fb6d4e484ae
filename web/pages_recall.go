package web

import (
	"context"
	"errors"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/views"
)

// Recall pages: the list, the form with its impact preview and
// confirmation, mock recalls, and the case page where staff record what
// they recover and close the case.

func (s *Server) showRecallsPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	rs, err := s.deps.Inventory.ListRecalls(ctx, 100)
	if err != nil {
		return err
	}
	ms, err := s.deps.Inventory.ListMockRecalls(ctx, 100)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.RecallsView(chromeFor(c, "Recalls", "recalls"), views.RecallsPage{Recalls: rs, Mocks: ms}))
}

// showNewRecall opens the form, with the lot (and reason) a lot page sent.
func (s *Server) showNewRecall(c *fiber.Ctx) error {
	f := views.RecallForm{CSRF: csrfToken(c), Reason: formValue(c, "reason"), Errors: views.FieldErrors{}}
	if id, err := uuid.Parse(c.Query("batch_id")); err == nil {
		lots, err := s.recallLotPicks(c.UserContext(), []uuid.UUID{id})
		if err != nil {
			return err
		}
		f.Lots = lots
	}
	return render(c, fiber.StatusOK, views.RecallFormView(chromeFor(c, "Recall", "recalls"), f))
}

// recallForm reads the form; ids are the lots chosen (empty rows skipped).
func (s *Server) recallForm(c *fiber.Ctx) (views.RecallForm, []uuid.UUID, error) {
	f := views.RecallForm{CSRF: csrfToken(c), Reason: formValue(c, "reason"), Classification: formValue(c, "classification"),
		DecidedBy: formValue(c, "decided_by"), Note: formValue(c, "note"), Errors: views.FieldErrors{}}
	var ids []uuid.UUID
	for _, v := range formValues(c, "batch_ids") {
		if v == "" {
			continue
		}
		id, err := uuid.Parse(v)
		if err != nil {
			f.Errors.Add("batch_ids", "Choose the lots from the list that appears as you type.")
			continue
		}
		ids = append(ids, id)
	}
	lots, err := s.recallLotPicks(c.UserContext(), ids)
	if err != nil {
		return f, nil, err
	}
	f.Lots = lots
	return f, ids, nil
}

// recallLotPicks labels the chosen lots as the picker does.
func (s *Server) recallLotPicks(ctx context.Context, ids []uuid.UUID) ([]views.RecallLotPick, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]views.RecallLotPick, 0, len(ids))
	for _, id := range ids {
		b, err := s.deps.Inventory.GetBatch(ctx, id)
		var nf *inventory.NotFoundError
		switch {
		case errors.As(err, &nf):
			out = append(out, views.RecallLotPick{ID: id.String(), Label: "unknown lot " + id.String()})
		case err != nil:
			return nil, err
		default:
			out = append(out, views.RecallLotPick{ID: id.String(), Label: b.BatchNumber + " · " + b.ProductName + " · " + b.LocationName})
		}
	}
	return out, nil
}

// previewRecall checks the form and shows the impact with the
// confirmation; errors re-render the form (422).
func (s *Server) previewRecall(c *fiber.Ctx) error {
	f, ids, err := s.recallForm(c)
	if err != nil {
		return err
	}
	ch := chromeFor(c, "Recall", "recalls")
	if len(ids) == 0 && !f.Errors.Any() {
		f.Errors.Add("batch_ids", "Choose at least one lot.")
	}
	if f.Reason == "" {
		f.Errors.Add("reason", "is required: say what is wrong")
	}
	if f.Classification == "" {
		f.Errors.Add("classification", "is required: choose the class")
	}
	if f.DecidedBy == "" {
		f.Errors.Add("decided_by", "is required: who decided the recall")
	}
	if f.Errors.Any() {
		return render(c, fiber.StatusUnprocessableEntity, views.RecallFormView(ch, f))
	}
	im, err := s.deps.Inventory.RecallImpact(c.UserContext(), ids)
	if fe, ok := fieldErrors(err); ok {
		for k, v := range fe {
			f.Errors.Add(k, v)
		}
		return render(c, fiber.StatusUnprocessableEntity, views.RecallFormView(ch, f))
	}
	if err != nil {
		return err
	}
	f.Impact = &im
	return render(c, fiber.StatusOK, views.RecallPreviewView(chromeFor(c, "Confirm the recall", "recalls"), f))
}

// openRecallFromForm recalls on confirmation and shows the case.
func (s *Server) openRecallFromForm(c *fiber.Ctx) error {
	f, ids, err := s.recallForm(c)
	if err != nil {
		return err
	}
	if !f.Errors.Any() {
		r, err := s.deps.Inventory.OpenRecall(c.UserContext(), uiActor(c), inventory.RecallRequest{BatchIDs: ids, Reason: f.Reason,
			Classification: f.Classification, DecidedBy: f.DecidedBy})
		if err == nil {
			return redirectAfterPost(c, "/recalls/"+r.ID.String(), "Recall "+r.Code()+" opened: "+
				strconv.Itoa(r.Impact.Summary.Lots)+" lot rows recalled.")
		}
		fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		for k, v := range fe {
			f.Errors.Add(k, v)
		}
	}
	return render(c, fiber.StatusUnprocessableEntity, views.RecallFormView(chromeFor(c, "Recall", "recalls"), f))
}

// mockRecallFromForm runs and keeps a mock recall of the lots chosen.
func (s *Server) mockRecallFromForm(c *fiber.Ctx) error {
	f, ids, err := s.recallForm(c)
	if err != nil {
		return err
	}
	if !f.Errors.Any() {
		m, err := s.deps.Inventory.MockRecall(c.UserContext(), uiActor(c), ids, f.Note)
		if err == nil {
			return redirectAfterPost(c, "/mock-recalls/"+m.ID.String(), "Mock recall done in "+
				strconv.FormatFloat(m.DurationMs, 'f', 0, 64)+" ms; nothing was changed.")
		}
		fe, ok := fieldErrors(err)
		if !ok {
			return err
		}
		for k, v := range fe {
			f.Errors.Add(k, v)
		}
	}
	return render(c, fiber.StatusUnprocessableEntity, views.RecallFormView(chromeFor(c, "Recall", "recalls"), f))
}

func (s *Server) showMockRecallPage(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	m, err := s.deps.Inventory.GetMockRecall(c.UserContext(), id)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.MockRecallView(chromeFor(c, "Mock recall", "recalls"), m))
}

func (s *Server) showRecallPage(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	p, err := s.recallCase(c, id, views.RecoveryForm{Kind: inventory.RecoveryDestroyed, Errors: views.FieldErrors{}})
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, views.RecallCaseView(chromeFor(c, "Recall "+p.Recall.Code(), "recalls"), p))
}

// recallCase loads the case with the recovery form's choices.
func (s *Server) recallCase(c *fiber.Ctx, id uuid.UUID, rf views.RecoveryForm) (views.RecallCasePage, error) {
	r, err := s.deps.Inventory.GetRecall(c.UserContext(), id)
	if err != nil {
		return views.RecallCasePage{}, err
	}
	if r.Current != nil {
		for _, l := range r.Current.Lots {
			rf.Lots = append(rf.Lots, views.Option{Value: l.BatchID.String(),
				Label: l.Lot + " · " + l.Product + " · " + l.LocationName + " (on hand " + l.OnHand.String() + " " + l.Unit + ")"})
		}
		for _, cu := range r.Current.Customers {
			if cu.PartyID != nil {
				rf.Customers = append(rf.Customers, views.Option{Value: cu.PartyID.String(), Label: cu.Name})
			}
		}
	}
	return views.RecallCasePage{CSRF: csrfToken(c), Recall: r, Recovery: rf, Close: views.CloseRecallForm{Errors: views.FieldErrors{}}}, nil
}

// recordRecoveryFromForm records a return or destruction; a refusal shows
// beside the form with the entries kept.
func (s *Server) recordRecoveryFromForm(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	rf := views.RecoveryForm{Kind: formValue(c, "kind"), BatchID: formValue(c, "batch_id"), PartyID: formValue(c, "party_id"),
		Quantity: formValue(c, "quantity"), Note: formValue(c, "note"), Errors: views.FieldErrors{}}
	req := inventory.RecoveryRequest{Kind: rf.Kind, Note: rf.Note}
	if b, err := uuid.Parse(rf.BatchID); err == nil {
		req.BatchID = b
	} else {
		rf.Errors.Add("batch_id", "Choose a lot.")
	}
	if rf.PartyID != "" {
		if p, err := uuid.Parse(rf.PartyID); err == nil {
			req.PartyID = &p
		} else {
			rf.Errors.Add("party_id", "Choose a customer from the list.")
		}
	}
	if q, err := quantity.Parse(rf.Quantity); err == nil {
		req.Quantity = q
	} else {
		rf.Errors.Add("quantity", "must be a number greater than 0 with at most 3 decimals")
	}
	status := fiber.StatusUnprocessableEntity
	if !rf.Errors.Any() {
		r, err := s.deps.Inventory.RecordRecovery(c.UserContext(), uiActor(c), id, req)
		if err == nil {
			return redirectAfterPost(c, "/recalls/"+id.String(), "Recorded: "+r.Quantity.String()+" of lot "+r.Lot+" "+r.Kind+".")
		}
		if status, err = stockRefusal(rf.Errors, err, "quantity"); err != nil {
			return err
		}
	}
	p, err := s.recallCase(c, id, rf)
	if err != nil {
		return err
	}
	return render(c, status, views.RecallCaseView(chromeFor(c, "Recall "+p.Recall.Code(), "recalls"), p))
}

func (s *Server) closeRecallFromForm(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	note := formValue(c, "note")
	r, err := s.deps.Inventory.CloseRecall(c.UserContext(), uiActor(c), id, note)
	if err == nil {
		return redirectAfterPost(c, "/recalls/"+id.String(), "Recall "+r.Code()+" closed.")
	}
	fe, ok := fieldErrors(err)
	var de inventory.Error
	if !ok && !(errors.As(err, &de) && de.Kind() == inventory.KindStateConflict) {
		return err
	}
	p, perr := s.recallCase(c, id, views.RecoveryForm{Kind: inventory.RecoveryDestroyed, Errors: views.FieldErrors{}})
	if perr != nil {
		return perr
	}
	p.Close = views.CloseRecallForm{Note: note, Errors: views.FieldErrors{}}
	status := fiber.StatusUnprocessableEntity
	if ok {
		for k, v := range fe {
			p.Close.Errors.Add(k, v)
		}
	} else {
		status = fiber.StatusConflict
		p.Close.Errors.Add("note", de.Sentence())
	}
	return render(c, status, views.RecallCaseView(chromeFor(c, "Recall "+p.Recall.Code(), "recalls"), p))
}

// recallLink is the recall form for a lot, with the reason already given.
func recallLink(batchID uuid.UUID, reason string) string {
	v := url.Values{"batch_id": {batchID.String()}}
	if reason != "" {
		v.Set("reason", reason)
	}
	return "/recalls/new?" + v.Encode()
}
