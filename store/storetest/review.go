package storetest

import (
	"slices"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
)

// Security officers, the agency an audit event concerns, and access-log reviews (issue 15).
var reviewTests = []test{
	{"EventsTakeTheirSubjectsAndActorsAgency", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 0)
		b := newAgency(t, s, live, "Safe Harbor", 0)
		other := newAgency(t, s, training, "Hope House", 0)
		newUser(t, s, live, "AAdmin", inAgency(a), func(u *hmisauth.User) { u.Role = hmisauth.RoleAgencyAdmin })
		newUser(t, s, live, "ajones", inAgency(a))
		newUser(t, s, live, "bsmith", inAgency(b))
		newUser(t, s, live, "helpdesk", func(u *hmisauth.User) { u.Role = hmisauth.RoleSysadmin })
		// The same username on another site is another account, in another agency.
		newUser(t, s, training, "bsmith", inAgency(other))
		ev := func(actor, subject, detail string, agency int64) *hmisauth.Event {
			return &hmisauth.Event{Site: live, At: t0, Actor: actor, Subject: subject,
				Action: hmisauth.EventUserUpdated, Detail: detail, AgencyID: agency}
		}
		evs := []*hmisauth.Event{
			ev("helpdesk", "AJONES", "a's user, by a sysadmin", 0),
			ev("helpdesk", "bsmith", "b's user, by a sysadmin", 0),
			ev("aadmin", "", "by a's admin, on no one", 0),
			ev("", "nosuchuser", "a failed sign-in as no one", 0),
			ev("helpdesk", "", "for b, said by the caller", b.ID),
			ev("cli:root", "helpdesk", "a sysadmin, by the command line", 0),
		}
		must(t, s.AppendEvents(t.Context(), evs...))
		wantAgency := [][2]int64{{a.ID, 0}, {b.ID, 0}, {0, a.ID}, {0, 0}, {b.ID, 0}, {0, 0}}
		for i, e := range evs {
			if got := [2]int64{e.AgencyID, e.ActorAgencyID}; got != wantAgency[i] {
				t.Errorf("%s: agency, actor's agency = %v, want %v", e.Detail, got, wantAgency[i])
			}
		}
		// What the caller's copies say, a read of the log says; and the chain still verifies,
		// the agencies being outside it.
		logged := wantChain(t, s)
		for i := range evs {
			equal(t, "logged "+evs[i].Detail, logged[i], evs[i])
		}
		if rep, err := audit.Verify(t.Context(), s); err != nil || !rep.OK || rep.Events != len(evs) {
			t.Errorf("audit verify: %+v %v", rep, err)
		}
		for _, c := range []struct {
			agency int64
			want   []string
		}{
			{a.ID, []string{"by a's admin, on no one", "a's user, by a sysadmin"}},
			{b.ID, []string{"for b, said by the caller", "b's user, by a sysadmin"}},
			{other.ID, nil},
		} {
			got, err := s.Events(t.Context(), hmisauth.EventQuery{Site: live, AgencyID: c.agency})
			must(t, err)
			if d := details(got); !slices.Equal(d, c.want) && len(d)+len(c.want) > 0 {
				t.Errorf("agency %d's events: %q, want %q", c.agency, d, c.want)
			}
		}
		// The filter combines with the others.
		got, err := s.Events(t.Context(), hmisauth.EventQuery{Site: live, AgencyID: a.ID, Subject: "ajones"})
		must(t, err)
		if d := details(got); !slices.Equal(d, []string{"a's user, by a sysadmin"}) {
			t.Errorf("agency a's events on ajones: %q", d)
		}
	}},
	{"OnlyAnAgencyAdminIsASecurityOfficer", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 0)
		b := newAgency(t, s, live, "Safe Harbor", 0)
		admin := newUser(t, s, live, "aadmin", inAgency(a), func(u *hmisauth.User) { u.Role = hmisauth.RoleAgencyAdmin })
		user := newUser(t, s, live, "ajones", inAgency(a))
		loose := newUser(t, s, live, "loose", func(u *hmisauth.User) { u.Role = hmisauth.RoleAgencyAdmin })
		if reload(t, s, admin).SecurityOfficer {
			t.Fatal("a new agency admin is a security officer")
		}
		wantCode(t, s.SetSecurityOfficer(carrying(t, event("test", "ajones", "refused", 1)), user.ID, true), hmisauth.EINVALID)
		wantCode(t, s.SetSecurityOfficer(t.Context(), loose.ID, true), hmisauth.EINVALID)
		wantCode(t, s.SetSecurityOfficer(t.Context(), 9999, true), hmisauth.ENOTFOUND)
		ev := event(hmisauth.EventSecurityOfficer, "aadmin", "made officer", 2)
		must(t, s.SetSecurityOfficer(carrying(t, ev), admin.ID, true))
		if !reload(t, s, admin).SecurityOfficer {
			t.Fatal("SetSecurityOfficer(true) did not mark the agency admin")
		}
		if ev.AgencyID != a.ID {
			t.Errorf("the officer's event concerns agency %d, want %d", ev.AgencyID, a.ID)
		}
		wantDetails(t, s, "made officer")
		// A profile saved with the same role and agency keeps the mark.
		u := reload(t, s, admin)
		u.FirstName = "Ann"
		must(t, s.UpdateUserProfile(t.Context(), u))
		if !reload(t, s, admin).SecurityOfficer {
			t.Fatal("saving the officer's name cleared the mark")
		}
		// Another agency, or another role, ends it.
		u.AgencyID = b.ID
		must(t, s.UpdateUserProfile(t.Context(), u))
		if reload(t, s, admin).SecurityOfficer {
			t.Fatal("moving the officer to another agency kept the mark")
		}
		must(t, s.SetSecurityOfficer(t.Context(), admin.ID, true))
		u.Role = hmisauth.RoleUser
		must(t, s.UpdateUserProfile(t.Context(), u))
		if reload(t, s, admin).SecurityOfficer {
			t.Fatal("making the officer a plain user kept the mark")
		}
		// Unmarking anyone is always allowed.
		must(t, s.SetSecurityOfficer(t.Context(), admin.ID, false))
	}},
	{"ReviewsListNewestFirstBySiteAndAgency", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 0)
		b := newAgency(t, s, live, "Safe Harbor", 0)
		elsewhere := newAgency(t, s, training, "Elsewhere", 0)
		review := func(agency int64, sec int, from, to hmisauth.Date) *hmisauth.LogReview {
			return &hmisauth.LogReview{Site: live, AgencyID: agency, Reviewer: "helpdesk", From: from, To: to,
				Findings: "Two failed sign-ins from one address.", FollowUp: "Asked the user.", At: at(sec)}
		}
		site1 := review(0, 10, "2026-01-01", "2026-01-31")
		a1 := review(a.ID, 20, "2026-01-01", "2026-01-31")
		site2 := review(0, 30, "2026-02-01", "2026-02-28")
		a2 := review(a.ID, 40, "2026-02-01", "2026-02-28")
		b1 := review(b.ID, 50, "2026-02-01", "2026-02-01")
		for i, r := range []*hmisauth.LogReview{site1, a1, site2, a2, b1} {
			ev := event(hmisauth.EventAccessLogReviewed, "", "review "+string(rune('1'+i)), i)
			ev.AgencyID = r.AgencyID
			must(t, s.RecordReview(carrying(t, ev), r))
			if r.ID == 0 {
				t.Fatal("RecordReview left the ID zero")
			}
		}
		wantDetails(t, s, "review 1", "review 2", "review 3", "review 4", "review 5")
		list := func(agency int64) []*hmisauth.LogReview {
			got, err := s.LogReviews(t.Context(), live, agency)
			must(t, err)
			return got
		}
		equal(t, "site reviews", list(0), []*hmisauth.LogReview{site2, site1})
		equal(t, "agency a's reviews", list(a.ID), []*hmisauth.LogReview{a2, a1})
		equal(t, "agency b's reviews", list(b.ID), []*hmisauth.LogReview{b1})
		all, err := s.AllLogReviews(t.Context(), live)
		must(t, err)
		equal(t, "all reviews", all, []*hmisauth.LogReview{b1, a2, site2, a1, site1})
		none, err := s.AllLogReviews(t.Context(), training)
		must(t, err)
		if len(none) != 0 {
			t.Errorf("the training site has %d reviews, want none", len(none))
		}
		// Another site's agency is no agency here; nothing is written.
		bad := review(elsewhere.ID, 60, "2026-02-01", "2026-02-28")
		wantCode(t, s.RecordReview(carrying(t, event("test", "", "refused", 60)), bad), hmisauth.ENOTFOUND)
		wantDetails(t, s, "review 1", "review 2", "review 3", "review 4", "review 5")
		// A review without a time is stamped now.
		unset := &hmisauth.LogReview{Site: live, Reviewer: "helpdesk", From: "2026-03-01", To: "2026-03-01"}
		must(t, s.RecordReview(t.Context(), unset))
		if unset.At.IsZero() || list(0)[0].ID != unset.ID || !list(0)[0].At.Equal(unset.At) {
			t.Errorf("a review without a time: stored %+v, caller has %v", list(0)[0], unset.At)
		}
	}},
}
