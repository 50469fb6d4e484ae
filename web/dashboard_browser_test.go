package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"batchtrack/inventory"
	"batchtrack/web/ratelimit"
)

// newDashboardBrowser is newBrowser on a metrics-wired app whose recorder
// samples every second, as main's does every five.
func newDashboardBrowser(t *testing.T) (*browser, *metricsApp) {
	t.Helper()
	skipWithoutChromium(t)
	a := newMetricsApp(t, metricsOptions{interval: time.Second, policies: map[string]ratelimit.Policy{
		ratelimit.PolicyRead:    {Name: ratelimit.PolicyRead, Limit: 400, Window: time.Minute},
		ratelimit.PolicyConsume: {Name: ratelimit.PolicyConsume, Limit: 300, Window: time.Minute},
	}})
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go a.rec.Run(ctx)
	return openBrowser(t, a.testApp, a.listen(), a.newUser(roleAdmin)), a
}

// loadGenerator sends a bounded mix of API calls to base from a few
// goroutines: reads (cache hits and misses), consumes, stale versions,
// unknown paths; until stopped, at most max requests.
type loadGenerator struct {
	sent atomic.Int64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startLoad(t *testing.T, base string, batches []inventory.Batch, max int64) *loadGenerator {
	t.Helper()
	g := &loadGenerator{stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 4 {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-g.stop:
					return
				default:
				}
				if g.sent.Add(1) > max {
					return
				}
				b := batches[(i+w)%len(batches)]
				var req *http.Request
				switch i % 10 {
				case 0, 1, 2, 3, 4:
					req, _ = http.NewRequest("GET", base+"/api/batches/"+b.ID.String(), nil)
				case 5:
					req, _ = http.NewRequest("GET", fmt.Sprintf("%s/api/batches?limit=%d", base, 10+i%7), nil)
				case 6, 7:
					req, _ = http.NewRequest("POST", base+"/api/batches/"+batches[0].ID.String()+"/consume",
						strings.NewReader(`{"quantity_to_consume": "0.001"}`))
				case 8:
					req, _ = http.NewRequest("POST", base+"/api/batches/"+b.ID.String()+"/consume",
						strings.NewReader(`{"quantity_to_consume": "0.001", "expected_version": 1000000}`))
				default:
					req, _ = http.NewRequest("GET", base+"/api/no-such-resource", nil)
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	t.Cleanup(g.Stop)
	return g
}

func (g *loadGenerator) Stop() {
	select {
	case <-g.stop:
	default:
		close(g.stop)
	}
	g.wg.Wait()
}

// The dashboard's numbers move under load without a reload: the marker
// set before survives, and so does the scroll position.
func TestBrowserDashboardMovesUnderLoad(t *testing.T) {
	b, a := newDashboardBrowser(t)
	p, l := a.masterData()
	var batches []inventory.Batch
	for i := range 5 {
		batches = append(batches, a.namedBatch(p, l, fmt.Sprintf("LOT-DASH-%d", i), "100000"))
	}
	b.do(chromedp.Navigate(b.base+"/dashboard"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="tile-requests"]`)))
	b.eval(`window.__noReload = 1; window.scrollTo(0, 240)`)
	before := b.text(`[data-testid="tile-requests"] .tile-detail`)

	load := startLoad(t, strings.TrimSuffix(b.base, "/"), batches, 6000)
	// Figures move: the requests tile, then cache, conflicts and refusals.
	b.waitFor(fmt.Sprintf(`(() => { const d = document.querySelector('[data-testid="tile-requests"] .tile-detail');
		return d && d.textContent.trim() !== %q && !d.textContent.startsWith("0 req") })()`, before))
	b.waitFor(`document.querySelector('[data-testid="tile-version_conflicts"] [data-testid="tile-value"]').textContent.trim() !== "0"`)
	b.waitFor(`document.querySelector('[data-testid="tile-cache_hit_ratio"] [data-testid="tile-value"]').textContent.trim() !== "—"`)
	b.waitFor(`document.querySelectorAll('[data-testid="route-row"]').length >= 3`)
	b.waitFor(`document.querySelector('[data-testid="tile-rate_limited"] [data-testid="tile-value"]').textContent.trim() !== "0"`)
	if got := b.eval(`window.__noReload`); got != float64(1) {
		t.Fatalf("page reloaded (marker %v)", got)
	}
	if got := b.eval(`window.scrollY`); got != float64(240) {
		t.Errorf("scroll position %v after refreshes, want 240", got)
	}
	first := b.text(`[data-testid="dash-updated"]`)
	b.waitFor(fmt.Sprintf(`document.querySelector('[data-testid="dash-updated"]').textContent.trim() !== %q`, first))
	load.Stop()

	// A session waiting on a held row lock shows with its batch.
	ctx := context.Background()
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SELECT 1 FROM batches WHERE id = $1 FOR UPDATE", batches[1].ID); err != nil {
		t.Fatal(err)
	}
	// Another caller: the load spent the admin token's consume budget.
	operator := a.tokenFor(a.newUser(roleOperator))
	done := make(chan int, 1)
	go func() {
		resp := a.do("POST", "/api/batches/"+batches[1].ID.String()+"/consume", map[string]any{"quantity_to_consume": "1"},
			"Authorization", "Bearer "+operator)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	b.waitFor(`document.querySelector('[data-testid="waiter-batch"]') !== null`)
	b.waitFor(`document.querySelector('[data-testid="tile-waiting_now"] [data-testid="tile-value"]').textContent.trim() === "1"`)
	b.eval(`window.scrollTo(0, 0)`)
	b.screenshot("dashboard")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if status := <-done; status != 200 {
		t.Errorf("the waiting consume answered %d", status)
	}
	if got := b.eval(`window.__noReload`); got != float64(1) {
		t.Fatalf("page reloaded (marker %v)", got)
	}
}
