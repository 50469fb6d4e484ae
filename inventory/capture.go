package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"batchtrack/db"
	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/idempotency"
	"batchtrack/quantity"
)

// EPCIS exception types a capture reports per event.
const (
	ExceptionAlreadyExists  = "epcisException:ResourceAlreadyExistsException"
	ExceptionValidation     = "epcisException:ValidationException"
	ExceptionImplementation = "epcisException:ImplementationException"
)

// captureBatchSize is how many events a capture buffers and writes at once.
const captureBatchSize = 500

// CaptureOptions tune CaptureEvents.
type CaptureOptions struct {
	Proceed bool      // GS1-Capture-Error-Behaviour: proceed (default rollback)
	JobID   uuid.UUID // the job StartCaptureJob made; uuid.Nil for none
	// Refused are events the document reader refused already (proceed):
	// the job reports them with the capture's own refusals.
	Refused []CaptureEventError
}

// CaptureEventError says why one event of a capture was not stored.
type CaptureEventError struct {
	Index   int    `json:"index"` // position in the document; -1 for the capture as a whole
	EventID string `json:"eventID,omitempty"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

// CaptureResult is what a capture stored and which events it refused.
type CaptureResult struct {
	Stored int
	IDs    []uuid.UUID // row ids of the stored events, in document order
	Errors []CaptureEventError
}

// StoredEvent is an EPCIS event as the store keeps it.
type StoredEvent struct {
	ID              uuid.UUID
	EventID         string
	HashID          string
	RecordTime      time.Time
	Document        json.RawMessage // the event object as received (see epcis.Event.Raw)
	Context         map[string]string
	DeclaredInError bool
	// CorrectiveEventIDs are the eventIDs its error declaration names.
	CorrectiveEventIDs []string
	// ErrorDeclaration is the errorDeclaration of a declaration captured
	// after the event (the event's own document is never edited); nil when
	// none was.
	ErrorDeclaration json.RawMessage
	CaptureJobID     *uuid.UUID
	SourceType       string
	Actor            string
}

// CaptureEvents stores events in one transaction. Without opts.Proceed any
// refused event stores nothing: the result lists the errors, Stored is 0
// and the error is nil. With Proceed, refused events are skipped and
// reported, the others stored. The error is for failures of the store
// itself (then nothing was stored either).
func (s *Service) CaptureEvents(ctx context.Context, actor Actor, events iter.Seq2[int, epcis.Event], opts CaptureOptions) (CaptureResult, error) {
	return s.capture(ctx, actor, events, opts, nil)
}

// CaptureEvent stores one event. A duplicate eventID or hash ID is a
// ConflictError (409 ResourceAlreadyExistsException); an event the store
// cannot take is a ValidationError.
func (s *Service) CaptureEvent(ctx context.Context, actor Actor, ev epcis.Event) (StoredEvent, error) {
	if se, ok, err := idempotency.Replay[StoredEvent](ctx); ok {
		return se, err
	}
	var stored StoredEvent
	one := func(yield func(int, epcis.Event) bool) { yield(0, ev) }
	res, err := s.capture(ctx, actor, one, CaptureOptions{}, func(q *db.Queries, res CaptureResult) error {
		row, err := q.GetStoredEvent(ctx, res.IDs[0])
		if err != nil {
			return err
		}
		stored = storedEventFromRow(db.GetStoredEventByEventIDRow(row))
		return idempotency.Keep(ctx, q, stored)
	})
	if err != nil {
		return StoredEvent{}, unwrapDomain(err)
	}
	if len(res.Errors) > 0 {
		e := res.Errors[0]
		if e.Type == ExceptionAlreadyExists {
			return StoredEvent{}, &ConflictError{Field: "eventID", Message: e.Message}
		}
		return StoredEvent{}, Invalid("event", e.Message)
	}
	return stored, nil
}

// capturer is one capture's state across its batches.
type capturer struct {
	s          *Service
	tx         pgx.Tx
	q          *db.Queries
	actor      Actor
	opts       CaptureOptions
	seenIDs    map[string]int // eventID -> index of the first event with it
	seenHashes map[string]int
	ids        []uuid.UUID
	errs       []CaptureEventError
	linked     []uuid.UUID // our batches the stored events name
	declared   bool        // some event was declared in error
	moved      bool        // some event moved stock
}

func (c *capturer) link(id uuid.UUID) {
	if !slices.Contains(c.linked, id) {
		c.linked = append(c.linked, id)
	}
}

// effect runs e's stock effect, if it has one, through the engine in a
// savepoint, storing row as its event. moved is false for a record.
func (c *capturer) effect(ctx context.Context, e indexedEvent, row eventRow) (moved bool, err error) {
	sp, err := c.tx.Begin(ctx)
	if err != nil {
		return false, err
	}
	q := c.s.store.WithTx(sp)
	fe := effectOfCaptured(e.ev)
	fe.eventID = row.EventID // the one made for an event sent without
	eff, err := planEffect(ctx, q, fe)
	if err == nil && eff.none() {
		return false, sp.Rollback(ctx)
	}
	var out Movement
	if err == nil {
		out, err = c.s.runEffect(ctx, q, c.actor, eff, &row, eventRecord{})
	}
	if err != nil {
		_ = sp.Rollback(ctx)
		if typ, msg, ok := c.refusal(ctx, err); ok {
			c.refuse(e, typ, msg)
			return true, nil
		}
		return false, err
	}
	if err := sp.Commit(ctx); err != nil {
		return false, err
	}
	c.ids = append(c.ids, row.ID)
	for _, b := range out.Batches {
		c.link(b.ID)
	}
	for _, l := range row.links {
		c.link(l.batchID)
	}
	c.moved = true
	return true, nil
}

// refusal is the capture error of an event the engine refused; ok is
// false for a failure of the store.
func (c *capturer) refusal(ctx context.Context, err error) (typ, msg string, ok bool) {
	if integrityError(err) {
		return errorType(err), refusalMessage(err), true
	}
	var (
		iq *InsufficientQuantityError
		nc *NotConsumableError
		ve *ValidationError
		nf *NotFoundError
		ce *ConflictError
	)
	switch {
	case errors.As(err, &iq):
		return ExceptionValidation, "lot " + iq.Lot + " has only " + iq.QuantityAvailable.String() +
			" available; the event takes " + iq.Requested.String(), true
	case errors.As(err, &nc):
		lot := "batch " + nc.BatchID
		if id, perr := uuid.Parse(nc.BatchID); perr == nil {
			if b, gerr := c.q.GetBatch(ctx, id); gerr == nil {
				lot = "lot " + b.Batch.BatchNumber + " at " + b.LocationName
			}
		}
		msg := lot + " cannot be " + nc.action() + ": it is " + nc.why().Describe()
		if nc.StatusReason != "" {
			msg += " (" + nc.StatusReason + ")"
		}
		return ExceptionValidation, msg, true
	case errors.As(err, &ve):
		if len(ve.Fields) > 0 {
			return ExceptionValidation, ve.Fields[0].Field + ": " + ve.Fields[0].Message, true
		}
		return ExceptionValidation, ve.Error(), true
	case errors.As(err, &nf):
		return ExceptionValidation, nf.Error(), true
	case errors.As(err, &ce):
		return ExceptionValidation, ce.Message, true
	}
	return "", "", false
}

type indexedEvent struct {
	index int
	ev    epcis.Event
}

func (s *Service) capture(ctx context.Context, actor Actor, events iter.Seq2[int, epcis.Event], opts CaptureOptions,
	beforeCommit func(*db.Queries, CaptureResult) error) (CaptureResult, error) {
	count := 0
	res, err := func() (CaptureResult, error) {
		tx, err := s.store.Pool.Begin(ctx)
		if err != nil {
			return CaptureResult{}, err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
		// The pool plans every statement for its parameters (db.Open);
		// here that re-planned the foreign key check of every row written,
		// and a capture writes tens of thousands.
		if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = auto"); err != nil {
			return CaptureResult{}, err
		}
		c := &capturer{s: s, tx: tx, q: s.store.WithTx(tx), actor: actor, opts: opts,
			seenIDs: map[string]int{}, seenHashes: map[string]int{}, errs: slices.Clone(opts.Refused)}
		if opts.JobID != uuid.Nil {
			// Held until this transaction ends: GetCaptureJob tells a running
			// capture from one whose process died by this lock.
			if _, err := c.q.LockCaptureJob(ctx, opts.JobID); err != nil {
				return CaptureResult{}, notFound(err, "capture job", "")
			}
		}
		batch := make([]indexedEvent, 0, captureBatchSize)
		for i, ev := range events {
			count++
			batch = append(batch, indexedEvent{i, ev})
			if len(batch) == captureBatchSize {
				if err := c.flush(ctx, batch); err != nil {
					return CaptureResult{}, err
				}
				batch = batch[:0]
			}
		}
		if err := c.flush(ctx, batch); err != nil {
			return CaptureResult{}, err
		}
		slices.SortStableFunc(c.errs, func(a, b CaptureEventError) int { return a.Index - b.Index })
		count += len(opts.Refused)
		res := CaptureResult{Stored: len(c.ids), IDs: c.ids, Errors: c.errs}
		if !opts.Proceed && len(res.Errors) > 0 {
			return CaptureResult{Errors: res.Errors}, nil // rolled back by the defer
		}
		if opts.JobID != uuid.Nil {
			if err := finishJob(ctx, c.q, opts.JobID, "success", count, res.Stored, res.Errors); err != nil {
				return CaptureResult{}, err
			}
		}
		if beforeCommit != nil {
			if err := beforeCommit(c.q, res); err != nil {
				return CaptureResult{}, err
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return CaptureResult{}, err
		}
		if res.Stored > 0 || c.declared {
			s.changed(ctx, Change{Batches: c.linked, List: c.moved, Events: true})
		}
		return res, nil
	}()
	if err != nil {
		err = db.Translate(err)
		s.recordFailedJob(ctx, opts.JobID, count, []CaptureEventError{{Index: -1, Type: ExceptionImplementation,
			Message: "the capture failed; nothing was stored"}})
		return CaptureResult{}, err
	}
	if !opts.Proceed && len(res.Errors) > 0 {
		s.recordFailedJob(ctx, opts.JobID, count, res.Errors)
	}
	return res, nil
}

// recordFailedJob marks a job failed after its capture rolled back.
func (s *Service) recordFailedJob(ctx context.Context, id uuid.UUID, count int, errs []CaptureEventError) {
	if id == uuid.Nil {
		return
	}
	err := s.store.InTx(context.WithoutCancel(ctx), db.TxOptions{}, func(q *db.Queries) error {
		return finishJob(ctx, q, id, "failed", count, 0, errs)
	})
	if err != nil {
		s.logger.Error("capture job: cannot record failure", "job", id, "err", err)
	}
}

func finishJob(ctx context.Context, q *db.Queries, id uuid.UUID, status string, count, stored int, errs []CaptureEventError) error {
	if errs == nil {
		errs = []CaptureEventError{}
	}
	body, err := json.Marshal(errs)
	if err != nil {
		return err
	}
	return q.FinishCaptureJob(ctx, db.FinishCaptureJobParams{ID: id, Status: status,
		EventCount: int32(count), StoredCount: int32(stored), Errors: body})
}

func (c *capturer) refuse(e indexedEvent, typ, msg string) {
	c.errs = append(c.errs, CaptureEventError{Index: e.index, EventID: e.ev.EventID, Type: typ, Message: msg})
}

// failed says whether nothing more will be stored: a rollback-mode
// capture keeps checking events only to report all their errors.
func (c *capturer) failed() bool { return !c.opts.Proceed && len(c.errs) > 0 }

// flush checks a batch of events and writes those that pass.
func (c *capturer) flush(ctx context.Context, batch []indexedEvent) error {
	if len(batch) == 0 {
		return nil
	}
	var ok []indexedEvent
	var ids, hashes []string
	for _, e := range batch {
		if msg := checkCaptured(e.ev); msg != "" {
			c.refuse(e, ExceptionValidation, msg)
			continue
		}
		if first, dup := c.seenIDs[e.ev.EventID]; dup && e.ev.EventID != "" {
			c.refuse(e, ExceptionAlreadyExists, "eventID "+e.ev.EventID+" is also the eventID of event "+itoa(first)+" of this document")
			continue
		}
		if first, dup := c.seenHashes[e.ev.HashID]; dup && e.ev.HashID != "" {
			c.refuse(e, ExceptionAlreadyExists, "the event is the same as event "+itoa(first)+" of this document (hash "+e.ev.HashID+")")
			continue
		}
		if e.ev.EventID != "" {
			c.seenIDs[e.ev.EventID] = e.index
			ids = append(ids, e.ev.EventID)
		}
		if e.ev.HashID != "" {
			c.seenHashes[e.ev.HashID] = e.index
			hashes = append(hashes, e.ev.HashID)
		}
		ok = append(ok, e)
	}
	if len(ok) == 0 {
		return nil
	}
	stored, err := c.q.StoredEventIDs(ctx, db.StoredEventIDsParams{EventIds: ids, HashIds: hashes})
	if err != nil {
		return err
	}
	if len(stored) > 0 {
		byID, byHash := map[string]db.StoredEventIDsRow{}, map[string]db.StoredEventIDsRow{}
		for _, r := range stored {
			byID[r.EventID], byHash[r.HashID] = r, r
		}
		fresh := ok[:0]
		for _, e := range ok {
			match, sameID := byID[e.ev.EventID]
			if !sameID || e.ev.EventID == "" {
				var sameHash bool
				if match, sameHash = byHash[e.ev.HashID]; !sameHash || e.ev.HashID == "" {
					fresh = append(fresh, e)
					continue
				}
			}
			// The same event again: an error declaration of the stored one,
			// or a duplicate.
			if e.ev.Error != nil && !match.Declared {
				if err := c.declare(ctx, e, match.ID); err != nil {
					return err
				}
				continue
			}
			if sameID {
				c.refuse(e, ExceptionAlreadyExists, "an event with eventID "+e.ev.EventID+" is stored already")
			} else {
				c.refuse(e, ExceptionAlreadyExists, "the same event is stored already (hash "+e.ev.HashID+")")
			}
		}
		ok = fresh
	}
	if len(ok) == 0 || c.failed() {
		return nil
	}
	rows, err := c.rows(ctx, ok)
	if err != nil {
		return err
	}
	// Events that move our stock go through the engine one at a time, in
	// document order, each in its own savepoint; the others are written
	// together. An event naming none of our lots and none of our known
	// locations cannot move stock, unless an earlier event of this capture
	// made the lot it names.
	candidate := func(i int) bool {
		e, r := ok[i], rows[i]
		return e.ev.Error == nil && mayMoveStock(e.ev.Type, e.ev.BizStep, e.ev.Disposition) &&
			(c.moved || len(r.links) > 0 || r.ReadPointID != nil || r.BizLocationID != nil)
	}
	// Every row of the lots these events name is locked at once, in id
	// order: each event locks what it moves in id order too, but across
	// events a capture would take rows out of order and could deadlock
	// with a staff operation.
	var gtins, lots []string
	for i := range ok {
		if !candidate(i) {
			continue
		}
		for _, id := range ok[i].ev.Identifiers {
			if g, l, isLot := parseLotKey(id.Key); isLot && id.Class {
				gtins, lots = append(gtins, g), append(lots, l)
			}
		}
	}
	if len(gtins) > 0 && !c.failed() {
		named, err := c.q.LotStockForEvent(ctx, db.LotStockForEventParams{Gtins: gtins, Lots: lots, Ids: []uuid.UUID{}})
		if err != nil {
			return err
		}
		lockIDs := make([]uuid.UUID, len(named))
		for i, r := range named {
			lockIDs[i] = r.ID
		}
		if _, err := c.q.LockStock(ctx, lockIDs); err != nil {
			return err
		}
	}
	plain, plainRows := ok[:0:0], rows[:0:0]
	for i, e := range ok {
		if !candidate(i) {
			plain, plainRows = append(plain, e), append(plainRows, rows[i])
			continue
		}
		if c.failed() {
			return nil
		}
		moved, err := c.effect(ctx, e, rows[i])
		if err != nil {
			return err
		}
		if !moved {
			plain, plainRows = append(plain, e), append(plainRows, rows[i])
		}
	}
	ok, rows = plain, plainRows
	if len(rows) == 0 || c.failed() {
		return nil
	}
	err = c.write(ctx, rows)
	if err == nil {
		c.stored(rows)
		return nil
	}
	if !integrityError(err) {
		return err
	}
	if len(rows) == 1 {
		c.refuse(ok[0], errorType(err), refusalMessage(err))
		return nil
	}
	// A concurrent capture stored one of these meanwhile (or the database
	// refused an event): find which, one savepoint per event.
	for i, r := range rows {
		if c.failed() {
			return nil
		}
		if err := c.write(ctx, []eventRow{r}); err != nil {
			if !integrityError(err) {
				return err
			}
			c.refuse(ok[i], errorType(err), refusalMessage(err))
			continue
		}
		c.stored([]eventRow{r})
	}
	return nil
}

// declare records e, which carries an errorDeclaration, as the error
// declaration of the stored event id: the declaration is kept whole, the
// original's document untouched (migration 00010).
func (c *capturer) declare(ctx context.Context, e indexedEvent, id uuid.UUID) error {
	sp, err := c.tx.Begin(ctx)
	if err != nil {
		return err
	}
	reversals, batches, err := c.s.reverse(ctx, c.s.store.WithTx(sp), c.actor, id, "EPCIS error declaration "+e.ev.EventID)
	if err != nil {
		_ = sp.Rollback(ctx)
		if typ, msg, ok := c.refusal(ctx, err); ok {
			c.refuse(e, typ, msg)
			return nil
		}
		return err
	}
	if err := sp.Commit(ctx); err != nil {
		return err
	}
	if len(reversals) > 0 {
		c.moved = true
	}
	for _, b := range batches {
		c.link(b.ID)
	}
	d := e.ev.Error
	p := db.DeclareEventInErrorParams{ID: id, DeclarationTime: d.DeclarationTime, Reason: optText(d.Reason),
		CorrectiveEventIds: d.CorrectiveEventIDs, Document: e.ev.Raw, Actor: c.actor.name()}
	if p.CorrectiveEventIds == nil {
		p.CorrectiveEventIds = []string{}
	}
	if c.opts.JobID != uuid.Nil {
		p.CaptureJobID = &c.opts.JobID
	}
	n, err := c.q.DeclareEventInError(ctx, p)
	if err != nil {
		return err
	}
	if n == 0 { // declared meanwhile by a concurrent capture
		c.refuse(e, ExceptionAlreadyExists, "the event is declared in error already")
		return nil
	}
	c.ids = append(c.ids, id)
	c.declared = true
	return nil
}

func (c *capturer) stored(rows []eventRow) {
	for _, r := range rows {
		c.ids = append(c.ids, r.ID)
		for _, l := range r.links {
			if !slices.Contains(c.linked, l.batchID) {
				c.linked = append(c.linked, l.batchID)
			}
		}
	}
}

// write stores rows inside a savepoint, so a refusal leaves the capture's
// transaction usable.
func (c *capturer) write(ctx context.Context, rows []eventRow) error {
	sp, err := c.tx.Begin(ctx)
	if err != nil {
		return err
	}
	if err := writeEvents(ctx, c.s.store.WithTx(sp), rows); err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	return sp.Commit(ctx)
}

// integrityError says whether err is the database refusing one event's
// data (a unique, check or foreign key violation, a bad value), not a
// failure of the store.
func integrityError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "23") || strings.HasPrefix(pgErr.Code, "22"))
}

func errorType(err error) string {
	if errors.Is(db.Translate(err), db.ErrConflict) {
		return ExceptionAlreadyExists
	}
	return ExceptionValidation
}

func refusalMessage(err error) string {
	if errors.Is(db.Translate(err), db.ErrConflict) {
		return "an event with this eventID or hash is stored already"
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return "the store refused the event: " + pgErr.Message
	}
	return "the store refused the event"
}

// checkCaptured checks what the store's constraints need of an event; the
// epcis package has validated the document already.
func checkCaptured(ev epcis.Event) string {
	raw := strings.TrimSpace(string(ev.Raw))
	switch {
	case !slices.Contains(gs1.EventTypes, ev.Type):
		return "type must be one of " + strings.Join(gs1.EventTypes, ", ")
	case ev.Type == "TransformationEvent" && ev.Action != "":
		return "a TransformationEvent has no action"
	case ev.Type != "TransformationEvent" && !slices.Contains(gs1.Actions, ev.Action):
		return "action must be one of ADD, OBSERVE, DELETE"
	case ev.EventTime.IsZero():
		return "eventTime is required"
	case !validOffset(ev.TimeZoneOffset):
		return "eventTimeZoneOffset must be an offset such as +02:00"
	case raw == "" || raw[0] != '{' || !json.Valid(ev.Raw):
		return "the event must be a JSON object"
	}
	return ""
}

type lotRef struct {
	id   uuid.UUID
	unit string
}

// rows resolves the lots and locations a batch of events names and turns
// the events into rows.
func (c *capturer) rows(ctx context.Context, events []indexedEvent) ([]eventRow, error) {
	var gtins, lots, glns []string
	for _, e := range events {
		for _, id := range e.ev.Identifiers {
			if g, l, ok := parseLotKey(id.Key); ok {
				gtins, lots = append(gtins, g), append(lots, l)
			}
		}
		for _, k := range []string{e.ev.ReadPoint, e.ev.BizLocation} {
			if g, ok := glnOfKey(k); ok {
				glns = append(glns, g)
			}
		}
	}
	ours := map[[2]string]lotRef{}
	if len(gtins) > 0 {
		found, err := c.q.LotsByGTINAndNumber(ctx, db.LotsByGTINAndNumberParams{Gtins: gtins, Lots: lots})
		if err != nil {
			return nil, err
		}
		for _, b := range found {
			ours[[2]string{b.Gtin, b.BatchNumber}] = lotRef{b.ID, b.UnitOfMeasure}
		}
	}
	locations := map[string]uuid.UUID{}
	if len(glns) > 0 {
		found, err := c.q.LocationsByGLN(ctx, glns)
		if err != nil {
			return nil, err
		}
		for _, l := range found {
			locations[l.Gln] = l.ID
		}
	}
	rows := make([]eventRow, len(events))
	for i, e := range events {
		rows[i] = capturedRow(e.ev, c.actor, c.opts.JobID, ours, locations)
	}
	return rows, nil
}

// capturedRow is a captured event as a row: the document as received, the
// projection, and the old columns filled for our lots and locations so the
// staff UI and /api/events show it.
func capturedRow(ev epcis.Event, actor Actor, jobID uuid.UUID, ours map[[2]string]lotRef, locations map[string]uuid.UUID) eventRow {
	id := newEventUUID()
	eventID := ev.EventID
	if eventID == "" {
		eventID = "urn:uuid:" + id.String()
	}
	r := eventRow{bizTx: ev.BizTransactions, sources: ev.Sources, destinations: ev.Destinations}
	var lists [3][]QuantityItem // quantity, input, output
	epcList := []string{}
	for _, ident := range ev.Identifiers {
		r.epcs = append(r.epcs, epcRow{role: ident.Role, key: ident.Key, class: ident.Class, quantity: ident.Quantity, uom: ident.UOM})
		if ident.Role == epcis.RoleEPC && !ident.Class {
			epcList = append(epcList, ident.URI)
		}
		g, l, ok := parseLotKey(ident.Key)
		if !ok {
			continue
		}
		lot, ok := ours[[2]string{g, l}]
		if !ok {
			continue
		}
		role, list := "object", 0
		switch ident.Role {
		case epcis.RoleInput:
			role, list = "input", 1
		case epcis.RoleOutput:
			role, list = "output", 2
		}
		var q quantity.Quantity
		if ident.Quantity != "" {
			if v, err := quantity.Parse(ident.Quantity); err == nil && v > 0 {
				q = v
			}
		}
		uom := ident.UOM
		if uom == "" {
			uom, _ = gs1.UNECECode(lot.unit)
		}
		r.links = append(r.links, linkRow{batchID: lot.id, role: role, quantity: q, uom: uom, lot: ident.Key})
		if q > 0 {
			lists[list] = append(lists[list], QuantityItem{BatchID: lot.id, Quantity: q, UOM: uom})
		}
	}
	r.links = sumLinks(r.links)
	var readPointID, bizLocationID *uuid.UUID
	if g, ok := glnOfKey(ev.ReadPoint); ok {
		if lid, ok := locations[g]; ok {
			readPointID = &lid
		}
	}
	if g, ok := glnOfKey(ev.BizLocation); ok {
		if lid, ok := locations[g]; ok {
			bizLocationID = &lid
		}
	}
	var ilmd struct {
		ILMD json.RawMessage `json:"ilmd"`
	}
	_ = json.Unmarshal(ev.Raw, &ilmd)
	if len(ilmd.ILMD) == 0 || ilmd.ILMD[0] != '{' {
		ilmd.ILMD = nil
	}
	var context json.RawMessage
	if len(ev.Context) > 0 {
		context, _ = json.Marshal(ev.Context)
	}
	marshal := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	nonNil := func(l []QuantityItem) []QuantityItem {
		if l == nil {
			return []QuantityItem{}
		}
		return l
	}
	p := db.InsertEventRowParams{
		ID: id, EventID: eventID, HashID: optText(ev.HashID), EventType: ev.Type, Action: optText(ev.Action),
		EventTime: ev.EventTime, EventTimezone: ev.TimeZoneOffset, BizStep: optText(ev.BizStep),
		Disposition: optText(ev.Disposition), ReadPointID: readPointID, BizLocationID: bizLocationID,
		EpcList: marshal(epcList), QuantityList: marshal(nonNil(lists[0])),
		InputQuantityList: marshal(nonNil(lists[1])), OutputQuantityList: marshal(nonNil(lists[2])),
		Ilmd: ilmd.ILMD, SourceType: "capture", Actor: actor.name(), Document: ev.Raw, Context: context,
		PersistentDispositionSet: ev.PersistentDispositionSet, PersistentDispositionUnset: ev.PersistentDispositionUnset,
		ReadPoint: optText(ev.ReadPoint), BizLocation: optText(ev.BizLocation),
		TransformationID: optText(ev.TransformationID),
	}
	if ev.Error != nil {
		t := ev.Error.DeclarationTime
		p.DeclaredInErrorAt = &t
		p.ErrorReason = optText(ev.Error.Reason)
		p.CorrectiveEventIds = ev.Error.CorrectiveEventIDs
	}
	if jobID != uuid.Nil {
		p.CaptureJobID = &jobID
	}
	r.InsertEventRowParams = p
	return r
}

func storedEventFromRow(r db.GetStoredEventByEventIDRow) StoredEvent {
	e := StoredEvent{ID: r.ID, EventID: r.EventID, HashID: r.HashID, RecordTime: r.RecordedAt, Document: r.Document,
		DeclaredInError: r.DeclaredInErrorAt != nil, CorrectiveEventIDs: r.CorrectiveEventIds,
		ErrorDeclaration: r.Declaration, CaptureJobID: r.CaptureJobID, SourceType: r.SourceType, Actor: r.Actor}
	if len(r.Context) > 0 {
		_ = json.Unmarshal(r.Context, &e.Context)
	}
	return e
}

// GetStoredEvent returns an event as stored, by its row id.
func (s *Service) GetStoredEvent(ctx context.Context, id uuid.UUID) (StoredEvent, error) {
	row, err := s.store.GetStoredEvent(ctx, id)
	if err != nil {
		return StoredEvent{}, notFound(err, "event", "")
	}
	return storedEventFromRow(db.GetStoredEventByEventIDRow(row)), nil
}

// GetEventByEventID returns the event with an EPCIS eventID.
func (s *Service) GetEventByEventID(ctx context.Context, eventID string) (StoredEvent, error) {
	row, err := s.store.GetStoredEventByEventID(ctx, eventID)
	if err != nil {
		return StoredEvent{}, notFound(err, "event", "")
	}
	return storedEventFromRow(row), nil
}

// CaptureJob is a capture request's progress and outcome.
type CaptureJob struct {
	ID             uuid.UUID
	Status         string // running, success, failed
	ErrorBehaviour string // rollback, proceed
	Caller         string
	CreatedAt      time.Time
	FinishedAt     *time.Time
	EventCount     int
	StoredCount    int
	Errors         []CaptureEventError
}

// abandonedAfter is how long a running job whose row lock is free may be
// starting up; after that its process is taken for dead.
const abandonedAfter = 30 * time.Second

// StartCaptureJob records a capture job, running, before its capture
// starts (so a client can poll it at once).
func (s *Service) StartCaptureJob(ctx context.Context, actor Actor, behaviour string, eventCount int) (CaptureJob, error) {
	if behaviour != "rollback" && behaviour != "proceed" {
		return CaptureJob{}, Invalid("error_behaviour", "must be rollback or proceed")
	}
	if job, ok, err := idempotency.Replay[CaptureJob](ctx); ok {
		return job, err
	}
	var job CaptureJob
	err := s.store.InTx(ctx, db.TxOptions{}, func(q *db.Queries) error {
		row, err := q.InsertCaptureJob(ctx, db.InsertCaptureJobParams{ID: uuid.Must(uuid.NewV7()),
			ErrorBehaviour: behaviour, Caller: actor.name(), EventCount: int32(eventCount)})
		if err != nil {
			return err
		}
		job = captureJobFromRow(row)
		return idempotency.Keep(ctx, q, job)
	})
	if err != nil {
		return CaptureJob{}, unwrapDomain(err)
	}
	return job, nil
}

// GetCaptureJob returns a job. A job still running whose capture no
// longer holds its row lock, and older than abandonedAfter, died with its
// process: it is reported failed (its transaction never committed, so
// nothing of it was stored, whatever its error behaviour).
func (s *Service) GetCaptureJob(ctx context.Context, id uuid.UUID) (CaptureJob, error) {
	row, err := s.store.GetCaptureJob(ctx, id)
	if err != nil {
		return CaptureJob{}, notFound(err, "capture job", "")
	}
	j := captureJobFromRow(db.CaptureJob{ID: row.ID, Status: row.Status, ErrorBehaviour: row.ErrorBehaviour,
		Caller: row.Caller, CreatedAt: row.CreatedAt, FinishedAt: row.FinishedAt, EventCount: row.EventCount,
		StoredCount: row.StoredCount, Errors: row.Errors})
	if j.Status == "running" && row.Free != nil && *row.Free && row.Now.Sub(row.CreatedAt) > abandonedAfter {
		j.Status = "failed"
		j.StoredCount = 0
		j.Errors = append(j.Errors, CaptureEventError{Index: -1, Type: ExceptionImplementation,
			Message: "capture interrupted; nothing was stored"})
	}
	return j, nil
}

// ListCaptureJobs lists jobs, newest first.
func (s *Service) ListCaptureJobs(ctx context.Context, opts ListOptions) (Page[CaptureJob], error) {
	var v ValidationError
	limit := opts.limit(&v)
	cur := decodeCursor(opts.Cursor, "t", &v)
	if err := v.OrNil(); err != nil {
		return Page[CaptureJob]{}, err
	}
	p := db.ListCaptureJobsParams{RowLimit: limit + 1}
	if cur != nil {
		p.AfterTime, p.AfterID = cur.Time, &cur.ID
	}
	rows, err := s.store.ListCaptureJobs(ctx, p)
	if err != nil {
		return Page[CaptureJob]{}, err
	}
	return pageOf(rows, limit, captureJobFromRow, func(last CaptureJob) string {
		return cursor{Time: &last.CreatedAt, ID: last.ID}.encode()
	}), nil
}

func captureJobFromRow(r db.CaptureJob) CaptureJob {
	j := CaptureJob{ID: r.ID, Status: r.Status, ErrorBehaviour: r.ErrorBehaviour, Caller: r.Caller,
		CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt, EventCount: int(r.EventCount), StoredCount: int(r.StoredCount)}
	_ = json.Unmarshal(r.Errors, &j.Errors)
	if j.Errors == nil {
		j.Errors = []CaptureEventError{}
	}
	return j
}
