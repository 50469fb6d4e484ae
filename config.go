package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"batchtrack/auth"
	"batchtrack/web/ratelimit"
)

// Config is read once from the environment at start and validated; a bad
// value stops the program with a sentence naming the variable.
type Config struct {
	Addr          string        // ADDR
	DatabaseURL   string        // DATABASE_URL; empty: private PostgreSQL under DataDir
	DataDir       string        // DATA_DIR
	PublicURL     string        // PUBLIC_URL
	DBMaxConns    int32         // DB_MAX_CONNS
	DBSimpleProto bool          // DB_SIMPLE_PROTOCOL (PgBouncer < 1.21 in transaction mode)
	LockTimeout   time.Duration // LOCK_TIMEOUT
	AllowPending  bool          // RELEASE_REQUIRED=false: pending lots may be used
	LogLevel      slog.Level    // LOG_LEVEL
	LogFormat     string        // LOG_FORMAT: text or json
	Seed          bool          // SEED: demo data on first start with an empty database
	ShutdownGrace time.Duration // SHUTDOWN_GRACE
	ShutdownDrain time.Duration // SHUTDOWN_DRAIN
	InstanceName  string        // INSTANCE_NAME
	DebugAddr     string        // DEBUG_ADDR: Go's profiler (net/http/pprof), loopback only; empty: off

	AdminEmail         string        // ADMIN_EMAIL: first admin, created when there are no users
	AdminPassword      string        // ADMIN_PASSWORD
	SessionIdleTimeout time.Duration // SESSION_IDLE_TIMEOUT
	SessionMaxAge      time.Duration // SESSION_MAX_AGE
	CookieSecure       bool          // COOKIE_SECURE (also on when PUBLIC_URL is https)
	TokenCache         bool          // TOKEN_CACHE: cache API token checks while listening for changes

	RedisURL       string                      // REDIS_URL: shared limiter and cache state
	RateLimits     map[string]ratelimit.Policy // RATE_LIMIT_READ, _EVENTS_WRITE, _BATCHES_WRITE, _MASTER_WRITE, _CONSUME
	RateLimitFail  ratelimit.FailMode          // RATE_LIMIT_FAIL: open or closed while Redis is down
	TrustedProxies []netip.Prefix              // TRUSTED_PROXIES: CIDRs allowed to set X-Forwarded-For

	CacheTTL      time.Duration // CACHE_TTL; 0 turns the read cache off
	CacheMaxBytes int64         // CACHE_MAX_BYTES of the in-process tier
	CacheLocalTTL time.Duration // CACHE_LOCAL_TTL: with Redis, how stale another instance's write may be seen
}

