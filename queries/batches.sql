-- name: CreateBatch :one
INSERT INTO batches (batch_number, product_id, location_id, production_date, expiry_date,
                     best_before_date, quantity_produced, quantity_available, unit_of_measure,
                     quality_status, notes, created_event_id, tlc_source)
VALUES (@batch_number, @product_id, @location_id, @production_date, sqlc.narg(expiry_date),
        sqlc.narg(best_before_date), @quantity_produced, @quantity_produced, @unit_of_measure,
        @quality_status, @notes, sqlc.narg(created_event_id),
        coalesce((SELECT gln FROM locations WHERE id = @location_id), ''))
RETURNING id;

-- name: GetBatch :one
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name,
       l.gln AS location_gln, l.name AS location_name
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
WHERE b.id = @id;

-- name: GetBatchByDigitalLink :one
-- A lot is its GTIN and lot number; it may have stock at several of our
-- locations: the row where it began answers (the page lists the others).
SELECT b.id FROM batches b JOIN products p ON p.id = b.product_id
WHERE p.gtin = @gtin AND b.batch_number = @batch_number
ORDER BY b.created_at, b.id
LIMIT 1;

-- name: ListBatches :many
-- One filtered list in one of four orders, sort_by: '' (newest first),
-- 'number', 'expiry' or 'available' (inventory.BatchSorts). The cursor is
-- the last row's sort key, as text, and id. Every CASE below has a
-- constant test once the parameters are bound, so the planner folds it
-- away and each order is served by its index (db/explain_test.go checks
-- each). A generic plan could not fold it and would sort every row; its
-- estimate is so much worse that PostgreSQL keeps planning per call.
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name,
       l.gln AS location_gln, l.name AS location_name
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
WHERE (sqlc.narg(q)::text IS NULL OR b.id IN (
          -- Search by lot or product name, each through its trigram index.
          SELECT sb.id FROM batches sb WHERE sb.batch_number ILIKE '%' || sqlc.narg(q) || '%'
          UNION
          SELECT sb.id FROM batches sb JOIN products sp ON sp.id = sb.product_id
          WHERE sp.name ILIKE '%' || sqlc.narg(q) || '%'))
  AND (sqlc.narg(product_id)::uuid IS NULL OR b.product_id = sqlc.narg(product_id))
  AND (sqlc.narg(location_id)::uuid IS NULL OR b.location_id = sqlc.narg(location_id))
  AND (sqlc.narg(quality_status)::text IS NULL OR b.quality_status = sqlc.narg(quality_status))
  AND (sqlc.narg(expiring_before)::date IS NULL OR b.expiry_date < sqlc.narg(expiring_before))
  AND (sqlc.narg(after_id)::uuid IS NULL OR CASE @sort_by::text
       WHEN 'number' THEN (b.batch_number, b.id) > (sqlc.narg(after_key)::text, sqlc.narg(after_id))
       WHEN 'expiry' THEN (coalesce(b.expiry_date, 'infinity'::date), b.id) > (sqlc.narg(after_key)::text::date, sqlc.narg(after_id))
       WHEN 'available' THEN (b.quantity_available, b.id) > (sqlc.narg(after_key)::text::numeric, sqlc.narg(after_id))
       ELSE (b.created_at, b.id) < (sqlc.narg(after_key)::text::timestamptz, sqlc.narg(after_id))
       END)
ORDER BY
  CASE WHEN @sort_by::text = '' THEN b.created_at END DESC,
  CASE WHEN @sort_by::text = '' THEN b.id END DESC,
  CASE WHEN @sort_by::text = 'number' THEN b.batch_number END,
  CASE WHEN @sort_by::text = 'expiry' THEN coalesce(b.expiry_date, 'infinity'::date) END,
  CASE WHEN @sort_by::text = 'available' THEN b.quantity_available END,
  b.id
LIMIT @row_limit;

-- name: UpdateBatch :one
-- Metadata and quality status. The version check makes a stale edit fail
-- instead of overwriting; the caller tells "not found" from "stale".
UPDATE batches SET
    production_date  = @production_date,
    expiry_date      = sqlc.narg(expiry_date),
    best_before_date = sqlc.narg(best_before_date),
    quality_status   = @quality_status,
    status_reason    = @status_reason,
    notes            = @notes,
    version          = version + 1,
    updated_at       = now()
WHERE id = @id AND version = @expected_version
RETURNING version;

-- name: GetBatchVersion :one
SELECT version FROM batches WHERE id = @id;

-- name: LockBatchForConsume :one
-- The first statement of a consume: take the row lock (waiting at most
-- lock_timeout) and say when the wait began. The caller pipelines the
-- lock timeout, this and ConsumeBatch in one implicit transaction, so the
-- lock is held for no client round trip at all.
SELECT statement_timestamp()::timestamptz AS wait_started FROM batches WHERE id = @batch_id FOR UPDATE;

