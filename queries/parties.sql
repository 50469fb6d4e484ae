-- name: CreateParty :one
INSERT INTO parties (pgln, name, is_own, roles, address, contact_name, email, phone, notes)
VALUES (@pgln, @name, @is_own, @roles::text[], @address, @contact_name, @email, @phone, @notes)
RETURNING *;

-- name: GetParty :one
SELECT * FROM parties WHERE id = @id;

-- name: LockParty :one
SELECT * FROM parties WHERE id = @id FOR UPDATE;

-- name: UpdateParty :one
UPDATE parties
SET pgln = @pgln, name = @name, is_own = @is_own, roles = @roles::text[], address = @address,
    contact_name = @contact_name, email = @email, phone = @phone, notes = @notes, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: LockOwnParty :exec
-- Serialises the writes that may make a party our own: the table has no
-- constraint for "at most one", so the check and the write run under it.
SELECT pg_advisory_xact_lock(hashtext('parties.is_own'));

-- name: OtherOwnParty :one
SELECT name FROM parties WHERE is_own AND id IS DISTINCT FROM sqlc.narg(id)::uuid ORDER BY created_at, id LIMIT 1;

-- name: PartiesByPGLN :many
SELECT pgln FROM parties WHERE pgln = ANY(@pglns::text[]);

-- name: ListParties :many
-- Sorted by name; the cursor is the last row's (name, id). q matches a
-- part of the name (the trigram index) or the start of the PGLN.
SELECT * FROM parties
WHERE (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || sqlc.narg(q) || '%' OR pgln LIKE sqlc.narg(q) || '%')
  AND (sqlc.narg(role)::text IS NULL OR roles @> ARRAY[sqlc.narg(role)::text])
  AND (sqlc.narg(own)::boolean IS NULL OR is_own = sqlc.narg(own)::boolean)
  AND (sqlc.narg(after_name)::text IS NULL OR (name, id) > (sqlc.narg(after_name), sqlc.narg(after_id)::uuid))
ORDER BY name, id
LIMIT @row_limit;

-- name: ListPartyLocations :many
SELECT * FROM locations WHERE party_id = @party_id ORDER BY name, id;
