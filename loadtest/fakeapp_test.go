package loadtest

import (
	"batchtrack/gs1"

	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// fakeApp is a small in-memory stand-in for batchtrack's JSON API, enough
// to drive the suite's own logic (fixtures, tallies, pagination, 429
// handling, ledger check) in this package's tests. The suite against the
// real app runs in the app's test package.
type fakeApp struct {
	mu         sync.Mutex
	products   map[string]bool // GTINs
	locations  map[string]bool // GLNs
	ids        int
	batches    map[string]*fakeBatch
	order      []string
	lots       map[string]bool
	events     int
	eventsWarm bool
	limits     map[string]int // policy -> requests allowed per window
	used       map[string]int
	// loseEvery drops the ledger row of every n-th consume (0: never) while
	// still updating the balance: the bug the ledger check must catch.
	loseEvery int
	consumes  int
}

type fakeBatch struct {
	ID                string   `json:"id"`
	BatchNumber       string   `json:"batch_number"`
	QuantityProduced  Quantity `json:"quantity_produced"`
	QuantityAvailable Quantity `json:"quantity_available"`
	Version           int64    `json:"version"`
	Origin            string   `json:"origin"`
	ledger            []map[string]any
}

func newFakeApp(readLimit, consumeLimit int) *fakeApp {
	return &fakeApp{
		products: map[string]bool{}, locations: map[string]bool{}, batches: map[string]*fakeBatch{}, lots: map[string]bool{},
		limits: map[string]int{"read": readLimit, "consume": consumeLimit, "events": 1 << 30, "batches": 1 << 30},
		used:   map[string]int{},
	}
}

func (a *fakeApp) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/products", a.limited("batches", a.createProduct))
	mux.HandleFunc("POST /api/locations", a.limited("batches", a.createLocation))
	mux.HandleFunc("POST /api/batches", a.limited("batches", a.createBatch))
	mux.HandleFunc("GET /api/batches", a.limited("read", a.listBatches))
	mux.HandleFunc("GET /api/batches/{id}", a.limited("read", a.showBatch))
	mux.HandleFunc("POST /api/batches/{id}/consume", a.limited("consume", a.consume))
	mux.HandleFunc("GET /api/batches/{id}/consumptions", a.limited("read", a.listConsumptions))
	mux.HandleFunc("GET /api/batches/{id}/balance", a.limited("read", a.showBalance))
	mux.HandleFunc("POST /api/shipments", a.limited("batches", a.createShipment))
	mux.HandleFunc("POST /api/transformations", a.limited("batches", a.createTransformation))
	mux.HandleFunc("GET /api/events", a.limited("read", a.listEvents))
	mux.HandleFunc("POST /api/events", a.limited("events", a.createEvent))
	mux.HandleFunc("GET /api/metrics", a.limited("read", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"cache_hit_rate": 0.5})
	}))
	return mux
}

// limited is a fixed-window limiter per policy, with the API's headers.
func (a *fakeApp) limited(policy string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		limit := a.limits[policy]
		a.used[policy]++
		used := a.used[policy]
		a.mu.Unlock()
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-used, 0)))
		h.Set("X-RateLimit-Reset", time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
		if used > limit {
			h.Set("Retry-After", "60")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"type": "/problems/rate-limited", "status": 429})
			return
		}
		next(w, r)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func decode(r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	return dec.Decode(v) == nil
}

func (a *fakeApp) newID() string {
	a.ids++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", a.ids)
}

