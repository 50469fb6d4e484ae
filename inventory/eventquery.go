package inventory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"batchtrack/db"
	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/quantity"
)

// EventQuery is an EPCIS 2.0 query (SimpleEventQuery) over stored events.
// Lists are ORed within, filters ANDed. Identifier values are canonical
// keys (epcis.Key).
type EventQuery struct {
	EventTypes, Actions, BizSteps, Dispositions                   []string
	GEEventTime, LTEventTime, GERecordTime, LTRecordTime          *time.Time
	ReadPoints, BizLocations                                      []string // EQ_: the key itself
	ReadPointsWD, BizLocationsWD                                  []string // WD_: the key or any key under it
	EPC, ParentID, InputEPC, OutputEPC, AnyEPC                    []KeyMatch
	EPCClass, InputEPCClass, OutputEPCClass, AnyEPCClass          []KeyMatch
	Quantity                                                      []QuantityFilter // all must hold for one quantity element
	EventIDs, ErrorReasons, CorrectiveEventIDs, TransformationIDs []string
	ExistsErrorDeclaration                                        bool
	// Type -> keys: EQ_bizTransaction_{type}, EQ_source_{type},
	// EQ_destination_{type}; "" is the untyped business transaction.
	BizTransactions, Sources, Destinations map[string][]string
	HideDeclaredInError                    bool
	OrderBy                                string // "eventTime" (default) or "recordTime"
	Ascending                              bool   // default newest first
	EventCountLimit                        int    // at most this many events in all pages; 0: no limit
	MaxEventCount                          int    // more matches than this: QueryTooLargeError; 0: no limit
	PerPage                                int    // 1..1000, default 30
	PageToken                              string // from the previous page
}

// KeyMatch matches an identifier's key exactly, or every key that starts
// with Key when Prefix (an EPC pattern such as urn:epc:idpat:sgtin:4012345.*).
type KeyMatch struct {
	Key    string
	Prefix bool
}

// QuantityFilter is EQ_/GT_/GE_/LT_/LE_quantity on quantity elements.
type QuantityFilter struct {
	Op    string // eq gt ge lt le
	Value quantity.Quantity
}

// EventQueryPage is one page of a query's events.
type EventQueryPage struct {
	Events        []StoredEvent
	NextPageToken string // "" on the last page
}

const (
	defaultPerPage = 30
	maxPerPage     = 1000
)

// QueryTooLargeError: more events match than the query's MaxEventCount.
type QueryTooLargeError struct{ Max int }

func (e *QueryTooLargeError) Error() string {
	return fmt.Sprintf("more than %d events match", e.Max)
}
func (e *QueryTooLargeError) Kind() Kind { return KindQueryTooLarge }
func (e *QueryTooLargeError) Sentence() string {
	return fmt.Sprintf("More than %d events match the query; narrow it down.", e.Max)
}

