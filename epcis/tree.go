package epcis

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// node is one JSON value of an event with its place in the event's bytes,
// so that checks can read it and edits can rewrite only what they change.
type node struct {
	kind       jsontext.Kind // '{', '[', '"', '0', 't', 'f' or 'n'
	str        string        // a string's decoded value
	raw        []byte        // the value's bytes as sent
	start, end int
	members    []member // an object's, in order
	items      []*node  // an array's
}

type member struct {
	name      string
	nameStart int // where the member's name starts
	value     *node
}

// get returns an object's member value, or nil.
func (n *node) get(name string) *node {
	if n == nil || n.kind != '{' {
		return nil
	}
	for _, m := range n.members {
		if m.name == name {
			return m.value
		}
	}
	return nil
}

var errTrailingData = errors.New("unexpected data after the JSON value")

// parseTree reads one JSON value (an event) into nodes.
func parseTree(data []byte) (*node, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	n, err := readNode(dec, data)
	if err != nil {
		return nil, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, errTrailingData
	}
	return n, nil
}

func readNode(dec *jsontext.Decoder, data []byte) (*node, error) {
	switch dec.PeekKind() {
	case '{':
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		n := &node{kind: '{', start: int(dec.InputOffset()) - 1}
		for dec.PeekKind() != '}' {
			after := int(dec.InputOffset())
			tok, err := dec.ReadToken()
			if err != nil {
				return nil, err
			}
			name := tok.String()
			v, err := readNode(dec, data)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member{name: name, nameStart: skipSeparators(data, after), value: v})
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		n.end = int(dec.InputOffset())
		n.raw = data[n.start:n.end]
		return n, nil
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		n := &node{kind: '[', start: int(dec.InputOffset()) - 1}
		for dec.PeekKind() != ']' {
			v, err := readNode(dec, data)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, err
		}
		n.end = int(dec.InputOffset())
		n.raw = data[n.start:n.end]
		return n, nil
	}
	v, err := dec.ReadValue()
	if err != nil {
		return nil, err
	}
	n := &node{kind: v.Kind(), end: int(dec.InputOffset())}
	n.start = n.end - len(v)
	n.raw = data[n.start:n.end]
	if n.kind == '"' {
		s, err := jsontext.AppendUnquote(nil, v)
		if err != nil {
			return nil, err
		}
		n.str = string(s)
	}
	return n, nil
}

// skipSeparators returns the offset of the first byte at or after i that
// is neither white space nor a comma.
func skipSeparators(data []byte, i int) int {
	for i < len(data) && strings.IndexByte(" \t\r\n,", data[i]) >= 0 {
		i++
	}
	return i
}

// edit replaces data[start:end] with text.
type edit struct {
	start, end int
	text       []byte
}

// applyEdits returns data with non-overlapping edits applied.
func applyEdits(data []byte, edits []edit) []byte {
	slices.SortStableFunc(edits, func(a, b edit) int { return a.start - b.start })
	out := make([]byte, 0, len(data)+64)
	at := 0
	for _, e := range edits {
		if e.start < at {
			continue
		}
		out = append(out, data[at:e.start]...)
		out = append(out, e.text...)
		at = e.end
	}
	return append(out, data[at:]...)
}

// removeMember is the edit deleting member i of object obj, with the
// comma that separated it from its neighbour.
func removeMember(obj *node, i int) edit {
	m := obj.members[i]
	switch {
	case i+1 < len(obj.members):
		return edit{start: m.nameStart, end: obj.members[i+1].nameStart}
	case i > 0:
		return edit{start: obj.members[i-1].value.end, end: m.value.end}
	default:
		return edit{start: m.nameStart, end: m.value.end}
	}
}

// quote is s as a JSON string.
func quote(s string) []byte {
	b, err := jsontext.AppendQuote(nil, s)
	if err != nil { // invalid UTF-8 cannot come from a decoded string
		return []byte(`""`)
	}
	return b
}
