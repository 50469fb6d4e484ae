package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"batchtrack/auth"
	"batchtrack/db"
	"batchtrack/db/pgtest"
	"batchtrack/idempotency"
	"batchtrack/inventory"
	"batchtrack/web"
)

func TestUserAndTokenCommands(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	cheap := auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	svc := auth.New(db.New(pool), auth.Options{Argon2: &cheap})
	run := func(t *testing.T, stdin string, args ...string) (string, string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		var err error
		if args[0] == "user" {
			err = runUserCommand(ctx, args[1:], svc, strings.NewReader(stdin), &out, &errOut)
		} else {
			err = runTokenCommand(ctx, args[1:], svc, &out, &errOut)
		}
		return out.String(), errOut.String(), err
	}

	// Piped password: nothing on stdout.
	out, _, err := run(t, "piped password 123\n", "user", "add", "--email", "Ana@Example.com", "--role", "operator", "--name", "Ana")
	if err != nil || out != "" {
		t.Fatalf("user add with a piped password: %q, %v", out, err)
	}
	if _, err := svc.Authenticate(ctx, "ana@example.com", "piped password 123"); err != nil {
		t.Errorf("the piped password does not log in: %v", err)
	}
	// No stdin: a generated password, alone on stdout.
	out, _, err = run(t, "", "user", "add", "--email", "root@example.com", "--role", "admin")
	generated := strings.TrimSpace(out)
	if err != nil || len(generated) < auth.MinPasswordLen || strings.Contains(generated, " ") {
		t.Fatalf("user add with a generated password: %q, %v", out, err)
	}
	if _, err := svc.Authenticate(ctx, "root@example.com", generated); err != nil {
		t.Errorf("the printed password does not log in: %v", err)
	}
	for _, bad := range [][]string{
		{"user", "add", "--email", "x@example.com", "--role", "root"},
		{"user", "add", "--email", "ana@example.com", "--role", "viewer"},
		{"user", "add", "--role", "viewer"},
		{"user", "frobnicate"},
	} {
		if _, _, err := run(t, "long enough password", bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	if _, _, err := run(t, "short", "user", "passwd", "--email", "ana@example.com"); err == nil {
		t.Error("passwd accepted a short password")
	}
	out, _, err = run(t, "", "user", "passwd", "--email", "ana@example.com")
	if _, aerr := svc.Authenticate(ctx, "ana@example.com", strings.TrimSpace(out)); err != nil || aerr != nil {
		t.Errorf("passwd with a generated password: %v, %v", err, aerr)
	}
	out, _, err = run(t, "", "user", "list")
	if err != nil || !strings.Contains(out, "ana@example.com") || !strings.Contains(out, "operator") || strings.Contains(out, "argon2") {
		t.Errorf("user list: %q, %v", out, err)
	}

	out, _, err = run(t, "", "token", "create", "--user", "ana@example.com", "--name", "nightly", "--expires", "30d")
	token := strings.TrimSuffix(out, "\n")
	if err != nil || !auth.LooksLikeToken(token) || strings.Count(out, "\n") != 1 {
		t.Fatalf("token create printed %q, %v; want only the token", out, err)
	}

	// The printed token works as a bearer token against the app, with the
	// user's role.
	store := db.NewStore(pool)
	srv := web.New(web.Deps{
		Inventory: inventory.New(store, inventory.Options{}), Idempotency: idempotency.New(store.Queries), Pool: pool,
		PublicURL: "http://batchtrack.test", Auth: web.AuthConfig{Service: svc},
	})
	call := func(method, path, body string) int {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.App().Test(req, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call("GET", "/api/batches", ""); got != 200 {
		t.Errorf("GET with the CLI token: %d", got)
	}
	if got := call("POST", "/api/batches/00000000-0000-0000-0000-000000000000/adjust", `{}`); got != 403 {
		t.Errorf("admin route with an operator's token: %d, want 403", got)
	}

	out, _, err = run(t, "", "token", "list")
	if err != nil || !strings.Contains(out, token[:11]) || strings.Contains(out, token) {
		t.Errorf("token list: %q, %v (want the prefix, never the secret)", out, err)
	}
	if _, _, err := run(t, "", "token", "revoke", "--prefix", token[:11]); err != nil {
		t.Fatal(err)
	}
	if got := call("GET", "/api/batches", ""); got != 401 {
		t.Errorf("GET with the revoked token: %d, want 401", got)
	}
	if _, _, err := run(t, "", "token", "create", "--user", "nobody@example.com", "--name", "x"); err == nil {
		t.Error("token for an unknown user: no error")
	}
	if _, _, err := run(t, "", "token", "create", "--user", "ana@example.com", "--name", "x", "--expires", "soon"); err == nil {
		t.Error("token with a bad --expires: no error")
	}
	if _, _, err := run(t, "", "user", "disable", "--email", "ana@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "ana@example.com", "x"); err == nil {
		t.Error("disabled user still logs in")
	}
}

func TestBootstrapAccounts(t *testing.T) {
	ctx := context.Background()
	cheap := auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	logger := newLogger(Config{}, &bytes.Buffer{})

	t.Run("ADMIN_EMAIL", func(t *testing.T) {
		svc := auth.New(db.New(pgtest.New(t)), auth.Options{Argon2: &cheap})
		cfg := Config{AdminEmail: "boss@example.com", AdminPassword: "bootstrap password", Seed: true}
		var out bytes.Buffer
		if err := bootstrapAccounts(ctx, svc, cfg, &out, logger); err != nil {
			t.Fatal(err)
		}
		u, err := svc.Authenticate(ctx, "boss@example.com", "bootstrap password")
		if err != nil || u.Role != auth.RoleAdmin {
			t.Fatalf("first admin: %+v, %v", u, err)
		}
		if strings.Contains(out.String(), "bootstrap password") {
			t.Error("the ADMIN_PASSWORD was printed")
		}
		if n, _ := svc.CountUsers(ctx); n != 1 {
			t.Errorf("%d users, want only the first admin", n)
		}
	})
	t.Run("demo accounts", func(t *testing.T) {
		svc := auth.New(db.New(pgtest.New(t)), auth.Options{Argon2: &cheap})
		cfg := Config{Seed: true, PublicURL: "http://127.0.0.1:3000"}
		var out bytes.Buffer
		if err := bootstrapAccounts(ctx, svc, cfg, &out, logger); err != nil {
			t.Fatal(err)
		}
		printed := out.String()
		for _, d := range demoAccounts {
			i := strings.Index(printed, d.email+" / ")
			if i < 0 {
				t.Fatalf("no login printed for %s in %q", d.email, printed)
			}
			password := strings.Fields(printed[i+len(d.email)+3:])[0]
			u, err := svc.Authenticate(ctx, d.email, password)
			if err != nil || u.Role != d.role {
				t.Errorf("printed login %s / %s: %+v, %v", d.email, password, u, err)
			}
		}
		// A second start creates nothing and prints no password.
		out.Reset()
		if err := bootstrapAccounts(ctx, svc, cfg, &out, logger); err != nil {
			t.Fatal(err)
		}
		if n, _ := svc.CountUsers(ctx); n != int64(len(demoAccounts)) || !strings.Contains(out.String(), "user passwd") {
			t.Errorf("second start: %d users, printed %q", n, out.String())
		}
	})
}