// QueryEvents runs an EPCIS query, one page at a time (keyset pagination
// on the sort time and the row id).
func (s *Service) QueryEvents(ctx context.Context, q EventQuery) (EventQueryPage, error) {
	plan, err := planEventQuery(q)
	if err != nil {
		return EventQueryPage{}, err
	}
	if q.MaxEventCount > 0 && q.PageToken == "" {
		var n int
		sql, args := plan.countSQL(q.MaxEventCount + 1)
		if err := s.store.Pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			return EventQueryPage{}, db.Translate(err)
		}
		if n > q.MaxEventCount {
			return EventQueryPage{}, &QueryTooLargeError{Max: q.MaxEventCount}
		}
	}
	if plan.pageSize == 0 { // EventCountLimit reached on an earlier page
		return EventQueryPage{Events: []StoredEvent{}}, nil
	}
	sql, args := plan.sql()
	rows, err := s.store.Pool.Query(ctx, sql, args...)
	if err != nil {
		return EventQueryPage{}, db.Translate(err)
	}
	defer rows.Close()
	var page EventQueryPage
	var lastTime time.Time
	for rows.Next() {
		var r db.GetStoredEventByEventIDRow
		var sortTime time.Time
		if err := rows.Scan(&r.ID, &r.EventID, &r.HashID, &r.RecordedAt, &r.Document, &r.Context,
			&r.DeclaredInErrorAt, &r.CaptureJobID, &r.SourceType, &r.Actor, &r.CorrectiveEventIds, &r.Declaration,
			&sortTime); err != nil {
			return EventQueryPage{}, err
		}
		if len(page.Events) == plan.pageSize {
			last := page.Events[len(page.Events)-1]
			page.NextPageToken = queryToken{Order: plan.order, Time: lastTime, ID: last.ID,
				Returned: plan.returned + len(page.Events)}.encode()
			break
		}
		page.Events = append(page.Events, storedEventFromRow(r))
		lastTime = sortTime
	}
	if err := rows.Err(); err != nil {
		return EventQueryPage{}, db.Translate(err)
	}
	if page.Events == nil {
		page.Events = []StoredEvent{}
	}
	return page, nil
}

// queryToken is the opaque position of a page: after (Time, ID) in Order,
// with Returned events shown on earlier pages (for EventCountLimit).
type queryToken struct {
	Order    string    `json:"o"`
	Time     time.Time `json:"t"`
	ID       uuid.UUID `json:"id"`
	Returned int       `json:"r,omitempty"`
}

func (t queryToken) encode() string {
	n := t.Order
	v := int64(t.Returned)
	return cursor{Time: &t.Time, Name: &n, Version: &v, ID: t.ID}.encode()
}

// eventQueryPlan is a query made SQL: the WHERE clauses with numbered
// placeholders and their arguments, the order and the page.
type eventQueryPlan struct {
	where    []string
	args     []any
	column   string // e.event_time or e.recorded_at
	desc     bool
	order    string // "eventTime:desc" etc., carried by the page token
	after    *queryToken
	pageSize int
	returned int
}

// arg adds a value and returns its placeholder.
func (p *eventQueryPlan) arg(v any) string {
	p.args = append(p.args, v)
	return fmt.Sprintf("$%d", len(p.args))
}

// likePrefix is a LIKE pattern for keys starting with s.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

