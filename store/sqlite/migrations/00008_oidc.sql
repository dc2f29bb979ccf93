-- The OpenID Connect provider: each user's sub, each session's sid and AMR, the applications
-- (clients) of each site, authorization requests and their codes, access and refresh tokens,
-- which clients each session signed in to, the back-channel logouts owed to them, and the
-- sites' signing keys. Lists (redirect URIs, scopes, AMR) are JSON arrays of strings;
-- durations are INTEGER nanoseconds (time.Duration exactly: a max_age of -1 "not given" must
-- not round to 0 "sign in again"); codes and refresh tokens are kept only as hashes.
--
-- Everything a session gave out goes with it: tokens, client links and finished authorization
-- requests reference sessions (id) ON DELETE CASCADE, so ending a session by any path, a
-- time-out included, leaves no live token, and deleting a user (whose sessions cascade) leaves
-- none either. Authorization requests and client links go with their client the same way.
--
-- Tokens are written at every refresh grant, so their tables carry only the indexes that
-- grant, session ends and the sweep need: each index is one more page written per token.
-- A token is stored only for a client its session signed in to (oidc_session_clients) and
-- with its authorization request's session (the store checks both as it inserts), so the
-- tokens of a client, of a request or of a refresh family are all found through their
-- sessions: DeleteClient removes a client's tokens that way, in its transaction, instead of
-- by a foreign key that would need an index on every token. Tokens keep their request's ID
-- without a foreign key: the request is swept an hour or so after it expires, they live on.

-- +goose Up
-- Random, stable, unique per site: never the username, which an administrator may change.
-- NULL only in a row written by an older binary; every insert now gives one.
ALTER TABLE users ADD COLUMN subject TEXT;
UPDATE users SET subject = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX users_subject ON users (site, subject);

-- sid is the caller's random public identifier of the session (NULL: none, from an older
-- binary or a test); amr a JSON array.
ALTER TABLE sessions ADD COLUMN sid TEXT;
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '[]';

-- name_key is the name as compared (trimmed, lower case): one application of a name per
-- site, so a form sent twice cannot add it twice.
CREATE TABLE oidc_clients (
    site                      TEXT NOT NULL,
    id                        TEXT NOT NULL,
    name                      TEXT NOT NULL,
    name_key                  TEXT NOT NULL,
    home_url                  TEXT NOT NULL DEFAULT '',
    redirect_uris             TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    backchannel_logout_uri    TEXT NOT NULL DEFAULT '',
    public                    INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    secret_hash               BLOB,
    old_secret_hash           BLOB,
    scopes                    TEXT NOT NULL DEFAULT '[]',
    access_token_format       TEXT NOT NULL DEFAULT '',
    access_token_lifetime_ns  INTEGER NOT NULL DEFAULT 0,
    refresh_tokens            INTEGER NOT NULL DEFAULT 0 CHECK (refresh_tokens IN (0, 1)),
    from_config               INTEGER NOT NULL DEFAULT 0 CHECK (from_config IN (0, 1)),
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER,
    PRIMARY KEY (site, id),
    UNIQUE (site, name_key)
) STRICT, WITHOUT ROWID;

-- A request is finished once (done_at set by an UPDATE … WHERE done_at IS NULL), gets one
-- code (code_hash set WHERE code_hash IS NULL), and the code is redeemed once (code_used_at
-- set WHERE code_used_at IS NULL). replayed_at marks a code that came back after: tokens
-- issued from the request are refused from then on.
CREATE TABLE oidc_auth_requests (
    id                    TEXT PRIMARY KEY,
    site                  TEXT NOT NULL,
    client_id             TEXT NOT NULL,
    redirect_uri          TEXT NOT NULL DEFAULT '',
    scopes                TEXT NOT NULL DEFAULT '[]',
    state                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    response_type         TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    prompt                TEXT NOT NULL DEFAULT '[]',
    max_age_ns            INTEGER NOT NULL DEFAULT -1,
    login_hint            TEXT NOT NULL DEFAULT '',
    hint_subject          TEXT NOT NULL DEFAULT '',
    browser_hash          BLOB,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    user_id               INTEGER,
    session_id            INTEGER REFERENCES sessions (id) ON DELETE CASCADE,
    auth_time             INTEGER,
    amr                   TEXT NOT NULL DEFAULT '[]',
    done_at               INTEGER,
    code_hash             BLOB UNIQUE,
    code_used_at          INTEGER,
    replayed_at           INTEGER,
    FOREIGN KEY (site, client_id) REFERENCES oidc_clients (site, id) ON DELETE CASCADE
) STRICT;

