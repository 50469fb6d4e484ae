-- name: InsertEventRow :exec
-- One event with its document; CopyEvents is the same for many.
INSERT INTO events (id, event_id, hash_id, event_type, action, event_time, event_timezone, biz_step,
                    disposition, read_point_id, biz_location_id, epc_list, quantity_list,
                    input_quantity_list, output_quantity_list, ilmd, notes, source_type, actor,
                    document, context, persistent_disposition_set, persistent_disposition_unset,
                    read_point, biz_location, transformation_id, declared_in_error_at, error_reason,
                    corrective_event_ids, capture_job_id)
VALUES (@id, @event_id, sqlc.narg(hash_id), @event_type, sqlc.narg(action), @event_time, @event_timezone,
        sqlc.narg(biz_step), sqlc.narg(disposition), sqlc.narg(read_point_id), sqlc.narg(biz_location_id),
        @epc_list, @quantity_list, @input_quantity_list, @output_quantity_list, sqlc.narg(ilmd), @notes,
        @source_type, @actor, @document, sqlc.narg(context), @persistent_disposition_set,
        @persistent_disposition_unset, sqlc.narg(read_point), sqlc.narg(biz_location),
        sqlc.narg(transformation_id), sqlc.narg(declared_in_error_at), sqlc.narg(error_reason),
        @corrective_event_ids, sqlc.narg(capture_job_id));

-- name: CopyEvents :copyfrom
INSERT INTO events (id, event_id, hash_id, event_type, action, event_time, event_timezone, biz_step,
                    disposition, read_point_id, biz_location_id, epc_list, quantity_list,
                    input_quantity_list, output_quantity_list, ilmd, notes, source_type, actor,
                    document, context, persistent_disposition_set, persistent_disposition_unset,
                    read_point, biz_location, transformation_id, declared_in_error_at, error_reason,
                    corrective_event_ids, capture_job_id)
VALUES (@id, @event_id, @hash_id, @event_type, @action, @event_time, @event_timezone, @biz_step,
        @disposition, @read_point_id, @biz_location_id, @epc_list, @quantity_list,
        @input_quantity_list, @output_quantity_list, @ilmd, @notes, @source_type, @actor,
        @document, @context, @persistent_disposition_set, @persistent_disposition_unset,
        @read_point, @biz_location, @transformation_id, @declared_in_error_at, @error_reason,
        @corrective_event_ids, @capture_job_id);

-- name: InsertEventEPCs :exec
-- The identifiers of any number of events; quantity and uom '' are NULL.
INSERT INTO event_epcs (event_id, role, key, is_class, quantity, uom, event_time)
SELECT unnest(@event_ids::uuid[]), unnest(@roles::text[]), unnest(@keys::text[]), unnest(@is_class::boolean[]),
       nullif(unnest(@quantities::text[]), '')::numeric, nullif(unnest(@uoms::text[]), ''),
       unnest(@event_times::timestamptz[]);

-- name: InsertEventBizTransactions :exec
INSERT INTO event_biz_transactions (event_id, type, key, id)
SELECT unnest(@event_ids::uuid[]), unnest(@types::text[]), unnest(@keys::text[]), unnest(@ids::text[]);

-- name: InsertEventParties :exec
INSERT INTO event_parties (event_id, kind, type, key, id)
SELECT unnest(@event_ids::uuid[]), unnest(@kinds::text[]), unnest(@types::text[]), unnest(@keys::text[]),
       unnest(@ids::text[]);

-- name: InsertEventBatchLinks :exec
-- The batch links of any number of events; quantity 0 is NULL.
INSERT INTO event_batches (event_id, batch_id, role, quantity, uom, event_time)
SELECT unnest(@event_ids::uuid[]), unnest(@batch_ids::uuid[]), unnest(@roles::text[]),
       nullif(unnest(@quantities::numeric[]), 0), unnest(@uoms::text[]), unnest(@event_times::timestamptz[]);

