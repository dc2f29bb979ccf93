package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// event is an audit event on live at t0+sec whose Detail names what wrote it.
func event(action, subject, detail string, sec int) *hmisauth.Event {
	return &hmisauth.Event{Site: live, At: at(sec), Actor: "helpdesk", Subject: subject, Action: action,
		ClientAddr: "192.0.2.10", Detail: detail}
}

// carrying returns the test's context carrying evs for the next write.
func carrying(t *testing.T, evs ...*hmisauth.Event) context.Context {
	ctx := t.Context()
	for _, ev := range evs {
		ctx = hmisauth.WithEvent(ctx, ev)
	}
	return ctx
}

// allEvents is the whole log in ID order, read through EachEvent.
func allEvents(t *testing.T, s hmisauth.Store) []*hmisauth.Event {
	t.Helper()
	var evs []*hmisauth.Event
	must(t, s.EachEvent(t.Context(), func(ev *hmisauth.Event) error {
		evs = append(evs, ev)
		return nil
	}))
	return evs
}

func details(evs []*hmisauth.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Detail
	}
	return out
}

// wantChain checks the log is one intact chain and returns it: IDs run 1, 2, 3… without a gap
// (so a deleted row shows), the first event follows none, each next one follows the one before
// (no two follow the same), and each Hash is EventHash(PrevHash, the event).
func wantChain(t *testing.T, s hmisauth.Store) []*hmisauth.Event {
	t.Helper()
	evs := allEvents(t, s)
	var prev []byte
	followers := make(map[string]int64)
	for i, ev := range evs {
		if ev.ID != int64(i+1) {
			t.Fatalf("the log's event %d has ID %d: IDs must run 1, 2, 3… in append order", i+1, ev.ID)
		}
		if other, ok := followers[string(ev.PrevHash)]; ok {
			t.Fatalf("events %d and %d both follow the same event (hash %x; empty: the chain's start)", other, ev.ID, ev.PrevHash)
		}
		followers[string(ev.PrevHash)] = ev.ID
		if !bytes.Equal(ev.PrevHash, prev) {
			t.Fatalf("event %d: PrevHash %x, want the previous event's Hash %x", ev.ID, ev.PrevHash, prev)
		}
		if want := hmisauth.EventHash(ev.PrevHash, ev); !bytes.Equal(ev.Hash, want) {
			t.Fatalf("event %d: Hash %x, want EventHash(PrevHash, event) = %x", ev.ID, ev.Hash, want)
		}
		prev = ev.Hash
	}
	return evs
}

func wantDetails(t *testing.T, s hmisauth.Store, want ...string) []*hmisauth.Event {
	t.Helper()
	evs := wantChain(t, s)
	if got := details(evs); !slices.Equal(got, want) {
		t.Fatalf("the log holds %q, want %q", got, want)
	}
	return evs
}

