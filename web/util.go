package web

import (
	"bytes"
	"encoding/json"
	"runtime/debug"
	"strconv"
)

func stack() []byte { return debug.Stack() }

// jsonMarshal encodes without HTML escaping: API bodies are JSON, and a
// client reading "<script>" back should get exactly what it stored.
func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func itoa(n int) string { return strconv.Itoa(n) }
