-- name: CreateProduct :one
INSERT INTO products (gtin, name, description, category, unit, yield_min, yield_max)
VALUES (@gtin, @name, @description, @category, @unit, sqlc.narg(yield_min), sqlc.narg(yield_max))
RETURNING *;

-- name: GetProduct :one
SELECT * FROM products WHERE id = @id;

-- name: GetProductByGTIN :one
SELECT * FROM products WHERE gtin = @gtin;

-- name: ListProducts :many
-- Sorted by name; the cursor is the last row's (name, id).
SELECT * FROM products
WHERE (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || sqlc.narg(q) || '%' OR gtin LIKE sqlc.narg(q) || '%')
  AND (sqlc.narg(category)::text IS NULL OR category = sqlc.narg(category))
  AND (sqlc.narg(after_name)::text IS NULL OR (name, id) > (sqlc.narg(after_name), sqlc.narg(after_id)::uuid))
ORDER BY name, id
LIMIT @row_limit;

-- name: ListProductCategories :many
SELECT DISTINCT category FROM products WHERE category <> '' ORDER BY category;
