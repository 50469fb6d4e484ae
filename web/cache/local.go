package cache

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// entryOverhead approximates the bytes an entry costs beyond its key and
// value (otter node, entry struct, slice header), so that many tiny values
// still count against MaxBytes.
const entryOverhead = 128

// localTier is the in-process tier: otter bounded by weight, with a
// generation per namespace embedded in every entry key.
//
// Generations come from one process-wide counter, so a namespace's
// generation is unique across namespaces and never reused. That makes it safe
// to forget a namespace's state (the map is cleared when it grows past
// maxNamespaces, and by InvalidateAll): a re-created namespace gets a fresh
// generation, so every entry stored under an old one is unreachable.
type localTier struct {
	entries *otter.Cache[entryKey, *entry]
	metrics *Metrics

	namespaces    sync.Map // namespace -> *nsState
	nsCount       atomic.Int64
	maxNamespaces int64
	nextGen       atomic.Uint64

	// seq orders per-key invalidations against loads: a load remembers seq
	// when it starts, and may only store if no invalidation of its key took
	// a later seq. fences remember those invalidations for fenceTTL, longer
	// than any load may run (loads are cut off at MaxLoadTime).
	seq      atomic.Uint64
	mu       sync.Mutex
	fences   map[nsID]fence
	fenceTTL time.Duration
	pruneAt  int
	now      func() time.Time
}

type entryKey struct {
	ns, id string
	gen    uint64
}

type nsID struct{ ns, id string }

type fence struct {
	seq uint64
	at  time.Time
}

type entry struct {
	data  []byte
	ttl   time.Duration
	stats *kindStats
}

type nsState struct {
	gen   atomic.Uint64
	stats *kindStats
}

// token is what a load remembers from before it started; put refuses it if
// an invalidation happened since.
type token struct {
	gen, seq uint64
}

func newLocalTier(maxBytes int64, maxNamespaces int, fenceTTL time.Duration, clock otter.Clock, m *Metrics) (*localTier, error) {
	l := &localTier{
		metrics:       m,
		maxNamespaces: int64(maxNamespaces),
		fences:        make(map[nsID]fence),
		fenceTTL:      fenceTTL,
		pruneAt:       1024,
		now:           time.Now,
	}
	entries, err := otter.New(&otter.Options[entryKey, *entry]{
		MaximumWeight: uint64(maxBytes),
		Weigher:       weigh,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[entryKey, *entry]) time.Duration {
			return e.Value.ttl
		}),
		OnAtomicDeletion: func(e otter.DeletionEvent[entryKey, *entry]) {
			s := e.Value.stats
			s.entries.Add(-1)
			s.bytes.Add(-int64(weigh(e.Key, e.Value)))
			switch e.Cause {
			case otter.CauseOverflow:
				s.evictions.Add(1)
			case otter.CauseExpiration:
				s.expirations.Add(1)
			}
		},
		Clock: clock,
	})
	if err != nil {
		return nil, err
	}
	l.entries = entries
	return l, nil
}

func weigh(k entryKey, e *entry) uint32 {
	return uint32(len(k.ns) + len(k.id) + len(e.data) + entryOverhead)
}

// state returns the namespace's generation holder, creating it with a fresh
// generation. Keys are cloned because callers may pass strings that alias
// request buffers (Fiber).
func (l *localTier) state(ns string) *nsState {
	if s, ok := l.namespaces.Load(ns); ok {
		return s.(*nsState)
	}
	if l.nsCount.Load() >= l.maxNamespaces {
		l.forgetNamespaces()
	}
	s := &nsState{stats: l.metrics.stats(ns)}
	s.gen.Store(l.nextGen.Add(1))
	actual, loaded := l.namespaces.LoadOrStore(strings.Clone(ns), s)
	if !loaded {
		l.nsCount.Add(1)
	}
	return actual.(*nsState)
}

// forgetNamespaces drops every namespace's generation: safe (see localTier),
// and the only way the map stays bounded when namespaces are per-entity.
func (l *localTier) forgetNamespaces() {
	l.namespaces.Clear()
	l.nsCount.Store(0)
}

func (l *localTier) begin(s *nsState) token {
	return token{gen: s.gen.Load(), seq: l.seq.Load()}
}

func (l *localTier) get(s *nsState, key Key) ([]byte, bool) {
	e, ok := l.entries.GetIfPresent(entryKey{ns: key.Namespace, id: key.ID, gen: s.gen.Load()})
	if !ok {
		return nil, false
	}
	return e.data, true
}

// put stores data under the generation in tok, unless the namespace or the
// key was invalidated after tok was taken.
func (l *localTier) put(key Key, tok token, data []byte, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state(key.Namespace)
	if s.gen.Load() != tok.gen {
		return
	}
	if f, ok := l.fences[nsID{key.Namespace, key.ID}]; ok && f.seq > tok.seq {
		return
	}
	k := entryKey{ns: strings.Clone(key.Namespace), id: strings.Clone(key.ID), gen: tok.gen}
	e := &entry{data: data, ttl: ttl, stats: s.stats}
	s.stats.entries.Add(1)
	s.stats.bytes.Add(int64(weigh(k, e)))
	l.entries.Set(k, e)
}

func (l *localTier) invalidateKey(key Key) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	id := nsID{strings.Clone(key.Namespace), strings.Clone(key.ID)}
	l.fences[id] = fence{seq: l.seq.Add(1), at: now}
	if len(l.fences) > l.pruneAt {
		for k, f := range l.fences {
			if now.Sub(f.at) > l.fenceTTL {
				delete(l.fences, k)
			}
		}
		l.pruneAt = max(1024, 2*len(l.fences))
	}
	s := l.state(key.Namespace)
	l.entries.Invalidate(entryKey{ns: key.Namespace, id: key.ID, gen: s.gen.Load()})
}

func (l *localTier) invalidateNamespace(ns string) {
	l.state(ns).gen.Store(l.nextGen.Add(1))
}

// invalidateAll makes every entry unreachable in O(1); the dead entries
// leave through the size bound and their TTLs.
func (l *localTier) invalidateAll() {
	l.forgetNamespaces()
}

func (l *localTier) close() {
	l.entries.StopAllGoroutines()
}
