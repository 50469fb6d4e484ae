package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"batchtrack/inventory"
)

// recallWorld is tomatoes received and released, made into passata,
// shipped to the shop: a recall of the tomatoes reaches the passata and
// the shop.
type recallWorld struct {
	*stockWorld
	tom, pas inventory.Batch
}

func newRecallWorld(a *testApp) *recallWorld {
	a.t.Helper()
	ctx := context.Background()
	w := &recallWorld{stockWorld: newStockWorld(a)}
	w.tom = w.receive(w.tomatoes, "TOM-9", "50", nil, "approved")
	m, err := a.svc.Transform(ctx, inventory.System, inventory.TransformRequest{
		Inputs:      []inventory.StockItem{{BatchID: w.tom.ID, Quantity: qty("40")}},
		Outputs:     []inventory.TransformOutput{{ProductID: w.passata.ID, BatchNumber: "PAS-9", Quantity: qty("300")}},
		YieldReason: "test"})
	if err != nil {
		a.t.Fatal(err)
	}
	w.pas = m.Batches[len(m.Batches)-1]
	approved := "approved"
	if w.pas, err = a.svc.UpdateBatch(ctx, inventory.System, w.pas.ID, inventory.BatchUpdate{QualityStatus: &approved}, nil); err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.svc.Ship(ctx, inventory.System, inventory.ShipRequest{Items: []inventory.StockItem{{BatchID: w.pas.ID, Quantity: qty("120")}},
		ShipToID: w.shop.ID, References: []inventory.BizTransaction{{Type: "desadv", ID: "DN-77"}}}); err != nil {
		a.t.Fatal(err)
	}
	return w
}

