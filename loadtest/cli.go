package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Exit codes of Main.
const (
	ExitPass  = 0
	ExitFail  = 1
	ExitUsage = 2
)

const usageText = `usage:
  batchtrack loadtest [flags] URL [CONCURRENCY [REQUESTS]]
  batchtrack loadtest suite --base-url URL [--token T] [--requests N] [--duration D] [flags]

Closed loop (CONCURRENCY workers, each sending as soon as its previous
response arrives) unless --rate is given: then open loop at a constant
arrival rate, latency measured from each request's intended send time.
Flags may come before or after the positional arguments.

Every run is bounded: default 1000 requests and 30s, at most 10m.
Only loopback targets unless --allow-remote.
Exit code: 0 thresholds passed, 1 failed, 2 usage or setup error.

flags:
`

// headerFlags collects repeated -H 'Name: value'.
type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

// thresholdFlags are shared by the single-endpoint and the suite forms.
type thresholdFlags struct {
	minSuccess, minCacheHit float64
	maxAvg, maxP95, maxP99  time.Duration
	expect429, ignore429    bool
	cache                   bool
}

func (tf *thresholdFlags) register(fs *flag.FlagSet) {
	d := DefaultThresholds()
	fs.Float64Var(&tf.minSuccess, "min-success-rate", d.MinSuccessRate, "pass only if the success rate is above this `fraction` (0 = off)")
	fs.DurationVar(&tf.maxAvg, "max-avg", d.MaxAvg, "pass only if the average latency is below this (0 = off)")
	fs.DurationVar(&tf.maxP95, "max-p95", d.MaxP95, "pass only if P95 latency is below this (0 = off)")
	fs.DurationVar(&tf.maxP99, "max-p99", 0, "pass only if P99 latency is below this (0 = off)")
	fs.Float64Var(&tf.minCacheHit, "min-cache-hit-rate", 0, "pass only if the X-Cache hit rate after warm-up is above this `fraction` (0 = off)")
	fs.BoolVar(&tf.cache, "cache", false, fmt.Sprintf("the endpoint is cached: require a hit rate above %.0f%% unless --min-cache-hit-rate says otherwise", DefaultCacheHitRate*100))
	fs.BoolVar(&tf.expect429, "expect-429", false, "pass only if some requests are rate limited (429) with consistent X-RateLimit-* and Retry-After headers")
	fs.BoolVar(&tf.ignore429, "ignore-429", false, "leave 429s out of the success rate (they are still counted and reported)")
}

// overlay applies the threshold flags the user actually set.
func (tf *thresholdFlags) overlay(fs *flag.FlagSet, t Thresholds) Thresholds {
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "min-success-rate":
			t.MinSuccessRate = tf.minSuccess
		case "max-avg":
			t.MaxAvg = tf.maxAvg
		case "max-p95":
			t.MaxP95 = tf.maxP95
		case "max-p99":
			t.MaxP99 = tf.maxP99
		case "min-cache-hit-rate":
			t.MinCacheHitRate = tf.minCacheHit
		case "cache":
			if tf.cache && !isSet(fs, "min-cache-hit-rate") && t.MinCacheHitRate == 0 {
				t.MinCacheHitRate = DefaultCacheHitRate
			}
		case "expect-429":
			t.RequireRateLimited = tf.expect429
		case "ignore-429":
			t.IgnoreRateLimited = tf.ignore429
		}
	})
	return t
}

func (tf *thresholdFlags) validate() error {
	if tf.minSuccess < 0 || tf.minSuccess > 1 || tf.minCacheHit < 0 || tf.minCacheHit > 1 {
		return errors.New("--min-success-rate and --min-cache-hit-rate take a fraction within 0..1")
	}
	if tf.maxAvg < 0 || tf.maxP95 < 0 || tf.maxP99 < 0 {
		return errors.New("latency thresholds must not be negative")
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseInterleaved lets flags follow positionals: the flag package stops at
// the first non-flag, so parse, take that argument, and go on. A "--" ends
// flag parsing for good.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// Main is `batchtrack loadtest`: args are what follows the subcommand.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "suite" {
		return mainSuite(ctx, args[1:], stdout, stderr)
	}
	return mainSingle(ctx, args, stdout, stderr)
}

