package epcis

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"batchtrack/gs1"
)

// hashID computes the CBV 2.0 event hash ID: a pre-hash string of the
// event's fields in the CBV's order, each value canonical (UTC times in
// milliseconds, GS1 identifiers as id.gs1.org Digital Links, CBV values
// as GS1 web URIs, numbers without trailing zeros), lists sorted, and the
// remaining fields (extensions, ilmd) sorted after them, as the reference
// implementation (RalphTro/epcis-event-hash-generator) does.
func (c *checker) hashID(root *node) string {
	var b strings.Builder
	b.WriteString("eventType=" + c.ev.Type)
	done := map[string]bool{"type": true, "@context": true, "eventID": true, "recordTime": true,
		"certificationInfo": true, "errorDeclaration": true}
	field := func(name string, text string) {
		done[name] = true
		if text != "" {
			b.WriteString(text)
		}
	}
	get := func(name string) *node { return root.get(name) }
	value := func(name string, canon func(string) string) string {
		n := get(name)
		if n == nil || n.kind != '"' {
			return ""
		}
		return name + "=" + canon(strings.TrimSpace(n.str))
	}
	epcs := func(name string) string {
		n := get(name)
		if n == nil || n.kind != '[' {
			return ""
		}
		var parts []string
		for _, it := range n.items {
			parts = append(parts, "epc="+canonID(it.str))
		}
		return joinSorted(name, parts)
	}
	quantities := func(name string) string {
		n := get(name)
		if n == nil || n.kind != '[' {
			return ""
		}
		var parts []string
		for _, it := range n.items {
			s := "quantityElement"
			if v := it.get("epcClass"); v != nil {
				s += "epcClass=" + canonID(v.str)
			}
			if v := it.get("quantity"); v != nil {
				s += "quantity=" + canonNumber(string(v.raw))
			}
			if v := it.get("uom"); v != nil {
				s += "uom=" + v.str
			}
			parts = append(parts, s)
		}
		return joinSorted(name, parts)
	}
	typed := func(name, idField string, voc gs1.Vocabulary) string {
		n := get(name)
		if n == nil || n.kind != '[' {
			return ""
		}
		var parts []string
		for _, it := range n.items {
			s := ""
			if v := it.get(idField); v != nil {
				s += idField + "=" + canonID(v.str)
			}
			if v := it.get("type"); v != nil {
				s += "type=" + c.canonCBV(v.str, voc)
			}
			parts = append(parts, s)
		}
		return joinSorted(name, parts)
	}
	location := func(name string) string {
		if id := get(name).get("id"); id != nil && id.kind == '"' {
			return name + "id=" + canonID(id.str)
		}
		return ""
	}

	if t := c.ev.EventTime; !t.IsZero() {
		field("eventTime", "eventTime="+t.UTC().Format("2006-01-02T15:04:05.000Z"))
	}
	field("eventTimeZoneOffset", value("eventTimeZoneOffset", identity))
	field("epcList", epcs("epcList"))
	field("parentID", value("parentID", canonID))
	field("inputEPCList", epcs("inputEPCList"))
	field("childEPCs", epcs("childEPCs"))
	field("quantityList", quantities("quantityList"))
	field("childQuantityList", quantities("childQuantityList"))
	field("inputQuantityList", quantities("inputQuantityList"))
	field("outputEPCList", epcs("outputEPCList"))
	field("outputQuantityList", quantities("outputQuantityList"))
	field("action", value("action", identity))
	field("transformationID", value("transformationID", identity))
	field("bizStep", value("bizStep", func(s string) string { return c.canonCBV(s, gs1.BizStepVocabulary) }))
	field("disposition", value("disposition", func(s string) string { return c.canonCBV(s, gs1.DispositionVocabulary) }))
	if pd := get("persistentDisposition"); pd != nil {
		s := ""
		for _, k := range []string{"set", "unset"} {
			var parts []string
			if list := pd.get(k); list != nil {
				for _, it := range list.items {
					parts = append(parts, k+"="+c.canonCBV(it.str, gs1.DispositionVocabulary))
				}
			}
			s += joinSorted("", parts)
		}
		if s != "" {
			s = "persistentDisposition" + s
		}
		field("persistentDisposition", s)
	}
	field("readPoint", location("readPoint"))
	field("bizLocation", location("bizLocation"))
	field("bizTransactionList", typed("bizTransactionList", "bizTransaction", gs1.BizTransactionTypeVocabulary))
	field("sourceList", typed("sourceList", "source", gs1.SourceDestTypeVocabulary))
	field("destinationList", typed("destinationList", "destination", gs1.SourceDestTypeVocabulary))
	if n := get("sensorElementList"); n != nil && n.kind == '[' {
		var parts []string
		for _, el := range n.items {
			parts = append(parts, c.sensorElementPreHash(el))
		}
		field("sensorElementList", joinSorted("sensorElementList", parts))
	}
	var rest []string
	for _, m := range root.members {
		if !done[m.name] {
			rest = append(rest, c.genericPreHash(m.name, m.value))
		}
	}
	b.WriteString(joinSorted("", rest))
	sum := sha256.Sum256([]byte(b.String()))
	return "ni:///sha-256;" + hex.EncodeToString(sum[:]) + "?ver=CBV2.0"
}

