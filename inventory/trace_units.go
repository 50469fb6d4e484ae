package inventory

import (
	"context"

	"github.com/google/uuid"
)

// TraceUnits is the unit of measure of each lot row of a trace graph, by
// node id ("b:" and the batch id): the graph's quantities are counted in it.
func (s *Service) TraceUnits(ctx context.Context, g TraceGraph) (map[string]string, error) {
	var ids []uuid.UUID
	for _, n := range g.Nodes {
		if n.BatchID != nil {
			ids = append(ids, *n.BatchID)
		}
	}
	units := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return units, nil
	}
	rows, err := s.store.Pool.Query(ctx, `SELECT id, unit_of_measure FROM batches WHERE id = ANY ($1::uuid[])`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var uom string
		if err := rows.Scan(&id, &uom); err != nil {
			return nil, err
		}
		units["b:"+id.String()] = uom
	}
	return units, rows.Err()
}
