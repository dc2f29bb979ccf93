-- The policy each site was last started with (SQLite 00015_site_policy): hmisauth.PolicySnapshot's
-- JSON, so a start with a different one is recorded as a policy_changed audit event
-- (Store.RecordPolicy). One conditional update (policy <> the new one) decides under the row
-- lock, so of several servers starting at once one records the change. '' is "none recorded".

-- +goose Up
ALTER TABLE sites ADD COLUMN policy TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sites DROP COLUMN policy;
