package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"batchtrack/auth"
	"batchtrack/db"
	"batchtrack/db/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// near compares times as PostgreSQL stores them (microseconds).
func near(a, b time.Time) bool { return a.Sub(b).Abs() < time.Millisecond }

var cheap = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func newService(t *testing.T) (*auth.Service, *clock) {
	t.Helper()
	clk := &clock{now: time.Now()}
	p := cheap
	return auth.New(db.New(pgtest.New(t)), auth.Options{Now: clk.Now, Argon2: &p, IdleTimeout: 2 * time.Hour, MaxAge: 12 * time.Hour}), clk
}

func mustUser(t *testing.T, s *auth.Service, email string, role auth.Role) auth.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), auth.NewUser{Email: email, Role: role, Password: "long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPasswordHash(t *testing.T) {
	hash, err := auth.HashPassword("correct horse battery", auth.DefaultArgon2Params())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with the default parameters", hash)
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery", true},
		{"correct horse batterz", false},
		{"", false},
	} {
		got, err := auth.VerifyPassword(tc.password, hash)
		if err != nil || got != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.password, got, err, tc.want)
		}
	}
	again, _ := auth.HashPassword("correct horse battery", auth.DefaultArgon2Params())
	if again == hash {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "plain"} {
		if ok, err := auth.VerifyPassword("x", bad); ok || err == nil {
			t.Errorf("VerifyPassword against %q = %v, %v; want an error", bad, ok, err)
		}
	}
}

func TestRoleAllows(t *testing.T) {
	roles := append(auth.Roles(), auth.Role("root"))
	got := map[string]bool{}
	for _, have := range roles {
		for _, need := range auth.Roles() {
			got[string(have)+">="+string(need)] = have.Allows(need)
		}
	}
	want := map[string]bool{
		"viewer>=viewer": true, "viewer>=operator": false, "viewer>=admin": false,
		"operator>=viewer": true, "operator>=operator": true, "operator>=admin": false,
		"admin>=viewer": true, "admin>=operator": true, "admin>=admin": true,
		"root>=viewer": false, "root>=operator": false, "root>=admin": false,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Allows (-want +got):\n%s", d)
	}
}

func TestCreateUserValidation(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	mustUser(t, s, "Ana@Example.com", auth.RoleOperator)
	for _, tc := range []struct {
		name  string
		in    auth.NewUser
		field string
		err   error
	}{
		{"email taken in another case", auth.NewUser{Email: "ANA@example.COM", Role: auth.RoleViewer, Password: "long enough password"}, "", auth.ErrEmailTaken},
		{"not an email", auth.NewUser{Email: "ana", Role: auth.RoleViewer, Password: "long enough password"}, "email", nil},
		{"display name in email", auth.NewUser{Email: "Ana <ana2@example.com>", Role: auth.RoleViewer, Password: "long enough password"}, "email", nil},
		{"unknown role", auth.NewUser{Email: "bo@example.com", Role: "root", Password: "long enough password"}, "role", nil},
		{"short password", auth.NewUser{Email: "bo@example.com", Role: auth.RoleViewer, Password: "elevenchars"}, "password", nil},
		{"long name", auth.NewUser{Email: "bo@example.com", DisplayName: strings.Repeat("n", 201), Role: auth.RoleViewer, Password: "long enough password"}, "display_name", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateUser(ctx, tc.in)
			var ve *auth.ValidationError
			switch {
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Errorf("err = %v, want %v", err, tc.err)
			case tc.field != "" && (!errors.As(err, &ve) || ve.Field != tc.field):
				t.Errorf("err = %v, want a validation error on %s", err, tc.field)
			}
		})
	}
	u, err := s.UserByEmail(ctx, "ANA@EXAMPLE.COM")
	if err != nil || u.Email != "ana@example.com" {
		t.Errorf("UserByEmail in another case = %+v, %v", u, err)
	}
}

