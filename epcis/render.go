package epcis

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Format is how identifiers are written in events served to a client.
type Format int

const (
	FormatDigitalLink Format = iota // GS1 Digital Link URIs (the default)
	FormatURN                       // EPC URNs where one can be made
	FormatAsReceived                // as captured
)

// ParseFormat reads a GS1-EPC-Format header value; an empty header or
// No_Preference gives the default, FormatDigitalLink.
func ParseFormat(h string) (Format, error) {
	switch strings.TrimSpace(h) {
	case "", "No_Preference", "Always_GS1_Digital_Link":
		return FormatDigitalLink, nil
	case "Always_EPC_URN":
		return FormatURN, nil
	case "Never_Translates":
		return FormatAsReceived, nil
	}
	return FormatDigitalLink, fmt.Errorf("GS1-EPC-Format must be No_Preference, Always_GS1_Digital_Link, Always_EPC_URN or Never_Translates, not %q", h)
}

// translate writes one identifier in format f, or keeps it as stored
// when it cannot be translated (a pattern, a non-GS1 URI, a Digital
// Link asked as a URN).
func translate(uri string, f Format) string {
	switch f {
	case FormatDigitalLink:
		if strings.HasPrefix(uri, "urn:epc:id:") || strings.HasPrefix(uri, "urn:epc:class:") {
			if k := Key(uri); k != uri {
				return DigitalLink(k)
			}
		}
	case FormatURN:
		if u, ok := URN(uri); ok {
			return u
		}
	}
	return uri
}

// Render writes a stored event (Event.Raw) for a client: with eventID
// set (added when absent; an empty eventID keeps the event's own),
// recordTime set, and its identifiers (EPC
// lists, parentID, quantity lists' epcClass, readPoint, bizLocation,
// sources and destinations) in format f. Member order is kept; added
// members go last.
func Render(raw json.RawMessage, eventID string, recordTime time.Time, f Format) (json.RawMessage, error) {
	root, err := parseTree(raw)
	if err != nil {
		return nil, fmt.Errorf("stored event: %w", err)
	}
	if root.kind != '{' {
		return nil, fmt.Errorf("stored event is not a JSON object")
	}
	var edits []edit
	replace := func(n *node, s string) {
		if n != nil && n.kind == '"' && n.str != s {
			edits = append(edits, edit{n.start, n.end, quote(s)})
		}
	}
	ids := func(n *node) {
		if n != nil && n.kind == '"' {
			replace(n, translate(n.str, f))
		}
	}
	var added []string
	for _, field := range []struct{ name, value string }{
		{"eventID", eventID}, {"recordTime", recordTime.Format(time.RFC3339Nano)},
	} {
		if field.value == "" { // no eventID given: keep the event's own, if any
			continue
		}
		if n := root.get(field.name); n != nil {
			edits = append(edits, edit{n.start, n.end, quote(field.value)})
		} else {
			added = append(added, string(quote(field.name))+":"+string(quote(field.value)))
		}
	}
	if f != FormatAsReceived {
		for _, m := range root.members {
			switch m.name {
			case "epcList", "childEPCs", "inputEPCList", "outputEPCList":
				if m.value.kind == '[' {
					for _, it := range m.value.items {
						ids(it)
					}
				}
			case "parentID":
				ids(m.value)
			case "quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList":
				if m.value.kind == '[' {
					for _, it := range m.value.items {
						ids(it.get("epcClass"))
					}
				}
			case "readPoint", "bizLocation":
				ids(m.value.get("id"))
			case "sourceList", "destinationList":
				field := strings.TrimSuffix(m.name, "List")
				if m.value.kind == '[' {
					for _, it := range m.value.items {
						ids(it.get(field))
					}
				}
			}
		}
	}
	if len(added) > 0 {
		text := strings.Join(added, ",")
		if len(root.members) > 0 {
			text = "," + text
		}
		edits = append(edits, edit{root.end - 1, root.end - 1, []byte(text)})
	}
	return applyEdits(raw, edits), nil
}