-- name: ConsumeBatch :one
-- The rest of a consume, right after LockBatchForConsume in the same
-- transaction (several may follow one lock: each sees the ones before).
-- The update itself checks the row and takes the quantity; then the
-- ledger row, the EPCIS event and the event's batch link are appended,
-- and, for a request with an idempotency key, its result is kept in the
-- same transaction (a key already kept refuses the update: key_taken).
-- It starts after the lock is held, so its snapshot already has the row's
-- latest version. The row is read once on success (by the update); only a
-- refusal reads it again, for the error. On its own, without the lock
-- statement, it is just as safe: the update locks and re-checks the row.
WITH taken AS (
    SELECT EXISTS (SELECT 1 FROM idempotency_keys k
                   WHERE k.caller = sqlc.narg(idempotency_caller)::text
                     AND k.key = sqlc.narg(idempotency_key)::text) AS key_taken
), upd AS (
    UPDATE batches b
    SET quantity_available = b.quantity_available - @quantity,
        version = b.version + 1,
        updated_at = now()
    WHERE b.id = @batch_id
      AND b.quantity_available >= @quantity
      -- inventory.QualityStatus.Unusable, repeated under the lock
      -- (TestUsabilityRuleMatchesSQL keeps the two in step).
      AND (b.quality_status = 'approved' OR (b.quality_status = 'pending' AND @allow_pending::boolean))
      AND (b.expiry_date IS NULL OR b.expiry_date >= @today::date)
      AND (sqlc.narg(expected_version)::bigint IS NULL OR b.version = sqlc.narg(expected_version))
      AND NOT (SELECT key_taken FROM taken)
    RETURNING b.*
), refused AS (
    SELECT b.quantity_available, b.version, b.quality_status, b.expiry_date
    FROM batches b
    WHERE b.id = @batch_id AND NOT EXISTS (SELECT 1 FROM upd)
), fresh AS (
    -- The event's document is built here, as legacy_document would build
    -- it in the events_fill_epcis trigger (a test compares the two), but in
    -- this statement's plan: the trigger's function calls cost more than
    -- the rest of the consume, under the row lock.
    SELECT gen_random_uuid() AS id, now() AS at, @event_timezone::text AS tz,
           CASE WHEN u.quantity_available = 0 THEN 'dispensed' ELSE 'partially_dispensed' END AS disposition,
           '414/' || l.gln AS location_key, 'https://id.gs1.org/' || lot_key(p.gtin, u.batch_number) AS epc_class
    FROM upd u JOIN products p ON p.id = u.product_id JOIN locations l ON l.id = u.location_id
), ev AS (
    INSERT INTO events (id, event_id, event_type, action, event_time, event_timezone, biz_step, disposition,
                        read_point_id, biz_location_id, read_point, biz_location, quantity_list, document,
                        source_type, actor, notes)
    SELECT f.id, 'urn:uuid:' || f.id, 'ObjectEvent', 'OBSERVE', f.at, f.tz, 'dispensing', f.disposition,
           u.location_id, u.location_id, f.location_key, f.location_key,
           jsonb_build_array(jsonb_build_object('batch_id', u.id,
               'quantity', trim_scale(@quantity::numeric)::text, 'uom', u.unit_of_measure)),
           jsonb_build_object('type', 'ObjectEvent', 'eventID', 'urn:uuid:' || f.id,
               'eventTime', to_char(f.at AT TIME ZONE f.tz::interval, 'YYYY-MM-DD"T"HH24:MI:SS')
                            || rtrim('.' || to_char(f.at, 'US'), '.0') || f.tz,
               'eventTimeZoneOffset', f.tz, 'action', 'OBSERVE', 'bizStep', 'dispensing', 'disposition', f.disposition,
               'readPoint', jsonb_build_object('id', 'https://id.gs1.org/' || f.location_key),
               'bizLocation', jsonb_build_object('id', 'https://id.gs1.org/' || f.location_key),
               'quantityList', jsonb_build_array(jsonb_build_object('epcClass', f.epc_class,
                   'quantity', trim_scale(@quantity::numeric), 'uom', u.unit_of_measure))),
           'system', @actor::text, @reason::text
    FROM upd u, fresh f
    RETURNING id, event_time
), link AS (
    INSERT INTO event_batches (event_id, batch_id, role, quantity, uom, event_time)
    SELECT ev.id, u.id, 'object', @quantity, u.unit_of_measure, ev.event_time FROM ev, upd u
), epc AS (
    -- The event's EPCIS projection (its document comes from the
    -- events_fill_epcis trigger, migration 00009).
    INSERT INTO event_epcs (event_id, role, key, is_class, quantity, uom, event_time)
    SELECT ev.id, 'epc', lot_key(p.gtin, u.batch_number), true, @quantity, u.unit_of_measure, ev.event_time
    FROM ev, upd u JOIN products p ON p.id = u.product_id
), led AS (
    INSERT INTO consumptions (batch_id, kind, quantity, quantity_available_after, version_after,
                              reason, actor, idempotency_caller, idempotency_key, event_id)
    SELECT u.id, 'consume', @quantity, u.quantity_available, u.version,
           @reason::text, @actor::text, sqlc.narg(idempotency_caller)::text, sqlc.narg(idempotency_key)::text, ev.id
    FROM upd u, ev
    RETURNING id, created_at, quantity_available_after, version_after, event_id
), state AS (
    -- The row before this consume: from the update, or as refused.
    SELECT u.quantity_available + @quantity::numeric AS quantity_available, u.version - 1 AS version,
           u.quality_status, u.expiry_date
    FROM upd u
    UNION ALL
    SELECT r.quantity_available, r.version, r.quality_status, r.expiry_date FROM refused r
), res AS (
    SELECT s.quantity_available::numeric AS available_before, s.version::bigint AS version_before,
           s.quality_status::text AS quality_status, s.expiry_date,
           led.id AS consumption_id, led.created_at AS consumed_at,
           led.quantity_available_after, led.version_after, led.event_id,
           -- This statement runs once the lock is held: the end of the lock
           -- wait. clock_timestamp, as in the simple protocol (PgBouncer) the
           -- whole pipeline is one Query sharing one statement_timestamp.
           clock_timestamp()::timestamptz AS lock_acquired,
           -- The batch after the update, so the caller needs no second query.
           u.batch_number, u.product_id, u.location_id, u.production_date, u.best_before_date,
           u.quantity_produced, u.unit_of_measure, u.notes, u.created_at, u.updated_at,
           p.gtin AS product_gtin, p.name AS product_name, loc.gln AS location_gln, loc.name AS location_name,
           (SELECT key_taken FROM taken) AS key_taken
    FROM state s
    LEFT JOIN led ON true
    LEFT JOIN upd u ON true
    LEFT JOIN products p ON p.id = u.product_id
    LEFT JOIN locations loc ON loc.id = u.location_id
), kept AS (
    -- No ON CONFLICT: a concurrent attempt's key, committed while this one
    -- waited, fails the whole transaction instead of consuming twice.
    INSERT INTO idempotency_keys (caller, key, request_hash, result)
    SELECT sqlc.narg(idempotency_caller)::text, sqlc.narg(idempotency_key)::text,
           sqlc.narg(request_hash)::bytea, to_jsonb(res)
    FROM res
    WHERE res.consumption_id IS NOT NULL AND sqlc.narg(idempotency_key)::text IS NOT NULL
)
SELECT available_before, version_before, quality_status, expiry_date, consumption_id, consumed_at,
       quantity_available_after, version_after, event_id, lock_acquired, batch_number, product_id,
       location_id, production_date, best_before_date, quantity_produced, unit_of_measure, notes,
       created_at, updated_at, product_gtin, product_name, location_gln, location_name, key_taken
