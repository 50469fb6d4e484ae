-- name: GetIdempotencyRecord :one
SELECT * FROM idempotency_keys WHERE caller = @caller AND key = @key;

-- name: KeepIdempotentResult :execrows
-- Inside the transaction that makes the change. A concurrent attempt with
-- the same key waits here for the first to end, then finds its record.
INSERT INTO idempotency_keys (caller, key, request_hash, result)
VALUES (@caller, @key, @request_hash, @result)
ON CONFLICT DO NOTHING;

-- name: KeepIdempotentRefusal :exec
-- A refused request changed nothing; its answer is kept for retries.
INSERT INTO idempotency_keys (caller, key, request_hash, status, content_type, response_body)
VALUES (@caller, @key, @request_hash, @status, @content_type, @response_body)
ON CONFLICT DO NOTHING;

-- name: DeleteExpiredIdempotencyKeys :execrows
DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => @older_than_seconds::float8);
