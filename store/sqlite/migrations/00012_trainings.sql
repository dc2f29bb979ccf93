-- Completed trainings (hmisauth.TrainingRecord): one row per completion, never replaced, so a
-- yearly training keeps one row a year and a monitor sees the history. The newest completion
-- of a kind is what the training gate counts. completed_on is a date ('YYYY-MM-DD').

-- +goose Up
CREATE TABLE trainings (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    recorded_by  TEXT NOT NULL DEFAULT '',
    recorded_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX trainings_user ON trainings (user_id, completed_on);

-- +goose Down
DROP TABLE trainings;
