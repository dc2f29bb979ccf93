-- Reminders the daily jobs send (or record) once: a license or agreement about to expire, an
-- account found inactive. (kind, target_id, due) is the reminder's identity: a renewed license
-- or agreement, or a new spell of inactivity, has a new due and is reminded anew. The row is
-- inserted in the same transaction as the e-mails it queues, so a reminder is sent exactly once
-- however many server processes run the job.

-- +goose Up
CREATE TABLE reminders (
    site      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    due       TEXT NOT NULL,
    at        INTEGER NOT NULL,
    PRIMARY KEY (kind, target_id, due)
) STRICT;

-- +goose Down
DROP TABLE reminders;
