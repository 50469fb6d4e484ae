-- name: EnsureBatch :one
-- A lot's row at a location: created with the opening quantity when the
-- location has none (created = true), else the existing row's id. ON
-- CONFLICT DO NOTHING takes no lock on an existing row: the caller locks
-- every row it moves afterwards, in id order.
WITH ins AS (
    INSERT INTO batches (batch_number, product_id, location_id, production_date, expiry_date, best_before_date,
                         quantity_produced, quantity_available, unit_of_measure, quality_status, status_reason,
                         notes, origin, created_event_id, tlc_source, kdes)
    VALUES (@batch_number, @product_id, @location_id, @production_date, sqlc.narg(expiry_date),
            sqlc.narg(best_before_date), @quantity, @quantity, @unit_of_measure, @quality_status, '',
            @notes, @origin, @created_event_id, @tlc_source, @kdes)
    ON CONFLICT (product_id, batch_number, location_id) DO NOTHING
    RETURNING id
)
SELECT id, true::boolean AS created FROM ins
UNION ALL
SELECT b.id, false FROM batches b
WHERE b.product_id = @product_id AND b.batch_number = @batch_number AND b.location_id = @location_id
  AND NOT EXISTS (SELECT 1 FROM ins);

-- name: FindBatchAt :one
SELECT id FROM batches WHERE product_id = @product_id AND batch_number = @batch_number AND location_id = @location_id;

-- name: LockStock :many
-- Rows are locked in id order, as every multi-row movement locks them, so
-- movements naming the same rows in any order cannot wait in a cycle.
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name, l.gln AS location_gln,
       l.name AS location_name, location_is_ours(b.location_id)::boolean AS ours
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
WHERE b.id = ANY(@ids::uuid[])
ORDER BY b.id
FOR UPDATE OF b;

-- name: InsertLedgerRow :one
INSERT INTO consumptions (batch_id, kind, quantity, quantity_available_after, version_after, reason, actor,
                          idempotency_caller, idempotency_key, event_id, reverses_id, reverses_kind)
VALUES (@batch_id, @kind, @quantity, @quantity_available_after, @version_after, @reason, @actor,
        sqlc.narg(idempotency_caller), sqlc.narg(idempotency_key), sqlc.narg(event_id),
        sqlc.narg(reverses_id), sqlc.narg(reverses_kind))
RETURNING *;

-- name: LocationsForStock :many
-- Locations with their party and whether they are ours.
SELECT l.id, l.gln, l.name, l.party_id, (l.party_id IS NULL OR coalesce(p.is_own, false))::boolean AS ours,
       coalesce(p.pgln, '')::text AS party_pgln, coalesce(p.name, '')::text AS party_name
FROM locations l LEFT JOIN parties p ON p.id = l.party_id
WHERE l.id = ANY(@ids::uuid[]) OR l.gln = ANY(@glns::text[]);

-- name: PartiesForStock :many
SELECT id, pgln, name, is_own, roles FROM parties WHERE id = ANY(@ids::uuid[]) OR pgln = ANY(@pglns::text[]);

-- name: OwnParty :one
SELECT id, pgln, name FROM parties WHERE is_own ORDER BY created_at, id LIMIT 1;

-- name: InsertTransfer :exec
INSERT INTO transfers (ship_event_id, from_batch_id, product_id, batch_number, to_location_id, quantity,
                       quantity_open, unit_of_measure)
VALUES (@ship_event_id, @from_batch_id, @product_id, @batch_number, @to_location_id, @quantity, @quantity,
        @unit_of_measure);

-- name: LockOpenTransfers :many
-- Open transfers of a lot to a location, oldest first, locked.
SELECT t.*, b.quality_status, b.status_reason, b.production_date, b.expiry_date, b.best_before_date,
       b.tlc_source, b.kdes, l.gln AS from_gln
FROM transfers t JOIN batches b ON b.id = t.from_batch_id JOIN locations l ON l.id = b.location_id
WHERE t.product_id = @product_id AND t.batch_number = @batch_number AND t.to_location_id = @to_location_id
  AND t.quantity_open > 0
ORDER BY t.created_at, t.id
FOR UPDATE OF t;

-- name: DrawTransfer :exec
UPDATE transfers SET quantity_open = quantity_open - @quantity, updated_at = now() WHERE id = @id;

-- name: InsertTransferReceipt :exec
INSERT INTO transfer_receipts (transfer_id, receive_event_id, quantity) VALUES (@transfer_id, @receive_event_id, @quantity);

-- name: TransferReceiptsOfEvent :many
SELECT transfer_id, quantity FROM transfer_receipts WHERE receive_event_id = @receive_event_id ORDER BY transfer_id;

-- name: LockTransfersOfShipment :many
SELECT * FROM transfers WHERE ship_event_id = @ship_event_id ORDER BY id FOR UPDATE;

