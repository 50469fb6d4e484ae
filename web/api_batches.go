package web

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
	"batchtrack/web/cache"
)

func (s *Server) listBatches(c *fiber.Ctx) error {
	q := newQuery(c)
	f := inventory.BatchFilter{
		Q: q.str("q"), ProductID: q.uuid("product_id"), LocationID: q.uuid("location_id"),
		QualityStatus: q.str("quality_status"), ExpiringBefore: q.date("expiring_before"),
	}
	opts := q.list()
	if err := q.done(); err != nil {
		return err
	}
	key := cache.Key{Namespace: nsBatches, ID: cacheKey("q", f.Q, "product_id", uuidString(f.ProductID),
		"location_id", uuidString(f.LocationID), "quality_status", f.QualityStatus,
		"expiring_before", dateString(f.ExpiringBefore), "limit", strconv.Itoa(opts.Limit), "cursor", opts.Cursor)}
	return s.sendCached(c, key, func(ctx context.Context) ([]byte, error) {
		page, err := s.deps.Inventory.ListBatches(ctx, f, opts)
		if err != nil {
			return nil, err
		}
		return jsonMarshal(toList(page, s.toBatchJSON))
	})
}

type createBatchRequest struct {
	BatchNumber      string             `json:"batch_number"`
	ProductID        *uuid.UUID         `json:"product_id"`
	LocationID       *uuid.UUID         `json:"location_id"`
	ProductionDate   *jsonDate          `json:"production_date"`
	ExpiryDate       *jsonDate          `json:"expiry_date"`
	BestBeforeDate   *jsonDate          `json:"best_before_date"`
	QuantityProduced *quantity.Quantity `json:"quantity_produced"`
	UnitOfMeasure    string             `json:"unit_of_measure"`
	QualityStatus    string             `json:"quality_status"`
	Notes            string             `json:"notes"`
}

func (s *Server) createBatch(c *fiber.Ctx) error {
	var req createBatchRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "product_id", req.ProductID)
	required(&v, "location_id", req.LocationID)
	required(&v, "production_date", req.ProductionDate)
	required(&v, "quantity_produced", req.QuantityProduced)
	if err := v.OrNil(); err != nil {
		return err
	}
	b, err := s.deps.Inventory.CreateBatch(c.UserContext(), actor(c), inventory.NewBatch{
		BatchNumber: req.BatchNumber, ProductID: *req.ProductID, LocationID: *req.LocationID,
		ProductionDate: req.ProductionDate.Time, ExpiryDate: datePtr(req.ExpiryDate),
		BestBeforeDate: datePtr(req.BestBeforeDate), QuantityProduced: *req.QuantityProduced,
		UnitOfMeasure: req.UnitOfMeasure, QualityStatus: req.QualityStatus, Notes: req.Notes,
	})
	if err != nil {
		return err
	}
	c.Location("/api/batches/" + b.ID.String())
	c.Set(fiber.HeaderETag, etag(b.Version))
	return sendJSON(c, fiber.StatusCreated, s.toBatchJSON(b))
}

func (s *Server) showBatch(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	return s.sendCachedWithETag(c, cache.Key{Namespace: nsBatch(id.String()), ID: "json"},
		func(ctx context.Context) (string, []byte, error) {
			b, err := s.deps.Inventory.GetBatch(ctx, id)
			if err != nil {
				return "", nil, err
			}
			body, err := jsonMarshal(s.toBatchJSON(b))
			return etag(b.Version), body, err
		})
}

type patchBatchRequest struct {
	ProductionDate  *jsonDate    `json:"production_date"`
	ExpiryDate      nullableDate `json:"expiry_date"`
	BestBeforeDate  nullableDate `json:"best_before_date"`
	QualityStatus   *string      `json:"quality_status"`
	Notes           *string      `json:"notes"`
	Reason          string       `json:"reason"`
	ExpectedVersion *int64       `json:"expected_version"`
}

func (s *Server) patchBatch(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	var req patchBatchRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	// PATCH is an operator route, but recalling a batch is an admin's call.
	if req.QualityStatus != nil && inventory.QualityStatus(*req.QualityStatus) == inventory.StatusRecalled {
		if err := requireRole(c, roleAdmin); err != nil {
			return err
		}
	}
	expected := req.ExpectedVersion
	if im := c.Get(fiber.HeaderIfMatch); im != "" {
		v, ok := parseETag(im)
		if !ok {
			return validationProblem(inventory.FieldError{Field: "If-Match", Message: `must be an ETag such as "v3"`})
		}
		expected = &v
	}
	u := inventory.BatchUpdate{
		ProductionDate: datePtr(req.ProductionDate), QualityStatus: req.QualityStatus, Notes: req.Notes, Reason: req.Reason,
	}
	if req.ExpiryDate.Set {
		u.ExpiryDate, u.ClearExpiry = datePtr(req.ExpiryDate.Value), req.ExpiryDate.Value == nil
	}
	if req.BestBeforeDate.Set {
		u.BestBeforeDate, u.ClearBestBefore = datePtr(req.BestBeforeDate.Value), req.BestBeforeDate.Value == nil
	}
	b, err := s.deps.Inventory.UpdateBatch(c.UserContext(), actor(c), id, u, expected)
	if vc, ok := err.(*inventory.VersionConflictError); ok {
		// A stale If-Match is a failed precondition, not a conflict.
		p := domainProblem(vc, 0)
		p.Status, p.Title = fiber.StatusPreconditionFailed, "Stale version"
		return p
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(b.Version))
	return sendJSON(c, fiber.StatusOK, s.toBatchJSON(b))
}

