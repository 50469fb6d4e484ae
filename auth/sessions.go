package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"batchtrack/db"
)

// Session is a live browser session.
type Session struct {
	// Token is the cookie value; only StartSession returns it (the
	// database holds its hash).
	Token      string
	IDHash     []byte
	User       User
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
}

// ClientInfo describes where a session was started, for the admin's view.
type ClientInfo struct {
	UserAgent string
	IP        string
}

// sessionTokenLen is the length of a session token: 32 random bytes in
// unpadded base64url.
const sessionTokenLen = 43

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // never happens on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// StartSession opens a new session for user, with a fresh random id and
// CSRF token: called at every login, so an id planted before login is
// worth nothing after it.
func (s *Service) StartSession(ctx context.Context, user User, client ClientInfo) (Session, error) {
	now := s.now()
	token := randomToken(32)
	sess := Session{
		Token: token, IDHash: sha(token), User: user, CSRFToken: randomToken(32),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.maxAge),
	}
	err := s.q.CreateSession(ctx, db.CreateSessionParams{
		IDHash: sess.IDHash, UserID: user.ID, CsrfToken: sess.CSRFToken, CreatedAt: now, ExpiresAt: sess.ExpiresAt,
		UserAgent: truncate(client.UserAgent, 500), ClientIp: truncate(client.IP, 100),
	})
	if err != nil {
		return Session{}, err
	}
	return sess, nil
}

// Session returns the live session for a cookie value: ErrNoSession when
// it is unknown, past either timeout, or its user is disabled. Use is
// recorded at most once per TouchEvery.
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	if len(token) != sessionTokenLen {
		return Session{}, ErrNoSession
	}
	now := s.now()
	row, err := s.q.GetLiveSession(ctx, db.GetLiveSessionParams{IDHash: sha(token), Now: now, IdleSince: now.Add(-s.idle)})
	if err != nil {
		if errors.Is(db.Translate(err), db.ErrNotFound) {
			return Session{}, ErrNoSession
		}
		return Session{}, err
	}
	sess := Session{
		IDHash: row.IDHash, User: toUser(row.User), CSRFToken: row.CsrfToken,
		CreatedAt: row.CreatedAt, LastSeenAt: row.LastSeenAt, ExpiresAt: row.ExpiresAt,
	}
	if now.Sub(row.LastSeenAt) >= s.touchEvery {
		if err := s.q.TouchSession(ctx, db.TouchSessionParams{IDHash: row.IDHash, Now: now}); err != nil {
			return Session{}, err
		}
		sess.LastSeenAt = now
	}
	return sess, nil
}

// EndSession deletes the session of a cookie value (logout). Unknown
// values are not an error: the outcome, no session, is the same.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.q.DeleteSession(ctx, sha(token))
}

// EndUserSessions logs a user out everywhere.
func (s *Service) EndUserSessions(ctx context.Context, userID uuid.UUID) error {
	_, err := s.q.DeleteUserSessions(ctx, userID)
	return err
}

// DeleteDeadSessions removes sessions past either timeout; they are
// already refused, this only reclaims the rows.
func (s *Service) DeleteDeadSessions(ctx context.Context) (int64, error) {
	now := s.now()
	return s.q.DeleteDeadSessions(ctx, db.DeleteDeadSessionsParams{Now: now, IdleSince: now.Add(-s.idle)})
}

// A header kept only for information is cleaned, never refused: invalid
// UTF-8 and control characters (PostgreSQL cannot store NUL) become U+FFFD.
func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= n {
		return s
	}
	for n > 0 && !validCut(s, n) {
		n--
	}
	return s[:n]
}

// validCut reports whether s[:n] ends on a UTF-8 boundary.
func validCut(s string, n int) bool { return n == len(s) || s[n]&0xC0 != 0x80 }
