-- Pickers and history of the staff's stock forms.

-- name: PickLots :many
-- Lots matching a typed lot number (prefix matches first), at most 20:
-- the pattern ('%q%') is served by batches_number_trgm_idx, product and
-- location narrow it further. usable_only keeps lots with stock that are
-- neither rejected nor recalled; the caller shows every other state.
SELECT sqlc.embed(b), p.gtin AS product_gtin, p.name AS product_name, l.gln AS location_gln,
       l.name AS location_name
FROM batches b
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
WHERE (@pattern::text = '' OR b.batch_number ILIKE @pattern::text)
  AND (sqlc.narg(product_id)::uuid IS NULL OR b.product_id = sqlc.narg(product_id)::uuid)
  AND (sqlc.narg(location_id)::uuid IS NULL OR b.location_id = sqlc.narg(location_id)::uuid)
  AND (NOT @usable_only::boolean OR (b.quantity_available > 0 AND b.quality_status NOT IN ('rejected', 'recalled')))
ORDER BY (b.batch_number ILIKE @prefix::text) DESC, b.expiry_date NULLS LAST, b.batch_number, b.id
LIMIT 20;

-- name: PickLocations :many
-- Locations matching a name, a GLN prefix or their party's name, ours or
-- a partner's, at most 20.
SELECT l.id, l.gln, l.name, (l.party_id IS NULL OR coalesce(p.is_own, false))::boolean AS ours,
       coalesce(p.name, '')::text AS party_name
FROM locations l LEFT JOIN parties p ON p.id = l.party_id
WHERE (sqlc.narg(ours)::boolean IS NULL OR (l.party_id IS NULL OR coalesce(p.is_own, false)) = sqlc.narg(ours)::boolean)
  AND (@pattern::text = '' OR l.name ILIKE @pattern::text OR l.gln LIKE @prefix::text OR p.name ILIKE @pattern::text)
ORDER BY l.name, l.id
LIMIT 20;

-- name: EventLedgerLines :many
-- Every ledger row an event wrote and every reversal of it, with the lot.
SELECT c.id, c.batch_id, c.kind, c.quantity, c.quantity_available_after, c.reason, c.actor, c.created_at,
       c.reverses_id, c.reverses_kind, b.batch_number, b.unit_of_measure, p.name AS product_name,
       l.name AS location_name
FROM consumptions c
JOIN batches b ON b.id = c.batch_id
JOIN products p ON p.id = b.product_id
JOIN locations l ON l.id = b.location_id
WHERE c.event_id = @event_id
ORDER BY c.created_at, c.id
LIMIT 500;

-- name: EventDeclaration :many
-- Who declared an event in error, when and why.
SELECT declaration_time, coalesce(reason, '')::text AS reason, actor
FROM error_declarations WHERE event_id = @event_id;

-- name: EventsCorrectedBy :many
-- The events whose error declaration names this eventID as corrective
-- (events_corrective_idx).
SELECT id, coalesce(event_id, '')::text AS event_id FROM events
WHERE corrective_event_ids @> ARRAY[@epcis_event_id::text]
ORDER BY id
LIMIT 20;
