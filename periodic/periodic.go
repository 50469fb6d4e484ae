// Package periodic runs background housekeeping (sweeps, samples) at a
// fixed interval, so every loop of that kind stops the same way.
package periodic

import (
	"context"
	"time"
)

// Every calls fn every d until ctx ends. The first call is one interval
// from now; a caller that wants one at once makes it before.
func Every(ctx context.Context, d time.Duration, fn func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ctx.Err() == nil { // both ready: select may pick either
				fn(ctx)
			}
		}
	}
}
