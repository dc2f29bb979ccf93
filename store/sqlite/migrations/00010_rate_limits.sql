-- Attempts counted per client address for the rate limits (auth/ratelimit.go): failed
-- sign-ins, and reset links that do not work, in fixed windows (window_start and window_end in
-- microseconds, aligned to multiples of the window's length from the Unix epoch, as
-- rate_limits). attempts counts them and subjects the distinct address_attempt_subjects of
-- the window: digests of the usernames tried, so that one address trying many usernames
-- (password spraying) is seen whether or not the accounts exist, and no username is kept.
-- An attempt is counted before it is decided and given back if it was no guess (a sign-in
-- that succeeded), so a subject's count may drop to 0: its row is then deleted.

-- +goose Up
CREATE TABLE address_attempts (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    subjects     INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
) STRICT, WITHOUT ROWID;

CREATE INDEX address_attempts_end ON address_attempts (window_end);

CREATE TABLE address_attempt_subjects (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    subject      TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    PRIMARY KEY (key, window_start, subject),
    FOREIGN KEY (key, window_start) REFERENCES address_attempts (key, window_start) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE address_attempt_subjects;
DROP TABLE address_attempts;
