package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Decisions that arrive while another batch is on its way to Redis are
// sent together, as one call of the script (redis.go), which decides for
// each of them in turn: one write and one read for the batch on both sides
// instead of one of each per decision, and one script call in Redis. On
// loopback a write(2) also runs the receiver's TCP work, and a round trip
// costs about as much CPU as serving a small request.
//
// There is no batching goroutine, so a caller alone pays no handoff: the
// first caller to find no batch on its way leads. It takes what is queued,
// itself first, runs the script and hands each waiter its answer. When it
// is done and more have queued meanwhile, it promotes the oldest of them
// to lead the next batch. A waiter is woken once, with its answer or with
// the lead. (An earlier session tried a batching goroutine fed by a
// channel, which puts a handoff each way on every decision; it measured
// slower than no batching.)
//
// BenchmarkGET/tcp/redis against tcp/none, medians of the ratio over five
// rounds: one batch in flight 0.47, two 0.41, three 0.43. With one, batches
// are almost twice as large (11 to 12 decisions against 7), so Redis and
// both sides' syscalls cost less per decision. Against the pipelined
// one-key script calls this replaced, six rounds alternating: 0.38 to 0.46
// (median 0.40) against 0.27 to 0.36 (median 0.29). With the cheaper
// script of a later session, one in flight against two: 0.49 and 0.54 in
// five rounds, then 0.47 and 0.45 in eight. That is noise, so one stays.
const maxInFlight = 1

// maxBatch bounds one script call, so one slow batch delays a bounded
// number of callers.
const maxBatch = 64

type redisCall struct {
	key string
	p   Policy
	res redisResult
	err error
	// queuedAt is when the call joined the queue; the queue is in this
	// order.
	queuedAt time.Time
	// wake gets true when this call is to lead the next batch, false when
	// res and err are set. Buffered: the sender never waits.
	wake chan bool
}

// Calls are reused: a decision costs a channel otherwise. Nothing holds a
// call once its wake has been sent.
var redisCalls = sync.Pool{New: func() any { return &redisCall{wake: make(chan bool, 1)} }}

// redisResult is one decision's share of the script's reply.
type redisResult struct {
	allowed        bool
	total, untilMs int64
	nowMs          int64
}

type redisBatcher struct {
	mu       sync.Mutex
	queue    []*redisCall
	inFlight int
}

// errQueuedTooLong answers a call that waited in the queue longer than the
// store's timeout: the batches ahead of it are as slow as Redis is.
var errQueuedTooLong = fmt.Errorf("ratelimit: redis: queued longer than the timeout: %w", context.DeadlineExceeded)

// do runs c, in a batch led by this caller or another, and returns when
// c.res and c.err are set, or with ctx's error if ctx ends while c is
// still queued. A call that has waited in the queue for longer than the
// store's timeout is answered with errQueuedTooLong at the next batch's
// end; with each batch bounded by the timeout too, a decision takes at
// most about twice it. The wait is measured from the clock rather than by
// a timer per decision, which cost 5% of a request's CPU.
func (r *Redis) do(ctx context.Context, c *redisCall) error {
	b := &r.batch
	b.mu.Lock()
	if b.inFlight < maxInFlight {
		b.inFlight++
		b.mu.Unlock()
	} else {
		c.queuedAt = time.Now()
		b.queue = append(b.queue, c)
		b.mu.Unlock()
		lead, err := r.wait(ctx, c)
		if err != nil || !lead {
			return err
		}
	}
	b.mu.Lock()
	batch := b.take(c, time.Now().Add(-r.timeout))
	b.mu.Unlock()
	r.runBatch(batch)

	b.mu.Lock()
	b.dropStale(time.Now().Add(-r.timeout))
	if len(b.queue) == 0 {
		b.inFlight--
		b.mu.Unlock()
		return nil
	}
	// Hand the lead on rather than keep it: c's answer is ready.
	next := b.queue[0]
	b.queue = slices.Delete(b.queue, 0, 1)
	b.mu.Unlock()
	next.wake <- true
	return nil
}

// wait blocks until c is answered or promoted to lead. If ctx ends while c
// is still queued, c leaves the queue. Once taken into a batch or promoted
// it waits on (a batch is bounded by the store's timeout): a promoted call
// that walked away would strand the queue behind it.
func (r *Redis) wait(ctx context.Context, c *redisCall) (lead bool, err error) {
	select {
	case lead = <-c.wake:
		return lead, nil
	case <-ctx.Done():
	}
	b := &r.batch
	b.mu.Lock()
	if i := slices.Index(b.queue, c); i >= 0 {
		b.queue = slices.Delete(b.queue, i, i+1)
		b.mu.Unlock()
		return false, ctx.Err()
	}
	b.mu.Unlock()
	return <-c.wake, nil
}

// take returns c and up to maxBatch-1 queued calls, removed from the
// queue, after answering those queued before since. b.mu is held.
func (b *redisBatcher) take(c *redisCall, since time.Time) []*redisCall {
	b.dropStale(since)
	n := min(len(b.queue), maxBatch-1)
	batch := make([]*redisCall, 0, n+1)
	batch = append(batch, c)
	batch = append(batch, b.queue[:n]...)
	b.queue = slices.Delete(b.queue, 0, n)
	return batch
}

// dropStale answers the calls queued before since with errQueuedTooLong.
// They are the front of the queue. b.mu is held.
func (b *redisBatcher) dropStale(since time.Time) {
	n := 0
	for n < len(b.queue) && b.queue[n].queuedAt.Before(since) {
		b.queue[n].err = errQueuedTooLong
		b.queue[n].wake <- false
		n++
	}
	b.queue = slices.Delete(b.queue, 0, n)
}

// runBatch decides batch with one script call and answers every call in
// it, waking all but batch[0], the caller running it.
func (r *Redis) runBatch(batch []*redisCall) {
	// The batch carries other callers' decisions: one caller going away
	// must not cancel them.
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	keys := make([]string, len(batch))
	for i, c := range batch {
		keys[i] = r.prefix + c.p.Name + ":" + c.key + ":log:v2"
	}
	// One set of policy arguments per run of calls with the same limit
	// and window: Redis parses each number it is sent.
	var args []any
	for i := 0; i < len(batch); {
		p, j := batch[i].p, i+1
		for j < len(batch) && batch[j].p.Limit == p.Limit && batch[j].p.Window == p.Window {
			j++
		}
		windowMs := p.Window.Milliseconds()
		args = append(args, j-i, p.Limit, windowMs, granuleMillis(p.Limit, windowMs))
		i = j
	}
	// Run sends EVALSHA and, when Redis has lost the script (a restart, a
	// SCRIPT FLUSH), EVAL with the source, which caches it again.
	res, err := slidingLogScript.Run(ctx, r.client, keys, args...).Int64Slice()
	if err == nil && len(res) != 3*len(batch)+1 {
		err = errors.New("unexpected script reply")
	}
	if err != nil {
		err = fmt.Errorf("ratelimit: redis: %w", err)
	}
	for i, c := range batch {
		if c.err = err; err == nil {
			c.res = redisResult{allowed: res[3*i] == 1, total: res[3*i+1], untilMs: res[3*i+2], nowMs: res[len(res)-1]}
		}
		if i > 0 { // batch[0] is the leader, running this
			c.wake <- false
		}
	}
}
