package ratelimit

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
	"time"
)

const memoryShards = 64

// MemoryConfig configures NewMemory. The zero value is usable.
type MemoryConfig struct {
	// MaxKeys bounds the (policy, caller) pairs held; past it the least
	// recently active of a few sampled keys is evicted. Default 65536.
	MaxKeys int
	// SweepEvery is how often a shard drops keys whose whole window has
	// expired (checked on use, so an idle store costs nothing). Default 10s.
	SweepEvery time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Memory is an in-process Limiter: a sliding-window log per (policy,
// caller), spread over 64 shards with their own lock.
type Memory struct {
	shards      [memoryShards]memoryShard
	hash        func(policy, caller string) uint64 // replaced by tests to force collisions
	now         func() time.Time
	maxPerShard int
	sweepEvery  int64 // ms
}

// memoryShard maps a 64-bit hash of (policy, caller) to its logs: hashing
// once and looking up an integer is the cheapest map access Go has; logs
// whose hashes collide are chained and told apart by their names.
type memoryShard struct {
	mu        sync.Mutex
	logs      map[uint64]*requestLog
	n         int   // logs held, chains included
	lastSweep int64 // ms
	// policies holds one copy of each policy name the shard's logs use,
	// so that comparing a log's name reads memory that every request of
	// that policy keeps in the cache.
	policies map[string]string
	_        [24]byte // keep shards' locks on separate cache lines
}

// maxPolicyNames bounds a shard's shared policy names; names past it (only
// a PolicyFor inventing names could get there) are copied per log.
const maxPolicyNames = 64

func (s *memoryShard) policyName(name string) string {
	if shared, ok := s.policies[name]; ok {
		return shared
	}
	// Fiber's strings point into reused buffers: keep a copy.
	shared := strings.Clone(name)
	if len(s.policies) < maxPolicyNames {
		s.policies[shared] = shared
	}
	return shared
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
		cfg.Now = monotonicClock()
	}
	m := &Memory{
		hash:        newKeyHash(),
		now:         cfg.Now,
		maxPerShard: max(1, (cfg.MaxKeys+memoryShards-1)/memoryShards),
		sweepEvery:  cfg.SweepEvery.Milliseconds(),
	}
	for i := range m.shards {
		m.shards[i].logs = make(map[uint64]*requestLog)
		m.shards[i].policies = make(map[string]string)
	}
	return m
}

// newKeyHash returns a randomly seeded hash of (policy, caller); the
// policy's is multiplied so that (a, b) and (b, a) differ.
func newKeyHash() func(policy, caller string) uint64 {
	seed := maphash.MakeSeed()
	return func(policy, caller string) uint64 {
		return maphash.String(seed, caller) ^ maphash.String(seed, policy)*0x9e3779b97f4a7c15
	}
}

// monotonicClock reads wall time as start plus the monotonic time since:
// one clock read instead of time.Now's two, and a wall clock stepped back
// or forth cannot stretch or shrink windows.
func monotonicClock() func() time.Time {
	start := time.Now()
	return func() time.Time { return start.Add(time.Since(start)) }
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
	windowMs := p.Window.Milliseconds()
	granule := granuleMillis(p.Limit, windowMs)
	h := m.hash(p.Name, key)
	s := &m.shards[h%memoryShards]

	s.mu.Lock()
	if now-s.lastSweep >= m.sweepEvery {
		s.sweep(now)
	}
	log := s.logs[h]
	for log != nil && !log.is(p.Name, key) {
		log = log.next
	}
	if log == nil {
		if s.n >= m.maxPerShard {
			s.evictOne(now)
		}
		log = newRequestLog(s.policyName(p.Name), key)
		log.next = s.logs[h]
		s.logs[h] = log
		s.n++
	}
	log.lastSeen = now
	allowed, total, resetAt := log.decide(now, p.Limit, windowMs, granule)
	s.mu.Unlock()

	return decisionAt(now, allowed, p.Limit, total, resetAt), nil
}

// decisionAt builds the Decision for a log answer at time now (ms).
func decisionAt(now int64, allowed bool, limit, total int, resetAt int64) Decision {
	d := Decision{
		Allowed:    allowed,
		Limit:      limit,
		Remaining:  max(0, limit-total),
		ResetAfter: time.Duration(resetAt-now) * time.Millisecond,
		Reset:      time.UnixMilli(resetAt),
	}
	if !allowed {
		d.RetryAfter = d.ResetAfter
	}
	return d
}

// Len is the number of (policy, caller) pairs held.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += s.n
		s.mu.Unlock()
	}
	return n
}

// Sweep drops every key whose window has wholly expired, now.
func (m *Memory) Sweep() {
	now := m.now().UnixMilli()
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		s.sweep(now)
		s.mu.Unlock()
	}
}

func (s *memoryShard) sweep(now int64) {
	s.lastSweep = now
	for h, head := range s.logs {
		var kept *requestLog
		for log := head; log != nil; {
			next := log.next
			if log.expires > now {
				log.next, kept = kept, log
			} else {
				s.n--
			}
			log = next
		}
		if kept == nil {
			delete(s.logs, h)
		} else if kept != head {
			s.logs[h] = kept
		}
	}
}

