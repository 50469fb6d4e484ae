package inventory_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"batchtrack/epcis"
	"batchtrack/epcis/epcistest"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

// effectWorld is a stock world with helpers to name its lots and read
// their rows and ledgers.
type effectWorld struct {
	*stockWorld
	pool *pgxpool.Pool
}

func newEffectWorld(t *testing.T) *effectWorld {
	t.Helper()
	svc, pool := newService(t, 8, 2*time.Second)
	return &effectWorld{stockWorld: newStockWorld(t, svc, pool), pool: pool}
}

// stock makes an approved lot of p at l.
func (w *effectWorld) stock(p inventory.Product, lot, qty string, l inventory.Location) inventory.Batch {
	return w.stockIn(p, lot, qty, l, "approved")
}

// unreleased is a pending lot: new production or receipts may join it.
func (w *effectWorld) unreleased(p inventory.Product, lot, qty string, l inventory.Location) inventory.Batch {
	return w.stockIn(p, lot, qty, l, "pending")
}

func (w *effectWorld) stockIn(p inventory.Product, lot, qty string, l inventory.Location, status string) inventory.Batch {
	w.t.Helper()
	expiry := time.Now().AddDate(0, 6, 0)
	b, err := w.svc.CreateBatch(context.Background(), inventory.System, inventory.NewBatch{ProductID: p.ID, BatchNumber: lot,
		LocationID: l.ID, ProductionDate: time.Now().AddDate(0, 0, -1), ExpiryDate: &expiry,
		QuantityProduced: quantity.MustParse(qty), QualityStatus: status})
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// row is lot's row at l: its id, balance and status; Nil when none.
func (w *effectWorld) row(lot string, l inventory.Location) (uuid.UUID, quantity.Quantity, string) {
	w.t.Helper()
	var id uuid.UUID
	var qty quantity.Quantity
	var status string
	err := w.pool.QueryRow(context.Background(), `SELECT id, quantity_available, quality_status FROM batches
		WHERE batch_number = $1 AND location_id = $2`, lot, l.ID).Scan(&id, &qty, &status)
	if err != nil && !strings.Contains(err.Error(), "no rows") {
		w.t.Fatal(err)
	}
	return id, qty, status
}

// kinds is a row's ledger as "kind quantity" lines.
func (w *effectWorld) kinds(id uuid.UUID) []string {
	w.t.Helper()
	rows, err := w.pool.Query(context.Background(), `SELECT kind, quantity FROM consumptions WHERE batch_id = $1
		ORDER BY version_after, id`, id)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		var q quantity.Quantity
		if err := rows.Scan(&k, &q); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, k+" "+q.String())
	}
	return out
}

func lotClass(role string, p inventory.Product, lot, qty, uom string) epcis.Identifier {
	return class(role, "01/"+p.GTIN+"/10/"+lot, qty, uom)
}

func step(action, bizStep, disposition string) func(*epcis.Event) {
	return func(e *epcis.Event) { e.Action, e.BizStep, e.Disposition = action, bizStep, disposition }
}

func readPoint(l inventory.Location) func(*epcis.Event) {
	return func(e *epcis.Event) { e.ReadPoint = "414/" + l.GLN }
}

func bizLocation(l inventory.Location) func(*epcis.Event) {
	return func(e *epcis.Event) { e.BizLocation = "414/" + l.GLN }
}

func locRef(l inventory.Location) epcis.Typed {
	return epcis.Typed{Type: "location", ID: "https://id.gs1.org/414/" + l.GLN, Key: "414/" + l.GLN}
}

func from(l inventory.Location) func(*epcis.Event) {
	return func(e *epcis.Event) { e.Sources = append(e.Sources, locRef(l)) }
}

func to(l inventory.Location) func(*epcis.Event) {
	return func(e *epcis.Event) { e.Destinations = append(e.Destinations, locRef(l)) }
}

func transformation(e *epcis.Event) { e.Type, e.Action = "TransformationEvent", "" }

// withRaw adds a field to the event's document.
func withRaw(ev epcis.Event, key string, value any) epcis.Event {
	var doc map[string]any
	_ = json.Unmarshal(ev.Raw, &doc)
	doc[key] = value
	ev.Raw, _ = json.Marshal(doc)
	return ev
}

