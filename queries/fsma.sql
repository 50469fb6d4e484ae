-- FSMA 204 sortable spreadsheet (inventory/fsma.go).

-- name: FSMAProductExists :one
SELECT EXISTS (SELECT 1 FROM products WHERE id = @id)::boolean;

-- name: FSMABatchesOfProduct :many
SELECT id FROM batches WHERE product_id = @product_id;

-- name: FSMABatchesOfLot :many
SELECT b.id FROM batches b JOIN products p ON p.id = b.product_id
WHERE p.gtin = @gtin AND b.batch_number = @batch_number;

-- name: FSMATraceBatches :many
-- The lots (product, lot code) reached through transformations, both
-- ways, one indexed step per level. UNION keeps each lot once, so a cycle
-- in the data ends the walk instead of looping.
WITH RECURSIVE start AS (
  SELECT DISTINCT product_id, batch_number FROM batches WHERE id = ANY(@ids::uuid[])
), down(product_id, batch_number) AS (
  SELECT product_id, batch_number FROM start
  UNION
  SELECT bo.product_id, bo.batch_number
  FROM down d
  JOIN batches bi ON bi.product_id = d.product_id AND bi.batch_number = d.batch_number
  JOIN event_batches ei ON ei.batch_id = bi.id AND ei.role = 'input'
  JOIN events e ON e.id = ei.event_id AND e.event_type = 'TransformationEvent' AND e.declared_in_error_at IS NULL
  JOIN event_batches eo ON eo.event_id = ei.event_id AND eo.role = 'output'
  JOIN batches bo ON bo.id = eo.batch_id
), up(product_id, batch_number) AS (
  SELECT product_id, batch_number FROM start
  UNION
  SELECT bi.product_id, bi.batch_number
  FROM up u
  JOIN batches bo ON bo.product_id = u.product_id AND bo.batch_number = u.batch_number
  JOIN event_batches eo ON eo.batch_id = bo.id AND eo.role = 'output'
  JOIN events e ON e.id = eo.event_id AND e.event_type = 'TransformationEvent' AND e.declared_in_error_at IS NULL
  JOIN event_batches ei ON ei.event_id = eo.event_id AND ei.role = 'input'
  JOIN batches bi ON bi.id = ei.batch_id
), lots AS (
  SELECT product_id, batch_number FROM down UNION SELECT product_id, batch_number FROM up
)
SELECT b.id FROM batches b JOIN lots ON lots.product_id = b.product_id AND lots.batch_number = b.batch_number;

-- name: FSMAEventRows :many
-- One row per CTE per lot: commissioning, receiving and shipping objects,
-- transformation outputs; events declared in error left out.
SELECT e.id, e.event_id, e.event_type, coalesce(e.biz_step, '')::text AS biz_step, e.event_time,
       eb.quantity, eb.uom, p.gtin, p.name AS product_name, b.batch_number, b.tlc_source, b.kdes,
       coalesce(l.name, '')::text AS location_name, coalesce(l.gln, '')::text AS location_gln,
       coalesce(nullif(l.address, ''), lp.address, '')::text AS location_address
FROM event_batches eb
JOIN events e ON e.id = eb.event_id
JOIN batches b ON b.id = eb.batch_id
JOIN products p ON p.id = b.product_id
LEFT JOIN locations l ON l.id = coalesce(e.biz_location_id, e.read_point_id)
LEFT JOIN parties lp ON lp.id = l.party_id
WHERE eb.batch_id = ANY(@batch_ids::uuid[]) AND e.declared_in_error_at IS NULL
  AND e.event_time >= @from_time AND e.event_time < @to_time
  AND ((e.event_type = 'TransformationEvent' AND eb.role = 'output')
    OR (e.event_type = 'ObjectEvent' AND eb.role = 'object' AND e.biz_step IN ('commissioning', 'receiving', 'shipping')))
ORDER BY e.event_time, p.gtin, b.batch_number, e.id;

-- name: FSMAReferences :many
SELECT event_id, type, id FROM event_biz_transactions
WHERE event_id = ANY(@event_ids::uuid[]) ORDER BY event_id, type, id;

-- name: FSMAEventParties :many
SELECT ep.event_id, ep.kind, ep.key,
       coalesce(l.name, pt.name, '')::text AS name,
       coalesce(nullif(l.address, ''), lp.address, pt.address, '')::text AS address
FROM event_parties ep
LEFT JOIN locations l ON ep.key LIKE '414/%' AND l.gln = substr(ep.key, 5)
LEFT JOIN parties lp ON lp.id = l.party_id
LEFT JOIN parties pt ON ep.key LIKE '417/%' AND pt.pgln = substr(ep.key, 5)
WHERE ep.event_id = ANY(@event_ids::uuid[])
ORDER BY ep.event_id, ep.kind, ep.type, ep.key;

-- name: FSMATransferSources :many
-- A receipt of stock shipped from another of our locations names no
-- source in its event: the transfer it closes does.
SELECT DISTINCT ON (tr.receive_event_id) tr.receive_event_id, l.name, l.gln,
       coalesce(nullif(l.address, ''), lp.address, '')::text AS address
FROM transfer_receipts tr
JOIN transfers t ON t.id = tr.transfer_id
JOIN batches b ON b.id = t.from_batch_id
JOIN locations l ON l.id = b.location_id
LEFT JOIN parties lp ON lp.id = l.party_id
WHERE tr.receive_event_id = ANY(@event_ids::uuid[])
ORDER BY tr.receive_event_id, l.name;

-- name: FSMAInputs :many
SELECT eb.event_id, p.gtin, b.batch_number, eb.quantity, eb.uom
FROM event_batches eb JOIN batches b ON b.id = eb.batch_id JOIN products p ON p.id = b.product_id
WHERE eb.event_id = ANY(@event_ids::uuid[]) AND eb.role = 'input'
ORDER BY eb.event_id, p.gtin, b.batch_number;

-- name: FSMAPlaces :many
SELECT l.gln, l.name, coalesce(nullif(l.address, ''), p.address, '')::text AS address
FROM locations l LEFT JOIN parties p ON p.id = l.party_id WHERE l.gln = ANY(@glns::text[]);
