// Command epcisdoc writes an EPCIS 2.0 document of made-up but realistic
// events (a food plant's receiving, storing, shipping, commissioning and
// transformations) for the capture and query benchmarks.
//
//	go run ./bench/epcisdoc -events 10000 -run r1 > doc.jsonld
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "epcisdoc:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("epcisdoc", flag.ContinueOnError)
	events := fs.Int("events", 10000, "events in the document")
	runID := fs.String("run", "r1", "makes this document's eventIDs and serials unique")
	seed := fs.Uint64("seed", 1, "random seed")
	products := fs.Int("products", 200, "distinct GTINs")
	from := fs.String("start", "2026-01-01T06:00:00Z", "eventTime of the first event; the others follow 37 s apart")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w := bufio.NewWriterSize(stdout, 1<<20)
	rng := rand.New(rand.NewPCG(*seed, uint64(len(*runID))))
	start, err := time.Parse(time.RFC3339, *from)
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	fmt.Fprint(w, `{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",{"ex":"https://example.com/epcis/"}],`+
		`"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-12-07T00:00:00Z","epcisBody":{"eventList":[`)
	steps := []struct{ step, disposition string }{
		{"receiving", "in_progress"}, {"storing", "sellable_accessible"}, {"shipping", "in_transit"},
		{"inspecting", "conformant"}, {"commissioning", "active"},
	}
	for i := range *events {
		if i > 0 {
			w.WriteByte(',')
		}
		t := start.Add(time.Duration(i) * 37 * time.Second).Format("2006-01-02T15:04:05.000Z")
		gtin := gtinOf(rng.IntN(*products))
		lot := fmt.Sprintf("L%s%05d", *runID, rng.IntN(5000))
		site := rng.IntN(40)
		if i%10 == 9 {
			fmt.Fprintf(w, `{"type":"TransformationEvent","eventID":"urn:uuid:%s","eventTime":"%s","eventTimeZoneOffset":"+01:00",`+
				`"inputQuantityList":[{"epcClass":"https://id.gs1.org/01/%s/10/%s","quantity":%d,"uom":"KGM"},{"epcClass":"https://id.gs1.org/01/%s/10/%s","quantity":1,"uom":"KGM"}],`+
				`"outputQuantityList":[{"epcClass":"https://id.gs1.org/01/%s/10/%s","quantity":%d,"uom":"H87"}],`+
				`"transformationID":"urn:epc:id:gdti:4012345.00001.%s%d","bizStep":"commissioning","disposition":"active",`+
				`"readPoint":{"id":"https://id.gs1.org/414/%s"},"bizLocation":{"id":"https://id.gs1.org/414/%s"},`+
				`"ilmd":{"ex:bestBefore":"2027-06-30"}}`,
				eventID(*runID, i), t, gtin, lot, 10+rng.IntN(90), gtinOf(rng.IntN(*products)), lot,
				gtinOf(rng.IntN(*products)), lot, 100+rng.IntN(400), *runID, i, glnOf(site), glnOf(site))
			continue
		}
		s := steps[rng.IntN(len(steps))]
		fmt.Fprintf(w, `{"type":"ObjectEvent","eventID":"urn:uuid:%s","eventTime":"%s","eventTimeZoneOffset":"+01:00","action":"OBSERVE",`+
			`"epcList":["https://id.gs1.org/01/%s/21/%s%d","https://id.gs1.org/01/%s/21/%s%d"],`+
			`"quantityList":[{"epcClass":"https://id.gs1.org/01/%s/10/%s","quantity":%d.5,"uom":"KGM"}],`+
			`"bizStep":"%s","disposition":"%s",`+
			`"readPoint":{"id":"https://id.gs1.org/414/%s"},"bizLocation":{"id":"https://id.gs1.org/414/%s"},`+
			`"bizTransactionList":[{"type":"po","bizTransaction":"urn:epcglobal:cbv:bt:4012345000009:PO%s%d"},{"type":"desadv","bizTransaction":"urn:epcglobal:cbv:bt:4012345000009:DA%s%d"}],`+
			`"sourceList":[{"type":"owning_party","source":"https://id.gs1.org/417/%s"}],`+
			`"destinationList":[{"type":"owning_party","destination":"https://id.gs1.org/417/%s"}],`+
			`"ex:temperature":%d}`,
			eventID(*runID, i), t, gtin, *runID, 2*i, gtin, *runID, 2*i+1, gtin, lot, 1+rng.IntN(500), s.step, s.disposition,
			glnOf(site), glnOf(site), *runID, i/50, *runID, i/50, glnOf(100+rng.IntN(20)), glnOf(200+rng.IntN(20)), rng.IntN(8))
	}
	fmt.Fprint(w, `]}}`)
	return w.Flush()
}

// eventID is a UUID-shaped ID unique per run and index.
func eventID(run string, i int) string {
	h := uint64(14695981039346656037)
	for _, c := range []byte(run) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(h), uint16(h>>32), uint16(h>>48)&0xfff, i>>24&0xfff, i&0xffffffffffff)
}

func gtinOf(n int) string { return withCheckDigit(fmt.Sprintf("0401234%06d", n)) }
func glnOf(n int) string  { return withCheckDigit(fmt.Sprintf("401234%06d", n)) }

func withCheckDigit(body string) string {
	sum := 0
	for i := range len(body) {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return body + string(rune('0'+(10-sum%10)%10))
}
