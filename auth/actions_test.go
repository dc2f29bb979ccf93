package auth_test

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

func actionNames(p *auth.Principal) []string {
	var out []string
	for _, a := range p.RequiredActions {
		out = append(out, a.Name+"/"+a.Reason)
	}
	return out
}

func TestFirstLoginWalksTermsThenPassword(t *testing.T) {
	f := newFixture(t)
	c := f.create(auth.NewUser{Site: "live", FirstName: "Maria", LastName: "García"})
	if c.User.Username != "mgarcia" {
		t.Fatalf("username %q", c.User.Username)
	}
	p := f.login("mgarcia", c.TemporaryPassword).Principal
	if got := actionNames(p); len(got) != 2 || got[0] != "accept_terms/" || got[1] != "change_password/temporary" {
		t.Fatalf("required actions = %v", got)
	}
	// Until the terms are accepted, the password cannot be changed either.
	err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: goodPassword, Confirm: goodPassword})
	wantCode(t, err, hmisauth.EActionRequired)
	wantCode(t, f.svc.AcceptTerms(f.ctx, p, 0), hmisauth.ETermsVersion)
	if err := f.svc.AcceptTerms(f.ctx, p, 1); err != nil {
		t.Fatal(err)
	}
	err = f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: "password", Confirm: "password"})
	wantCode(t, err, hmisauth.EPasswordPolicy)
	if v := hmisauth.AsError(err).Violations; len(v) < 3 {
		t.Fatalf("want every broken rule, got %v", v)
	}
	err = f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: goodPassword, Confirm: goodPassword + "x"})
	wantCode(t, err, hmisauth.EPasswordMismatch)
	err = f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: c.TemporaryPassword, Confirm: c.TemporaryPassword})
	wantCode(t, err, hmisauth.EPasswordReused)
	if err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: goodPassword, Confirm: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if len(p.RequiredActions) != 0 {
		t.Fatalf("actions left: %v", actionNames(p))
	}
	if got := f.attempt("mgarcia", goodPassword); got != "" {
		t.Fatalf("sign-in with the new password: %q", got)
	}
}

func TestTemporaryPasswordWorksOnce(t *testing.T) {
	f := newFixture(t)
	c := f.create(auth.NewUser{Site: "live", FirstName: "John", LastName: "Doe"})
	f.login("jdoe", c.TemporaryPassword)
	_, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: "jdoe", Password: c.TemporaryPassword})
	wantCode(t, err, hmisauth.ETemporaryUsed)
	d, _ := f.svc.Diagnose(f.ctx, "live", "jdoe")
	if !hasProblem(d.Problems, hmisauth.ProblemTemporaryPasswordUsed) {
		t.Fatalf("doctor does not say the temporary password was used: %+v", d.Problems)
	}
}

func TestTemporaryPasswordExpires(t *testing.T) {
	f := newFixture(t)
	c := f.create(auth.NewUser{Site: "live", FirstName: "John", LastName: "Doe"})
	f.clock.Add(72*time.Hour + time.Second)
	_, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: "jdoe", Password: c.TemporaryPassword})
	wantCode(t, err, hmisauth.ETemporaryExpired)
	d, _ := f.svc.Diagnose(f.ctx, "live", "jdoe")
	if !hasProblem(d.Problems, hmisauth.ProblemTemporaryPasswordExpired) {
		t.Fatalf("doctor: %+v", d.Problems)
	}
	again, err := f.svc.SetTemporaryPassword(f.ctx, "live", "jdoe")
	if err != nil {
		t.Fatal(err)
	}
	f.login("jdoe", again.TemporaryPassword)
}

func TestPasswordExpiresAfterMaxAge(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	f.clock.Add(45 * 24 * time.Hour)
	p := f.login("jdoe", goodPassword).Principal
	if got := actionNames(p); len(got) != 1 || got[0] != "change_password/expired" {
		t.Fatalf("required actions = %v", got)
	}
	err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: goodPassword, Confirm: goodPassword})
	wantCode(t, err, hmisauth.EPasswordReused)
	next := "Lantern-Meadow-47?"
	if err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: next, Confirm: next}); err != nil {
		t.Fatal(err)
	}
	if len(p.RequiredActions) != 0 {
		t.Fatalf("actions: %v", actionNames(p))
	}
}

func TestNoExpiryWhenMaxAgeIsZero(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.Password.MaxAgeDays = 0; s.Policy.InactiveLockDays = 0 })
	f.user("John", "Doe")
	f.clock.Add(400 * 24 * time.Hour)
	if p := f.login("jdoe", goodPassword).Principal; len(p.RequiredActions) != 0 {
		t.Fatalf("actions: %v", actionNames(p))
	}
}

func TestAdministratorExpiresPassword(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	if _, err := f.svc.ExpirePassword(f.ctx, "live", "jdoe"); err != nil {
		t.Fatal(err)
	}
	p := f.login("jdoe", goodPassword).Principal
	if got := actionNames(p); len(got) != 1 || got[0] != "change_password/expired" {
		t.Fatalf("required actions = %v", got)
	}
}

func TestHistoryRefusesTheLastPasswords(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.Password.History = 3 })
	f.user("John", "Doe")
	p := f.login("jdoe", goodPassword).Principal
	seq := []string{"Lantern-Meadow-47?", "Copper-Violet-58#", "Thistle-Orbit-26$"}
	cur := goodPassword
	for _, next := range seq {
		if err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{Current: cur, New: next, Confirm: next}); err != nil {
			t.Fatalf("change to %s: %v", next, err)
		}
		cur = next
	}
	// The last 3 (current included) are refused; the one before them is allowed again.
	for _, old := range seq {
		err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{Current: cur, New: old, Confirm: old})
		wantCode(t, err, hmisauth.EPasswordReused)
	}
	if err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{Current: cur, New: goodPassword, Confirm: goodPassword}); err != nil {
		t.Fatalf("fourth-last password refused: %v", err)
	}
}

func TestVoluntaryChangeNeedsTheCurrentPassword(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	p := f.login("jdoe", goodPassword).Principal
	next := "Lantern-Meadow-47?"
	f.clock.Add(6 * time.Minute) // past session.reauth: the password typed at sign-in no longer counts
	err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: next, Confirm: next})
	wantCode(t, err, hmisauth.EReauthRequired)
	err = f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{Current: "wrong", New: next, Confirm: next})
	wantCode(t, err, hmisauth.ECurrentPasswordWrong)
	// Typed again on the security page, it stands in for the current password.
	if _, err := f.svc.Reauthenticate(f.ctx, p, goodPassword, false); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: next, Confirm: next}); err != nil {
		t.Errorf("change within the re-authentication window: %v", err)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	here := f.login("jdoe", goodPassword)
	there := f.login("jdoe", goodPassword)
	next := "Lantern-Meadow-47?"
	if err := f.svc.ChangePassword(f.ctx, here.Principal, auth.PasswordChangeRequest{Current: goodPassword, New: next, Confirm: next}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(f.ctx, "live", here.Token); err != nil {
		t.Fatalf("the changing session must stay: %v", err)
	}
	_, err := f.svc.Authenticate(f.ctx, "live", there.Token)
	wantCode(t, err, hmisauth.EUnauthorized)
}

func TestNewTermsVersionMustBeAcceptedAgain(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	f.live.Policy.Terms.Version = 2
	p := f.login("jdoe", goodPassword).Principal
	if got := actionNames(p); len(got) != 1 || got[0] != "accept_terms/" {
		t.Fatalf("required actions = %v", got)
	}
}
