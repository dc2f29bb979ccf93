package auth_test

import (
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// events lists the audit log oldest first.
func (f *fixture) events() []*hmisauth.Event {
	f.t.Helper()
	var out []*hmisauth.Event
	if err := f.store.EachEvent(f.ctx, func(e *hmisauth.Event) error { out = append(out, e); return nil }); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// eventsSince lists the events after the first n as "action subject detail" lines.
func (f *fixture) eventsSince(n int) []string {
	var out []string
	for _, e := range f.events()[n:] {
		parts := []string{e.Action}
		for _, p := range []string{e.Subject, e.Detail} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func wantEvents(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEverySignInAttemptIsAudited(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	n := len(f.events())
	f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: "JDoe", Password: goodPassword, ClientAddr: "192.0.2.1"})
	f.attempt("jdoe", "wrong")
	f.attempt("ghost", "wrong")
	f.attempt("jdoe", "wrong")
	f.attempt("jdoe", "wrong")
	f.attempt("jdoe", goodPassword)
	wantEvents(t, f.eventsSince(n),
		"login_succeeded jdoe",
		"login_failed jdoe wrong_password",
		"login_failed ghost unknown_user",
		"login_failed jdoe wrong_password",
		"login_failed jdoe wrong_password",
		"account_locked jdoe locked after 3 failed attempts",
		"login_failed jdoe account locked")
	if e := f.events()[n]; e.ClientAddr != "192.0.2.1" || e.Site != "live" || e.At.IsZero() {
		t.Fatalf("event lacks where or when: %+v", e)
	}
}

func TestAdministrativeActionsAreAuditedWithTheirActor(t *testing.T) {
	f := newFixture(t)
	ctx := auth.WithActor(f.ctx, auth.Actor{Username: "cli:helpdesk"})
	name := "Hope Shelter"
	f.svc.CreateAgency(ctx, "live", auth.AgencyChange{Name: &name})
	f.svc.CreateUser(ctx, auth.NewUser{Site: "live", FirstName: "Ann", LastName: "Lee", Agency: name})
	f.svc.SetTemporaryPassword(ctx, "live", "alee")
	f.svc.Unlock(ctx, "live", "alee")
	f.svc.ExpirePassword(ctx, "live", "alee")
	f.svc.SetDisabled(ctx, "live", "alee", true)
	f.svc.SetDisabled(ctx, "live", "alee", false)
	f.svc.RecordAgreement(ctx, "live", "alee", auth.Agreement{Signed: "2026-01-05"})
	got := f.eventsSince(0)
	wantEvents(t, got,
		"agency_created Hope Shelter: no seat limit, license does not expire",
		"user_created alee role user, agency Hope Shelter",
		"temporary_password_set alee sessions ended, lockout cleared",
		"user_unlocked alee",
		"password_expired_by_admin alee",
		"user_disabled alee reason: other, reported 2026-03-02",
		"user_enabled alee",
		"agreement_recorded alee signed 2026-01-05, expires 2027-01-05")
	for _, e := range f.events() {
		if e.Actor != "cli:helpdesk" {
			t.Fatalf("%s by %q", e.Action, e.Actor)
		}
	}
}

func TestAFailedChangeLeavesNoEvent(t *testing.T) {
	f := newFixture(t)
	f.create(auth.NewUser{Site: "live", FirstName: "Ann", LastName: "Lee", Username: "alee"})
	n := len(f.events())
	_, err := f.svc.CreateUser(f.ctx, auth.NewUser{Site: "live", FirstName: "Al", LastName: "Lee", Username: "ALee"})
	wantCode(t, err, hmisauth.ECONFLICT)
	if got := f.eventsSince(n); len(got) != 0 {
		t.Fatalf("a refused creation was audited: %v", got)
	}
}

func TestRecoveryAndProfileAreAudited(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	n := len(f.events())
	f.forgot("jdoe")
	if err := f.reset(f.resetToken(), newPassword); err != nil {
		t.Fatal(err)
	}
	p := f.login("jdoe", newPassword).Principal
	phone := "555-0199"
	f.svc.UpdateContact(f.ctx, p, auth.ContactChange{Phone: &phone})
	f.svc.Logout(f.ctx, p)
	wantEvents(t, f.eventsSince(n),
		"reset_requested jdoe",
		"password_reset jdoe through an e-mailed link",
		"login_succeeded jdoe",
		"profile_changed jdoe changed phone",
		"logout jdoe")
}

// TestNothingSecretReachesTheAuditLog runs flows that handle passwords, a temporary password,
// a reset token and a security answer, then searches every field of every event for them.
func TestNothingSecretReachesTheAuditLog(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.Recovery = []string{"email", "security_question"} })
	c := f.create(auth.NewUser{Site: "live", FirstName: "John", LastName: "Doe", Email: "x@example.org"})
	p := f.login("jdoe", c.TemporaryPassword).Principal
	f.svc.AcceptTerms(f.ctx, p, 1)
	f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: goodPassword, Confirm: goodPassword})
	f.svc.SetRecovery(f.ctx, p, auth.Recovery{Question: "What street did I grow up on?", Answer: "Maple Avenue"})
	f.attempt("jdoe", "Wrong-Guess-77")
	f.forgot("jdoe")
	token := f.resetToken()
	f.svc.CompleteReset(f.ctx, auth.ResetRequest{Site: "live", Token: token, New: newPassword, Confirm: newPassword, SecurityAnswer: "Elm Street"})
	f.svc.CompleteReset(f.ctx, auth.ResetRequest{Site: "live", Token: token, New: newPassword, Confirm: newPassword, SecurityAnswer: "maple avenue"})
	secrets := []string{c.TemporaryPassword, goodPassword, newPassword, "Wrong-Guess-77", token, "Maple", "maple", "Elm Street"}
	evs := f.events()
	if len(evs) < 8 {
		t.Fatalf("only %d events", len(evs))
	}
	for _, e := range evs {
		all := strings.Join([]string{e.Site, e.Actor, e.Subject, e.Action, e.ClientAddr, e.Detail}, "|")
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Fatalf("event %s holds a secret (%q): %s", e.Action, s, all)
			}
		}
	}
}