// TestEventEffects walks the mapping (effects.go) row by row: each event
// captured alone, then every lot's rows, balances and ledgers checked.
func TestEventEffects(t *testing.T) {
	w := newEffectWorld(t)
	plant, wh, farm, shop := w.location, w.warehouse, w.farm, w.shop
	type want struct {
		lot    string
		at     inventory.Location
		onHand string // "" for no row
		kinds  []string
		status string
	}
	tests := []struct {
		name   string
		setup  func()
		event  epcis.Event
		stored bool   // false: refused
		refuse string // part of the refusal's message
		wants  []want
	}{
		{name: "commissioning at our location creates the lot, produced",
			event: withRaw(captured("urn:uuid:e-comm", step("ADD", "commissioning", "active"), bizLocation(plant),
				ids(lotClass("epc", w.tomatoes, "E-COMM", "100", "KGM"))), "ilmd", map[string]string{"ex:harvestDate": "2026-02-27"}),
			stored: true, wants: []want{{lot: "E-COMM", at: plant, onHand: "100", status: "pending"}}},
		{name: "commissioning at a partner's location is a record",
			event: captured("urn:uuid:e-comm-farm", step("ADD", "commissioning", "active"), readPoint(farm),
				ids(lotClass("epc", w.tomatoes, "E-COMM-F", "100", "KGM"))),
			stored: true, wants: []want{{lot: "E-COMM-F", at: farm}}},
		{name: "receiving from a partner creates the lot, received",
			event: captured("urn:uuid:e-rec", step("OBSERVE", "receiving", "in_progress"), readPoint(plant), from(farm),
				ids(lotClass("epc", w.tomatoes, "E-REC", "2500", "GRM"))),
			stored: true, wants: []want{{lot: "E-REC", at: plant, onHand: "2.5", status: "pending"}}},
		{name: "receiving adds to a lot we hold",
			setup: func() { w.unreleased(w.salt, "E-REC2", "10", plant) },
			event: captured("urn:uuid:e-rec2", step("OBSERVE", "receiving", ""), bizLocation(plant), from(farm),
				ids(lotClass("epc", w.salt, "E-REC2", "5", ""))),
			stored: true, wants: []want{{lot: "E-REC2", at: plant, onHand: "15", kinds: []string{"receive 5"}}}},
		{name: "shipping to a customer takes the quantity",
			setup: func() { w.stock(w.tomatoes, "E-SHIP", "100", plant) },
			event: captured("urn:uuid:e-ship", step("OBSERVE", "shipping", "in_transit"), readPoint(plant), to(shop),
				ids(lotClass("epc", w.tomatoes, "E-SHIP", "30", "KGM"))),
			stored: true, wants: []want{{lot: "E-SHIP", at: plant, onHand: "70", kinds: []string{"ship 30"}}}},
		{name: "shipping a lot we do not hold is a record",
			event: captured("urn:uuid:e-ship-x", step("OBSERVE", "shipping", "in_transit"), readPoint(plant),
				ids(class("epc", "01/00614141777778/10/987", "30", "KGM"))),
			stored: true},
		{name: "shipping more than the lot holds is refused naming the lot",
			setup: func() { w.stock(w.tomatoes, "E-SHORT", "10", plant) },
			event: captured("urn:uuid:e-short", step("OBSERVE", "shipping", "in_transit"), readPoint(plant),
				ids(lotClass("epc", w.tomatoes, "E-SHORT", "11", "KGM"))),
			refuse: "lot E-SHORT has only 10", wants: []want{{lot: "E-SHORT", at: plant, onHand: "10"}}},
		{name: "a unit that does not convert exactly is refused",
			setup: func() { w.stock(w.tomatoes, "E-UOM", "10", plant) },
			event: captured("urn:uuid:e-uom", step("OBSERVE", "shipping", "in_transit"), readPoint(plant),
				ids(lotClass("epc", w.tomatoes, "E-UOM", "1000.5", "GRM"))),
			refuse: "not an exact quantity", wants: []want{{lot: "E-UOM", at: plant, onHand: "10"}}},
		{name: "a lot at several of our locations, none named, is refused",
			setup: func() {
				b := w.stock(w.tomatoes, "E-TWO", "20", plant)
				if _, err := w.svc.Move(context.Background(), inventory.System, inventory.MoveRequest{BatchID: b.ID,
					Quantity: quantity.MustParse("10"), ToLocationID: wh.ID}); err != nil {
					t.Fatal(err)
				}
			},
			event: captured("urn:uuid:e-two", step("OBSERVE", "shipping", "in_transit"), to(shop),
				ids(lotClass("epc", w.tomatoes, "E-TWO", "1", "KGM"))),
			refuse: "several of our locations", wants: []want{{lot: "E-TWO", at: plant, onHand: "10", kinds: []string{"move_out 10"}},
				{lot: "E-TWO", at: wh, onHand: "10"}}},
		{name: "transformation: inputs taken, outputs made at the event's location",
			setup: func() { w.stock(w.tomatoes, "E-TIN", "60", plant); w.stock(w.salt, "E-SIN", "5", plant) },
			event: captured("urn:uuid:e-tr", transformation, step("", "commissioning", "active"), readPoint(plant),
				ids(lotClass("input", w.tomatoes, "E-TIN", "50", "KGM"), lotClass("input", w.salt, "E-SIN", "1", "KGM"),
					lotClass("output", w.passata, "E-TOUT", "400", "H87"))),
			stored: true, wants: []want{{lot: "E-TIN", at: plant, onHand: "10", kinds: []string{"transform_in 50"}},
				{lot: "E-SIN", at: plant, onHand: "4", kinds: []string{"transform_in 1"}},
				{lot: "E-TOUT", at: plant, onHand: "400", status: "pending"}}},
		{name: "transformation: inputs we do not hold are records, our outputs are made",
			event: captured("urn:uuid:e-tr-x", transformation, step("", "commissioning", "active"), bizLocation(plant),
				ids(class("input", "01/00614141777778/10/987", "30", "KGM"), lotClass("output", w.passata, "E-TOUT-X", "12", ""))),
			stored: true, wants: []want{{lot: "E-TOUT-X", at: plant, onHand: "12", status: "pending"}}},
		{name: "inspecting conformant releases",
			setup: func() {
				b := w.stock(w.salt, "E-REL", "10", plant)
				if _, err := w.svc.UpdateBatch(context.Background(), inventory.System, b.ID,
					inventory.BatchUpdate{QualityStatus: ptr("pending")}, nil); err != nil {
					t.Fatal(err)
				}
			},
			event: captured("urn:uuid:e-rel", step("OBSERVE", "inspecting", "conformant"), readPoint(plant),
				ids(lotClass("epc", w.salt, "E-REL", "", ""))),
			stored: true, wants: []want{{lot: "E-REL", at: plant, onHand: "10", status: "approved"}}},
		{name: "transformation of our inputs without outputs is refused",
			setup: func() { w.stock(w.tomatoes, "E-TNO", "60", plant) },
			event: captured("urn:uuid:e-tno", transformation, step("", "", ""), readPoint(plant),
				ids(lotClass("input", w.tomatoes, "E-TNO", "50", "KGM"))),
			refuse: "needs outputs", wants: []want{{lot: "E-TNO", at: plant, onHand: "60"}}},
		{name: "destroying",
			setup: func() { w.stock(w.tomatoes, "E-DEL", "10", plant) },
			event: captured("urn:uuid:e-del", step("DELETE", "destroying", "destroyed"), readPoint(plant),
				ids(lotClass("epc", w.tomatoes, "E-DEL", "4", "KGM"))),
			stored: true, wants: []want{{lot: "E-DEL", at: plant, onHand: "6", kinds: []string{"destroy 4"}}}},
		{name: "disposition disposed destroys",
			setup: func() { w.stock(w.tomatoes, "E-DISP", "10", plant) },
			event: captured("urn:uuid:e-disp", step("OBSERVE", "", "disposed"), readPoint(plant),
				ids(lotClass("epc", w.tomatoes, "E-DISP", "10", "KGM"))),
			stored: true, wants: []want{{lot: "E-DISP", at: plant, onHand: "0", kinds: []string{"destroy 10"}}}},
		{name: "transporting between our locations moves",
			setup: func() { w.stock(w.tomatoes, "E-MOVE", "10", plant) },
			event: captured("urn:uuid:e-move", step("OBSERVE", "transporting", ""), readPoint(plant), from(plant), to(wh),
				ids(lotClass("epc", w.tomatoes, "E-MOVE", "3", "KGM"))),
			stored: true, wants: []want{{lot: "E-MOVE", at: plant, onHand: "7", kinds: []string{"move_out 3"}},
				{lot: "E-MOVE", at: wh, onHand: "3", status: "approved"}}},
		{name: "transporting to a partner is a record",
			setup: func() { w.stock(w.tomatoes, "E-MOVE-X", "10", plant) },
			event: captured("urn:uuid:e-move-x", step("OBSERVE", "transporting", ""), from(plant), to(shop),
				ids(lotClass("epc", w.tomatoes, "E-MOVE-X", "3", "KGM"))),
			stored: true, wants: []want{{lot: "E-MOVE-X", at: plant, onHand: "10"}}},
		{name: "dispensing consumes",
			setup: func() { w.stock(w.salt, "E-DISPENSE", "10", plant) },
			event: captured("urn:uuid:e-dispense", step("OBSERVE", "dispensing", ""), bizLocation(plant),
				ids(lotClass("epc", w.salt, "E-DISPENSE", "2", "KGM"))),
			stored: true, wants: []want{{lot: "E-DISPENSE", at: plant, onHand: "8", kinds: []string{"consume 2"}}}},
		{name: "inspecting non_conformant rejects, no ledger row",
			setup: func() { w.stock(w.salt, "E-INSP", "10", plant) },
			event: captured("urn:uuid:e-insp", step("OBSERVE", "inspecting", "non_conformant"), readPoint(plant),
				ids(lotClass("epc", w.salt, "E-INSP", "", ""))),
			stored: true, wants: []want{{lot: "E-INSP", at: plant, onHand: "10", status: "rejected"}}},
		{name: "holding puts on hold",
			setup: func() { w.stock(w.salt, "E-HOLD", "10", plant) },
			event: captured("urn:uuid:e-hold", step("OBSERVE", "holding", "non_sellable_other"),
				ids(lotClass("epc", w.salt, "E-HOLD", "10", "KGM"))),
			stored: true, wants: []want{{lot: "E-HOLD", at: plant, onHand: "10", status: "on_hold"}}},
		{name: "EPC instances name no quantity: a record",
			setup: func() { w.stock(w.salt, "E-EPC", "10", plant) },
			event: captured("urn:uuid:e-epc", step("OBSERVE", "shipping", "in_transit"), readPoint(plant),
				ids(instance("epc", "01/"+w.salt.GTIN+"/21/1"))),
			stored: true, wants: []want{{lot: "E-EPC", at: plant, onHand: "10"}}},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			if tc.setup != nil {
				tc.setup()
			}
			res := capture(t, w.svc, false, tc.event)
			if tc.refuse != "" {
				if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, tc.refuse) ||
					res.Errors[0].Type != inventory.ExceptionValidation {
					t.Fatalf("errors = %+v, want a ValidationException with %q", res.Errors, tc.refuse)
				}
				if _, err := w.svc.GetEventByEventID(ctx, tc.event.EventID); err == nil {
					t.Error("the refused event was stored")
				}
			} else if len(res.Errors) != 0 || res.Stored != 1 {
				t.Fatalf("stored %d, errors %+v", res.Stored, res.Errors)
			}
			for _, wt := range tc.wants {
				id, onHand, status := w.row(wt.lot, wt.at)
				if wt.onHand == "" {
					if id != uuid.Nil {
						t.Errorf("%s at %s: a row was made", wt.lot, wt.at.Name)
					}
					continue
				}
				if id == uuid.Nil {
					t.Fatalf("%s at %s: no row", wt.lot, wt.at.Name)
				}
				if onHand != quantity.MustParse(wt.onHand) {
					t.Errorf("%s at %s: on hand %s, want %s", wt.lot, wt.at.Name, onHand, wt.onHand)
				}
				if diff := cmp.Diff(wt.kinds, w.kinds(id)); diff != "" {
					t.Errorf("%s at %s: ledger (-want +got):\n%s", wt.lot, wt.at.Name, diff)
				}
				if wt.status != "" && status != wt.status {
					t.Errorf("%s at %s: status %s, want %s", wt.lot, wt.at.Name, status, wt.status)
				}
				w.balance([16]byte(id))
			}
		})
	}
	// The commissioned lot kept its ILMD's key data elements.
	id, _, _ := w.row("E-COMM", plant)
	b, err := w.svc.GetBatch(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if b.KDEs["harvestDate"] != "2026-02-27" || b.Origin != "produced" || b.TLCSource != plant.GLN {
		t.Errorf("commissioned lot: %+v", b)
	}
	id, _, _ = w.row("E-REC", plant)
	if b, _ := w.svc.GetBatch(ctx, id); b.Origin != "received" || b.TLCSource != farm.GLN {
		t.Errorf("received lot: %+v", b)
	}
	id, _, _ = w.row("E-HOLD", plant)
	if b, _ := w.svc.GetBatch(ctx, id); b.StatusReason != "EPCIS event urn:uuid:e-hold" {
		t.Errorf("held lot's reason: %q", b.StatusReason)
	}
	// The stored document is the event as captured.
	se, err := w.svc.GetEventByEventID(ctx, "urn:uuid:e-comm")
	if err != nil {
		t.Fatal(err)
	}
	var got, sent any
	_ = json.Unmarshal(se.Document, &got)
	_ = json.Unmarshal(tests[0].event.Raw, &sent)
	if diff := cmp.Diff(sent, got); diff != "" {
		t.Errorf("document (-sent +stored):\n%s", diff)
	}
}

