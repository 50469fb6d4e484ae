package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Limits every run is held to, whatever it asks for: the tool targets a
// developer's own machine and must never turn into an unbounded flood.
const (
	DefaultRequests    = 1000
	DefaultMaxDuration = 30 * time.Second
	HardMaxDuration    = 10 * time.Minute
	HardMaxRequests    = 10_000_000
	HardMaxConcurrency = 1000
	DefaultConcurrency = 10
	DefaultTimeout     = 10 * time.Second
	maxWarmupDuration  = time.Minute
	maxWarmupRequests  = 100_000
)

// Client names for Options.Client.
const (
	ClientNetHTTP  = "nethttp"
	ClientFastHTTP = "fasthttp"
)

// Outcome is what an Observer learns about each request, warm-up included.
type Outcome struct {
	Status  int // 0 when Err is set
	Err     error
	Warmup  bool
	Latency time.Duration
}

// Options describe one run against one endpoint (or one scenario).
type Options struct {
	Name string
	// Target is sent as is on every request unless Source is set.
	Target Request
	// Source builds request seq; it is called from many goroutines.
	Source func(seq uint64) Request
	// Observe sees every response, warm-up ones too; it is called from
	// many goroutines and must be quick.
	Observe func(req Request, o Outcome)

	// Concurrency is the number of workers: in closed loop each sends its
	// next request when the previous one returns; in open loop it bounds the
	// requests in flight.
	Concurrency int
	// Rate > 0 switches to open loop: request i is due at start + i/Rate.
	// A request that could not be sent on time because every worker was
	// busy has its latency measured from that intended time, so queueing
	// behind a stalled server shows up instead of being omitted.
	Rate float64

	MaxRequests    int64
	MaxDuration    time.Duration
	WarmupRequests int64
	WarmupDuration time.Duration
	Timeout        time.Duration

	// HTTPClient, when set, is used as is (net/http sender).
	HTTPClient *http.Client
	// Client picks the built-in sender: ClientFastHTTP (default: net/http
	// costs the tool about half its ceiling on a small machine) or
	// ClientNetHTTP.
	Client string

	Progress         io.Writer
	Interactive      bool          // redraw one line with \r instead of printing lines
	ProgressInterval time.Duration // default 250ms interactive, 5s otherwise

	Thresholds Thresholds
}

// Normalize fills defaults and applies the hard limits.
func (o Options) Normalize() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
		if o.Rate > 0 {
			// Little's law with a generous 250ms latency budget.
			o.Concurrency = max(DefaultConcurrency, int(math.Ceil(o.Rate/4)))
		}
	}
	o.Concurrency = min(o.Concurrency, HardMaxConcurrency)
	if o.MaxRequests <= 0 {
		if o.MaxDuration > 0 {
			o.MaxRequests = HardMaxRequests
		} else {
			o.MaxRequests = DefaultRequests
		}
	}
	o.MaxRequests = min(o.MaxRequests, HardMaxRequests)
	if o.MaxDuration <= 0 {
		o.MaxDuration = DefaultMaxDuration
		if o.Rate > 0 {
			// Leave an open-loop run the time its request count needs.
			need := time.Duration(float64(o.MaxRequests)/o.Rate*1.1*float64(time.Second)) + 5*time.Second
			o.MaxDuration = max(o.MaxDuration, need)
		}
	}
	o.MaxDuration = min(o.MaxDuration, HardMaxDuration)
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	o.WarmupDuration = min(max(o.WarmupDuration, 0), maxWarmupDuration)
	o.WarmupRequests = min(max(o.WarmupRequests, 0), maxWarmupRequests)
	if o.Client == "" {
		o.Client = ClientFastHTTP
	}
	if o.Target.Method == "" {
		o.Target.Method = http.MethodGet
	}
	return o
}

// Stop reasons in a Summary.
const (
	StopRequests = "request_limit"
	StopDuration = "time_limit"
	StopCanceled = "canceled"
)

// runState is shared by the workers of one run.
type runState struct {
	opts   Options
	sender sender
	fixed  prepared
	base   time.Time
	open   bool

	seq      atomic.Uint64
	measured atomic.Int64
	// measureStart is the measured phase's start as an offset from base;
	// -1 until a count-based warm-up ends.
	measureStart atomic.Int64
	warm         atomic.Int64 // warm-up requests completed

	stopOnce   sync.Once
	stopReason string
	stopped    atomic.Bool
}

func (s *runState) stop(reason string) {
	s.stopOnce.Do(func() {
		s.stopReason = reason
		s.stopped.Store(true)
	})
}

