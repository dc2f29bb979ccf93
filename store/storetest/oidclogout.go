package storetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// logoutFixture is a user with two sessions. desk signed in to hmis-app (with a back-channel
// URI) and to beds (without one); laptop to hmis-app only; neither to ce (with a URI). Each has
// tokens from each sign-in.
type logoutFixture struct {
	u              *hmisauth.User
	desk, laptop   *hmisauth.Session
	hmis, ce, beds *hmisauth.Client
}

func newLogoutFixture(t *testing.T, s hmisauth.Store) *logoutFixture {
	t.Helper()
	f := &logoutFixture{u: newUser(t, s, live, "jdoe")}
	f.hmis = newClient(t, s, live, "hmis-app", backchannel)
	f.ce = newClient(t, s, live, "ce", backchannel)
	f.beds = newClient(t, s, live, "beds")
	f.desk, f.laptop = appSession(t, s, f.u, "desk"), appSession(t, s, f.u, "laptop")
	issue(t, s, signInTo(t, s, f.hmis, f.desk, "desk-hmis"))
	issue(t, s, signInTo(t, s, f.beds, f.desk, "desk-beds"))
	issue(t, s, signInTo(t, s, f.hmis, f.laptop, "laptop-hmis"))
	// Someone else's session, signed in to the same client, is never touched.
	other := otherSession(t, s)
	issue(t, s, signInTo(t, s, f.hmis, other, "other-hmis"))
	return f
}

// wantEnded checks which of the fixture's sessions' tokens are gone.
func (f *logoutFixture) wantEnded(t *testing.T, s hmisauth.Store, desk, laptop bool) {
	t.Helper()
	wantAccess(t, s, map[string]bool{"at-desk-hmis": !desk, "at-desk-beds": !desk, "at-laptop-hmis": !laptop, "at-other-hmis": true})
	wantRefresh(t, s, map[string]bool{"rt-desk-hmis": !desk, "rt-desk-beds": !desk, "rt-laptop-hmis": !laptop, "rt-other-hmis": true})
}

// wantNotices checks the store holds one notice to hmis-app for each session given, made and
// due at when.
func (f *logoutFixture) wantNotices(t *testing.T, s hmisauth.Store, when time.Time, ended ...*hmisauth.Session) {
	t.Helper()
	got := logouts(t, s)
	if len(got) != len(ended) {
		t.Fatalf("%d logout notices, want %d (one to hmis-app per ended session): %s", len(got), len(ended), describe(got))
	}
	slices.SortFunc(got, func(a, b *hmisauth.LogoutNotice) int { return cmp.Compare(a.SID, b.SID) })
	slices.SortFunc(ended, func(a, b *hmisauth.Session) int { return cmp.Compare(a.SID, b.SID) })
	for i, n := range got {
		want := notice(f.hmis, f.u, ended[i], when)
		want.ID = n.ID
		equal(t, "notice "+n.SID, n, want)
	}
}

