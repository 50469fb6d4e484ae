-- Queries behind the staff pages: names for what events and imports
-- refer to by id or number.

-- name: BatchNames :many
-- Numbers and product names of the batches an event names.
SELECT b.id, b.batch_number, p.name AS product_name
FROM batches b JOIN products p ON p.id = b.product_id
WHERE b.id = ANY(@ids::uuid[]);

-- name: LotsByNumber :many
-- The batches with these lot numbers, of every product: a number alone may
-- name lots of several products (GS1 identifies a lot by GTIN + lot).
SELECT b.id, b.batch_number, b.product_id, p.gtin AS product_gtin, p.name AS product_name, l.name AS location_name
FROM batches b JOIN products p ON p.id = b.product_id JOIN locations l ON l.id = b.location_id
WHERE b.batch_number = ANY(@numbers::text[])
ORDER BY b.batch_number, p.name, b.created_at, b.id;

-- name: RecentLots :many
SELECT b.id, b.batch_number, b.product_id, p.gtin AS product_gtin, p.name AS product_name, l.name AS location_name
FROM batches b JOIN products p ON p.id = b.product_id JOIN locations l ON l.id = b.location_id
ORDER BY b.created_at DESC, b.id DESC LIMIT @row_limit;