-- name: EventNames :many
-- What a document names by id: the GTIN and lot of batches, the GLN of
-- locations (batch_number '').
SELECT b.id, p.gtin AS code, b.batch_number, b.unit_of_measure FROM batches b JOIN products p ON p.id = b.product_id
WHERE b.id = ANY(@batch_ids::uuid[])
UNION ALL
SELECT l.id, l.gln, '', '' FROM locations l WHERE l.id = ANY(@location_ids::uuid[]);

-- name: LotsByGTINAndNumber :many
-- Our batches among (gtin, lot) pairs an event names.
SELECT b.id, p.gtin, b.batch_number, b.unit_of_measure
FROM batches b JOIN products p ON p.id = b.product_id
WHERE (p.gtin, b.batch_number) IN (SELECT unnest(@gtins::text[]), unnest(@lots::text[]));

-- name: StoredEventIDs :many
-- Which of these eventIDs and hash IDs are stored already, and whether
-- they were declared in error.
SELECT id, event_id, coalesce(hash_id, '')::text AS hash_id, (declared_in_error_at IS NOT NULL)::boolean AS declared FROM events
WHERE event_id = ANY(@event_ids::text[]) OR hash_id = ANY(@hash_ids::text[]);

-- name: GetStoredEvent :one
SELECT e.id, e.event_id, coalesce(e.hash_id, '')::text AS hash_id, e.recorded_at, e.document, e.context,
       e.declared_in_error_at, e.capture_job_id, e.source_type, e.actor, e.corrective_event_ids,
       (SELECT d.document -> 'errorDeclaration' FROM error_declarations d WHERE d.event_id = e.id)::jsonb AS declaration
FROM events e WHERE e.id = @id;

-- name: GetStoredEventByEventID :one
SELECT e.id, e.event_id, coalesce(e.hash_id, '')::text AS hash_id, e.recorded_at, e.document, e.context,
       e.declared_in_error_at, e.capture_job_id, e.source_type, e.actor, e.corrective_event_ids,
       (SELECT d.document -> 'errorDeclaration' FROM error_declarations d WHERE d.event_id = e.id)::jsonb AS declaration
FROM events e WHERE e.event_id = @event_id;

-- name: InsertCaptureJob :one
INSERT INTO capture_jobs (id, status, error_behaviour, caller, event_count)
VALUES (@id, 'running', @error_behaviour, @caller, @event_count)
RETURNING *;

-- name: LockCaptureJob :one
SELECT status FROM capture_jobs WHERE id = @id FOR UPDATE;

-- name: FinishCaptureJob :exec
-- clock_timestamp: now() is the capture transaction's start.
UPDATE capture_jobs
SET status = @status, finished_at = clock_timestamp(), event_count = @event_count, stored_count = @stored_count,
    errors = @errors
WHERE id = @id;

-- name: GetCaptureJob :one
-- free is false while a capture transaction holds the job's row lock.
SELECT j.*, (j.status = 'running' AND EXISTS (
           SELECT 1 FROM capture_jobs f WHERE f.id = j.id FOR KEY SHARE SKIP LOCKED)) AS free,
       now()::timestamptz AS now
FROM capture_jobs j WHERE j.id = @id;

-- name: ListCaptureJobs :many
SELECT * FROM capture_jobs
WHERE (sqlc.narg(after_time)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(after_time), sqlc.narg(after_id)::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @row_limit;

-- name: DeclareEventInError :execrows
-- Declares a stored event in error: the declaration kept whole, the
-- original's declaration columns set once (migration 00010).
WITH d AS (
    INSERT INTO error_declarations (event_id, declaration_time, reason, corrective_event_ids, document,
                                    capture_job_id, actor)
    VALUES (@id, @declaration_time::timestamptz, sqlc.narg(reason), @corrective_event_ids::text[], @document,
            sqlc.narg(capture_job_id), @actor)
    RETURNING event_id
)
UPDATE events e SET declared_in_error_at = @declaration_time::timestamptz, error_reason = sqlc.narg(reason),
       corrective_event_ids = @corrective_event_ids::text[]
FROM d WHERE e.id = d.event_id AND e.declared_in_error_at IS NULL;
