-- name: LockOpenTransfersFrom :many
-- Open transfers out of the rows a recall covers, locked before the rows
-- themselves (a receipt locks its transfers, then its row: same order).
SELECT id FROM transfers
WHERE from_batch_id = ANY(@ids::uuid[]) AND quantity_open > 0
ORDER BY id
FOR UPDATE;

-- name: ExpandLots :many
-- Every row of the lots the given rows belong to: a recall takes a lot at
-- all of our locations.
SELECT DISTINCT b.id FROM batches b
JOIN batches r ON r.product_id = b.product_id AND r.batch_number = b.batch_number
WHERE r.id = ANY(@ids::uuid[])
ORDER BY b.id;

-- name: ImpactLots :many
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name, l.gln AS location_gln,
       l.name AS location_name, coalesce(pa.name, '')::text AS party_name
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
LEFT JOIN parties pa ON pa.id = l.party_id
WHERE b.id = ANY(@ids::uuid[])
ORDER BY p.name, b.batch_number, l.name, b.id;

-- name: LedgerByCategory :many
-- MassBalance for many rows at once.
SELECT c.batch_id,
       (CASE WHEN c.kind = 'reversal' THEN coalesce(c.reverses_kind, 'adjust') ELSE c.kind END)::text AS category,
       sum(ledger_delta(c.kind, c.quantity))::numeric AS delta,
       count(*)::bigint AS entries
FROM consumptions c
WHERE c.batch_id = ANY(@ids::uuid[])
GROUP BY 1, 2;

-- name: OpenTransfersFrom :many
SELECT from_batch_id, sum(quantity_open)::numeric AS quantity_open
FROM transfers
WHERE from_batch_id = ANY(@ids::uuid[]) AND quantity_open > 0
GROUP BY 1;

-- name: ShipmentsToPartners :many
-- Stock shipped from the rows to partners (shipments to our own locations
-- are movements), each with the customer, its contact and the documents.
SELECT c.batch_id, c.event_id::uuid AS event_id, e.event_time, c.quantity,
       coalesce(dl.gln, split_part(loc.key, '/', 2), '')::text AS ship_to_gln,
       coalesce(dl.name, '')::text AS ship_to_name,
       coalesce(coalesce(pa.id, lp.id)::text, '')::text AS party_id,
       coalesce(pa.pgln, lp.pgln, split_part(own.key, '/', 2), '')::text AS party_pgln,
       coalesce(pa.name, lp.name, '')::text AS party_name,
       coalesce(pa.contact_name, lp.contact_name, '')::text AS contact_name,
       coalesce(pa.email, lp.email, '')::text AS email,
       coalesce(pa.phone, lp.phone, '')::text AS phone,
       coalesce((SELECT string_agg(bt.type || ' ' || regexp_replace(bt.id, '^urn:epcglobal:cbv:bt:[0-9]{13}:', ''),
                                   ', ' ORDER BY bt.type, bt.id)
                 FROM event_biz_transactions bt WHERE bt.event_id = e.id), '')::text AS refs
FROM consumptions c
JOIN events e ON e.id = c.event_id AND e.declared_in_error_at IS NULL
LEFT JOIN LATERAL (SELECT ep.key FROM event_parties ep
                   WHERE ep.event_id = e.id AND ep.kind = 'destination' AND ep.type = 'location' LIMIT 1) loc ON true
LEFT JOIN LATERAL (SELECT ep.key FROM event_parties ep
                   WHERE ep.event_id = e.id AND ep.kind = 'destination' AND ep.type = 'owning_party' LIMIT 1) own ON true
LEFT JOIN locations dl ON dl.gln = split_part(loc.key, '/', 2)
LEFT JOIN parties lp ON lp.id = dl.party_id
LEFT JOIN parties pa ON pa.pgln = split_part(own.key, '/', 2)
WHERE c.batch_id = ANY(@ids::uuid[]) AND c.kind = 'ship'
  AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.ship_event_id = e.id)