-- Each foreign key's child columns are indexed: without, every deleted session (or client)
-- would scan the whole table for its children.
CREATE INDEX oidc_auth_requests_session ON oidc_auth_requests (session_id);
CREATE INDEX oidc_auth_requests_client ON oidc_auth_requests (site, client_id);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests (expires_at);

-- Looked up by ID at every userinfo and introspection: the table is its primary key's b-tree.
-- family is '' for a token refreshed in no family; auth_request_id '' for none. A family's
-- access tokens are found by (session_id, family): a family is one session's.
CREATE TABLE oidc_access_tokens (
    id              TEXT PRIMARY KEY,
    site            TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    user_id         INTEGER NOT NULL,
    session_id      INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    auth_request_id TEXT NOT NULL DEFAULT '',
    family          TEXT NOT NULL DEFAULT '',
    scopes          TEXT NOT NULL DEFAULT '[]',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX oidc_access_tokens_session ON oidc_access_tokens (session_id, family);
-- No index on expires_at: every grant writes here, and the sweep that deletes expired
-- tokens (every few minutes) can afford to read the table.

-- A rotated token stays (rotated_at set) until it expires, so its reuse is recognised and
-- revokes the family.
CREATE TABLE oidc_refresh_tokens (
    hash            BLOB PRIMARY KEY,
    family          TEXT NOT NULL,
    site            TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    user_id         INTEGER NOT NULL,
    session_id      INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    auth_request_id TEXT NOT NULL DEFAULT '',
    scopes          TEXT NOT NULL DEFAULT '[]',
    auth_time       INTEGER,
    amr             TEXT NOT NULL DEFAULT '[]',
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    rotated_at      INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (family);
CREATE INDEX oidc_refresh_tokens_session ON oidc_refresh_tokens (session_id);
-- No index on expires_at either: a refresh token expires with its session, and goes with it.

-- The clients a session signed in to, in the order it first did (first_at, then rowid):
-- whom to tell when it ends.
CREATE TABLE oidc_session_clients (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    site       TEXT NOT NULL,
    first_at   INTEGER NOT NULL,
    PRIMARY KEY (session_id, client_id),
    FOREIGN KEY (site, client_id) REFERENCES oidc_clients (site, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX oidc_session_clients_client ON oidc_session_clients (site, client_id);

-- Back-channel logouts owed, written in the transaction that ends the session, delivered by a
-- worker like the e-mail outbox: lease_until is a worker's claim. A notice keeps what it
-- needs (URI, sub, sid), so it outlives its session, user and client.
CREATE TABLE oidc_logout_notices (
    id              INTEGER PRIMARY KEY,
    site            TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    uri             TEXT NOT NULL,
    subject         TEXT NOT NULL,
    sid             TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         INTEGER,
    abandoned_at    INTEGER
) STRICT;

-- Claiming reads only the pending notices, oldest first; delivered ones drop out of it.
CREATE INDEX oidc_logout_notices_pending ON oidc_logout_notices (created_at, id)
    WHERE sent_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX oidc_logout_notices_created ON oidc_logout_notices (created_at, id);

-- One key per (site, use_from): of processes adding the next key at once, one does.
CREATE TABLE oidc_signing_keys (
    site       TEXT NOT NULL,
    id         TEXT NOT NULL,
    algorithm  TEXT NOT NULL,
    private    BLOB NOT NULL,
    public     BLOB NOT NULL,
    use_from   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (site, id),
    UNIQUE (site, use_from)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE oidc_signing_keys;
DROP TABLE oidc_logout_notices;
DROP TABLE oidc_session_clients;
DROP TABLE oidc_refresh_tokens;
DROP TABLE oidc_access_tokens;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_clients;
ALTER TABLE sessions DROP COLUMN amr;
ALTER TABLE sessions DROP COLUMN sid;
DROP INDEX users_subject;
ALTER TABLE users DROP COLUMN subject;
