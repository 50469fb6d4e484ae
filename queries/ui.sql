-- Queries behind the staff pages: names for what events and imports
-- refer to by id or number.

-- name: BatchNames :many
-- Numbers and product names of the batches an event names.
SELECT b.id, b.batch_number, p.name AS product_name
FROM batches b JOIN products p ON p.id = b.product_id
WHERE b.id = ANY(@ids::uuid[]);

-- name: BatchIDsByNumber :many
SELECT id, batch_number FROM batches WHERE batch_number = ANY(@numbers::text[]);

-- name: RecentBatchNumbers :many
SELECT batch_number FROM batches ORDER BY created_at DESC, id DESC LIMIT @row_limit;
