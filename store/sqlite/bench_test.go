package sqlite_test

import (
	"fmt"
	"path/filepath"
	"strings"
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

// The outbox and rate limits sit on the forgot-password path and the mail worker's loop; like
// the sign-in steps they must cost far less than a hash.

func benchMessage(i int) *hmisauth.Message {
	return &hmisauth.Message{Site: "live", Kind: hmisauth.MailReset, To: "jane@example.org",
		Subject: "HMIS Live: reset your password", Text: strings.Repeat("text ", 200), HTML: strings.Repeat("<p>html</p>", 100),
		MessageID: fmt.Sprintf("<%d@hmis.example.org>", i), CreatedAt: benchNow}
}

// Claiming ten from a backlog of 10,000 (the mail server was down): each round the previous
// leases have run out, so the same index range is searched and leased again.
func BenchmarkClaimMail(b *testing.B) {
	s, _ := benchUser(b)
	for i := range 10_000 {
		if err := s.EnqueueMail(b.Context(), benchMessage(i)); err != nil {
			b.Fatal(err)
		}
	}
	now := benchNow
	for b.Loop() {
		ms, err := s.ClaimMail(b.Context(), now, time.Minute, 10)
		if err != nil || len(ms) != 10 {
			b.Fatalf("claimed %d: %v", len(ms), err)
		}
		now = now.Add(time.Minute)
	}
}

// One message's whole life in the store: queued, claimed, sent.
func BenchmarkEnqueueClaimSent(b *testing.B) {
	s, _ := benchUser(b)
	i := 0
	for b.Loop() {
		i++
		if err := s.EnqueueMail(b.Context(), benchMessage(i)); err != nil {
			b.Fatal(err)
		}
		ms, err := s.ClaimMail(b.Context(), benchNow, time.Minute, 1)
		if err != nil || len(ms) != 1 {
			b.Fatalf("claimed %d: %v", len(ms), err)
		}
		if err := s.MailSent(b.Context(), ms[0], benchNow, false); err != nil {
			b.Fatal(err)
		}
	}
}

// The same key in the same window: the upsert's update path.
func BenchmarkHitRateLimit(b *testing.B) {
	s, _ := benchUser(b)
	for b.Loop() {
		if _, err := s.HitRateLimit(b.Context(), "forgot:live:192.0.2.7", time.Hour, 5, benchNow); err != nil {
			b.Fatal(err)
		}
	}
}

// A new key every time (many client addresses): the insert path and the ended-window cleanup.
func BenchmarkHitRateLimitNewKeys(b *testing.B) {
	s, _ := benchUser(b)
	i := 0
	for b.Loop() {
		i++
		if _, err := s.HitRateLimit(b.Context(), fmt.Sprint("forgot:live:", i), time.Hour, 5, benchNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHitRateLimitParallel(b *testing.B) {
	s, _ := benchUser(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.HitRateLimit(b.Context(), "forgot:live:192.0.2.7", time.Hour, 5, benchNow); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