// A shipment to another of our locations is in transit until a captured
// receipt from that location draws it.
func TestCapturedTransferInTransit(t *testing.T) {
	w := newEffectWorld(t)
	w.stock(w.tomatoes, "E-TR", "50", w.location)
	res := capture(t, w.svc, false,
		captured("urn:uuid:t-ship", step("OBSERVE", "shipping", "in_transit"), readPoint(w.location), to(w.warehouse),
			ids(lotClass("epc", w.tomatoes, "E-TR", "20", "KGM"))),
		captured("urn:uuid:t-rec", at(time.Hour), step("OBSERVE", "receiving", "in_progress"), readPoint(w.warehouse), from(w.location),
			ids(lotClass("epc", w.tomatoes, "E-TR", "15", "KGM"))))
	if len(res.Errors) != 0 || res.Stored != 2 {
		t.Fatalf("stored %d, errors %+v", res.Stored, res.Errors)
	}
	src, _, _ := w.row("E-TR", w.location)
	if m := w.balance([16]byte(src)); m.Shipped != q("20") || m.InTransit != q("5") || m.OnHand != q("30") {
		t.Errorf("shipped from: %+v", m)
	}
	dst, onHand, status := w.row("E-TR", w.warehouse)
	if onHand != q("15") || status != "approved" {
		t.Errorf("arrived: %s %s", onHand, status)
	}
	w.balance([16]byte(dst))
}

