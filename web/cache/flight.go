package cache

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// flightGroup runs one load per key at a time and shares its result with
// every caller that asks meanwhile. Unlike x/sync/singleflight, the load runs
// on a context of its own: a caller that gives up (its context ends) leaves
// the load running for the others, and only when every caller has gone is the
// load cancelled.
type flightGroup struct {
	mu      sync.Mutex
	flights map[string]*flight
	maxLoad time.Duration
}

type flight struct {
	done    chan struct{}
	val     []byte
	err     error
	waiters int
	cancel  context.CancelFunc
}

func newFlightGroup(maxLoad time.Duration) *flightGroup {
	return &flightGroup{flights: make(map[string]*flight), maxLoad: maxLoad}
}

// do returns the result of fn for key, running fn only if no call for key is
// in flight. shared reports whether the result came from another caller's
// call. fn gets a context that keeps ctx's values, not its cancellation, and
// ends after maxLoad.
func (g *flightGroup) do(ctx context.Context, key string, fn func(ctx context.Context) ([]byte, error)) (val []byte, shared bool, err error) {
	g.mu.Lock()
	f, ok := g.flights[key]
	if ok {
		f.waiters++
		g.mu.Unlock()
		val, err = g.wait(ctx, key, f)
		return val, true, err
	}
	loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.maxLoad)
	f = &flight{done: make(chan struct{}), waiters: 1, cancel: cancel}
	g.flights[key] = f
	g.mu.Unlock()

	go g.run(loadCtx, key, f, fn)
	val, err = g.wait(ctx, key, f)
	return val, false, err
}

func (g *flightGroup) run(ctx context.Context, key string, f *flight, fn func(ctx context.Context) ([]byte, error)) {
	defer f.cancel()
	defer close(f.done)
	defer func() {
		// The loader runs on this goroutine, not the caller's: a panic here
		// would bypass the HTTP server's recovery and kill the process.
		if r := recover(); r != nil {
			f.val, f.err = nil, fmt.Errorf("cache: loader panicked: %v", r)
		}
		g.mu.Lock()
		if g.flights[key] == f {
			delete(g.flights, key)
		}
		g.mu.Unlock()
	}()
	f.val, f.err = fn(ctx)
}

func (g *flightGroup) wait(ctx context.Context, key string, f *flight) ([]byte, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		g.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			// Nobody waits for the cancelled load: later callers must start
			// their own rather than join one that is about to fail.
			if g.flights[key] == f {
				delete(g.flights, key)
			}
		}
		g.mu.Unlock()
		return nil, ctx.Err()
	}
}

// forget makes the next call for key start a new load; the load in flight
// finishes for those already waiting.
func (g *flightGroup) forget(key string) {
	g.mu.Lock()
	delete(g.flights, key)
	g.mu.Unlock()
}
