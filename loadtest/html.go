package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

// The HTML report is one self-contained page: inline CSS and SVG, no
// script, no external asset, so it can be attached to a ticket or opened
// from a CI artifact offline.

type htmlScenario struct {
	Summary
	Histogram  template.HTML
	LatencyOT  template.HTML
	Throughput template.HTML
}

type htmlPage struct {
	Title     string
	Pass      bool
	Notes     []string
	Scenarios []htmlScenario
	Ledger    *LedgerReport
}

// WriteHTML renders the report for one run or for every scenario of a suite.
func WriteHTML(w io.Writer, title string, summaries []Summary, ledger *LedgerReport) error {
	page := htmlPage{Title: title, Pass: true, Ledger: ledger}
	for _, s := range summaries {
		page.Pass = page.Pass && s.Pass
		page.Scenarios = append(page.Scenarios, htmlScenario{
			Summary:    s,
			Histogram:  histogramSVG(s.Histogram),
			LatencyOT:  latencySVG(s.Timeline),
			Throughput: throughputSVG(s.Timeline),
		})
	}
	if ledger != nil {
		page.Pass = page.Pass && ledger.Pass
	}
	return htmlTemplate.Execute(w, page)
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":    func(v float64) string { return fmt.Sprintf("%.2f%%", v*100) },
	"ms":     func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"counts": formatCounts,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #eee;vertical-align:top}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}
svg{display:block;margin:.5em 0;background:#fafafa;border:1px solid #ddd}
svg text{font:11px sans-serif;fill:#555}.legend span{margin-right:1em}
</style></head><body>
<h1>{{.Title}}: {{if .Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span>{{end}}</h1>
{{range .Scenarios}}
<h2 id="{{.Name}}">{{.Name}} {{if .Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span>{{end}}</h2>
<table>
<tr><th>target</th><td>{{.Method}} {{.URL}}</td></tr>
<tr><th>mode</th><td>{{.Mode}} loop, concurrency {{.Concurrency}}{{if .Rate}}, {{.Rate}} req/s{{end}}, client {{.Client}}</td></tr>
<tr><th>stopped by</th><td>{{.StopReason}} after {{printf "%.2f" .ElapsedSeconds}} s; warm-up excluded: {{.WarmupRequests}}</td></tr>
<tr><th>requests</th><td>{{.Requests}}: {{.Succeeded}} succeeded ({{pct .SuccessRate}}), {{.Failed}} errors ({{pct .ErrorRate}}), {{.RateLimited}} rate limited ({{pct .RateLimitedRate}})</td></tr>
<tr><th>status codes</th><td>{{counts .StatusCodes}}</td></tr>
{{if .TransportErrors}}<tr><th>transport errors</th><td>{{counts .TransportErrors}}</td></tr>{{end}}
<tr><th>throughput</th><td>{{printf "%.1f" .ThroughputRPS}} req/s</td></tr>
<tr><th>latency (ms)</th><td>avg {{ms .Latency.Avg}}, min {{ms .Latency.Min}}, max {{ms .Latency.Max}}; P50 {{ms .Latency.P50}}, P90 {{ms .Latency.P90}}, P95 {{ms .Latency.P95}}, P99 {{ms .Latency.P99}}, P99.9 {{ms .Latency.P999}}</td></tr>
{{if or .Cache.Hits .Cache.Misses}}<tr><th>cache</th><td>{{pct .Cache.HitRate}} hits ({{.Cache.Hits}} HIT, {{.Cache.Misses}} MISS)</td></tr>{{end}}
{{if .RateLimit.WithHeaders}}<tr><th>rate-limit headers</th><td>{{if .RateLimit.Consistent}}consistent{{else}}<span class="fail">inconsistent</span>{{end}}, limit {{.RateLimit.MinLimit}}{{if ne .RateLimit.MinLimit .RateLimit.MaxLimit}}..{{.RateLimit.MaxLimit}}{{end}}</td></tr>{{end}}
{{range .Checks}}<tr><th>check</th><td class="{{if .Pass}}pass{{else}}fail{{end}}">{{.String}}</td></tr>{{end}}
</table>
<h3>Latency histogram (ms, log scale)</h3>{{.Histogram}}
<h3>Latency over time (ms per second)</h3>
<div class="legend"><span style="color:#0969da">&#9632; P50</span><span style="color:#bf8700">&#9632; P99</span><span style="color:#cf222e">&#9632; max</span></div>{{.LatencyOT}}
<h3>Throughput over time (responses per second)</h3>
<div class="legend"><span style="color:#2da44e">&#9632; succeeded</span><span style="color:#cf222e">&#9632; errors</span><span style="color:#d4a72c">&#9632; 429</span></div>{{.Throughput}}
{{end}}
{{with .Ledger}}
<h2 id="ledger">Ledger check {{if .Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span>{{end}}</h2>
<table><tr><th>batch</th><th>produced</th><th>available</th><th>consumed (ledger)</th><th>adjust</th><th>reversal</th><th>seen OK</th><th>uncertain</th><th>movements: ledger (seen OK)</th><th>mass balance</th><th>result</th></tr>
{{range .Batches}}<tr><td>{{.BatchID}}</td><td>{{.QuantityProduced}}</td><td>{{.QuantityAvailable}}</td><td>{{.LedgerConsumed}}</td><td>{{.LedgerAdjusted}}</td><td>{{.LedgerReversed}}</td><td>{{.SeenConsumed}}</td><td>{{.UncertainConsumed}}</td><td>{{.MovedText}}</td><td>{{.MassBalanceText}}</td>
<td class="{{if .Pass}}pass{{else}}fail{{end}}">{{if .Pass}}ok{{else}}{{range .Problems}}{{.}}<br>{{end}}{{end}}</td></tr>{{end}}
</table>
{{end}}
</body></html>
`))

const (
	chartW, chartH                     = 940.0, 220.0
	padLeft, padRight, padTop, padBott = 60.0, 15.0, 10.0, 30.0
)

type chart struct {
	b          strings.Builder
	xMax, yMax float64
}

func newChart(xMax, yMax float64) *chart {
	c := &chart{xMax: max(xMax, 1), yMax: niceCeil(max(yMax, 1e-9))}
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g">`, chartW, chartH, chartW, chartH)
	for i := 0; i <= 4; i++ {
		v := c.yMax * float64(i) / 4
		y := c.y(v)
		fmt.Fprintf(&c.b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/>`, padLeft, y, chartW-padRight, y)
		fmt.Fprintf(&c.b, `<text x="%g" y="%.1f" text-anchor="end">%s</text>`, padLeft-4, y+4, shortNumber(v))
	}
	return c
}

func (c *chart) x(v float64) float64 { return padLeft + v/c.xMax*(chartW-padLeft-padRight) }
func (c *chart) y(v float64) float64 { return chartH - padBott - v/c.yMax*(chartH-padTop-padBott) }

func (c *chart) xLabel(v float64, label string) {
	fmt.Fprintf(&c.b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`, c.x(v), chartH-padBott+14, template.HTMLEscapeString(label))
}

func (c *chart) rect(x0, x1, y0, y1 float64, color string) {
	if y1 <= y0 {
		return
	}
	fmt.Fprintf(&c.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`,
		c.x(x0), c.y(y1), max(c.x(x1)-c.x(x0)-1, 1), c.y(y0)-c.y(y1), color)
}

func (c *chart) polyline(xs, ys []float64, color string) {
	if len(xs) == 0 {
		return
	}
	var pts strings.Builder
	for i := range xs {
		fmt.Fprintf(&pts, "%.1f,%.1f ", c.x(xs[i]), c.y(ys[i]))
	}
	fmt.Fprintf(&c.b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, color, strings.TrimSpace(pts.String()))
}

func (c *chart) done() template.HTML {
	c.b.WriteString(`</svg>`)
	return template.HTML(c.b.String()) // built only from numbers and escaped labels
}

func emptyChart(msg string) template.HTML {
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="40"><text x="10" y="25">%s</text></svg>`, chartW, template.HTMLEscapeString(msg)))
}

func histogramSVG(buckets []HistogramBucket) template.HTML {
	if len(buckets) == 0 {
		return emptyChart("no latency recorded")
	}
	var top float64
	for _, b := range buckets {
		top = max(top, float64(b.Count))
	}
	c := newChart(float64(len(buckets)), top)
	for i, b := range buckets {
		c.rect(float64(i), float64(i+1), 0, float64(b.Count), "#0969da")
	}
	step := max(1, len(buckets)/8)
	for i := 0; i < len(buckets); i += step {
		c.xLabel(float64(i+1), shortNumber(buckets[i].UpToMs))
	}
	return c.done()
}

func latencySVG(tl []SecondStats) template.HTML {
	if len(tl) == 0 {
		return emptyChart("no data")
	}
	var top float64
	xs := make([]float64, len(tl))
	p50, p99, mx := make([]float64, len(tl)), make([]float64, len(tl)), make([]float64, len(tl))
	for i, s := range tl {
		xs[i] = float64(i) + 0.5
		p50[i], p99[i], mx[i] = s.P50Ms, s.P99Ms, s.MaxMs
		top = max(top, s.MaxMs)
	}
	c := newChart(float64(len(tl)), top)
	c.polyline(xs, mx, "#cf222e")
	c.polyline(xs, p99, "#bf8700")
	c.polyline(xs, p50, "#0969da")
	timeLabels(c, len(tl))
	return c.done()
}

func throughputSVG(tl []SecondStats) template.HTML {
	if len(tl) == 0 {
		return emptyChart("no data")
	}
	var top float64
	for _, s := range tl {
		top = max(top, float64(s.Requests))
	}
	c := newChart(float64(len(tl)), top)
	for i, s := range tl {
		x0, x1 := float64(i), float64(i+1)
		ok, bad, lim := float64(s.Succeeded), float64(s.Failed), float64(s.RateLimited)
		c.rect(x0, x1, 0, ok, "#2da44e")
		c.rect(x0, x1, ok, ok+bad, "#cf222e")
		c.rect(x0, x1, ok+bad, ok+bad+lim, "#d4a72c")
	}
	timeLabels(c, len(tl))
	return c.done()
}

func timeLabels(c *chart, seconds int) {
	step := max(1, seconds/10)
	for s := 0; s <= seconds; s += step {
		c.xLabel(float64(s), fmt.Sprintf("%ds", s))
	}
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, for axis labels.
func niceCeil(v float64) float64 {
	exp := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*exp >= v {
			return m * exp
		}
	}
	return 10 * exp
}

func shortNumber(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.3gk", v/1e3)
	case v >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