// Under rollback a refused movement stores nothing; under proceed it is
// reported with its index and the others move stock.
func TestCaptureRefusedMovement(t *testing.T) {
	w := newEffectWorld(t)
	lot := w.stock(w.tomatoes, "E-RP", "50", w.location)
	doc := func(prefix string) []epcis.Event {
		ship := func(id, qty string) epcis.Event {
			return captured("urn:uuid:"+prefix+id, step("OBSERVE", "shipping", "in_transit"), readPoint(w.location), to(w.shop),
				ids(lotClass("epc", w.tomatoes, "E-RP", qty, "KGM")))
		}
		return []epcis.Event{ship("1", "10"), captured("urn:uuid:" + prefix + "rec"), ship("2", "1000"), ship("3", "5")}
	}
	res := capture(t, w.svc, false, doc("rb-")...)
	if res.Stored != 0 || len(res.Errors) != 1 || res.Errors[0].Index != 2 || !strings.Contains(res.Errors[0].Message, "E-RP") {
		t.Fatalf("rollback: %+v", res)
	}
	if _, onHand, _ := w.row("E-RP", w.location); onHand != q("50") {
		t.Fatalf("rollback moved stock: %s", onHand)
	}
	res = capture(t, w.svc, true, doc("pr-")...)
	if res.Stored != 3 || len(res.Errors) != 1 || res.Errors[0].Index != 2 {
		t.Fatalf("proceed: %+v", res)
	}
	if m := w.balance(lot); m.Shipped != q("15") || m.OnHand != q("35") {
		t.Fatalf("proceed: %+v", m)
	}
	if diff := cmp.Diff([]string{"ship 10", "ship 5"}, w.kinds(lot.ID)); diff != "" {
		t.Error(diff)
	}
}

