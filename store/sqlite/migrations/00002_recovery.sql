-- Self-service recovery: password-reset tokens, the durable e-mail outbox, rate-limit windows
-- shared by every server process, and the password-expiry warning already sent per password.

-- +goose Up
-- At most one live token per user: a new one deletes the older ones (a newer link supersedes
-- them), and any password change deletes them all. Only the SHA-256 of the token is kept.
CREATE TABLE reset_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site       TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

CREATE INDEX reset_tokens_user ON reset_tokens (user_id);

-- Each message is written in the transaction of the change it reports, then delivered by the
-- outbox worker. leased_until is a worker's claim: until then no other worker takes it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    site            TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL DEFAULT '',
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',
    text_body       TEXT NOT NULL DEFAULT '',
    html_body       TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    discard_after   INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         INTEGER,
    abandoned_at    INTEGER,
    leased_until    INTEGER
) STRICT;

-- Claiming reads only the pending messages, in due order; delivered ones drop out of it.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX outbox_created ON outbox (created_at, id);

-- One row per key and fixed window. window_end lets ended windows be deleted whatever their
-- length, so the table holds only the windows still counting.
CREATE TABLE rate_limits (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
) STRICT, WITHOUT ROWID;

CREATE INDEX rate_limits_end ON rate_limits (window_end);

-- The password_changed_at of the password the user was last warned about: a new password
-- gets its own warning.
ALTER TABLE users ADD COLUMN expiry_warned_for INTEGER;

CREATE INDEX users_password_changed ON users (site, password_changed_at);

-- +goose Down
DROP INDEX users_password_changed;
ALTER TABLE users DROP COLUMN expiry_warned_for;
DROP TABLE rate_limits;
DROP TABLE outbox;
DROP TABLE reset_tokens;
