-- name: CreateLocation :one
INSERT INTO locations (gln, name, type, address, parent_id)
VALUES (@gln, @name, @type, @address, sqlc.narg(parent_id))
RETURNING *;

-- name: GetLocation :one
SELECT * FROM locations WHERE id = @id;

-- name: GetLocationByGLN :one
SELECT * FROM locations WHERE gln = @gln;

-- name: ListLocations :many
-- Sorted by name; the cursor is the last row's (name, id).
SELECT * FROM locations
WHERE (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || sqlc.narg(q) || '%' OR gln LIKE sqlc.narg(q) || '%')
  AND (sqlc.narg(type)::text IS NULL OR type = sqlc.narg(type))
  AND (sqlc.narg(after_name)::text IS NULL OR (name, id) > (sqlc.narg(after_name), sqlc.narg(after_id)::uuid))
ORDER BY name, id
LIMIT @row_limit;
