package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// enqueue inserts m (if not nil) into the outbox in the caller's transaction, so the message
// exists exactly when the change it reports does. It sets m.ID, stamps m.CreatedAt if the
// caller left it zero, and makes a zero NextAttemptAt "at once".
func enqueue(ctx context.Context, tx *sql.Tx, m *hmisauth.Message) error {
	if m == nil {
		return nil
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = sqlstore.Now()
	}
	if m.NextAttemptAt.IsZero() {
		m.NextAttemptAt = m.CreatedAt
	}
	return tx.QueryRowContext(ctx, `
		INSERT INTO outbox (site, kind, to_addr, subject, text_body, html_body, message_id,
			created_at, discard_after, attempts, next_attempt_at, last_error, sent_at, abandoned_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		RETURNING id`,
		m.Site, m.Kind, m.To, m.Subject, m.Text, m.HTML, m.MessageID,
		timeArg(m.CreatedAt), timeArg(m.DiscardAfter), m.Attempts, timeArg(m.NextAttemptAt), m.LastError,
		timeArg(m.SentAt), timeArg(m.AbandonedAt),
	).Scan(&m.ID)
}

const messageColumns = `id, site, kind, to_addr, subject, text_body, html_body, message_id,
	created_at, discard_after, attempts, next_attempt_at, last_error, sent_at, abandoned_at,
	leased_until`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanMessage(row scanner) (*hmisauth.Message, error) {
	m := new(hmisauth.Message)
	err := row.Scan(&m.ID, &m.Site, &m.Kind, &m.To, &m.Subject, &m.Text, &m.HTML, &m.MessageID,
		timeCol{&m.CreatedAt}, timeCol{&m.DiscardAfter}, &m.Attempts, timeCol{&m.NextAttemptAt},
		&m.LastError, timeCol{&m.SentAt}, timeCol{&m.AbandonedAt}, timeCol{&m.LeasedUntil})
	return m, err
}

