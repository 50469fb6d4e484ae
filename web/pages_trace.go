package web

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"batchtrack/inventory"
	"batchtrack/views"
)

// showTracePage draws a lot's trace as a layered graph, with a table of
// the same nodes and edges; bad direction or depth re-render the form with
// its errors (422).
func (s *Server) showTracePage(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	b, err := s.deps.Inventory.GetBatch(ctx, id)
	if err != nil {
		return err
	}
	q := newQuery(c)
	m := views.TracePage{BatchID: id.String(), BatchNumber: b.BatchNumber, Product: b.ProductName,
		Direction: q.str("direction"), Depth: q.str("depth"), Errors: views.FieldErrors{}}
	direction, depth := traceParams(q)
	for _, f := range q.err.Fields {
		m.Errors.Add(f.Field, f.Message)
	}
	q.unknownTo(m.Errors)
	status := fiber.StatusOK
	if m.Errors.Any() {
		status = fiber.StatusUnprocessableEntity
	} else {
		g, err := s.deps.Inventory.Trace(ctx, inventory.TraceRequest{BatchIDs: []uuid.UUID{id}, Direction: direction, Depth: depth})
		if err != nil {
			return err
		}
		m.Units = inventory.TraceUnits(g)
		m.Graph = &g
		m.Layout = views.LayoutTrace(g, m.Units)
	}
	return render(c, status, views.TracePageView(chromeFor(c, "Trace of "+b.BatchNumber, "batches"), m))
}
