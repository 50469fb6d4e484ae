-- name: GetEvent :one
SELECT e.*, rp.gln AS read_point_gln, bl.gln AS biz_location_gln
FROM events e
LEFT JOIN locations rp ON rp.id = e.read_point_id
LEFT JOIN locations bl ON bl.id = e.biz_location_id
WHERE e.id = @id;

-- name: ListEvents :many
-- Newest event_time first; the cursor is the last row's (event_time, id).
-- Any business transaction type: the types are few, so a loose scan of
-- the (type, key) index lists them and each is one probe for the key.
WITH RECURSIVE biz_types (type) AS (
    (SELECT bt.type FROM event_biz_transactions bt ORDER BY bt.type LIMIT 1)
    UNION ALL
    SELECT (SELECT bt.type FROM event_biz_transactions bt WHERE bt.type > t.type ORDER BY bt.type LIMIT 1)
    FROM biz_types t WHERE t.type IS NOT NULL)
SELECT e.*, rp.gln AS read_point_gln, bl.gln AS biz_location_gln
FROM events e
LEFT JOIN locations rp ON rp.id = e.read_point_id
LEFT JOIN locations bl ON bl.id = e.biz_location_id
WHERE (sqlc.narg(event_type)::text IS NULL OR e.event_type = sqlc.narg(event_type))
  AND (sqlc.narg(biz_step)::text IS NULL OR e.biz_step = sqlc.narg(biz_step))
  AND (sqlc.narg(location_id)::uuid IS NULL OR e.biz_location_id = sqlc.narg(location_id))
  AND (sqlc.narg(source_type)::text IS NULL OR e.source_type = sqlc.narg(source_type))
  AND (sqlc.narg(start_time)::timestamptz IS NULL OR e.event_time >= sqlc.narg(start_time))
  AND (sqlc.narg(end_time)::timestamptz IS NULL OR e.event_time < sqlc.narg(end_time))
  -- Each lot of the product is one probe of event_batches' (batch_id,
  -- event_time) index (OFFSET 0 keeps the planner from hashing the table).
  AND (sqlc.narg(product_id)::uuid IS NULL OR e.id IN (
       SELECT lot.event_id FROM batches b
       CROSS JOIN LATERAL (SELECT eb.event_id FROM event_batches eb WHERE eb.batch_id = b.id OFFSET 0) lot
       WHERE b.product_id = sqlc.narg(product_id)))
  AND (sqlc.narg(epc_class)::text IS NULL OR e.id IN (
       SELECT ee.event_id FROM event_epcs ee WHERE ee.key = sqlc.narg(epc_class) AND ee.is_class))
  AND (sqlc.narg(biz_transaction)::text IS NULL OR e.id IN (
       SELECT bt.event_id FROM biz_types t JOIN event_biz_transactions bt
           ON bt.type = t.type AND bt.key = sqlc.narg(biz_transaction)))
  -- true: only events declared in error; false: none of them.
  AND (sqlc.narg(declared_in_error)::boolean IS NULL
       OR (e.declared_in_error_at IS NOT NULL) = sqlc.narg(declared_in_error))
  AND (sqlc.narg(after_time)::timestamptz IS NULL
       OR (e.event_time, e.id) < (sqlc.narg(after_time), sqlc.narg(after_id)::uuid))
ORDER BY e.event_time DESC, e.id DESC
LIMIT @row_limit;

-- name: ListBatchEvents :many
-- The events naming one batch, driven from event_batches' (batch_id,
-- event_time) index; same filters and cursor as ListEvents.
-- Any business transaction type: the types are few, so a loose scan of
-- the (type, key) index lists them and each is one probe for the key.
WITH RECURSIVE biz_types (type) AS (
    (SELECT bt.type FROM event_biz_transactions bt ORDER BY bt.type LIMIT 1)
    UNION ALL
    SELECT (SELECT bt.type FROM event_biz_transactions bt WHERE bt.type > t.type ORDER BY bt.type LIMIT 1)
    FROM biz_types t WHERE t.type IS NOT NULL)
