-- name: InsertConsumption :one
INSERT INTO consumptions (batch_id, kind, quantity, quantity_available_after, version_after,
                          reason, actor, idempotency_caller, idempotency_key, event_id)
VALUES (@batch_id, @kind, @quantity, @quantity_available_after, @version_after,
        @reason, @actor, sqlc.narg(idempotency_caller), sqlc.narg(idempotency_key), sqlc.narg(event_id))
RETURNING *;

-- name: GetConsumption :one
SELECT * FROM consumptions WHERE id = @id;

-- name: ListConsumptions :many
-- Newest first; the cursor is the last row's version_after.
SELECT * FROM consumptions
WHERE batch_id = @batch_id
  AND (sqlc.narg(before_version)::bigint IS NULL OR version_after < sqlc.narg(before_version))
ORDER BY version_after DESC
LIMIT @row_limit;

-- name: LedgerTotals :one
-- What the ledger says the balance is; must equal quantity_available.
SELECT b.quantity_produced, b.quantity_available, b.version,
       (b.quantity_produced + coalesce(sum(ledger_delta(c.kind, c.quantity)), 0))::numeric AS ledger_available,
       count(c.id)::bigint AS entries
FROM batches b LEFT JOIN consumptions c ON c.batch_id = b.id
WHERE b.id = @batch_id
GROUP BY b.id;
