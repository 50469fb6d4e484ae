-- +goose Up
-- An idempotency record now exists only once its request's outcome is
-- settled: a write keeps its result in the transaction that makes the
-- change (so both commit or neither does), a refusal keeps its answer. No
-- claim is left behind by an attempt that died, so nothing waits for one.
DELETE FROM idempotency_keys WHERE status IS NULL;
ALTER TABLE idempotency_keys
    ADD COLUMN result jsonb,
    DROP COLUMN completed_at,
    ADD CONSTRAINT idempotency_keys_outcome CHECK ((result IS NULL) <> (status IS NULL));

-- The ledger's second line of defence: one ledger row per batch for a
-- caller's key, even if an idempotency record were lost or expired.
ALTER TABLE consumptions ADD COLUMN idempotency_caller text CHECK (length(idempotency_caller) <= 200);
CREATE UNIQUE INDEX consumptions_idempotency_key ON consumptions (idempotency_caller, idempotency_key, batch_id)
    WHERE idempotency_caller IS NOT NULL AND idempotency_key IS NOT NULL;

-- +goose Down
DROP INDEX consumptions_idempotency_key;
ALTER TABLE consumptions DROP COLUMN idempotency_caller;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_outcome,
    DROP COLUMN result,
    ADD COLUMN completed_at timestamptz;
