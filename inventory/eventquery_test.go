package inventory_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"batchtrack/epcis"
	"batchtrack/inventory"
	"batchtrack/quantity"
)

const (
	gtinX = "09521234543213"
	gtinY = "09521234543220"
	gtinZ = "09521234543237"
	glnA  = "9521234000006"
	glnB  = "9521234000013"
)

func queryFixture(t *testing.T) *inventory.Service {
	t.Helper()
	svc, _ := newService(t, 10, time.Second)
	e1 := captured("urn:uuid:q-e1", at(1*time.Hour), func(e *epcis.Event) {
		e.Action, e.BizStep, e.Disposition = "ADD", "commissioning", "active"
		e.ReadPoint, e.BizLocation = "414/"+glnA, "414/"+glnA
		e.BizTransactions = []epcis.Typed{{Type: "po", ID: "urn:epcglobal:cbv:bt:" + glnA + ":po1", Key: "po1"}}
		e.Sources = []epcis.Typed{{Type: "owning_party", ID: "https://id.gs1.org/417/A", Key: "417/A"}}
	}, ids(instance(epcis.RoleEPC, "01/"+gtinX+"/21/1")))
	e2 := captured("urn:uuid:q-e2", at(2*time.Hour), func(e *epcis.Event) {
		e.BizLocation = "414/" + glnA + "/254/7"
		e.Destinations = []epcis.Typed{{Type: "owning_party", ID: "https://id.gs1.org/417/B", Key: "417/B"}}
		e.Error = &epcis.ErrorDeclaration{DeclarationTime: baseTime, Reason: "incorrect_data", CorrectiveEventIDs: []string{"urn:uuid:q-e3"}}
	}, ids(class(epcis.RoleEPC, "01/"+gtinX+"/10/L1", "10", "KGM")))
	e3 := captured("urn:uuid:q-e3", at(3*time.Hour), func(e *epcis.Event) {
		e.Type, e.Action, e.BizStep, e.Disposition = "AggregationEvent", "ADD", "packing", ""
		e.BizTransactions = []epcis.Typed{{Type: "po", ID: "urn:x:po2", Key: "po2"}}
	}, ids(instance(epcis.RoleParent, "00/123456789012345675"), instance(epcis.RoleChild, "01/"+gtinX+"/21/2"),
		class(epcis.RoleChild, "01/"+gtinY+"/10/L2", "5", "KGM")))
	e4 := captured("urn:uuid:q-e4", at(4*time.Hour), func(e *epcis.Event) {
		e.Type, e.Action, e.BizStep, e.Disposition = "TransformationEvent", "", "commissioning", ""
		e.TransformationID, e.ReadPoint = "urn:uuid:tx-1", "414/"+glnB
	}, ids(class(epcis.RoleInput, "01/"+gtinX+"/10/L1", "3", "KGM"), class(epcis.RoleOutput, "01/"+gtinZ+"/10/L3", "2", "KGM"),
		instance(epcis.RoleInput, "01/"+gtinX+"/21/3"), instance(epcis.RoleOutput, "01/"+gtinZ+"/21/4")))
	e5 := captured("urn:uuid:q-e5", at(5*time.Hour), func(e *epcis.Event) {
		e.Type, e.Action, e.BizStep, e.Disposition = "TransactionEvent", "DELETE", "receiving", ""
		e.BizTransactions = []epcis.Typed{{Type: "", ID: "urn:x:inv9", Key: "inv9"}}
	}, ids(instance(epcis.RoleEPC, "01/"+gtinY+"/21/9")))
	if res := capture(t, svc, false, e1, e2, e3, e4, e5); res.Stored != 5 {
		t.Fatalf("fixture: %+v", res)
	}
	return svc
}

