package storetest

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

func wantCandidates(t *testing.T, s hmisauth.Store, site string, from, to time.Time, want ...*hmisauth.User) {
	t.Helper()
	got, err := s.PasswordExpiryCandidates(t.Context(), site, from, to)
	must(t, err)
	names := make(map[string]bool)
	for _, u := range got {
		names[u.Username] = true
	}
	wantNames := make(map[string]bool)
	for _, u := range want {
		wantNames[u.Username] = true
	}
	equal(t, "PasswordExpiryCandidates", names, wantNames)
}

func warn(t *testing.T, s hmisauth.Store, u *hmisauth.User, changedAt time.Time) (bool, *hmisauth.Message) {
	t.Helper()
	m := message(u.Email, hmisauth.MailPasswordExpiring, 10)
	ok, err := s.WarnPasswordExpiry(t.Context(), u.ID, changedAt, m)
	must(t, err)
	return ok, m
}

var profileTests = []test{
	{"RecoveryIsSetAndRead", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.SetRecovery(t.Context(), u.ID, "Name of your first school?", "$argon2id$answer"))
		must(t, s.SetRecovery(t.Context(), u.ID, "Street you grew up on?", "$argon2id$answer2"))
		u.RecoveryQuestion, u.RecoveryAnswerHash = "Street you grew up on?", "$argon2id$answer2"
		equal(t, "UserByID", reload(t, s, u), u)
		got, err := s.User(t.Context(), live, "JDOE")
		must(t, err)
		equal(t, "User", got, u)
		wantCode(t, s.SetRecovery(t.Context(), 999, "q", "h"), hmisauth.ENOTFOUND)
	}},
	{"UpdateContactQueuesTheNotice", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		m := message(u.Email, hmisauth.MailEmailChanged, 1)
		must(t, s.UpdateContact(t.Context(), u.ID, "jane.doe@example.org", "555-0199", m))
		if m.ID == 0 {
			t.Fatal("UpdateContact left the notice's ID zero")
		}
		u.Email, u.Phone = "jane.doe@example.org", "555-0199"
		equal(t, "user", reload(t, s, u), u)
		must(t, s.UpdateContact(t.Context(), u.ID, u.Email, "", nil))
		u.Phone = ""
		equal(t, "user", reload(t, s, u), u)
		wantOutbox(t, s, m)
		err := s.UpdateContact(t.Context(), 999, "x@example.org", "", message("old@example.org", hmisauth.MailEmailChanged, 2))
		wantCode(t, err, hmisauth.ENOTFOUND)
		wantOutbox(t, s, m)
	}},
	{"ExpiryCandidatesHaveOwnPasswordsChangedInTheRange", func(t *testing.T, s hmisauth.Store) {
		from, to := at(100), at(200)
		changed := func(when time.Time) func(*hmisauth.User) {
			return func(u *hmisauth.User) { u.PasswordChangedAt = when }
		}
		first := newUser(t, s, live, "first", changed(from))
		last := newUser(t, s, live, "last", changed(to.Add(-time.Microsecond)))
		newUser(t, s, live, "before", changed(from.Add(-time.Microsecond)))
		newUser(t, s, live, "after", changed(to))
		newUser(t, s, live, "noemail", changed(from), func(u *hmisauth.User) { u.Email = "" })
		newUser(t, s, live, "temporary", changed(from), func(u *hmisauth.User) { u.PasswordTemporary = true })
		newUser(t, s, live, "disabled", changed(from), func(u *hmisauth.User) { u.Disabled = true })
		newUser(t, s, live, "never", changed(time.Time{}))
		newUser(t, s, training, "othersite", changed(from))
		wantCandidates(t, s, live, from, to, first, last)
		got, err := s.PasswordExpiryCandidates(t.Context(), live, from, to)
		must(t, err)
		for _, u := range got {
			if u.ID == first.ID {
				equal(t, "candidate", u, first)
			}
		}
	}},
	{"WarnedUserIsNoCandidateUntilTheNextPassword", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordChangedAt = at(100) })
		wantCandidates(t, s, live, at(0), at(1000), u)
		if ok, _ := warn(t, s, u, at(100)); !ok {
			t.Fatal("WarnPasswordExpiry = false for the first warning")
		}
		wantCandidates(t, s, live, at(0), at(1000))
		change(t, s, u, "new", 5, 500)
		u.PasswordHash = "new"
		wantCandidates(t, s, live, at(0), at(1000), u)
	}},
	{"ExpiryWarningIsQueuedOncePerPassword", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordChangedAt = at(100) })
		ok, m := warn(t, s, u, at(100))
		if !ok || m.ID == 0 {
			t.Fatalf("first warning: %v, message ID %d", ok, m.ID)
		}
		if ok, _ := warn(t, s, u, at(100)); ok {
			t.Error("WarnPasswordExpiry = true for the second warning")
		}
		wantOutbox(t, s, m)
		change(t, s, u, "new", 5, 500)
		if ok, _ := warn(t, s, u, at(500)); !ok {
			t.Error("WarnPasswordExpiry = false for the new password's first warning")
		}
		if ok, _ := warn(t, s, u, at(500)); ok {
			t.Error("WarnPasswordExpiry = true for the new password's second warning")
		}
		_, err := s.WarnPasswordExpiry(t.Context(), 999, at(100), message("x@example.org", hmisauth.MailPasswordExpiring, 0))
		wantCode(t, err, hmisauth.ENOTFOUND)
		if n := len(outbox(t, s)); n != 2 {
			t.Errorf("%d messages queued, want 2", n)
		}
	}},
	{"NoWarningForAPasswordChangedSince", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordChangedAt = at(100) })
		change(t, s, u, "new", 5, 500)
		if ok, _ := warn(t, s, u, at(100)); ok {
			t.Error("WarnPasswordExpiry = true for a password that was replaced")
		}
		wantOutbox(t, s)
		wantCandidates(t, s, live, at(0), at(1000), &hmisauth.User{Username: "jdoe"})
	}},
	{"TenParallelWarningsQueueOne", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.PasswordChangedAt = at(100) })
		warned := make([]bool, 10)
		wantNoErrors(t, parallel(10, func(i int) (err error) {
			warned[i], err = s.WarnPasswordExpiry(t.Context(), u.ID, at(100), message(u.Email, hmisauth.MailPasswordExpiring, i))
			return err
		}))
		if n := countTrue(warned); n != 1 {
			t.Errorf("%d of 10 parallel warnings recorded, want 1", n)
		}
		if n := len(outbox(t, s)); n != 1 {
			t.Errorf("%d warnings queued, want 1", n)
		}
	}},
}
