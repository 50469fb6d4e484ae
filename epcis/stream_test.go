package epcis

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// generatedDocument is a document of n copies of one event, made as it
// is read, so that the test itself holds no more than one event.
type generatedDocument struct {
	head, event, tail string
	n                 int
	pos               int64
}

func (g *generatedDocument) size() int64 {
	return int64(len(g.head) + g.n*(len(g.event)+1) - 1 + len(g.tail))
}

// byteAt is the document's byte at offset i.
func (g *generatedDocument) byteAt(i int64) byte {
	if i < int64(len(g.head)) {
		return g.head[i]
	}
	i -= int64(len(g.head))
	body := int64(g.n*(len(g.event)+1) - 1)
	if i < body {
		stride := int64(len(g.event) + 1)
		if j := i % stride; j < int64(len(g.event)) {
			return g.event[j]
		}
		return ','
	}
	return g.tail[i-body]
}

func (g *generatedDocument) Read(p []byte) (int, error) {
	if g.pos >= g.size() {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.pos < g.size() {
		p[n] = g.byteAt(g.pos)
		n++
		g.pos++
	}
	return n, nil
}

func (g *generatedDocument) Seek(offset int64, whence int) (int64, error) {
	if whence != io.SeekStart || offset < 0 {
		return 0, errors.New("only seeks from the start")
	}
	g.pos = offset
	return offset, nil
}

// Reading a large document holds one event at a time: the live heap
// does not grow with the number of events read.
func TestReadDocumentStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a 20 MB document")
	}
	event := `{"type": "ObjectEvent", "eventTime": "2026-07-22T06:45:00+02:00", "eventTimeZoneOffset": "+02:00",
		"action": "OBSERVE", "bizStep": "urn:epcglobal:cbv:bizstep:shipping", "epcList": [`
	for serial := range 20 {
		event += fmt.Sprintf(`"urn:epc:id:sgtin:0614141.107346.%d", `, serial)
	}
	event += `"urn:epc:id:sgtin:0614141.107346.2018"]}`
	g := &generatedDocument{
		head:  `{"type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-07-22T06:45:00Z", "epcisBody": {"eventList": [`,
		event: event,
		tail:  `]}, "@context": "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"}`,
		n:     20_000_000 / len(event),
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var early, late uint64
	count := 0
	_, err := ReadDocumentWith(g, Proceed, func(i int, ev Event) error {
		count++
		switch i {
		case 1000:
			early = heap()
		case g.n - 1:
			late = heap()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != g.n {
		t.Fatalf("%d events, want %d", count, g.n)
	}
	t.Logf("live heap after 1000 events: %d bytes; after %d (%d bytes): %d bytes", early, g.n, g.size(), late)
	if late > early+4<<20 {
		t.Errorf("live heap grew from %d to %d bytes over a %d-byte document", early, late, g.size())
	}
}
