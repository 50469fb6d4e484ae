-- name: ClaimIdempotencyKey :execrows
-- The first request with a key claims it; later ones find the claim.
INSERT INTO idempotency_keys (caller, key, request_hash)
VALUES (@caller, @key, @request_hash)
ON CONFLICT DO NOTHING;

-- name: TakeOverAbandonedKey :execrows
-- A claim left unfinished for longer than @stale_after (its process died)
-- passes to the next request with the same key and body.
UPDATE idempotency_keys SET created_at = now()
WHERE caller = @caller AND key = @key AND request_hash = @request_hash
  AND status IS NULL AND created_at < now() - make_interval(secs => @stale_after_seconds::float8);

-- name: GetIdempotencyKey :one
SELECT * FROM idempotency_keys WHERE caller = @caller AND key = @key;

-- name: CompleteIdempotencyKey :exec
UPDATE idempotency_keys
SET status = @status, content_type = @content_type, response_body = @response_body, completed_at = now()
WHERE caller = @caller AND key = @key;

-- name: ReleaseIdempotencyKey :exec
-- A request that failed on our side frees its key so a retry can run.
DELETE FROM idempotency_keys WHERE caller = @caller AND key = @key AND status IS NULL;

-- name: DeleteExpiredIdempotencyKeys :execrows
DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => @older_than_seconds::float8);
