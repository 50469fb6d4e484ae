// Package idempotency makes a write sent with an Idempotency-Key happen at
// most once per caller. A write keeps its result in the same transaction
// as its change, so the two commit together or not at all: a retry finds
// the committed result and is answered from it, or finds nothing and runs.
// No claim outlives the attempt that made it, so a crash leaves nothing
// to wait for. It knows nothing of HTTP beyond a status code and a body.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"time"

	"batchtrack/db"
)

var (
	// ErrKeyReused: the key was used before with a different request.
	ErrKeyReused = errors.New("idempotency key reused with a different request")
	// ErrKeyTaken: another attempt with the key committed first; this
	// one's transaction was rolled back, and the first one's result is to
	// be replayed.
	ErrKeyTaken = errors.New("idempotency key kept by another attempt")
)

// Request is a write sent with a key, as it travels in the context from
// the HTTP layer to the transaction that carries it out.
type Request struct {
	Caller string
	Key    string
	Hash   []byte
	// Stored is the result the first attempt kept. When it is set, the
	// write returns it instead of running again.
	Stored json.RawMessage
	kept   bool
}

// Kept says whether a transaction kept this request's result.
func (r *Request) Kept() bool { return r.kept }

// MarkKept records that the result was kept by a statement of the
// caller's own (the consume fast path keeps it in SQL).
func (r *Request) MarkKept() { r.kept = true }

type contextKey struct{}

// NewContext returns ctx carrying r.
func NewContext(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, contextKey{}, r)
}

// FromContext returns the request ctx carries, or nil.
func FromContext(ctx context.Context) *Request {
	r, _ := ctx.Value(contextKey{}).(*Request)
	return r
}

// Keep stores result as the outcome of ctx's request, inside the
// transaction that q runs in. Without a request in ctx it does nothing.
// If another attempt with the key committed first, it returns ErrKeyTaken
// and the caller's transaction must roll back.
func Keep(ctx context.Context, q *db.Queries, result any) error {
	r := FromContext(ctx)
	if r == nil {
		return nil
	}
	body, err := json.Marshal(result)
	if err != nil {
		return err
	}
	n, err := q.KeepIdempotentResult(ctx, db.KeepIdempotentResultParams{
		Caller: r.Caller, Key: r.Key, RequestHash: r.Hash, Result: body,
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrKeyTaken
	}
	r.kept = true
	return nil
}

// Replay returns the result the first attempt of ctx's request kept, and
// true; false when there is none to replay and the write must run.
func Replay[T any](ctx context.Context) (T, bool, error) {
	var v T
	r := FromContext(ctx)
	if r == nil || r.Stored == nil {
		return v, false, nil
	}
	err := json.Unmarshal(r.Stored, &v)
	return v, true, err
}

// Caller returns the caller and key of ctx's request, for the ledger's
// own record of them; nil when there is none.
func Caller(ctx context.Context) (caller, key *string) {
	r := FromContext(ctx)
	if r == nil {
		return nil, nil
	}
	return &r.Caller, &r.Key
}

// Refusal is the answer to a request that changed nothing.
type Refusal struct {
	Status      int
	ContentType string
	Body        []byte
}

// Record is what a key holds: the request's fingerprint and either the
// result of its change or the refusal it got.
type Record struct {
	Hash    []byte
	Result  json.RawMessage
	Refusal *Refusal
}

// Store reads and keeps records in PostgreSQL, so every instance sees them.
type Store struct {
	q *db.Queries
	// Retention is how long records are kept (at least 24h).
	Retention time.Duration
}

// New returns a Store.
func New(q *db.Queries) *Store {
	return &Store{q: q, Retention: 48 * time.Hour}
}

// Lookup returns the record of caller's key, or nil when there is none.
func (s *Store) Lookup(ctx context.Context, caller, key string) (*Record, error) {
	row, err := s.q.GetIdempotencyRecord(ctx, db.GetIdempotencyRecordParams{Caller: caller, Key: key})
	if errors.Is(db.Translate(err), db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, db.Translate(err)
	}
	rec := &Record{Hash: row.RequestHash, Result: row.Result}
	if row.Status != nil {
		rec.Refusal = &Refusal{Status: int(*row.Status), ContentType: row.ContentType, Body: row.ResponseBody}
	}
	return rec, nil
}

// KeepRefusal stores the answer to a request that changed nothing. A
// record already there (a concurrent attempt's) wins.
func (s *Store) KeepRefusal(ctx context.Context, r *Request, o Refusal) error {
	status := int32(o.Status)
	return db.Translate(s.q.KeepIdempotentRefusal(ctx, db.KeepIdempotentRefusalParams{
		Caller: r.Caller, Key: r.Key, RequestHash: r.Hash, Status: &status,
		ContentType: o.ContentType, ResponseBody: o.Body,
	}))
}

// DeleteExpired removes records older than the retention.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	return s.q.DeleteExpiredIdempotencyKeys(ctx, s.Retention.Seconds())
}

// Hash fingerprints a request: method, path and body. A JSON body is
// compared as parsed JSON, so key order and whitespace do not matter.
func Hash(method, path string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(canonicalJSON(body))
	return h.Sum(nil)
}

// canonicalJSON re-encodes a JSON body with sorted keys and no spaces;
// anything else is returned as it is.
func canonicalJSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}
