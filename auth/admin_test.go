package auth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

func TestBaseUsername(t *testing.T) {
	for _, tc := range []struct{ first, last, want string }{
		{"John", "Doe", "jdoe"},
		{"José", "Núñez", "jnunez"},
		{"Mary-Jo", "O'Brien-Smith", "mobriensmith"},
		{"Anne Marie", "Van der Berg", "avanderberg"},
		{"Jürgen", "Straße", "jstrasse"},
		{"Øystein", "Ærø", "oaero"},
		{"李", "小龙", "user"},
		{"", "Doe", "doe"},
		{"  Ann ", " LEE ", "alee"},
	} {
		if got := auth.BaseUsername(tc.first, tc.last); got != tc.want {
			t.Errorf("BaseUsername(%q, %q) = %q, want %q", tc.first, tc.last, got, tc.want)
		}
	}
}

func TestUsernameClashGetsANumber(t *testing.T) {
	f := newFixture(t)
	for _, want := range []string{"jdoe", "jdoe2", "jdoe3"} {
		if c := f.create(auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe"}); c.User.Username != want {
			t.Fatalf("got %q, want %q", c.User.Username, want)
		}
	}
	// The other site has its own names.
	c, err := f.svc.CreateUser(f.ctx, auth.NewUser{Site: "training", FirstName: "Jane", LastName: "Doe"})
	if err != nil || c.User.Username != "jdoe" {
		t.Fatalf("training: %v %v", c, err)
	}
}

func TestChosenUsernameMustBeFree(t *testing.T) {
	f := newFixture(t)
	f.create(auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe", Username: "JaneD"})
	_, err := f.svc.CreateUser(f.ctx, auth.NewUser{Site: "live", FirstName: "J", LastName: "D", Username: "janed"})
	wantCode(t, err, hmisauth.ECONFLICT)
	// The answer offers a free name made from the person's names, and says nothing of the
	// account that has the chosen one.
	var unavailable *auth.UsernameUnavailable
	if !errors.As(err, &unavailable) || unavailable.Free != "jd" || unavailable.Err.Field != "username" ||
		unavailable.Err.Message != "The username janed cannot be used. jd is free for this person; use it, or choose another." {
		t.Errorf("taken username answered %v", err)
	}
	_, err = f.svc.CreateUser(f.ctx, auth.NewUser{Site: "live", FirstName: "J", LastName: "D", Username: "jane doe"})
	wantCode(t, err, hmisauth.EINVALID)
}

func TestCreateUserValidatesEveryField(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		req   auth.NewUser
		field string
	}{
		{auth.NewUser{LastName: "Doe"}, "first"},
		{auth.NewUser{FirstName: "Jane"}, "last"},
		{auth.NewUser{FirstName: "Jane", LastName: "Doe", Email: "not-an-address"}, "email"},
		{auth.NewUser{FirstName: "Jane", LastName: "Doe", Phone: "call me"}, "phone"},
		{auth.NewUser{FirstName: "Jane", LastName: "Doe", Role: "root"}, "role"},
		{auth.NewUser{FirstName: "Jane", LastName: "Doe", Agency: "Nowhere"}, "agency"},
		{auth.NewUser{FirstName: "Jane", LastName: "Doe", Role: "agency_admin"}, "agency"},
	} {
		tc.req.Site = "live"
		_, err := f.svc.CreateUser(f.ctx, tc.req)
		if e := hmisauth.AsError(err); e == nil || e.Code != hmisauth.EINVALID || e.Field != tc.field {
			t.Errorf("%+v: got %v, want invalid %s", tc.req, err, tc.field)
		}
	}
}

