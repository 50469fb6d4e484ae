package web

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/web/cache"
)

func (s *Server) listEvents(c *fiber.Ctx) error {
	q := newQuery(c)
	f := inventory.EventFilter{
		EventType: q.str("event_type"), BizStep: q.str("biz_step"), BatchID: q.uuid("batch_id"),
		LocationID: q.uuid("location_id"), SourceType: q.str("source_type"),
		StartDate: q.date("start_date"), EndDate: q.date("end_date"), ProductID: q.uuid("product_id"),
		EPCClass: q.str("epc_class"), BizTransaction: q.str("biz_transaction"), DeclaredInError: q.str("declared_in_error"),
	}
	opts := q.list()
	if err := q.done(); err != nil {
		return err
	}
	key := cache.Key{Namespace: nsEvents, ID: cacheKey("event_type", f.EventType, "biz_step", f.BizStep,
		"batch_id", uuidString(f.BatchID), "location_id", uuidString(f.LocationID), "source_type", f.SourceType,
		"start_date", dateString(f.StartDate), "end_date", dateString(f.EndDate), "product_id", uuidString(f.ProductID),
		"epc_class", f.EPCClass, "biz_transaction", f.BizTransaction, "declared_in_error", f.DeclaredInError,
		"limit", strconv.Itoa(opts.Limit), "cursor", opts.Cursor)}
	return s.sendCached(c, key, func(ctx context.Context) ([]byte, error) {
		page, err := s.deps.Inventory.ListEvents(ctx, f, opts)
		if err != nil {
			return nil, err
		}
		return jsonMarshal(toList(page, toEventJSON))
	})
}

type createEventRequest struct {
	EventType          *string                  `json:"event_type"`
	Action             string                   `json:"action"`
	EventTime          *time.Time               `json:"event_time"`
	EventTimezone      string                   `json:"event_timezone"`
	BizStep            string                   `json:"biz_step"`
	Disposition        string                   `json:"disposition"`
	ReadPoint          string                   `json:"read_point"`
	BizLocation        string                   `json:"biz_location"`
	EPCList            []string                 `json:"epc_list"`
	QuantityList       []inventory.QuantityItem `json:"quantity_list"`
	InputQuantityList  []inventory.QuantityItem `json:"input_quantity_list"`
	OutputQuantityList []inventory.QuantityItem `json:"output_quantity_list"`
	BatchIDs           []uuid.UUID              `json:"batch_ids"`
	Notes              string                   `json:"notes"`
	ILMD               json.RawMessage          `json:"ilmd"`
	SourceList         []struct {
		Type   string `json:"type"`
		Source string `json:"source"`
	} `json:"source_list"`
	DestinationList []struct {
		Type        string `json:"type"`
		Destination string `json:"destination"`
	} `json:"destination_list"`
	BizTransactionList []struct {
		Type           string `json:"type"`
		BizTransaction string `json:"biz_transaction"`
	} `json:"biz_transaction_list"`
}

func (s *Server) createEvent(c *fiber.Ctx) error {
	var req createEventRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.EventType == nil {
		return validationProblem(inventory.FieldError{Field: "event_type", Message: "is required"})
	}
	if string(req.ILMD) == "null" {
		req.ILMD = nil
	}
	var sources, destinations, bizTx []inventory.EventRef
	for _, r := range req.SourceList {
		sources = append(sources, inventory.EventRef{Type: r.Type, ID: r.Source})
	}
	for _, r := range req.DestinationList {
		destinations = append(destinations, inventory.EventRef{Type: r.Type, ID: r.Destination})
	}
	for _, r := range req.BizTransactionList {
		bizTx = append(bizTx, inventory.EventRef{Type: r.Type, ID: r.BizTransaction})
	}
	e, err := s.deps.Inventory.RecordEvent(c.UserContext(), actor(c), inventory.NewEvent{
		EventType: *req.EventType, Action: req.Action, EventTime: req.EventTime, EventTimezone: req.EventTimezone,
		BizStep: req.BizStep, Disposition: req.Disposition, ReadPoint: req.ReadPoint, BizLocation: req.BizLocation,
		EPCList: req.EPCList, QuantityList: req.QuantityList, InputQuantityList: req.InputQuantityList,
		OutputQuantityList: req.OutputQuantityList, BatchIDs: req.BatchIDs, Notes: req.Notes, ILMD: req.ILMD,
		SourceList: sources, DestinationList: destinations, BizTransactionList: bizTx,
	})
	if err != nil {
		return err
	}
	c.Location("/api/events/" + e.ID.String())
	return sendJSON(c, fiber.StatusCreated, toEventJSON(e))
}

func (s *Server) showEvent(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	e, err := s.deps.Inventory.GetEvent(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toEventJSON(e))
}