FROM res;

-- name: LockBatches :many
-- Rows are locked in id order, so two multi-batch consumptions can never
-- wait on each other in a cycle.
SELECT id, quantity_available, version, quality_status, expiry_date, location_id, unit_of_measure
FROM batches
WHERE id = ANY(@ids::uuid[])
ORDER BY id
FOR UPDATE;

-- name: SetBatchBalance :one
-- Only after LockBatches in the same transaction.
UPDATE batches
SET quantity_available = @quantity_available, version = version + 1, updated_at = now()
WHERE id = @id
RETURNING version;

-- name: OverviewCounts :many
SELECT quality_status, count(*)::bigint AS batches FROM batches GROUP BY quality_status;

-- name: ListLowStockBatches :many
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name,
       l.gln AS location_gln, l.name AS location_name
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
-- Usable stock running out: an empty, expired, rejected or recalled lot
-- is not "low", it is gone or not to be used (inventory.QualityStatus.Unusable).
WHERE b.quantity_available < b.quantity_produced / 10
  AND b.quantity_available > 0
  AND b.quality_status IN ('pending', 'approved')
  AND (b.expiry_date IS NULL OR b.expiry_date >= @today::date)
ORDER BY b.quantity_available / b.quantity_produced, b.id
LIMIT @row_limit;

-- name: ListExpiringBatches :many
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name,
       l.gln AS location_gln, l.name AS location_name
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
-- Stock to use up before it expires: rejected and recalled lots are not
-- (inventory.QualityStatus.Unusable).
WHERE b.expiry_date IS NOT NULL AND b.expiry_date >= @from_date::date AND b.expiry_date < @before_date::date
  AND b.quantity_available > 0
  AND b.quality_status IN ('pending', 'approved')
ORDER BY b.expiry_date, b.id
LIMIT @row_limit;