// parseETag reads "v3" (or W/"v3") into 3.
func parseETag(s string) (int64, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	s = strings.Trim(s, `"`)
	if !strings.HasPrefix(s, "v") {
		return 0, false
	}
	v, err := strconv.ParseInt(s[1:], 10, 64)
	return v, err == nil && v > 0
}

// consumeRequest is the body of both consume paths; batch_id only on
// POST /api/batches/consume.
type consumeRequest struct {
	BatchID           *uuid.UUID         `json:"batch_id"`
	QuantityToConsume *quantity.Quantity `json:"quantity_to_consume"`
	Reason            string             `json:"reason"`
	ExpectedVersion   *int64             `json:"expected_version"`
}

type consumeResponse struct {
	Batch       batchJSON       `json:"batch"`
	Consumption consumptionJSON `json:"consumption"`
}

// parseConsume decodes and checks a consume body. pathID is the batch in
// the path, or uuid.Nil when the body names it.
func parseConsume(body []byte, pathID uuid.UUID) (inventory.ConsumeRequest, error) {
	var req consumeRequest
	if err := decodeBody(body, &req); err != nil {
		return inventory.ConsumeRequest{}, err
	}
	var v inventory.ValidationError
	id := pathID
	if pathID == uuid.Nil {
		required(&v, "batch_id", req.BatchID)
		if req.BatchID != nil {
			id = *req.BatchID
		}
	} else if req.BatchID != nil && *req.BatchID != pathID {
		v.Add("batch_id", "must match the batch in the path (or be left out)")
	}
	required(&v, "quantity_to_consume", req.QuantityToConsume)
	if err := v.OrNil(); err != nil {
		return inventory.ConsumeRequest{}, err
	}
	return inventory.ConsumeRequest{BatchID: id, Quantity: *req.QuantityToConsume, Reason: req.Reason,
		ExpectedVersion: req.ExpectedVersion}, nil
}

func (s *Server) consume(c *fiber.Ctx) error {
	pathID := uuid.Nil
	if c.Params("id") != "" {
		id, err := pathUUID(c, "id")
		if err != nil {
			return err
		}
		pathID = id
	}
	if err := requireJSON(c); err != nil {
		return err
	}
	r, err := parseConsume(c.Body(), pathID)
	if err != nil {
		return err
	}
	b, cons, err := s.deps.Inventory.Consume(c.UserContext(), actor(c), r)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(b.Version))
	return sendJSON(c, fiber.StatusOK, consumeResponse{Batch: s.toBatchJSON(b), Consumption: toConsumptionJSON(cons)})
}

type consumeManyRequest struct {
	Items []struct {
		BatchID           *uuid.UUID         `json:"batch_id"`
		QuantityToConsume *quantity.Quantity `json:"quantity_to_consume"`
	} `json:"items"`
	Reason string `json:"reason"`
}

func (s *Server) consumeMany(c *fiber.Ctx) error {
	var req consumeManyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	items := make([]inventory.ConsumeItem, 0, len(req.Items))
	for i, it := range req.Items {
		p := "items[" + strconv.Itoa(i) + "]."
		required(&v, p+"batch_id", it.BatchID)
		required(&v, p+"quantity_to_consume", it.QuantityToConsume)
		if it.BatchID != nil && it.QuantityToConsume != nil {
			items = append(items, inventory.ConsumeItem{BatchID: *it.BatchID, Quantity: *it.QuantityToConsume})
		}
	}
	if req.Items == nil {
		v.Add("items", "is required")
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	batches, cons, err := s.deps.Inventory.ConsumeMany(c.UserContext(), actor(c), items, req.Reason)
	if err != nil {
		return err
	}
	out := struct {
		Batches      []batchJSON       `json:"batches"`
		Consumptions []consumptionJSON `json:"consumptions"`
	}{Batches: make([]batchJSON, 0, len(batches)), Consumptions: make([]consumptionJSON, 0, len(cons))}
	for i := range batches {
		out.Batches = append(out.Batches, s.toBatchJSON(batches[i]))
		out.Consumptions = append(out.Consumptions, toConsumptionJSON(cons[i]))
	}
	return sendJSON(c, fiber.StatusOK, out)
}

type adjustRequest struct {
	Quantity        *quantity.Quantity `json:"quantity"`
	Reason          *string            `json:"reason"`
	ExpectedVersion *int64             `json:"expected_version"`
}

// adjustBatch corrects a balance by a signed quantity (admin work).
func (s *Server) adjustBatch(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	var req adjustRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "quantity", req.Quantity)
	required(&v, "reason", req.Reason)
	if err := v.OrNil(); err != nil {
		return err
	}
	b, cons, err := s.deps.Inventory.Adjust(c.UserContext(), actor(c), id, *req.Quantity, *req.Reason, req.ExpectedVersion)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(b.Version))
	return sendJSON(c, fiber.StatusOK, consumeResponse{Batch: s.toBatchJSON(b), Consumption: toConsumptionJSON(cons)})
}

func (s *Server) listConsumptions(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	q := newQuery(c)
	opts := q.list()
	if err := q.done(); err != nil {
		return err
	}
	page, err := s.deps.Inventory.ListConsumptions(c.UserContext(), id, opts)
	if err != nil {
		return err
	}
	return sendJSON(c, fiber.StatusOK, toList(page, toConsumptionJSON))
}

// actor is who makes the request; auth fills it in.
func actor(c *fiber.Ctx) inventory.Actor {
	if cl := callerOf(c); cl != nil {
		return cl.actor
	}
	return inventory.Actor{Name: "anonymous", Source: "api"}
}
