package web

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"batchtrack/epcis"
	"batchtrack/gs1"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// The SimpleEventQuery of the REST binding: GET /epcis/events with its
// query parameters, answered with an EPCISQueryDocument.

// Page sizes of GET /epcis/events (perPage).
const (
	defaultPerPage = 30
	maxPerPage     = 1000
)

// matchParams maps each MATCH_ parameter to the query field it fills.
var matchParams = map[string]func(*inventory.EventQuery) *[]inventory.KeyMatch{
	"MATCH_epc":            func(q *inventory.EventQuery) *[]inventory.KeyMatch { return &q.EPC },
	"MATCH_parentID":       func(q *inventory.EventQuery) *[]inventory.KeyMatch { return &q.ParentID },
	"MATCH_inputEPC":       func(q *inventory.EventQuery) *[]inventory.KeyMatch { return &q.InputEPC },
	"MATCH_outputEPC":      func(q *inventory.EventQuery) *[]inventory.KeyMatch { return &q.OutputEPC },
	"MATCH_anyEPC":         func(q *inventory.EventQuery) *[]inventory.KeyMatch { return &q.AnyEPC },
	"MATCH_epcClass":       func(q *inventory.EventQuery) *[]inventory.KeyMatch { return &q.EPCClass },
	"MATCH_inputEPCClass":  func(q *inventory.EventQuery) *[]inventory.KeyMatch { return &q.InputEPCClass },
	"MATCH_outputEPCClass": func(q *inventory.EventQuery) *[]inventory.KeyMatch { return &q.OutputEPCClass },
	"MATCH_anyEPCClass":    func(q *inventory.EventQuery) *[]inventory.KeyMatch { return &q.AnyEPCClass },
}

// timeParams maps each time bound to the query field it fills.
var timeParams = map[string]func(*inventory.EventQuery) **time.Time{
	"GE_eventTime":  func(q *inventory.EventQuery) **time.Time { return &q.GEEventTime },
	"LT_eventTime":  func(q *inventory.EventQuery) **time.Time { return &q.LTEventTime },
	"GE_recordTime": func(q *inventory.EventQuery) **time.Time { return &q.GERecordTime },
	"LT_recordTime": func(q *inventory.EventQuery) **time.Time { return &q.LTRecordTime },
}

// keyParams are the location parameters, whose values are identifiers.
var keyParams = map[string]func(*inventory.EventQuery) *[]string{
	"EQ_readPoint":   func(q *inventory.EventQuery) *[]string { return &q.ReadPoints },
	"WD_readPoint":   func(q *inventory.EventQuery) *[]string { return &q.ReadPointsWD },
	"EQ_bizLocation": func(q *inventory.EventQuery) *[]string { return &q.BizLocations },
	"WD_bizLocation": func(q *inventory.EventQuery) *[]string { return &q.BizLocationsWD },
}

// typedParams are the parameters named after a type:
// EQ_bizTransaction_po, EQ_source_owning_party...
var typedParams = []struct {
	prefix string
	voc    gs1.Vocabulary
	field  func(*inventory.EventQuery) *map[string][]string
}{
	{"EQ_bizTransaction_", gs1.BizTransactionTypeVocabulary, func(q *inventory.EventQuery) *map[string][]string { return &q.BizTransactions }},
	{"EQ_source_", gs1.SourceDestTypeVocabulary, func(q *inventory.EventQuery) *map[string][]string { return &q.Sources }},
	{"EQ_destination_", gs1.SourceDestTypeVocabulary, func(q *inventory.EventQuery) *map[string][]string { return &q.Destinations }},
}

var quantityOps = map[string]string{
	"EQ_quantity": "eq", "GT_quantity": "gt", "GE_quantity": "ge", "LT_quantity": "lt", "LE_quantity": "le",
}

