package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

// appendEvents appends evs to the audit log in tx, chaining each to the one before by
// hmisauth.EventHash, and sets each event's ID, PrevHash and Hash (and At, to the stored
// precision, stamping now when zero). The chain head is read inside tx, which holds the write
// lock (writeEvents took it first), so no other writer, in this process or another, can append
// between the read and the inserts; each event's id is the head's plus one, so ids follow the
// chain without gaps. Were the lock ever bypassed, the primary key and the UNIQUE prev_hash
// would refuse the second of two appends after one head, instead of forking the chain.
func (s *Store) appendEvents(ctx context.Context, tx *sql.Tx, evs []*hmisauth.Event) (err error) {
	if len(evs) == 0 {
		return nil
	}
	if err := sqlstore.CheckNewEvents(evs); err != nil {
		return err
	}
	// From here on a failure leaves the events as they came: the transaction rolls back.
	defer func() {
		if err != nil {
			sqlstore.ForgetEvents(evs)
		}
	}()
	var prev []byte
	var head int64
	err = tx.QueryRowContext(ctx, chainHead).Scan(&head, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("append events: read the chain head: %w", err)
	}
	for _, ev := range evs {
		sqlstore.StampAt(ev)
		ev.PrevHash = prev
		ev.Hash = hmisauth.EventHash(prev, ev)
		head++
		var agency, actorAgency sql.NullInt64
		err := tx.QueryRowContext(ctx, insertEvent,
			head, ev.Site, ev.At, ev.Actor, ev.Subject, hmisauth.UsernameKey(ev.Subject), ev.Action,
			ev.ClientAddr, ev.Detail, prev, ev.Hash, ev.AgencyID, hmisauth.UsernameKey(ev.Actor),
		).Scan(&agency, &actorAgency)
		ev.AgencyID, ev.ActorAgencyID = agency.Int64, actorAgency.Int64
		if err != nil {
			return fmt.Errorf("append events: %w", err)
		}
		ev.ID = head
		prev = ev.Hash
	}
	return nil
}

// The statements appendEvents runs. An event's agency is the one the caller gave, else its
// subject account's, and its actor's agency the actor account's, each as they are now
// (agency_id is outside the hash: see hmisauth.Event).
const (
	chainHead   = `SELECT id, hash FROM events ORDER BY id DESC LIMIT 1`
	insertEvent = `
		INSERT INTO events (id, site, at, actor, subject, subject_key, action, client_addr, detail, prev_hash, hash,
			agency_id, actor_agency_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
			coalesce(nullif($12::bigint, 0), (SELECT agency_id FROM users WHERE site = $2 AND username_key = $6 AND $6 <> '')),
			(SELECT agency_id FROM users WHERE site = $2 AND username_key = $13 AND $13 <> ''))
		RETURNING agency_id, actor_agency_id`
)

// AppendEvents appends evs, then the events ctx carries, in one transaction.
func (s *Store) AppendEvents(ctx context.Context, evs ...*hmisauth.Event) (err error) {
	defer wrap(&err, "append events")
	all := append(evs[:len(evs):len(evs)], hmisauth.EventsOf(ctx)...)
	if len(all) == 0 {
		return nil
	}
	return s.writeEvents(ctx, all, func(*sql.Tx) error { return nil })
}

const eventColumns = `id, site, at, actor, subject, action, client_addr, detail, prev_hash, hash,
	coalesce(agency_id, 0), coalesce(actor_agency_id, 0)`

func scanEvent(row scanner) (*hmisauth.Event, error) {
	ev := new(hmisauth.Event)
	err := row.Scan(&ev.ID, &ev.Site, timeCol{&ev.At}, &ev.Actor, &ev.Subject, &ev.Action,
		&ev.ClientAddr, &ev.Detail, &ev.PrevHash, &ev.Hash, &ev.AgencyID, &ev.ActorAgencyID)
	return ev, err
}

func scanEvents(rows *sql.Rows, err error) ([]*hmisauth.Event, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*hmisauth.Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}

// Events lists audit events matching q, newest (highest ID) first.
func (s *Store) Events(ctx context.Context, q hmisauth.EventQuery) (_ []*hmisauth.Event, err error) {
	defer wrap(&err, "events")
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.Site != "" {
		add("site = $%d", q.Site)
	}
	if q.Subject != "" {
		add("subject_key = $%d", hmisauth.UsernameKey(q.Subject))
	}
	if q.Actor != "" {
		add("actor = $%d", q.Actor)
	}
	if q.Action != "" {
		add("action = $%d", q.Action)
	}
	if q.AgencyID != 0 {
		args = append(args, q.AgencyID)
		where = append(where, fmt.Sprintf("(agency_id = $%d OR actor_agency_id = $%d)", len(args), len(args)))
	}
	if !q.Since.IsZero() {
		add("at >= $%d", timeArg(q.Since))
	}
	if !q.Until.IsZero() {
		add("at < $%d", timeArg(q.Until))
	}
	if q.BeforeID > 0 {
		add("id < $%d", q.BeforeID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = sqlstore.DefaultEvents
	}
	query := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)+1)
	return scanEvents(s.db.QueryContext(ctx, query, append(args, min(limit, sqlstore.MaxEvents))...))
}

// EachEvent calls fn for every event in ID order. It reads a batch at a time and calls fn
// between reads, so memory stays flat however long the log, and a slow fn (an export piped
// to another program) holds no transaction open (which would keep VACUUM from its work).
// Events appended meanwhile are visited too: they only ever come after the last one.
// fn's own error is returned as it is.
func (s *Store) EachEvent(ctx context.Context, fn func(*hmisauth.Event) error) error {
	var after int64
	for {
		batch, err := scanEvents(s.db.QueryContext(ctx,
			`SELECT `+eventColumns+` FROM events WHERE id > $1 ORDER BY id LIMIT $2`, after, sqlstore.EachBatch))
		if err != nil {
			return fmt.Errorf("postgres: each event: %w", unavailable(err))
		}
		for _, ev := range batch {
			if err := fn(ev); err != nil {
				return err
			}
		}
		if len(batch) < sqlstore.EachBatch {
			return nil
		}
		after = batch[len(batch)-1].ID
	}
}