func TestAuthenticate(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	u := mustUser(t, s, "ana@example.com", auth.RoleViewer)
	disabled := mustUser(t, s, "off@example.com", auth.RoleViewer)
	yes := true
	if _, err := s.UpdateUser(ctx, disabled.ID, auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Authenticate(ctx, " ANA@example.com ", "long enough password")
	if err != nil || got.ID != u.ID || got.LastLoginAt == nil {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for _, tc := range []struct{ email, password string }{
		{"ana@example.com", "wrong password here"},
		{"nobody@example.com", "long enough password"},
		{"off@example.com", "long enough password"},
		{"ana@example.com", strings.Repeat("x", auth.MaxPasswordLen+1)},
	} {
		if _, err := s.Authenticate(ctx, tc.email, tc.password); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("Authenticate(%s, ...) = %v, want ErrInvalidCredentials", tc.email, err)
		}
	}
}

func TestSessionTimeouts(t *testing.T) {
	ctx := context.Background()
	t.Run("idle", func(t *testing.T) {
		s, clk := newService(t)
		sess, err := s.StartSession(ctx, mustUser(t, s, "ana@example.com", auth.RoleViewer), auth.ClientInfo{})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(2*time.Hour - time.Minute)
		if _, err := s.Session(ctx, sess.Token); err != nil {
			t.Fatalf("session used within the idle timeout: %v", err)
		}
		clk.Advance(2*time.Hour - time.Minute)
		if _, err := s.Session(ctx, sess.Token); err != nil {
			t.Fatalf("use moved the idle deadline, want it alive: %v", err)
		}
		clk.Advance(2*time.Hour + time.Second)
		if _, err := s.Session(ctx, sess.Token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("after 2h idle: %v, want ErrNoSession", err)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		s, clk := newService(t)
		sess, err := s.StartSession(ctx, mustUser(t, s, "ana@example.com", auth.RoleViewer), auth.ClientInfo{})
		if err != nil {
			t.Fatal(err)
		}
		for range 11 {
			clk.Advance(time.Hour)
			if _, err := s.Session(ctx, sess.Token); err != nil {
				t.Fatalf("busy session within 12h: %v", err)
			}
		}
		clk.Advance(time.Hour)
		if _, err := s.Session(ctx, sess.Token); !errors.Is(err, auth.ErrNoSession) {
			t.Fatalf("busy session after 12h: %v, want ErrNoSession", err)
		}
		if n, err := s.DeleteDeadSessions(ctx); err != nil || n != 1 {
			t.Errorf("DeleteDeadSessions = %d, %v; want 1", n, err)
		}
	})
	t.Run("last seen is written at most once a minute", func(t *testing.T) {
		s, clk := newService(t)
		sess, err := s.StartSession(ctx, mustUser(t, s, "ana@example.com", auth.RoleViewer), auth.ClientInfo{})
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(30 * time.Second)
		got, _ := s.Session(ctx, sess.Token)
		if !near(got.LastSeenAt, sess.LastSeenAt) {
			t.Errorf("last seen moved after 30s: %v -> %v", sess.LastSeenAt, got.LastSeenAt)
		}
		clk.Advance(31 * time.Second)
		got, _ = s.Session(ctx, sess.Token)
		if !near(got.LastSeenAt, clk.Now()) {
			t.Errorf("last seen after 61s = %v, want %v", got.LastSeenAt, clk.Now())
		}
	})
}

func TestSessionsAreStoredHashed(t *testing.T) {
	pool := pgtest.New(t)
	p := cheap
	s := auth.New(db.New(pool), auth.Options{Argon2: &p})
	ctx := context.Background()
	sess, err := s.StartSession(ctx, mustUser(t, s, "ana@example.com", auth.RoleViewer), auth.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE encode(id_hash, 'escape') LIKE '%' || $1 || '%' OR encode(id_hash, 'hex') = $1", sess.Token).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("the session token is stored in the clear")
	}
	u, _ := s.UserByEmail(ctx, "ana@example.com")
	_, secret, err := s.CreateToken(ctx, auth.NewToken{UserID: u.ID, Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM api_tokens WHERE encode(token_hash, 'hex') = $1 OR prefix = $1", secret).Scan(&n); err != nil || n != 0 {
		t.Errorf("token stored in the clear (n=%d, %v)", n, err)
	}
}

func TestTokens(t *testing.T) {
	s, clk := newService(t)
	ctx := context.Background()
	u := mustUser(t, s, "ana@example.com", auth.RoleOperator)
	in := clk.Now().Add(time.Hour)
	tok, secret, err := s.CreateToken(ctx, auth.NewToken{UserID: u.ID, Name: "nightly import", ExpiresAt: &in})
	if err != nil {
		t.Fatal(err)
	}
	if !auth.LooksLikeToken(secret) || !strings.HasPrefix(secret, tok.Prefix) || len(tok.Prefix) != 11 {
		t.Fatalf("secret %q, prefix %q", secret, tok.Prefix)
	}
	got, user, err := s.TokenUser(ctx, secret)
	if err != nil || got.ID != tok.ID || user.ID != u.ID || user.Role != auth.RoleOperator || got.LastUsedAt == nil {
		t.Fatalf("TokenUser = %+v, %+v, %v", got, user, err)
	}
	if _, _, err := s.TokenUser(ctx, secret[:len(secret)-1]+"0"); !errors.Is(err, auth.ErrInvalidToken) && secret[len(secret)-1] != '0' {
		t.Errorf("altered token: %v", err)
	}
	id, err := s.TokenIDByPrefix(ctx, strings.ToUpper(tok.Prefix[3:]) /* wrong shape */)
	if err == nil {
		t.Errorf("TokenIDByPrefix without bt_ = %v, want an error", id)
	}
	if id, err := s.TokenIDByPrefix(ctx, tok.Prefix); err != nil || id != tok.ID {
		t.Errorf("TokenIDByPrefix = %v, %v", id, err)
	}

	clk.Advance(time.Hour)
	if _, _, err := s.TokenUser(ctx, secret); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("expired token: %v, want ErrInvalidToken", err)
	}

	_, secret2, err := s.CreateToken(ctx, auth.NewToken{UserID: u.ID, Name: "no expiry"})
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	if _, err := s.UpdateUser(ctx, u.ID, auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenUser(ctx, secret2); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("token of a disabled user: %v, want ErrInvalidToken", err)
	}
	if _, err := s.UpdateUser(ctx, u.ID, auth.UserUpdate{Disabled: &no}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenUser(ctx, secret2); err != nil {
		t.Errorf("token of a re-enabled user: %v", err)
	}
	list, _ := s.ListTokens(ctx)
	for _, l := range list {
		if err := s.RevokeToken(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.TokenUser(ctx, secret2); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("revoked token: %v, want ErrInvalidToken", err)
	}
	if err := s.RevokeToken(ctx, list[0].ID); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if err := s.RevokeToken(ctx, u.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("revoking an unknown id: %v, want ErrNotFound", err)
	}
}

func TestDisableAndPasswordEndSessions(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	u := mustUser(t, s, "ana@example.com", auth.RoleViewer)
	s1, _ := s.StartSession(ctx, u, auth.ClientInfo{})
	if err := s.SetPassword(ctx, u.ID, "another long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, s1.Token); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("session after a password change: %v", err)
	}
	if _, err := s.Authenticate(ctx, u.Email, "another long password"); err != nil {
		t.Errorf("new password: %v", err)
	}
	s2, _ := s.StartSession(ctx, u, auth.ClientInfo{})
	yes := true
	if _, err := s.UpdateUser(ctx, u.ID, auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, s2.Token); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("session of a disabled user: %v", err)
	}
}

// While the listener runs, token checks are cached; a change made by
// anyone else (here: plain SQL, as another instance or the CLI would)
// reaches the cache through the database's notification, and a change
// through the Service empties it at once.
func TestTokenCacheFollowsChanges(t *testing.T) {
	url, pool := pgtest.NewDatabase(t, pgtest.Options{})
	s := auth.New(db.New(pool), auth.Options{Argon2: &cheap})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.ListenForChanges(ctx, func(ctx context.Context) (*pgx.Conn, error) { return pgx.Connect(ctx, url) }, slog.Default())
	waitUntil(t, s.TokenCacheOn)

	u, err := s.CreateUser(ctx, auth.NewUser{Email: "cache@example.com", Role: auth.RoleOperator, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := s.CreateToken(ctx, auth.NewToken{UserID: u.ID, Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenUser(ctx, secret); err != nil {
		t.Fatal(err)
	}
	// Cached: the database is not asked again (a direct revoke would
	// otherwise show at once without any notification).
	if _, err := pool.Exec(ctx, "ALTER TABLE api_tokens DISABLE TRIGGER api_tokens_changed"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "UPDATE api_tokens SET revoked_at = now() WHERE id = $1", tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenUser(ctx, secret); err != nil {
		t.Fatalf("cached token refused without a notification: %v", err)
	}
	if _, err := pool.Exec(ctx, "UPDATE api_tokens SET revoked_at = NULL WHERE id = $1", tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ALTER TABLE api_tokens ENABLE TRIGGER api_tokens_changed"); err != nil {
		t.Fatal(err)
	}
	// A revoke by someone else: the notification empties the cache.
	if _, err := pool.Exec(ctx, "UPDATE api_tokens SET revoked_at = now() WHERE id = $1", tok.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { _, _, err := s.TokenUser(ctx, secret); return errors.Is(err, auth.ErrInvalidToken) })

	// A user disabled through the Service: refused on the very next check.
	_, secret2, err := s.CreateToken(ctx, auth.NewToken{UserID: u.ID, Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenUser(ctx, secret2); err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := s.UpdateUser(ctx, u.ID, auth.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.TokenUser(ctx, secret2); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("token of a disabled user: %v", err)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
