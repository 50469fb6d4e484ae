package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Suite scenario names, in the order they run. Reads run first so the
// cached scenario sees no write invalidating its entries; consumes run
// last so the ledger check right after them covers everything.
const (
	ScenarioEventsRead    = "events-read"
	ScenarioBatchesRead   = "batches-read"
	ScenarioMetrics       = "metrics"
	ScenarioEventsWrite   = "events-write"
	ScenarioBatchesWrite  = "batches-write"
	ScenarioConsumeHot    = "consume-hot"
	ScenarioConsumeSpread = "consume-spread"
	ScenarioMixedStock    = "mixed-stock"
	ScenarioRateLimit     = "rate-limit"
)

// AllScenarios lists every suite scenario in run order.
var AllScenarios = []string{
	ScenarioEventsRead, ScenarioBatchesRead, ScenarioMetrics, ScenarioEventsWrite,
	ScenarioBatchesWrite, ScenarioConsumeHot, ScenarioConsumeSpread, ScenarioMixedStock, ScenarioRateLimit,
}

// Suite defaults: short enough for make test, long enough for percentiles.
const (
	DefaultSuiteRequests     = 200
	DefaultSuiteDuration     = 15 * time.Second
	DefaultSuiteConcurrency  = 4
	DefaultSpreadBatches     = 10
	DefaultRateLimitRequests = 2000
	suiteSetupAllowance      = 2 * time.Minute
	maxRetryAfterWait        = 65 * time.Second
	maxLedgerPages           = 1000
)

// SuiteConfig configures RunSuite.
type SuiteConfig struct {
	BaseURL string
	Token   string
	// HTTPClient is used for every request when set (e.g. an app's test
	// client); otherwise a tuned client is built.
	HTTPClient  *http.Client
	Requests    int64         // per scenario
	Duration    time.Duration // per scenario cap
	Concurrency int
	Timeout     time.Duration
	// Thresholds apply to every scenario (nil: DefaultThresholds); the suite
	// adds the cache bar to events-read and replaces them for rate-limit.
	Thresholds *Thresholds
	// ScenarioThresholds override per scenario name (from --config).
	ScenarioThresholds map[string]ThresholdConfig
	// Scenarios limits the run to these names (empty: all).
	Scenarios []string
	// RateLimitPolicy is the policy the rate-limit scenario exceeds:
	// "consume" (default) or "read".
	RateLimitPolicy string
	// RateLimitMaxRequests bounds the rate-limit scenario; a policy whose
	// limit cannot be exceeded within it fails the scenario.
	RateLimitMaxRequests int64
	SpreadBatches        int
	AllowRemote          bool
	Interactive          bool
	// RunID makes fixture names unique (default: random).
	RunID string
	// BeforeLedgerCheck, when set, runs after the scenarios and before the
	// ledger check: a test can tamper with the data there to prove the
	// check fails.
	BeforeLedgerCheck func(ctx context.Context, batchIDs []string) error
}

func (c SuiteConfig) normalize() (SuiteConfig, error) {
	if err := CheckTarget(c.BaseURL, c.AllowRemote); err != nil {
		return c, err
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Requests <= 0 {
		c.Requests = DefaultSuiteRequests
	}
	if c.Duration <= 0 {
		c.Duration = DefaultSuiteDuration
	}
	c.Duration = min(c.Duration, HardMaxDuration)
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultSuiteConcurrency
	}
	c.Concurrency = min(c.Concurrency, HardMaxConcurrency)
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RateLimitPolicy == "" {
		c.RateLimitPolicy = "consume"
	}
	if c.RateLimitPolicy != "consume" && c.RateLimitPolicy != "read" {
		return c, fmt.Errorf("rate-limit policy must be consume or read, got %q", c.RateLimitPolicy)
	}
	if c.RateLimitMaxRequests <= 0 {
		c.RateLimitMaxRequests = DefaultRateLimitRequests
	}
	if c.SpreadBatches <= 0 {
		c.SpreadBatches = DefaultSpreadBatches
	}
	if c.RunID == "" {
		c.RunID = newRunID()
	}
	for _, s := range c.Scenarios {
		if !slices.Contains(AllScenarios, s) {
			return c, fmt.Errorf("unknown scenario %q (known: %s)", s, strings.Join(AllScenarios, ", "))
		}
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = AllScenarios
	}
	if c.HTTPClient == nil {
		c.HTTPClient = newTunedHTTPClient(c.Concurrency, c.Timeout)
	}
	return c, nil
}

