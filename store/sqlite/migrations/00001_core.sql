-- The core schema: sites, agencies, users with their lockout state, password history and
-- sessions. Times are INTEGER microseconds since the Unix epoch in UTC, NULL for "never";
-- dates are TEXT 'YYYY-MM-DD', NULL for "not set". Usernames and agency names are compared
-- through their *_key column (trimmed, lower-cased in Go so both backends agree on Unicode).

-- +goose Up
CREATE TABLE sites (
    key  TEXT PRIMARY KEY,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE agencies (
    id              INTEGER PRIMARY KEY,
    site            TEXT NOT NULL,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    seats           INTEGER NOT NULL DEFAULT 0 CHECK (seats >= 0),
    license_starts  TEXT,
    license_expires TEXT,
    created_at      INTEGER NOT NULL,
    UNIQUE (site, name_key)
) STRICT;

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    site                 TEXT NOT NULL,
    username             TEXT NOT NULL,
    username_key         TEXT NOT NULL,
    first_name           TEXT NOT NULL DEFAULT '',
    last_name            TEXT NOT NULL DEFAULT '',
    email                TEXT NOT NULL DEFAULT '',
    phone                TEXT NOT NULL DEFAULT '',
    agency_id            INTEGER REFERENCES agencies (id),
    role                 TEXT NOT NULL DEFAULT 'user'
                         CHECK (role IN ('user', 'agency_admin', 'sysadmin')),
    created_at           INTEGER NOT NULL,
    disabled             INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    disabled_at          INTEGER,
    password_hash        TEXT NOT NULL DEFAULT '',
    password_changed_at  INTEGER,
    password_temporary   INTEGER NOT NULL DEFAULT 0 CHECK (password_temporary IN (0, 1)),
    temporary_used_at    INTEGER,
    must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
    terms_version        INTEGER NOT NULL DEFAULT 0,
    terms_accepted_at    INTEGER,
    last_login_at        INTEGER,
    agreement_signed_on            TEXT,
    agreement_supervisor_signed_on TEXT,
    agreement_director_signed_on   TEXT,
    agreement_expires_on           TEXT,
    recovery_question    TEXT NOT NULL DEFAULT '',
    recovery_answer_hash TEXT NOT NULL DEFAULT '',
    UNIQUE (site, username_key)
) STRICT;

-- Seats in use are counted per agency on every user creation.
CREATE INDEX users_agency ON users (agency_id, disabled) WHERE agency_id IS NOT NULL;
CREATE INDEX users_role ON users (site, role);

CREATE TABLE password_history (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    created_at INTEGER
) STRICT;

CREATE INDEX password_history_user ON password_history (user_id, id);

-- Keyed by (site, username key), not by user: a guess at a username that does not exist is
-- counted exactly like a guess at one that does, so lockouts do not reveal which accounts
-- exist, and a brute force against a name is stopped before the account is even created.
CREATE TABLE lockouts (
    site            TEXT NOT NULL,
    username_key    TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL,
    last_failed_at  INTEGER,
    locked_at       INTEGER,
    PRIMARY KEY (site, username_key)
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    site         TEXT NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   INTEGER,
    last_seen_at INTEGER,
    expires_at   INTEGER,
    reauth_at    INTEGER,
    client_addr  TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE lockouts;
DROP TABLE password_history;
DROP TABLE users;
DROP TABLE agencies;
DROP TABLE sites;