// parseEventQuery reads the SimpleEventQuery parameters. Every problem is
// collected; an unknown parameter or a bad value is 400
// QueryParameterException.
func parseEventQuery(args *fiber.Ctx) (inventory.EventQuery, error) {
	var (
		q    = inventory.EventQuery{PerPage: defaultPerPage}
		errs inventory.ValidationError
		seen = map[string]bool{}
	)
	args.Context().QueryArgs().VisitAll(func(k, v []byte) {
		name, value := string(k), strings.TrimSpace(string(v))
		if seen[name] {
			errs.Add(name, "is given twice: give one value, with alternatives separated by |")
			return
		}
		seen[name] = true
		list := splitPipes(value)
		if len(list) == 0 && name != "EXISTS_errorDeclaration" {
			errs.Add(name, "needs a value")
			return
		}
		switch {
		case name == "eventType":
			for _, t := range list {
				if !slices.Contains(gs1.EventTypes, t) {
					errs.Add(name, strconv.Quote(t)+" is not an event type: use "+strings.Join(gs1.EventTypes, ", "))
				}
			}
			q.EventTypes = list
		case timeParams[name] != nil:
			t, err := time.Parse(time.RFC3339Nano, value)
			if err != nil {
				errs.Add(name, "must be a date-time such as 2026-01-31T12:00:00Z")
				return
			}
			t = t.UTC()
			*timeParams[name](&q) = &t
		case name == "EQ_action":
			for _, a := range list {
				if !slices.Contains(gs1.Actions, a) {
					errs.Add(name, "must be ADD, OBSERVE or DELETE")
				}
			}
			q.Actions = list
		case name == "EQ_bizStep":
			q.BizSteps = normalizeAll(&errs, name, gs1.BizStepVocabulary, list)
		case name == "EQ_disposition":
			q.Dispositions = normalizeAll(&errs, name, gs1.DispositionVocabulary, list)
		case name == "EQ_errorReason":
			q.ErrorReasons = normalizeAll(&errs, name, gs1.ErrorReasonVocabulary, list)
		case keyParams[name] != nil:
			for _, v := range list {
				*keyParams[name](&q) = append(*keyParams[name](&q), epcis.Key(v))
			}
		case matchParams[name] != nil:
			for _, v := range list {
				key, prefix := epcis.MatchKey(v)
				*matchParams[name](&q) = append(*matchParams[name](&q), inventory.KeyMatch{Key: key, Prefix: prefix})
			}
		case quantityOps[name] != "":
			n, err := quantity.Parse(value)
			if err != nil {
				errs.Add(name, "must be a number with at most 3 decimals")
				return
			}
			q.Quantity = append(q.Quantity, inventory.QuantityFilter{Op: quantityOps[name], Value: n})
		case name == "EQ_eventID":
			q.EventIDs = list
		case name == "EQ_correctiveEventID":
			q.CorrectiveEventIDs = list
		case name == "EQ_transformationID":
			q.TransformationIDs = list
		case name == "EXISTS_errorDeclaration":
			if value != "" && value != "true" {
				errs.Add(name, "takes no value (or true)")
			}
			q.ExistsErrorDeclaration = true
		case name == "orderBy":
			if value != "eventTime" && value != "recordTime" {
				errs.Add(name, "must be eventTime or recordTime")
			}
			q.OrderBy = value
		case name == "orderDirection":
			if value != "ASC" && value != "DESC" {
				errs.Add(name, "must be ASC or DESC")
			}
			q.Ascending = value == "ASC"
		case name == "eventCountLimit" || name == "maxEventCount":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				errs.Add(name, "must be a whole number of at least 1")
				return
			}
			if name == "eventCountLimit" {
				q.EventCountLimit = n
			} else {
				q.MaxEventCount = n
			}
		case name == "perPage":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 || n > maxPerPage {
				errs.Add(name, "must be a whole number between 1 and "+strconv.Itoa(maxPerPage))
				return
			}
			q.PerPage = n
		case name == "nextPageToken":
			q.PageToken = value
		default:
			if !typedParam(&q, &errs, name, list) {
				errs.Add(name, "is not a parameter of SimpleEventQuery")
			}
		}
	})
	if q.EventCountLimit > 0 && q.MaxEventCount > 0 {
		errs.Add("eventCountLimit", "and maxEventCount cannot be used together")
	}
	if q.EventCountLimit > 0 && q.OrderBy == "" {
		errs.Add("eventCountLimit", "needs orderBy")
	}
	if seen["orderDirection"] && q.OrderBy == "" {
		errs.Add("orderDirection", "needs orderBy")
	}
	if len(errs.Fields) > 0 {
		return q, queryProblem(&errs)
	}
	return q, nil
}

// typedParam reads EQ_bizTransaction_{type}, EQ_source_{type} and
// EQ_destination_{type}; it says whether name was one of them.
func typedParam(q *inventory.EventQuery, errs *inventory.ValidationError, name string, list []string) bool {
	for _, p := range typedParams {
		typ, ok := strings.CutPrefix(name, p.prefix)
		if !ok || typ == "" {
			continue
		}
		bare, err := p.voc.Normalize(typ)
		if err != nil {
			errs.Add(name, err.Error())
			return true
		}
		m := p.field(q)
		if *m == nil {
			*m = map[string][]string{}
		}
		for _, v := range list {
			(*m)[bare] = append((*m)[bare], epcis.Key(v))
		}
		return true
	}
	return false
}

func normalizeAll(errs *inventory.ValidationError, name string, voc gs1.Vocabulary, list []string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		bare, err := voc.Normalize(v)
		if err != nil {
			errs.Add(name, err.Error())
			continue
		}
		out = append(out, bare)
	}
	return out
}