ORDER BY 9, e.event_time, c.batch_id;

-- name: MarkRecalled :exec
-- Only after the rows are locked in the same transaction.
UPDATE batches SET quality_status = 'recalled', status_reason = @status_reason, version = version + 1, updated_at = now()
WHERE id = ANY(@ids::uuid[]);

-- name: InsertRecall :one
INSERT INTO recalls (reason, classification, decided_by, opened_by, duration_ms, impact)
VALUES (@reason, @classification, @decided_by, @opened_by, @duration_ms, @impact)
RETURNING *;

-- name: InsertRecallLot :exec
INSERT INTO recall_lots (recall_id, batch_id, role, depth, status_before, event_id)
VALUES (@recall_id, @batch_id, @role, @depth, @status_before, @event_id);

-- name: GetRecall :one
SELECT * FROM recalls WHERE id = @id;

-- name: LockRecall :one
SELECT * FROM recalls WHERE id = @id FOR UPDATE;

-- name: ListRecalls :many
SELECT r.*, (SELECT count(*) FROM recall_lots rl WHERE rl.recall_id = r.id)::bigint AS lots
FROM recalls r
ORDER BY r.opened_at DESC, r.id DESC
LIMIT @lim;

-- name: RecallLots :many
SELECT batch_id, role, depth, status_before, event_id FROM recall_lots WHERE recall_id = @recall_id ORDER BY depth, batch_id;

-- name: RecallsOfBatch :many
SELECT r.id, r.number, r.status, r.reason FROM recall_lots rl JOIN recalls r ON r.id = rl.recall_id
WHERE rl.batch_id = @batch_id ORDER BY r.opened_at DESC;

-- name: CloseRecall :one
UPDATE recalls SET status = 'closed', closed_by = @closed_by, closed_at = now(), closing_note = @closing_note
WHERE id = @id
RETURNING *;

-- name: InsertRecovery :one
INSERT INTO recall_recoveries (recall_id, kind, batch_id, party_id, quantity, event_id, note, actor)
VALUES (@recall_id, @kind, @batch_id, sqlc.narg(party_id), @quantity, @event_id, @note, @actor)
RETURNING *;

-- name: RecallRecoveries :many
SELECT rr.*, p.gtin AS product_gtin, p.name AS product_name, b.batch_number, l.name AS location_name,
       b.unit_of_measure, coalesce(pa.name, '')::text AS party_name,
       (e.declared_in_error_at IS NOT NULL)::boolean AS corrected
FROM recall_recoveries rr
JOIN batches b ON b.id = rr.batch_id
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
JOIN events e ON e.id = rr.event_id
LEFT JOIN parties pa ON pa.id = rr.party_id
WHERE rr.recall_id = @recall_id
ORDER BY rr.created_at, rr.id;

-- name: InsertMockRecall :one
INSERT INTO mock_recalls (batch_ids, note, actor, duration_ms, impact)
VALUES (@batch_ids::uuid[], @note, @actor, @duration_ms, @impact)
RETURNING *;

-- name: GetMockRecall :one
SELECT * FROM mock_recalls WHERE id = @id;

-- name: ListMockRecalls :many
SELECT id, batch_ids, note, actor, started_at, duration_ms,
       (impact -> 'summary')::jsonb AS summary
FROM mock_recalls
ORDER BY started_at DESC, id DESC
LIMIT @lim;

-- name: RecoveryByEvent :one
SELECT rr.*, p.gtin AS product_gtin, p.name AS product_name, b.batch_number, l.name AS location_name,
       b.unit_of_measure, coalesce(pa.name, '')::text AS party_name
FROM recall_recoveries rr
JOIN batches b ON b.id = rr.batch_id
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
LEFT JOIN parties pa ON pa.id = rr.party_id
WHERE rr.event_id = @event_id;