func TestQueryEventsFilters(t *testing.T) {
	svc := queryFixture(t)
	past, future := baseTime.AddDate(-1, 0, 0), time.Now().AddDate(1, 0, 0)
	ge2h, lt4h := baseTime.Add(2*time.Hour), baseTime.Add(4*time.Hour)
	exact := func(k string) []inventory.KeyMatch { return []inventory.KeyMatch{{Key: k}} }
	prefix := func(k string) []inventory.KeyMatch { return []inventory.KeyMatch{{Key: k, Prefix: true}} }
	tests := []struct {
		name string
		q    inventory.EventQuery
		want []int // event numbers, newest first
	}{
		{"all", inventory.EventQuery{}, []int{5, 4, 3, 2, 1}},
		{"eventType", inventory.EventQuery{EventTypes: []string{"AggregationEvent"}}, []int{3}},
		{"action", inventory.EventQuery{Actions: []string{"ADD"}}, []int{3, 1}},
		{"type and action", inventory.EventQuery{EventTypes: []string{"ObjectEvent"}, Actions: []string{"ADD"}}, []int{1}},
		{"bizStep", inventory.EventQuery{BizSteps: []string{"shipping"}}, []int{2}},
		{"bizStep as URN", inventory.EventQuery{BizSteps: []string{"urn:epcglobal:cbv:bizstep:shipping"}}, []int{2}},
		{"disposition", inventory.EventQuery{Dispositions: []string{"active", "in_transit"}}, []int{2, 1}},
		{"eventTime range", inventory.EventQuery{GEEventTime: &ge2h, LTEventTime: &lt4h}, []int{3, 2}},
		{"recordTime from", inventory.EventQuery{GERecordTime: &past}, []int{5, 4, 3, 2, 1}},
		{"recordTime before", inventory.EventQuery{LTRecordTime: &past}, nil},
		{"recordTime before future", inventory.EventQuery{LTRecordTime: &future, EventTypes: []string{"TransactionEvent"}}, []int{5}},
		{"EQ_readPoint", inventory.EventQuery{ReadPoints: []string{"414/" + glnA}}, []int{1}},
		{"EQ_bizLocation", inventory.EventQuery{BizLocations: []string{"414/" + glnA}}, []int{1}},
		{"WD_bizLocation", inventory.EventQuery{BizLocationsWD: []string{"414/" + glnA}}, []int{2, 1}},
		{"WD_readPoint", inventory.EventQuery{ReadPointsWD: []string{"414/" + glnB, "414/" + glnA}}, []int{4, 1}},
		{"MATCH_epc", inventory.EventQuery{EPC: exact("01/" + gtinX + "/21/1")}, []int{1}},
		{"MATCH_epc child", inventory.EventQuery{EPC: exact("01/" + gtinX + "/21/2")}, []int{3}},
		{"MATCH_epc pattern", inventory.EventQuery{EPC: prefix("01/" + gtinX + "/21/")}, []int{3, 1}},
		{"MATCH_epc is not a class", inventory.EventQuery{EPC: exact("01/" + gtinX + "/10/L1")}, nil},
		{"MATCH_parentID", inventory.EventQuery{ParentID: exact("00/123456789012345675")}, []int{3}},
		{"MATCH_inputEPC", inventory.EventQuery{InputEPC: exact("01/" + gtinX + "/21/3")}, []int{4}},
		{"MATCH_outputEPC", inventory.EventQuery{OutputEPC: exact("01/" + gtinZ + "/21/4")}, []int{4}},
		{"MATCH_anyEPC", inventory.EventQuery{AnyEPC: prefix("01/" + gtinX + "/21/")}, []int{4, 3, 1}},
		{"MATCH_anyEPC parent", inventory.EventQuery{AnyEPC: exact("00/123456789012345675")}, []int{3}},
		{"MATCH_epcClass", inventory.EventQuery{EPCClass: exact("01/" + gtinX + "/10/L1")}, []int{2}},
		{"MATCH_epcClass child", inventory.EventQuery{EPCClass: prefix("01/" + gtinY + "/")}, []int{3}},
		{"MATCH_inputEPCClass", inventory.EventQuery{InputEPCClass: exact("01/" + gtinX + "/10/L1")}, []int{4}},
		{"MATCH_outputEPCClass", inventory.EventQuery{OutputEPCClass: exact("01/" + gtinZ + "/10/L3")}, []int{4}},
		{"MATCH_anyEPCClass", inventory.EventQuery{AnyEPCClass: exact("01/" + gtinX + "/10/L1")}, []int{4, 2}},
		{"MATCH_anyEPCClass or", inventory.EventQuery{AnyEPCClass: []inventory.KeyMatch{{Key: "01/" + gtinZ + "/10/L3"}, {Key: "01/" + gtinY + "/10/L2"}}}, []int{4, 3}},
		{"GE_quantity", inventory.EventQuery{Quantity: []inventory.QuantityFilter{{Op: "ge", Value: quantity.MustParse("5")}}}, []int{3, 2}},
		{"GT_quantity LT_quantity", inventory.EventQuery{Quantity: []inventory.QuantityFilter{{Op: "gt", Value: quantity.MustParse("2")}, {Op: "lt", Value: quantity.MustParse("5")}}}, []int{4}},
		{"EQ_quantity", inventory.EventQuery{Quantity: []inventory.QuantityFilter{{Op: "eq", Value: quantity.MustParse("10")}}}, []int{2}},
		{"EQ_eventID", inventory.EventQuery{EventIDs: []string{"urn:uuid:q-e5", "urn:uuid:q-e1"}}, []int{5, 1}},
		{"EQ_errorReason", inventory.EventQuery{ErrorReasons: []string{"incorrect_data"}}, []int{2}},
		{"EXISTS_errorDeclaration", inventory.EventQuery{ExistsErrorDeclaration: true}, []int{2}},
		{"hide declared in error", inventory.EventQuery{HideDeclaredInError: true}, []int{5, 4, 3, 1}},
		{"EQ_correctiveEventID", inventory.EventQuery{CorrectiveEventIDs: []string{"urn:uuid:q-e3"}}, []int{2}},
		{"EQ_transformationID", inventory.EventQuery{TransformationIDs: []string{"urn:uuid:tx-1"}}, []int{4}},
		{"EQ_bizTransaction_po", inventory.EventQuery{BizTransactions: map[string][]string{"po": {"po1", "po2"}}}, []int{3, 1}},
		{"EQ_bizTransaction untyped", inventory.EventQuery{BizTransactions: map[string][]string{"": {"inv9"}}}, []int{5}},
		{"EQ_bizTransaction wrong type", inventory.EventQuery{BizTransactions: map[string][]string{"inv": {"po1"}}}, nil},
		{"EQ_source", inventory.EventQuery{Sources: map[string][]string{"owning_party": {"417/A"}}}, []int{1}},
		{"EQ_destination", inventory.EventQuery{Destinations: map[string][]string{"owning_party": {"417/B"}}}, []int{2}},
		{"EQ_destination is not a source", inventory.EventQuery{Sources: map[string][]string{"owning_party": {"417/B"}}}, nil},
		{"oldest first", inventory.EventQuery{Ascending: true, EventTypes: []string{"ObjectEvent"}}, []int{1, 2}},
		{"eventCountLimit", inventory.EventQuery{EventCountLimit: 2}, []int{5, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := svc.QueryEvents(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for _, n := range tt.want {
				want = append(want, fmt.Sprintf("urn:uuid:q-e%d", n))
			}
			for _, e := range page.Events {
				got = append(got, e.EventID)
			}
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := svc.QueryEvents(context.Background(), inventory.EventQuery{MaxEventCount: 4}); !errors.As(err, new(*inventory.QueryTooLargeError)) {
		t.Errorf("maxEventCount 4 of 5: %v", err)
	}
	if _, err := svc.QueryEvents(context.Background(), inventory.EventQuery{MaxEventCount: 5}); err != nil {
		t.Errorf("maxEventCount 5 of 5: %v", err)
	}
	for _, q := range []inventory.EventQuery{{OrderBy: "bizStep"}, {PerPage: 1001}, {PageToken: "nonsense"}, {EventTypes: []string{"Event"}}} {
		var v *inventory.ValidationError
		if _, err := svc.QueryEvents(context.Background(), q); !errors.As(err, &v) {
			t.Errorf("%+v: %v, want a validation error", q, err)
		}
	}
}

// Paging walks every event once, in order, whatever the order and
// direction; a token only continues the order it came from.
func TestQueryEventsPagination(t *testing.T) {
	svc, _ := newService(t, 10, time.Second)
	ctx := context.Background()
	var all []string
	for c := range 3 {
		var doc []epcis.Event
		for i := range 9 {
			id := fmt.Sprintf("urn:uuid:p-%d-%d", c, i)
			all = append(all, id)
			// Ties on eventTime, so the id decides.
			doc = append(doc, captured(id, at(time.Duration(i%4)*time.Minute)))
		}
		capture(t, svc, false, doc...)
	}
	full := func(order string, asc bool) []inventory.StoredEvent {
		page, err := svc.QueryEvents(ctx, inventory.EventQuery{OrderBy: order, Ascending: asc, PerPage: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return page.Events
	}
	for _, order := range []string{"eventTime", "recordTime"} {
		for _, asc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s asc=%v", order, asc), func(t *testing.T) {
				want := full(order, asc)
				if len(want) != len(all) {
					t.Fatalf("%d events, want %d", len(want), len(all))
				}
				var got []inventory.StoredEvent
				q := inventory.EventQuery{OrderBy: order, Ascending: asc, PerPage: 4}
				for pages := 0; ; pages++ {
					if pages > 20 {
						t.Fatal("no end")
					}
					page, err := svc.QueryEvents(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, page.Events...)
					if page.NextPageToken == "" {
						break
					}
					q.PageToken = page.NextPageToken
				}
				if diff := gocmp.Diff(eventIDsOf(want), eventIDsOf(got)); diff != "" {
					t.Errorf("paged (-full +paged):\n%s", diff)
				}
				// The full list is sorted by (time, id) in the direction asked.
				sorted := slices.Clone(want)
				slices.SortFunc(sorted, func(a, b inventory.StoredEvent) int {
					c := cmp.Compare(eventSortTime(t, a, order).UnixNano(), eventSortTime(t, b, order).UnixNano())
					if c == 0 {
						c = cmp.Compare(a.ID.String(), b.ID.String())
					}
					if !asc {
						c = -c
					}
					return c
				})
				if diff := gocmp.Diff(eventIDsOf(sorted), eventIDsOf(want)); diff != "" {
					t.Errorf("order (-sorted +returned):\n%s", diff)
				}
			})
		}
	}
	page, _ := svc.QueryEvents(ctx, inventory.EventQuery{PerPage: 2})
	var v *inventory.ValidationError
	if _, err := svc.QueryEvents(ctx, inventory.EventQuery{PerPage: 2, OrderBy: "recordTime", PageToken: page.NextPageToken}); !errors.As(err, &v) {
		t.Errorf("token of another order: %v", err)
	}
	if _, err := svc.QueryEvents(ctx, inventory.EventQuery{PerPage: 2, Ascending: true, PageToken: page.NextPageToken}); !errors.As(err, &v) {
		t.Errorf("token of another direction: %v", err)
	}
	// eventCountLimit spans pages.
	var n int
	q := inventory.EventQuery{PerPage: 4, EventCountLimit: 10}
	for {
		page, err := svc.QueryEvents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Events)
		if page.NextPageToken == "" {
			break
		}
		q.PageToken = page.NextPageToken
	}
	if n != 10 {
		t.Errorf("eventCountLimit 10 over pages of 4: %d events", n)
	}
}

func eventIDsOf(list []inventory.StoredEvent) []string {
	var out []string
	for _, e := range list {
		out = append(out, e.EventID)
	}
	return out
}

func eventSortTime(t *testing.T, e inventory.StoredEvent, order string) time.Time {
	t.Helper()
	if order == "recordTime" {
		return e.RecordTime
	}
	var doc struct {
		EventTime time.Time `json:"eventTime"`
	}
	if err := json.Unmarshal(e.Document, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.EventTime
}
