package inventory

// TraceUnits is the unit of measure of each lot row of a trace graph, by
// node id ("b:" and the batch id): the graph's quantities are counted in it.
func TraceUnits(g TraceGraph) map[string]string {
	units := make(map[string]string, len(g.Nodes))
	for _, n := range g.Nodes {
		if n.UOM != "" {
			units[n.ID] = n.UOM
		}
	}
	return units
}