// sessionEndings are every explicit way a session ends: each ends desk, some laptop too, and
// says when the notices are made and due. DeleteSession is given no time: its notices are
// made at the session's last use, by the caller's clock like every other time and never after
// the sign-out, so a worker on that clock finds them due at once.
var sessionEndings = []struct {
	name   string
	laptop bool // laptop ends too
	end    func(t *testing.T, s hmisauth.Store, f *logoutFixture) time.Time
}{
	{"DeleteSessionSigningOut", false, func(t *testing.T, s hmisauth.Store, f *logoutFixture) time.Time {
		must(t, s.TouchSession(t.Context(), f.desk.ID, at(9)))
		must(t, s.DeleteSession(t.Context(), f.desk.ID, true))
		return at(9)
	}},
	{"DeleteUserSessions", false, func(t *testing.T, s hmisauth.Store, f *logoutFixture) time.Time {
		must(t, s.DeleteUserSessions(t.Context(), f.u.ID, f.laptop.ID, hmisauth.EndedByUser, at(10)))
		return at(10)
	}},
	{"EndUserSession", false, func(t *testing.T, s hmisauth.Store, f *logoutFixture) time.Time {
		must(t, s.EndUserSession(t.Context(), f.u.ID, f.desk.ID, hmisauth.EndedByUser, at(11)))
		return at(11)
	}},
	{"SetPassword", false, func(t *testing.T, s hmisauth.Store, f *logoutFixture) time.Time {
		must(t, s.SetPassword(t.Context(), hmisauth.PasswordChange{UserID: f.u.ID, Hash: "h1", At: at(12), KeepSessionID: f.laptop.ID}))
		return at(12)
	}},
	{"CompleteReset", true, func(t *testing.T, s hmisauth.Store, f *logoutFixture) time.Time {
		startReset(t, s, f.u, "link", 13)
		must(t, s.CompleteReset(t.Context(), tokenHash("link"), at(13), passwordChange(f.u, "new", at(13))))
		return at(13)
	}},
	{"SetDisabled", true, func(t *testing.T, s hmisauth.Store, f *logoutFixture) time.Time {
		must(t, s.SetDisabled(t.Context(), f.u.ID, true, at(14)))
		return at(14)
	}},
	{"ResetSecondFactors", true, func(t *testing.T, s hmisauth.Store, f *logoutFixture) time.Time {
		must(t, s.ResetSecondFactors(t.Context(), f.u.ID, at(15), nil))
		return at(15)
	}},
	{"SingleSessionSignIn", true, func(t *testing.T, s hmisauth.Store, f *logoutFixture) time.Time {
		kiosk := &hmisauth.Session{Site: live, UserID: f.u.ID, TokenHash: tokenHash("kiosk"), CreatedAt: at(16),
			ExpiresAt: at(16).Add(time.Hour), SID: "sid-kiosk"}
		must(t, s.CreateSession(t.Context(), kiosk, true))
		return at(16)
	}},
}

func sessionEndingTests() []test {
	var out []test
	for _, e := range sessionEndings {
		out = append(out, test{e.name + "RevokesTokensAndTellsItsBackchannelClients", func(t *testing.T, s hmisauth.Store) {
			f := newLogoutFixture(t, s)
			when := e.end(t, s, f)
			f.wantEnded(t, s, true, e.laptop)
			ended := []*hmisauth.Session{f.desk}
			if e.laptop {
				ended = append(ended, f.laptop)
			}
			f.wantNotices(t, s, when, ended...)
			wantCode(t, s.IssueTokens(t.Context(), accessFor(&hmisauth.AuthRequest{ID: "desk-hmis", Site: live,
				ClientID: "hmis-app", UserID: f.u.ID, SessionID: f.desk.ID}, "at-late"), nil), hmisauth.ENOTFOUND)
		}})
	}
	return out
}

