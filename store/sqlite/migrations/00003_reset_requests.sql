-- "Forgot password" requests wait here for the background to turn them into links and
-- e-mails, so the request itself is one identical insert whoever the username belongs to.

-- +goose Up
CREATE TABLE reset_requests (
    id          INTEGER PRIMARY KEY,
    site        TEXT NOT NULL,
    username    TEXT NOT NULL,
    client_addr TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE reset_requests;
