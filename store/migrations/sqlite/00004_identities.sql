-- +goose Up
-- Upstream identities (authority + subject) linked to customers, for upstream OIDC login.
CREATE TABLE external_identities (
    aid         TEXT NOT NULL REFERENCES accounts (aid) ON DELETE CASCADE,
    authority   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (aid, authority, subject)
);
CREATE INDEX external_identities_customer_idx ON external_identities (customer_id);

-- +goose Down
DROP TABLE external_identities;