func TestRecallAPI(t *testing.T) {
	a := newTestApp(t)
	w := newRecallWorld(a)
	roots := map[string]any{"batch_ids": []uuid.UUID{w.tom.ID}}

	// Bad input: a clear problem, nothing stored.
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
	}{
		{"no lots", "/api/recalls/impact", map[string]any{"batch_ids": []string{}}, 422},
		{"not uuids", "/api/recalls/impact", `{"batch_ids": ["x"]}`, 422},
		{"unknown lot", "/api/mock-recalls", map[string]any{"batch_ids": []uuid.UUID{uuid.New()}}, 404},
		{"bad class", "/api/recalls", map[string]any{"batch_ids": []uuid.UUID{w.tom.ID}, "reason": "r", "decided_by": "QA", "classification": "class_9"}, 422},
		{"no reason", "/api/recalls", map[string]any{"batch_ids": []uuid.UUID{w.tom.ID}, "mock": false}, 422},
		{"not json", "/api/recalls", "{", 400},
	} {
		resp := a.do("POST", tc.path, tc.body)
		if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: %d %s, want %d problem+json", tc.name, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status)
		}
	}
	if b := w.batch(w.pas.ID); b.QualityStatus != inventory.StatusApproved {
		t.Fatalf("refused requests changed the lot: %s", b.QualityStatus)
	}

	resp := a.do("POST", "/api/recalls/impact", roots)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("impact: %d %s", resp.StatusCode, readBody(t, resp))
	}
	im := decode[inventory.RecallImpact](t, resp)
	if im.Summary.Lots != 2 || im.Summary.Customers != 1 || len(im.Customers) != 1 || im.Customers[0].Shipments[0].References != "desadv DN-77" {
		t.Fatalf("impact %+v", im)
	}

	resp = a.do("POST", "/api/mock-recalls", map[string]any{"batch_ids": []uuid.UUID{w.tom.ID}, "note": "drill"})
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(resp.Header.Get("Location"), "/api/mock-recalls/") {
		t.Fatalf("mock recall: %d %s", resp.StatusCode, readBody(t, resp))
	}
	mock := decode[mockRecallJSON](t, resp)
	if mock.DurationMs <= 0 || mock.Summary.Lots != 2 || mock.Impact == nil {
		t.Fatalf("mock %+v", mock)
	}
	if resp := a.do("GET", "/api/mock-recalls/"+mock.ID.String(), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("mock recall read back: %d", resp.StatusCode)
	}
	list := decode[struct{ Items []mockRecallJSON }](t, a.do("GET", "/api/mock-recalls?limit=5", nil))
	if len(list.Items) != 1 || list.Items[0].Summary.Customers != 1 {
		t.Fatalf("mock recalls %+v", list)
	}

	// The shape api.md names: a mock through POST /api/recalls, with the
	// lots and customers it reached, read back at /api/recalls/{id};
	// classification and decided_by may be left out.
	resp = a.do("POST", "/api/recalls", map[string]any{"batch_ids": []uuid.UUID{w.tom.ID}, "reason": "drill", "mock": true})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("mock through /api/recalls: %d %s", resp.StatusCode, readBody(t, resp))
	}
	asked := decode[map[string]any](t, resp)
	affected, _ := asked["affected"].([]any)
	customers, _ := asked["customers"].([]any)
	if asked["mock"] != true || asked["took_ms"] == nil || asked["started_at"] == nil || len(affected) != 2 || len(customers) != 1 {
		t.Fatalf("contract fields of a mock recall: %v", asked)
	}
	if first := affected[0].(map[string]any); first["batch_number"] == nil || first["on_hand"] == nil || first["consumed"] == nil {
		t.Fatalf("affected lot %v", first)
	}
	if cu := customers[0].(map[string]any); cu["quantity"] != "120" || cu["uom"] == "" || cu["name"] != "Corner Shop Ltd" {
		t.Fatalf("customer %v", cu)
	}
	if resp := a.do("GET", "/api/recalls/"+asked["id"].(string), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("the mock read back at /api/recalls/{id}: %d", resp.StatusCode)
	}
	if b := w.batch(w.pas.ID); b.QualityStatus != inventory.StatusApproved {
		t.Fatalf("a mock recall changed the lot: %s", b.QualityStatus)
	}

	// One recall per idempotency key, however often it is sent.
	open := map[string]any{"batch_ids": []uuid.UUID{w.tom.ID}, "reason": "Glass fragments"}
	var first recallJSON
	for i := 0; i < 2; i++ {
		resp = a.do("POST", "/api/recalls", open, "Idempotency-Key", "recall-1")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("recall: %d %s", resp.StatusCode, readBody(t, resp))
		}
		rc := decode[recallJSON](t, resp)
		if i == 0 {
			first = rc
		} else if rc.ID != first.ID {
			t.Fatalf("a retried recall opened a second case")
		}
	}
	if first.Code == "" || first.Lots != 2 || first.Impact == nil || first.Impact.Lots[0].StatusBefore != inventory.StatusApproved ||
		first.Mock || len(first.Affected) != 2 || first.Affected[0].StatusBefore != "approved" || first.TookMs <= 0 ||
		first.Classification != "unclassified" || !strings.Contains(first.DecidedBy, "admin") {
		t.Fatalf("recall %+v", first)
	}
	if b := w.batch(w.pas.ID); b.QualityStatus != inventory.StatusRecalled {
		t.Fatalf("passata %s after the recall", b.QualityStatus)
	}
	// A recalled lot cannot be consumed: 409 naming why.
	resp = a.do("POST", "/api/batches/"+w.pas.ID.String()+"/consume", map[string]any{"quantity_to_consume": "1"})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(readBody(t, resp), "recalled") {
		t.Fatalf("consume of a recalled lot: %d", resp.StatusCode)
	}

	base := "/api/recalls/" + first.ID.String()
	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"too much", map[string]any{"kind": "destroyed", "batch_id": w.pas.ID, "quantity": "1000"}, 409},
		{"bad kind", map[string]any{"kind": "eaten", "batch_id": w.pas.ID, "quantity": "1"}, 422},
		{"return without customer", map[string]any{"kind": "returned", "batch_id": w.pas.ID, "quantity": "1"}, 422},
		{"destroyed", map[string]any{"kind": "destroyed", "batch_id": w.pas.ID, "quantity": "100", "note": "landfill"}, 201},
	} {
		resp := a.do("POST", base+"/recoveries", tc.body)
		if resp.StatusCode != tc.status {
			t.Errorf("recovery %s: %d %s, want %d", tc.name, resp.StatusCode, readBody(t, resp), tc.status)
		}
	}
	rc := decode[recallJSON](t, a.do("GET", base, nil))
	if len(rc.Recoveries) != 1 || rc.Current == nil || !rc.Current.Summary.Balanced {
		t.Fatalf("case %+v", rc)
	}

	resp = a.do("GET", base+"/report.csv", nil)
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("csv: %d %v", resp.StatusCode, err)
	}
	sections := map[string]int{}
	for _, r := range rows[1:] {
		sections[r[1]]++
	}
	if sections["affected lot"] != 2 || sections["to notify"] != 1 || sections["recovered: destroyed"] != 1 || sections["transformed"] != 1 {
		t.Fatalf("csv sections %v", sections)
	}

	if resp := a.do("POST", base+"/close", map[string]any{"note": "done"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("close: %d %s", resp.StatusCode, readBody(t, resp))
	}
	if resp := a.do("POST", base+"/close", map[string]any{}); resp.StatusCode != http.StatusConflict {
		t.Fatalf("close twice: %d", resp.StatusCode)
	}
	recalls := decode[struct{ Items []recallJSON }](t, a.do("GET", "/api/recalls", nil))
	if len(recalls.Items) != 1 || recalls.Items[0].Status != "closed" || recalls.Items[0].Summary.Customers != 1 {
		t.Fatalf("recalls %+v", recalls)
	}
}