var logoutTests = append(sessionEndingTests(), []test{
	{"ATimeOutRevokesTokensAndTellsNoOne", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		must(t, s.DeleteSession(t.Context(), f.desk.ID, false))
		f.wantEnded(t, s, true, false)
		n, err := s.DeleteExpiredSessions(t.Context(), t0.Add(12*time.Hour), time.Time{})
		must(t, err)
		if n != 2 { // laptop, and the other user's
			t.Errorf("DeleteExpiredSessions = %d, want 2", n)
		}
		wantAccess(t, s, map[string]bool{"at-laptop-hmis": false, "at-other-hmis": false})
		wantRefresh(t, s, map[string]bool{"rt-laptop-hmis": false, "rt-other-hmis": false})
		f.wantNotices(t, s, time.Time{})
	}},
	{"NoticesOutliveTheirSessionUserAndClient", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		must(t, s.EndUserSession(t.Context(), f.u.ID, f.desk.ID, hmisauth.EndedByHelpdesk, at(10)))
		must(t, s.DeleteClient(t.Context(), live, "hmis-app"))
		f.wantNotices(t, s, at(10), f.desk)
	}},
	{"ClaimTakesDueNoticesOldestFirst", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		late, first, second := owe(t, s, f, "late", 30), owe(t, s, f, "first", 10), owe(t, s, f, "second", 20)
		equal(t, "claim before any is due", claimNotices(t, s, at(9), 10), []int64{})
		equal(t, "first claim", claimNotices(t, s, at(20), 1), []int64{first.ID})
		ns, err := s.ClaimLogouts(t.Context(), at(20), time.Minute, 10)
		must(t, err)
		if len(ns) != 1 || ns[0].ID != second.ID {
			t.Fatalf("second claim: %s, want the second notice", describe(ns))
		}
		second.Attempts, second.LeasedUntil = 1, at(80)
		equal(t, "claimed notice", ns[0], second)
		equal(t, "claim at 30s", claimNotices(t, s, at(30), 10), []int64{late.ID})
		equal(t, "claim with none due", claimNotices(t, s, at(30), 10), []int64{})
		equal(t, "claim of none", claimNotices(t, s, at(3600), 0), []int64{})
	}},
	{"AClaimedNoticeReappearsWhenItsLeaseRunsOut", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		n := owe(t, s, f, "tok", 0)
		equal(t, "claim", claimNotices(t, s, t0, 10), []int64{n.ID})
		equal(t, "claim in the lease", claimNotices(t, s, t0.Add(time.Minute-time.Microsecond), 10), []int64{})
		ns, err := s.ClaimLogouts(t.Context(), t0.Add(time.Minute), time.Minute, 10)
		must(t, err)
		if len(ns) != 1 || ns[0].Attempts != 2 {
			t.Fatalf("claim after the lease: %+v, want the notice at its second attempt", ns)
		}
	}},
	{"ASentNoticeIsDone", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		n := owe(t, s, f, "tok", 0)
		c := claimLogouts(t, s, t0, 10)[0]
		must(t, s.LogoutSent(t.Context(), c, at(1)))
		// Later reports on the lease change nothing: the outcome is final.
		wantCode(t, s.LogoutSent(t.Context(), c, at(2)), hmisauth.ECONFLICT)
		wantCode(t, s.LogoutFailed(t.Context(), c, at(60), "late failure"), hmisauth.ECONFLICT)
		wantCode(t, s.AbandonLogout(t.Context(), c, at(90), "late abandon"), hmisauth.ECONFLICT)
		equal(t, "claim after sent", claimNotices(t, s, at(3600), 10), []int64{})
		n.Attempts, n.SentAt = 1, at(1)
		wantLogouts(t, s, n)
		wantCode(t, s.LogoutSent(t.Context(), unknownNotice(c), t0), hmisauth.ENOTFOUND)
	}},
	{"AFailedNoticeIsRetriedAtItsNextAttempt", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		n := owe(t, s, f, "tok", 0)
		ns, err := s.ClaimLogouts(t.Context(), t0, time.Hour, 10)
		must(t, err)
		must(t, s.LogoutFailed(t.Context(), ns[0], at(60), "503 Service Unavailable"))
		equal(t, "claim before the retry", claimNotices(t, s, at(59), 10), []int64{})
		ns, err = s.ClaimLogouts(t.Context(), at(60), time.Minute, 10)
		must(t, err)
		n.Attempts, n.LastError, n.NextAttemptAt, n.LeasedUntil = 2, "503 Service Unavailable", at(60), at(120)
		equal(t, "retried notice", ns, []*hmisauth.LogoutNotice{n})
		wantCode(t, s.LogoutFailed(t.Context(), unknownNotice(n), t0, "x"), hmisauth.ENOTFOUND)
	}},
	{"AnAbandonedNoticeIsNeverClaimed", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		n, kept := owe(t, s, f, "tok", 0), owe(t, s, f, "kept", 1)
		for _, c := range claimLogouts(t, s, at(1), 10) {
			must(t, s.LogoutFailed(t.Context(), c, at(60), "connection refused"))
		}
		retries := claimLogouts(t, s, at(60), 10)
		equal(t, "retries", len(retries), 2)
		must(t, s.AbandonLogout(t.Context(), noticeIn(t, retries, n.ID), at(900), "gave up after 24 hours"))
		must(t, s.AbandonLogout(t.Context(), noticeIn(t, retries, kept.ID), at(900), ""))
		wantCode(t, s.LogoutFailed(t.Context(), noticeIn(t, retries, n.ID), at(1000), "late failure"), hmisauth.ECONFLICT)
		equal(t, "claim after abandoning", claimNotices(t, s, at(3600), 10), []int64{})
		n.Attempts, n.NextAttemptAt, n.AbandonedAt, n.LastError = 2, at(60), at(900), "gave up after 24 hours"
		kept.Attempts, kept.NextAttemptAt, kept.AbandonedAt, kept.LastError = 2, at(60), at(900), "connection refused"
		wantLogouts(t, s, kept, n)
		wantCode(t, s.AbandonLogout(t.Context(), unknownNotice(n), t0, "x"), hmisauth.ENOTFOUND)
	}},
	{"AClaimNamesItsLeaseAndAReportEndsIt", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		n := owe(t, s, f, "tok", 0)
		c := claimLogouts(t, s, at(1), 10)[0]
		n.Attempts, n.LeasedUntil = 1, at(61)
		equal(t, "claimed notice", c, n)
		wantLogouts(t, s, n) // a lookup shows the lease too
		must(t, s.LogoutFailed(t.Context(), c, at(30), "503"))
		n.LeasedUntil, n.NextAttemptAt, n.LastError = time.Time{}, at(30), "503"
		wantLogouts(t, s, n)
	}},
	{"AReportOnALeaseThatRanOutUnclaimedStillCounts", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		n := owe(t, s, f, "tok", 0)
		c := claimLogouts(t, s, t0, 10)[0]
		must(t, s.LogoutSent(t.Context(), c, at(600)))
		n.Attempts, n.SentAt = 1, at(600)
		wantLogouts(t, s, n)
	}},
	{"AReportNamingNoCurrentLeaseChangesNothing", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		n := owe(t, s, f, "tok", 0)
		ev := event("test", "jdoe", "must not be written", 1)
		wantCode(t, s.LogoutSent(carrying(t, ev), n, at(1)), hmisauth.ECONFLICT) // never claimed
		c := claimLogouts(t, s, t0, 10)[0]
		forged := *c
		forged.LeasedUntil = forged.LeasedUntil.Add(-time.Microsecond)
		wantCode(t, s.LogoutSent(carrying(t, ev), &forged, at(1)), hmisauth.ECONFLICT)
		forged = *c
		forged.Attempts--
		wantCode(t, s.AbandonLogout(carrying(t, ev), &forged, at(1), "x"), hmisauth.ECONFLICT)
		if ev.ID != 0 {
			t.Errorf("a report that changed nothing appended its event (ID %d)", ev.ID)
		}
		n.Attempts, n.LeasedUntil = 1, at(60)
		wantLogouts(t, s, n)
	}},
	{"AWorkerWhoseLeaseRanOutCannotOverwriteTheNextOnes", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		for i, outcome := range mailOutcomes {
			t.Run(outcome, func(t *testing.T) {
				n := owe(t, s, f, fmt.Sprint("tok", i), 0)
				a := claimLogouts(t, s, t0, 1)[0]                  // worker A, which stalls
				b := claimLogouts(t, s, t0.Add(time.Minute), 1)[0] // worker B, after A's lease
				if a.ID != n.ID || b.ID != n.ID {
					t.Fatalf("claimed %d then %d, want %d twice", a.ID, b.ID, n.ID)
				}
				ev := event("test", "jdoe", "must not be written", 1)
				for _, how := range mailOutcomes { // A wakes while B holds the notice
					wantCode(t, reportLogout(carrying(t, ev), s, a, how, 70), hmisauth.ECONFLICT)
				}
				equal(t, "claim in B's lease", claimNotices(t, s, at(90), 10), []int64{})
				must(t, reportLogout(t.Context(), s, b, outcome, 100))
				for _, how := range mailOutcomes { // A wakes after B's report
					wantCode(t, reportLogout(carrying(t, ev), s, a, how, 110), hmisauth.ECONFLICT)
				}
				if ev.ID != 0 {
					t.Errorf("a stale report appended its event (ID %d)", ev.ID)
				}
				n.Attempts = 2
				reportedLogout(n, outcome, 100)
				equal(t, "the notice", noticeIn(t, logouts(t, s), n.ID), n)
			})
		}
	}},
	{"DeleteExpiredOIDCRemovesNoticesSettledBeforeBefore", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		sent, abandoned, late, pending := owe(t, s, f, "sent", 0), owe(t, s, f, "abandoned", 0), owe(t, s, f, "late", 0), owe(t, s, f, "pending", 0)
		ns := claimLogouts(t, s, t0, 10)
		must(t, s.LogoutSent(t.Context(), noticeIn(t, ns, sent.ID), at(10)))
		must(t, s.AbandonLogout(t.Context(), noticeIn(t, ns, abandoned.ID), at(10), "gone"))
		must(t, s.LogoutSent(t.Context(), noticeIn(t, ns, late.ID), at(20)))
		must(t, s.LogoutFailed(t.Context(), noticeIn(t, ns, pending.ID), at(30), "503"))
		must(t, s.DeleteExpiredOIDC(t.Context(), at(3600), at(20)))
		var left []int64
		for _, n := range logouts(t, s) {
			left = append(left, n.ID)
		}
		slices.Sort(left)
		equal(t, "notices left", left, []int64{late.ID, pending.ID})
	}},
	{"LogoutNoticesListsNewestFirst", func(t *testing.T, s hmisauth.Store) {
		f := newLogoutFixture(t, s)
		var want []*hmisauth.LogoutNotice
		for _, sec := range []int{3, 1, 4, 2} {
			want = append(want, owe(t, s, f, fmt.Sprint("tok", sec), sec))
		}
		got, err := s.LogoutNotices(t.Context(), 2)
		must(t, err)
		equal(t, "LogoutNotices(2)", got, []*hmisauth.LogoutNotice{want[2], want[0]})
	}},
	{"FourParallelClaimersNeverShareANotice", func(t *testing.T, s hmisauth.Store) {
		parallelLogoutClaim(t, []hmisauth.Store{s}, 4, 60)
	}},
	{"ParallelWorkersNeverReportOverTheOwnerOfANotice", func(t *testing.T, s hmisauth.Store) {
		parallelLogoutTakeover(t, []hmisauth.Store{s}, 4, 45)
	}},
}...)