SELECT e.*, rp.gln AS read_point_gln, bl.gln AS biz_location_gln
FROM events e
LEFT JOIN locations rp ON rp.id = e.read_point_id
LEFT JOIN locations bl ON bl.id = e.biz_location_id
WHERE e.id IN (
    SELECT eb.event_id FROM event_batches eb
    WHERE eb.batch_id = @batch_id
      AND (sqlc.narg(after_time)::timestamptz IS NULL
           OR (eb.event_time, eb.event_id) <= (sqlc.narg(after_time), sqlc.narg(after_id)::uuid)))
  AND (sqlc.narg(event_type)::text IS NULL OR e.event_type = sqlc.narg(event_type))
  AND (sqlc.narg(biz_step)::text IS NULL OR e.biz_step = sqlc.narg(biz_step))
  AND (sqlc.narg(location_id)::uuid IS NULL OR e.biz_location_id = sqlc.narg(location_id))
  AND (sqlc.narg(source_type)::text IS NULL OR e.source_type = sqlc.narg(source_type))
  AND (sqlc.narg(start_time)::timestamptz IS NULL OR e.event_time >= sqlc.narg(start_time))
  AND (sqlc.narg(end_time)::timestamptz IS NULL OR e.event_time < sqlc.narg(end_time))
  -- Each lot of the product is one probe of event_batches' (batch_id,
  -- event_time) index (OFFSET 0 keeps the planner from hashing the table).
  AND (sqlc.narg(product_id)::uuid IS NULL OR e.id IN (
       SELECT lot.event_id FROM batches b
       CROSS JOIN LATERAL (SELECT eb.event_id FROM event_batches eb WHERE eb.batch_id = b.id OFFSET 0) lot
       WHERE b.product_id = sqlc.narg(product_id)))
  AND (sqlc.narg(epc_class)::text IS NULL OR e.id IN (
       SELECT ee.event_id FROM event_epcs ee WHERE ee.key = sqlc.narg(epc_class) AND ee.is_class))
  AND (sqlc.narg(biz_transaction)::text IS NULL OR e.id IN (
       SELECT bt.event_id FROM biz_types t JOIN event_biz_transactions bt
           ON bt.type = t.type AND bt.key = sqlc.narg(biz_transaction)))
  -- true: only events declared in error; false: none of them.
  AND (sqlc.narg(declared_in_error)::boolean IS NULL
       OR (e.declared_in_error_at IS NOT NULL) = sqlc.narg(declared_in_error))
  AND (sqlc.narg(after_time)::timestamptz IS NULL
       OR (e.event_time, e.id) < (sqlc.narg(after_time), sqlc.narg(after_id)::uuid))
ORDER BY e.event_time DESC, e.id DESC
LIMIT @row_limit;

-- name: ListTraceLinks :many
-- Batches linked to @batch_id through TransformationEvents: upstream
-- (inputs of events where it is an output) and downstream (outputs of
-- events where it is an input).
SELECT DISTINCT ON (other.batch_id, direction)
       other.batch_id, b.batch_number, p.name AS product_name,
       CASE WHEN mine.role = 'output' THEN 'upstream' ELSE 'downstream' END::text AS direction,
       mine.event_id, mine.event_time
FROM event_batches mine
JOIN events e ON e.id = mine.event_id AND e.event_type = 'TransformationEvent'
JOIN event_batches other ON other.event_id = mine.event_id AND other.batch_id <> mine.batch_id
     AND other.role = CASE WHEN mine.role = 'output' THEN 'input' ELSE 'output' END
JOIN batches b ON b.id = other.batch_id
JOIN products p ON p.id = b.product_id
WHERE mine.batch_id = @batch_id AND mine.role IN ('input', 'output')
ORDER BY other.batch_id, direction, mine.event_time DESC;

-- name: BatchUnits :many
-- Units (Rec 20 codes) and existence of the batches an event names.
SELECT id, unit_of_measure, location_id
FROM batches WHERE id = ANY(@ids::uuid[]);

-- name: LocationsByGLN :many
SELECT id, gln FROM locations WHERE gln = ANY(@glns::text[]);

-- name: ListCaptureJobEvents :many
-- The events a capture job stored, in document order as far as time tells.
SELECT id, event_type, action, biz_step, event_time
FROM events WHERE capture_job_id = @capture_job_id
ORDER BY event_time, id
LIMIT @row_limit;
