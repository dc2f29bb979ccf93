package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// queueRequests queues a request for each username at t0, in order, and returns them.
func queueRequests(t *testing.T, s hmisauth.Store, names ...string) []*hmisauth.ResetRequest {
	t.Helper()
	var rs []*hmisauth.ResetRequest
	for _, name := range names {
		r := &hmisauth.ResetRequest{Site: live, Username: name, ClientAddr: "192.0.2.7", At: t0}
		if err := s.QueueResetRequest(t.Context(), r); err != nil || r.ID == 0 {
			t.Fatalf("queue %s: id %d, %v", name, r.ID, err)
		}
		rs = append(rs, r)
	}
	return rs
}

// claimRequests claims with a one-minute lease and returns the usernames, in the order given.
func claimRequests(t *testing.T, s hmisauth.Store, now time.Time, limit int) ([]*hmisauth.ResetRequest, []string) {
	t.Helper()
	got, err := s.ClaimResetRequests(t.Context(), now, time.Minute, limit)
	must(t, err)
	var names []string
	for _, r := range got {
		names = append(names, r.Username)
	}
	return got, names
}

// wantNames stops the test unless names are want, in order.
func wantNames(t *testing.T, what string, names []string, want ...string) {
	t.Helper()
	if !slices.Equal(names, want) {
		t.Fatalf("%s gave %q, want %q", what, names, want)
	}
}

func endRequest(t *testing.T, s hmisauth.Store, r *hmisauth.ResetRequest, want bool) {
	t.Helper()
	if ended, err := s.EndResetRequest(t.Context(), r); err != nil || ended != want {
		t.Fatalf("EndResetRequest(%d, leased until %v) = %v, %v; want %v", r.ID, r.LeasedUntil, ended, err, want)
	}
}

// testResetRequestsQueue: requests come out oldest first, with what went in and their lease;
// a leased request is not claimed again while its lease lasts, and an ended one is gone.
func testResetRequestsQueue(t *testing.T, s hmisauth.Store) {
	queued := queueRequests(t, s, "jdoe", "nosuchuser", "JDoe")
	got, names := claimRequests(t, s, t0, 2)
	wantNames(t, "the first claim", names, "jdoe", "nosuchuser")
	want := *queued[0]
	want.LeasedUntil = t0.Add(time.Minute)
	equal(t, "the claimed request", got[0], &want)
	_, names = claimRequests(t, s, t0.Add(time.Second), 10)
	wantNames(t, "the second claim (the first two are leased)", names, "JDoe")
	if _, names := claimRequests(t, s, t0.Add(59*time.Second), 10); len(names) != 0 {
		t.Fatalf("claimed again while leased: %v", names)
	}
	for _, r := range got {
		endRequest(t, s, r, true)
		endRequest(t, s, r, false) // already ended
	}
	// Past the lease only the request not ended is left.
	_, names = claimRequests(t, s, t0.Add(time.Hour), 10)
	wantNames(t, "the claim after the lease", names, "JDoe")
}

// testResetRequestLeaseEnds: a request whose lease ended (at or before now) is claimed again,
// oldest first among the free ones; the stale holder's end then changes nothing, the new
// holder's removes it.
func testResetRequestLeaseEnds(t *testing.T, s hmisauth.Store) {
	queueRequests(t, s, "amy", "bob")
	stale, names := claimRequests(t, s, t0, 1)
	wantNames(t, "the first claim", names, "amy")
	queueRequests(t, s, "cal")
	// amy's lease ends exactly now: she comes first again, before bob and cal.
	owned, names := claimRequests(t, s, t0.Add(time.Minute), 10)
	wantNames(t, "the claim as the lease ends", names, "amy", "bob", "cal")
	if !owned[0].LeasedUntil.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("amy leased again until %v, want %v", owned[0].LeasedUntil, t0.Add(2*time.Minute))
	}
	endRequest(t, s, stale[0], false)
	if _, names := claimRequests(t, s, t0.Add(time.Minute+time.Second), 10); len(names) != 0 {
		t.Fatalf("the stale holder's end freed or removed requests: claimed %v", names)
	}
	for _, r := range owned {
		endRequest(t, s, r, true)
	}
	if _, names := claimRequests(t, s, t0.Add(time.Hour), 10); len(names) != 0 {
		t.Fatalf("queue not empty: %v", names)
	}
}