// configVars documents every variable: name, default, meaning. The README
// table is written from the same list.
var configVars = []struct{ name, def, doc string }{
	{"ADDR", "127.0.0.1:3000", "listen address"},
	{"DATABASE_URL", "", "PostgreSQL URL; empty starts a private cluster under DATA_DIR"},
	{"DATA_DIR", ".data", "where the private PostgreSQL keeps its data"},
	{"PUBLIC_URL", "http://{ADDR}", "base of links and GS1 Digital Link URIs"},
	{"DB_MAX_CONNS", "20", "connection pool size"},
	{"DB_SIMPLE_PROTOCOL", "false", "no server-side prepared statements (old PgBouncer in transaction mode)"},
	{"LOCK_TIMEOUT", "2s", "longest wait for a batch row lock before 503"},
	{"RELEASE_REQUIRED", "true", "only released (approved) lots may be consumed, shipped or transformed; false also allows pending lots"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"LOG_FORMAT", "text", "text or json"},
	{"SEED", "true", "fill an empty database with demo data on start"},
	{"SHUTDOWN_GRACE", "10s", "time in-flight requests get on SIGINT/SIGTERM"},
	{"SHUTDOWN_DRAIN", "0s", "on SIGINT/SIGTERM, keep serving this long while /readyz answers 503, so a load balancer stops sending first (e.g. 3s behind HAProxy checking every 1s)"},
	{"INSTANCE_NAME", "hostname:port", "this instance's name on the dashboard"},
	{"DEBUG_ADDR", "", "loopback host:port serving Go's profiler at /debug/pprof/ (e.g. 127.0.0.1:6060); empty: off"},
	{"ADMIN_EMAIL", "", "with ADMIN_PASSWORD: the first admin, created on start when there are no users"},
	{"ADMIN_PASSWORD", "", "the first admin's password (at least 12 characters); never logged"},
	{"SESSION_IDLE_TIMEOUT", "2h", "a browser session unused this long ends"},
	{"SESSION_MAX_AGE", "12h", "a browser session ends this long after login, used or not"},
	{"COOKIE_SECURE", "false", "session cookie only over HTTPS, plus HSTS (on anyway when PUBLIC_URL is https)"},
	{"TOKEN_CACHE", "true", "cache API token checks, emptied by the database's change notifications (LISTEN); false behind PgBouncer in transaction mode (the default with DB_SIMPLE_PROTOCOL=true)"},
	{"REDIS_URL", "", "Redis for state shared by several instances (rate limits, cache); empty keeps it in process"},
	{"RATE_LIMIT_READ", "100/1m", "API reads per caller: N/DURATION or off"},
	{"RATE_LIMIT_EVENTS_WRITE", "30/1m", "POST /api/events per caller"},
	{"RATE_LIMIT_BATCHES_WRITE", "20/1m", "POST /api/batches (and other batch writes) per caller"},
	{"RATE_LIMIT_MASTER_WRITE", "20/1m", "writes to /api/products, /api/locations and /api/parties per caller"},
	{"RATE_LIMIT_CONSUME", "30/1m", "consume requests per caller"},
	{"RATE_LIMIT_LOGIN_ACCOUNT", "10/15m", "login attempts per account name (after 5 a minute, attempts wait)"},
	{"RATE_LIMIT_LOGIN_IP", "30/15m", "login attempts per client address"},
	{"RATE_LIMIT_FAIL", "open", "while Redis is down: open (limit per instance in memory) or closed (refuse)"},
	{"TRUSTED_PROXIES", "", "comma-separated CIDRs whose X-Forwarded-For is believed (e.g. 127.0.0.1/32)"},
	{"CACHE_TTL", "2m", "how long API lists, batch detail and the overview stay cached; 0 turns the cache off"},
	{"CACHE_MAX_BYTES", "67108864", "size bound of the in-process cache tier (64 MiB)"},
	{"CACHE_LOCAL_TTL", "0s", "with REDIS_URL: trust an in-process copy this long (faster hits, other instances' writes seen up to this late); 0 is exact"},
}