// splitPipes splits a pipe-separated list, dropping empty items.
func splitPipes(v string) []string {
	var out []string
	for _, s := range strings.Split(v, "|") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// queryProblem is the binding's 400 for bad query parameters.
func queryProblem(v *inventory.ValidationError) *Problem {
	p := epcisProblem(fiber.StatusBadRequest, "QueryParameterException", v.Sentence())
	p.Errors = v.Fields
	return p
}

// queryEvents is GET /epcis/events.
func (s *Server) queryEvents(c *fiber.Ctx) error {
	q, err := parseEventQuery(c)
	if err != nil {
		return err
	}
	format, _ := epcis.ParseFormat(c.Get("GS1-EPC-Format"))
	page, err := s.deps.Inventory.QueryEvents(c.UserContext(), q)
	if err != nil {
		return err
	}
	if q.MaxEventCount > 0 && len(page.Events) > q.MaxEventCount {
		return epcisProblem(fiber.StatusRequestEntityTooLarge, "QueryTooLargeException",
			"More than maxEventCount ("+strconv.Itoa(q.MaxEventCount)+") events match.")
	}
	if page.NextPageToken != "" {
		args := c.Context().QueryArgs()
		v := url.Values{}
		args.VisitAll(func(k, val []byte) {
			if string(k) != "nextPageToken" {
				v.Set(string(k), string(val))
			}
		})
		v.Set("nextPageToken", page.NextPageToken)
		c.Set(fiber.HeaderLink, "</epcis/events?"+v.Encode()+`>; rel="next"`)
	}
	body, err := queryDocument(page.Events, format, time.Now())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, epcisContentType(c))
	return c.Status(fiber.StatusOK).Send(body)
}

// showEPCISEvent is GET /epcis/events/{eventID}: a query document holding
// that one event.
func (s *Server) showEPCISEvent(c *fiber.Ctx) error {
	eventID, err := url.PathUnescape(c.Params("eventID"))
	if err != nil {
		return epcisProblem(fiber.StatusNotFound, "NoSuchResourceException", "The event ID is not a valid escaped URI.")
	}
	format, _ := epcis.ParseFormat(c.Get("GS1-EPC-Format"))
	ev, err := s.deps.Inventory.GetEventByEventID(c.UserContext(), eventID)
	if err != nil {
		return err
	}
	body, err := queryDocument([]inventory.StoredEvent{ev}, format, time.Now())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, epcisContentType(c))
	return c.Status(fiber.StatusOK).Send(body)
}

// epcisContentType answers JSON-LD to a client that asks for it.
func epcisContentType(c *fiber.Ctx) string {
	if strings.Contains(c.Get(fiber.HeaderAccept), "application/ld+json") {
		return "application/ld+json"
	}
	return fiber.MIMEApplicationJSON
}

// queryDocument writes events as an EPCISQueryDocument. The @context
// declares every namespace the events' extensions use; an event whose
// prefix means something else than in an earlier event carries its own.
func queryDocument(events []inventory.StoredEvent, f epcis.Format, now time.Time) ([]byte, error) {
	namespaces := map[string]string{}
	rendered := make([]json.RawMessage, 0, len(events))
	for _, ev := range events {
		raw, err := epcis.Render(ev.Document, ev.EventID, ev.RecordTime, f)
		if err != nil {
			return nil, err
		}
		if len(ev.ErrorDeclaration) > 0 {
			// Declared in error after it was captured: the declaration shows
			// on the event; the stored document stays as received.
			if raw, err = withField(raw, "errorDeclaration", ev.ErrorDeclaration); err != nil {
				return nil, err
			}
		}
		own := map[string]string{}
		for prefix, iri := range ev.Context {
			if have, ok := namespaces[prefix]; ok && have != iri {
				own[prefix] = iri
				continue
			}
			namespaces[prefix] = iri
		}
		if len(own) > 0 {
			if raw, err = withOwnContext(raw, own); err != nil {
				return nil, err
			}
		}
		rendered = append(rendered, raw)
	}
	ctx := []any{epcisContextURI}
	for _, prefix := range slices.Sorted(maps.Keys(namespaces)) {
		ctx = append(ctx, map[string]string{prefix: namespaces[prefix]})
	}
	ctxJSON, err := json.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"@context":`)
	b.Write(ctxJSON)
	b.WriteString(`,"type":"EPCISQueryDocument","schemaVersion":"2.0","creationDate":"`)
	b.WriteString(now.UTC().Format(time.RFC3339Nano))
	b.WriteString(`","epcisBody":{"queryResults":{"queryName":"SimpleEventQuery","resultsBody":{"eventList":[`)
	for i, raw := range rendered {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(raw)
	}
	b.WriteString(`]}}}}`)
	return b.Bytes(), nil
}

// withOwnContext adds an @context to one event object.
func withOwnContext(raw json.RawMessage, ns map[string]string) (json.RawMessage, error) {
	ctx, err := json.Marshal([]any{epcisContextURI, ns})
	if err != nil {
		return nil, err
	}
	return withField(raw, "@context", ctx)
}

// withField sets one member of an event object, keeping the others in
// their order.
func withField(raw json.RawMessage, name string, value json.RawMessage) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	if _, ok := obj[name]; ok {
		return raw, nil
	}
	key, err := json.Marshal(name)
	if err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(raw)
	out := make([]byte, 0, len(body)+len(key)+len(value)+2)
	out = append(out, body[:len(body)-1]...)
	if len(obj) > 0 {
		out = append(out, ',')
	}
	out = append(out, key...)
	out = append(out, ':')
	out = append(out, value...)
	return append(out, '}'), nil
}
