// Package views holds batchtrack's templ components: the staff pages, the
// htmx fragments they are made of, and the forms with their errors. It
// knows nothing of HTTP: handlers in web build the models and render.
package views

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// AssetURLs turns an asset name ("app.css") into its fingerprinted URL.
type AssetURLs interface {
	URL(name string) string
}

// Chrome is what every full page needs around its content.
type Chrome struct {
	Title     string
	Section   string // the nav entry to mark: overview, batches, events, products, locations, parties, dashboard
	CSRFToken string // empty until auth wires it; sent as a meta tag and a hidden _csrf input
	Assets    AssetURLs
	RequestID string
	Flash     string // a one-time message after a redirect
	User      string
	Admin     bool // the caller may manage users and tokens, recall, adjust
	Operator  bool // the caller may record events, upload EPCIS documents, consume (operator role or above)
}

// CanOperate says whether to offer operator actions; viewers do not see them.
func (c Chrome) CanOperate() bool { return c.Operator || c.Admin }

// Asset is the URL of a static file.
func (c Chrome) Asset(name string) string {
	if c.Assets == nil {
		return "/static/" + name
	}
	return c.Assets.URL(name)
}

// HTMXConfig disables everything a strict Content-Security-Policy forbids
// (eval, inline scripts, injected indicator styles) and lets 4xx/5xx
// responses swap: forms answer 422/409/503 with their errors inline.
const HTMXConfig = `{"allowEval":false,"allowScriptTags":false,"includeIndicatorStyles":false,` +
	`"selfRequestsOnly":true,"historyRestoreAsHxRequest":true,"defaultSwapStyle":"innerHTML",` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"286","swap":false},{"code":"[23]..","swap":true},` +
	`{"code":"[45]..","swap":true,"error":true}]}`

type navItem struct {
	Section, Label, Href string
	Operator             bool // shown to operators only
}

var navItems = []navItem{
	{"overview", "Overview", "/", false},
	{"batches", "Batches", "/batches", false},
	{"events", "Events", "/events", false},
	{"stock", "Stock", "/stock/receive", true},
	{"products", "Products", "/products", false},
	{"locations", "Locations", "/locations", false},
	{"parties", "Partners", "/parties", false},
	{"recalls", "Recalls", "/recalls", false},
	{"dashboard", "Dashboard", "/dashboard", false},
}

func ariaCurrent(active bool) string {
	if active {
		return "page"
	}
	return "false"
}

// Formatting helpers used across the pages.

func fmtDate(t time.Time) string { return t.Format("2006-01-02") }

func fmtDatePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return fmtDate(*t)
}

func fmtTime(t time.Time) string { return t.Format("2006-01-02 15:04") }

// fmtQty shows a quantity in its unit, given as a Rec 20 code, by name ("12.5 kg").
func fmtQty(q quantity.Quantity, uom string) string { return q.String() + " " + unitName(uom) }

// recordEventURL opens the event form on a batch: its lot number and, as a
// number alone may name lots of several products, its product.
func recordEventURL(b inventory.Batch) string {
	return "/events/new?" + url.Values{"batch": {b.BatchNumber}, "product_id": {b.ProductID.String()}}.Encode()
}

// unitName shows a Rec 20 code as people read it ("KGM" -> "kg").
func unitName(uom string) string { return gs1.UnitName(uom) }

// UnitOptions are the units a form offers: Rec 20 codes, shown by name.
func UnitOptions() []Option {
	var out []Option
	for _, u := range gs1.Units() {
		out = append(out, Option{Value: u.Code, Label: u.Name + " — " + u.Title + " (" + u.Code + ")"})
	}
	return out
}

func percent(q, of quantity.Quantity) string {
	return strconv.Itoa(int(q.Ratio(of)*100+0.5)) + "%"
}

// progressValue is the available share in thousandths, for <progress max="1000">.
func progressValue(q, of quantity.Quantity) string {
	return strconv.Itoa(int(q.Ratio(of) * 1000))
}

func lowStock(b inventory.Batch) bool {
	return b.QuantityProduced > 0 && b.QuantityAvailable*10 < b.QuantityProduced
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// humanize turns a CBV value into words: "partially_dispensed" -> "partially dispensed".
func humanize(s string) string { return strings.ReplaceAll(s, "_", " ") }

// withQuery returns path?query with key set to value (removed when empty).
func withQuery(path string, q url.Values, key, value string) string {
	v := url.Values{}
	for k, vs := range q {
		if k == key {
			continue
		}
		for _, x := range vs {
			if x != "" {
				v.Add(k, x)
			}
		}
	}
	if value != "" {
		v.Set(key, value)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// oob marks a fragment for an htmx out-of-band swap when it rides along
// with another response.
func oob(on bool) templ.Attributes {
	if on {
		return templ.Attributes{"hx-swap-oob": "true"}
	}
	return templ.Attributes{}
}

func hintIDs(id, hint string) []string {
	if hint == "" {
		return nil
	}
	return []string{id + "-hint"}
}

func strOptions[S ~string](values []S, blank string) []Option {
	out := make([]Option, 0, len(values)+1)
	if blank != "" {
		out = append(out, Option{"", blank})
	}
	for _, v := range values {
		out = append(out, Option{string(v), humanize(string(v))})
	}
	return out
}

func ariaSort(active bool) string {
	if active {
		return "ascending"
	}
	return "none"
}

// without copies q less the named keys.
func without(q url.Values, keys ...string) url.Values {
	out := url.Values{}
	for k, vs := range q {
		skip := false
		for _, key := range keys {
			if k == key {
				skip = true
			}
		}
		if !skip {
			out[k] = vs
		}
	}
	return out
}

func strOptionsRaw(values []string, blank string) []Option {
	out := []Option{{"", blank}}
	for _, v := range values {
		out = append(out, Option{v, v})
	}
	return out
}

func countDirection(links []inventory.TraceLink, direction string) int {
	n := 0
	for _, l := range links {
		if l.Direction == direction {
			n++
		}
	}
	return n
}

// ShownStatus is the status people see, as a key for StatusLabel and the
// badge's class: "expired" (derived from the expiry date) instead of
// pending or approved; on hold, rejected and recalled say more than
// expired and stay.
func ShownStatus(b inventory.Batch, today time.Time) string {
	if b.Unusable(today, inventory.ReleaseNotRequired) == inventory.UnusableExpired {
		return "expired"
	}
	return string(b.QualityStatus)
}

// StatusLabel words a status key (ShownStatus) as the pages show it.
func StatusLabel(status string) string {
	switch inventory.QualityStatus(status) {
	case inventory.StatusPending:
		return "pending release"
	case inventory.StatusApproved:
		return "released"
	case inventory.StatusOnHold:
		return "on hold"
	}
	return status
}

// StatusReasonOf is the reason a lot's status was set, when its badge
// should show one (on hold, rejected, recalled).
func StatusReasonOf(b inventory.Batch) string {
	switch b.QualityStatus {
	case inventory.StatusOnHold, inventory.StatusRejected, inventory.StatusRecalled:
		return b.StatusReason
	}
	return ""
}

// statusOptions are the statuses a filter offers, worded as the badges.
func statusOptions(blank string) []Option {
	out := []Option{{"", blank}}
	for _, s := range inventory.QualityStatuses {
		out = append(out, Option{string(s), StatusLabel(string(s))})
	}
	return out
}

// notConsumableReason says why the consume form is disabled.
func notConsumableReason(b inventory.Batch, today time.Time, rule inventory.Release) string {
	switch why := b.Unusable(today, rule); why {
	case inventory.UnusableRejected, inventory.UnusableRecalled, inventory.UnusableOnHold, inventory.UnusablePending:
		s := "This batch cannot be consumed: it is " + why.Describe()
		if b.StatusReason != "" {
			s += " (" + b.StatusReason + ")"
		}
		return s + "."
	case inventory.UnusableExpired:
		return "This batch cannot be consumed: it expired on " + fmtDate(*b.ExpiryDate) + "."
	}
	return "This batch cannot be consumed."
}

// without2 drops the version-conflict pseudo-field, which the stale-edit
// panel explains instead.
func without2(e FieldErrors) FieldErrors {
	out := FieldErrors{}
	for k, v := range e {
		if k != "version" {
			out[k] = v
		}
	}
	return out
}

func rowID(prefix string, i int, part string) string {
	return "ev-" + prefix + "-" + strconv.Itoa(i) + "-" + part
}

// rowError joins the messages of one quantity-list row.
func rowError(errs FieldErrors, field string, i int) string {
	p := field + "[" + strconv.Itoa(i) + "]."
	var msgs []string
	for _, part := range []string{"batch_id", "quantity", "uom"} {
		if m, ok := errs[p+part]; ok {
			label := map[string]string{"batch_id": "batch", "quantity": "quantity", "uom": "unit"}[part]
			msgs = append(msgs, label+" "+m)
		}
	}
	return strings.Join(msgs, "; ")
}

func eventTitle(e EventView) string {
	if e.BizStep != nil && *e.BizStep != "" {
		h := humanize(*e.BizStep)
		return strings.ToUpper(h[:1]) + h[1:]
	}
	return e.EventType
}

func joinComma(s []string) string { return strings.Join(s, ",") }

// ariaSortNewest marks the default order, newest first, on its column.
func ariaSortNewest(sort string) string {
	if sort == "" {
		return "descending"
	}
	return "none"
}
