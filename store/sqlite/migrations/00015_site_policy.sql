-- The policy each site was last started with (hmisauth.PolicySnapshot's JSON), so a start
-- with a different one is recorded as a policy_changed audit event (Store.RecordPolicy). One
-- conditional update (policy <> the new one) decides, so of several servers starting at
-- once one records the change. '' is "none recorded yet".

-- +goose Up
ALTER TABLE sites ADD COLUMN policy TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sites DROP COLUMN policy;
