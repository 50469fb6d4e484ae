package auth

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuthChannel is where the database announces changes to tokens and users
// (migration 00006).
const AuthChannel = "batchtrack_auth"

// tokenCache keeps the tokens this process has checked, so a script's
// every request need not ask the database. It is used only while a
// listener hears AuthChannel: every change that could make an entry wrong
// empties it, whichever instance or CLI made the change; changes made
// through this Service empty it at once. Without the listener (tests,
// PgBouncer in transaction mode) every request asks the database.
type tokenCache struct {
	on      atomic.Bool
	mu      sync.RWMutex
	entries map[[32]byte]tokenEntry
	// gen counts clears: a check that read the database before a clear
	// must not store its (maybe stale) answer after it.
	gen uint64
}

type tokenEntry struct {
	token   Token
	user    User
	fetched time.Time
}

const (
	tokenCacheTTL  = 30 * time.Second // a safety net; changes empty the cache
	tokenCacheSize = 10_000
)

func (c *tokenCache) get(key [32]byte, now time.Time) (tokenEntry, bool) {
	if !c.on.Load() {
		return tokenEntry{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	return e, ok && now.Sub(e.fetched) < tokenCacheTTL
}

// generation is read before asking the database; put stores only if no
// clear came in between.
func (c *tokenCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *tokenCache) put(key [32]byte, e tokenEntry, gen uint64) {
	if !c.on.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.entries == nil || len(c.entries) >= tokenCacheSize {
		c.entries = map[[32]byte]tokenEntry{}
	}
	c.entries[key] = e
}

func (c *tokenCache) clear() {
	c.mu.Lock()
	c.entries = nil
	c.gen++
	c.mu.Unlock()
}

// setOn turns the cache on or off, empty either way.
func (c *tokenCache) setOn(on bool) {
	c.clear()
	c.on.Store(on)
}

func tokenKey(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// ListenForChanges keeps a connection listening on AuthChannel until ctx
// ends, emptying the token cache on every notification; while it listens,
// token checks are cached. connect opens a dedicated connection (not from
// the pool: it is held for good). When the connection drops, caching stops
// until listening resumes.
func (s *Service) ListenForChanges(ctx context.Context, connect func(context.Context) (*pgx.Conn, error), logger *slog.Logger) {
	for ctx.Err() == nil {
		err := s.listen(ctx, connect)
		s.tokens.setOn(false)
		if ctx.Err() != nil {
			return
		}
		logger.Warn("auth: not listening for token changes; checking every token in the database", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Service) listen(ctx context.Context, connect func(context.Context) (*pgx.Conn, error)) error {
	conn, err := connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+AuthChannel); err != nil {
		return err
	}
	s.tokens.setOn(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.tokens.clear()
	}
}

// TokenCacheOn reports whether token checks are being cached (the
// listener is up).
func (s *Service) TokenCacheOn() bool { return s.tokens.on.Load() }
