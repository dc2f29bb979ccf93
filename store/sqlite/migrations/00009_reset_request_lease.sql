-- "Forgot password" requests are leased, not taken: a worker claims a request until
-- leased_until (microseconds; NULL: no worker holds it) and deletes it only once it has been
-- handled, so a request whose worker died is handled when the lease ends instead of lost.
-- No index: the claim walks the queue in id order (the primary key) and passes over at most
-- the few requests the workers hold, since handled requests are deleted.

-- +goose Up
ALTER TABLE reset_requests ADD COLUMN leased_until INTEGER;

-- +goose Down
ALTER TABLE reset_requests DROP COLUMN leased_until;