// newRunID returns 8 characters of [0-9A-Z], enough to keep runs apart and
// short enough for batch numbers.
func newRunID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var b [8]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// SuiteFixtures are the master data the suite created for itself.
type SuiteFixtures struct {
	ProductID      string   `json:"product_id"`
	GTIN           string   `json:"gtin"`
	LocationID     string   `json:"location_id"`
	GLN            string   `json:"gln"`
	HotBatchID     string   `json:"hot_batch_id"`
	SpreadBatchIDs []string `json:"spread_batch_ids"`
	// The mixed-stock scenario's two input lots and the output lot its
	// transformations add to, and the other location of ours it ships to.
	MixedBatchIDs    []string `json:"mixed_batch_ids,omitempty"`
	MixedOutputLot   string   `json:"mixed_output_lot,omitempty"`
	ShipToLocationID string   `json:"ship_to_location_id,omitempty"`
}

// SuiteReport is everything a suite run found; --json writes it.
type SuiteReport struct {
	RunID          string        `json:"run_id"`
	BaseURL        string        `json:"base_url"`
	StartedAt      time.Time     `json:"started_at"`
	ElapsedSeconds float64       `json:"elapsed_seconds"`
	Fixtures       SuiteFixtures `json:"fixtures"`
	Scenarios      []Summary     `json:"scenarios"`
	Ledger         LedgerReport  `json:"ledger"`
	Notes          []string      `json:"notes,omitempty"`
	Pass           bool          `json:"pass"`
}

// Failures lists what made the suite fail, one line each.
func (r SuiteReport) Failures() []string {
	var out []string
	for _, s := range r.Scenarios {
		for _, c := range s.Checks {
			if !c.Pass {
				out = append(out, s.Name+": "+c.String())
			}
		}
		if s.StopReason == StopCanceled {
			out = append(out, s.Name+": canceled")
		}
	}
	if r.Ledger.Error != "" {
		out = append(out, "ledger: "+r.Ledger.Error)
	}
	for _, b := range r.Ledger.Batches {
		for _, p := range b.Problems {
			out = append(out, "ledger "+b.BatchID+": "+p)
		}
	}
	return out
}

// consumeTally sums, per batch, what the suite's consumes and stock
// movements did.
type consumeTally struct {
	mu        sync.Mutex
	seen      map[string]Quantity
	uncertain map[string]Quantity
	// moved and movedUncertain: the same for the movement kinds, per batch
	// and kind.
	moved, movedUncertain map[string]map[string]Quantity
	// unsure are the requests whose outcome the run never learnt; each
	// carries an Idempotency-Key, so sending it again tells.
	unsure []Request
}

// stockTag is what a stock movement request does when it succeeds: the
// ledger rows it writes.
type stockTag struct {
	effects []stockEffect
}

type stockEffect struct {
	batchID string
	kind    string
	qty     Quantity
}

func (t *consumeTally) addMoved(to map[string]map[string]Quantity, tag stockTag, sign Quantity) {
	for _, e := range tag.effects {
		if to[e.batchID] == nil {
			to[e.batchID] = map[string]Quantity{}
		}
		to[e.batchID][e.kind] += sign * e.qty
	}
}

type consumeTag struct {
	batchID string
	qty     Quantity
}

func (t *consumeTally) observe(req Request, o Outcome) {
	if tag, ok := req.Tag.(stockTag); ok {
		t.mu.Lock()
		defer t.mu.Unlock()
		switch {
		case o.Err != nil:
			t.addMoved(t.movedUncertain, tag, 1)
			t.unsure = append(t.unsure, req)
		case o.Status == http.StatusCreated:
			t.addMoved(t.moved, tag, 1)
		}
		return
	}
	tag, ok := req.Tag.(consumeTag)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if o.Err != nil && req.Header.Get("Idempotency-Key") != "" {
		t.unsure = append(t.unsure, req)
	}
	switch {
	case o.Err != nil:
		// No response: the server may have committed it.
		t.uncertain[tag.batchID] += tag.qty
	case o.Status == http.StatusOK:
		t.seen[tag.batchID] += tag.qty
	}
}

// consumeQuantities cycle through amounts with 0 to 3 decimals so the
// ledger check exercises the exact arithmetic.
var consumeQuantities = []Quantity{125, 1000, 500, 2250, 1, 10}

