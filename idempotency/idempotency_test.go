package idempotency

import (
	"bytes"
	"testing"
)

// A retry is the same request when its JSON means the same, however its
// keys are ordered or spaced; anything else about it makes it another.
func TestHashComparesParsedJSON(t *testing.T) {
	base := Hash("POST", "/api/consumptions", []byte(`{"items":[{"batch_id":"a","quantity_to_consume":"1"}],"reason":"r"}`))
	tests := []struct {
		name         string
		method, path string
		body         string
		same         bool
	}{
		{"keys reordered and spaced", "POST", "/api/consumptions",
			"{ \"reason\" : \"r\",\n \"items\": [ {\"quantity_to_consume\": \"1\", \"batch_id\": \"a\"} ] }", true},
		{"another value", "POST", "/api/consumptions", `{"items":[{"batch_id":"a","quantity_to_consume":"2"}],"reason":"r"}`, false},
		{"a number instead of a string", "POST", "/api/consumptions", `{"items":[{"batch_id":"a","quantity_to_consume":1}],"reason":"r"}`, false},
		{"array order matters", "POST", "/api/consumptions", `{"items":[{"batch_id":"a","quantity_to_consume":"1"},{"batch_id":"b","quantity_to_consume":"1"}],"reason":"r"}`, false},
		{"another path", "POST", "/api/batches/consume", `{"items":[{"batch_id":"a","quantity_to_consume":"1"}],"reason":"r"}`, false},
		{"another method", "PATCH", "/api/consumptions", `{"items":[{"batch_id":"a","quantity_to_consume":"1"}],"reason":"r"}`, false},
		{"not JSON", "POST", "/api/consumptions", `items=a`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bytes.Equal(Hash(tt.method, tt.path, []byte(tt.body)), base)
			if got != tt.same {
				t.Errorf("same = %v, want %v", got, tt.same)
			}
		})
	}
	if !bytes.Equal(Hash("POST", "/x", []byte("not json")), Hash("POST", "/x", []byte("not json"))) {
		t.Error("a body that is not JSON hashes as its bytes, the same each time")
	}
}