// An error declaration captured for a stored event reverses its stock
// effects; one that would take a lot below zero is refused.
func TestCapturedErrorDeclarationReverses(t *testing.T) {
	w := newEffectWorld(t)
	lot := w.stock(w.tomatoes, "E-ED", "50", w.location)
	ship := captured("urn:uuid:ed-ship", step("OBSERVE", "shipping", "in_transit"), readPoint(w.location), to(w.shop),
		ids(lotClass("epc", w.tomatoes, "E-ED", "20", "KGM")))
	if res := capture(t, w.svc, false, ship); res.Stored != 1 {
		t.Fatalf("%+v", res)
	}
	declared := ship
	declared.Error = &epcis.ErrorDeclaration{DeclarationTime: baseTime.Add(time.Hour), Reason: "did_not_occur"}
	declared = withRaw(declared, "errorDeclaration", map[string]string{"declarationTime": baseTime.Add(time.Hour).Format(time.RFC3339), "reason": "did_not_occur"})
	if res := capture(t, w.svc, false, declared); len(res.Errors) != 0 {
		t.Fatalf("%+v", res)
	}
	if m := w.balance(lot); m.Shipped != 0 || m.OnHand != q("50") {
		t.Fatalf("after the declaration: %+v", m)
	}
	if diff := cmp.Diff([]string{"ship 20", "reversal 20"}, w.kinds(lot.ID)); diff != "" {
		t.Error(diff)
	}

	// A commissioned lot that has gone on cannot be declared away.
	comm := captured("urn:uuid:ed-comm", step("ADD", "commissioning", "active"), readPoint(w.location),
		ids(lotClass("epc", w.tomatoes, "E-ED2", "10", "KGM")))
	capture(t, w.svc, false, comm)
	id, _, _ := w.row("E-ED2", w.location)
	if _, err := w.svc.Destroy(context.Background(), inventory.System, inventory.DestroyRequest{BatchID: id, Quantity: q("8"), Reason: "spoilt"}); err != nil {
		t.Fatal(err)
	}
	comm.Error = &epcis.ErrorDeclaration{DeclarationTime: baseTime.Add(time.Hour), Reason: "incorrect_data"}
	res := capture(t, w.svc, false, comm)
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "E-ED2") {
		t.Fatalf("declaration below zero: %+v", res)
	}
	if _, onHand, _ := w.row("E-ED2", w.location); onHand != q("2") {
		t.Errorf("on hand %s", onHand)
	}
}

