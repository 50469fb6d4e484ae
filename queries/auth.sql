-- name: CreateUser :one
INSERT INTO users (email, display_name, role, password_hash)
VALUES (@email, @display_name, @role, @password_hash)
RETURNING *;

-- name: GetUser :one
SELECT * FROM users WHERE id = @id;

-- name: GetUserByEmail :one
SELECT * FROM users WHERE email = @email;

-- name: ListUsers :many
SELECT * FROM users ORDER BY email;

-- name: CountUsers :one
SELECT count(*) FROM users;

-- name: UpdateUserProfile :one
UPDATE users SET display_name = @display_name, role = @role, disabled = @disabled, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: SetUserPassword :execrows
UPDATE users SET password_hash = @password_hash, updated_at = now() WHERE id = @id;

-- name: RecordUserLogin :exec
UPDATE users SET last_login_at = @at::timestamptz WHERE id = @id;

-- name: CreateSession :exec
INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, user_agent, client_ip)
VALUES (@id_hash, @user_id, @csrf_token, @created_at, @created_at, @expires_at, @user_agent, @client_ip);

-- name: GetLiveSession :one
-- A session counts only while neither timeout has passed and its user is
-- enabled; the caller passes now so tests can move the clock.
SELECT s.id_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
       sqlc.embed(u)
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id_hash = @id_hash
  AND s.expires_at > @now
  AND s.last_seen_at > @idle_since
  AND NOT u.disabled;

-- name: TouchSession :exec
-- Throttled by the caller (at most once a minute per session): no write
-- per request.
UPDATE sessions SET last_seen_at = @now WHERE id_hash = @id_hash AND last_seen_at < @now;

-- name: DeleteSession :exec
DELETE FROM sessions WHERE id_hash = @id_hash;

-- name: DeleteUserSessions :execrows
DELETE FROM sessions WHERE user_id = @user_id;

-- name: DeleteDeadSessions :execrows
DELETE FROM sessions WHERE expires_at <= @now OR last_seen_at <= @idle_since;

-- name: CreateAPIToken :one
INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_by, expires_at)
VALUES (@user_id, @name, @prefix, @token_hash, @created_by, @expires_at)
RETURNING *;

-- name: GetLiveAPIToken :one
-- Checked on every request: revocation, expiry and a disabled user take
-- effect at once.
SELECT t.id, t.user_id, t.name, t.prefix, t.created_at, t.expires_at, t.last_used_at,
       t.rate_limits, sqlc.embed(u)
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = @token_hash
  AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > @now::timestamptz)
  AND NOT u.disabled;

-- name: TouchAPIToken :exec
UPDATE api_tokens SET last_used_at = @now::timestamptz
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @now::timestamptz);

-- name: ListAPITokens :many
SELECT t.id, t.user_id, t.name, t.prefix, t.created_at, t.expires_at, t.last_used_at, t.revoked_at,
       t.rate_limits, u.email AS user_email
FROM api_tokens t JOIN users u ON u.id = t.user_id
ORDER BY t.created_at DESC, t.id DESC;

-- name: SetAPITokenRateLimits :execrows
UPDATE api_tokens SET rate_limits = @rate_limits WHERE id = @id;

-- name: RevokeAPIToken :execrows
UPDATE api_tokens SET revoked_at = @now::timestamptz WHERE id = @id AND revoked_at IS NULL;

-- name: GetAPITokenByPrefix :one
SELECT id FROM api_tokens WHERE prefix = @prefix;

-- name: APITokenExists :one
SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = @id);
