package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
)

// TokenPrefix starts every API token, so a leaked one is recognisable
// (secret scanners, logs).
const TokenPrefix = "bt_"

// A token is bt_ and 64 hex digits (32 random bytes); its visible prefix is
// bt_ and the first 8 digits.
const (
	tokenLen       = len(TokenPrefix) + 64
	visiblePrefLen = len(TokenPrefix) + 8
)

var prefixPattern = regexp.MustCompile(`^bt_[0-9a-f]{8}$`)

// Token describes an API token; the secret itself is shown once, by
// CreateToken, and never stored.
type Token struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	UserEmail  string
	Name       string
	Prefix     string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	// RateLimits replace the default API limits for this token: policy
	// name -> "N/DURATION". The web layer parses and applies them.
	RateLimits map[string]string
}

// Active reports whether the token would be accepted at now (its user
// being enabled aside).
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || t.ExpiresAt.After(now))
}

// NewToken is what CreateToken needs.
type NewToken struct {
	UserID    uuid.UUID
	Name      string
	ExpiresAt *time.Time // nil: no expiry
	CreatedBy *uuid.UUID // the admin who made it, if any
}

// CreateToken makes an API token for a user and returns it with its
// secret, the only time the secret is available.
func (s *Service) CreateToken(ctx context.Context, in NewToken) (Token, string, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || len([]rune(name)) > 100 {
		return Token{}, "", &ValidationError{Field: "name", Message: "must be 1 to 100 characters"}
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		return Token{}, "", &ValidationError{Field: "expires", Message: "must be in the future"}
	}
	user, err := s.User(ctx, in.UserID)
	if err != nil {
		return Token{}, "", err
	}
	// Two tokens sharing the 8-digit prefix is possible (1 in 4 billion per
	// pair); the unique constraint catches it and a new secret is drawn.
	for attempt := 0; ; attempt++ {
		secret := newTokenSecret()
		row, err := s.q.CreateAPIToken(ctx, db.CreateAPITokenParams{
			UserID: in.UserID, Name: name, Prefix: secret[:visiblePrefLen], TokenHash: sha(secret),
			CreatedBy: in.CreatedBy, ExpiresAt: in.ExpiresAt,
		})
		if err = db.Translate(err); errors.Is(err, db.ErrConflict) && attempt < 3 {
			continue
		} else if err != nil {
			return Token{}, "", err
		}
		return Token{
			ID: row.ID, UserID: row.UserID, UserEmail: user.Email, Name: row.Name, Prefix: row.Prefix,
			CreatedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt,
		}, secret, nil
	}
}

func newTokenSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return TokenPrefix + hex.EncodeToString(b)
}

// LooksLikeToken reports whether s has the shape of an API token.
func LooksLikeToken(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	_, err := hex.DecodeString(s[len(TokenPrefix):])
	return err == nil
}

// TokenUser checks an API token on every request and returns it with its
// user: a revoked token, an expired one or one whose user is disabled
// fails at once. Answers are cached only while ListenForChanges hears
// every change (see tokencache.go). Use is recorded at most once per
// TouchEvery.
func (s *Service) TokenUser(ctx context.Context, secret string) (Token, User, error) {
	if !LooksLikeToken(secret) {
		return Token{}, User{}, ErrInvalidToken
	}
	now := s.now()
	key := tokenKey(secret)
	gen := s.tokens.generation()
	if e, ok := s.tokens.get(key, now); ok {
		if e.token.ExpiresAt != nil && !e.token.ExpiresAt.After(now) {
			return Token{}, User{}, ErrInvalidToken
		}
		return s.touchToken(ctx, key, e, now, gen)
	}
	row, err := s.q.GetLiveAPIToken(ctx, db.GetLiveAPITokenParams{TokenHash: key[:], Now: now})
	if err != nil {
		if errors.Is(db.Translate(err), db.ErrNotFound) {
			return Token{}, User{}, ErrInvalidToken
		}
		return Token{}, User{}, err
	}
	e := tokenEntry{token: Token{
		ID: row.ID, UserID: row.UserID, UserEmail: row.User.Email, Name: row.Name, Prefix: row.Prefix,
		CreatedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt, LastUsedAt: row.LastUsedAt,
		RateLimits: rateLimitsFrom(row.RateLimits),
	}, user: toUser(row.User), fetched: now}
	s.tokens.put(key, e, gen)
	return s.touchToken(ctx, key, e, now, gen)
}

// touchToken records use of the token at most once per TouchEvery.
func (s *Service) touchToken(ctx context.Context, key [32]byte, e tokenEntry, now time.Time, gen uint64) (Token, User, error) {
	if e.token.LastUsedAt == nil || now.Sub(*e.token.LastUsedAt) >= s.touchEvery {
		if err := s.q.TouchAPIToken(ctx, db.TouchAPITokenParams{ID: e.token.ID, Now: now}); err != nil {
			return Token{}, User{}, err
		}
		e.token.LastUsedAt = &now
		s.tokens.put(key, e, gen)
	}
	return e.token, e.user, nil
}

// ListTokens returns every token, newest first, revoked ones included.
func (s *Service) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.q.ListAPITokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Token, len(rows))
	for i, r := range rows {
		out[i] = Token{
			ID: r.ID, UserID: r.UserID, UserEmail: r.UserEmail, Name: r.Name, Prefix: r.Prefix,
			CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt,
			RateLimits: rateLimitsFrom(r.RateLimits),
		}
	}
	return out, nil
}

// RevokeToken stops a token at once. Revoking a revoked token is not an
// error; an unknown id is ErrNotFound.
func (s *Service) RevokeToken(ctx context.Context, id uuid.UUID) error {
	n, err := s.q.RevokeAPIToken(ctx, db.RevokeAPITokenParams{ID: id, Now: s.now()})
	if err != nil {
		return err
	}
	s.tokens.clear()
	if n == 0 {
		exists, err := s.q.APITokenExists(ctx, id)
		if err != nil {
			return err
		}
		if !exists {
			return ErrNotFound
		}
	}
	return nil
}

// TokenIDByPrefix finds a token by its visible prefix (bt_ and 8 hex digits).
func (s *Service) TokenIDByPrefix(ctx context.Context, prefix string) (uuid.UUID, error) {
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	if !prefixPattern.MatchString(prefix) {
		return uuid.Nil, &ValidationError{Field: "prefix", Message: "must be bt_ and 8 hex digits, such as bt_1a2b3c4d"}
	}
	id, err := s.q.GetAPITokenByPrefix(ctx, prefix)
	if err != nil {
		return uuid.Nil, notFound(err)
	}
	return id, nil
}

// SetTokenRateLimits replaces a token's own rate limits (policy name ->
// "N/DURATION"; empty: the defaults again). The caller has checked them.
func (s *Service) SetTokenRateLimits(ctx context.Context, id uuid.UUID, limits map[string]string) error {
	if limits == nil {
		limits = map[string]string{}
	}
	b, err := json.Marshal(limits)
	if err != nil {
		return err
	}
	n, err := s.q.SetAPITokenRateLimits(ctx, db.SetAPITokenRateLimitsParams{ID: id, RateLimits: b})
	if err != nil {
		return err
	}
	s.tokens.clear()
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

func rateLimitsFrom(raw json.RawMessage) map[string]string {
	var m map[string]string
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m)
	}
	return m
}
