-- +goose Up
-- A customer's second factors: TOTP (secret sealed with the master key), a set of recovery
-- codes (their keyed hashes in recovery_codes), WebAuthn credentials (credential id and the
-- library's credential record: public key, sign counter, flags, transports).
CREATE TABLE factors (
    id            TEXT PRIMARY KEY,
    aid           TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    customer_id   TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    secret        BYTEA,
    credential_id BYTEA,
    credential    TEXT NOT NULL DEFAULT '',
    confirmed     BOOLEAN NOT NULL DEFAULT FALSE,
    last_step     BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ
);
CREATE INDEX factors_customer_idx ON factors (customer_id, id);
CREATE UNIQUE INDEX factors_credential_key ON factors (aid, credential_id) WHERE type = 'webauthn';

CREATE TABLE recovery_codes (
    factor_id TEXT NOT NULL REFERENCES factors (id) ON DELETE CASCADE,
    hash      BYTEA NOT NULL,
    used_ms   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (factor_id, hash)
);

-- The mfa_token of an API login that needs a second factor: single use, short-lived, bound
-- to the client and the customer; only its keyed hash is stored.
CREATE TABLE mfa_tokens (
    id          TEXT PRIMARY KEY,
    aid         TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    hash        BYTEA NOT NULL UNIQUE,
    client_id   TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    audience    TEXT NOT NULL DEFAULT '',
    scopes      TEXT NOT NULL DEFAULT '',
    refresh     BOOLEAN NOT NULL DEFAULT FALSE,
    amr         TEXT NOT NULL DEFAULT '',
    expires_ms  BIGINT NOT NULL,
    used_ms     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX mfa_tokens_expires_idx ON mfa_tokens (expires_ms);

-- The authentication methods (RFC 8176) of the login that started a refresh family, so
-- refreshed tokens carry them (and of sessions and codes, for the ID token); a client's MFA override (only stricter than the account's).
ALTER TABLE refresh_tokens ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_codes ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN mfa TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE clients DROP COLUMN mfa;
ALTER TABLE auth_codes DROP COLUMN amr;
ALTER TABLE sessions DROP COLUMN amr;
ALTER TABLE refresh_tokens DROP COLUMN amr;
DROP TABLE mfa_tokens;
DROP TABLE recovery_codes;
DROP TABLE factors;