// sameEffect compares two rows' mass balances and ledger kinds.
func (w *effectWorld) sameEffect(t *testing.T, what string, staff, captured uuid.UUID) {
	t.Helper()
	a, b := w.balance([16]byte(staff)), w.balance([16]byte(captured))
	a.BatchID, b.BatchID = uuid.Nil, uuid.Nil
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("%s: mass balance differs (-staff +captured):\n%s", what, diff)
	}
	if diff := cmp.Diff(w.kinds(staff), w.kinds(captured)); diff != "" {
		t.Errorf("%s: ledger differs (-staff +captured):\n%s", what, diff)
	}
}

// The same shipment and the same transformation, done by the staff's
// operations and by capturing their EPCIS events, leave the same stock.
func TestStaffAndCaptureSameEffect(t *testing.T) {
	w := newEffectWorld(t)
	ctx := context.Background()
	sTom, cTom := w.stock(w.tomatoes, "S-TOM", "80", w.location), w.stock(w.tomatoes, "C-TOM", "80", w.location)
	sSalt, cSalt := w.stock(w.salt, "S-SALT", "5", w.location), w.stock(w.salt, "C-SALT", "5", w.location)

	if _, err := w.svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: sTom.ID, Quantity: q("20")}},
		ShipToID: w.shop.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:  []inventory.StockItem{{BatchID: sTom.ID, Quantity: q("50")}, {BatchID: sSalt.ID, Quantity: q("1")}},
		Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: "S-PAS", Quantity: q("400")}}}); err != nil {
		t.Fatal(err)
	}
	res := capture(t, w.svc, false,
		captured("urn:uuid:same-ship", step("OBSERVE", "shipping", "in_transit"), readPoint(w.location), to(w.shop),
			ids(lotClass("epc", w.tomatoes, "C-TOM", "20", "KGM"))),
		captured("urn:uuid:same-tr", at(time.Minute), transformation, step("", "commissioning", "active"), readPoint(w.location),
			ids(lotClass("input", w.tomatoes, "C-TOM", "50", "KGM"), lotClass("input", w.salt, "C-SALT", "1000", "GRM"),
				lotClass("output", w.passata, "C-PAS", "400", "H87"))))
	if len(res.Errors) != 0 {
		t.Fatalf("%+v", res.Errors)
	}
	w.sameEffect(t, "tomatoes", sTom.ID, cTom.ID)
	w.sameEffect(t, "salt", sSalt.ID, cSalt.ID)
	sPas, _, _ := w.row("S-PAS", w.location)
	cPas, _, _ := w.row("C-PAS", w.location)
	w.sameEffect(t, "passata", sPas, cPas)
}

