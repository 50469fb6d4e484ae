package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigDefaults(t *testing.T) {
	c, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	if c.Addr != "127.0.0.1:3000" || c.PublicURL != "http://127.0.0.1:3000" || c.DBMaxConns != 20 ||
		c.LockTimeout != 2*time.Second || c.CacheTTL != 2*time.Minute || c.DebugAddr != "" || !c.Seed {
		t.Errorf("defaults: %+v", c)
	}
}

// Behind PgBouncer (the simple protocol) LISTEN hears nothing, so the
// token cache is off unless asked for.
func TestTokenCacheFollowsSimpleProtocol(t *testing.T) {
	for _, tc := range []struct {
		simple, cache string
		want          bool
	}{
		{"", "", true},
		{"true", "", false},
		{"true", "true", true},
		{"false", "false", false},
	} {
		env := map[string]string{"DB_SIMPLE_PROTOCOL": tc.simple, "TOKEN_CACHE": tc.cache}
		c, err := loadConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		if c.TokenCache != tc.want {
			t.Errorf("DB_SIMPLE_PROTOCOL=%q TOKEN_CACHE=%q: token cache %v, want %v", tc.simple, tc.cache, c.TokenCache, tc.want)
		}
	}
}

// Every bad value is refused with a sentence naming its variable; good
// values next to them pass.
func TestLoadConfigValues(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		ok          bool
	}{
		{"ADDR", "127.0.0.1:8080", true},
		{"ADDR", "3000", false},
		{"PUBLIC_URL", "https://trace.example.com/", true},
		{"PUBLIC_URL", "ftp://x", false},
		{"DB_MAX_CONNS", "0", false},
		{"DB_MAX_CONNS", "many", false},
		{"LOCK_TIMEOUT", "500ms", true},
		{"LOCK_TIMEOUT", "2h", false},
		{"LOG_LEVEL", "loud", false},
		{"LOG_FORMAT", "xml", false},
		{"SEED", "perhaps", false},
		{"SESSION_IDLE_TIMEOUT", "1s", false},
		{"RATE_LIMIT_READ", "off", true},
		{"RATE_LIMIT_READ", "100/1m", true},
		{"RATE_LIMIT_READ", "lots", false},
		{"RATE_LIMIT_MASTER_WRITE", "5/10s", true},
		{"RATE_LIMIT_MASTER_WRITE", "off", true},
		{"RATE_LIMIT_MASTER_WRITE", "5", false},
		{"RATE_LIMIT_FAIL", "ajar", false},
		{"CACHE_TTL", "0", true},
		{"CACHE_TTL", "-1s", false},
		{"CACHE_MAX_BYTES", "10", false},
		{"CACHE_LOCAL_TTL", "1h", false},
		{"TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1", true},
		{"TRUSTED_PROXIES", "everyone", false},
		{"DEBUG_ADDR", "127.0.0.1:6060", true},
		{"DEBUG_ADDR", "[::1]:6060", true},
		{"DEBUG_ADDR", "localhost:6060", true},
		{"DEBUG_ADDR", "0.0.0.0:6060", false},
		{"DEBUG_ADDR", "10.1.2.3:6060", false},
		{"DEBUG_ADDR", ":6060", false},
		{"DEBUG_ADDR", "6060", false},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := loadConfig(func(k string) string {
				if k == tc.name {
					return tc.value
				}
				return ""
			})
			switch {
			case tc.ok && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.ok && err == nil:
				t.Error("accepted")
			case !tc.ok && !strings.Contains(err.Error(), tc.name):
				t.Errorf("error does not name %s: %v", tc.name, err)
			}
		})
	}
}

// The README's configuration table is the configVars list: every variable
// with its default, in order.
func TestReadmeConfigTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `") && strings.Count(line, "|") == 4 {
			rows = append(rows, line)
		}
	}
	for i, cv := range configVars {
		def := " (empty) "
		if cv.def != "" {
			def = " `" + cv.def + "` "
		}
		want := "| `" + cv.name + "` |" + def + "| " + cv.doc + " |"
		if i >= len(rows) || rows[i] != want {
			got := "(missing)"
			if i < len(rows) {
				got = rows[i]
			}
			t.Errorf("README row %d:\n got  %s\n want %s", i, got, want)
		}
	}
}