func loadConfig(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, cv := range configVars {
			if cv.name == name {
				return cv.def
			}
		}
		return ""
	}
	var errs []error
	bad := func(name, why string) { errs = append(errs, fmt.Errorf("%s: %s", name, why)) }

	c := Config{Addr: get("ADDR"), DatabaseURL: get("DATABASE_URL"), DataDir: get("DATA_DIR"), LogFormat: get("LOG_FORMAT")}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("ADDR", "must be host:port, such as 127.0.0.1:3000")
	}
	c.PublicURL = getenv("PUBLIC_URL")
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PUBLIC_URL", "must be an http(s) URL such as https://trace.example.com")
	}
	if n, err := strconv.Atoi(get("DB_MAX_CONNS")); err != nil || n < 1 || n > 1000 {
		bad("DB_MAX_CONNS", "must be a number from 1 to 1000")
	} else {
		c.DBMaxConns = int32(n)
	}
	var err error
	if c.DBSimpleProto, err = strconv.ParseBool(get("DB_SIMPLE_PROTOCOL")); err != nil {
		bad("DB_SIMPLE_PROTOCOL", "must be true or false")
	}
	if c.Seed, err = strconv.ParseBool(get("SEED")); err != nil {
		bad("SEED", "must be true or false")
	}
	if release, err := strconv.ParseBool(get("RELEASE_REQUIRED")); err != nil {
		bad("RELEASE_REQUIRED", "must be true or false")
	} else {
		c.AllowPending = !release
	}
	if c.LockTimeout, err = time.ParseDuration(get("LOCK_TIMEOUT")); err != nil || c.LockTimeout < time.Millisecond || c.LockTimeout > time.Minute {
		bad("LOCK_TIMEOUT", "must be a duration from 1ms to 1m, such as 2s or 500ms")
	}
	if c.ShutdownGrace, err = time.ParseDuration(get("SHUTDOWN_GRACE")); err != nil || c.ShutdownGrace <= 0 {
		bad("SHUTDOWN_GRACE", "must be a positive duration such as 10s")
	}
	if c.ShutdownDrain, err = time.ParseDuration(get("SHUTDOWN_DRAIN")); err != nil || c.ShutdownDrain < 0 || c.ShutdownDrain > time.Minute {
		bad("SHUTDOWN_DRAIN", "must be a duration from 0 to 1m, such as 3s")
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL"))); err != nil {
		bad("LOG_LEVEL", "must be debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "must be text or json")
	}
	c.InstanceName = getenv("INSTANCE_NAME")
	if c.DebugAddr = get("DEBUG_ADDR"); c.DebugAddr != "" && !isLoopbackAddr(c.DebugAddr) {
		bad("DEBUG_ADDR", "must be a loopback host:port such as 127.0.0.1:6060 (profiles are not for the network)")
	}
	c.AdminEmail, c.AdminPassword = strings.TrimSpace(getenv("ADMIN_EMAIL")), getenv("ADMIN_PASSWORD")
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		bad("ADMIN_EMAIL", "and ADMIN_PASSWORD go together: set both or neither")
	} else if c.AdminPassword != "" && len([]rune(c.AdminPassword)) < auth.MinPasswordLen {
		bad("ADMIN_PASSWORD", fmt.Sprintf("must be at least %d characters", auth.MinPasswordLen))
	}
	if c.SessionIdleTimeout, err = time.ParseDuration(get("SESSION_IDLE_TIMEOUT")); err != nil || c.SessionIdleTimeout < time.Minute {
		bad("SESSION_IDLE_TIMEOUT", "must be a duration of at least 1m, such as 2h or 30m")
	}
	if c.SessionMaxAge, err = time.ParseDuration(get("SESSION_MAX_AGE")); err != nil || c.SessionMaxAge < time.Minute {
		bad("SESSION_MAX_AGE", "must be a duration of at least 1m, such as 12h")
	} else if c.SessionMaxAge < c.SessionIdleTimeout {
		bad("SESSION_MAX_AGE", "must not be shorter than SESSION_IDLE_TIMEOUT")
	}
	if c.CookieSecure, err = strconv.ParseBool(get("COOKIE_SECURE")); err != nil {
		bad("COOKIE_SECURE", "must be true or false")
	}
	if getenv("TOKEN_CACHE") == "" && c.DBSimpleProto {
		// LISTEN needs a session, which PgBouncer in transaction mode
		// does not give: the cache would never hear of a revoked token.
		c.TokenCache = false
	} else if c.TokenCache, err = strconv.ParseBool(get("TOKEN_CACHE")); err != nil {
		bad("TOKEN_CACHE", "must be true or false")
	}
	c.RedisURL = getenv("REDIS_URL")
	if c.RateLimits, err = ratelimit.LoadPolicies(getenv); err != nil {
		errs = append(errs, err)
	}
	if c.RateLimitFail, err = ratelimit.ParseFailMode(get("RATE_LIMIT_FAIL")); err != nil {
		bad("RATE_LIMIT_FAIL", "must be open or closed")
	}
	if c.CacheTTL, err = time.ParseDuration(get("CACHE_TTL")); err != nil || c.CacheTTL < 0 {
		bad("CACHE_TTL", "must be a duration such as 2m, or 0 to turn the cache off")
	}
	if c.CacheMaxBytes, err = strconv.ParseInt(get("CACHE_MAX_BYTES"), 10, 64); err != nil || c.CacheMaxBytes < 1<<20 {
		bad("CACHE_MAX_BYTES", "must be a number of bytes, at least 1048576")
	}
	if c.CacheLocalTTL, err = time.ParseDuration(get("CACHE_LOCAL_TTL")); err != nil || c.CacheLocalTTL < 0 || c.CacheLocalTTL > time.Minute {
		bad("CACHE_LOCAL_TTL", "must be a duration from 0 to 1m")
	}
	if c.TrustedProxies, err = ratelimit.ParseTrustedProxies(get("TRUSTED_PROXIES")); err != nil {
		bad("TRUSTED_PROXIES", "must be comma-separated CIDRs or addresses, such as 10.0.0.0/8,127.0.0.1")
	}
	return c, errors.Join(errs...)
}

// isLoopbackAddr reports whether hostport names a port on this machine only.
func isLoopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
