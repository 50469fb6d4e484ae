package web

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/quantity"
)

// Stock movements (api.md "Stock movements"): each POST is one EPCIS event
// and its ledger rows, answered as a movement.

type stockItemJSON struct {
	BatchID  *uuid.UUID         `json:"batch_id"`
	Quantity *quantity.Quantity `json:"quantity"`
}

type referenceJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// movementJSON is the answer of every stock movement.
type movementJSON struct {
	EventID         uuid.UUID         `json:"event_id"`
	EPCISEventID    string            `json:"epcis_event_id"`
	Operation       string            `json:"operation"`
	InTransit       bool              `json:"in_transit"`
	Yield           *float64          `json:"yield"`
	CreatedBatchIDs []uuid.UUID       `json:"created_batch_ids"`
	Batches         []batchJSON       `json:"batches"`
	Ledger          []consumptionJSON `json:"ledger"`
}

func (s *Server) toMovementJSON(m inventory.Movement) movementJSON {
	out := movementJSON{EventID: m.EventID, EPCISEventID: m.EPCISEventID, Operation: m.Operation,
		InTransit: m.InTransit, Yield: m.Yield, CreatedBatchIDs: m.Created,
		Batches: s.toBatchesJSON(m.Batches), Ledger: toLedgerJSON(m.Ledger)}
	if out.CreatedBatchIDs == nil {
		out.CreatedBatchIDs = []uuid.UUID{}
	}
	return out
}

func (s *Server) toBatchesJSON(bs []inventory.Batch) []batchJSON {
	out := make([]batchJSON, 0, len(bs))
	for _, b := range bs {
		out = append(out, s.toBatchJSON(b))
	}
	return out
}

func toLedgerJSON(cs []inventory.Consumption) []consumptionJSON {
	out := make([]consumptionJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, toConsumptionJSON(c))
	}
	return out
}

// sendMovement answers 201 with the movement's event as its Location.
func (s *Server) sendMovement(c *fiber.Ctx, m inventory.Movement, err error) error {
	if err != nil {
		return err
	}
	c.Location("/api/events/" + m.EventID.String())
	return sendJSON(c, fiber.StatusCreated, s.toMovementJSON(m))
}

// Absent IDs and quantities are left zero: the domain names them required.
func idOf(p *uuid.UUID) uuid.UUID {
	if p == nil {
		return uuid.Nil
	}
	return *p
}

func quantityOf(v *inventory.ValidationError, field string, q *quantity.Quantity) quantity.Quantity {
	if q == nil {
		v.Add(field, "is required")
		return 0
	}
	return *q
}

func stockItems(v *inventory.ValidationError, field string, items []stockItemJSON) []inventory.StockItem {
	out := make([]inventory.StockItem, 0, len(items))
	for i, it := range items {
		p := field + "[" + strconv.Itoa(i) + "]."
		required(v, p+"batch_id", it.BatchID)
		out = append(out, inventory.StockItem{BatchID: idOf(it.BatchID), Quantity: quantityOf(v, p+"quantity", it.Quantity)})
	}
	return out
}

func references(refs []referenceJSON) []inventory.BizTransaction {
	out := make([]inventory.BizTransaction, 0, len(refs))
	for _, r := range refs {
		out = append(out, inventory.BizTransaction{Type: r.Type, ID: r.ID})
	}
	return out
}

type receiptRequest struct {
	ProductID      *uuid.UUID         `json:"product_id"`
	BatchNumber    string             `json:"batch_number"`
	LocationID     *uuid.UUID         `json:"location_id"`
	Quantity       *quantity.Quantity `json:"quantity"`
	Unit           string             `json:"unit"`
	SupplierID     *uuid.UUID         `json:"supplier_id"`
	ShipFromID     *uuid.UUID         `json:"ship_from_id"`
	ProductionDate *jsonDate          `json:"production_date"`
	ExpiryDate     *jsonDate          `json:"expiry_date"`
	BestBeforeDate *jsonDate          `json:"best_before_date"`
	TLCSource      string             `json:"tlc_source"`
	References     []referenceJSON    `json:"references"`
	EventTime      *time.Time         `json:"event_time"`
	Notes          string             `json:"notes"`
}