// owe makes a session of the fixture's user with token, signs it in to hmis-app, and ends it
// at t0+sec: the notice it queues.
func owe(t *testing.T, s hmisauth.Store, f *logoutFixture, token string, sec int) *hmisauth.LogoutNotice {
	t.Helper()
	sess := appSession(t, s, f.u, token)
	signInTo(t, s, f.hmis, sess, "owe-"+token)
	must(t, s.EndUserSession(t.Context(), f.u.ID, sess.ID, hmisauth.EndedByUser, at(sec)))
	for _, n := range logouts(t, s) {
		if n.SID == sess.SID {
			return n
		}
	}
	t.Fatalf("ending session %s queued no notice", token)
	return nil
}

// claimLogouts claims logout notices at now with a one-minute lease.
func claimLogouts(t *testing.T, s hmisauth.Store, now time.Time, limit int) []*hmisauth.LogoutNotice {
	t.Helper()
	ns, err := s.ClaimLogouts(t.Context(), now, time.Minute, limit)
	must(t, err)
	return ns
}

// noticeIn is notice id among ns.
func noticeIn(t *testing.T, ns []*hmisauth.LogoutNotice, id int64) *hmisauth.LogoutNotice {
	t.Helper()
	for _, n := range ns {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("notice %d is not among %s", id, describe(ns))
	return nil
}

// unknownNotice is n's claim with an ID no notice has.
func unknownNotice(n *hmisauth.LogoutNotice) *hmisauth.LogoutNotice {
	c := *n
	c.ID = 1 << 40
	return &c
}

// reportLogout reports the outcome of the claim c at t0+sec, like reportMail.
func reportLogout(ctx context.Context, s hmisauth.Store, c *hmisauth.LogoutNotice, outcome string, sec int) error {
	switch outcome {
	case "sent":
		return s.LogoutSent(ctx, c, at(sec))
	case "failed":
		return s.LogoutFailed(ctx, c, at(3600), fmt.Sprint("failed at ", sec))
	}
	return s.AbandonLogout(ctx, c, at(sec), fmt.Sprint("abandoned at ", sec))
}

// reportedLogout sets in n what reportLogout(outcome, sec) records.
func reportedLogout(n *hmisauth.LogoutNotice, outcome string, sec int) {
	n.LeasedUntil = time.Time{}
	switch outcome {
	case "sent":
		n.SentAt = at(sec)
	case "failed":
		n.NextAttemptAt, n.LastError = at(3600), fmt.Sprint("failed at ", sec)
	default:
		n.AbandonedAt, n.LastError = at(sec), fmt.Sprint("abandoned at ", sec)
	}
}

// ParallelLogoutClaim queues n logout notices, then has claimers workers per store claim them
// in parallel until none is left, and checks each was claimed exactly once. The stores must
// share one database: backends use it to check two Store values — two processes — agree.
func ParallelLogoutClaim(t *testing.T, stores []hmisauth.Store, claimers, n int) {
	t.Helper()
	parallelLogoutClaim(t, stores, claimers, n)
}

func parallelLogoutClaim(t *testing.T, stores []hmisauth.Store, claimers, n int) {
	t.Helper()
	s := stores[0]
	u := newUser(t, s, live, "jdoe")
	c := newClient(t, s, live, "hmis-app", backchannel)
	for i := range n {
		signInTo(t, s, c, appSession(t, s, u, fmt.Sprint("tok", i)), fmt.Sprint("req", i))
	}
	must(t, s.DeleteUserSessions(t.Context(), u.ID, 0, hmisauth.EndedByHelpdesk, t0))
	var mu sync.Mutex
	claimed := make(map[int64]int)
	wantNoErrors(t, parallel(claimers*len(stores), func(i int) error {
		for range n { // a claim that never runs dry is a broken lease: stop rather than spin
			ns, err := stores[i%len(stores)].ClaimLogouts(t.Context(), t0, time.Hour, 7)
			if err != nil || len(ns) == 0 {
				return err
			}
			mu.Lock()
			for _, n := range ns {
				claimed[n.ID]++
			}
			mu.Unlock()
		}
		return nil
	}))
	twice := 0
	for _, k := range claimed {
		if k > 1 {
			twice++
		}
	}
	if len(claimed) != n || twice > 0 {
		t.Errorf("%d of %d notices claimed, %d of them more than once; want each exactly once", len(claimed), n, twice)
	}
}

// ParallelLogoutTakeover is ParallelMailTakeover for logout notices: n notices claimed at t0
// by a worker that stalls past its lease and then reports each, while workers more claim them
// after the lease and report them sent. Each notice must have exactly one report that counted.
func ParallelLogoutTakeover(t *testing.T, stores []hmisauth.Store, workers, n int) {
	t.Helper()
	parallelLogoutTakeover(t, stores, workers, n)
}

func parallelLogoutTakeover(t *testing.T, stores []hmisauth.Store, workers, n int) {
	t.Helper()
	s := stores[0]
	u := newUser(t, s, live, "jdoe")
	c := newClient(t, s, live, "hmis-app", backchannel)
	for i := range n {
		signInTo(t, s, c, appSession(t, s, u, fmt.Sprint("tok", i)), fmt.Sprint("req", i))
	}
	must(t, s.DeleteUserSessions(t.Context(), u.ID, 0, hmisauth.EndedByHelpdesk, t0))
	takeover[*hmisauth.LogoutNotice]{
		what: "notice",
		id:   func(n *hmisauth.LogoutNotice) int64 { return n.ID },
		view: func(n *hmisauth.LogoutNotice) leaseView {
			return leaseView{n.Attempts, n.SentAt, n.AbandonedAt, n.NextAttemptAt, n.LeasedUntil, n.LastError}
		},
		claim:  hmisauth.Store.ClaimLogouts,
		report: reportLogout,
		rows:   logouts,
	}.run(t, stores, workers, n)
}
