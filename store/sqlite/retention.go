package sqlite

import (
	"context"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// retainBatch is how many rows one retention statement removes. Each statement holds the
// write lock while it runs, and the first run after an upgrade may find years of rows: in
// batches, a sign-in waits for one batch at most, never for the whole clean-up.
const retainBatch = 1000

// The retention statements: ?1 is the site, ?2 the cutoff, ?3 the batch size (unless said
// otherwise). Each picks a batch in its subquery and deletes it in the same statement, under
// the write lock, so nothing changes between the choice and the deletion.
const (
	// A username key with no account on the site: its count and lock protect no one, and
	// CreateUser clears them anyway if the account is made later. Both times must be before
	// the cutoff: a lock set after the last counted guess (the threshold was lowered) counts.
	retainUnknownUsernames = `
		DELETE FROM lockouts WHERE (site, username_key) IN (
			SELECT l.site, l.username_key FROM lockouts l
			WHERE l.site = ?1 AND coalesce(l.last_failed_at, 0) < ?2 AND coalesce(l.locked_at, 0) < ?2
				AND NOT EXISTS (SELECT 1 FROM users u WHERE u.site = l.site AND u.username_key = l.username_key)
			LIMIT ?3)`
	// created_at < ?2 is implied by sent_at < ?2 (a message is sent after it is made) and
	// lets the search use outbox_created instead of reading every message.
	retainSentMail = `
		DELETE FROM outbox WHERE id IN (
			SELECT id FROM outbox WHERE site = ?1 AND created_at < ?2 AND sent_at < ?2 LIMIT ?3)`
	retainAbandonedMail = `
		DELETE FROM outbox WHERE id IN (
			SELECT id FROM outbox WHERE site = ?1 AND created_at < ?2 AND abandoned_at < ?2 LIMIT ?3)`
	retainResetTokens = `
		DELETE FROM reset_tokens WHERE id IN (
			SELECT id FROM reset_tokens WHERE site = ?1 AND (expires_at < ?2 OR used_at < ?2) LIMIT ?3)`
	// Dues start with the date as 'YYYY-MM-DD' text, which sorts as the dates do (a training's
	// adds its kind, an inactivity warning's the time): ?4 to ?7 are the kinds.
	retainReminderDates = `
		DELETE FROM reminders WHERE rowid IN (
			SELECT rowid FROM reminders WHERE site = ?1 AND kind IN (?4, ?5, ?6, ?7) AND due < ?2 LIMIT ?3)`
	// The spell of inactivity a record is about ends when the user signs in or gets a new
	// password after it (inactiveSince moves past the record's Due for good). ?4 is the kind.
	retainInactivity = `
		DELETE FROM reminders WHERE rowid IN (
			SELECT r.rowid FROM reminders r
			WHERE r.site = ?1 AND r.kind = ?4 AND r.at < ?2 AND NOT EXISTS (
				SELECT 1 FROM users u WHERE u.id = r.target_id
					AND coalesce(u.last_login_at, 0) <= r.at AND coalesce(u.password_changed_at, 0) <= r.at)
			LIMIT ?3)`
	// Windows have no site column (their keys name the site): ?1 is the cutoff, ?2 the batch.
	// An ended window never counts again; the next hit or reservation of any key deletes the
	// ended ones too, but a limit no one hits any more would leave its last windows behind.
	retainRateLimits = `
		DELETE FROM rate_limits WHERE (key, window_start) IN (
			SELECT key, window_start FROM rate_limits WHERE window_end <= ?1 LIMIT ?2)`
	// A window's subjects go with it (ON DELETE CASCADE).
	retainAddressAttempts = `
		DELETE FROM address_attempts WHERE (key, window_start) IN (
			SELECT key, window_start FROM address_attempts WHERE window_end <= ?1 LIMIT ?2)`
	// Form tokens have no site column either (their sessions have one): ?1 is the cutoff, ?2
	// the batch. An expired token answers nothing any more.
	retainFormTokens = `
		DELETE FROM form_tokens WHERE id IN (
			SELECT id FROM form_tokens WHERE expires_at <= ?1 LIMIT ?2)`
)

// DeleteRetained removes what c says no one needs any more, kind by kind and batch by batch;
// see hmisauth.Store. Every statement stands alone (it removes only rows no one can use, and
// rechecks that as it removes them), so a failure part-way leaves nothing half done, and two
// processes running it at once remove each row once.
func (s *Store) DeleteRetained(ctx context.Context, c hmisauth.RetentionCutoffs) (n hmisauth.RetentionCounts, err error) {
	defer wrap(&err, "delete retained")
	queries := sqlstore.RetentionQueries{UnknownUsernames: retainUnknownUsernames, SentMail: retainSentMail,
		AbandonedMail: retainAbandonedMail, ResetTokens: retainResetTokens, ReminderDates: retainReminderDates,
		Inactivity: retainInactivity, RateLimits: retainRateLimits, AddressAttempts: retainAddressAttempts,
		FormTokens: retainFormTokens}
	return sqlstore.DeleteRetained(c, queries, retainBatch, micros,
		func(query string, args []any) (int, error) { return s.retainOnce(ctx, query, args) },
		func(removed int) bool {
			return removed == retainBatch
		})
}

// retainOnce runs one retention statement on the writer and counts the rows it removed. It
// appends no events, whatever ctx carries: removing rows no one needs changes nothing anyone
// did, and a batch is not a step anyone took.
func (s *Store) retainOnce(ctx context.Context, query string, args []any) (int, error) {
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	k, err := res.RowsAffected()
	return int(k), err
}