// POST /api/events goes through the same mapping: a transformation beyond
// a lot's balance is refused naming the lot, and nothing changes.
func TestRecordEventMovesStock(t *testing.T) {
	w := newEffectWorld(t)
	ctx := context.Background()
	tom := w.stock(w.tomatoes, "R-TOM", "487.5", w.location)
	pas := w.unreleased(w.passata, "R-PAS", "0.001", w.location)
	api := inventory.Actor{Name: "ana", Source: "api"}
	before := countEvents(t, w.pool, "true")
	_, err := w.svc.RecordEvent(ctx, api, inventory.NewEvent{EventType: "TransformationEvent",
		InputQuantityList:  []inventory.QuantityItem{{BatchID: tom.ID, Quantity: q("100000")}},
		OutputQuantityList: []inventory.QuantityItem{{BatchID: pas.ID, Quantity: q("10")}}})
	var iq *inventory.InsufficientQuantityError
	if !errors.As(err, &iq) || iq.Lot != "R-TOM" {
		t.Fatalf("beyond the balance: %v", err)
	}
	_, err = w.svc.RecordEvent(ctx, api, inventory.NewEvent{EventType: "TransformationEvent",
		InputQuantityList: []inventory.QuantityItem{{BatchID: tom.ID, Quantity: q("10")}}})
	var ve *inventory.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Error(), "needs outputs") {
		t.Fatalf("without outputs: %v", err)
	}
	if n := countEvents(t, w.pool, "true"); n != before {
		t.Errorf("%d events stored by refusals", n-before)
	}
	if m := w.balance(tom); m.OnHand != q("487.5") {
		t.Fatalf("changed: %+v", m)
	}
	// A shipment naming its customer's location moves stock, and keeps the lists.
	ev, err := w.svc.RecordEvent(ctx, api, inventory.NewEvent{EventType: "ObjectEvent", Action: "OBSERVE", BizStep: "shipping",
		Disposition: "in_transit", ReadPoint: w.location.GLN,
		QuantityList:       []inventory.QuantityItem{{BatchID: tom.ID, Quantity: q("7.5")}},
		DestinationList:    []inventory.EventRef{{Type: "location", ID: w.shop.GLN}},
		BizTransactionList: []inventory.EventRef{{Type: "desadv", ID: "urn:epcglobal:cbv:bt:" + w.location.GLN + ":DA-9"}}})
	if err != nil {
		t.Fatal(err)
	}
	if m := w.balance(tom); m.Shipped != q("7.5") || m.OnHand != q("480") {
		t.Fatalf("after the shipment: %+v", m)
	}
	se, err := w.svc.GetStoredEvent(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{`"destinationList"`, w.shop.GLN, `"desadv"`, "DA-9"} {
		if !strings.Contains(string(se.Document), part) {
			t.Errorf("document lacks %s: %s", part, se.Document)
		}
	}
	// A transformation with inputs and outputs moves both.
	if _, err := w.svc.RecordEvent(ctx, api, inventory.NewEvent{EventType: "TransformationEvent",
		InputQuantityList:  []inventory.QuantityItem{{BatchID: tom.ID, Quantity: q("80")}},
		OutputQuantityList: []inventory.QuantityItem{{BatchID: pas.ID, Quantity: q("600")}}}); err != nil {
		t.Fatal(err)
	}
	if m := w.balance(tom); m.Transformed != q("80") || m.OnHand != q("400") {
		t.Fatalf("tomatoes: %+v", m)
	}
	if m := w.balance(pas); m.Produced != q("600.001") {
		t.Fatalf("passata: %+v", m)
	}
}

// officialEvent reads the first event of type typ (with bizStep, if not
// "") in one of GS1's example documents, rewritten by adapt, and parses
// it as a capture would.
func officialEvent(t *testing.T, file, typ, bizStep string, adapt func(map[string]any)) epcis.Event {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(epcistest.Dir(t), "examples", "gs1", "JSON", file))
	if err != nil {
		t.Fatalf("the official example %s: %v", file, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	list := doc["epcisBody"].(map[string]any)["eventList"].([]any)
	var found map[string]any
	for _, e := range list {
		ev := e.(map[string]any)
		if ev["type"] == typ && (bizStep == "" || ev["bizStep"] == bizStep) {
			found = ev
			break
		}
	}
	if found == nil {
		t.Fatalf("%s has no %s %s", file, typ, bizStep)
	}
	adapt(found)
	doc["epcisBody"].(map[string]any)["eventList"] = []any{found}
	adapted, _ := json.Marshal(doc)
	var out []epcis.Event
	if _, err := epcis.ReadDocument(bytes.NewReader(adapted), func(_ int, ev epcis.Event) error {
		out = append(out, ev)
		return nil
	}); err != nil {
		t.Fatalf("the adapted example does not parse: %v", err)
	}
	return out[0]
}

func digitalLink(p inventory.Product, lot string) string {
	return "https://id.gs1.org/01/" + p.GTIN + "/10/" + lot
}

// GS1's own shipping and transformation examples (EPCIS 2.0, section
// 9.6), adapted to lots we hold, move stock exactly as the staff's
// operations do.
func TestOfficialExamplesSameEffectAsStaff(t *testing.T) {
	epcistest.Dir(t) // skips, saying why, without GS1's files
	w := newEffectWorld(t)
	ctx := context.Background()
	sTom, cTom := w.stock(w.tomatoes, "SO-TOM", "80", w.location), w.stock(w.tomatoes, "CO-TOM", "80", w.location)
	sSalt, cSalt := w.stock(w.salt, "SO-SALT", "5", w.location), w.stock(w.salt, "CO-SALT", "5", w.location)
	plantDL := "https://id.gs1.org/414/" + w.location.GLN

	// Example 9.6.1's shipping names instances: the adapted one names our
	// lot's class and quantity, at our plant, to the shop.
	ship := officialEvent(t, "WithDigitalLinkID/Example_9.6.1-ObjectEventWithDigitalLink.jsonld", "ObjectEvent", "shipping", func(e map[string]any) {
		delete(e, "epcList")
		e["quantityList"] = []any{map[string]any{"epcClass": digitalLink(w.tomatoes, "CO-TOM"), "quantity": 20, "uom": "KGM"}}
		e["readPoint"] = map[string]any{"id": plantDL}
		e["destinationList"] = []any{map[string]any{"type": "location", "destination": "https://id.gs1.org/414/" + w.shop.GLN}}
	})
	// Example 9.6.4's transformation: its input lot classes become ours,
	// its outputs (instances of another company) gain our output lot.
	transform := officialEvent(t, "WithDigitalLinkID/Example_9.6.4-TransformationEventWithDigitalLink.jsonld", "TransformationEvent", "", func(e map[string]any) {
		e["inputQuantityList"] = []any{
			map[string]any{"epcClass": digitalLink(w.tomatoes, "CO-TOM"), "quantity": 50, "uom": "KGM"},
			map[string]any{"epcClass": digitalLink(w.salt, "CO-SALT"), "quantity": 1},
		}
		e["outputQuantityList"] = []any{map[string]any{"epcClass": digitalLink(w.passata, "CO-PAS"), "quantity": 400, "uom": "H87"}}
		e["readPoint"] = map[string]any{"id": plantDL}
	})
	res := capture(t, w.svc, false, ship, transform)
	if len(res.Errors) != 0 || res.Stored != 2 {
		t.Fatalf("stored %d, errors %+v", res.Stored, res.Errors)
	}

	if _, err := w.svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: sTom.ID, Quantity: q("20")}},
		ShipToID: w.shop.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:  []inventory.StockItem{{BatchID: sTom.ID, Quantity: q("50")}, {BatchID: sSalt.ID, Quantity: q("1")}},
		Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: "SO-PAS", Quantity: q("400")}}}); err != nil {
		t.Fatal(err)
	}
	w.sameEffect(t, "tomatoes", sTom.ID, cTom.ID)
	w.sameEffect(t, "salt", sSalt.ID, cSalt.ID)
	sPas, _, _ := w.row("SO-PAS", w.location)
	cPas, _, _ := w.row("CO-PAS", w.location)
	w.sameEffect(t, "passata", sPas, cPas)

	// The stored events are GS1's, as received: their eventIDs, the
	// example's extension field and ILMD kept.
	se, err := w.svc.GetEventByEventID(ctx, transform.EventID)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"example:myField", "example:bestBeforeDate", "inputEPCList"} {
		if !strings.Contains(string(se.Document), part) {
			t.Errorf("stored document lacks %s: %s", part, se.Document)
		}
	}
	if _, err := w.svc.GetEventByEventID(ctx, ship.EventID); err != nil {
		t.Errorf("the shipping event by its eventID: %v", err)
	}
}

