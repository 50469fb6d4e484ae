package loadtest

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
)

// IsTerminal reports whether w is a terminal, where the progress line is
// redrawn in place; elsewhere (CI logs, files) plain lines are printed.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

const (
	interactiveInterval = 250 * time.Millisecond
	plainInterval       = 5 * time.Second
)

func runProgress(s *runState, recs []*recorder, done <-chan struct{}) {
	interval := s.opts.ProgressInterval
	if interval <= 0 {
		interval = plainInterval
		if s.opts.Interactive {
			interval = interactiveInterval
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var prevDone int64
	prevAt := time.Duration(0)
	for {
		select {
		case <-done:
			if s.opts.Interactive {
				line := progressLine(s, recs, &prevDone, &prevAt)
				fmt.Fprintf(s.opts.Progress, "\r%s\n", line)
			}
			return
		case <-t.C:
			line := progressLine(s, recs, &prevDone, &prevAt)
			if s.opts.Interactive {
				// Pad so a shorter line fully covers the previous one.
				fmt.Fprintf(s.opts.Progress, "\r%-100s", line)
			} else {
				fmt.Fprintln(s.opts.Progress, line)
			}
		}
	}
}

func progressLine(s *runState, recs []*recorder, prevDone *int64, prevAt *time.Duration) string {
	var done, failed, limited int64
	for _, r := range recs {
		done += r.live.done.Load()
		failed += r.live.failed.Load()
		limited += r.live.limited.Load()
	}
	now := time.Since(s.base)
	rate := 0.0
	if dt := now - *prevAt; dt > 0 {
		rate = float64(done-*prevDone) / dt.Seconds()
	}
	*prevDone, *prevAt = done, now

	var b strings.Builder
	if s.opts.Name != "" {
		fmt.Fprintf(&b, "[%s] ", s.opts.Name)
	}
	fmt.Fprintf(&b, "%d/%d req  %.0f req/s  errors %d  429s %d  elapsed %s",
		done, s.opts.MaxRequests, rate, failed, limited, now.Truncate(100*time.Millisecond))
	if warm := s.warm.Load(); warm > 0 && done == 0 {
		fmt.Fprintf(&b, "  (warming up: %d)", warm)
	}
	if ms := s.measureStart.Load(); ms >= 0 {
		left := time.Duration(ms) + s.opts.MaxDuration - now
		if rate > 0 {
			byCount := time.Duration(float64(s.opts.MaxRequests-done) / rate * float64(time.Second))
			left = min(left, byCount)
		}
		fmt.Fprintf(&b, "  remaining ~%s", max(left, 0).Truncate(100*time.Millisecond))
	}
	return b.String()
}