var sensorMetadataOrder = []string{"time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
	"dataProcessingMethod", "bizRules"}

var sensorReportOrder = []string{"type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
	"time", "microorganism", "chemicalSubstance", "value", "component", "stringValue", "booleanValue", "hexBinaryValue",
	"uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem"}

// ordered writes an object's fields in order, then its other fields
// sorted as extensions.
func (c *checker) ordered(name string, n *node, order []string) string {
	s := name
	for _, f := range order {
		if v := n.get(f); v != nil {
			s += c.leaf(f, v)
		}
	}
	var rest []string
	for _, m := range n.members {
		if !slices.Contains(order, m.name) {
			rest = append(rest, c.genericPreHash(m.name, m.value))
		}
	}
	return s + joinSorted("", rest)
}

func (c *checker) sensorElementPreHash(el *node) string {
	s := "sensorElement"
	if md := el.get("sensorMetadata"); md != nil {
		s += c.ordered("sensorMetadata", md, sensorMetadataOrder)
	}
	if reports := el.get("sensorReport"); reports != nil {
		var parts []string
		for _, r := range reports.items {
			parts = append(parts, c.ordered("sensorReport", r, sensorReportOrder))
		}
		s += joinSorted("", parts)
	}
	var rest []string
	for _, m := range el.members {
		if m.name != "sensorMetadata" && m.name != "sensorReport" {
			rest = append(rest, c.genericPreHash(m.name, m.value))
		}
	}
	return s + joinSorted("", rest)
}

// leaf is name=value for a scalar, times in UTC milliseconds.
func (c *checker) leaf(name string, n *node) string {
	switch n.kind {
	case '"':
		v := strings.TrimSpace(n.str)
		if strings.Contains(strings.ToLower(name), "time") {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return name + "=" + t.UTC().Format("2006-01-02T15:04:05.000Z")
			}
		}
		return name + "=" + c.canonValue(v)
	case '0':
		return name + "=" + canonNumber(string(n.raw))
	case 't', 'f':
		return name + "=" + string(n.raw)
	}
	return c.genericPreHash(name, n)
}

// genericPreHash writes a field the CBV order does not name: its name
// expanded to an IRI, then its value or its sorted children.
func (c *checker) genericPreHash(name string, n *node) string {
	name = c.expand(name)
	switch n.kind {
	case '{':
		var parts []string
		for _, m := range n.members {
			parts = append(parts, c.genericPreHash(m.name, m.value))
		}
		return name + joinSorted("", parts)
	case '[':
		var parts []string
		for _, it := range n.items {
			parts = append(parts, c.genericPreHash(name, it))
		}
		return joinSorted("", parts)
	case 'n':
		return name
	}
	return c.leaf(name, n)
}

// expand turns a compact IRI (ex:field) into its full IRI.
func (c *checker) expand(name string) string {
	if prefix, local, ok := strings.Cut(name, ":"); ok {
		if iri, ok := c.prefixIRI(prefix); ok {
			return iri + local
		}
	}
	return name
}

// canonValue canonicalises a value of unknown kind: a CBV URN as its web
// URI, a GS1 identifier as its Digital Link, a number without zeros.
func (c *checker) canonValue(v string) string {
	for _, voc := range []gs1.Vocabulary{gs1.BizStepVocabulary, gs1.DispositionVocabulary,
		gs1.BizTransactionTypeVocabulary, gs1.SourceDestTypeVocabulary, gs1.ErrorReasonVocabulary} {
		if bare, ok := strings.CutPrefix(v, voc.URN); ok {
			return voc.WebURI + bare
		}
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return canonNumber(v)
	}
	return canonID(v)
}

// canonCBV is a CBV value as its GS1 web URI; an extension as its IRI.
func (c *checker) canonCBV(v string, voc gs1.Vocabulary) string {
	v = strings.TrimSpace(v)
	if prefix, local, ok := strings.Cut(v, ":"); ok {
		if iri, ok := c.prefixIRI(prefix); ok {
			v = iri + local
		}
	}
	if bare, err := voc.Normalize(v); err == nil && slices.Contains(voc.Values, bare) {
		return voc.WebURI + bare
	}
	return v
}

// canonID is a GS1 identifier as an id.gs1.org Digital Link (without
// query string); anything else as it is.
func canonID(v string) string {
	v = strings.TrimSpace(v)
	if k := Key(v); k != v {
		return DigitalLink(k)
	}
	return v
}

// canonNumber writes a JSON number without leading or trailing zeros.
func canonNumber(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func identity(s string) string { return s }

// joinSorted is name followed by the sorted parts, or "" when there are
// none.
func joinSorted(name string, parts []string) string {
	parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
	if len(parts) == 0 {
		return ""
	}
	slices.Sort(parts)
	return name + strings.Join(parts, "")
}
