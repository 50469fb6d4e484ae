-- +goose Up
-- Per-token rate limits an admin may set for a service account: policy
-- name -> "N/DURATION" (e.g. {"consume": "1000/1m"}), replacing the default
-- for requests made with that token.
ALTER TABLE api_tokens ADD COLUMN rate_limits jsonb NOT NULL DEFAULT '{}'
    CHECK (jsonb_typeof(rate_limits) = 'object');

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN rate_limits;
