package web

import (
	"net/http"
	"testing"
)

func TestConsumeThroughHTTP(t *testing.T) {
	a := newTestApp(t)
	b := a.fixture("10")
	resp := a.do("POST", "/api/batches/"+b.ID.String()+"/consume", map[string]any{"quantity_to_consume": "2.5"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, readBody(t, resp))
	}
	got := decode[consumeResponse](t, resp)
	if got.Batch.QuantityAvailable.String() != "7.5" || got.Consumption.VersionAfter != 2 {
		t.Errorf("after consume: available %s, version %d", got.Batch.QuantityAvailable, got.Consumption.VersionAfter)
	}
	a.checkLedger(b)
}