var auditTests = []test{
	{"AWriteAppendsItsEventAsGiven", func(t *testing.T, s hmisauth.Store) {
		ev := event(hmisauth.EventUserCreated, "JDoe", "created by the helpdesk", 1)
		newUserCtx(t, s, carrying(t, ev), "JDoe")
		if ev.ID != 1 || ev.PrevHash != nil || !bytes.Equal(ev.Hash, hmisauth.EventHash(nil, ev)) {
			t.Fatalf("after the first append: ID %d, PrevHash %x, Hash %x", ev.ID, ev.PrevHash, ev.Hash)
		}
		evs := wantDetails(t, s, "created by the helpdesk")
		equal(t, "event", evs[0], ev)
	}},
	{"EveryKindOfWriteCarriesItsEvents", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordTemporary = true })
		sess := newSession(t, s, u, "tok", false)
		m := &hmisauth.Message{Site: live, To: "jdoe@example.org", Subject: "s", Text: "t", CreatedAt: t0}
		must(t, s.EnqueueMail(t.Context(), m))
		writes := []auditedWrite{
			{"CreateUser", func(ctx context.Context) error {
				return s.CreateUser(ctx, &hmisauth.User{Site: live, Username: "bsmith", CreatedAt: t0})
			}},
			{"CreateUsers", func(ctx context.Context) error {
				return s.CreateUsers(ctx, []*hmisauth.User{{Site: live, Username: "csmith", CreatedAt: t0}})
			}},
			{"CreateAgency", func(ctx context.Context) error {
				return s.CreateAgency(ctx, &hmisauth.Agency{Site: live, Name: "Hope House"})
			}},
			{"ReserveLoginAttempt", func(ctx context.Context) error {
				_, err := s.ReserveLoginAttempt(ctx, live, "jdoe", 3, at(1))
				return err
			}},
			{"UseTemporaryPassword", func(ctx context.Context) error { return wantTrue(s.UseTemporaryPassword(ctx, u.ID, at(2))) }},
			{"LoginSucceeded", func(ctx context.Context) error { return s.LoginSucceeded(ctx, u.ID, at(2)) }},
			{"TouchSession", func(ctx context.Context) error { return s.TouchSession(ctx, sess.ID, at(3)) }},
			{"AcceptTerms", func(ctx context.Context) error { return s.AcceptTerms(ctx, u.ID, 1, at(3)) }},
			{"SetPassword", func(ctx context.Context) error {
				return s.SetPassword(ctx, hmisauth.PasswordChange{UserID: u.ID, Hash: "h1", At: at(4), History: 5})
			}},
			{"DeleteSession", func(ctx context.Context) error { return s.DeleteSession(ctx, sess.ID, true) }},
			{"QueueResetRequest", func(ctx context.Context) error {
				return s.QueueResetRequest(ctx, &hmisauth.ResetRequest{Site: live, Username: "jdoe", At: at(5)})
			}},
			{"HitRateLimit", func(ctx context.Context) error {
				return wantTrue(s.HitRateLimit(ctx, "forgot:live:192.0.2.10", time.Minute, 5, at(5)))
			}},
			{"MailSent", func(ctx context.Context) error {
				ms, err := s.ClaimMail(t.Context(), at(6), time.Minute, 1) // a claim carries no event
				if err == nil && len(ms) != 1 {
					err = fmt.Errorf("claimed %d messages, want 1", len(ms))
				}
				if err != nil {
					return err
				}
				return s.MailSent(ctx, ms[0], at(6), false)
			}},
			{"SetDisabled", func(ctx context.Context) error { return s.SetDisabled(ctx, u.ID, true, at(7)) }},
			{"SetDisabled(enable)", func(ctx context.Context) error { return s.SetDisabled(ctx, u.ID, false, at(8)) }},
			{"AppendEvents", func(ctx context.Context) error { return s.AppendEvents(ctx) }},
		}
		wantEachWriteAppendsItsEvent(t, s, writes)
	}},
	{"AFailingWriteAppendsNoEvent", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		newAgency(t, s, live, "Hope House", 0)
		ev := event(hmisauth.EventUserCreated, "JDOE", "must not be written", 1)
		fails := []struct {
			name  string
			code  string
			write func(ctx context.Context) error
		}{
			{"CreateUser with a taken username", hmisauth.ECONFLICT, func(ctx context.Context) error {
				return s.CreateUser(ctx, &hmisauth.User{Site: live, Username: "JDOE"})
			}},
			{"CreateUsers with a taken username", hmisauth.ECONFLICT, func(ctx context.Context) error {
				return s.CreateUsers(ctx, []*hmisauth.User{{Site: live, Username: "amy"}, {Site: live, Username: "JDOE"}})
			}},
			{"CreateAgency with a taken name", hmisauth.ECONFLICT, func(ctx context.Context) error {
				return s.CreateAgency(ctx, &hmisauth.Agency{Site: live, Name: "hope house"})
			}},
			{"LoginSucceeded of no user", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.LoginSucceeded(ctx, 999, at(1))
			}},
			{"TouchSession of no session", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.TouchSession(ctx, 999, at(1))
			}},
			{"UseTemporaryPassword of no user", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return second(s.UseTemporaryPassword(ctx, 999, at(1)))
			}},
			{"CompleteReset with no token", hmisauth.ENOTFOUND, func(ctx context.Context) error {
				return s.CompleteReset(ctx, tokenHash("nope"), t0, hmisauth.PasswordChange{UserID: u.ID, Hash: "h1", At: t0})
			}},
		}
		for _, f := range fails {
			if err := f.write(carrying(t, ev)); hmisauth.ErrorCode(err) != f.code {
				t.Errorf("%s: error %v, want code %s", f.name, err, f.code)
			}
			if ev.ID != 0 || ev.Hash != nil {
				t.Fatalf("%s failed, yet its event has ID %d, hash %x", f.name, ev.ID, ev.Hash)
			}
		}
		wantDetails(t, s)
		// The event was never written, so it can still go with a write that succeeds.
		must(t, s.LoginSucceeded(carrying(t, ev), u.ID, at(2)))
		wantDetails(t, s, "must not be written")
	}},
	{"OneWriteAppendsSeveralEventsInOrder", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.SetPassword(carrying(t, event("a", "jdoe", "first", 1), event("b", "jdoe", "second", 1)),
			hmisauth.PasswordChange{UserID: u.ID, Hash: "h1", At: at(1)}))
		must(t, s.ExpirePassword(carrying(t, event("c", "jdoe", "third", 2), event("d", "jdoe", "fourth", 2)), u.ID))
		wantDetails(t, s, "first", "second", "third", "fourth")
	}},
	{"AppendEventsAppendsItsOwnThenTheContexts", func(t *testing.T, s hmisauth.Store) {
		ctx := carrying(t, event(hmisauth.EventLoginFailed, "jdoe", "from the context", 1))
		must(t, s.AppendEvents(ctx, event(hmisauth.EventLoginFailed, "jdoe", "own 1", 1),
			event(hmisauth.EventAccountLocked, "jdoe", "own 2", 1)))
		must(t, s.AppendEvents(t.Context()))
		wantDetails(t, s, "own 1", "own 2", "from the context")
	}},
	{"AnEventIsAppendedOnce", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := newSession(t, s, u, "tok", false)
		once := event(hmisauth.EventLoginSucceeded, "jdoe", "once", 1)
		ctx := carrying(t, once)
		must(t, s.LoginSucceeded(ctx, u.ID, at(1)))
		id := once.ID
		if err := s.TouchSession(ctx, sess.ID, at(2)); err == nil {
			t.Error("a second write with the same context's events succeeded")
		}
		if err := s.CreateUser(ctx, &hmisauth.User{Site: live, Username: "bsmith"}); err == nil {
			t.Error("a second write with the same context's events succeeded")
		}
		fresh := event(hmisauth.EventLogout, "jdoe", "fresh", 2)
		if err := s.AppendEvents(t.Context(), append([]*hmisauth.Event{fresh}, hmisauth.EventsOf(ctx)...)...); err == nil {
			t.Error("AppendEvents of an event already appended succeeded")
		}
		if fresh.ID != 0 || once.ID != id {
			t.Errorf("after the refusals: the new event has ID %d, want 0; the written one %d, want %d", fresh.ID, once.ID, id)
		}
		twice := event(hmisauth.EventLogout, "jdoe", "twice", 3)
		if err := s.AppendEvents(carrying(t, twice), twice); err == nil || twice.ID != 0 {
			t.Errorf("AppendEvents of one event twice in a call: %v, ID %d", err, twice.ID)
		}
		wantDetails(t, s, "once")
		if _, err := s.User(t.Context(), live, "bsmith"); hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
			t.Errorf("the refused CreateUser created the user anyway: %v", err)
		}
	}},
	{"EventTimesKeepMicrosecondsInUTC", func(t *testing.T, s hmisauth.Store) {
		chicago := time.FixedZone("CST", -6*3600)
		precise := event("a", "jdoe", "precise", 0)
		precise.At = time.Date(2026, 3, 2, 3, 30, 0, 123456789, chicago)
		unset := event("b", "jdoe", "unset", 0)
		unset.At = time.Time{}
		must(t, s.AppendEvents(t.Context(), precise, unset))
		evs := wantDetails(t, s, "precise", "unset")
		if want := time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC); !evs[0].At.Equal(want) || evs[0].At.Location() != time.UTC {
			t.Errorf("At = %v, want %v", evs[0].At, want)
		}
		equal(t, "event", evs[0], precise)
		if evs[1].At.IsZero() || !evs[1].At.Equal(unset.At) {
			t.Errorf("an event without a time was stored at %v (caller sees %v), want now", evs[1].At, unset.At)
		}
	}},
}

func newUserCtx(t *testing.T, s hmisauth.Store, ctx context.Context, username string) *hmisauth.User {
	t.Helper()
	u := &hmisauth.User{Site: live, Username: username, CreatedAt: t0}
	must(t, s.CreateUser(ctx, u))
	return u
}

// wantTrue turns a write's "it happened" answer into an error, for tables of writes.
func wantTrue(ok bool, err error) error {
	if err == nil && !ok {
		return fmt.Errorf("answered false")
	}
	return err
}

func second[T any](_ T, err error) error { return err }

// auditedWrite is one store write to run with an event in its context.
type auditedWrite struct {
	name  string
	write func(ctx context.Context) error
}

// wantEachWriteAppendsItsEvent runs each write carrying an event whose detail is its name, and
// checks every event was appended, numbered, in order.
func wantEachWriteAppendsItsEvent(t *testing.T, s hmisauth.Store, writes []auditedWrite) {
	t.Helper()
	var names []string
	for i, w := range writes {
		ev := event("test", "jdoe", w.name, i)
		if err := w.write(carrying(t, ev)); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if ev.ID == 0 {
			t.Errorf("%s left its event's ID zero", w.name)
		}
		names = append(names, w.name)
	}
	wantDetails(t, s, names...)
}
