// Package idempotency stores the outcome of requests sent with an
// Idempotency-Key, so a retried POST is answered from the first outcome
// instead of being carried out twice. It knows nothing of HTTP beyond a
// status code and a body.
package idempotency

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"batchtrack/db"
)

// Outcome is a stored response.
type Outcome struct {
	Status      int
	ContentType string
	Body        []byte
}

var (
	// ErrKeyReused: the key was used before with a different request.
	ErrKeyReused = errors.New("idempotency key reused with a different request")
	// ErrInProgress: the first request with the key is still running.
	ErrInProgress = errors.New("a request with this idempotency key is in progress")
)

// Store claims keys and keeps outcomes in PostgreSQL, so every instance
// sees them.
type Store struct {
	q *db.Queries
	// Wait is how long a repeat waits for the first request to finish.
	Wait time.Duration
	// Abandoned is when an unfinished claim is taken to be dead.
	Abandoned time.Duration
	// Retention is how long outcomes are kept (at least 24h).
	Retention time.Duration
}

// New returns a Store.
func New(q *db.Queries) *Store {
	return &Store{q: q, Wait: 5 * time.Second, Abandoned: time.Minute, Retention: 48 * time.Hour}
}

// Hash fingerprints a request: method, path and body.
func Hash(method, path string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)
}

// Begin claims key for caller. It returns (nil, nil) when the caller owns
// the claim and must run the request and then call Complete or Release;
// an Outcome to replay when the key was used with the same request; or
// ErrKeyReused / ErrInProgress.
func (s *Store) Begin(ctx context.Context, caller, key string, hash []byte) (*Outcome, error) {
	deadline := time.Now().Add(s.Wait)
	for {
		n, err := s.q.ClaimIdempotencyKey(ctx, db.ClaimIdempotencyKeyParams{Caller: caller, Key: key, RequestHash: hash})
		if err != nil {
			return nil, err
		}
		if n == 1 {
			return nil, nil
		}
		row, err := s.q.GetIdempotencyKey(ctx, db.GetIdempotencyKeyParams{Caller: caller, Key: key})
		if errors.Is(db.Translate(err), db.ErrNotFound) {
			continue // released between our insert and our read: claim again
		}
		if err != nil {
			return nil, err
		}
		if string(row.RequestHash) != string(hash) {
			return nil, ErrKeyReused
		}
		if row.Status != nil {
			return &Outcome{Status: int(*row.Status), ContentType: row.ContentType, Body: row.ResponseBody}, nil
		}
		taken, err := s.q.TakeOverAbandonedKey(ctx, db.TakeOverAbandonedKeyParams{
			Caller: caller, Key: key, RequestHash: hash, StaleAfterSeconds: s.Abandoned.Seconds(),
		})
		if err != nil {
			return nil, err
		}
		if taken == 1 {
			return nil, nil
		}
		if time.Now().After(deadline) {
			return nil, ErrInProgress
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Complete stores the outcome of the request that owns the claim.
func (s *Store) Complete(ctx context.Context, caller, key string, o Outcome) error {
	return s.q.CompleteIdempotencyKey(ctx, db.CompleteIdempotencyKeyParams{
		Caller: caller, Key: key, Status: ptr(int32(o.Status)), ContentType: o.ContentType, ResponseBody: o.Body,
	})
}

// Release frees a claim whose request failed on the server's side, so a
// retry runs it again.
func (s *Store) Release(ctx context.Context, caller, key string) error {
	return s.q.ReleaseIdempotencyKey(ctx, db.ReleaseIdempotencyKeyParams{Caller: caller, Key: key})
}

// DeleteExpired removes outcomes older than the retention.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	return s.q.DeleteExpiredIdempotencyKeys(ctx, s.Retention.Seconds())
}

func ptr[T any](v T) *T { return &v }