// evictOne makes room: an expired key if it meets one, else the least
// recently used of a few (Go map iteration starts at a random place, so
// this is a sample). Recency counts refusals too, so a caller hammering at
// its limit is the last to be forgotten; evicting a live key forgets that
// caller's count, which only a flood of distinct callers can force.
func (s *memoryShard) evictOne(now int64) {
	const samples = 8
	var victim *requestLog
	var victimHash uint64
	n := 0
	for h, head := range s.logs {
		for log := head; log != nil; log = log.next {
			if log.expires <= now {
				s.remove(h, log)
				return
			}
			if victim == nil || log.lastSeen < victim.lastSeen {
				victim, victimHash = log, h
			}
			n++
		}
		if n >= samples {
			break
		}
	}
	if victim != nil {
		s.remove(victimHash, victim)
	}
}

func (s *memoryShard) remove(h uint64, target *requestLog) {
	s.n--
	head := s.logs[h]
	if head == target {
		if target.next == nil {
			delete(s.logs, h)
		} else {
			s.logs[h] = target.next
		}
		return
	}
	for log := head; log.next != nil; log = log.next {
		if log.next == target {
			log.next = target.next
			return
		}
	}
}

// requestLog is one caller's sliding-window log: its newest entry and,
// in a ring oldest first, the older ones, with the running total.
//
// A decision usually finds nothing expired and the request in the newest
// entry's granule (a busy caller, or any caller of a large limit); it then
// reads and writes only the first two cache lines of this struct: the
// caller's name is held in it when short enough, the newest entry and the
// oldest stamp are copied out of the ring. Between two requests of one
// caller, the server's other work evicts whatever else a decision would
// touch, and each such line is a trip to memory.
type requestLog struct {
	// First line: which log this is.
	next         *requestLog // same hash, another key
	callerLen    int
	callerInline [inlineCaller]byte // the caller's name up to inlineCaller bytes

	// Second line: what a decision in the newest granule uses.
	policy   string
	total    int
	expires  int64    // ms: when the newest entry leaves the window
	lastSeen int64    // ms: the last decision, allowed or not
	oldest   int64    // ms: the oldest entry's stamp, when total > 0
	newest   logEntry // count 0 when the log is empty

	ring       []logEntry // older entries than newest, oldest first
	head, n    int
	callerLong string // the caller's name when longer than inlineCaller
}

// inlineCaller fits the app's keys: "token:" or "user:" and a UUID, or "ip:"
// and an IPv6 address.
const inlineCaller = 48

type logEntry struct {
	stamp int64 // ms
	count int64
}

func newRequestLog(policy, caller string) *requestLog {
	l := &requestLog{policy: policy, callerLen: len(caller)}
	if len(caller) <= inlineCaller {
		copy(l.callerInline[:], caller)
	} else {
		// Fiber's strings point into reused buffers: keep a copy.
		l.callerLong = strings.Clone(caller)
	}
	return l
}

// is tells whether l is the log of (policy, caller).
func (l *requestLog) is(policy, caller string) bool {
	if len(caller) != l.callerLen || l.policy != policy {
		return false
	}
	if len(caller) <= inlineCaller {
		return string(l.callerInline[:len(caller)]) == caller
	}
	return l.callerLong == caller
}

func (l *requestLog) at(i int) *logEntry { return &l.ring[(l.head+i)%len(l.ring)] }

// decide expires old entries, then admits one request if the window holds
// fewer than limit. It returns the total after the request and when the
// next unit of quota returns: for an admitted request, when the oldest
// entry leaves; for a refused one, when enough have left for one more.
func (l *requestLog) decide(now int64, limit int, window, granule int64) (allowed bool, total int, resetAt int64) {
	if l.total > 0 && l.oldest+window <= now {
		l.expire(now, window)
	}

	if l.total < limit {
		stamp := stampFor(now, granule)
		switch {
		case l.total == 0:
			l.newest = logEntry{stamp: stamp, count: 1}
			l.oldest = stamp
		case l.newest.stamp == stamp:
			l.newest.count++
		default:
			// The log never needs more entries than the limit or the
			// granules in a window (plus the partial ones at its ends);
			// the ring holds all but the newest.
			l.push(l.newest, min(int64(limit), window/granule+2)-1)
			l.newest = logEntry{stamp: stamp, count: 1}
		}
		l.total++
		l.expires = stamp + window
		return true, l.total, l.oldest + window
	}

	// A lowered limit can leave more than limit in the window: one more
	// request needs total-limit+1 units back, not just the oldest.
	need := int64(l.total - limit + 1)
	for i := 0; i < l.n; i++ {
		e := l.at(i)
		if need -= e.count; need <= 0 {
			return false, l.total, e.stamp + window
		}
	}
	return false, l.total, l.expires // the newest entry brings the rest back
}

// expire drops the entries that have left the window at now.
func (l *requestLog) expire(now, window int64) {
	for l.n > 0 {
		e := l.at(0)
		if e.stamp+window > now {
			l.oldest = e.stamp
			return
		}
		l.total -= int(e.count)
		l.head = (l.head + 1) % len(l.ring)
		l.n--
	}
	l.head = 0
	if l.newest.stamp+window > now {
		l.oldest = l.newest.stamp
		return
	}
	l.total, l.newest = 0, logEntry{}
}

func (l *requestLog) push(e logEntry, bound int64) {
	if l.n == len(l.ring) {
		grown := make([]logEntry, max(l.n+1, int(min(bound, int64(max(4, 2*len(l.ring)))))))
		for i := 0; i < l.n; i++ {
			grown[i] = *l.at(i)
		}
		l.ring, l.head = grown, 0
	}
	*l.at(l.n) = e
	l.n++
}
