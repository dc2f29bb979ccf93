package postgres

import (
	"context"
	"fmt"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// retainBatch is how many rows one retention statement removes: a first run after an upgrade
// may find years of rows, and one statement over all of them would hold their row locks (and
// a sign-in guessing at one of those usernames) until it ends.
const retainBatch = 1000

// retainKind is the retention statement of one kind: rows of table, named by their key
// columns, that match where, a batch of at most $limit at a time. where is repeated outside the
// batch's subquery because, at READ COMMITTED, a row another process changed after the
// subquery read it is rechecked only against the outer WHERE: a username guessed again since,
// say, must no longer be deleted.
func retainKind(table, key, where, limit string) string {
	return fmt.Sprintf(`DELETE FROM %[1]s WHERE (%[2]s) IN (SELECT %[2]s FROM %[1]s WHERE %[3]s LIMIT %[4]s) AND %[3]s`,
		table, key, where, limit)
}

// The statements of each kind: $1 is the site, $2 the cutoff, $3 the batch size, then the
// kind's own arguments; the window tables, which have no site, take the cutoff and the batch.
var (
	// A username key with no account on the site: its count and lock protect no one, and
	// CreateUser clears them anyway if the account is made later. Both times must be before
	// the cutoff: a lock set after the last counted guess (the threshold was lowered) counts.
	retainUnknownUsernames = retainKind("lockouts", "site, username_key", `site = $1
		AND coalesce(last_failed_at, '-infinity') < $2 AND coalesce(locked_at, '-infinity') < $2
		AND NOT EXISTS (SELECT 1 FROM users u WHERE u.site = lockouts.site AND u.username_key = lockouts.username_key)`, "$3")
	// created_at < $2 is implied by sent_at < $2 (a message is sent after it is made) and
	// lets the search use outbox_created instead of reading every message.
	retainSentMail      = retainKind("outbox", "id", `site = $1 AND created_at < $2 AND sent_at < $2`, "$3")
	retainAbandonedMail = retainKind("outbox", "id", `site = $1 AND created_at < $2 AND abandoned_at < $2`, "$3")
	retainResetTokens   = retainKind("reset_tokens", "id", `site = $1 AND (expires_at < $2 OR used_at < $2)`, "$3")
	// due is TEXT starting 'YYYY-MM-DD' (a training's adds its kind, an inactivity warning's
	// the time), compared byte by byte (COLLATE "C") so it sorts as the dates do whatever the
	// database's collation. $4 to $7 are the kinds.
	retainReminderDates = retainKind("reminders", "kind, target_id, due",
		`site = $1 AND kind IN ($4, $5, $6, $7) AND due COLLATE "C" < $2::text`, "$3")
	// The spell of inactivity a record is about ends when the user signs in or gets a new
	// password after it (inactiveSince moves past the record's Due for good). $4 is the kind.
	retainInactivity = retainKind("reminders", "kind, target_id, due", `site = $1 AND kind = $4 AND at < $2
		AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = reminders.target_id
			AND coalesce(u.last_login_at, '-infinity') <= reminders.at
			AND coalesce(u.password_changed_at, '-infinity') <= reminders.at)`, "$3")
	// An ended window never counts again; the next hit or reservation of any key deletes the
	// ended ones too, but a limit no one hits any more would leave its last windows behind.
	// A per-address window's subjects go with it (ON DELETE CASCADE).
	retainRateLimits      = retainKind("rate_limits", "key, window_start", `window_end <= $1`, "$2")
	retainAddressAttempts = retainKind("address_attempts", "key, window_start", `window_end <= $1`, "$2")
	// Form tokens have no site column either (their sessions have one). An expired token
	// answers nothing any more.
	retainFormTokens = retainKind("form_tokens", "id", `expires_at <= $1`, "$2")
)

// DeleteRetained removes what c says no one needs any more, kind by kind and batch by batch;
// see hmisauth.Store. Every statement stands alone and rechecks each row as it removes it, so
// a failure part-way leaves nothing half done, and two processes running it at once remove
// each row once (the second waits for the first's row locks, then finds the rows gone).
func (s *Store) DeleteRetained(ctx context.Context, c hmisauth.RetentionCutoffs) (n hmisauth.RetentionCounts, err error) {
	defer wrap(&err, "delete retained")
	queries := sqlstore.RetentionQueries{UnknownUsernames: retainUnknownUsernames, SentMail: retainSentMail,
		AbandonedMail: retainAbandonedMail, ResetTokens: retainResetTokens, ReminderDates: retainReminderDates,
		Inactivity: retainInactivity, RateLimits: retainRateLimits, AddressAttempts: retainAddressAttempts,
		FormTokens: retainFormTokens}
	return sqlstore.DeleteRetained(c, queries, retainBatch, timeArg,
		func(query string, args []any) (int, error) { return s.retainOnce(ctx, query, args) },
		func(removed int) bool {
			// Fewer than a batch: rows of a batch that another process removed first make it come
			// up short while more remain, so only an empty batch ends a kind (and it is cheap).
			return removed > 0
		})
}

// retainOnce runs one retention statement on the pool, without the write lock (one statement
// is atomic by itself), and counts the rows it removed. It appends no events, whatever ctx
// carries: removing rows no one needs changes nothing anyone did.
func (s *Store) retainOnce(ctx context.Context, query string, args []any) (removed int, err error) {
	err = retry(ctx, func() error {
		res, err := s.db.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		removed = int(k)
		return err
	})
	return removed, err
}
