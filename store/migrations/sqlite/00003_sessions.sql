-- +goose Up
-- Browser sessions (single sign-on); only a keyed hash of the cookie value is stored.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    aid           TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    hash          BLOB NOT NULL,
    customer_id   TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    auth_time_ms  INTEGER NOT NULL,
    idle_until_ms INTEGER NOT NULL,
    until_ms      INTEGER NOT NULL,
    CONSTRAINT sessions_hash_key UNIQUE (hash)
);
CREATE INDEX sessions_customer_idx ON sessions (customer_id);
CREATE INDEX sessions_expiry_idx ON sessions (idle_until_ms);

-- Authorization codes (60 s, single use); what they issued is kept to revoke it on replay.
CREATE TABLE auth_codes (
    id             TEXT PRIMARY KEY,
    aid            TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    hash           BLOB NOT NULL,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    customer_id    TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    session_id     TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    audience       TEXT NOT NULL,
    nonce          TEXT NOT NULL DEFAULT '',
    code_challenge TEXT NOT NULL DEFAULT '',
    auth_time_ms   INTEGER NOT NULL,
    expires_ms     INTEGER NOT NULL,
    used_ms        INTEGER NOT NULL DEFAULT 0,
    family_id      TEXT NOT NULL DEFAULT '',
    access_jti     TEXT NOT NULL DEFAULT '',
    access_exp_ms  INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT auth_codes_hash_key UNIQUE (hash)
);
CREATE INDEX auth_codes_expiry_idx ON auth_codes (expires_ms);

-- +goose Down
DROP TABLE auth_codes;
DROP TABLE sessions;