// suite is one RunSuite in progress.
type suite struct {
	cfg      SuiteConfig
	api      *apiClient
	progress io.Writer
	fx       SuiteFixtures
	tally    *consumeTally
}

// RunSuite runs the scenarios over the critical APIs against a running
// app, then checks the ledger of every batch it consumed from. The error is
// for a suite that could not run (bad config, fixtures not created); a
// suite that ran returns its verdict in SuiteReport.Pass.
func RunSuite(ctx context.Context, cfg SuiteConfig, progress io.Writer) (SuiteReport, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return SuiteReport{}, err
	}
	if progress == nil {
		progress = io.Discard
	}
	// The whole suite is bounded: each scenario by its own cap, setup and
	// checks by the allowance, everything by the hard maximum.
	budget := min(time.Duration(len(cfg.Scenarios))*(cfg.Duration+cfg.Timeout)+suiteSetupAllowance, HardMaxDuration)
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	s := &suite{
		cfg:      cfg,
		api:      &apiClient{base: cfg.BaseURL, token: cfg.Token, client: cfg.HTTPClient, progress: progress},
		progress: progress,
		tally: &consumeTally{seen: map[string]Quantity{}, uncertain: map[string]Quantity{},
			moved: map[string]map[string]Quantity{}, movedUncertain: map[string]map[string]Quantity{}},
	}
	report := SuiteReport{RunID: cfg.RunID, BaseURL: cfg.BaseURL, StartedAt: time.Now()}
	defer func() { report.ElapsedSeconds = time.Since(report.StartedAt).Seconds() }()

	if err := s.setup(ctx); err != nil {
		report.Fixtures = s.fx
		return report, fmt.Errorf("suite setup: %w", err)
	}
	report.Fixtures = s.fx

	for _, name := range cfg.Scenarios {
		if ctx.Err() != nil {
			report.Notes = append(report.Notes, fmt.Sprintf("%s: skipped, suite time budget (%s) spent", name, budget))
			continue
		}
		opts, note := s.scenario(ctx, name, report.Scenarios)
		if note != "" {
			report.Notes = append(report.Notes, name+": "+note)
		}
		sum, err := Run(ctx, opts)
		if err != nil {
			return report, fmt.Errorf("scenario %s: %w", name, err)
		}
		report.Scenarios = append(report.Scenarios, sum)
		fmt.Fprintf(progress, "[%s] %s: %d requests, %.1f req/s, p95 %.2fms, %d errors, %d 429s\n",
			name, verdictWord(sum.Pass), sum.Requests, sum.ThroughputRPS, sum.Latency.P95, sum.Failed, sum.RateLimited)
	}

	if n := s.settleUnsure(ctx); n > 0 {
		report.Notes = append(report.Notes, fmt.Sprintf("%d requests without an answer sent again with their Idempotency-Key", n))
	}
	consumed := s.consumedBatches()
	if cfg.BeforeLedgerCheck != nil {
		if err := cfg.BeforeLedgerCheck(ctx, consumed); err != nil {
			return report, fmt.Errorf("before ledger check: %w", err)
		}
	}
	report.Ledger = s.checkLedgers(ctx, consumed)
	fmt.Fprintf(progress, "[ledger] %s: %d batches checked\n", verdictWord(report.Ledger.Pass), len(report.Ledger.Batches))

	report.Pass = report.Ledger.Pass && len(report.Scenarios) == len(cfg.Scenarios)
	for _, sum := range report.Scenarios {
		report.Pass = report.Pass && sum.Pass
	}
	return report, nil
}

