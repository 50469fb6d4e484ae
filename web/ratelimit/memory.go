package ratelimit

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryConfig configures NewMemory. The zero value is usable.
type MemoryConfig struct {
	// MaxKeys bounds the (policy, caller) pairs held; past it the least
	// recently active of a few sampled keys is evicted. Default 65536.
	MaxKeys int
	// SweepEvery is how often keys whose whole window has passed are
	// dropped, checked on use so an idle store costs nothing. Default 10s.
	SweepEvery time.Duration
	// Now is the clock; default the wall clock read through the monotonic
	// one, so a stepped system clock cannot stretch or shrink windows.
	Now func() time.Time
}

// Memory is an in-process Limiter: one log of request times per (policy,
// caller), behind one mutex.
type Memory struct {
	now        func() time.Time
	maxKeys    int
	sweepEvery int64 // ms

	mu        sync.Mutex
	logs      map[logKey]*requestLog
	lastSweep int64 // ms
}

type logKey struct{ policy, caller string }

// requestLog holds the times (Unix ms) of the requests allowed in the
// last window, oldest first.
type requestLog struct {
	times    []int64
	expires  int64 // ms: when the newest leaves the window
	lastSeen int64 // ms: the last decision, allowed or not
}

// NewMemory returns an empty memory store.
func NewMemory(cfg MemoryConfig) *Memory {
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 65536
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 10 * time.Second
	}
	if cfg.Now == nil {
		start := time.Now()
		cfg.Now = func() time.Time { return start.Add(time.Since(start)) }
	}
	return &Memory{
		now:        cfg.Now,
		maxKeys:    cfg.MaxKeys,
		sweepEvery: cfg.SweepEvery.Milliseconds(),
		logs:       make(map[logKey]*requestLog),
	}
}

// Allow implements Limiter. It never fails for a valid policy.
func (m *Memory) Allow(_ context.Context, key string, p Policy) (Decision, error) {
	if p.Off {
		return allowAll(), nil
	}
	if err := p.validate(); err != nil {
		return Decision{}, err
	}
	now := m.now().UnixMilli()

	m.mu.Lock()
	defer m.mu.Unlock()
	if now-m.lastSweep >= m.sweepEvery {
		m.sweep(now)
	}
	log, ok := m.logs[logKey{p.Name, key}]
	if !ok {
		if len(m.logs) >= m.maxKeys {
			m.evictOne(now)
		}
		log = &requestLog{}
		// Fiber's strings point into reused buffers: keep copies.
		m.logs[logKey{strings.Clone(p.Name), strings.Clone(key)}] = log
	}
	log.lastSeen = now
	allowed, total, resetAt := log.decide(now, p.Limit, p.Window.Milliseconds())
	return decisionAt(now, allowed, p.Limit, total, resetAt), nil
}

// Refund implements Refunder: it removes the request's time from its log.
func (m *Memory) Refund(_ context.Context, key string, p Policy, d Decision) error {
	if p.Off || !d.Allowed {
		return nil
	}
	at := d.loggedAt()
	m.mu.Lock()
	defer m.mu.Unlock()
	if log, ok := m.logs[logKey{p.Name, key}]; ok {
		for i := len(log.times) - 1; i >= 0; i-- {
			if log.times[i] == at {
				log.times = slices.Delete(log.times, i, i+1)
				break
			}
		}
	}
	return nil
}

// decide drops the times that left the window, then admits one request if
// fewer than limit remain. It returns the total after the request and when
// the next unit of quota returns.
func (l *requestLog) decide(now int64, limit int, window int64) (allowed bool, total int, resetAt int64) {
	gone := 0
	for gone < len(l.times) && l.times[gone]+window <= now {
		gone++
	}
	l.times = slices.Delete(l.times, 0, gone)
	if len(l.times) < limit {
		l.times = append(l.times, now)
		l.expires = now + window
		return true, len(l.times), l.times[0] + window
	}
	// One more request needs total-limit+1 units back (more than one only
	// after the limit was lowered): wait until that many have left.
	return false, len(l.times), l.times[len(l.times)-limit] + window
}

// Len is the number of (policy, caller) pairs held.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.logs)
}

// Sweep drops every key whose window has wholly passed, now.
func (m *Memory) Sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(m.now().UnixMilli())
}

func (m *Memory) sweep(now int64) {
	m.lastSweep = now
	for k, log := range m.logs {
		if log.expires <= now {
			delete(m.logs, k)
		}
	}
}

// evictOne makes room: an expired key if it meets one, else the least
// recently used of a few (map iteration starts at a random place, so this
// is a sample). Refusals count as use, so a caller hammering its limit is
// the last to be forgotten.
func (m *Memory) evictOne(now int64) {
	const samples = 8
	var victim logKey
	var oldest *requestLog
	n := 0
	for k, log := range m.logs {
		if log.expires <= now {
			delete(m.logs, k)
			return
		}
		if oldest == nil || log.lastSeen < oldest.lastSeen {
			victim, oldest = k, log
		}
		if n++; n >= samples {
			break
		}
	}
	delete(m.logs, victim)
}
