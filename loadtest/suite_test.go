package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func suiteConfig(baseURL string) SuiteConfig {
	return SuiteConfig{
		BaseURL:     baseURL,
		Requests:    40,
		Duration:    10 * time.Second,
		Concurrency: 3,
		RunID:       "TESTRUN1",
	}
}

func TestRunSuiteAgainstFakeApp(t *testing.T) {
	app := newFakeApp(1<<30, 60)
	srv := startServer(t, app.handler())
	var progress bytes.Buffer
	rep, err := RunSuite(context.Background(), suiteConfig(srv.URL), &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if !rep.Pass {
		t.Fatalf("suite failed: %q\n%s", rep.Failures(), progress.String())
	}
	if len(rep.Scenarios) != len(AllScenarios) {
		t.Fatalf("%d scenarios ran, want %d", len(rep.Scenarios), len(AllScenarios))
	}
	byName := map[string]Summary{}
	for _, s := range rep.Scenarios {
		byName[s.Name] = s
	}
	if hr := byName[ScenarioEventsRead].Cache.HitRate; hr != 1 {
		t.Errorf("events-read hit rate %v after warm-up, want 1", hr)
	}
	// 60 consumes were allowed in the window: the consume scenarios met the
	// limit (429s counted apart, not failing them), the rate-limit
	// scenario saw nothing but 429s.
	hot, spread, rl := byName[ScenarioConsumeHot], byName[ScenarioConsumeSpread], byName[ScenarioRateLimit]
	if got := hot.Succeeded + spread.Succeeded; got != 60 {
		t.Errorf("consumes that succeeded: %d, want 60", got)
	}
	if spread.RateLimited == 0 || !spread.Pass {
		t.Errorf("consume-spread: %d 429s, pass %v; want some 429s and a pass", spread.RateLimited, spread.Pass)
	}
	if rl.RateLimited == 0 || rl.Requests != 60+30+10 || !rl.RateLimit.Consistent {
		t.Errorf("rate-limit: %d requests, %d 429s, headers %+v", rl.Requests, rl.RateLimited, rl.RateLimit)
	}
	// Hot batch, every spread batch and the mixed-stock scenario's four
	// lots were consumed from or moved, and checked.
	if n := len(rep.Ledger.Batches); n != 1+DefaultSpreadBatches+4 {
		t.Errorf("ledger checked %d batches, want %d", n, 1+DefaultSpreadBatches+4)
	}
	mixed := byName[ScenarioMixedStock]
	if mixed.Succeeded == 0 || !mixed.Pass {
		t.Errorf("mixed-stock: %d succeeded, pass %v", mixed.Succeeded, mixed.Pass)
	}
	for _, b := range rep.Ledger.Batches[1+DefaultSpreadBatches:] {
		if b.MassBalance == nil || len(b.LedgerMoved) == 0 || b.LedgerMoved[KindShip] != b.Moved[KindShip] {
			t.Errorf("mixed-stock batch %s: moved %v, ledger %v, mass balance %+v", b.BatchID, b.Moved, b.LedgerMoved, b.MassBalance)
		}
	}
	var seen, ledger Quantity
	for _, b := range rep.Ledger.Batches {
		seen += b.SeenConsumed
		ledger += b.LedgerConsumed
	}
	if seen == 0 || seen != ledger {
		t.Errorf("seen %s, ledger %s", seen, ledger)
	}
	if hotCheck := rep.Ledger.Batches[0]; hotCheck.Entries <= 7 {
		t.Errorf("hot batch ledger has %d rows: the test means to page through more than one page of 7", hotCheck.Entries)
	}

	var out bytes.Buffer
	if err := WriteHTML(&out, "suite", rep.Scenarios, &rep.Ledger); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "<svg"); n != 3*len(AllScenarios) {
		t.Errorf("HTML has %d charts, want 3 per scenario", n)
	}
}

func TestRunSuiteFailsOnBrokenLedger(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(app *fakeApp, cfg *SuiteConfig)
	}{
		{"app loses ledger rows", func(app *fakeApp, cfg *SuiteConfig) { app.loseEvery = 7 }},
		{"balance changed behind the ledger's back", func(app *fakeApp, cfg *SuiteConfig) {
			cfg.BeforeLedgerCheck = func(ctx context.Context, ids []string) error {
				app.mu.Lock()
				defer app.mu.Unlock()
				app.batches[ids[0]].QuantityAvailable -= 1 // one thousandth
				return nil
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newFakeApp(1<<30, 1<<30)
			srv := startServer(t, app.handler())
			cfg := suiteConfig(srv.URL)
			cfg.Scenarios = []string{ScenarioConsumeHot, ScenarioConsumeSpread}
			tt.break_(app, &cfg)
			rep, err := RunSuite(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Pass || rep.Ledger.Pass {
				t.Fatalf("suite passed with a broken ledger: %+v", rep.Ledger)
			}
			for _, s := range rep.Scenarios {
				if !s.Pass {
					t.Errorf("scenario %s failed; only the ledger should: %v", s.Name, s.Checks)
				}
			}
		})
	}
}

func TestRunSuiteRateLimitScenarioNeedsA429(t *testing.T) {
	// A policy too generous to exceed within the bound: the scenario fails
	// and says why, instead of passing on no evidence.
	app := newFakeApp(1<<30, 1_000_000)
	srv := startServer(t, app.handler())
	cfg := suiteConfig(srv.URL)
	cfg.Scenarios = []string{ScenarioRateLimit}
	cfg.RateLimitMaxRequests = 50
	rep, err := RunSuite(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pass || len(rep.Notes) == 0 || rep.Scenarios[0].Requests != 50 {
		t.Errorf("pass %v, notes %q, requests %d; want a failure explained in a note, within 50 requests", rep.Pass, rep.Notes, rep.Scenarios[0].Requests)
	}
}

func TestSuiteMainWritesReports(t *testing.T) {
	app := newFakeApp(1<<30, 1<<30)
	srv := startServer(t, app.handler())
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "suite.json")
	code, stdout, stderr := runMain(t, "suite", "--base-url", srv.URL, "--requests", "20", "--scenarios", "events-read,consume-hot",
		"--json", jsonPath, "--html", filepath.Join(dir, "suite.html"), "--quiet")
	if code != ExitPass {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep SuiteReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Pass || len(rep.Scenarios) != 2 || len(rep.Ledger.Batches) != 1 || rep.Fixtures.HotBatchID == "" {
		t.Errorf("report: pass %v, %d scenarios, %d ledger batches, fixtures %+v", rep.Pass, len(rep.Scenarios), len(rep.Ledger.Batches), rep.Fixtures)
	}
	code, _, _ = runMain(t, "suite", "--base-url", srv.URL, "--scenarios", "nope", "--quiet")
	if code != ExitUsage {
		t.Errorf("unknown scenario: exit %d, want %d", code, ExitUsage)
	}
}