func verdictWord(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

func (s *suite) setup(ctx context.Context) error {
	nonce := randomNonce()
	for attempt := 0; ; attempt++ {
		gtin := runGTIN(nonce, attempt)
		var p struct {
			ID string `json:"id"`
		}
		status, err := s.api.call(ctx, http.MethodPost, "/api/products", map[string]any{
			"gtin": gtin, "name": "loadtest " + s.cfg.RunID, "category": "loadtest",
		}, &p)
		if err != nil {
			return fmt.Errorf("creating product: %w", err)
		}
		if status == http.StatusConflict && attempt < 5 {
			continue
		}
		if status != http.StatusCreated || p.ID == "" {
			return fmt.Errorf("creating product: status %d", status)
		}
		s.fx.ProductID, s.fx.GTIN = p.ID, gtin
		break
	}
	for attempt := 0; ; attempt++ {
		gln := runGLN(nonce, attempt)
		var l struct {
			ID string `json:"id"`
		}
		status, err := s.api.call(ctx, http.MethodPost, "/api/locations", map[string]any{
			"gln": gln, "name": "loadtest " + s.cfg.RunID, "type": "warehouse",
		}, &l)
		if err != nil {
			return fmt.Errorf("creating location: %w", err)
		}
		if status == http.StatusConflict && attempt < 5 {
			continue
		}
		if status != http.StatusCreated || l.ID == "" {
			return fmt.Errorf("creating location: status %d", status)
		}
		s.fx.LocationID, s.fx.GLN = l.ID, gln
		break
	}
	needsBatches := slices.ContainsFunc(s.cfg.Scenarios, func(n string) bool { return n != ScenarioEventsRead && n != ScenarioMetrics })
	if !needsBatches {
		return nil
	}
	var err error
	if s.fx.HotBatchID, err = s.createBatch(ctx, lotNumber(s.cfg.RunID, "H", 0), "100000"); err != nil {
		return err
	}
	for i := range s.cfg.SpreadBatches {
		id, err := s.createBatch(ctx, lotNumber(s.cfg.RunID, "S", i), "10000")
		if err != nil {
			return err
		}
		s.fx.SpreadBatchIDs = append(s.fx.SpreadBatchIDs, id)
	}
	if slices.Contains(s.cfg.Scenarios, ScenarioMixedStock) {
		if err := s.setupMixed(ctx, nonce); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.progress, "[setup] product %s (GTIN %s), location %s (GLN %s), %d batches\n",
		s.fx.ProductID, s.fx.GTIN, s.fx.LocationID, s.fx.GLN, 1+len(s.fx.SpreadBatchIDs)+len(s.fx.MixedBatchIDs))
	return nil
}

func randomNonce() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

func (s *suite) batchBody(lot, quantity string) map[string]any {
	today := time.Now().UTC()
	return map[string]any{
		"batch_number":      lot,
		"product_id":        s.fx.ProductID,
		"location_id":       s.fx.LocationID,
		"production_date":   today.Format(time.DateOnly),
		"expiry_date":       today.AddDate(1, 0, 0).Format(time.DateOnly),
		"quantity_produced": quantity,
		"unit_of_measure":   "kg",
		"quality_status":    "approved",
		"notes":             "created by batchtrack loadtest suite " + s.cfg.RunID,
	}
}

func (s *suite) createBatch(ctx context.Context, lot, quantity string) (string, error) {
	var b struct {
		ID string `json:"id"`
	}
	status, err := s.api.call(ctx, http.MethodPost, "/api/batches", s.batchBody(lot, quantity), &b)
	if err != nil {
		return "", fmt.Errorf("creating batch %s: %w", lot, err)
	}
	if status != http.StatusCreated || b.ID == "" {
		return "", fmt.Errorf("creating batch %s: status %d", lot, status)
	}
	return b.ID, nil
}

func (s *suite) allBatchIDs() []string {
	return append(append([]string{s.fx.HotBatchID}, s.fx.SpreadBatchIDs...), s.fx.MixedBatchIDs...)
}

// scenario builds the options of one scenario; done lists the scenarios
// already run (the rate-limit scenario sizes itself from their headers).
func (s *suite) scenario(ctx context.Context, name string, done []Summary) (Options, string) {
	base := DefaultThresholds()
	if s.cfg.Thresholds != nil {
		base = *s.cfg.Thresholds
	}
	// Outside the rate-limit scenario a 429 is reported, not a failure.
	base.IgnoreRateLimited = true
	opts := Options{
		Name:        name,
		Concurrency: s.cfg.Concurrency,
		MaxRequests: s.cfg.Requests,
		MaxDuration: s.cfg.Duration,
		Timeout:     s.cfg.Timeout,
		HTTPClient:  s.cfg.HTTPClient,
		Progress:    s.progress,
		Interactive: s.cfg.Interactive,
		Thresholds:  base,
	}
	var note string
	get := func(path string) Request { return s.api.request(http.MethodGet, path, nil) }
	batches := append([]string{s.fx.HotBatchID}, s.fx.SpreadBatchIDs...)
	switch name {
	case ScenarioEventsRead:
		opts.Target = get("/api/events?limit=20")
		// The first requests fill the cache; the hit rate counts after them.
		opts.WarmupRequests = int64(max(2, s.cfg.Concurrency))
		opts.Thresholds.MinCacheHitRate = DefaultCacheHitRate
	case ScenarioBatchesRead:
		opts.Target = get("/api/batches?limit=20")
		opts.Source = func(seq uint64) Request {
			if seq%2 == 0 {
				return get("/api/batches?limit=20")
			}
			return get("/api/batches/" + batches[int(seq/2)%len(batches)])
		}
	case ScenarioMetrics:
		opts.Target = get("/api/metrics")
	case ScenarioEventsWrite:
		opts.Target = s.api.request(http.MethodPost, "/api/events", nil)
		opts.Source = func(seq uint64) Request {
			return s.api.request(http.MethodPost, "/api/events", map[string]any{
				"event_type":   "ObjectEvent",
				"action":       "OBSERVE",
				"biz_step":     "inspecting",
				"disposition":  "conformant",
				"read_point":   s.fx.GLN,
				"biz_location": s.fx.GLN,
				"batch_ids":    []string{batches[int(seq)%len(batches)]},
				"notes":        fmt.Sprintf("loadtest %s #%d", s.cfg.RunID, seq),
			})
		}
	case ScenarioBatchesWrite:
		opts.Target = s.api.request(http.MethodPost, "/api/batches", nil)
		opts.Source = func(seq uint64) Request {
			return s.api.request(http.MethodPost, "/api/batches", s.batchBody(lotNumber(s.cfg.RunID, "W", int(seq)), "10"))
		}
	case ScenarioConsumeHot:
		opts.Target = s.consumeRequest(s.fx.HotBatchID, 0)
		opts.Source = func(seq uint64) Request { return s.consumeRequest(s.fx.HotBatchID, seq) }
		opts.Observe = s.tally.observe
	case ScenarioConsumeSpread:
		spread := s.fx.SpreadBatchIDs
		opts.Target = s.consumeRequest(spread[0], 0)
		opts.Source = func(seq uint64) Request { return s.consumeRequest(spread[int(seq)%len(spread)], seq) }
		opts.Observe = s.tally.observe
	case ScenarioMixedStock:
		opts.Target = s.mixedRequest(0)
		opts.Source = s.mixedRequest
		opts.Observe = s.tally.observe
	case ScenarioRateLimit:
		opts.Thresholds = Thresholds{RequireRateLimited: true}
		limit := s.knownLimit(ctx, done)
		opts.MaxRequests = s.cfg.RateLimitMaxRequests
		if limit > 0 {
			// Past the whole window's allowance, whatever earlier scenarios used.
			opts.MaxRequests = min(limit+limit/2+10, s.cfg.RateLimitMaxRequests)
			if limit >= s.cfg.RateLimitMaxRequests {
				note = fmt.Sprintf("policy limit %d cannot be exceeded within %d requests", limit, s.cfg.RateLimitMaxRequests)
			}
		}
		opts.MaxDuration = max(s.cfg.Duration, 10*time.Second)
		if s.cfg.RateLimitPolicy == "read" {
			opts.Target = get("/api/batches/" + s.fx.HotBatchID)
		} else {
			opts.Target = s.consumeRequest(s.fx.HotBatchID, 0)
			// The smallest amount: this scenario is about refusals, and its
			// successes still go through the ledger check.
			opts.Source = func(seq uint64) Request { return s.consumeRequestQty(s.fx.HotBatchID, 1) }
			opts.Observe = s.tally.observe
		}
	}
	if tc, ok := s.cfg.ScenarioThresholds[name]; ok {
		opts.Thresholds = tc.Apply(opts.Thresholds)
	}
	return opts, note
}

// knownLimit is the X-RateLimit-Limit of the policy the rate-limit
// scenario targets, from earlier scenarios or a single probe.
func (s *suite) knownLimit(ctx context.Context, done []Summary) int64 {
	from := []string{ScenarioBatchesRead, ScenarioEventsRead, ScenarioMetrics}
	if s.cfg.RateLimitPolicy == "consume" {
		from = []string{ScenarioConsumeHot, ScenarioConsumeSpread}
	}
	for _, sum := range done {
		if slices.Contains(from, sum.Name) && sum.RateLimit.MaxLimit > 0 {
			return sum.RateLimit.MaxLimit
		}
	}
	var h http.Header
	var err error
	if s.cfg.RateLimitPolicy == "consume" {
		h, err = s.api.probe(ctx, s.consumeRequestQty(s.fx.HotBatchID, 1), s.tally)
	} else {
		h, err = s.api.probe(ctx, s.api.request(http.MethodGet, "/api/batches/"+s.fx.HotBatchID, nil), nil)
	}
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(h.Get("X-RateLimit-Limit"), 10, 64)
	return n
}

func (s *suite) consumeRequest(batchID string, seq uint64) Request {
	return s.consumeRequestQty(batchID, consumeQuantities[int(seq)%len(consumeQuantities)])
}

func (s *suite) consumeRequestQty(batchID string, qty Quantity) Request {
	r := s.api.request(http.MethodPost, "/api/batches/"+batchID+"/consume", map[string]any{
		"quantity_to_consume": qty.String(),
		"reason":              "loadtest " + s.cfg.RunID,
	})
	r.Tag = consumeTag{batchID: batchID, qty: qty}
	return r
}

func (s *suite) consumedBatches() []string {
	s.tally.mu.Lock()
	defer s.tally.mu.Unlock()
	var ids []string
	for _, id := range s.allBatchIDs() {
		_, seen := s.tally.seen[id]
		_, unsure := s.tally.uncertain[id]
		_, moved := s.tally.moved[id]
		_, movedUnsure := s.tally.movedUncertain[id]
		if id != "" && (seen || unsure || moved || movedUnsure) {
			ids = append(ids, id)
		}
	}
	return ids
}

// checkLedgers compares ledger and balance of each batch.
func (s *suite) checkLedgers(ctx context.Context, ids []string) LedgerReport {
	rep := LedgerReport{Pass: true}
	for _, id := range ids {
		in, err := s.fetchLedger(ctx, id)
		if err != nil {
			rep.Pass = false
			rep.Error = err.Error()
			return rep
		}
		s.tally.mu.Lock()
		in.SeenConsumed, in.UncertainConsumed = s.tally.seen[id], s.tally.uncertain[id]
		if slices.Contains(s.fx.MixedBatchIDs, id) {
			in.Moved, in.UncertainMoved = clone(s.tally.moved[id]), clone(s.tally.movedUncertain[id])
			in.ShippedInTransit = true // the scenario ships to our other location and never receives
		}
		s.tally.mu.Unlock()
		c := CheckBatchLedger(in)
		rep.Batches = append(rep.Batches, c)
		rep.Pass = rep.Pass && c.Pass
	}
	return rep
}

func (s *suite) fetchLedger(ctx context.Context, id string) (BatchLedgerInput, error) {
	in := BatchLedgerInput{BatchID: id}
	// Ledger first, balance second: a consume landing in between (there
	// should be none) would show as a mismatch rather than hide one.
	cursor := ""
	for page := 0; ; page++ {
		if page >= maxLedgerPages {
			return in, fmt.Errorf("batch %s: ledger longer than %d pages", id, maxLedgerPages)
		}
		path := "/api/batches/" + id + "/consumptions?limit=200"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var list struct {
			Items      []LedgerEntry `json:"items"`
			NextCursor *string       `json:"next_cursor"`
		}
		status, err := s.api.call(ctx, http.MethodGet, path, nil, &list)
		if err != nil {
			return in, fmt.Errorf("batch %s ledger: %w", id, err)
		}
		if status != http.StatusOK {
			return in, fmt.Errorf("batch %s ledger: status %d", id, status)
		}
		in.Entries = append(in.Entries, list.Items...)
		if list.NextCursor == nil || *list.NextCursor == "" {
			break
		}
		if *list.NextCursor == cursor {
			return in, fmt.Errorf("batch %s ledger: next_cursor repeats %q", id, cursor)
		}
		cursor = *list.NextCursor
	}
	var b struct {
		QuantityProduced  Quantity `json:"quantity_produced"`
		QuantityAvailable Quantity `json:"quantity_available"`
		Origin            string   `json:"origin"`
	}
	status, err := s.api.call(ctx, http.MethodGet, "/api/batches/"+id, nil, &b)
	if err != nil {
		return in, fmt.Errorf("batch %s: %w", id, err)
	}
	if status != http.StatusOK {
		return in, fmt.Errorf("batch %s: status %d", id, status)
	}
	in.QuantityProduced, in.QuantityAvailable, in.Origin = b.QuantityProduced, b.QuantityAvailable, b.Origin
	var m MassBalance
	status, err = s.api.call(ctx, http.MethodGet, "/api/batches/"+id+"/balance", nil, &m)
	if err != nil {
		return in, fmt.Errorf("batch %s balance: %w", id, err)
	}
	if status != http.StatusOK {
		return in, fmt.Errorf("batch %s balance: status %d", id, status)
	}
	in.Balance = &m
	return in, nil
}

// apiClient makes the suite's own calls (fixtures, probes, ledger), which
// wait out a 429 or a lock timeout instead of failing: they are not
// measurements.
type apiClient struct {
	base     string
	token    string
	client   *http.Client
	progress io.Writer
}

func (a *apiClient) request(method, path string, body any) Request {
	r := Request{Method: method, URL: a.base + path, Header: http.Header{}}
	r.Header.Set("Accept", "application/json")
	if a.token != "" {
		r.Header.Set("Authorization", "Bearer "+a.token)
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			panic(fmt.Sprintf("loadtest: marshalling a request body built in code: %v", err))
		}
		r.Body = b
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

func (a *apiClient) do(ctx context.Context, r Request, retry bool) (*http.Response, []byte, error) {
	for {
		var body io.Reader
		if r.Body != nil {
			body = bytes.NewReader(r.Body)
		}
		req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
		if err != nil {
			return nil, nil, err
		}
		req.Header = r.Header.Clone()
		resp, err := a.client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			return nil, nil, err
		}
		if !retry || resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
			return resp, b, nil
		}
		wait := retryAfter(resp.Header.Get("Retry-After"))
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			return resp, b, nil // not a lock timeout: nothing to wait for
		}
		fmt.Fprintf(a.progress, "[suite] %s %s: %d, retrying in %s\n", r.Method, r.URL, resp.StatusCode, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, fmt.Errorf("waiting out %d: %w", resp.StatusCode, ctx.Err())
		case <-t.C:
		}
	}
}