func (a *fakeApp) createProduct(w http.ResponseWriter, r *http.Request) {
	var in struct{ GTIN, Name, Category string }
	if !decode(r, &in) || len(in.GTIN) != 14 || !validGTIN(in.GTIN) {
		writeJSON(w, http.StatusUnprocessableEntity, nil)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.products[in.GTIN] {
		writeJSON(w, http.StatusConflict, nil)
		return
	}
	a.products[in.GTIN] = true
	writeJSON(w, http.StatusCreated, map[string]string{"id": a.newID(), "gtin": in.GTIN})
}

func (a *fakeApp) createLocation(w http.ResponseWriter, r *http.Request) {
	var in struct{ GLN, Name, Type string }
	if !decode(r, &in) || len(in.GLN) != 13 || gs1.ValidateGLN(in.GLN) != nil || in.Type != "warehouse" {
		writeJSON(w, http.StatusUnprocessableEntity, nil)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.locations[in.GLN] = true
	writeJSON(w, http.StatusCreated, map[string]string{"id": a.newID(), "gln": in.GLN})
}

func (a *fakeApp) createBatch(w http.ResponseWriter, r *http.Request) {
	var in struct {
		BatchNumber      string   `json:"batch_number"`
		ProductID        string   `json:"product_id"`
		LocationID       string   `json:"location_id"`
		ProductionDate   string   `json:"production_date"`
		ExpiryDate       string   `json:"expiry_date"`
		QuantityProduced Quantity `json:"quantity_produced"`
		UnitOfMeasure    string   `json:"unit_of_measure"`
		QualityStatus    string   `json:"quality_status"`
		Notes            string   `json:"notes"`
	}
	if !decode(r, &in) || len(in.BatchNumber) > 20 || in.QuantityProduced <= 0 {
		writeJSON(w, http.StatusUnprocessableEntity, nil)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lots[in.BatchNumber] {
		writeJSON(w, http.StatusConflict, nil)
		return
	}
	a.lots[in.BatchNumber] = true
	b := &fakeBatch{ID: a.newID(), BatchNumber: in.BatchNumber, QuantityProduced: in.QuantityProduced, QuantityAvailable: in.QuantityProduced, Version: 1, Origin: "produced"}
	a.batches[b.ID] = b
	a.order = append(a.order, b.ID)
	writeJSON(w, http.StatusCreated, b)
}

func (a *fakeApp) listBatches(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	items := []*fakeBatch{}
	for i := len(a.order) - 1; i >= 0 && len(items) < 20; i-- {
		items = append(items, a.batches[a.order[i]])
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nil})
}

func (a *fakeApp) showBatch(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.batches[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, nil)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (a *fakeApp) consume(w http.ResponseWriter, r *http.Request) {
	var in struct {
		QuantityToConsume Quantity `json:"quantity_to_consume"`
		Reason            string   `json:"reason"`
	}
	if !decode(r, &in) || in.QuantityToConsume <= 0 {
		writeJSON(w, http.StatusUnprocessableEntity, nil)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.batches[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, nil)
		return
	}
	if in.QuantityToConsume > b.QuantityAvailable {
		writeJSON(w, http.StatusConflict, map[string]any{"type": "/problems/insufficient-quantity"})
		return
	}
	b.QuantityAvailable -= in.QuantityToConsume
	b.Version++
	a.consumes++
	row := map[string]any{
		"id": a.newID(), "batch_id": b.ID, "kind": "consume", "quantity": in.QuantityToConsume,
		"quantity_available_after": b.QuantityAvailable, "version_after": b.Version, "reason": in.Reason,
	}
	if a.loseEvery == 0 || a.consumes%a.loseEvery != 0 {
		b.ledger = append(b.ledger, row)
	}
	a.eventsWarm = false // a consume records an event
	writeJSON(w, http.StatusOK, map[string]any{"batch": b, "consumption": row})
}

func (a *fakeApp) listConsumptions(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.batches[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, nil)
		return
	}
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit < 1 || limit > 200 {
		limit = 50
	}
	// Newest first; the cursor is the offset, small pages force paging.
	limit = min(limit, 7)
	offset, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	items := []map[string]any{}
	for i := len(b.ledger) - 1 - offset; i >= 0 && len(items) < limit; i-- {
		items = append(items, b.ledger[i])
	}
	var next any
	if offset+len(items) < len(b.ledger) {
		next = strconv.Itoa(offset + len(items))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": next})
}

func (a *fakeApp) listEvents(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	cache := "HIT"
	if !a.eventsWarm {
		cache, a.eventsWarm = "MISS", true
	}
	a.mu.Unlock()
	w.Header().Set("X-Cache", cache)
	writeJSON(w, http.StatusOK, map[string]any{"items": []any{}, "next_cursor": nil})
}

func (a *fakeApp) createEvent(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if !decode(r, &in) || in["event_type"] != "ObjectEvent" || in["biz_step"] != "inspecting" {
		writeJSON(w, http.StatusUnprocessableEntity, nil)
		return
	}
	a.mu.Lock()
	a.events++
	a.eventsWarm = false
	a.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"id": "e"})
}

type fakeItem struct {
	BatchID  string   `json:"batch_id"`
	Quantity Quantity `json:"quantity"`
}

// move applies a movement all or nothing: takes from, and adds to, batches
// by id, one ledger row each. The caller holds a.mu.
func (a *fakeApp) move(w http.ResponseWriter, takes, adds []fakeItem, takeKind string) {
	for _, it := range append(append([]fakeItem{}, takes...), adds...) {
		if _, ok := a.batches[it.BatchID]; !ok || it.Quantity <= 0 {
			writeJSON(w, http.StatusUnprocessableEntity, nil)
			return
		}
	}
	for _, it := range takes {
		if a.batches[it.BatchID].QuantityAvailable < it.Quantity {
			writeJSON(w, http.StatusConflict, map[string]any{"type": "/problems/insufficient-quantity"})
			return
		}
	}
	row := func(b *fakeBatch, kind string, q Quantity) {
		b.Version++
		b.ledger = append(b.ledger, map[string]any{"id": a.newID(), "batch_id": b.ID, "kind": kind, "quantity": q,
			"quantity_available_after": b.QuantityAvailable, "version_after": b.Version, "reverses_kind": nil})
	}
	for _, it := range takes {
		b := a.batches[it.BatchID]
		b.QuantityAvailable -= it.Quantity
		row(b, takeKind, it.Quantity)
	}
	for _, it := range adds {
		b := a.batches[it.BatchID]
		b.QuantityAvailable += it.Quantity
		row(b, "produce", it.Quantity)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"event_id": a.newID(), "ledger": []any{}})
}

