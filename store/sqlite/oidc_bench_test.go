package sqlite_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

// The OpenID Connect provider's hot paths: userinfo and introspection read an access token
// and its user, a refresh grant reads its client and refresh token and rotates it, a code
// redemption issues tokens. Targets: userinfo at 10,000/s and refresh grants at 2,000/s on
// two cores, so the store's part must cost a small fraction of 100 µs and 500 µs of CPU.

// benchGrants makes a store with 1,000 users each signed in once, so lookups search real
// indexes, and returns it with the grants.
func benchGrants(b *testing.B) (*sqlite.Store, []grant) {
	s := open(b, b.TempDir()+"/hmisauth.db")
	gs := make([]grant, 1000)
	for i := range gs {
		u := &hmisauth.User{Site: "live", Username: fmt.Sprint("user", i), PasswordHash: "$argon2id$x", CreatedAt: benchNow}
		if err := s.CreateUser(b.Context(), u); err != nil {
			b.Fatal(err)
		}
		gs[i] = signIn(b, s, u, fmt.Sprint(i))
	}
	return s, gs
}

// Userinfo and introspection: the access token's record, then its user.
func BenchmarkAccessToken(b *testing.B) {
	s, gs := benchGrants(b)
	i := 0
	for b.Loop() {
		i++
		if _, err := s.AccessToken(b.Context(), gs[i%len(gs)].at.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUserByID(b *testing.B) {
	s, gs := benchGrants(b)
	i := 0
	for b.Loop() {
		i++
		if _, err := s.UserByID(b.Context(), gs[i%len(gs)].at.UserID); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClient(b *testing.B) {
	s, _ := benchGrants(b)
	for b.Loop() {
		if _, err := s.Client(b.Context(), "live", "hmis-app"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRefreshToken(b *testing.B) {
	s, gs := benchGrants(b)
	i := 0
	for b.Loop() {
		i++
		if _, err := s.RefreshToken(b.Context(), gs[i%len(gs)].rt.Hash); err != nil {
			b.Fatal(err)
		}
	}
}

// The store's part of one userinfo request, from every core at once.
func BenchmarkUserinfoParallel(b *testing.B) {
	s, gs := benchGrants(b)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			g := gs[n.Add(1)%int64(len(gs))]
			at, err := s.AccessToken(b.Context(), g.at.ID)
			if err == nil {
				_, err = s.UserByID(b.Context(), at.UserID)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// A code redemption's tokens, with the tokens_issued event the provider appends.
func BenchmarkIssueTokens(b *testing.B) {
	s, gs := benchGrants(b)
	g := gs[0]
	i := 0
	for b.Loop() {
		i++
		at, rt := *g.at, *g.rt
		at.ID, rt.Hash, rt.Family = fmt.Sprint("at-bench-", i), digest(fmt.Sprint("rt-bench-", i)), fmt.Sprint("family-bench-", i)
		ev := &hmisauth.Event{Site: "live", At: benchNow, Actor: "user0", Subject: "user0", Action: hmisauth.EventTokensIssued}
		if err := s.IssueTokens(hmisauth.WithEvent(b.Context(), ev), &at, &rt); err != nil {
			b.Fatal(err)
		}
	}
}

// One rotation after another down a family, with the tokens_refreshed event.
func BenchmarkRotateRefreshToken(b *testing.B) {
	s, gs := benchGrants(b)
	old := gs[0].rt
	i := 0
	for b.Loop() {
		i++
		next := *old
		next.Hash = digest(fmt.Sprint("rotated ", i))
		at := hmisauth.AccessToken{ID: fmt.Sprint("at-rotated-", i), Scopes: old.Scopes, CreatedAt: benchNow,
			ExpiresAt: benchNow.Add(10 * time.Minute)}
		ev := &hmisauth.Event{Site: "live", At: benchNow, Actor: "user0", Subject: "user0", Action: hmisauth.EventTokensRefreshed}
		if err := s.RotateRefreshToken(hmisauth.WithEvent(b.Context(), ev), old.Hash, benchNow, &next, &at); err != nil {
			b.Fatal(err)
		}
		old = &next
	}
}

// The store's part of one refresh grant — the client, the refresh token, the user, the
// rotation with its event — from every core at once, each goroutine down families of its own.
func BenchmarkRefreshGrantParallel(b *testing.B) {
	s, gs := benchGrants(b)
	var next atomic.Int64
	var rotations atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := gs[next.Add(1)%int64(len(gs))]
		old := g.rt
		for pb.Next() {
			k := rotations.Add(1)
			if _, err := s.Client(b.Context(), "live", old.ClientID); err != nil {
				b.Error(err)
				return
			}
			rt, err := s.RefreshToken(b.Context(), old.Hash)
			if err == nil {
				_, err = s.UserByID(b.Context(), rt.UserID)
			}
			if err != nil {
				b.Error(err)
				return
			}
			n := *rt
			n.Hash = digest(fmt.Sprint("parallel ", k))
			at := hmisauth.AccessToken{ID: fmt.Sprint("at-parallel-", k), Scopes: rt.Scopes, CreatedAt: benchNow,
				ExpiresAt: benchNow.Add(10 * time.Minute)}
			ev := &hmisauth.Event{Site: "live", At: benchNow, Actor: "u", Subject: "u", Action: hmisauth.EventTokensRefreshed}
			if err := s.RotateRefreshToken(hmisauth.WithEvent(b.Context(), ev), old.Hash, benchNow, &n, &at); err != nil {
				b.Error(err)
				return
			}
			old = &n
		}
	})
}