func scanMessages(rows *sql.Rows, err error) ([]*hmisauth.Message, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hmisauth.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// messageExists tells why a report changed nothing: the message is unknown (ENOTFOUND), or
// the lease the report named is no longer the message's (ECONFLICT).
func messageExists(ctx context.Context, id int64) func(q queryer) error {
	return func(q queryer) error {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE id = $1`, id).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return sqlstore.NoMessage()
		case err != nil:
			return err
		}
		return sqlstore.MailLeaseLost()
	}
}

// reportMail runs a report (MailSent, MailFailed, AbandonMail) on m, which changes the message
// only WHERE the claim that returned m is still its lease: id, attempts and leased_until as
// claimed (the query's parameters $1, $2 and $3, before args). Each claim counts an
// attempt, so the three name one claim even if a later one ended at the same microsecond; a
// new claim is made only once the lease has run out, and moves both; and every report ends the
// lease (leased_until = NULL), so a second report on it matches nothing. A worker whose
// lease ran out therefore cannot overwrite the result of the worker that claimed the message
// after it, while one whose lease ran out unclaimed still records what it did. The report is
// one statement (on the pool, without the write lock, unless ctx carries events): if a claim
// has the row locked, it waits for that claim to commit and then checks its WHERE again on the
// new row, whose attempts and lease have moved, so it matches nothing.
func (s *Store) reportMail(ctx context.Context, m *hmisauth.Message, query string, args ...any) error {
	if m == nil {
		return errors.New("no message")
	}
	args = append([]any{m.ID, m.Attempts, timeArg(m.LeasedUntil)}, args...)
	_, err := s.once(ctx, messageExists(ctx, m.ID), query, args...)
	return err
}

// EnqueueMail queues a message on its own and sets m.ID.
func (s *Store) EnqueueMail(ctx context.Context, m *hmisauth.Message) (err error) {
	defer wrap(&err, "enqueue mail")
	if m == nil {
		return errors.New("no message")
	}
	return s.write(ctx, func(tx *sql.Tx) error { return enqueue(ctx, tx, m) })
}

// claimMail leases the due messages in one statement, run on the pool without the write lock
// (unless ctx carries events). The subquery locks the rows it picks FOR UPDATE, and SKIP
// LOCKED passes over rows another claim (or report) has locked, so parallel claims in any
// process neither wait for each other nor pick the same row. A row that another claim leased
// and committed after this statement began is checked again on its new version when it is
// locked (READ COMMITTED), and dropped as leased. The lock is held until the lease is written,
// in the same statement.
const claimMail = `
	UPDATE outbox SET leased_until = $1, attempts = attempts + 1
	WHERE id IN (
		SELECT id FROM outbox
		WHERE sent_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= $2
			AND (leased_until IS NULL OR leased_until <= $2)
		ORDER BY next_attempt_at, id
		LIMIT $3
		FOR UPDATE SKIP LOCKED)
	RETURNING ` + messageColumns

// ClaimMail leases up to limit due messages until now+lease and returns them in due order,
// with Attempts counting this one and LeasedUntil the lease's end as stored.
func (s *Store) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) (_ []*hmisauth.Message, err error) {
	defer wrap(&err, "claim mail")
	if lease <= 0 {
		return nil, errors.New("the lease must be positive")
	}
	if limit <= 0 {
		return nil, nil
	}
	var ms []*hmisauth.Message
	err = s.exec(ctx, func(w dbtx) (err error) {
		ms, err = scanMessages(w.QueryContext(ctx, claimMail, timeArg(now.Add(lease)), timeArg(now), limit))
		return err
	})
	if err != nil {
		return nil, err
	}
	// RETURNING gives rows in no particular order.
	slices.SortFunc(ms, func(a, b *hmisauth.Message) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return ms, nil
}

// MailSent records delivery and ends the lease. The body (which may hold a reset link) is
// erased unless keepBody.
func (s *Store) MailSent(ctx context.Context, m *hmisauth.Message, at time.Time, keepBody bool) (err error) {
	defer wrap(&err, "mail sent")
	return s.reportMail(ctx, m, `
		UPDATE outbox SET sent_at = $4, leased_until = NULL,
			text_body = CASE WHEN $5::boolean THEN text_body ELSE '' END,
			html_body = CASE WHEN $5::boolean THEN html_body ELSE '' END
		WHERE id = $1 AND attempts = $2 AND leased_until = $3`, timeArg(at), keepBody)
}

// MailFailed records a failed attempt and when to try again, and ends the lease so the retry
// is due at next even if the lease would have run longer.
func (s *Store) MailFailed(ctx context.Context, m *hmisauth.Message, next time.Time, reason string) (err error) {
	defer wrap(&err, "mail failed")
	return s.reportMail(ctx, m, `
		UPDATE outbox SET last_error = $4, next_attempt_at = $5, leased_until = NULL
		WHERE id = $1 AND attempts = $2 AND leased_until = $3`, reason, timeArg(next))
}

// AbandonMail gives up on a message and erases its body. An empty reason keeps the last error.
func (s *Store) AbandonMail(ctx context.Context, m *hmisauth.Message, at time.Time, reason string) (err error) {
	defer wrap(&err, "abandon mail")
	return s.reportMail(ctx, m, `
		UPDATE outbox SET abandoned_at = $4,
			last_error = CASE WHEN $5::text = '' THEN last_error ELSE $5::text END,
			text_body = '', html_body = '', leased_until = NULL
		WHERE id = $1 AND attempts = $2 AND leased_until = $3`, timeArg(at), reason)
}

// RecentMail lists up to limit messages, newest first, whatever their state.
func (s *Store) RecentMail(ctx context.Context, limit int) (_ []*hmisauth.Message, err error) {
	defer wrap(&err, "recent mail")
	if limit <= 0 {
		return nil, nil
	}
	return scanMessages(s.db.QueryContext(ctx,
		`SELECT `+messageColumns+` FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1`, limit))
}
