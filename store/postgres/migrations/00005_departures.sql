-- Departures (hmisauth.Departure; SQLite 00013_departures): why an account was disabled, the
-- day its agency reported it and who disabled it, kept with the disable in one transaction
-- (Store.Disable) so the monitoring pack can show how fast departures were acted on. One row
-- per disabled account: enabling the account deletes it, and it goes with its user.

-- +goose Up
CREATE TABLE departures (
    user_id     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    reason      TEXT NOT NULL,
    reported_on DATE,
    disabled_by TEXT NOT NULL
);

-- +goose Down
DROP TABLE departures;
