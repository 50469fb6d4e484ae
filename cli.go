package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/auth"
	"batchtrack/db"
	"batchtrack/web/ratelimit"
)

const userUsage = `usage: batchtrack user <command> [flags]

commands:
  add --email E --role R [--name N]   create an account (password from stdin, else generated and printed)
  passwd --email E                    set a new password (stdin, else generated and printed); ends its sessions
  role --email E --role R             change an account's role
  disable --email E                   lock an account out at once (sessions and tokens)
  enable --email E                    let a disabled account log in again
  list                                list accounts

roles: viewer (reads everything), operator (also writes), admin (also adjusts, recalls, manages users and tokens)
`

const tokenUsage = `usage: batchtrack token <command> [flags]

commands:
  create --user E --name N [--expires 30d] [--rate-limit consume=1000/1m]
                                             make an API token; prints only the token, once
  revoke --prefix bt_1a2b3c4d | --id ID      stop a token at once
  limit  --prefix P | --id ID --rate-limit read=5000/1m,consume=1000/1m
                                             give a token (a service account) its own API limits;
                                             an empty --rate-limit restores the defaults
  list                                       list tokens (prefixes, never secrets)
`

func newAccounts(pool *pgxpool.Pool, cfg Config) *auth.Service {
	return auth.New(db.New(pool), auth.Options{IdleTimeout: cfg.SessionIdleTimeout, MaxAge: cfg.SessionMaxAge})
}

// runUserCommand is `batchtrack user ...`. Generated passwords go to
// stdout alone (so a script can capture them), messages to stderr.
func runUserCommand(ctx context.Context, args []string, svc *auth.Service, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, args, fs, err := subcommand("user", userUsage, args, stderr)
	if fs == nil {
		return err
	}
	email := fs.String("email", "", "the account's email")
	role := fs.String("role", "", "viewer, operator or admin")
	name := fs.String("name", "", "display name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	needEmail := func() error {
		if *email == "" {
			return fmt.Errorf("user %s: --email is required", cmd)
		}
		return nil
	}
	switch cmd {
	case "add":
		if err := needEmail(); err != nil {
			return err
		}
		r, err := auth.ParseRole(*role)
		if err != nil {
			return fmt.Errorf("user add: --role %w", err)
		}
		password, generated, err := passwordFrom(stdin)
		if err != nil {
			return err
		}
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: *email, DisplayName: *name, Role: r, Password: password})
		if err != nil {
			return fmt.Errorf("user add: %w", err)
		}
		fmt.Fprintf(stderr, "added %s (%s)\n", u.Email, u.Role)
		if generated {
			fmt.Fprintf(stderr, "generated password for %s (shown once):\n", u.Email)
			fmt.Fprintln(stdout, password)
		}
		return nil
	case "passwd":
		if err := needEmail(); err != nil {
			return err
		}
		u, err := svc.UserByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("user passwd: %s: %w", *email, err)
		}
		password, generated, err := passwordFrom(stdin)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(ctx, u.ID, password); err != nil {
			return fmt.Errorf("user passwd: %w", err)
		}
		fmt.Fprintf(stderr, "new password set for %s; its sessions are ended\n", u.Email)
		if generated {
			fmt.Fprintln(stdout, password)
		}
		return nil
	case "role", "disable", "enable":
		if err := needEmail(); err != nil {
			return err
		}
		u, err := svc.UserByEmail(ctx, *email)
		if err != nil {
			return fmt.Errorf("user %s: %s: %w", cmd, *email, err)
		}
		var up auth.UserUpdate
		switch cmd {
		case "role":
			r, err := auth.ParseRole(*role)
			if err != nil {
				return fmt.Errorf("user role: --role %w", err)
			}
			up.Role = &r
		default:
			disabled := cmd == "disable"
			up.Disabled = &disabled
		}
		u, err = svc.UpdateUser(ctx, u.ID, up)
		if err != nil {
			return fmt.Errorf("user %s: %w", cmd, err)
		}
		fmt.Fprintf(stderr, "%s: role %s, disabled %t\n", u.Email, u.Role, u.Disabled)
		return nil
	case "list":
		users, err := svc.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tROLE\tSTATUS\tLAST LOGIN\tNAME")
		for _, u := range users {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Role, status, timeOrDash(u.LastLoginAt), u.DisplayName)
		}
		return tw.Flush()
	}
	fmt.Fprint(stderr, userUsage)
	return fmt.Errorf("user: unknown command %q", cmd)
}

