-- Refused requests counted in windows instead of logged one by one (a flood of sign-ins on a
-- locked username, of dropped "forgot password" requests): the audit log gets the first
-- refusal of a window as an event and the rest as one summary event when the window closes.
-- A window is (site, kind, key, window_start); count is the refusals after the first, and
-- refusal_values the distinct addresses or usernames among them (at most 100 a window).

-- +goose Up
CREATE TABLE refusals (
    id           INTEGER PRIMARY KEY,
    site         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    subject      TEXT NOT NULL,
    count        INTEGER NOT NULL DEFAULT 0,
    first_at     INTEGER,
    last_at      INTEGER,
    UNIQUE (site, kind, key, window_start)
) STRICT;

CREATE INDEX refusals_end ON refusals (window_end);

CREATE TABLE refusal_values (
    refusal_id INTEGER NOT NULL REFERENCES refusals (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (refusal_id, value)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE refusal_values;
DROP TABLE refusals;
