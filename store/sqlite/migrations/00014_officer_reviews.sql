-- Agency security officers and access-log reviews (issue 15).
--
-- users.security_officer marks an agency admin as their agency's security officer; only an
-- agency admin may be one.
--
-- events.agency_id is the agency an event concerns (its subject's, when the subject is an
-- account), events.actor_agency_id the actor's: they scope a security officer's audit view.
-- They are outside the hash chain (hmisauth.EventHash covers neither), so every event logged
-- before them still verifies. Events already logged get them from today's accounts, the best
-- record there is of whose they were; new events get them as they are appended.
--
-- log_reviews are reviewers' sign-offs: "reviewed the access log from D1 to D2" with findings
-- and follow-up, for the site (agency_id NULL) or an agency.

-- +goose Up
ALTER TABLE users ADD COLUMN security_officer INTEGER NOT NULL DEFAULT 0
    CHECK (security_officer IN (0, 1) AND (security_officer = 0 OR role = 'agency_admin'));

ALTER TABLE events ADD COLUMN agency_id INTEGER;
ALTER TABLE events ADD COLUMN actor_agency_id INTEGER;

UPDATE events SET
    agency_id = (SELECT u.agency_id FROM users u WHERE u.site = events.site AND u.username_key = events.subject_key),
    actor_agency_id = (SELECT u.agency_id FROM users u WHERE u.site = events.site AND u.username_key = lower(trim(events.actor)));

-- An officer's audit page lists the agency's events newest first; most events (sysadmins',
-- visitors') have no agency, so the indexes leave those out.
CREATE INDEX events_agency ON events (agency_id, id) WHERE agency_id IS NOT NULL;
CREATE INDEX events_actor_agency ON events (actor_agency_id, id) WHERE actor_agency_id IS NOT NULL;

CREATE TABLE log_reviews (
    id         INTEGER PRIMARY KEY,
    site       TEXT NOT NULL,
    agency_id  INTEGER REFERENCES agencies (id),
    reviewer   TEXT NOT NULL,
    from_date  TEXT NOT NULL,
    to_date    TEXT NOT NULL CHECK (to_date >= from_date),
    findings   TEXT NOT NULL DEFAULT '',
    follow_up  TEXT NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
) STRICT;

CREATE INDEX log_reviews_agency ON log_reviews (agency_id, at);
CREATE INDEX log_reviews_site ON log_reviews (site, at);

-- +goose Down
DROP TABLE log_reviews;
DROP INDEX events_actor_agency;
DROP INDEX events_agency;
ALTER TABLE events DROP COLUMN actor_agency_id;
ALTER TABLE events DROP COLUMN agency_id;
ALTER TABLE users DROP COLUMN security_officer;
