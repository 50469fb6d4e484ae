package inventory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
)

// maxConsumeGroup bounds how many consumes of one batch share a
// transaction. Each writes a new version of the batch row that the
// transaction cannot prune, and past the page's free space (fillfactor 70)
// updates stop being HOT and write every index: on this machine 8 beat 4,
// 16 and 64 (bench/consume.sh).
const maxConsumeGroup = 8

// consumeCombiner lets consumes of the same batch that arrive while one is
// in the database go together in the next transaction: one lock, one
// commit (one WAL flush) for the group, each consume still checked and
// applied on its own, in arrival order. On a hot batch this is what keeps
// the lock's queue short; on a quiet one a group is one consume.
type consumeCombiner struct {
	mu      sync.Mutex
	pending map[uuid.UUID][]*consumeCall // waiting for the next group
	running map[uuid.UUID]bool           // a drainer is working on the batch
}

type consumeCall struct {
	arg  db.ConsumeBatchParams
	done chan consumeResult // buffered: the drainer never blocks
}

type consumeResult struct {
	row    db.ConsumeBatchRow
	waited time.Duration
	err    error
}

func newConsumeCombiner() *consumeCombiner {
	return &consumeCombiner{pending: map[uuid.UUID][]*consumeCall{}, running: map[uuid.UUID]bool{}}
}

// consumeGrouped runs arg in the next group of its batch and waits for the
// outcome. The group runs on its own context (bounded by the lock timeout
// and a margin), so a caller that gives up cannot fail the others.
func (s *Service) consumeGrouped(ctx context.Context, arg db.ConsumeBatchParams) (db.ConsumeBatchRow, time.Duration, error) {
	c := s.combiner
	call := &consumeCall{arg: arg, done: make(chan consumeResult, 1)}
	c.mu.Lock()
	c.pending[arg.BatchID] = append(c.pending[arg.BatchID], call)
	if !c.running[arg.BatchID] {
		c.running[arg.BatchID] = true
		go s.drainConsumes(context.WithoutCancel(ctx), arg.BatchID)
	}
	c.mu.Unlock()
	r := <-call.done
	return r.row, r.waited, r.err
}

// drainConsumes runs the batch's pending consumes in groups until none is
// left.
func (s *Service) drainConsumes(ctx context.Context, id uuid.UUID) {
	c := s.combiner
	for {
		c.mu.Lock()
		group := c.pending[id]
		if len(group) == 0 {
			delete(c.pending, id)
			delete(c.running, id)
			c.mu.Unlock()
			return
		}
		if len(group) > maxConsumeGroup {
			group = group[:maxConsumeGroup]
		}
		c.pending[id] = c.pending[id][len(group):]
		c.mu.Unlock()
		s.runGroup(ctx, group)
	}
}

func (s *Service) runGroup(ctx context.Context, group []*consumeCall) {
	ctx, cancel := context.WithTimeout(ctx, s.lockTimeout+30*time.Second)
	defer cancel()
	args := make([]db.ConsumeBatchParams, len(group))
	for i, call := range group {
		args[i] = call.arg
	}
	rows, waited, err := s.store.ConsumePipelined(ctx, s.lockTimeout, args...)
	if err != nil && len(group) > 1 && !isLockTimeout(err) && db.RolledBack(err) {
		// One consume's failure must not be another's: run them one by one.
		// Only when the server said the group was rolled back: if its fate
		// is unknown (the connection broke), running them again could
		// consume twice.
		for _, call := range group {
			rows, waited, err := s.store.ConsumePipelined(ctx, s.lockTimeout, call.arg)
			call.done <- result(rows, waited, err)
		}
		return
	}
	for i, call := range group {
		if err != nil {
			call.done <- consumeResult{err: err}
			continue
		}
		call.done <- consumeResult{row: rows[i], waited: waited}
	}
}

func result(rows []db.ConsumeBatchRow, waited time.Duration, err error) consumeResult {
	if err != nil {
		return consumeResult{err: err}
	}
	return consumeResult{row: rows[0], waited: waited}
}

func isLockTimeout(err error) bool { return errors.Is(err, db.ErrLockTimeout) }
