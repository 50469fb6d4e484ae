package inventory

import "github.com/google/uuid"

// PendingConsumes is how many consumes of the batch wait for the next
// group (for tests of the combiner).
func PendingConsumes(s *Service, id uuid.UUID) int {
	s.combiner.mu.Lock()
	defer s.combiner.mu.Unlock()
	return len(s.combiner.pending[id])
}

// The trace's SQL, for EXPLAIN tests.
const (
	TraceWalkSQL       = traceWalk
	TraceEdgesAmongSQL = traceEdgesAmong
)