// usageError marks errors that are the caller's to fix (exit code 2).
type usageError struct{ error }

func mainSingle(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	var (
		headers                     headerFlags
		tf                          thresholdFlags
		duration, timeout           time.Duration
		rate                        float64
		method, body, token, warmup string
		jsonPath, htmlPath, cfgPath string
		name, client                string
		concurrency                 int
		requests                    int64
		allowRemote, quiet          bool
	)
	fs.DurationVar(&duration, "duration", 0, "stop after this long (default 30s unless REQUESTS/--rate need longer; at most 10m)")
	fs.Float64Var(&rate, "rate", 0, "open loop: send this many `requests per second`, latency measured from each intended send time")
	fs.StringVar(&method, "method", "", "HTTP method (default GET, or POST with --body)")
	fs.StringVar(&body, "body", "", "request body, or @file to read it from a file")
	fs.Var(&headers, "H", "request header 'Name: value' (repeatable)")
	fs.StringVar(&token, "token", "", "API token, sent as Authorization: Bearer")
	fs.DurationVar(&timeout, "timeout", DefaultTimeout, "per-request timeout")
	fs.StringVar(&warmup, "warmup", "", "leave the first `N requests or duration` (e.g. 50 or 2s) out of the figures")
	fs.StringVar(&jsonPath, "json", "", "write every figure as JSON to this `file`")
	fs.StringVar(&htmlPath, "html", "", "write a self-contained HTML report to this `file`")
	fs.StringVar(&cfgPath, "config", "", "JSON `file` of thresholds")
	fs.BoolVar(&allowRemote, "allow-remote", false, "allow a target that is not loopback")
	fs.IntVar(&concurrency, "concurrency", 0, "workers (open loop: requests in flight); same as CONCURRENCY")
	fs.Int64Var(&requests, "requests", 0, "requests to measure; same as REQUESTS")
	fs.StringVar(&name, "name", "loadtest", "name shown in reports")
	fs.StringVar(&client, "client", ClientFastHTTP, "HTTP client: fasthttp or nethttp")
	fs.BoolVar(&quiet, "quiet", false, "no progress output")
	tf.register(fs)

	positional, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitUsage
	}
	if err != nil {
		return ExitUsage // the flag package has printed the error and usage
	}
	opts, err := buildSingleOptions(fs, positional, singleFlags{
		headers: headers, tf: tf, duration: duration, timeout: timeout, rate: rate,
		method: method, body: body, token: token, warmup: warmup, cfgPath: cfgPath,
		name: name, client: client, concurrency: concurrency, requests: requests, allowRemote: allowRemote,
	})
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "run 'batchtrack loadtest -h' for usage")
		}
		return ExitUsage
	}
	if !quiet {
		opts.Progress = stderr
		opts.Interactive = IsTerminal(stderr)
	}

	sum, err := Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return ExitUsage
	}
	if err := WriteText(stdout, sum); err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
	}
	if code := writeReports(jsonPath, htmlPath, sum, func(w io.Writer) error {
		return WriteHTML(w, "batchtrack loadtest", []Summary{sum}, nil)
	}, stderr); code != ExitPass {
		return code
	}
	if !sum.Pass {
		return ExitFail
	}
	return ExitPass
}

type singleFlags struct {
	headers                     headerFlags
	tf                          thresholdFlags
	duration, timeout           time.Duration
	rate                        float64
	method, body, token, warmup string
	cfgPath, name, client       string
	concurrency                 int
	requests                    int64
	allowRemote                 bool
}

