-- name: CreateLocation :one
INSERT INTO locations (gln, name, type, address, parent_id, party_id)
VALUES (@gln, @name, @type, @address, sqlc.narg(parent_id), sqlc.narg(party_id))
RETURNING *;

-- name: GetLocation :one
SELECT * FROM locations WHERE id = @id;

-- name: GetLocationWithParty :one
-- A location with its party's name, and whether it is ours (no party, or
-- our own party's).
SELECT sqlc.embed(l), coalesce(p.name, '')::text AS party_name, (l.party_id IS NULL OR coalesce(p.is_own, false))::boolean AS ours
FROM locations l LEFT JOIN parties p ON p.id = l.party_id
WHERE l.id = @id;

-- name: GetLocationByGLN :one
SELECT * FROM locations WHERE gln = @gln;

-- name: ListLocations :many
-- Sorted by name; the cursor is the last row's (name, id).
SELECT sqlc.embed(l), coalesce(p.name, '')::text AS party_name, (l.party_id IS NULL OR coalesce(p.is_own, false))::boolean AS ours
FROM locations l LEFT JOIN parties p ON p.id = l.party_id
WHERE (sqlc.narg(q)::text IS NULL OR l.name ILIKE '%' || sqlc.narg(q) || '%' OR l.gln LIKE sqlc.narg(q) || '%')
  AND (sqlc.narg(type)::text IS NULL OR l.type = sqlc.narg(type))
  AND (sqlc.narg(after_name)::text IS NULL OR (l.name, l.id) > (sqlc.narg(after_name), sqlc.narg(after_id)::uuid))
ORDER BY l.name, l.id
LIMIT @row_limit;

-- name: LockLocation :one
SELECT * FROM locations WHERE id = @id FOR UPDATE;

-- name: UpdateLocation :one
UPDATE locations
SET gln = @gln, name = @name, type = @type, address = @address, parent_id = sqlc.narg(parent_id),
    party_id = sqlc.narg(party_id), updated_at = now()
WHERE id = @id
RETURNING *;

-- name: LocationAncestors :many
-- A location and the locations above it (a cycle ends the walk).
WITH RECURSIVE up (id, parent_id) AS (
    SELECT l.id, l.parent_id FROM locations l WHERE l.id = @id
    UNION
    SELECT l.id, l.parent_id FROM locations l JOIN up ON l.id = up.parent_id
)
SELECT up.id FROM up;
