-- 2-step verification and session control: the authenticator app, recovery codes and passkeys
-- of each user, the browsers they asked not to be asked the second step on, sign-ins waiting
-- for their second step, and why a session was ended early (for its browser to be told).
-- Secrets are stored sealed by the server's key, tokens and codes only as hashes.

-- +goose Up
-- One row per user who began setting up an app. secret is the one in use (NULL until an
-- enrolment is confirmed); pending is an enrolment shown but not yet confirmed, so a new phone
-- replaces the old one only once its first code is right. last_step is the newest accepted
-- time step: a code is accepted once (UPDATE … WHERE last_step < ?), and no older one after it.
CREATE TABLE totp (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BLOB,
    confirmed_at INTEGER,
    last_step    INTEGER NOT NULL DEFAULT 0,
    pending      BLOB,
    pending_at   INTEGER
) STRICT;

-- A code is spent by one conditional update (used_at IS NULL), so it works once.
CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

CREATE INDEX recovery_codes_user ON recovery_codes (user_id, code_hash);

-- credential is the WebAuthn library's record (public key, sign count), kept as given.
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BLOB NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    credential    BLOB,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
) STRICT;

-- Every lookup of a user asks whether it has a passkey.
CREATE INDEX passkeys_user ON passkeys (user_id);

CREATE TABLE remembered_devices (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    user_agent TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX remembered_devices_user ON remembered_devices (user_id);
CREATE INDEX remembered_devices_expires ON remembered_devices (expires_at);

-- A sign-in whose password was right, waiting for its second step. Completing it deletes the
-- row (DELETE … WHERE id = ?), so of parallel completions exactly one goes on.
CREATE TABLE login_challenges (
    id          INTEGER PRIMARY KEY,
    site        TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    client_addr TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    webauthn    BLOB
) STRICT;

CREATE INDEX login_challenges_user ON login_challenges (user_id);
CREATE INDEX login_challenges_expires ON login_challenges (expires_at);

-- Why a session was ended before its time, by the hash of its (dead) token: written in the
-- transaction that deletes the session, kept for hmisauth.SessionEndKept. A sign-out or a
-- time-out leaves no row.
CREATE TABLE session_ends (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason     TEXT NOT NULL CHECK (reason <> ''),
    ended_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX session_ends_user ON session_ends (user_id);
CREATE INDEX session_ends_ended ON session_ends (ended_at);

-- +goose Down
DROP TABLE session_ends;
DROP TABLE login_challenges;
DROP TABLE remembered_devices;
DROP TABLE passkeys;
DROP TABLE recovery_codes;
DROP TABLE totp;
