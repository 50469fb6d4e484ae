// Package auth is batchtrack's accounts domain: staff users and their
// roles, argon2id password hashes, server-side browser sessions and API
// tokens. Secrets (session ids, tokens) are stored only as sha256 hashes.
// It knows the database and nothing of HTTP.
package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
)

// Errors callers tell apart. Unknown accounts, wrong passwords and
// disabled accounts are all ErrInvalidCredentials, so a login reveals
// nothing about which accounts exist.
var (
	ErrInvalidCredentials = errors.New("auth: wrong email or password")
	ErrNoSession          = errors.New("auth: no live session")
	ErrInvalidToken       = errors.New("auth: invalid, expired or revoked token")
	ErrNotFound           = errors.New("auth: not found")
	ErrEmailTaken         = errors.New("auth: a user with this email exists")
)

// ValidationError names the input field that is wrong and why.
type ValidationError struct {
	Field, Message string
}

func (e *ValidationError) Error() string { return e.Field + " " + e.Message }

// Service carries out account operations on the database.
type Service struct {
	q          *db.Queries
	now        func() time.Time
	idle       time.Duration
	maxAge     time.Duration
	touchEvery time.Duration
	argon      Argon2Params

	dummyOnce sync.Once
	dummyHash string

	tokens tokenCache
}

// Options configure a Service; the zero value gives the defaults.
type Options struct {
	// IdleTimeout ends a session not used for this long (default 2h).
	IdleTimeout time.Duration
	// MaxAge ends a session this long after login, used or not (default 12h).
	MaxAge time.Duration
	// TouchEvery bounds how often a session's last_seen_at or a token's
	// last_used_at is written (default 1m): not a write per request.
	TouchEvery time.Duration
	// Argon2 sets the cost of new password hashes (default
	// DefaultArgon2Params; tests pass cheaper ones).
	Argon2 *Argon2Params
	Now    func() time.Time
}

// Default session timeouts.
const (
	DefaultIdleTimeout = 2 * time.Hour
	DefaultMaxAge      = 12 * time.Hour
)

// New returns a Service on q.
func New(q *db.Queries, opts Options) *Service {
	s := &Service{q: q, now: opts.Now, idle: opts.IdleTimeout, maxAge: opts.MaxAge, touchEvery: opts.TouchEvery}
	if s.now == nil {
		s.now = time.Now
	}
	if s.idle <= 0 {
		s.idle = DefaultIdleTimeout
	}
	if s.maxAge <= 0 {
		s.maxAge = DefaultMaxAge
	}
	if s.touchEvery <= 0 {
		s.touchEvery = time.Minute
	}
	if opts.Argon2 != nil {
		s.argon = *opts.Argon2
	} else {
		s.argon = DefaultArgon2Params()
	}
	return s
}

// IdleTimeout and MaxAge are the configured session timeouts.
func (s *Service) IdleTimeout() time.Duration { return s.idle }
func (s *Service) MaxAge() time.Duration      { return s.maxAge }

// User is a staff account. The password hash never leaves the package.
type User struct {
	ID          uuid.UUID
	Email       string
	DisplayName string
	Role        Role
	Disabled    bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt *time.Time
}

// Name is how the user appears in the UI: the display name, else the email.
func (u User) Name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Email
}

func toUser(r db.User) User {
	return User{ID: r.ID, Email: r.Email, DisplayName: r.DisplayName, Role: Role(r.Role), Disabled: r.Disabled,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, LastLoginAt: r.LastLoginAt}
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Email       string
	DisplayName string
	Role        Role
	Password    string
}

// NormalizeEmail is the form emails are stored and looked up in.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func checkEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 || !strings.Contains(email, "@") {
		return &ValidationError{Field: "email", Message: "must be an email address such as ana@example.com"}
	}
	return nil
}

func checkDisplayName(name string) error {
	if len([]rune(name)) > 200 {
		return &ValidationError{Field: "display_name", Message: "must be at most 200 characters"}
	}
	return nil
}

// CreateUser adds an account.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	email := NormalizeEmail(in.Email)
	name := strings.TrimSpace(in.DisplayName)
	if err := checkEmail(email); err != nil {
		return User{}, err
	}
	if err := checkDisplayName(name); err != nil {
		return User{}, err
	}
	if _, err := ParseRole(string(in.Role)); err != nil {
		return User{}, err
	}
	if err := checkPassword(in.Password); err != nil {
		return User{}, err
	}
	hash, err := HashPassword(in.Password, s.argon)
	if err != nil {
		return User{}, err
	}
	row, err := s.q.CreateUser(ctx, db.CreateUserParams{Email: email, DisplayName: name, Role: string(in.Role), PasswordHash: hash})
	if err = db.Translate(err); errors.Is(err, db.ErrConflict) {
		return User{}, ErrEmailTaken
	} else if err != nil {
		return User{}, err
	}
	return toUser(row), nil
}