// retryAfter reads delay-seconds (or an HTTP date), bounded so a wild
// value cannot stall the suite.
func retryAfter(v string) time.Duration {
	d := time.Second
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	return min(max(d, 100*time.Millisecond), maxRetryAfterWait)
}

// call sends a JSON request and decodes a 2xx body into out.
func (a *apiClient) call(ctx context.Context, method, path string, body, out any) (int, error) {
	resp, b, err := a.do(ctx, a.request(method, path, body), true)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decoding response: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// probe sends one request to read its headers; a consume probe is tallied
// like any other consume.
func (a *apiClient) probe(ctx context.Context, r Request, tally *consumeTally) (http.Header, error) {
	resp, _, err := a.do(ctx, r, false)
	if tally != nil {
		o := Outcome{Err: err}
		if resp != nil {
			o.Status = resp.StatusCode
		}
		tally.observe(r, o)
	}
	if err != nil {
		return nil, err
	}
	return resp.Header, nil
}

func clone(m map[string]Quantity) map[string]Quantity {
	out := map[string]Quantity{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// setupMixed creates what the mixed-stock scenario moves: two input lots,
// a released lot it ships and consumes, the pending lot its transformations
// add to, and a second location of ours its shipments go to (they stay in
// transit there).
func (s *suite) setupMixed(ctx context.Context, nonce uint64) error {
	for attempt := 0; ; attempt++ {
		var l struct {
			ID string `json:"id"`
		}
		status, err := s.api.call(ctx, http.MethodPost, "/api/locations", map[string]any{
			"gln": runGLN(nonce+1_000_003, attempt), "name": "loadtest " + s.cfg.RunID + " ship-to", "type": "warehouse",
		}, &l)
		if err != nil {
			return fmt.Errorf("creating the ship-to location: %w", err)
		}
		if status == http.StatusConflict && attempt < 5 {
			continue
		}
		if status != http.StatusCreated || l.ID == "" {
			return fmt.Errorf("creating the ship-to location: status %d", status)
		}
		s.fx.ShipToLocationID = l.ID
		break
	}
	// Two input lots and a released output lot that ship and consume draw
	// on, then the pending lot the transformations make (new production
	// stays unreleased: it may not join a released lot).
	for i, qty := range []string{"100000", "100000", "100000", "10"} {
		lot := lotNumber(s.cfg.RunID, "M", i)
		body := s.batchBody(lot, qty)
		if i == 3 {
			body["quality_status"] = "pending"
		}
		var b struct {
			ID string `json:"id"`
		}
		status, err := s.api.call(ctx, http.MethodPost, "/api/batches", body, &b)
		if err != nil {
			return fmt.Errorf("creating batch %s: %w", lot, err)
		}
		if status != http.StatusCreated || b.ID == "" {
			return fmt.Errorf("creating batch %s: status %d", lot, status)
		}
		s.fx.MixedBatchIDs = append(s.fx.MixedBatchIDs, b.ID)
		s.fx.MixedOutputLot = lot
	}
	return nil
}

// mixedQuantities are the amounts the mixed-stock scenario moves.
var mixedQuantities = []Quantity{125, 1000, 500, 2250}

// mixedRequest is request seq of the mixed-stock scenario, in turn: a
// transformation of the two input lots into the pending output lot (inputs
// in one order, then the other), a shipment of an input lot, a shipment of
// the released lot and an input lot together, a consume of an input lot and
// one of the released lot. Every request carries its own Idempotency-Key.
func (s *suite) mixedRequest(seq uint64) Request {
	a, b, out, made := s.fx.MixedBatchIDs[0], s.fx.MixedBatchIDs[1], s.fx.MixedBatchIDs[2], s.fx.MixedBatchIDs[3]
	qty := mixedQuantities[int(seq/6)%len(mixedQuantities)]
	item := func(id string) map[string]any { return map[string]any{"batch_id": id, "quantity": qty.String()} }
	var r Request
	switch seq % 6 {
	case 0, 1:
		first, second := a, b
		if seq%6 == 1 {
			first, second = b, a
		}
		r = s.api.request(http.MethodPost, "/api/transformations", map[string]any{
			"inputs":  []any{item(first), item(second)},
			"outputs": []any{map[string]any{"product_id": s.fx.ProductID, "batch_number": s.fx.MixedOutputLot, "quantity": (2 * qty).String(), "unit": "kg"}},
			"notes":   "loadtest " + s.cfg.RunID,
		})
		r.Tag = stockTag{effects: []stockEffect{{a, KindTransformIn, qty}, {b, KindTransformIn, qty}, {made, KindProduce, 2 * qty}}}
	case 2:
		r = s.api.request(http.MethodPost, "/api/shipments", map[string]any{
			"items": []any{item(a)}, "ship_to_id": s.fx.ShipToLocationID, "notes": "loadtest " + s.cfg.RunID,
		})
		r.Tag = stockTag{effects: []stockEffect{{a, KindShip, qty}}}
	case 3:
		r = s.api.request(http.MethodPost, "/api/shipments", map[string]any{
			"items": []any{item(out), item(b)}, "ship_to_id": s.fx.ShipToLocationID, "notes": "loadtest " + s.cfg.RunID,
		})
		r.Tag = stockTag{effects: []stockEffect{{out, KindShip, qty}, {b, KindShip, qty}}}
	case 4:
		r = s.consumeRequestQty(a, qty)
	default:
		r = s.consumeRequestQty(out, qty)
	}
	r.Header.Set("Idempotency-Key", fmt.Sprintf("loadtest-%s-mixed-%d", s.cfg.RunID, seq))
	return r
}

// settleUnsure sends every request whose outcome the run never learnt
// again, with its Idempotency-Key: the app answers with the first
// attempt's stored result, or runs it now. A success moves its quantities
// from uncertain to seen; anything else leaves them uncertain.
func (s *suite) settleUnsure(ctx context.Context) int {
	s.tally.mu.Lock()
	unsure := s.tally.unsure
	s.tally.unsure = nil
	s.tally.mu.Unlock()
	for _, r := range unsure {
		resp, _, err := s.api.do(ctx, r, true)
		if err != nil || resp.StatusCode/100 != 2 {
			continue
		}
		s.tally.mu.Lock()
		switch tag := r.Tag.(type) {
		case stockTag:
			s.tally.addMoved(s.tally.movedUncertain, tag, -1)
			s.tally.addMoved(s.tally.moved, tag, 1)
		case consumeTag:
			s.tally.uncertain[tag.batchID] -= tag.qty
			s.tally.seen[tag.batchID] += tag.qty
		}
		s.tally.mu.Unlock()
	}
	return len(unsure)
}