var resetRequestTests = []test{
	{"QueueThenClaimOldestFirst", testResetRequestsQueue},
	{"ExpiredLeaseIsClaimedAgain", testResetRequestLeaseEnds},
	{"NoLeaseIsRefused", func(t *testing.T, s hmisauth.Store) {
		queueRequests(t, s, "jdoe")
		if got, err := s.ClaimResetRequests(t.Context(), t0, 0, 10); err == nil || len(got) != 0 {
			t.Fatalf("a claim without a lease: %v, %v; want an error", got, err)
		}
		_, names := claimRequests(t, s, t0, 10)
		wantNames(t, "the claim after it", names, "jdoe")
	}},
	{"ParallelClaimersNeverShare", func(t *testing.T, s hmisauth.Store) {
		parallelResetClaims(t, []hmisauth.Store{s}, 4, 60)
	}},
}

// ParallelResetClaims queues n requests, has claimers workers per store claim them at t0 (a
// one-minute lease, seven at a time) in parallel until none is left, and checks each went to
// exactly one, oldest first within each claim. Then, past the lease, those stale holders end
// their requests while as many workers more claim them again and end them: each request must
// be ended by exactly one (the stale holder if it came before any other claim, else the one
// worker that claimed it after the lease), and the queue is left empty. The stores must share
// one database: backends use it to check two Store values — two processes — agree.
func ParallelResetClaims(t *testing.T, stores []hmisauth.Store, claimers, n int) {
	t.Helper()
	parallelResetClaims(t, stores, claimers, n)
}

func parallelResetClaims(t *testing.T, stores []hmisauth.Store, claimers, n int) {
	t.Helper()
	for i := range n {
		queueRequests(t, stores[i%len(stores)], fmt.Sprintf("user%03d", i))
	}
	w := claimers * len(stores)
	var mu sync.Mutex
	var stale []*hmisauth.ResetRequest
	claimed := make(map[int64]int)
	wantNoErrors(t, parallel(w, func(i int) error {
		for range n { // a claim that never runs dry is a broken lease: stop rather than spin
			got, err := stores[i%len(stores)].ClaimResetRequests(t.Context(), t0, time.Minute, 7)
			if err != nil || len(got) == 0 {
				return err
			}
			for j := 1; j < len(got); j++ {
				if got[j].ID <= got[j-1].ID {
					return fmt.Errorf("a claim gave request %d before %d: want oldest first", got[j-1].ID, got[j].ID)
				}
			}
			mu.Lock()
			for _, r := range got {
				claimed[r.ID]++
				stale = append(stale, r)
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
		t.Fatalf("%d of %d requests claimed, %d of them more than once; want each exactly once", len(claimed), n, twice)
	}

	staleEnded := make(map[int64]bool)
	owned := make(map[int64]int) // claims after the lease
	wantNoErrors(t, parallel(2*w, func(i int) error {
		s := stores[i%len(stores)]
		if i < w { // the stale holders' ends, shared out
			for j := i; j < len(stale); j += w {
				ended, err := s.EndResetRequest(t.Context(), stale[j])
				if err != nil {
					return fmt.Errorf("the stale end of request %d: %w", stale[j].ID, err)
				}
				mu.Lock()
				staleEnded[stale[j].ID] = ended
				mu.Unlock()
			}
			return nil
		}
		for range n {
			got, err := s.ClaimResetRequests(t.Context(), t0.Add(time.Minute), time.Hour, 3)
			if err != nil || len(got) == 0 {
				return err
			}
			for _, r := range got {
				mu.Lock()
				owned[r.ID]++
				mu.Unlock()
				if ended, err := s.EndResetRequest(context.WithoutCancel(t.Context()), r); err != nil || !ended {
					return fmt.Errorf("the new holder's end of request %d: %v, %v; want true", r.ID, ended, err)
				}
			}
		}
		return nil
	}))
	for id := range claimed {
		switch {
		case owned[id] > 1:
			t.Errorf("request %d was claimed %d times after the lease", id, owned[id])
		case owned[id] == 1 && staleEnded[id]:
			t.Errorf("request %d: the stale holder ended it, and another worker claimed it", id)
		case owned[id] == 0 && !staleEnded[id]:
			t.Errorf("request %d: the stale end was refused, yet no other worker claimed it", id)
		}
	}
	if got, err := stores[0].ClaimResetRequests(t.Context(), t0.Add(24*time.Hour), time.Minute, n); err != nil || len(got) != 0 {
		t.Errorf("after every request was ended, a claim gave %d, %v; want none", len(got), err)
	}
}