func (s *Server) createReceipt(c *fiber.Ctx) error {
	var req receiptRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "product_id", req.ProductID)
	required(&v, "location_id", req.LocationID)
	q := quantityOf(&v, "quantity", req.Quantity)
	if err := v.OrNil(); err != nil {
		return err
	}
	m, err := s.deps.Inventory.Receive(c.UserContext(), actor(c), inventory.ReceiveRequest{
		ProductID: *req.ProductID, BatchNumber: req.BatchNumber, LocationID: *req.LocationID, Quantity: q,
		Unit: req.Unit, SupplierID: req.SupplierID, ShipFromID: req.ShipFromID, ProductionDate: datePtr(req.ProductionDate),
		ExpiryDate: datePtr(req.ExpiryDate), BestBeforeDate: datePtr(req.BestBeforeDate), TLCSource: req.TLCSource,
		References: references(req.References), EventTime: req.EventTime, Notes: req.Notes,
	})
	return s.sendMovement(c, m, err)
}

type shipmentRequest struct {
	Items      []stockItemJSON `json:"items"`
	ShipToID   *uuid.UUID      `json:"ship_to_id"`
	CustomerID *uuid.UUID      `json:"customer_id"`
	References []referenceJSON `json:"references"`
	EventTime  *time.Time      `json:"event_time"`
	Notes      string          `json:"notes"`
}

func (s *Server) createShipment(c *fiber.Ctx) error {
	var req shipmentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	items := stockItems(&v, "items", req.Items)
	if err := v.OrNil(); err != nil {
		return err
	}
	m, err := s.deps.Inventory.Ship(c.UserContext(), actor(c), inventory.ShipRequest{
		Items: items, ShipToID: idOf(req.ShipToID), CustomerID: req.CustomerID,
		References: references(req.References), EventTime: req.EventTime, Notes: req.Notes,
	})
	return s.sendMovement(c, m, err)
}

type transformOutputJSON struct {
	ProductID      *uuid.UUID         `json:"product_id"`
	BatchNumber    string             `json:"batch_number"`
	Quantity       *quantity.Quantity `json:"quantity"`
	Unit           string             `json:"unit"`
	ProductionDate *jsonDate          `json:"production_date"`
	ExpiryDate     *jsonDate          `json:"expiry_date"`
	BestBeforeDate *jsonDate          `json:"best_before_date"`
}

type transformationRequest struct {
	Inputs      []stockItemJSON       `json:"inputs"`
	Outputs     []transformOutputJSON `json:"outputs"`
	LocationID  *uuid.UUID            `json:"location_id"`
	YieldReason string                `json:"yield_reason"`
	EventTime   *time.Time            `json:"event_time"`
	Notes       string                `json:"notes"`
}

func (s *Server) createTransformation(c *fiber.Ctx) error {
	var req transformationRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	inputs := stockItems(&v, "inputs", req.Inputs)
	outputs := make([]inventory.TransformOutput, 0, len(req.Outputs))
	for i, o := range req.Outputs {
		p := "outputs[" + strconv.Itoa(i) + "]."
		required(&v, p+"product_id", o.ProductID)
		outputs = append(outputs, inventory.TransformOutput{ProductID: idOf(o.ProductID), BatchNumber: o.BatchNumber,
			Quantity: quantityOf(&v, p+"quantity", o.Quantity), Unit: o.Unit, ProductionDate: datePtr(o.ProductionDate),
			ExpiryDate: datePtr(o.ExpiryDate), BestBeforeDate: datePtr(o.BestBeforeDate)})
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	m, err := s.deps.Inventory.Transform(c.UserContext(), actor(c), inventory.TransformRequest{
		Inputs: inputs, Outputs: outputs, LocationID: req.LocationID, YieldReason: req.YieldReason,
		EventTime: req.EventTime, Notes: req.Notes,
	})
	return s.sendMovement(c, m, err)
}

type destructionRequest struct {
	BatchID     *uuid.UUID         `json:"batch_id"`
	Quantity    *quantity.Quantity `json:"quantity"`
	Disposition string             `json:"disposition"`
	Reason      string             `json:"reason"`
	EventTime   *time.Time         `json:"event_time"`
}

func (s *Server) createDestruction(c *fiber.Ctx) error {
	var req destructionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "batch_id", req.BatchID)
	q := quantityOf(&v, "quantity", req.Quantity)
	if req.Reason == "" {
		v.Add("reason", "is required: say why the stock is destroyed")
	}
	if err := v.OrNil(); err != nil {
		return err
	}
	m, err := s.deps.Inventory.Destroy(c.UserContext(), actor(c), inventory.DestroyRequest{
		BatchID: *req.BatchID, Quantity: q, Disposition: req.Disposition, Reason: req.Reason, EventTime: req.EventTime,
	})
	return s.sendMovement(c, m, err)
}

