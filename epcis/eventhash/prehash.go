package eventhash

import (
	"slices"
	"sort"
	"strings"
)

// field is one entry of the canonical property order (CBV 2.0 section 8.9):
// a property and the order of its own properties.
type field struct {
	name string
	sub  []field
	// pairs marks bizTransactionList, sourceList and destinationList,
	// whose entries are hashed as type then value.
	pairs bool
}

func leaves(names ...string) []field {
	fs := make([]field, len(names))
	for i, n := range names {
		fs[i] = field{name: n}
	}
	return fs
}

var (
	epcs          = []field{{name: "epc"}}
	quantities    = []field{{name: "quantityElement", sub: leaves("epcClass", "quantity", "uom")}}
	propertyOrder = []field{
		{name: "eventTime"},
		{name: "eventTimeZoneOffset"},
		{name: "epcList", sub: epcs},
		{name: "parentID"},
		{name: "inputEPCList", sub: epcs},
		{name: "childEPCs", sub: epcs},
		{name: "quantityList", sub: quantities},
		{name: "childQuantityList", sub: quantities},
		{name: "inputQuantityList", sub: quantities},
		{name: "outputEPCList", sub: epcs},
		{name: "outputQuantityList", sub: quantities},
		{name: "action"},
		{name: "transformationID"},
		{name: "bizStep"},
		{name: "disposition"},
		{name: "persistentDisposition", sub: leaves("set", "unset")},
		{name: "readPoint", sub: leaves("id")},
		{name: "bizLocation", sub: leaves("id")},
		{name: "bizTransactionList", pairs: true},
		{name: "sourceList", pairs: true},
		{name: "destinationList", pairs: true},
		{name: "sensorElementList", sub: []field{{name: "sensorElement", sub: []field{
			{name: "sensorMetadata", sub: leaves("time", "startTime", "endTime", "deviceID", "deviceMetadata",
				"rawData", "dataProcessingMethod", "bizRules")},
			{name: "sensorReport", sub: leaves("type", "exception", "deviceID", "deviceMetadata", "rawData",
				"dataProcessingMethod", "time", "microorganism", "chemicalSubstance", "value", "component",
				"stringValue", "booleanValue", "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue",
				"sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem")},
		}}}},
	}
)

// Never hashed: recordTime and eventID differ between copies of one event,
// an errorDeclaration is added to it later, type is already the prefix, and
// certificationInfo is outside the CBV 2.0 property order.
var excludedFromHash = []string{"recordTime", "eventID", "type", "errorDeclaration", "certificationInfo"}

// displayName drops the sensorElementList wrapper, which CBV 2.0 leaves
// out of the pre-hash string.
func displayName(name string) string {
	if name == "sensorElementList" {
		return ""
	}
	return name
}

// preHash builds the canonical string of one event whose children have
// been corrected to the XML shape.
func preHash(eventType string, event *node) string {
	var b strings.Builder
	b.WriteString("eventType=" + eventType)
	b.WriteString(inOrder(&event.children, propertyOrder))

	// What is left: ILMD, then user extensions inside standard fields,
	// then the event's own user extensions.
	var ilmd []*node
	event.children = slices.DeleteFunc(event.children, func(c *node) bool {
		if c.name == "ilmd" {
			ilmd = append(ilmd, c)
			return true
		}
		return false
	})
	if len(ilmd) > 0 {
		b.WriteString(generic(ilmd))
	}
	for _, f := range propertyOrder {
		if f.sub == nil && !f.pairs {
			continue
		}
		kept := event.children[:0]
		for _, c := range event.children {
			if c.name == f.name {
				if inner := fieldExtensions(c.children, f.sub); inner != "" {
					b.WriteString(displayName(f.name) + inner)
					continue
				}
			}
			kept = append(kept, c)
		}
		event.children = kept
	}
	rest := slices.DeleteFunc(event.children, func(c *node) bool { return slices.Contains(excludedFromHash, c.name) })
	if len(rest) > 0 {
		b.WriteString(generic(rest))
	}
	return b.String()
}

// inOrder writes the children named in order, in that order, each name's
// entries sorted, and removes the children it used up entirely.
func inOrder(children *[]*node, order []field) string {
	var b strings.Builder
	for _, f := range order {
		var values []string
		for _, c := range *children {
			if c.name != f.name {
				continue
			}
			if s := entry(c, f); s != "" {
				values = append(values, s)
			}
		}
		*children = slices.DeleteFunc(*children, func(c *node) bool { return c.name == f.name && len(c.children) == 0 })
		sort.Strings(values)
		for _, v := range values {
			b.WriteString(v)
		}
	}
	return b.String()
}

func entry(c *node, f field) string {
	var grand string
	if f.sub != nil || f.pairs {
		if len(c.children) > 0 && allPairs(c.children) {
			grand = generic(c.children)
			c.children = nil
		} else {
			grand = inOrder(&c.children, f.sub)
		}
	}
	var text string
	if c.value != "" {
		text = strip(c.value)
		lower := strings.ToLower(c.name)
		if strings.Contains(lower, "time") && !strings.Contains(lower, "offset") {
			text = canonicalTime(text)
		} else {
			text = canonicalValue(text)
		}
		if text != "" {
			text = "=" + text
		}
	}
	if text == "" && grand == "" {
		return ""
	}
	return displayName(c.name) + text + grand
}

func allPairs(ns []*node) bool {
	for _, n := range ns {
		if !n.pair {
			return false
		}
	}
	return true
}

// generic writes elements outside the property order: name=value, then
// their children, sorted at each level.
func generic(children []*node) string {
	values := make([]string, 0, len(children))
	sortable := true
	for _, c := range children {
		if c.pair {
			values = append(values, generic(c.children))
			continue
		}
		if c.name == "bizTransaction" || c.name == "source" || c.name == "destination" {
			sortable = false
		}
		text := strip(c.value)
		if text != "" {
			text = "=" + canonicalValue(text)
		}
		values = append(values, c.name+text+generic(c.children))
	}
	if len(values) > 1 && sortable {
		sort.Strings(values)
	}
	return strings.Join(values, "")
}

// isExtension says whether a name is a user extension with a namespace.
func isExtension(name string) bool {
	return strings.Contains(name, "{") && strings.Contains(name, "/}")
}

// fieldExtensions writes the user extensions left inside standard fields,
// each prefixed by the path of field names that leads to it.
func fieldExtensions(children []*node, order []field) string {
	var b strings.Builder
	for _, f := range order {
		if f.sub == nil {
			continue
		}
		for _, c := range children {
			if c.name != f.name {
				continue
			}
			if inner := fieldExtensions(c.children, f.sub); inner != "" {
				b.WriteString(displayName(f.name) + inner)
			}
		}
	}
	var direct []*node
	for _, c := range children {
		if isExtension(c.name) {
			direct = append(direct, c)
		}
	}
	if len(direct) > 0 {
		b.WriteString(generic(direct))
	}
	return b.String()
}
