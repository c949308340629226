-- +goose Up
-- Grants: what an application client may obtain per audience and grant type.
CREATE TABLE grants (
    id                 TEXT PRIMARY KEY,
    aid                TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    client_pk          TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    audience           TEXT NOT NULL,
    grant_type         TEXT NOT NULL,
    scopes             TEXT NOT NULL DEFAULT '[]',
    oidc_authority     TEXT NOT NULL DEFAULT '',
    oidc_client_id     TEXT NOT NULL DEFAULT '',
    oidc_client_secret BYTEA,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    CONSTRAINT grants_client_audience_type_key UNIQUE (client_pk, audience, grant_type)
);
CREATE INDEX grants_aid_id_idx ON grants (aid, id);

-- Customers: end users. email_norm is the lower-cased NFC form; search runs on byte order.
CREATE TABLE customers (
    id              TEXT PRIMARY KEY,
    aid             TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    email           TEXT,
    email_norm      TEXT COLLATE "C",
    phone_number    TEXT COLLATE "C",
    name            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    email_verified  BOOLEAN NOT NULL DEFAULT FALSE,
    scopes          TEXT NOT NULL DEFAULT '[]',
    metadata        TEXT NOT NULL DEFAULT '{}',
    password_hash   TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT customers_email_key UNIQUE (aid, type, email_norm),
    CONSTRAINT customers_phone_key UNIQUE (aid, type, phone_number)
);
CREATE INDEX customers_aid_id_idx ON customers (aid, id);
CREATE INDEX customers_aid_email_idx ON customers (aid, email_norm, id);
CREATE INDEX customers_aid_phone_idx ON customers (aid, phone_number, id);

-- Refresh tokens: only keyed hashes. Times are Unix milliseconds (0 = not set), compared in SQL.
CREATE TABLE refresh_tokens (
    id            TEXT PRIMARY KEY,
    aid           TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    family_id     TEXT NOT NULL,
    hash          BYTEA NOT NULL,
    client_id     TEXT NOT NULL,
    customer_id   TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    audience      TEXT NOT NULL,
    scopes        TEXT NOT NULL DEFAULT '',
    created_ms    BIGINT NOT NULL,
    idle_until_ms BIGINT NOT NULL,
    until_ms      BIGINT NOT NULL,
    rotated_ms    BIGINT NOT NULL DEFAULT 0,
    revoked_ms    BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT refresh_tokens_hash_key UNIQUE (hash)
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_customer_idx ON refresh_tokens (customer_id);
CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (idle_until_ms);

-- Single-use verification codes (password reset, invitations): keyed hashes only.
CREATE TABLE verification_codes (
    id          TEXT PRIMARY KEY,
    aid         TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    code_hash   BYTEA NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    used_ms     BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT verification_codes_code_key UNIQUE (aid, code_hash)
);
CREATE INDEX verification_codes_customer_idx ON verification_codes (customer_id);
CREATE INDEX verification_codes_expiry_idx ON verification_codes (expires_ms);

-- Failed-login counters per identifier and per client address (keys are keyed hashes).
CREATE TABLE login_throttle (
    aid             TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    failures        INTEGER NOT NULL,
    lockouts        INTEGER NOT NULL DEFAULT 0,
    locked_until_ms BIGINT NOT NULL DEFAULT 0,
    updated_ms      BIGINT NOT NULL,
    PRIMARY KEY (aid, key)
);
CREATE INDEX login_throttle_updated_idx ON login_throttle (updated_ms);

-- Access tokens revoked before they expire (RFC 7009), kept until they would have expired.
CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    aid        TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expiry_idx ON revoked_tokens (expires_ms);

-- +goose Down
DROP TABLE revoked_tokens;
DROP TABLE login_throttle;
DROP TABLE verification_codes;
DROP TABLE refresh_tokens;
DROP TABLE customers;
DROP TABLE grants;
