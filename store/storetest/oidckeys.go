package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// signingKey is key id of site, signing from t0+sec.
func signingKey(site, id string, sec int) *hmisauth.SigningKey {
	return &hmisauth.SigningKey{ID: id, Site: site, Algorithm: "RS256", Private: []byte("sealed private " + id),
		Public: []byte("public " + id), UseFrom: at(sec), CreatedAt: at(sec - 3600)}
}

func addKey(t *testing.T, s hmisauth.Store, k *hmisauth.SigningKey, want bool) {
	t.Helper()
	added, err := s.AddSigningKey(t.Context(), k)
	must(t, err)
	if added != want {
		t.Fatalf("AddSigningKey(%s from %v) = %v, want %v", k.ID, k.UseFrom.Sub(t0), added, want)
	}
}

func wantKeys(t *testing.T, s hmisauth.Store, site string, want ...*hmisauth.SigningKey) {
	t.Helper()
	got, err := s.SigningKeys(t.Context(), site)
	must(t, err)
	if len(got) != 0 || len(want) != 0 {
		equal(t, "SigningKeys("+site+")", got, want)
	}
}

var signingKeyTests = []test{
	{"KeysRoundTripOldestFirst", func(t *testing.T, s hmisauth.Store) {
		a, b := signingKey(live, "k1", 0), signingKey(live, "k2", 7200)
		addKey(t, s, a, true)
		addKey(t, s, b, true)
		other := signingKey(training, "k1", 3600)
		addKey(t, s, other, true)
		wantKeys(t, s, live, a, b)
		wantKeys(t, s, training, other)
		wantKeys(t, s, "nowhere")
	}},
	{"AddStampsCreatedAtWhenLeftZero", func(t *testing.T, s hmisauth.Store) {
		k := signingKey(live, "k1", 0)
		k.CreatedAt = time.Time{}
		addKey(t, s, k, true)
		if k.CreatedAt.IsZero() {
			t.Fatal("CreatedAt left zero")
		}
		wantKeys(t, s, live, k)
	}},
	{"AddStoresOnlyAKeyNewerThanEveryOther", func(t *testing.T, s hmisauth.Store) {
		k := signingKey(live, "k1", 3600)
		addKey(t, s, k, true)
		addKey(t, s, signingKey(live, "same", 3600), false)
		addKey(t, s, signingKey(live, "older", 0), false)
		wantKeys(t, s, live, k)
		_, err := s.AddSigningKey(t.Context(), signingKey(live, "k1", 7200))
		wantCode(t, err, hmisauth.ECONFLICT)
		newer := signingKey(live, "k2", 3601)
		addKey(t, s, newer, true)
		wantKeys(t, s, live, k, newer)
	}},
	{"OfTwentyParallelAddsOfTheNextKeyOneStores", func(t *testing.T, s hmisauth.Store) {
		parallelSigningKeys(t, []hmisauth.Store{s}, 20)
	}},
	{"UseSigningKeyFromMovesItsStart", func(t *testing.T, s hmisauth.Store) {
		cur, next := signingKey(live, "k1", 0), signingKey(live, "k2", 7200)
		addKey(t, s, cur, true)
		addKey(t, s, next, true)
		must(t, s.UseSigningKeyFrom(t.Context(), live, "k2", at(60)))
		next.UseFrom = at(60)
		wantKeys(t, s, live, cur, next)
		wantCode(t, s.UseSigningKeyFrom(t.Context(), live, "k2", at(0)), hmisauth.ECONFLICT)
		wantCode(t, s.UseSigningKeyFrom(t.Context(), training, "k2", at(60)), hmisauth.ENOTFOUND)
		wantCode(t, s.UseSigningKeyFrom(t.Context(), live, "nope", at(60)), hmisauth.ENOTFOUND)
		wantKeys(t, s, live, cur, next)
	}},
	{"DeleteSigningKeysKeepsTheNewestOldKey", func(t *testing.T, s hmisauth.Store) {
		var keys []*hmisauth.SigningKey
		for i, sec := range []int{0, 100, 200, 400} {
			k := signingKey(live, fmt.Sprint("k", i), sec)
			addKey(t, s, k, true)
			keys = append(keys, k)
		}
		other := signingKey(training, "t0", 0)
		addKey(t, s, other, true)
		must(t, s.DeleteSigningKeys(t.Context(), live, at(0)))
		wantKeys(t, s, live, keys...)
		must(t, s.DeleteSigningKeys(t.Context(), live, at(300)))
		wantKeys(t, s, live, keys[2], keys[3])
		must(t, s.DeleteSigningKeys(t.Context(), live, at(300)))
		wantKeys(t, s, live, keys[2], keys[3])
		must(t, s.DeleteSigningKeys(t.Context(), live, at(3600)))
		wantKeys(t, s, live, keys[3])
		wantKeys(t, s, training, other)
	}},
}

// ParallelSigningKeys has n processes add the site's next key at once, all with one UseFrom
// and each its own ID, spread over the stores (which must share one database), and checks
// exactly one stored its key. Backends use it to check two Store values agree.
func ParallelSigningKeys(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	parallelSigningKeys(t, stores, n)
}

func parallelSigningKeys(t *testing.T, stores []hmisauth.Store, n int) {
	t.Helper()
	addKey(t, stores[0], signingKey(live, "current", 0), true)
	added := make([]bool, n)
	wantNoErrors(t, parallel(n, func(i int) (err error) {
		added[i], err = stores[i%len(stores)].AddSigningKey(t.Context(), signingKey(live, fmt.Sprint("next", i), 3600))
		return err
	}))
	if got := countTrue(added); got != 1 {
		t.Fatalf("%d of %d parallel adds of the next key stored it, want 1", got, n)
	}
	keys, err := stores[0].SigningKeys(t.Context(), live)
	must(t, err)
	if len(keys) != 2 || keys[1].ID != fmt.Sprint("next", slices.Index(added, true)) {
		t.Errorf("keys after the parallel adds: %d, want current and the one added", len(keys))
	}
}
