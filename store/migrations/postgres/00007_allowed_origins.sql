-- +goose Up
-- The web origins a client's browser app calls from (CORS), a JSON list like redirect_uris.
ALTER TABLE clients ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE clients DROP COLUMN allowed_origins;
