package ratelimit

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Policy is a quota: at most Limit requests per caller in any sliding
// window of length Window. An Off policy does not limit at all.
type Policy struct {
	Name   string
	Limit  int
	Window time.Duration
	Off    bool
}

// The policy names the app routes use. Each maps to an environment variable
// RATE_LIMIT_<NAME in upper case>, see EnvVar.
const (
	PolicyRead         = "read"
	PolicyEventsWrite  = "events_write"
	PolicyBatchesWrite = "batches_write"
	PolicyMasterWrite  = "master_write" // products and locations
	PolicyConsume      = "consume"
	// Login throttling: one quota per account name tried, one per client IP.
	// The account quota stops guessing one user's password from many
	// addresses; the wider IP quota stops one address spraying many accounts
	// without locking a whole office out behind one NAT.
	PolicyLoginAccount = "login_account"
	PolicyLoginIP      = "login_ip"
)

// DefaultPolicies returns the contract's defaults (api.md, "Rate limiting")
// plus the login throttles, keyed by policy name.
func DefaultPolicies() map[string]Policy {
	return map[string]Policy{
		PolicyRead:         {Name: PolicyRead, Limit: 100, Window: time.Minute},
		PolicyEventsWrite:  {Name: PolicyEventsWrite, Limit: 30, Window: time.Minute},
		PolicyBatchesWrite: {Name: PolicyBatchesWrite, Limit: 20, Window: time.Minute},
		PolicyMasterWrite:  {Name: PolicyMasterWrite, Limit: 20, Window: time.Minute},
		PolicyConsume:      {Name: PolicyConsume, Limit: 30, Window: time.Minute},
		PolicyLoginAccount: {Name: PolicyLoginAccount, Limit: 10, Window: 15 * time.Minute},
		PolicyLoginIP:      {Name: PolicyLoginIP, Limit: 30, Window: 15 * time.Minute},
	}
}

// EnvVar is the environment variable that overrides the named policy,
// e.g. RATE_LIMIT_EVENTS_WRITE for "events_write".
func EnvVar(policyName string) string {
	return "RATE_LIMIT_" + strings.ToUpper(policyName)
}

// LoadPolicies returns DefaultPolicies with every policy whose environment
// variable (EnvVar) is set replaced by the parsed value. The error names the
// variable.
func LoadPolicies(getenv func(string) string) (map[string]Policy, error) {
	policies := DefaultPolicies()
	for name := range policies {
		v := getenv(EnvVar(name))
		if v == "" {
			continue
		}
		p, err := ParsePolicy(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvVar(name), err)
		}
		p.Name = name
		policies[name] = p
	}
	return policies, nil
}

// maxWindow keeps window arithmetic in milliseconds far from overflow and
// keys' TTLs sane.
const maxWindow = 366 * 24 * time.Hour

// ParsePolicy reads "N/DURATION" (100/1m, 5/10s, 10/500ms; a bare unit
// means one of it: 100/m) or "off". The returned policy has no name.
func ParsePolicy(s string) (Policy, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Policy{Off: true}, nil
	}
	count, window, ok := strings.Cut(s, "/")
	if !ok {
		return Policy{}, fmt.Errorf("rate limit %q is not of the form N/DURATION (like 100/1m) or off", s)
	}
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if err != nil || n < 1 {
		return Policy{}, fmt.Errorf("rate limit %q: the count %q must be a whole number of at least 1 (use off to disable)", s, count)
	}
	window = strings.TrimSpace(window)
	if window != "" && (window[0] < '0' || window[0] > '9') {
		window = "1" + window
	}
	d, err := time.ParseDuration(window)
	if err != nil {
		return Policy{}, fmt.Errorf("rate limit %q: the window %q is not a duration like 1m, 10s or 500ms", s, window)
	}
	if d < time.Millisecond {
		return Policy{}, fmt.Errorf("rate limit %q: the window must be at least 1ms", s)
	}
	if d > maxWindow {
		return Policy{}, fmt.Errorf("rate limit %q: the window must be at most 366 days", s)
	}
	if n > math.MaxInt32 {
		return Policy{}, fmt.Errorf("rate limit %q: the count must be at most %d", s, math.MaxInt32)
	}
	return Policy{Limit: n, Window: d}, nil
}

// String formats p the way ParsePolicy reads it.
func (p Policy) String() string {
	if p.Off {
		return "off"
	}
	return strconv.Itoa(p.Limit) + "/" + p.Window.String()
}

// validate reports a policy a store cannot enforce.
func (p Policy) validate() error {
	if p.Limit < 1 || p.Limit > math.MaxInt32 || p.Window < time.Millisecond || p.Window > maxWindow {
		return fmt.Errorf("%w: %q is %s", ErrInvalidPolicy, p.Name, p.String())
	}
	return nil
}

// APIPolicies are the policies of /api, the ones a token may override.
var APIPolicies = []string{PolicyRead, PolicyEventsWrite, PolicyBatchesWrite, PolicyMasterWrite, PolicyConsume}

// ParseTokenRateLimits reads a token's overrides, "consume=1000/1m,read=5000/1m":
// API policies only, each N/DURATION or off.
func ParseTokenRateLimits(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || !slices.Contains(APIPolicies, name) {
			return nil, fmt.Errorf("%q: want POLICY=N/DURATION with POLICY one of %s", part, strings.Join(APIPolicies, ", "))
		}
		if _, err := ParsePolicy(value); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = value
	}
	return out, nil
}

// FormatTokenRateLimits writes a token's overrides the way
// ParseTokenRateLimits reads them.
func FormatTokenRateLimits(m map[string]string) string {
	var parts []string
	for _, name := range APIPolicies {
		if v, ok := m[name]; ok {
			parts = append(parts, name+"="+v)
		}
	}
	return strings.Join(parts, ",")
}