// runTokenCommand is `batchtrack token ...`. `token create` prints the
// token alone on stdout: TOKEN=$(batchtrack token create ...).
func runTokenCommand(ctx context.Context, args []string, svc *auth.Service, stdout, stderr io.Writer) error {
	cmd, args, fs, err := subcommand("token", tokenUsage, args, stderr)
	if fs == nil {
		return err
	}
	user := fs.String("user", "", "email of the user the token acts as")
	name := fs.String("name", "", "what the token is for")
	expires := fs.String("expires", "", "lifetime such as 30d, 12h; empty: no expiry")
	prefix := fs.String("prefix", "", "the token's visible prefix, bt_ and 8 hex digits")
	id := fs.String("id", "", "the token's id")
	limits := fs.String("rate-limit", "", "the token's own API limits, e.g. consume=1000/1m,read=5000/1m (empty: the defaults)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rateLimits, err := ratelimit.ParseTokenRateLimits(*limits)
	if err != nil {
		return fmt.Errorf("token %s: --rate-limit %w", cmd, err)
	}
	// tokenID finds the token named by --prefix or --id.
	tokenID := func() (uuid.UUID, error) {
		switch {
		case *prefix != "":
			found, err := svc.TokenIDByPrefix(ctx, *prefix)
			if err != nil {
				return uuid.Nil, fmt.Errorf("token %s: %s: %w", cmd, *prefix, err)
			}
			return found, nil
		case *id != "":
			parsed, err := uuid.Parse(*id)
			if err != nil {
				return uuid.Nil, fmt.Errorf("token %s: --id: %w", cmd, err)
			}
			return parsed, nil
		}
		return uuid.Nil, fmt.Errorf("token %s: --prefix or --id is required", cmd)
	}
	switch cmd {
	case "create":
		if *user == "" || *name == "" {
			return errors.New("token create: --user and --name are required")
		}
		u, err := svc.UserByEmail(ctx, *user)
		if err != nil {
			return fmt.Errorf("token create: %s: %w", *user, err)
		}
		var exp *time.Time
		if *expires != "" {
			d, err := parseLifetime(*expires)
			if err != nil {
				return fmt.Errorf("token create: --expires: %w", err)
			}
			t := time.Now().Add(d)
			exp = &t
		}
		tok, secret, err := svc.CreateToken(ctx, auth.NewToken{UserID: u.ID, Name: *name, ExpiresAt: exp})
		if err != nil {
			return fmt.Errorf("token create: %w", err)
		}
		if len(rateLimits) > 0 {
			if err := svc.SetTokenRateLimits(ctx, tok.ID, rateLimits); err != nil {
				return fmt.Errorf("token create: %w", err)
			}
		}
		fmt.Fprintf(stderr, "token %s for %s (%s); it is shown once\n", tok.Prefix, u.Email, u.Role)
		fmt.Fprintln(stdout, secret)
		return nil
	case "revoke":
		tokenID, err := tokenID()
		if err != nil {
			return err
		}
		if err := svc.RevokeToken(ctx, tokenID); err != nil {
			return fmt.Errorf("token revoke: %w", err)
		}
		fmt.Fprintf(stderr, "revoked token %s\n", tokenID)
		return nil
	case "limit":
		tokenID, err := tokenID()
		if err != nil {
			return err
		}
		if err := svc.SetTokenRateLimits(ctx, tokenID, rateLimits); err != nil {
			return fmt.Errorf("token limit: %w", err)
		}
		fmt.Fprintf(stderr, "token %s now has rate limits %v (empty: the defaults)\n", tokenID, rateLimits)
		return nil
	case "list":
		tokens, err := svc.ListTokens(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PREFIX\tUSER\tNAME\tSTATUS\tEXPIRES\tLAST USED\tRATE LIMITS\tID")
		for _, t := range tokens {
			status := "active"
			if t.RevokedAt != nil {
				status = "revoked"
			} else if !t.Active(now) {
				status = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Prefix, t.UserEmail, t.Name, status,
				timeOrDash(t.ExpiresAt), timeOrDash(t.LastUsedAt), orDash(ratelimit.FormatTokenRateLimits(t.RateLimits)), t.ID)
		}
		return tw.Flush()
	}
	fmt.Fprint(stderr, tokenUsage)
	return fmt.Errorf("token: unknown command %q", cmd)
}

// passwordFrom reads a password from the first line of stdin when it is
// piped; from a terminal or an empty stdin, it generates one.
func passwordFrom(stdin io.Reader) (password string, generated bool, err error) {
	if stdin == nil {
		return auth.GeneratePassword(), true, nil
	}
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return auth.GeneratePassword(), true, nil
		}
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return auth.GeneratePassword(), true, nil
	}
	return line, false, nil
}

