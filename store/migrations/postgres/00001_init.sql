-- +goose Up
CREATE TABLE accounts (
    aid        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE scopes (
    id           TEXT PRIMARY KEY,
    aid          TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    service_name TEXT NOT NULL,
    audience     TEXT NOT NULL,
    scope        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    builtin      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT scopes_aid_scope_key UNIQUE (aid, scope)
);
CREATE INDEX scopes_aid_id_idx ON scopes (aid, id);

CREATE TABLE clients (
    id                        TEXT PRIMARY KEY,
    aid                       TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    client_id                 TEXT NOT NULL,
    kind                      TEXT NOT NULL,
    name                      TEXT NOT NULL,
    description               TEXT NOT NULL DEFAULT '',
    redirect_uris             TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    rate_per_minute           INTEGER,
    rate_burst                INTEGER,
    created_at                TIMESTAMPTZ NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL,
    CONSTRAINT clients_aid_client_id_key UNIQUE (aid, client_id),
    CONSTRAINT clients_aid_kind_name_key UNIQUE (aid, kind, name)
);
CREATE INDEX clients_aid_kind_id_idx ON clients (aid, kind, id);

CREATE TABLE client_scopes (
    client_pk TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope_id  TEXT NOT NULL REFERENCES scopes (id),
    position  INTEGER NOT NULL,
    PRIMARY KEY (client_pk, scope_id)
);
CREATE INDEX client_scopes_scope_id_idx ON client_scopes (scope_id);

CREATE TABLE client_secrets (
    id           TEXT PRIMARY KEY,
    client_pk    TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    hash         BYTEA NOT NULL,
    hint         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    CONSTRAINT client_secrets_hash_key UNIQUE (hash)
);
CREATE INDEX client_secrets_client_pk_idx ON client_secrets (client_pk, id);

CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    aid          TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    alg          TEXT NOT NULL,
    private_key  BYTEA NOT NULL,
    public_jwk   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    activates_at TIMESTAMPTZ NOT NULL,
    retires_at   TIMESTAMPTZ
);
CREATE INDEX signing_keys_aid_idx ON signing_keys (aid, activates_at);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE client_secrets;
DROP TABLE client_scopes;
DROP TABLE clients;
DROP TABLE scopes;
DROP TABLE accounts;
