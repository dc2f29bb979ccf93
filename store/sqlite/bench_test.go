package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// These measure the database steps of a sign-in, to compare with the ~25 ms of one Argon2id
// hash: the store must not be what limits sign-ins per second.

var benchNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func benchUser(b *testing.B) (hmisauth.Store, *hmisauth.User) {
	s := open(b, filepath.Join(b.TempDir(), "hmisauth.db"))
	u := &hmisauth.User{Site: "live", Username: "jdoe", PasswordHash: "$argon2id$x", CreatedAt: benchNow}
	if err := s.CreateUser(b.Context(), u); err != nil {
		b.Fatal(err)
	}
	return s, u
}

func BenchmarkReserveLoginAttempt(b *testing.B) {
	s, _ := benchUser(b)
	for b.Loop() {
		if _, err := s.ReserveLoginAttempt(b.Context(), "live", "jdoe", 1<<30, benchNow); err != nil {
			b.Fatal(err)
		}
	}
}

// An attack on a locked account costs no hash, only this refusal.
func BenchmarkReserveLoginAttemptLocked(b *testing.B) {
	s, _ := benchUser(b)
	for b.Loop() {
		if _, err := s.ReserveLoginAttempt(b.Context(), "live", "jdoe", 1, benchNow); err != nil {
			b.Fatal(err)
		}
	}
}

// A right password's lockout bookkeeping: reserve, then clear.
func BenchmarkReserveThenLoginSucceeded(b *testing.B) {
	s, u := benchUser(b)
	for b.Loop() {
		if _, err := s.ReserveLoginAttempt(b.Context(), "live", "jdoe", 3, benchNow); err != nil {
			b.Fatal(err)
		}
		if err := s.LoginSucceeded(b.Context(), u.ID, benchNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUserLookup(b *testing.B) {
	s, _ := benchUser(b)
	for b.Loop() {
		if _, err := s.User(b.Context(), "live", "JDoe"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUserLookupParallel(b *testing.B) {
	s, _ := benchUser(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.User(b.Context(), "live", "jdoe"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkCreateSession(b *testing.B) {
	s, u := benchUser(b)
	i := 0
	for b.Loop() {
		i++
		sess := &hmisauth.Session{Site: "live", UserID: u.ID, TokenHash: fmt.Appendf(nil, "token-%030d", i),
			CreatedAt: benchNow, LastSeenAt: benchNow, ExpiresAt: benchNow.Add(time.Hour)}
		if err := s.CreateSession(b.Context(), sess, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSessionByToken(b *testing.B) {
	s, u := benchUser(b)
	sess := &hmisauth.Session{Site: "live", UserID: u.ID, TokenHash: []byte("token-0123456789abcdef0123456789"),
		CreatedAt: benchNow, LastSeenAt: benchNow, ExpiresAt: benchNow.Add(time.Hour)}
	if err := s.CreateSession(b.Context(), sess, false); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.SessionByToken(b.Context(), sess.TokenHash); err != nil {
			b.Fatal(err)
		}
	}
}
