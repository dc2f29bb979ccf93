package storetest

import (
	"fmt"
	"testing"

	"github.com/hmisauth/hmisauth"
)

// policyEvent is the policy_changed event a start with policy p carries.
func policyEvent(p string, sec int) *hmisauth.Event {
	return &hmisauth.Event{Site: live, At: at(sec), Action: hmisauth.EventPolicyChanged, Detail: p}
}

// recordPolicy records p on live as a start would, reporting whether it was a change.
func recordPolicy(t *testing.T, s hmisauth.Store, p string, sec int) bool {
	t.Helper()
	must(t, s.SyncSite(t.Context(), &hmisauth.Site{Key: live, Name: "HMIS Live"}))
	changed, err := s.RecordPolicy(carrying(t, policyEvent(p, sec)), live, p)
	must(t, err)
	return changed
}

var policyTests = []test{
	{"FirstPolicyThenOnlyChangesAreRecorded", func(t *testing.T, s hmisauth.Store) {
		for i, step := range []struct {
			policy string
			want   bool
		}{
			{`{"a":1}`, true},  // none recorded yet
			{`{"a":1}`, false}, // restarted with the same configuration
			{`{"a":2}`, true},
			{`{"a":2}`, false},
			{`{"a":1}`, true}, // changed back is a change too
		} {
			if got := recordPolicy(t, s, step.policy, i); got != step.want {
				t.Fatalf("start %d with %s: changed %v, want %v", i+1, step.policy, got, step.want)
			}
		}
		wantDetails(t, s, `{"a":1}`, `{"a":2}`, `{"a":1}`)
	}},
	{"AnotherSitesPolicyIsItsOwn", func(t *testing.T, s hmisauth.Store) {
		recordPolicy(t, s, `{"a":1}`, 1)
		must(t, s.SyncSite(t.Context(), &hmisauth.Site{Key: training, Name: "HMIS Training"}))
		ev := policyEvent(`{"a":1}`, 2)
		ev.Site = training
		changed, err := s.RecordPolicy(carrying(t, ev), training, `{"a":1}`)
		if err != nil || !changed {
			t.Fatalf("the training site's first policy: changed %v, %v; want recorded", changed, err)
		}
	}},
	{"UnknownSiteIsNotFound", func(t *testing.T, s hmisauth.Store) {
		_, err := s.RecordPolicy(carrying(t, policyEvent(`{}`, 1)), "nowhere", `{}`)
		if hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
			t.Fatalf("RecordPolicy on an unknown site: %v, want ENOTFOUND", err)
		}
		wantDetails(t, s)
	}},
	{"ParallelStartsRecordOneChange", func(t *testing.T, s hmisauth.Store) {
		ParallelPolicy(t, []hmisauth.Store{s}, 8)
	}},
}

// ParallelPolicy starts n servers at once, split across stores, twice with one new policy
// each time: each round records exactly one change and appends exactly one event.
func ParallelPolicy(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	must(t, stores[0].SyncSite(t.Context(), &hmisauth.Site{Key: live, Name: "HMIS Live"}))
	for round := range 2 {
		p := fmt.Sprintf(`{"round":%d}`, round)
		changed := make([]bool, n)
		wantNoErrors(t, parallel(n, func(i int) error {
			var err error
			changed[i], err = stores[i%len(stores)].RecordPolicy(carrying(t, policyEvent(p, round)), live, p)
			return err
		}))
		if got := countTrue(changed); got != 1 {
			t.Errorf("round %d: %d of %d parallel starts recorded the new policy, want exactly 1", round, got, n)
		}
	}
	wantDetails(t, stores[0], `{"round":0}`, `{"round":1}`)
}
