package auth_test

import (
	"context"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// addAgency creates an agency on the live site.
func (f *fixture) addAgency(name string, seats int) *hmisauth.Agency {
	f.t.Helper()
	a, err := f.svc.CreateAgency(f.ctx, "live", auth.AgencyChange{Name: &name, Seats: &seats})
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// signedInAs creates a live user with the given role and agency, walks them through first
// sign-in, and returns their principal with nothing pending.
func (f *fixture) signedInAs(first, last, role, agency string) *auth.Principal {
	f.t.Helper()
	c := f.create(auth.NewUser{Site: "live", FirstName: first, LastName: last, Email: "x@example.org", Role: role, Agency: agency})
	res := f.login(c.User.Username, c.TemporaryPassword)
	if err := f.svc.AcceptTerms(f.ctx, res.Principal, f.live.Policy.Terms.Version); err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.ChangePassword(f.ctx, res.Principal, auth.PasswordChangeRequest{New: goodPassword, Confirm: goodPassword}); err != nil {
		f.t.Fatal(err)
	}
	p, err := f.svc.Authenticate(f.ctx, "live", res.Token)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) adminOf(p *auth.Principal) *auth.Admin {
	f.t.Helper()
	a, err := f.svc.Admin(p)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func TestOnlyAdministratorsWithNothingPendingAdminister(t *testing.T) {
	f := newFixture(t)
	f.addAgency("North", 0)
	_, err := f.svc.Admin(f.signedInAs("Pat", "User", "user", "North"))
	wantCode(t, err, hmisauth.EFORBIDDEN)
	_, err = f.svc.Admin(nil)
	wantCode(t, err, hmisauth.EFORBIDDEN)

	c := f.create(auth.NewUser{Site: "live", FirstName: "New", LastName: "Admin", Role: "sysadmin"})
	res := f.login(c.User.Username, c.TemporaryPassword)
	_, err = f.svc.Admin(res.Principal)
	wantCode(t, err, hmisauth.EActionRequired)

	for _, role := range []string{"sysadmin", "agency_admin"} {
		if _, err := f.svc.Admin(f.signedInAs("Ok", role, role, "North")); err != nil {
			t.Errorf("%s: %v", role, err)
		}
	}
}

func TestAgencyAdminReachesOnlyTheirAgencysUsers(t *testing.T) {
	f := newFixture(t)
	f.addAgency("North", 0)
	f.addAgency("South", 0)
	north := f.adminOf(f.signedInAs("Nora", "Admin", "agency_admin", "North"))
	mine := f.create(auth.NewUser{Site: "live", FirstName: "Mia", LastName: "Mine", Agency: "North"}).User
	theirs := f.create(auth.NewUser{Site: "live", FirstName: "Theo", LastName: "Theirs", Agency: "South"}).User
	// A sysadmin who happens to belong to the agency is not the agency admin's to take over.
	boss := f.create(auth.NewUser{Site: "live", FirstName: "Bo", LastName: "Boss", Agency: "North", Role: "sysadmin"}).User
	none := f.create(auth.NewUser{Site: "live", FirstName: "No", LastName: "Agency"}).User
	before := len(f.events())

	for _, u := range []string{theirs.Username, boss.Username, none.Username, "ghost"} {
		for name, op := range map[string]func() error{
			"user":     func() error { _, err := north.User(f.ctx, u); return err },
			"temp":     func() error { _, err := north.SetTemporaryPassword(f.ctx, u); return err },
			"unlock":   func() error { _, err := north.Unlock(f.ctx, u); return err },
			"expire":   func() error { _, err := north.ExpirePassword(f.ctx, u); return err },
			"disable":  func() error { _, err := north.SetDisabled(f.ctx, u, true); return err },
			"sessions": func() error { return north.EndSessions(f.ctx, u) },
			"update": func() error {
				phone := "555-0199"
				_, err := north.UpdateUser(f.ctx, u, auth.ProfileChange{Phone: &phone})
				return err
			},
			"agreement": func() error {
				_, err := north.RecordAgreement(f.ctx, u, auth.Agreement{Signed: "2026-03-01"})
				return err
			},
		} {
			err := op()
			if hmisauth.ErrorCode(err) != hmisauth.EFORBIDDEN {
				t.Errorf("%s on %s: %v, want forbidden", name, u, err)
			}
		}
	}
	if got := f.eventsSince(before); len(got) != 0 {
		t.Fatalf("refused operations wrote %v", got)
	}
	if _, err := north.SetDisabled(f.ctx, mine.Username, true); err != nil {
		t.Fatal(err)
	}
}

func TestAgencyAdminCannotGrantSysadminOrMoveUsers(t *testing.T) {
	f := newFixture(t)
	f.addAgency("North", 0)
	f.addAgency("South", 0)
	north := f.adminOf(f.signedInAs("Nora", "Admin", "agency_admin", "North"))
	u := f.create(auth.NewUser{Site: "live", FirstName: "Mia", LastName: "Mine", Agency: "North"}).User

	sys, south := "sysadmin", "South"
	_, err := north.UpdateUser(f.ctx, u.Username, auth.ProfileChange{Role: &sys})
	wantCode(t, err, hmisauth.EFORBIDDEN)
	_, err = north.UpdateUser(f.ctx, u.Username, auth.ProfileChange{Agency: &south})
	wantCode(t, err, hmisauth.EFORBIDDEN)
	_, err = north.CreateUser(f.ctx, auth.NewUser{FirstName: "A", LastName: "B", Role: "sysadmin"})
	wantCode(t, err, hmisauth.EFORBIDDEN)
	_, err = north.CreateUser(f.ctx, auth.NewUser{FirstName: "A", LastName: "B", Agency: "South"})
	wantCode(t, err, hmisauth.EFORBIDDEN)
	_, err = north.CreateAgency(f.ctx, auth.AgencyChange{Name: &south})
	wantCode(t, err, hmisauth.EFORBIDDEN)
	_, err = north.Audit(f.ctx, hmisauth.EventQuery{})
	wantCode(t, err, hmisauth.EFORBIDDEN)

	c, err := north.CreateUser(f.ctx, auth.NewUser{FirstName: "New", LastName: "Hire", Role: "agency_admin"})
	if err != nil {
		t.Fatal(err)
	}
	if c.User.AgencyID != north.Principal().User.AgencyID || c.User.Role != hmisauth.RoleAgencyAdmin {
		t.Errorf("created %+v, want an agency admin of North", c.User)
	}
	if got := f.reload(u.Username); got.Role != hmisauth.RoleUser || got.AgencyID != u.AgencyID {
		t.Errorf("user changed to %s in agency %d", got.Role, got.AgencyID)
	}
}

func TestAdminActionsAreAuditedAsThePrincipal(t *testing.T) {
	f := newFixture(t)
	p := f.signedInAs("Sam", "Sys", "sysadmin", "")
	sam := f.adminOf(p)
	f.create(auth.NewUser{Site: "live", FirstName: "John", LastName: "Doe"})
	if _, err := sam.Unlock(f.ctx, "jdoe"); err != nil {
		t.Fatal(err)
	}
	ctx := auth.WithActor(context.Background(), auth.Actor{ClientAddr: "198.51.100.7"})
	if err := sam.EndSessions(ctx, "jdoe"); err != nil {
		t.Fatal(err)
	}
	evs := f.events()
	unlock, ended := evs[len(evs)-2], evs[len(evs)-1]
	if unlock.Action != hmisauth.EventUserUnlocked || unlock.Actor != p.User.Username || unlock.Subject != "jdoe" ||
		unlock.ClientAddr != p.Session.ClientAddr {
		t.Errorf("unlock event %+v", unlock)
	}
	if ended.Action != hmisauth.EventSessionsEnded || ended.Actor != p.User.Username ||
		ended.ClientAddr != "198.51.100.7" {
		t.Errorf("sessions event %+v", ended)
	}
}

func TestAdminUsersFiltersAndPages(t *testing.T) {
	f := newFixture(t)
	f.addAgency("North", 0)
	f.addAgency("South", 0)
	sam := f.adminOf(f.signedInAs("Sam", "Sys", "sysadmin", ""))
	north := f.adminOf(f.signedInAs("Nora", "Admin", "agency_admin", "North"))
	for _, n := range []struct{ first, agency string }{{"Ann", "North"}, {"Ben", "South"}, {"Cal", "North"}, {"Dee", "North"}} {
		f.create(auth.NewUser{Site: "live", FirstName: n.first, LastName: "Rivera", Agency: n.agency})
	}
	if _, err := sam.RecordAgreement(f.ctx, "crivera", auth.Agreement{Signed: "2025-01-01", Expires: "2025-12-31"}); err != nil {
		t.Fatal(err)
	}
	names := func(a *auth.Admin, q auth.UserFilter) (out []string, next string) {
		t.Helper()
		page, err := a.Users(f.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Users {
			out = append(out, d.User.Username)
		}
		return out, page.Next
	}
	check := func(got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
	}
	got, _ := names(sam, auth.UserFilter{Text: "rivera"})
	check(got, "arivera", "brivera", "crivera", "drivera")
	got, _ = names(north, auth.UserFilter{Text: "rivera"})
	check(got, "arivera", "crivera", "drivera")
	got, next := names(north, auth.UserFilter{Text: "rivera", Limit: 2})
	check(got, "arivera", "crivera")
	got, next = names(north, auth.UserFilter{Text: "rivera", Limit: 2, After: next})
	check(got, "drivera")
	if next != "" {
		t.Errorf("last page has next %q", next)
	}
	got, _ = names(sam, auth.UserFilter{Status: auth.StatusAgreementExpired})
	check(got, "crivera")
	_, err := north.Users(f.ctx, auth.UserFilter{Agency: "South"})
	wantCode(t, err, hmisauth.EFORBIDDEN)
	_, err = sam.Users(f.ctx, auth.UserFilter{Status: "sleepy"})
	wantCode(t, err, hmisauth.EINVALID)
}

// TestAgencyNamesThatOnlyFoldAlikeStayApart: "Cloſe" (long s) is a different agency from
// "Close" to the store, though Unicode case folding calls the names equal; naming it must not
// let Close's admin reach it.
func TestAgencyNamesThatOnlyFoldAlikeStayApart(t *testing.T) {
	f := newFixture(t)
	own := f.addAgency("Close", 0)
	f.addAgency("Cloſe", 0)
	admin := f.adminOf(f.signedInAs("Cy", "Close", "agency_admin", "Close"))
	c, err := admin.CreateUser(f.ctx, auth.NewUser{FirstName: "Lo", LastName: "Ng", Agency: "Cloſe"})
	if err != nil {
		t.Fatal(err)
	}
	if c.User.AgencyID != own.ID {
		t.Errorf("created in agency %d, want %d", c.User.AgencyID, own.ID)
	}
	page, err := admin.Users(f.ctx, auth.UserFilter{Agency: "CLOſE"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range page.Users {
		if d.User.AgencyID != own.ID {
			t.Errorf("lists %s of agency %d", d.User.Username, d.User.AgencyID)
		}
	}
}
