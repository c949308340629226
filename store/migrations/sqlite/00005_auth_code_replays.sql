-- +goose Up
-- When a used code was presented again: the request that used it checks this after it
-- recorded its tokens, so a replay that came before they were recorded still revokes them.
ALTER TABLE auth_codes ADD COLUMN replayed_ms INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE auth_codes DROP COLUMN replayed_ms;
