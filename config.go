package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
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
	LogLevel      slog.Level    // LOG_LEVEL
	LogFormat     string        // LOG_FORMAT: text or json
	Seed          bool          // SEED: demo data on first start with an empty database
	ShutdownGrace time.Duration // SHUTDOWN_GRACE
	InstanceName  string        // INSTANCE_NAME
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
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"LOG_FORMAT", "text", "text or json"},
	{"SEED", "true", "fill an empty database with demo data on start"},
	{"SHUTDOWN_GRACE", "10s", "time in-flight requests get on SIGINT/SIGTERM"},
	{"INSTANCE_NAME", "hostname:port", "this instance's name on the dashboard"},
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
	if c.LockTimeout, err = time.ParseDuration(get("LOCK_TIMEOUT")); err != nil || c.LockTimeout < time.Millisecond || c.LockTimeout > time.Minute {
		bad("LOCK_TIMEOUT", "must be a duration from 1ms to 1m, such as 2s or 500ms")
	}
	if c.ShutdownGrace, err = time.ParseDuration(get("SHUTDOWN_GRACE")); err != nil || c.ShutdownGrace <= 0 {
		bad("SHUTDOWN_GRACE", "must be a positive duration such as 10s")
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL"))); err != nil {
		bad("LOG_LEVEL", "must be debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "must be text or json")
	}
	c.InstanceName = getenv("INSTANCE_NAME")
	return c, errors.Join(errs...)
}
