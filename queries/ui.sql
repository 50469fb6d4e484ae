-- Queries behind the staff pages: the batches list in other sort orders,
-- and names for what events and imports refer to by id or number.

-- name: ListBatchesByNumber :many
-- Batch number ascending; the cursor is the last row's (batch_number, id).
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name,
       l.gln AS location_gln, l.name AS location_name
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
WHERE (sqlc.narg(q)::text IS NULL OR b.id IN (
          -- Same search as ListBatches: lot or product name, each through
          -- its trigram index.
          SELECT sb.id FROM batches sb WHERE sb.batch_number ILIKE '%' || sqlc.narg(q) || '%'
          UNION
          SELECT sb.id FROM batches sb JOIN products sp ON sp.id = sb.product_id
          WHERE sp.name ILIKE '%' || sqlc.narg(q) || '%'))
  AND (sqlc.narg(product_id)::uuid IS NULL OR b.product_id = sqlc.narg(product_id))
  AND (sqlc.narg(location_id)::uuid IS NULL OR b.location_id = sqlc.narg(location_id))
  AND (sqlc.narg(quality_status)::text IS NULL OR b.quality_status = sqlc.narg(quality_status))
  AND (sqlc.narg(expiring_before)::date IS NULL OR b.expiry_date < sqlc.narg(expiring_before))
  AND (sqlc.narg(after_number)::text IS NULL
       OR (b.batch_number, b.id) > (sqlc.narg(after_number), sqlc.narg(after_id)::uuid))
ORDER BY b.batch_number, b.id
LIMIT @row_limit;

-- name: ListBatchesByExpiry :many
-- Soonest expiry first, batches without one last; the cursor is the last
-- row's (expiry or 'infinity', id).
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name,
       l.gln AS location_gln, l.name AS location_name
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
WHERE (sqlc.narg(q)::text IS NULL OR b.id IN (
          -- Same search as ListBatches: lot or product name, each through
          -- its trigram index.
          SELECT sb.id FROM batches sb WHERE sb.batch_number ILIKE '%' || sqlc.narg(q) || '%'
          UNION
          SELECT sb.id FROM batches sb JOIN products sp ON sp.id = sb.product_id
          WHERE sp.name ILIKE '%' || sqlc.narg(q) || '%'))
  AND (sqlc.narg(product_id)::uuid IS NULL OR b.product_id = sqlc.narg(product_id))
  AND (sqlc.narg(location_id)::uuid IS NULL OR b.location_id = sqlc.narg(location_id))
  AND (sqlc.narg(quality_status)::text IS NULL OR b.quality_status = sqlc.narg(quality_status))
  AND (sqlc.narg(expiring_before)::date IS NULL OR b.expiry_date < sqlc.narg(expiring_before))
  AND (sqlc.narg(after_expiry)::text IS NULL
       OR (coalesce(b.expiry_date, 'infinity'::date), b.id) > (sqlc.narg(after_expiry)::text::date, sqlc.narg(after_id)::uuid))
ORDER BY coalesce(b.expiry_date, 'infinity'::date), b.id
LIMIT @row_limit;

-- name: ListBatchesByAvailable :many
-- Least available first; the cursor is the last row's (quantity_available, id).
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name,
       l.gln AS location_gln, l.name AS location_name
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
WHERE (sqlc.narg(q)::text IS NULL OR b.id IN (
          -- Same search as ListBatches: lot or product name, each through
          -- its trigram index.
          SELECT sb.id FROM batches sb WHERE sb.batch_number ILIKE '%' || sqlc.narg(q) || '%'
          UNION
          SELECT sb.id FROM batches sb JOIN products sp ON sp.id = sb.product_id
          WHERE sp.name ILIKE '%' || sqlc.narg(q) || '%'))
  AND (sqlc.narg(product_id)::uuid IS NULL OR b.product_id = sqlc.narg(product_id))
  AND (sqlc.narg(location_id)::uuid IS NULL OR b.location_id = sqlc.narg(location_id))
  AND (sqlc.narg(quality_status)::text IS NULL OR b.quality_status = sqlc.narg(quality_status))
  AND (sqlc.narg(expiring_before)::date IS NULL OR b.expiry_date < sqlc.narg(expiring_before))
  AND (sqlc.narg(after_available)::numeric IS NULL
       OR (b.quantity_available, b.id) > (sqlc.narg(after_available)::numeric, sqlc.narg(after_id)::uuid))
ORDER BY b.quantity_available, b.id
LIMIT @row_limit;

-- name: BatchNames :many
-- Numbers and product names of the batches an event names.
SELECT b.id, b.batch_number, p.name AS product_name
FROM batches b JOIN products p ON p.id = b.product_id
WHERE b.id = ANY(@ids::uuid[]);

-- name: BatchIDsByNumber :many
SELECT id, batch_number FROM batches WHERE batch_number = ANY(@numbers::text[]);

-- name: RecentBatchNumbers :many
SELECT batch_number FROM batches ORDER BY created_at DESC, id DESC LIMIT @row_limit;
