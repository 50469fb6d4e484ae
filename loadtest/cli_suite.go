package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

func mainSuite(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest suite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	var (
		cfg                         SuiteConfig
		tf                          thresholdFlags
		jsonPath, htmlPath, cfgPath string
		scenarios                   string
		quiet                       bool
	)
	fs.StringVar(&cfg.BaseURL, "base-url", "", "the app's base URL, e.g. http://127.0.0.1:3000 (required)")
	fs.StringVar(&cfg.Token, "token", "", "API token, sent as Authorization: Bearer")
	fs.Int64Var(&cfg.Requests, "requests", DefaultSuiteRequests, "requests per scenario")
	fs.DurationVar(&cfg.Duration, "duration", DefaultSuiteDuration, "time limit per scenario")
	fs.IntVar(&cfg.Concurrency, "concurrency", DefaultSuiteConcurrency, "workers per scenario")
	fs.DurationVar(&cfg.Timeout, "timeout", DefaultTimeout, "per-request timeout")
	fs.StringVar(&cfg.RateLimitPolicy, "rate-limit-policy", "consume", "policy the rate-limit scenario exceeds: consume or read")
	fs.Int64Var(&cfg.RateLimitMaxRequests, "rate-limit-max-requests", DefaultRateLimitRequests, "request bound of the rate-limit scenario")
	fs.StringVar(&scenarios, "scenarios", "", "comma-separated subset of: "+strings.Join(AllScenarios, ","))
	fs.StringVar(&jsonPath, "json", "", "write the suite report as JSON to this `file`")
	fs.StringVar(&htmlPath, "html", "", "write a self-contained HTML report to this `file`")
	fs.StringVar(&cfgPath, "config", "", "JSON `file` of thresholds, with optional per-scenario overrides")
	fs.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a base URL that is not loopback")
	fs.BoolVar(&quiet, "quiet", false, "no progress output")
	tf.register(fs)

	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return ExitUsage
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "loadtest suite: "+format+"\n", args...)
		return ExitUsage
	}
	switch {
	case len(positional) > 0:
		return fail("unexpected arguments %q", positional)
	case cfg.BaseURL == "":
		return fail("--base-url is required")
	case cfg.Requests < 1 || cfg.Requests > HardMaxRequests:
		return fail("--requests must be within 1..%d", HardMaxRequests)
	case cfg.Duration <= 0 || cfg.Duration > HardMaxDuration:
		return fail("--duration must be within 0..%s", HardMaxDuration)
	case cfg.Concurrency < 1 || cfg.Concurrency > HardMaxConcurrency:
		return fail("--concurrency must be within 1..%d", HardMaxConcurrency)
	}
	if err := tf.validate(); err != nil {
		return fail("%v", err)
	}
	if scenarios != "" {
		for _, s := range strings.Split(scenarios, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cfg.Scenarios = append(cfg.Scenarios, s)
			}
		}
	}
	th := DefaultThresholds()
	if cfgPath != "" {
		fc, err := LoadConfig(cfgPath)
		if err != nil {
			return fail("%v", err)
		}
		th = fc.ThresholdConfig.Apply(th)
		cfg.ScenarioThresholds = fc.Scenarios
	}
	th = tf.overlay(fs, th)
	cfg.Thresholds = &th
	progress := io.Discard
	if !quiet {
		progress = stderr
		cfg.Interactive = IsTerminal(stderr)
	}

	started := time.Now()
	report, err := RunSuite(ctx, cfg, progress)
	if err != nil && len(report.Scenarios) == 0 && report.RunID == "" {
		return fail("%v", err) // invalid configuration: nothing ran
	}
	for _, s := range report.Scenarios {
		WriteText(stdout, s)
		fmt.Fprintln(stdout)
	}
	writeLedgerText(stdout, report.Ledger)
	for _, n := range report.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	code := writeReports(jsonPath, htmlPath, report, func(w io.Writer) error {
		return WriteHTML(w, "batchtrack loadtest suite "+report.RunID, report.Scenarios, &report.Ledger)
	}, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest suite: %v\n", err)
		if errors.Is(err, context.Canceled) {
			return ExitFail
		}
		return ExitUsage
	}
	fmt.Fprintf(stdout, "suite %s: %s in %s\n", report.RunID, verdictWord(report.Pass), time.Since(started).Truncate(time.Millisecond))
	for _, f := range report.Failures() {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	if code != ExitPass {
		return code
	}
	if !report.Pass {
		return ExitFail
	}
	return ExitPass
}

func writeLedgerText(w io.Writer, l LedgerReport) {
	fmt.Fprintf(w, "== ledger check: %s\n", verdictWord(l.Pass))
	if l.Error != "" {
		fmt.Fprintf(w, "error: %s\n", l.Error)
	}
	for _, b := range l.Batches {
		fmt.Fprintf(w, "%s  %s: produced %s, available %s, ledger consume %s adjust %s reversal %s, seen %s (+%s uncertain), %d rows\n",
			verdictWord(b.Pass), b.BatchID, b.QuantityProduced, b.QuantityAvailable, b.LedgerConsumed, b.LedgerAdjusted,
			b.LedgerReversed, b.SeenConsumed, b.UncertainConsumed, b.Entries)
		if m := b.MovedText(); m != "" {
			fmt.Fprintf(w, "      movements: %s\n", m)
		}
		if m := b.MassBalanceText(); m != "" {
			fmt.Fprintf(w, "      mass balance: %s\n", m)
		}
		for _, p := range b.Problems {
			fmt.Fprintf(w, "      %s\n", p)
		}
	}
}
