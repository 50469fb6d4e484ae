// Command batchtrack is the batch and traceability admin app: the web UI,
// the JSON API, and the commands that run them.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"batchtrack/db"
	"batchtrack/db/embedded"
	"batchtrack/idempotency"
	"batchtrack/inventory"
	"batchtrack/loadtest"
	"batchtrack/periodic"
	"batchtrack/seed"
	"batchtrack/web"
	"batchtrack/web/metrics"
	"batchtrack/web/ratelimit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tuneRuntime(os.Getenv)
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		var code exitCode
		if errors.As(err, &code) {
			os.Exit(int(code))
		}
		fmt.Fprintln(os.Stderr, "batchtrack:", err)
		os.Exit(1)
	}
}

// exitCode ends the program with a status and no message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

const usage = `usage: batchtrack [command]

commands:
  serve      start the web app and API (default)
  migrate    apply database migrations and exit
  seed       fill the database with demo data (--scale N: a benchmark data set)
  user       manage staff accounts (batchtrack user -h)
  token      manage API tokens (batchtrack token -h)
  reset-data delete the private PostgreSQL cluster and all its data (asks first; --yes skips)
  loadtest   load-test a running instance (batchtrack loadtest -h)

migrate, seed, user and token use the private cluster a running serve has
started, or start it themselves.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "loadtest" {
		if code := loadtest.Main(ctx, args, stdout, stderr); code != 0 {
			return exitCode(code)
		}
		return nil
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := newLogger(cfg, stderr)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, logger, stdout)
	case "reset-data":
		return resetData(args, cfg, stdin, stdout, stderr)
	case "migrate":
		return withDatabase(ctx, cfg, logger, shareCluster, func(pool *pgxpool.Pool) error {
			return db.Migrate(ctx, pool, logger)
		})
	case "seed":
		fs := flag.NewFlagSet("seed", flag.ContinueOnError)
		fs.SetOutput(stderr)
		scale := fs.Float64("scale", 0, "instead of the demo, a synthetic supply chain of N × (100,000 lots, 1,000,000 events); N may be a fraction")
		if err := fs.Parse(args); err != nil {
			return err
		}
		return withDatabase(ctx, cfg, logger, shareCluster, func(pool *pgxpool.Pool) error {
			if err := db.Migrate(ctx, pool, logger); err != nil {
				return err
			}
			if *scale != 0 {
				return seedScale(ctx, pool, *scale, stdout)
			}
			svc := inventory.New(db.NewStore(pool), inventory.Options{LockTimeout: cfg.LockTimeout, Logger: logger, AllowPending: cfg.AllowPending})
			n, err := seed.Run(ctx, svc, seed.Options{Progress: stdout})
			if err == nil {
				fmt.Fprintf(stdout, "seeded %d batches\n", n)
			}
			return err
		})
	case "user", "token":
		return withDatabase(ctx, cfg, logger, shareCluster, func(pool *pgxpool.Pool) error {
			if err := db.Migrate(ctx, pool, logger); err != nil {
				return err
			}
			if cmd == "user" {
				return runUserCommand(ctx, args, newAccounts(pool, cfg), stdin, stdout, stderr)
			}
			return runTokenCommand(ctx, args, newAccounts(pool, cfg), stdout, stderr)
		})
	case "cluster-postgres": // not in usage: scripts/cluster.sh runs it
		return runClusterPostgres(ctx, args, logger, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// clusterUse says what withDatabase does when DATABASE_URL is empty and
// another process already runs the private cluster.
type clusterUse bool

const (
	ownCluster   clusterUse = false // refuse: serve owns the cluster it starts
	shareCluster clusterUse = true  // connect to it: the CLI beside a running serve
)

// clusterDir is where the private cluster lives for DATA_DIR (before the
// fallback embedded.Locate may choose).
func clusterDir(cfg Config) (string, error) {
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "postgres"), nil
}

// withDatabase opens the configured database (starting the private
// cluster when DATABASE_URL is empty, or with shareCluster connecting to
// the one a running serve started), runs fn, and closes everything.
func withDatabase(ctx context.Context, cfg Config, logger *slog.Logger, use clusterUse, fn func(*pgxpool.Pool) error) (err error) {
	url := cfg.DatabaseURL
	if url == "" {
		dir, derr := clusterDir(cfg)
		if derr != nil {
			return derr
		}
		open := embedded.Start
		if use == shareCluster {
			open = embedded.StartOrAttach
		}
		cluster, serr := open(ctx, embedded.Options{DataDir: dir, Logger: logger})
		if serr != nil {
			return serr
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			err = errors.Join(err, cluster.Stop(stopCtx))
		}()
		url = cluster.URL()
	}
	pool, err := db.Open(ctx, url, db.PoolOptions{MaxConns: cfg.DBMaxConns, SimpleProtocol: cfg.DBSimpleProto})
	if err != nil {
		return err
	}
	defer pool.Close()
	return fn(pool)
}

// defaultGCPercent is GOGC unless the environment sets it. The server's
// live heap is a few MiB, so Go's default of 100 collects several times a
// second under load, and each cycle's marking takes one of the two cores
// of a small machine for milliseconds, which is where the slowest
// responses came from; 400 collects a quarter as often for tens of MiB.
const defaultGCPercent = 400

// tuneRuntime makes the process-wide settings: here in main, not in run,
// because tests call run many times in one process.
func tuneRuntime(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	// Request ids (and other version 4 UUIDs) from a buffer refilled from
	// crypto/rand, not one getrandom call each.
	uuid.EnableRandPool()
}

func serve(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) error {
	if web.IsLoopbackURL(cfg.PublicURL) {
		logger.Warn("PUBLIC_URL is a loopback address: QR codes and Digital Links point to this machine only and will not resolve on phones or scanners; set PUBLIC_URL to the address other devices reach",
			"public_url", cfg.PublicURL)
	}
	return withDatabase(ctx, cfg, logger, ownCluster, func(pool *pgxpool.Pool) error {
		if err := db.Migrate(ctx, pool, logger); err != nil {
			return err
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		store := db.NewStore(pool)
		shared, err := newSharedState(cfg, reg, logger)
		if err != nil {
			return err
		}
		defer shared.Close()
		svc := inventory.New(store, inventory.Options{
			LockTimeout: cfg.LockTimeout, Metrics: inventory.NewMetrics(reg), Logger: logger,
			Changes: web.Invalidator{Cache: shared.caching.Cache}, AllowPending: cfg.AllowPending,
		})
		if cfg.Seed {
			n, err := seed.IfEmpty(ctx, svc, seed.Options{Progress: stdout})
			if err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			if n > 0 {
				fmt.Fprintf(stdout, "seeded demo data: %d batches\n", n)
			}
		}
		accounts := newAccounts(pool, cfg)
		// What a person needs to log in is printed once the server listens,
		// in a box after the last start-up log line.
		var logins bytes.Buffer
		if err := bootstrapAccounts(ctx, accounts, cfg, &logins, logger); err != nil {
			return err
		}
		// Sessions past their timeouts are refused already; this reclaims the rows.
		go sweepHourly(ctx, logger, "sessions", accounts.DeleteDeadSessions)
		if cfg.TokenCache {
			// A connection of its own, held for good: LISTEN needs a session.
			go accounts.ListenForChanges(ctx, func(ctx context.Context) (*pgx.Conn, error) {
				return pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
			}, logger)
		}
		idem := idempotency.New(store.Queries)
		go sweepHourly(ctx, logger, "idempotency keys", idem.DeleteExpired)

		// Operations: pool statistics on every scrape; every 5s a sample of
		// the registry and of the sessions waiting on locks, for the dashboard.
		reg.MustRegister(metrics.NewPoolCollector(pool))
		recorder, err := metrics.NewRecorder(reg, metrics.RecorderConfig{
			Pool: pool, LockWaiters: store, Cache: shared.caching.Cache, Registerer: reg, Logger: logger,
		})
		if err != nil {
			return err
		}
		go recorder.Run(ctx)

		srv := web.New(web.Deps{
			Inventory: svc, Idempotency: idem, Pool: pool, Logger: logger, PublicURL: cfg.PublicURL,
			LockTimeout: cfg.LockTimeout, Registry: reg, Instance: instanceName(cfg),
			Auth: web.AuthConfig{Service: accounts, CookieSecure: cfg.CookieSecure, LoginLimiter: shared.rateLimits.Limiter,
				LoginPolicies: web.LoginPolicies{Account: cfg.RateLimits[ratelimit.PolicyLoginAccount], IP: cfg.RateLimits[ratelimit.PolicyLoginIP]}},
			RateLimits: shared.rateLimits, TrustedProxies: cfg.TrustedProxies, Caching: shared.caching,
			HTTPMetrics: metrics.NewHTTP(reg), Recorder: recorder, Peers: shared.peerBoard(recorder.Interval()),
		})
		if shared.redis != nil {
			go srv.PublishReadings(ctx)
		}
		if cfg.DebugAddr != "" {
			if err := serveDebug(ctx, cfg.DebugAddr, logger); err != nil {
				return fmt.Errorf("DEBUG_ADDR: %w", err)
			}
		}
		srv.App().Hooks().OnListen(func(fiber.ListenData) error {
			logger.Info("listening", "addr", cfg.Addr, "url", cfg.PublicURL)
			lines := []string{"batchtrack is serving on " + cfg.PublicURL}
			if logins.Len() > 0 {
				lines = append(lines, "")
				lines = append(lines, strings.Split(strings.TrimRight(logins.String(), "\n"), "\n")...)
			}
			printBox(stdout, lines)
			return nil
		})
		err = srv.Listen(ctx, cfg.Addr, cfg.ShutdownDrain, cfg.ShutdownGrace)
		logger.Info("http server stopped")
		return err
	})
}

// sweepHourly deletes what expired, now and then hourly; what names it
// in the log.
func sweepHourly(ctx context.Context, logger *slog.Logger, what string, deleteExpired func(context.Context) (int64, error)) {
	sweep := func(ctx context.Context) {
		if n, err := deleteExpired(ctx); err != nil && ctx.Err() == nil {
			logger.Warn(what+" sweep failed", "err", err)
		} else if n > 0 {
			logger.Info(what+" expired", "deleted", n)
		}
	}
	sweep(ctx)
	periodic.Every(ctx, time.Hour, sweep)
}

func instanceName(cfg Config) string {
	if cfg.InstanceName != "" {
		return cfg.InstanceName
	}
	host, _ := os.Hostname()
	return host + " " + cfg.Addr
}

// printBox frames lines so they stand out from the log lines around them.
func printBox(w io.Writer, lines []string) {
	width := 0
	for _, l := range lines {
		width = max(width, utf8.RuneCountInString(l))
	}
	rule := strings.Repeat("─", width+2)
	var b strings.Builder
	b.WriteString("┌" + rule + "┐\n")
	for _, l := range lines {
		b.WriteString("│ " + l + strings.Repeat(" ", width-utf8.RuneCountInString(l)) + " │\n")
	}
	b.WriteString("└" + rule + "┘\n")
	_, _ = io.WriteString(w, b.String())
}

// seedScale writes the benchmark data set and prints its benchmark lots.
func seedScale(ctx context.Context, pool *pgxpool.Pool, scale float64, stdout io.Writer) error {
	start := time.Now()
	res, err := seed.RunScale(ctx, pool, seed.ScaleOptions{Scale: scale, Progress: stdout})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded scale %g: %d lot rows, %d events, %d ledger rows in %s\n", scale, res.Batches, res.Events,
		res.Ledger, time.Since(start).Round(time.Second))
	fmt.Fprintf(stdout, "deep root:    gtin %s lot %s batch %s (downstream depth %d)\n", res.Deep.GTIN, res.Deep.Lot, res.Deep.BatchID, seed.DeepLevels)
	fmt.Fprintf(stdout, "fan-out:      gtin %s lot %s batch %s (%d shipments to %d customers)\n", res.Fan.GTIN, res.Fan.Lot, res.Fan.BatchID,
		res.FanShipments, res.Customers)
	fmt.Fprintf(stdout, "fsma product: gtin %s product %s (a year of CTEs)\n", res.FSMAProduct.GTIN, res.FSMAProductID)
	return nil
}