func planEventQuery(q EventQuery) (*eventQueryPlan, error) {
	var v ValidationError
	p := &eventQueryPlan{column: "e.event_time", desc: !q.Ascending}
	switch q.OrderBy {
	case "", "eventTime":
		p.order = "eventTime"
	case "recordTime":
		p.order, p.column = "recordTime", "e.recorded_at"
	default:
		v.Add("orderBy", "must be eventTime or recordTime")
	}
	if p.desc {
		p.order += ":desc"
	} else {
		p.order += ":asc"
	}
	p.pageSize = defaultPerPage
	switch {
	case q.PerPage < 0 || q.PerPage > maxPerPage:
		v.Add("perPage", "must be between 1 and "+itoa(maxPerPage))
	case q.PerPage > 0:
		p.pageSize = q.PerPage
	}
	if q.EventCountLimit < 0 {
		v.Add("eventCountLimit", "must be positive")
	}
	if q.MaxEventCount < 0 {
		v.Add("maxEventCount", "must be positive")
	}
	if q.PageToken != "" {
		c := decodeCursor(q.PageToken, "t", &v)
		switch {
		case c == nil:
		case c.Name == nil || *c.Name != p.order || c.Version == nil:
			v.Add("nextPageToken", "is from a query with another order")
		default:
			p.after = &queryToken{Order: *c.Name, Time: *c.Time, ID: c.ID, Returned: int(*c.Version)}
			p.returned = p.after.Returned
		}
	}
	for _, t := range q.EventTypes {
		if !slices.Contains(gs1.EventTypes, t) {
			v.Add("eventType", "must be one of "+strings.Join(gs1.EventTypes, ", "))
		}
	}
	for _, qf := range q.Quantity {
		if !slices.Contains([]string{"eq", "gt", "ge", "lt", "le"}, qf.Op) {
			v.Add("quantity", "operator must be eq, gt, ge, lt or le")
		}
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	if q.EventCountLimit > 0 {
		left := q.EventCountLimit - p.returned
		p.pageSize = max(min(p.pageSize, left), 0)
	}

	bare := func(voc gs1.Vocabulary, vals []string) []string {
		out := make([]string, len(vals))
		for i, s := range vals {
			out[i] = s
			if b, err := voc.Normalize(s); err == nil {
				out[i] = b
			}
		}
		return out
	}
	anyOf := func(col string, vals []string) {
		switch len(vals) {
		case 0:
		case 1: // plain equality lets (col, time) indexes return rows in order
			p.where = append(p.where, col+" = "+p.arg(vals[0]))
		default:
			p.where = append(p.where, col+" = ANY("+p.arg(vals)+")")
		}
	}
	anyOf("e.event_type", q.EventTypes)
	anyOf("e.action", q.Actions)
	anyOf("e.biz_step", bare(gs1.BizStepVocabulary, q.BizSteps))
	anyOf("e.disposition", bare(gs1.DispositionVocabulary, q.Dispositions))
	anyOf("e.event_id", q.EventIDs)
	anyOf("e.error_reason", q.ErrorReasons)
	anyOf("e.transformation_id", q.TransformationIDs)
	anyOf("e.read_point", q.ReadPoints)
	anyOf("e.biz_location", q.BizLocations)
	for _, t := range []struct {
		col, op string
		at      *time.Time
	}{
		{"e.event_time", ">=", q.GEEventTime}, {"e.event_time", "<", q.LTEventTime},
		{"e.recorded_at", ">=", q.GERecordTime}, {"e.recorded_at", "<", q.LTRecordTime},
	} {
		if t.at != nil {
			p.where = append(p.where, t.col+" "+t.op+" "+p.arg(*t.at))
		}
	}
	within := func(col string, keys []string) {
		if len(keys) == 0 {
			return
		}
		var or []string
		for _, k := range keys {
			or = append(or, col+" = "+p.arg(k), col+" LIKE "+p.arg(likePrefix(k+"/")))
		}
		p.where = append(p.where, "("+strings.Join(or, " OR ")+")")
	}
	within("e.read_point", q.ReadPointsWD)
	within("e.biz_location", q.BizLocationsWD)

	instances, classes := "NOT ee.is_class", "ee.is_class"
	for _, f := range []struct {
		matches []KeyMatch
		roles   []string
		class   string
	}{
		{q.EPC, []string{epcis.RoleEPC, epcis.RoleChild}, instances},
		{q.ParentID, []string{epcis.RoleParent}, instances},
		{q.InputEPC, []string{epcis.RoleInput}, instances},
		{q.OutputEPC, []string{epcis.RoleOutput}, instances},
		{q.AnyEPC, nil, instances},
		{q.EPCClass, []string{epcis.RoleEPC, epcis.RoleChild}, classes},
		{q.InputEPCClass, []string{epcis.RoleInput}, classes},
		{q.OutputEPCClass, []string{epcis.RoleOutput}, classes},
		{q.AnyEPCClass, nil, classes},
	} {
		if len(f.matches) == 0 {
			continue
		}
		var or []string
		for _, m := range f.matches {
			if m.Prefix {
				or = append(or, "ee.key LIKE "+p.arg(likePrefix(m.Key)))
			} else {
				or = append(or, "ee.key = "+p.arg(m.Key))
			}
		}
		cond := "(" + strings.Join(or, " OR ") + ") AND " + f.class
		if f.roles != nil {
			cond += " AND ee.role = ANY(" + p.arg(f.roles) + ")"
		}
		p.where = append(p.where, "e.id IN (SELECT ee.event_id FROM event_epcs ee WHERE "+cond+")")
	}
	if len(q.Quantity) > 0 {
		conds := []string{"ee.is_class", "ee.quantity IS NOT NULL"}
		ops := map[string]string{"eq": "=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
		for _, qf := range q.Quantity {
			conds = append(conds, "ee.quantity "+ops[qf.Op]+" "+p.arg(qf.Value.String())+"::numeric")
		}
		p.where = append(p.where, "e.id IN (SELECT ee.event_id FROM event_epcs ee WHERE "+strings.Join(conds, " AND ")+")")
	}
	if len(q.CorrectiveEventIDs) > 0 {
		p.where = append(p.where, "e.corrective_event_ids && "+p.arg(q.CorrectiveEventIDs)+"::text[]")
	}
	if q.ExistsErrorDeclaration {
		p.where = append(p.where, "e.declared_in_error_at IS NOT NULL")
	}
	if q.HideDeclaredInError {
		p.where = append(p.where, "e.declared_in_error_at IS NULL")
	}
	for _, typ := range sortedKeys(q.BizTransactions) {
		p.where = append(p.where, "e.id IN (SELECT bt.event_id FROM event_biz_transactions bt WHERE bt.type = "+
			p.arg(typ)+" AND bt.key = ANY("+p.arg(q.BizTransactions[typ])+"))")
	}
	for kind, m := range map[string]map[string][]string{"source": q.Sources, "destination": q.Destinations} {
		for _, typ := range sortedKeys(m) {
			p.where = append(p.where, "e.id IN (SELECT ep.event_id FROM event_parties ep WHERE ep.kind = "+p.arg(kind)+
				" AND ep.type = "+p.arg(typ)+" AND ep.key = ANY("+p.arg(m[typ])+"))")
		}
	}
	return p, nil
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (p *eventQueryPlan) whereSQL(extra ...string) string {
	all := append(slices.Clone(p.where), extra...)
	if len(all) == 0 {
		return ""
	}
	return "\nWHERE " + strings.Join(all, "\n  AND ")
}

// sql is the page query: pageSize+1 rows, to know whether a page follows.
func (p *eventQueryPlan) sql() (string, []any) {
	dir, cmp := "DESC", "<"
	if !p.desc {
		dir, cmp = "ASC", ">"
	}
	var extra []string
	if p.after != nil {
		extra = append(extra, "("+p.column+", e.id) "+cmp+" ("+p.arg(p.after.Time)+", "+p.arg(p.after.ID)+")")
	}
	sql := "SELECT e.id, e.event_id, coalesce(e.hash_id, ''), e.recorded_at, e.document, e.context,\n" +
		"       e.declared_in_error_at, e.capture_job_id, e.source_type, e.actor, e.corrective_event_ids,\n" +
		"       (SELECT d.document -> 'errorDeclaration' FROM error_declarations d WHERE d.event_id = e.id), " + p.column + "\n" +
		"FROM events e" + p.whereSQL(extra...) +
		"\nORDER BY " + p.column + " " + dir + ", e.id " + dir +
		"\nLIMIT " + p.arg(p.pageSize+1)
	return sql, p.args
}

// countSQL counts matches up to limit (for MaxEventCount).
func (p *eventQueryPlan) countSQL(limit int) (string, []any) {
	args := slices.Clone(p.args)
	args = append(args, limit)
	return "SELECT count(*) FROM (SELECT 1 FROM events e" + p.whereSQL() + fmt.Sprintf("\nLIMIT $%d) m", len(args)), args
}

// EventQuerySQL is the SQL QueryEvents runs for q, for EXPLAIN tests.
func EventQuerySQL(q EventQuery) (string, []any, error) {
	p, err := planEventQuery(q)
	if err != nil {
		return "", nil, err
	}
	sql, args := p.sql()
	return sql, args, nil
}