func TestRecallPages(t *testing.T) {
	a := newTestApp(t)
	w := newRecallWorld(a)

	// The form refuses what is missing, inline, and keeps the entries.
	resp := a.postForm("/recalls/preview", url.Values{"batch_ids": {w.tom.ID.String()}, "reason": {"Listeria"}}, false)
	wantStatus(t, resp, http.StatusUnprocessableEntity)
	_, doc := parseDoc(t, resp)
	if testid(doc, "error-recall-classification").Length() != 1 || doc.Find(`input[name="reason"]`).AttrOr("value", "") != "Listeria" {
		t.Fatal("missing classification not shown beside the field, or the reason was lost")
	}

	// A mock recall from the form: kept, timed, nothing changed.
	resp = a.postForm("/recalls/mock", url.Values{"batch_ids": {w.tom.ID.String()}, "note": {"Q4 drill"}}, false)
	wantStatus(t, resp, http.StatusSeeOther)
	resp = a.get(resp.Header.Get("Location"), false)
	wantStatus(t, resp, http.StatusOK)
	_, doc = parseDoc(t, resp)
	if !strings.Contains(testid(doc, "mock-timing").Text(), "Nothing was changed") || testid(doc, "impact-customer").Length() != 1 {
		t.Fatal("mock recall page lacks its timing or the customer")
	}

	recallThroughPages(t, a, "/recalls/new?batch_id="+w.tom.ID.String()+"&reason=Listeria")
	rs, err := a.svc.ListRecalls(context.Background(), 10)
	if err != nil || len(rs) != 1 {
		t.Fatalf("recalls %v %v", rs, err)
	}
	casePath := "/recalls/" + rs[0].ID.String()
	_, doc = parseDoc(t, a.get(casePath, false))
	if testid(doc, "impact-customer").Length() != 1 || !strings.Contains(testid(doc, "impact-to-notify").Text(), "DN-77") ||
		testid(doc, "impact-balanced").Length() != 1 {
		t.Fatal("case page lacks the customer, its document or the balance check")
	}

	// A refused recovery shows beside the quantity; entries kept.
	resp = a.postForm(casePath+"/recoveries", url.Values{"kind": {"destroyed"}, "batch_id": {w.pas.ID.String()}, "quantity": {"9999"}}, false)
	wantStatus(t, resp, http.StatusConflict)
	_, doc = parseDoc(t, resp)
	if testid(doc, "error-recovery-quantity").Length() != 1 || doc.Find(`input[name="quantity"]`).AttrOr("value", "") != "9999" {
		t.Fatal("refused recovery: no inline error or the entry was lost")
	}
	resp = a.postForm(casePath+"/recoveries", url.Values{"kind": {"destroyed"}, "batch_id": {w.pas.ID.String()}, "quantity": {"80"}}, false)
	wantStatus(t, resp, http.StatusSeeOther)
	_, doc = parseDoc(t, a.get(casePath, false))
	if testid(doc, "recovery-row").Length() != 1 {
		t.Fatal("the recovery is not listed")
	}
	resp = a.postForm(casePath+"/close", url.Values{"note": {"destroyed"}}, false)
	wantStatus(t, resp, http.StatusSeeOther)
	_, doc = parseDoc(t, a.get("/recalls", false))
	if testid(doc, "recall-row").Length() != 1 || testid(doc, "mock-row").Length() != 1 {
		t.Fatal("the recalls page does not list the case and the mock recall")
	}
}
