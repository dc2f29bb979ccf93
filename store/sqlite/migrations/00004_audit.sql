-- The audit log: who did what to whom, when and from where. Append-only and hash-chained:
-- hash is hmisauth.EventHash(prev_hash, the row's fields), and prev_hash is the hash of the
-- row before it by id (NULL for the first), so an edited, deleted or reordered row breaks the
-- chain (hmisauth audit verify). Rows are appended in the transaction of the change they
-- record, under the write lock, so ids follow the chain with no gaps.

-- +goose Up
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    site        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    subject_key TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    client_addr TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    prev_hash   BLOB,
    hash        BLOB NOT NULL
) STRICT;

-- The audit page lists a site's events newest first, filtered by user, actor, action or date.
-- Every index here costs each sign-in an insert, so there is one per filter and no more.
CREATE INDEX events_site ON events (site, id);
CREATE INDEX events_subject ON events (subject_key, id);
CREATE INDEX events_actor ON events (actor, id);
CREATE INDEX events_action ON events (action, id);
CREATE INDEX events_at ON events (at);

-- +goose Down
DROP TABLE events;