func (a *fakeApp) createShipment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Items    []fakeItem `json:"items"`
		ShipToID string     `json:"ship_to_id"`
		Notes    string     `json:"notes"`
	}
	if !decode(r, &in) || len(in.Items) == 0 || in.ShipToID == "" {
		writeJSON(w, http.StatusUnprocessableEntity, nil)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.move(w, in.Items, nil, "ship")
}

func (a *fakeApp) createTransformation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Inputs  []fakeItem `json:"inputs"`
		Outputs []struct {
			ProductID   string   `json:"product_id"`
			BatchNumber string   `json:"batch_number"`
			Quantity    Quantity `json:"quantity"`
			Unit        string   `json:"unit"`
		} `json:"outputs"`
		Notes string `json:"notes"`
	}
	if !decode(r, &in) || len(in.Inputs) == 0 || len(in.Outputs) == 0 {
		writeJSON(w, http.StatusUnprocessableEntity, nil)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var adds []fakeItem
	for _, o := range in.Outputs {
		id := ""
		for _, b := range a.batches {
			if b.BatchNumber == o.BatchNumber {
				id = b.ID
			}
		}
		adds = append(adds, fakeItem{BatchID: id, Quantity: o.Quantity})
	}
	a.move(w, in.Inputs, adds, "transform_in")
}

func (a *fakeApp) showBalance(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.batches[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, nil)
		return
	}
	m := MassBalance{Origin: b.Origin, Produced: b.QuantityProduced, OnHand: b.QuantityAvailable, Entries: int64(len(b.ledger))}
	for _, row := range b.ledger {
		q := row["quantity"].(Quantity)
		switch row["kind"] {
		case "consume":
			m.Consumed += q
		case "ship": // to another of our locations: in transit until received
			m.Shipped += q
			m.InTransit += q
		case "transform_in":
			m.Transformed += q
		case "produce":
			m.Produced += q
		}
	}
	m.Balanced = m.Produced-m.Consumed-m.Shipped-m.Transformed == m.OnHand
	writeJSON(w, http.StatusOK, m)
}