-- name: LockTransfers :many
-- Transfers a receipt drew from, locked in LockOpenTransfers' order: a
-- correction of the receipt locks them before the batch rows, as a receipt
-- does, so the two cannot wait on each other in a cycle.
SELECT id FROM transfers WHERE id = ANY(@ids::uuid[]) ORDER BY created_at, id FOR UPDATE;

-- name: ReopenTransfer :exec
UPDATE transfers SET quantity_open = quantity_open + @quantity, updated_at = now() WHERE id = @id;

-- name: CancelTransfer :exec
UPDATE transfers SET quantity_open = 0, updated_at = now() WHERE id = @id;

-- name: InTransitFrom :many
-- Stock shipped from a batch row to another of our locations that has not
-- arrived yet.
SELECT t.id, t.to_location_id, l.gln AS to_gln, l.name AS to_name, t.quantity, t.quantity_open, t.ship_event_id,
       t.created_at
FROM transfers t JOIN locations l ON l.id = t.to_location_id
WHERE t.from_batch_id = @from_batch_id AND t.quantity_open > 0
ORDER BY t.created_at, t.id;

-- name: EventLedgerRows :many
-- The ledger rows an event wrote (not its reversals), and whether each is
-- reversed already.
SELECT c.* FROM consumptions c
WHERE c.event_id = @event_id AND c.kind <> 'reversal'
ORDER BY c.batch_id, c.version_after;

-- name: BatchesCreatedByEvent :many
SELECT id, quantity_produced, origin FROM batches WHERE created_event_id = @event_id ORDER BY id;

-- name: LockEventForCorrection :one
-- The event a correction declares in error, locked so two corrections of
-- it cannot both reverse it.
SELECT id, event_type, biz_step, declared_in_error_at FROM events WHERE id = @id FOR UPDATE;

-- name: MassBalance :many
-- A batch's ledger by what each row did, reversals counted against the
-- kind they undo (legacy reversals, which name none, as adjustments).
SELECT (CASE WHEN c.kind = 'reversal' THEN coalesce(c.reverses_kind, 'adjust') ELSE c.kind END)::text AS category,
       sum(ledger_delta(c.kind, c.quantity))::numeric AS delta,
       count(*)::bigint AS entries
FROM consumptions c
WHERE c.batch_id = @batch_id
GROUP BY 1
ORDER BY 1;

-- name: FEFOCandidates :many
-- Lots of a product at a location with stock, first expiry first (no
-- expiry last), then oldest production; usability is checked by the caller.
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name, l.gln AS location_gln,
       l.name AS location_name
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
WHERE b.product_id = @product_id AND b.location_id = @location_id AND b.quantity_available > 0
  AND b.quality_status IN ('approved', 'pending')
  AND (b.expiry_date IS NULL OR b.expiry_date >= @today::date)
ORDER BY b.expiry_date NULLS LAST, b.production_date, b.id
LIMIT @row_limit;

-- name: LotRows :many
-- Every row of a lot (its stock at each location).
SELECT sqlc.embed(b), l.gln AS location_gln, l.name AS location_name
FROM batches b JOIN locations l ON l.id = b.location_id
WHERE b.product_id = @product_id AND b.batch_number = @batch_number
ORDER BY b.created_at, b.id;

-- name: SetBatchStatus :exec
-- Only after LockStock in the same transaction.
UPDATE batches SET quality_status = @quality_status, status_reason = @status_reason, version = version + 1,
       updated_at = now()
WHERE id = @id;

-- name: BatchLocations :many
SELECT id, location_id FROM batches WHERE id = ANY(@ids::uuid[]);

-- name: LotLocationsElsewhere :many
-- Where else a lot has a row, for refusing a second lot with its number.
SELECT l.name FROM batches b JOIN locations l ON l.id = b.location_id
WHERE b.product_id = @product_id AND b.batch_number = @batch_number
  AND b.location_id IS DISTINCT FROM sqlc.narg(location_id)::uuid
ORDER BY b.created_at LIMIT 3;

-- name: LockLotNumber :exec
-- Serialises the making of one lot number of a product until commit, so two
-- concurrent makers cannot both find it free (a transaction-scoped advisory
-- lock: nothing outlives the transaction, also behind PgBouncer).
SELECT pg_advisory_xact_lock(hashtextextended(@lot_key::text, 20));

-- name: LotStockForEvent :many
-- Every row (a lot's stock at a location) of the (gtin, lot) pairs or the
-- batch ids an event names, with whether its location is ours.
SELECT b.id, b.product_id, p.gtin, b.batch_number, b.location_id, l.gln AS location_gln, b.unit_of_measure,
       location_is_ours(b.location_id)::boolean AS ours
FROM batches b JOIN products p ON p.id = b.product_id JOIN locations l ON l.id = b.location_id
WHERE (p.gtin, b.batch_number) IN (SELECT unnest(@gtins::text[]), unnest(@lots::text[]))
   OR b.id = ANY(@ids::uuid[])
ORDER BY b.created_at, b.id;

-- name: ProductsByGTIN :many
SELECT id, gtin, name, unit FROM products WHERE gtin = ANY(@gtins::text[]);