// Run sends the requests opts describe and returns their figures, with the
// thresholds in opts evaluated. An error means the run could not start.
func Run(ctx context.Context, opts Options) (Summary, error) {
	opts = opts.Normalize()
	snd, err := newSender(opts)
	if err != nil {
		return Summary{}, err
	}
	st := &runState{opts: opts, sender: snd, open: opts.Rate > 0}
	if opts.Source == nil {
		if st.fixed, err = snd.prepare(opts.Target); err != nil {
			return Summary{}, fmt.Errorf("preparing request: %w", err)
		}
	}
	switch {
	case opts.WarmupDuration > 0:
		st.measureStart.Store(int64(opts.WarmupDuration))
	case opts.WarmupRequests > 0 && st.open:
		st.measureStart.Store(int64(st.intended(uint64(opts.WarmupRequests))))
	case opts.WarmupRequests > 0:
		st.measureStart.Store(-1)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The absolute bound, whatever the warm-up: nothing outlives it but the
	// requests in flight, which their timeout bounds.
	hardStop := time.AfterFunc(opts.WarmupDuration+opts.MaxDuration+maxWarmupDuration, func() { st.stop(StopDuration) })
	defer hardStop.Stop()

	tl := &timeline{}
	recs := make([]*recorder, opts.Concurrency)
	for i := range recs {
		recs[i] = newRecorder(tl)
	}
	startedAt := time.Now()
	st.base = startedAt

	progressDone := make(chan struct{})
	var progressWG sync.WaitGroup
	if opts.Progress != nil {
		progressWG.Add(1)
		go func() {
			defer progressWG.Done()
			runProgress(st, recs, progressDone)
		}()
	}

	var wg sync.WaitGroup
	for _, rec := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.work(runCtx, rec)
		}()
	}
	wg.Wait()
	close(progressDone)
	progressWG.Wait()
	if ctx.Err() != nil {
		st.stop(StopCanceled)
	}

	m := mergeRecorders(recs)
	sum := st.summarize(startedAt, m, tl)
	sum.Checks = opts.Thresholds.Evaluate(sum)
	sum.Pass = allPass(sum.Checks) && sum.StopReason != StopCanceled
	return sum, nil
}

func newSender(opts Options) (sender, error) {
	if opts.HTTPClient != nil {
		return &netHTTPSender{client: opts.HTTPClient}, nil
	}
	switch opts.Client {
	case ClientNetHTTP:
		return &netHTTPSender{client: newTunedHTTPClient(opts.Concurrency, opts.Timeout)}, nil
	case ClientFastHTTP:
		return newFastHTTPSender(opts.Concurrency, opts.Timeout), nil
	}
	return nil, fmt.Errorf("unknown client %q (want %s or %s)", opts.Client, ClientNetHTTP, ClientFastHTTP)
}

func (s *runState) intended(i uint64) time.Duration {
	return time.Duration(float64(i) / s.opts.Rate * float64(time.Second))
}

// work is one worker's loop; it returns when the run stops.
func (s *runState) work(ctx context.Context, rec *recorder) {
	var timer *time.Timer
	for !s.stopped.Load() && ctx.Err() == nil {
		i := s.seq.Add(1) - 1
		var at time.Duration // intended (open loop) or actual (closed) send offset
		if s.open {
			at = s.intended(i)
		} else {
			at = time.Since(s.base)
		}
		warm := i < uint64(s.opts.WarmupRequests) || at < s.opts.WarmupDuration
		var ms time.Duration
		if !warm {
			ms = s.startMeasuring(at)
			if at >= ms+s.opts.MaxDuration {
				s.stop(StopDuration)
				return
			}
			if s.measured.Add(1) > s.opts.MaxRequests {
				s.stop(StopRequests)
				return
			}
		}
		// A slot already due when a worker gets to it waited behind busy
		// workers: that is queueing, and its latency counts from the
		// intended time. A slot an idle worker sleeps towards counts from
		// the actual send, so the timer's own wake-up lag (up to a
		// millisecond or so) is not charged to the server.
		queued := false
		if s.open {
			wait := at - time.Since(s.base)
			queued = wait <= 0
			if wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-ctx.Done():
					timer.Stop()
					return
				case <-timer.C:
				}
				// A stop meanwhile does not void this slot: it was claimed
				// within the limits.
			}
		}
		sentAt := time.Since(s.base)
		req, p, err := s.request(i)
		var info responseInfo
		if err == nil {
			info, err = s.sender.send(ctx, p)
		}
		doneAt := time.Since(s.base)
		if err != nil && ctx.Err() != nil {
			return // interrupted, not failed: the run is being canceled
		}
		from := sentAt
		if queued {
			from = at
		}
		latency := doneAt - from
		if s.opts.Observe != nil {
			s.opts.Observe(req, Outcome{Status: info.status, Err: err, Warmup: warm, Latency: latency})
		}
		if warm {
			s.warm.Add(1)
			continue
		}
		o := outcome{info: info, err: err, latency: latency, doneAt: doneAt, second: max(0, int((doneAt-ms)/time.Second))}
		if s.open {
			o.sendDelay = sentAt - at
		}
		rec.record(o)
	}
}

// startMeasuring returns the measured phase's start, fixing it now if a
// count-based warm-up has just ended.
func (s *runState) startMeasuring(at time.Duration) time.Duration {
	ms := s.measureStart.Load()
	if ms >= 0 {
		return time.Duration(ms)
	}
	if s.measureStart.CompareAndSwap(-1, int64(at)) {
		return at
	}
	return time.Duration(s.measureStart.Load())
}

func (s *runState) request(i uint64) (Request, prepared, error) {
	if s.opts.Source == nil {
		return s.opts.Target, s.fixed, nil
	}
	req := s.opts.Source(i)
	p, err := s.sender.prepare(req)
	if err != nil {
		return req, nil, fmt.Errorf("preparing request: %w", errors.Join(errBadRequest, err))
	}
	return req, p, nil
}

var errBadRequest = errors.New("bad request from source")