type commissionRequest struct {
	ProductID       *uuid.UUID         `json:"product_id"`
	BatchNumber     string             `json:"batch_number"`
	LocationID      *uuid.UUID         `json:"location_id"`
	Quantity        *quantity.Quantity `json:"quantity"`
	Unit            string             `json:"unit"`
	Stage           string             `json:"stage"`
	HarvestLocation string             `json:"harvest_location"`
	Field           string             `json:"field"`
	HarvestDate     *jsonDate          `json:"harvest_date"`
	CoolingDate     *jsonDate          `json:"cooling_date"`
	PackingDate     *jsonDate          `json:"packing_date"`
	ExpiryDate      *jsonDate          `json:"expiry_date"`
	BestBeforeDate  *jsonDate          `json:"best_before_date"`
	EventTime       *time.Time         `json:"event_time"`
	Notes           string             `json:"notes"`
}

func (s *Server) createCommission(c *fiber.Ctx) error {
	var req commissionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "product_id", req.ProductID)
	required(&v, "location_id", req.LocationID)
	q := quantityOf(&v, "quantity", req.Quantity)
	if err := v.OrNil(); err != nil {
		return err
	}
	m, err := s.deps.Inventory.Commission(c.UserContext(), actor(c), inventory.CommissionRequest{
		ProductID: *req.ProductID, BatchNumber: req.BatchNumber, LocationID: *req.LocationID, Quantity: q,
		Unit: req.Unit, Stage: req.Stage, HarvestLocation: req.HarvestLocation, Field: req.Field,
		HarvestDate: datePtr(req.HarvestDate), CoolingDate: datePtr(req.CoolingDate), PackingDate: datePtr(req.PackingDate),
		ExpiryDate: datePtr(req.ExpiryDate), BestBeforeDate: datePtr(req.BestBeforeDate),
		EventTime: req.EventTime, Notes: req.Notes,
	})
	return s.sendMovement(c, m, err)
}

type moveRequest struct {
	BatchID      *uuid.UUID         `json:"batch_id"`
	Quantity     *quantity.Quantity `json:"quantity"`
	ToLocationID *uuid.UUID         `json:"to_location_id"`
	EventTime    *time.Time         `json:"event_time"`
	Notes        string             `json:"notes"`
}

func (s *Server) createMove(c *fiber.Ctx) error {
	var req moveRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "batch_id", req.BatchID)
	required(&v, "to_location_id", req.ToLocationID)
	q := quantityOf(&v, "quantity", req.Quantity)
	if err := v.OrNil(); err != nil {
		return err
	}
	m, err := s.deps.Inventory.Move(c.UserContext(), actor(c), inventory.MoveRequest{
		BatchID: *req.BatchID, Quantity: q, ToLocationID: *req.ToLocationID, EventTime: req.EventTime, Notes: req.Notes,
	})
	return s.sendMovement(c, m, err)
}

type correctionRequest struct {
	Reason             *string  `json:"reason"`
	CorrectiveEventIDs []string `json:"corrective_event_ids"`
	Note               string   `json:"note"`
}

type correctionJSON struct {
	EventID   uuid.UUID         `json:"event_id"`
	Reason    string            `json:"reason"`
	Reversals []consumptionJSON `json:"reversals"`
	Batches   []batchJSON       `json:"batches"`
}

// correctEvent declares an event in error and reverses its stock effects.
func (s *Server) correctEvent(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	var req correctionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var v inventory.ValidationError
	required(&v, "reason", req.Reason)
	if err := v.OrNil(); err != nil {
		return err
	}
	out, err := s.deps.Inventory.CorrectEvent(c.UserContext(), actor(c), inventory.CorrectionRequest{
		EventID: id, Reason: *req.Reason, CorrectiveEventIDs: req.CorrectiveEventIDs, Note: req.Note,
	})
	if err != nil {
		return err
	}
	c.Location("/api/events/" + id.String())
	return sendJSON(c, fiber.StatusCreated, correctionJSON{EventID: out.EventID, Reason: out.Reason,
		Reversals: toLedgerJSON(out.Reversals), Batches: s.toBatchesJSON(out.Batches)})
}

