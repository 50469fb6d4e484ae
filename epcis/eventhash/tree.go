package eventhash

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// node is one element of an event in the shape the reference hashes: a
// name, a text value and child elements, as an XML element would have.
// JSON arrays become repeated elements of the same name.
type node struct {
	name     string
	value    string
	children []*node
	// pair marks a bizTransaction, source or destination: its children are
	// its type and its value, hashed in that order rather than sorted.
	pair bool
}

// namespaces maps prefixes to IRIs for keys ("example:f" becomes
// "{http://ns.example.com/}f") and for GS1 CURIE values.
type namespaces map[string]string

func (ns namespaces) key(k string) string {
	prefix, local, ok := strings.Cut(k, ":")
	if !ok {
		return k
	}
	if iri, ok := ns[prefix]; ok {
		return "{" + iri + "}" + local
	}
	return k
}

// value expands only GS1 vocabulary CURIEs; user CURIEs stay as written.
func (ns namespaces) value(v string) string {
	prefix, local, ok := strings.Cut(v, ":")
	if !ok {
		return v
	}
	if iri, ok := ns[prefix]; ok && (strings.HasPrefix(iri, "https://ref.gs1.org") || strings.HasPrefix(iri, "https://gs1.org")) {
		return iri + local
	}
	return v
}

// collectXMLNS registers the namespaces that legacy "@xmlns:prefix" keys
// declare anywhere in the event.
func (ns namespaces) collectXMLNS(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if strings.HasPrefix(k, "@xmlns") {
				if s, ok := c.(string); ok && len(k) > 7 {
					ns[k[7:]] = s
				}
				continue
			}
			ns.collectXMLNS(c)
		}
	case []any:
		for _, c := range v {
			ns.collectXMLNS(c)
		}
	}
}

var ignoredKeys = map[string]bool{"#text": true, "rdfs:comment": true, "comment": true}

// build converts a decoded JSON value into the value and children of one
// element.
func (ns namespaces) build(v any) (string, []*node) {
	switch v := v.(type) {
	case map[string]any:
		// "#text" carries an XML element's text in JSON, taken as written.
		var value string
		switch t := v["#text"].(type) {
		case string:
			value = t
		case nil:
		default:
			value, _ = ns.build(t)
		}
		var children []*node
		// Sorted: the reference sorts what it hashes, except the type and
		// value of a pair, which are put in order below.
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if ignoredKeys[k] || strings.HasPrefix(k, "@xmlns") {
				continue
			}
			name := ns.key(k)
			if list, ok := v[k].([]any); ok {
				for _, el := range list {
					val, ch := ns.build(el)
					children = append(children, &node{name: name, value: val, children: ch})
				}
				continue
			}
			val, ch := ns.build(v[k])
			children = append(children, &node{name: name, value: val, children: ch})
		}
		return value, children
	case []any:
		var children []*node
		for _, el := range v {
			val, ch := ns.build(el)
			children = append(children, &node{value: val, children: ch})
		}
		return "", children
	case string:
		return ns.value(v), nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	case json.Number:
		return pythonNumber(v), nil
	case nil:
		return "None", nil // Python's str(None)
	}
	return "", nil
}

// pythonNumber renders a JSON number as Python's json module and str()
// would: integers exactly, other numbers as the nearest float.
func pythonNumber(n json.Number) string {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		return pythonInt(s)
	}
	f, err := n.Float64()
	if err != nil && f == 0 {
		return s
	}
	return pythonFloat(f)
}

// correct reshapes the JSON structure into the XML one the property order
// is written for: "fooList" arrays become a fooList element holding foo
// elements, childEPCs hold epc elements, and the renamings below.
func correct(n *node) {
	var kept []*node
	var listNames []string
	lists := map[string]*node{}
	var childEPCs *node
	for _, c := range n.children {
		switch {
		case strings.HasSuffix(c.name, "List"):
			l, ok := lists[c.name]
			if !ok {
				l = &node{name: c.name}
				lists[c.name] = l
				listNames = append(listNames, c.name)
			}
			c.name = strings.TrimSuffix(c.name, "List")
			l.children = append(l.children, c)
		case c.name == "childEPCs":
			if childEPCs == nil {
				childEPCs = &node{name: "childEPCs"}
			}
			childEPCs.children = append(childEPCs.children, &node{name: "epc", value: c.value})
		default:
			kept = append(kept, c)
		}
	}
	for _, name := range listNames {
		kept = append(kept, lists[name])
	}
	if childEPCs != nil {
		kept = append(kept, childEPCs)
	}
	n.children = kept
	for _, c := range n.children {
		correct(c)
	}
	switch {
	case n.name == "readPoint" || n.name == "bizLocation":
		if n.value != "" && len(n.children) == 0 {
			n.children = []*node{{name: "id", value: n.value}}
			n.value = ""
		}
	case n.name == "bizTransaction" || n.name == "source" || n.name == "destination":
		var typ, val *node
		for _, c := range n.children {
			switch c.name {
			case "type":
				typ = c
			case n.name:
				val = c
			}
		}
		if val == nil {
			return
		}
		n.pair = true
		n.children = nil
		if typ != nil {
			n.children = append(n.children, &node{name: "type", value: typ.value})
		}
		n.children = append(n.children, &node{name: n.name, value: val.value})
	case n.name == "inputEPC" || n.name == "outputEPC":
		n.name = "epc"
	case n.name == "inputQuantity" || n.name == "outputQuantity" || n.name == "childQuantity" ||
		(n.name == "quantity" && len(n.children) > 0):
		n.name = "quantityElement"
	}
}