func buildSingleOptions(fs *flag.FlagSet, positional []string, f singleFlags) (Options, error) {
	bad := func(format string, args ...any) (Options, error) {
		return Options{}, usageError{fmt.Errorf(format, args...)}
	}
	if len(positional) == 0 {
		return bad("missing URL")
	}
	if len(positional) > 3 {
		return bad("too many arguments: %q", positional[3:])
	}
	opts := Options{Name: f.name, Rate: f.rate, MaxDuration: f.duration, Timeout: f.timeout, Client: f.client,
		Concurrency: f.concurrency, MaxRequests: f.requests}
	target := positional[0]
	if err := CheckTarget(target, f.allowRemote); err != nil {
		return bad("%v", err)
	}
	if len(positional) > 1 {
		n, err := strconv.Atoi(positional[1])
		if err != nil || n < 1 {
			return bad("CONCURRENCY must be a positive integer, got %q", positional[1])
		}
		opts.Concurrency = n
	}
	if len(positional) > 2 {
		n, err := strconv.ParseInt(positional[2], 10, 64)
		if err != nil || n < 1 {
			return bad("REQUESTS must be a positive integer, got %q", positional[2])
		}
		opts.MaxRequests = n
	}
	switch {
	case opts.Concurrency < 0 || opts.Concurrency > HardMaxConcurrency:
		return bad("concurrency must be within 1..%d", HardMaxConcurrency)
	case opts.MaxRequests < 0 || opts.MaxRequests > HardMaxRequests:
		return bad("requests must be within 1..%d", HardMaxRequests)
	case f.duration < 0 || f.duration > HardMaxDuration:
		return bad("--duration must be within 0..%s", HardMaxDuration)
	case f.rate < 0 || f.rate > 1e6:
		return bad("--rate must be within 0..1000000")
	case f.timeout <= 0:
		return bad("--timeout must be positive")
	case f.client != ClientNetHTTP && f.client != ClientFastHTTP:
		return bad("--client must be %s or %s", ClientNetHTTP, ClientFastHTTP)
	}
	if err := f.tf.validate(); err != nil {
		return bad("%v", err)
	}
	if f.warmup != "" {
		if err := parseWarmup(f.warmup, &opts); err != nil {
			return bad("%v", err)
		}
	}

	req := Request{Method: strings.ToUpper(f.method), URL: target, Header: http.Header{}}
	if f.body != "" {
		req.Body = []byte(f.body)
		if strings.HasPrefix(f.body, "@") {
			b, err := os.ReadFile(f.body[1:])
			if err != nil {
				return Options{}, fmt.Errorf("--body: %w", err)
			}
			req.Body = b
		}
	}
	if req.Method == "" {
		req.Method = http.MethodGet
		if req.Body != nil {
			req.Method = http.MethodPost
		}
	}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return bad("-H %q: want 'Name: value'", h)
		}
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	if req.Body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	opts.Target = req

	th := DefaultThresholds()
	if f.cfgPath != "" {
		fc, err := LoadConfig(f.cfgPath)
		if err != nil {
			return Options{}, err
		}
		th = fc.ThresholdConfig.Apply(th)
	}
	opts.Thresholds = f.tf.overlay(fs, th)
	return opts, nil
}

// parseWarmup reads a count ("50") or a duration ("2s").
func parseWarmup(v string, opts *Options) error {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > maxWarmupRequests {
			return fmt.Errorf("--warmup count must be within 0..%d", maxWarmupRequests)
		}
		opts.WarmupRequests = n
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxWarmupDuration {
		return fmt.Errorf("--warmup %q: want a request count or a duration up to %s", v, maxWarmupDuration)
	}
	opts.WarmupDuration = d
	return nil
}

// writeReports writes the optional JSON and HTML files; a failure to
// write is a setup error (exit 2), reported after the summary was printed.
func writeReports(jsonPath, htmlPath string, v any, html func(io.Writer) error, stderr io.Writer) int {
	code := ExitPass
	if jsonPath != "" {
		if err := writeJSONFile(jsonPath, v); err != nil {
			fmt.Fprintf(stderr, "loadtest: writing %s: %v\n", jsonPath, err)
			code = ExitUsage
		}
	}
	if htmlPath != "" {
		var b strings.Builder
		err := html(&b)
		if err == nil {
			err = writeFileAtomic(htmlPath, []byte(b.String()))
		}
		if err != nil {
			fmt.Fprintf(stderr, "loadtest: writing %s: %v\n", htmlPath, err)
			code = ExitUsage
		}
	}
	return code
}