// User returns the account with id.
func (s *Service) User(ctx context.Context, id uuid.UUID) (User, error) {
	row, err := s.q.GetUser(ctx, id)
	if err != nil {
		return User{}, notFound(err)
	}
	return toUser(row), nil
}

// UserByEmail returns the account with email (any case).
func (s *Service) UserByEmail(ctx context.Context, email string) (User, error) {
	row, err := s.q.GetUserByEmail(ctx, NormalizeEmail(email))
	if err != nil {
		return User{}, notFound(err)
	}
	return toUser(row), nil
}

// ListUsers returns every account, by email.
func (s *Service) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.q.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	users := make([]User, len(rows))
	for i, r := range rows {
		users[i] = toUser(r)
	}
	return users, nil
}

// CountUsers is the number of accounts, for the first-start bootstrap.
func (s *Service) CountUsers(ctx context.Context) (int64, error) { return s.q.CountUsers(ctx) }

// UserUpdate changes the fields that are set.
type UserUpdate struct {
	DisplayName *string
	Role        *Role
	Disabled    *bool
}

// UpdateUser changes an account. Disabling it ends its sessions at once;
// its tokens stop working because every check joins the user.
func (s *Service) UpdateUser(ctx context.Context, id uuid.UUID, u UserUpdate) (User, error) {
	cur, err := s.q.GetUser(ctx, id)
	if err != nil {
		return User{}, notFound(err)
	}
	p := db.UpdateUserProfileParams{ID: id, DisplayName: cur.DisplayName, Role: cur.Role, Disabled: cur.Disabled}
	if u.DisplayName != nil {
		p.DisplayName = strings.TrimSpace(*u.DisplayName)
		if err := checkDisplayName(p.DisplayName); err != nil {
			return User{}, err
		}
	}
	if u.Role != nil {
		if _, err := ParseRole(string(*u.Role)); err != nil {
			return User{}, err
		}
		p.Role = string(*u.Role)
	}
	if u.Disabled != nil {
		p.Disabled = *u.Disabled
	}
	row, err := s.q.UpdateUserProfile(ctx, p)
	if err != nil {
		return User{}, notFound(err)
	}
	s.tokens.clear()
	if row.Disabled && !cur.Disabled {
		if _, err := s.q.DeleteUserSessions(ctx, id); err != nil {
			return User{}, err
		}
	}
	return toUser(row), nil
}

// SetPassword replaces a user's password and ends the user's sessions, so
// a reset locks out whoever knew the old one.
func (s *Service) SetPassword(ctx context.Context, id uuid.UUID, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := HashPassword(password, s.argon)
	if err != nil {
		return err
	}
	n, err := s.q.SetUserPassword(ctx, db.SetUserPasswordParams{ID: id, PasswordHash: hash})
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	_, err = s.q.DeleteUserSessions(ctx, id)
	return err
}

// Authenticate checks an email and password. Every failure is
// ErrInvalidCredentials and costs one argon2id hash, whether the account
// exists or not, so neither the answer nor its timing tells them apart.
func (s *Service) Authenticate(ctx context.Context, email, password string) (User, error) {
	if len(password) > MaxPasswordLen {
		return User{}, ErrInvalidCredentials
	}
	row, err := s.q.GetUserByEmail(ctx, NormalizeEmail(email))
	if err != nil && !errors.Is(db.Translate(err), db.ErrNotFound) {
		return User{}, err
	}
	hash := row.PasswordHash
	if err != nil {
		hash = s.dummy()
	}
	ok, verr := VerifyPassword(password, hash)
	if err != nil || verr != nil || !ok || row.Disabled {
		return User{}, ErrInvalidCredentials
	}
	now := s.now()
	if err := s.q.RecordUserLogin(ctx, db.RecordUserLoginParams{ID: row.ID, At: now}); err != nil {
		return User{}, err
	}
	u := toUser(row)
	u.LastLoginAt = &now
	return u, nil
}

// dummy is a hash of a random password with the current parameters, to
// verify against for unknown accounts.
func (s *Service) dummy() string {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = HashPassword(GeneratePassword(), s.argon)
	})
	return s.dummyHash
}

func notFound(err error) error {
	if errors.Is(db.Translate(err), db.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

func sha(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