// balanceJSON is a batch's mass balance. The contract's older names
// (quantity_produced, transformed_out, quantity_available) are kept
// beside the brief's.
type balanceJSON struct {
	BatchID           uuid.UUID         `json:"batch_id"`
	UOM               string            `json:"uom"`
	Unit              string            `json:"unit"`
	Origin            string            `json:"origin"`
	Produced          quantity.Quantity `json:"produced"`
	Received          quantity.Quantity `json:"received"`
	MovedIn           quantity.Quantity `json:"moved_in"`
	Adjusted          quantity.Quantity `json:"adjusted"`
	Consumed          quantity.Quantity `json:"consumed"`
	Shipped           quantity.Quantity `json:"shipped"`
	Transformed       quantity.Quantity `json:"transformed"`
	Destroyed         quantity.Quantity `json:"destroyed"`
	MovedOut          quantity.Quantity `json:"moved_out"`
	OnHand            quantity.Quantity `json:"on_hand"`
	InTransit         quantity.Quantity `json:"in_transit"`
	Entries           int64             `json:"entries"`
	Balanced          bool              `json:"balanced"`
	QuantityProduced  quantity.Quantity `json:"quantity_produced"`
	TransformedOut    quantity.Quantity `json:"transformed_out"`
	QuantityAvailable quantity.Quantity `json:"quantity_available"`
}

func (s *Server) showBatchBalance(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	m, err := s.deps.Inventory.Balance(c.UserContext(), id)
	if err != nil {
		return err
	}
	unit, uom := unitForms(m.UOM)
	return sendJSON(c, fiber.StatusOK, balanceJSON{BatchID: m.BatchID, UOM: uom, Unit: unit, Origin: m.Origin,
		Produced: m.Produced, Received: m.Received, MovedIn: m.MovedIn, Adjusted: m.Adjusted, Consumed: m.Consumed,
		Shipped: m.Shipped, Transformed: m.Transformed, Destroyed: m.Destroyed, MovedOut: m.MovedOut,
		OnHand: m.OnHand, InTransit: m.InTransit, Entries: m.Entries, Balanced: m.Balanced,
		QuantityProduced: m.Produced, TransformedOut: m.Transformed, QuantityAvailable: m.OnHand})
}

type fefoPickJSON struct {
	Batch batchJSON         `json:"batch"`
	Take  quantity.Quantity `json:"take"`
}

type fefoJSON struct {
	ProductID  uuid.UUID         `json:"product_id"`
	LocationID uuid.UUID         `json:"location_id"`
	Requested  quantity.Quantity `json:"requested"`
	Short      quantity.Quantity `json:"short"`
	Picks      []fefoPickJSON    `json:"picks"`
}

// showFEFO suggests the lots to pick a quantity from, first expiry first.
func (s *Server) showFEFO(c *fiber.Ctx) error {
	productID, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	q := newQuery(c)
	loc := q.uuid("location_id")
	var qty quantity.Quantity
	if raw := q.str("quantity"); raw != "" {
		if qty, err = quantity.Parse(raw); err != nil {
			q.err.Add("quantity", fieldMessage(quantityType, err))
		}
	}
	if loc == nil && q.str("location_id") == "" {
		q.err.Add("location_id", "is required")
	}
	if err := q.done(); err != nil {
		return err
	}
	plan, err := s.deps.Inventory.FEFO(c.UserContext(), productID, *loc, qty)
	if err != nil {
		return err
	}
	out := fefoJSON{ProductID: productID, LocationID: *loc, Requested: plan.Requested, Short: plan.Short,
		Picks: make([]fefoPickJSON, 0, len(plan.Picks))}
	for _, p := range plan.Picks {
		out.Picks = append(out.Picks, fefoPickJSON{Batch: s.toBatchJSON(p.Batch), Take: p.Take})
	}
	return sendJSON(c, fiber.StatusOK, out)
}