// Captures shipping two lots in opposite orders, beside staff
// transformations taking both, neither deadlock nor overdraw: every lot's
// ledger explains its balance.
func TestConcurrentCapturesAndStaffMovements(t *testing.T) {
	w := newEffectWorld(t)
	ctx := context.Background()
	a, b := w.stock(w.tomatoes, "CC-A", "200", w.location), w.stock(w.salt, "CC-B", "200", w.location)
	ship := func(id string, p inventory.Product, lot string) epcis.Event {
		return captured(id, step("OBSERVE", "shipping", "in_transit"), readPoint(w.location), to(w.shop),
			ids(lotClass("epc", p, lot, "3", "KGM")))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				id := fmt.Sprintf("urn:uuid:cc-%d-%d-", g, i)
				doc := []epcis.Event{ship(id+"a", w.tomatoes, "CC-A"), ship(id+"b", w.salt, "CC-B")}
				if g%2 == 1 {
					doc[0], doc[1] = doc[1], doc[0]
				}
				if _, err := w.svc.CaptureEvents(ctx, inventory.Actor{Name: "cc"}, slices.All(doc), inventory.CaptureOptions{}); err != nil {
					errs <- fmt.Errorf("capture: %w", err)
				}
			}
		}()
	}
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				in := []inventory.StockItem{{BatchID: a.ID, Quantity: q("2")}, {BatchID: b.ID, Quantity: q("1")}}
				if g == 1 {
					in[0], in[1] = in[1], in[0]
				}
				_, err := w.svc.Transform(ctx, inventory.System, inventory.TransformRequest{Inputs: in,
					Outputs: []inventory.TransformOutput{{ProductID: w.passata.ID, Quantity: q("10")}}})
				if err != nil && !errors.Is(err, inventory.ErrLockTimeout) {
					errs <- fmt.Errorf("transform: %w", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, lot := range []inventory.Batch{a, b} {
		m := w.balance(lot)
		if m.Shipped != q("60") {
			t.Errorf("%s shipped %s, want 60 (20 captures of 3)", lot.BatchNumber, m.Shipped)
		}
		w.ledger(lot)
	}
}