func TestAgencySeatsAreEnforced(t *testing.T) {
	f := newFixture(t)
	name, seats := "Hope Shelter", 2
	if _, err := f.svc.CreateAgency(f.ctx, "live", auth.AgencyChange{Name: &name, Seats: &seats}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		f.create(auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe", Agency: "hope shelter"})
	}
	_, err := f.svc.CreateUser(f.ctx, auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe", Agency: name})
	wantCode(t, err, hmisauth.ESeatsFull)
}

func TestFirstAdministratorIsCreatedOnce(t *testing.T) {
	f := newFixture(t)
	c, err := f.svc.EnsureAdministrator(f.ctx, "live")
	if err != nil || c == nil || c.User.Username != "admin" || c.User.Role != hmisauth.RoleSysadmin {
		t.Fatalf("first: %+v %v", c, err)
	}
	again, err := f.svc.EnsureAdministrator(f.ctx, "live")
	if err != nil || again != nil {
		t.Fatalf("second: %+v %v", again, err)
	}
}

func TestTemporaryPasswordUnlocksAndEndsSessions(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	res := f.login("jdoe", goodPassword)
	for range 3 {
		f.attempt("jdoe", "wrong")
	}
	c, err := f.svc.SetTemporaryPassword(f.ctx, "live", "jdoe")
	if err != nil {
		t.Fatal(err)
	}
	if c.User.Locked() || !c.User.PasswordTemporary {
		t.Fatalf("after temp-password: locked=%v temporary=%v", c.User.Locked(), c.User.PasswordTemporary)
	}
	_, err = f.svc.Authenticate(f.ctx, "live", res.Token)
	wantCode(t, err, hmisauth.EUnauthorized)
	if got := f.attempt("jdoe", goodPassword); got != hmisauth.ELoginFailed {
		t.Fatalf("old password after temp-password: %q", got)
	}
	f.login("jdoe", c.TemporaryPassword)
}

func hasProblem(ps []hmisauth.Problem, code string) bool {
	for _, p := range ps {
		if p.Code == code {
			return true
		}
	}
	return false
}

func problemCodes(ps []hmisauth.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Code)
	}
	return out
}

func TestLoginDoctorListsEveryProblem(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.Recovery = []string{"email", "security_question"} })
	f.user("John", "Doe")
	name, exp := "Hope Shelter", hmisauth.Date("2026-01-31")
	f.svc.CreateAgency(f.ctx, "live", auth.AgencyChange{Name: &name, LicenseExpires: &exp})
	u := f.reload("jdoe")
	a, _ := f.store.AgencyByName(f.ctx, "live", name)
	u.AgencyID, u.Email = a.ID, ""
	if err := f.store.UpdateUserProfile(f.ctx, u); err != nil {
		t.Fatal(err)
	}
	f.svc.RecordAgreement(f.ctx, "live", "jdoe", auth.Agreement{Signed: "2025-01-15"})
	f.svc.SetDisabled(f.ctx, "live", "jdoe", true)
	for range 3 {
		f.attempt("jdoe", "wrong")
	}
	f.live.Policy.Terms.Version = 2
	f.clock.Add(100 * 24 * time.Hour)

	d, err := f.svc.Diagnose(f.ctx, "live", "JDoe")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"disabled", "locked", "inactive", "license_expired", "agreement_expired", "password_expired",
		"terms_not_accepted", "no_email", "no_recovery_info"}
	got := problemCodes(d.Problems)
	if len(got) != len(want) {
		t.Fatalf("problems = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("problems = %v, want %v", got, want)
		}
	}
	for _, p := range d.Problems {
		if p.Message == "" || p.Fix == "" {
			t.Errorf("%s lacks words: %+v", p.Code, p)
		}
	}
	if d.Problems[1].Since.IsZero() {
		t.Error("locked has no since")
	}
}

func TestLoginDoctorSaysNothingForAHealthyUser(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	d, err := f.svc.Diagnose(f.ctx, "live", "jdoe")
	if err != nil || len(d.Problems) != 0 {
		t.Fatalf("problems: %v %v", problemCodes(d.Problems), err)
	}
	if auth.Status(d.User) != "active" {
		t.Fatal(auth.Status(d.User))
	}
}

func FuzzBaseUsername(f *testing.F) {
	for _, s := range []string{"John", "José Núñez", "O'Brien", "李", "Straße"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, first, last string) {
		u := auth.BaseUsername(first, last)
		if err := auth.ValidateUsername(u); err != nil {
			t.Fatalf("BaseUsername(%q, %q) = %q is not a valid username: %v", first, last, u, err)
		}
	})
}
