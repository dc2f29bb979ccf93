package storetest

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

var agencyTests = []test{
	{"CreateSetsIDAndCreatedAtAndRoundTrips", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 10)
		if a.ID == 0 || a.CreatedAt.IsZero() {
			t.Fatalf("CreateAgency left ID %d, CreatedAt %v", a.ID, a.CreatedAt)
		}
		got, err := s.Agency(t.Context(), live, a.ID)
		must(t, err)
		equal(t, "Agency", got, a)
	}},
	{"CreateKeepsACallersCreatedAt", func(t *testing.T, s hmisauth.Store) {
		a := &hmisauth.Agency{Site: live, Name: "Shelter Plus", CreatedAt: t0.Add(-time.Hour)}
		must(t, s.CreateAgency(t.Context(), a))
		got, err := s.Agency(t.Context(), live, a.ID)
		must(t, err)
		equal(t, "Agency", got, a)
		if got.LicenseExpires != "" || got.LicenseStarts != "" {
			t.Errorf("unset license dates came back as %q, %q", got.LicenseStarts, got.LicenseExpires)
		}
	}},
	{"NameIsUniquePerSiteCaseInsensitively", func(t *testing.T, s hmisauth.Store) {
		newAgency(t, s, live, "Hope House", 0)
		err := s.CreateAgency(t.Context(), &hmisauth.Agency{Site: live, Name: " HOPE house"})
		wantCode(t, err, hmisauth.ECONFLICT)
		newAgency(t, s, training, "Hope House", 0)
	}},
	{"ByNameIsCaseInsensitive", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 3)
		got, err := s.AgencyByName(t.Context(), live, "hope HOUSE")
		must(t, err)
		equal(t, "AgencyByName", got, a)
		_, err = s.AgencyByName(t.Context(), training, "Hope House")
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"AnotherSitesAgencyIsNotFound", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 3)
		_, err := s.Agency(t.Context(), training, a.ID)
		wantCode(t, err, hmisauth.ENOTFOUND)
		_, err = s.Agency(t.Context(), live, a.ID+1000)
		wantCode(t, err, hmisauth.ENOTFOUND)
	}},
	{"UpdateSavesNameSeatsAndLicense", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 3)
		a.Name, a.Seats, a.LicenseStarts, a.LicenseExpires = "Hope House West", 12, "2027-01-01", ""
		must(t, s.UpdateAgency(t.Context(), a))
		got, err := s.Agency(t.Context(), live, a.ID)
		must(t, err)
		equal(t, "Agency", got, a)
		_, err = s.AgencyByName(t.Context(), live, "hope house west")
		must(t, err)
	}},
	{"UpdateToATakenNameIsConflict", func(t *testing.T, s hmisauth.Store) {
		newAgency(t, s, live, "Hope House", 0)
		b := newAgency(t, s, live, "Shelter Plus", 0)
		b.Name = "HOPE HOUSE"
		wantCode(t, s.UpdateAgency(t.Context(), b), hmisauth.ECONFLICT)
	}},
	{"UpdateUnknownIsNotFound", func(t *testing.T, s hmisauth.Store) {
		err := s.UpdateAgency(t.Context(), &hmisauth.Agency{ID: 999, Site: live, Name: "Nowhere"})
		wantCode(t, err, hmisauth.ENOTFOUND)
		a := newAgency(t, s, live, "Hope House", 0)
		a.Site = training
		wantCode(t, s.UpdateAgency(t.Context(), a), hmisauth.ENOTFOUND)
	}},
	{"ListIsTheSitesAgenciesByName", func(t *testing.T, s hmisauth.Store) {
		c := newAgency(t, s, live, "Catholic Charities", 0)
		a := newAgency(t, s, live, "anchor house", 0)
		b := newAgency(t, s, live, "Bethany", 0)
		newAgency(t, s, training, "Training Agency", 0)
		got, err := s.Agencies(t.Context(), live)
		must(t, err)
		equal(t, "Agencies", got, []*hmisauth.Agency{a, b, c})
		got, err = s.Agencies(t.Context(), "nosuchsite")
		must(t, err)
		if len(got) != 0 {
			t.Errorf("Agencies of an empty site = %v", got)
		}
	}},
	{"UserCountIsSeatsInUse", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 0)
		other := newAgency(t, s, live, "Bethany", 0)
		newUser(t, s, live, "amy", inAgency(a))
		bob := newUser(t, s, live, "bob", inAgency(a))
		newUser(t, s, live, "cal", inAgency(a), func(u *hmisauth.User) { u.Disabled, u.DisabledAt = true, t0 })
		newUser(t, s, live, "dan", inAgency(other))
		newUser(t, s, live, "eve")
		wantCount(t, s, a, 2)
		must(t, s.SetDisabled(t.Context(), bob.ID, true, t0))
		wantCount(t, s, a, 1)
		wantCount(t, s, &hmisauth.Agency{ID: 999}, 0)
	}},
}

func wantCount(t *testing.T, s hmisauth.Store, a *hmisauth.Agency, want int) {
	t.Helper()
	n, err := s.AgencyUserCount(t.Context(), a.ID)
	must(t, err)
	if n != want {
		t.Errorf("AgencyUserCount(%d) = %d, want %d", a.ID, n, want)
	}
}
