-- One-time form tokens (hmisauth.FormToken): a form that creates something or shows a secret
-- carries one, so a reload or a double click shows what the first sending did instead of doing
-- it again. Only the token's hash is kept. A token is used by one conditional update
-- (used_at IS NULL), so of parallel sendings one acts; result is what it did, for the others
-- to show. A token goes with its session (ON DELETE CASCADE), and the retention job removes
-- those that expired.

-- +goose Up
CREATE TABLE form_tokens (
    id         INTEGER PRIMARY KEY,
    hash       BLOB NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    result     TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX form_tokens_session ON form_tokens (session_id);
CREATE INDEX form_tokens_expires ON form_tokens (expires_at);

-- +goose Down
DROP TABLE form_tokens;
