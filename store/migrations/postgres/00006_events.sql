-- +goose Up
-- The audit trail. No foreign key to accounts: an account's events outlive it until the
-- retention deletes them, so its deletion stays on record.
CREATE TABLE events (
    id             TEXT PRIMARY KEY,
    aid            TEXT NOT NULL,
    type           TEXT NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    outcome        TEXT NOT NULL,
    actor_type     TEXT NOT NULL,
    actor_id       TEXT NOT NULL DEFAULT '',
    actor_aid      TEXT NOT NULL DEFAULT '',
    client_id      TEXT NOT NULL DEFAULT '',
    subject_type   TEXT NOT NULL DEFAULT '',
    subject_id     TEXT NOT NULL DEFAULT '',
    source_address TEXT NOT NULL DEFAULT '',
    request_id     TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_aid_id_idx ON events (aid, id);
CREATE INDEX events_aid_type_id_idx ON events (aid, type, id);
CREATE INDEX events_aid_subject_idx ON events (aid, subject_id, id);
CREATE INDEX events_aid_actor_idx ON events (aid, actor_id, id);
CREATE INDEX events_occurred_at_idx ON events (occurred_at);

-- +goose Down
DROP TABLE events;