// parseLifetime reads 30d, 12h, 90m (Go durations plus days).
func parseLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 3660 {
			return 0, fmt.Errorf("%q: days must be a whole number from 1 to 3660", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a lifetime such as 30d or 12h", s)
		}
	}
	if d < time.Minute {
		return 0, fmt.Errorf("%q: must be at least 1m", s)
	}
	return d, nil
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// demoAccounts are made on first start with SEED and no users, each with a
// generated password printed once.
var demoAccounts = []struct {
	email, name string
	role        auth.Role
}{
	{"admin@example.com", "Demo admin", auth.RoleAdmin},
	{"operator@example.com", "Demo operator", auth.RoleOperator},
	{"viewer@example.com", "Demo viewer", auth.RoleViewer},
}

// bootstrapAccounts makes sure someone can log in: with no users at all,
// ADMIN_EMAIL/ADMIN_PASSWORD become the first admin, else (with SEED) the
// demo accounts are created and their logins printed, once. Later starts
// only remind where the demo login came from.
func bootstrapAccounts(ctx context.Context, svc *auth.Service, cfg Config, stdout io.Writer, logger *slog.Logger) error {
	n, err := svc.CountUsers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		if cfg.Seed {
			if _, err := svc.UserByEmail(ctx, demoAccounts[0].email); err == nil {
				fmt.Fprintf(stdout, "demo login: %s with the password printed at first start\n"+
					"forgot it? run: batchtrack user passwd --email %s\n", demoAccounts[0].email, demoAccounts[0].email)
			}
		}
		return nil
	}
	if cfg.AdminEmail != "" {
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: cfg.AdminEmail, DisplayName: "Admin", Role: auth.RoleAdmin, Password: cfg.AdminPassword})
		if errors.Is(err, auth.ErrEmailTaken) {
			return nil // another instance was first
		}
		if err != nil {
			return fmt.Errorf("ADMIN_EMAIL: %w", err)
		}
		logger.Info("first admin created from ADMIN_EMAIL", "email", u.Email)
		fmt.Fprintf(stdout, "created the first admin %s (from ADMIN_EMAIL)\n", u.Email)
		return nil
	}
	if !cfg.Seed {
		logger.Warn("no users yet: set ADMIN_EMAIL and ADMIN_PASSWORD, or run: batchtrack user add --email E --role admin")
		return nil
	}
	var lines []string
	for _, d := range demoAccounts {
		password := auth.GeneratePassword()
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: d.email, DisplayName: d.name, Role: d.role, Password: password})
		if errors.Is(err, auth.ErrEmailTaken) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("demo accounts: %w", err)
		}
		lines = append(lines, fmt.Sprintf("  %-8s %s / %s", u.Role, u.Email, password))
	}
	fmt.Fprintf(stdout, "demo accounts, shown only now; log in at %s/login as:\n%s\n"+
		"to reset a password: batchtrack user passwd --email admin@example.com\n",
		cfg.PublicURL, strings.Join(lines, "\n"))
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// subcommand splits "user add --email ..." into the command and its flag
// set. Without a command, or asked for help, it prints usage and returns
// a nil flag set (and an error when the command was missing).
func subcommand(group, usage string, args []string, stderr io.Writer) (string, []string, *flag.FlagSet, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return "", nil, nil, errors.New(group + ": missing command")
		}
		return "", nil, nil, nil
	}
	fs := flag.NewFlagSet(group+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	return args[0], args[1:], fs, nil
}
