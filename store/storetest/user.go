package storetest

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

var userTests = []test{
	{"EveryFieldRoundTrips", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 0)
		chicago := time.FixedZone("CST", -6*3600)
		u := &hmisauth.User{
			Site: live, Username: "JDoe", FirstName: "Jane", LastName: "Doe",
			Email: "jane@example.org", Phone: "555-0100", AgencyID: a.ID, Role: hmisauth.RoleAgencyAdmin,
			CreatedAt: t0.In(chicago), PasswordHash: "$argon2id$hash", PasswordChangedAt: t0.Add(time.Minute),
			PasswordTemporary: true, TemporaryUsedAt: t0.Add(2 * time.Minute), MustChangePassword: true,
			TermsVersion: 2, TermsAcceptedAt: t0.Add(3 * time.Minute), LastLoginAt: t0.Add(4 * time.Minute),
			AgreementSignedOn: "2026-01-05", AgreementSupervisorSignedOn: "2026-01-06",
			AgreementDirectorSignedOn: "2026-01-07", AgreementExpiresOn: "2027-01-05",
			RecoveryQuestion: "First pet?", RecoveryAnswerHash: "$argon2id$answer",
		}
		must(t, s.CreateUser(t.Context(), u))
		got := reload(t, s, u)
		equal(t, "UserByID", got, u)
		got, err := s.User(t.Context(), live, "JDoe")
		must(t, err)
		equal(t, "User", got, u)
	}},
	{"ZeroTimesAndDatesRoundTripAsZero", func(t *testing.T, s hmisauth.Store) {
		u := &hmisauth.User{Site: live, Username: "bare", CreatedAt: t0}
		must(t, s.CreateUser(t.Context(), u))
		got := reload(t, s, u)
		u.Role = hmisauth.RoleUser // the default for an unset role
		equal(t, "User", got, u)
	}},
	{"CreateStampsCreatedAtWhenLeftZero", func(t *testing.T, s hmisauth.Store) {
		u := &hmisauth.User{Site: live, Username: "fresh"}
		must(t, s.CreateUser(t.Context(), u))
		if u.CreatedAt.IsZero() {
			t.Fatal("CreatedAt left zero")
		}
		equal(t, "CreatedAt", reload(t, s, u).CreatedAt, u.CreatedAt)
	}},
	{"UsernamesAreCaseInsensitive", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "JDoe")
		for _, name := range []string{"jdoe", "JDOE", " jDoe "} {
			got, err := s.User(t.Context(), live, name)
			must(t, err)
			if got.ID != u.ID || got.Username != "JDoe" {
				t.Errorf("User(%q) = #%d %q, want #%d %q", name, got.ID, got.Username, u.ID, "JDoe")
			}
		}
	}},
	{"UsernameClashIsConflict", func(t *testing.T, s hmisauth.Store) {
		newUser(t, s, live, "jdoe")
		err := s.CreateUser(t.Context(), &hmisauth.User{Site: live, Username: "JDOE", CreatedAt: t0})
		e := wantCode(t, err, hmisauth.ECONFLICT)
		if want := "The username JDOE is already taken on this site."; e.Message != want {
			t.Errorf("message %q, want %q", e.Message, want)
		}
	}},
	{"SameUsernameOnTwoSitesIsTwoAccounts", func(t *testing.T, s hmisauth.Store) {
		a := newUser(t, s, live, "jdoe")
		b := newUser(t, s, training, "jdoe")
		if a.ID == b.ID {
			t.Fatal("one ID for two accounts")
		}
		got, err := s.User(t.Context(), training, "JDOE")
		must(t, err)
		if got.ID != b.ID || got.Site != training {
			t.Errorf("User(training, JDOE) = #%d on %s, want #%d", got.ID, got.Site, b.ID)
		}
	}},
	{"UsernameIsRequired", func(t *testing.T, s hmisauth.Store) {
		err := s.CreateUser(t.Context(), &hmisauth.User{Site: live, Username: "  ", CreatedAt: t0})
		wantCode(t, err, hmisauth.EINVALID)
	}},
	{"UnknownUserIsNotFound", func(t *testing.T, s hmisauth.Store) {
		newUser(t, s, live, "jdoe")
		_, err := s.User(t.Context(), live, "nobody")
		wantCode(t, err, hmisauth.ENOTFOUND)
		_, err = s.User(t.Context(), training, "jdoe")
		wantCode(t, err, hmisauth.ENOTFOUND)
		_, err = s.UserByID(t.Context(), 999)
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"FullAgencyRefusesANewUser", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 2)
		newUser(t, s, live, "amy", inAgency(a))
		newUser(t, s, live, "bob", inAgency(a))
		err := s.CreateUser(t.Context(), &hmisauth.User{Site: live, Username: "cal", AgencyID: a.ID, CreatedAt: t0})
		e := wantCode(t, err, hmisauth.ESeatsFull)
		want := "Agency Hope House has no free seats (2 of 2 used). Free a seat or raise the agency's seats."
		if e.Message != want {
			t.Errorf("message %q, want %q", e.Message, want)
		}
		_, err = s.User(t.Context(), live, "cal")
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"DisabledUsersFreeTheirSeat", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 1)
		amy := newUser(t, s, live, "amy", inAgency(a))
		must(t, s.SetDisabled(t.Context(), amy.ID, true, t0))
		newUser(t, s, live, "bob", inAgency(a))
		// A disabled account takes no seat, so creating one in a full agency is fine.
		newUser(t, s, live, "cal", inAgency(a), func(u *hmisauth.User) { u.Disabled = true })
	}},
	{"ZeroSeatsIsUnlimited", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 0)
		for _, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
			newUser(t, s, live, name, inAgency(a))
		}
		wantCount(t, s, a, 5)
	}},
	{"AgencyMustBeOnTheUsersSite", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, training, "Hope House", 0)
		err := s.CreateUser(t.Context(), &hmisauth.User{Site: live, Username: "amy", AgencyID: a.ID, CreatedAt: t0})
		wantCode(t, err, hmisauth.ENOTFOUND)
		u := newUser(t, s, live, "bob")
		u.AgencyID = a.ID
		wantCode(t, s.UpdateUserProfile(t.Context(), u), hmisauth.ENOTFOUND)
	}},
	{"UpdateProfileSavesNamesContactAgencyAndRole", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 0)
		u := newUser(t, s, live, "jdoe")
		u.FirstName, u.LastName, u.Email, u.Phone = "Janet", "Dough", "janet@example.org", "555-0199"
		u.AgencyID, u.Role = a.ID, hmisauth.RoleAgencyAdmin
		must(t, s.UpdateUserProfile(t.Context(), u))
		equal(t, "User", reload(t, s, u), u)
		u.AgencyID = 0
		must(t, s.UpdateUserProfile(t.Context(), u))
		equal(t, "User", reload(t, s, u), u)
	}},
	{"UpdateProfileLeavesEverythingElse", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		must(t, s.AcceptTerms(t.Context(), u.ID, 1, t0))
		want := reload(t, s, u)
		edit := *want
		edit.Username, edit.PasswordHash, edit.TermsVersion, edit.Email = "other", "x", 9, "new@example.org"
		must(t, s.UpdateUserProfile(t.Context(), &edit))
		want.Email = "new@example.org"
		equal(t, "User", reload(t, s, u), want)
	}},
	{"UpdateProfileOfUnknownUserIsNotFound", func(t *testing.T, s hmisauth.Store) {
		err := s.UpdateUserProfile(t.Context(), &hmisauth.User{ID: 999, Site: live, Username: "ghost"})
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"SysadminCountIsPerSite", func(t *testing.T, s hmisauth.Store) {
		wantSysadmins(t, s, live, 0)
		sysadmin := func(u *hmisauth.User) { u.Role = hmisauth.RoleSysadmin }
		newUser(t, s, live, "root", sysadmin)
		newUser(t, s, live, "admin2", sysadmin, func(u *hmisauth.User) { u.Disabled = true })
		newUser(t, s, live, "agencyadmin", func(u *hmisauth.User) { u.Role = hmisauth.RoleAgencyAdmin })
		newUser(t, s, training, "trainer", sysadmin)
		// A disabled sysadmin is still one: first start must not create another behind it.
		wantSysadmins(t, s, live, 2)
		wantSysadmins(t, s, training, 1)
	}},
}

func wantSysadmins(t *testing.T, s hmisauth.Store, site string, want int) {
	t.Helper()
	n, err := s.SysadminCount(t.Context(), site)
	must(t, err)
	if n != want {
		t.Errorf("SysadminCount(%s) = %d, want %d", site, n, want)
	}
}
