package storetest

import (
	"testing"

	"github.com/hmisauth/hmisauth"
)

func departures(t *testing.T, s hmisauth.Store, site string) []hmisauth.Departure {
	t.Helper()
	list, err := s.Departures(t.Context(), site)
	must(t, err)
	out := make([]hmisauth.Departure, len(list))
	for i, d := range list {
		out[i] = *d
	}
	return out
}

var departureTests = []test{
	{"DisableRecordsTheDepartureWithTheDisable", func(t *testing.T, s hmisauth.Store) {
		ag := newAgency(t, s, live, "Hope House", 0)
		amy := newUser(t, s, live, "amy", inAgency(ag))
		bob := newUser(t, s, live, "bob")
		newUser(t, s, live, "cal") // enabled: not a departure
		newUser(t, s, training, "amy2")
		sess := newSession(t, s, amy, "amy-token", false)
		ctx := carrying(t, event(hmisauth.EventUserDisabled, "amy", "reason: left_agency", 5))
		must(t, s.Disable(ctx, &hmisauth.Departure{UserID: amy.ID, Reason: hmisauth.DepartureLeftAgency,
			ReportedOn: "2026-03-01", DisabledAt: at(5), DisabledBy: "ssysop"}))
		if got := reload(t, s, amy); !got.Disabled || !got.DisabledAt.Equal(at(5)) {
			t.Fatalf("after Disable: disabled %v at %v", got.Disabled, got.DisabledAt)
		}
		wantCode(t, func() error { _, err := s.Session(t.Context(), sess.ID); return err }(), hmisauth.ENOTFOUND)
		equal(t, "events", details(allEvents(t, s)), []string{"reason: left_agency"})
		// Disabled before departures were kept (SetDisabled): listed, with no reason.
		must(t, s.SetDisabled(t.Context(), bob.ID, true, at(9)))
		want := []hmisauth.Departure{
			{UserID: amy.ID, Username: "amy", AgencyID: ag.ID, Reason: hmisauth.DepartureLeftAgency,
				ReportedOn: "2026-03-01", DisabledAt: at(5), DisabledBy: "ssysop"},
			{UserID: bob.ID, Username: "bob", DisabledAt: at(9)},
		}
		equal(t, "departures", departures(t, s, live), want)
		got, err := s.UserDeparture(t.Context(), amy.ID)
		must(t, err)
		equal(t, "UserDeparture", *got, want[0])
		_, err = s.UserDeparture(t.Context(), bob.ID)
		wantCode(t, err, hmisauth.ENOTFOUND)
		if n := len(departures(t, s, training)); n != 0 {
			t.Errorf("training site lists %d departures", n)
		}
	}},
	{"ASecondDisableKeepsTheFirstDepartureAndEnablingForgetsIt", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "amy")
		first := hmisauth.Departure{UserID: u.ID, Reason: hmisauth.DepartureViolation, ReportedOn: "2026-03-02",
			DisabledAt: at(1), DisabledBy: "ssysop"}
		must(t, s.Disable(t.Context(), &first))
		must(t, s.Disable(t.Context(), &hmisauth.Departure{UserID: u.ID, Reason: hmisauth.DepartureOther,
			DisabledAt: at(2), DisabledBy: "other"}))
		first.Username = "amy"
		equal(t, "after a second Disable", departures(t, s, live), []hmisauth.Departure{first})
		must(t, s.SetDisabled(t.Context(), u.ID, false, at(3)))
		if n := len(departures(t, s, live)); n != 0 {
			t.Fatalf("an enabled account lists %d departures", n)
		}
		_, err := s.UserDeparture(t.Context(), u.ID)
		wantCode(t, err, hmisauth.ENOTFOUND)
		again := hmisauth.Departure{UserID: u.ID, Username: "amy", Reason: hmisauth.DepartureInactive,
			ReportedOn: "2026-04-01", DisabledAt: at(4), DisabledBy: "job:daily"}
		must(t, s.Disable(t.Context(), &again))
		equal(t, "disabled again", departures(t, s, live), []hmisauth.Departure{again})
	}},
	{"DisableOfNoUserIsNotFound", func(t *testing.T, s hmisauth.Store) {
		wantCode(t, s.Disable(t.Context(), &hmisauth.Departure{UserID: 999, Reason: hmisauth.DepartureOther, DisabledAt: t0}),
			hmisauth.ENOTFOUND)
	}},
}
