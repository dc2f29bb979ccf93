package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// What the audit log adds to a sign-in: reading the chain head, hashing, and one insert into
// a table with five indexes, in the transaction the sign-in writes anyway. Compare with the
// same step without an event, and with the ~25 ms of one Argon2id hash.

func signInEvent() *hmisauth.Event {
	return &hmisauth.Event{Site: "live", At: benchNow, Actor: "jdoe", Subject: "jdoe",
		Action: hmisauth.EventLoginSucceeded, ClientAddr: "192.0.2.10"}
}

func BenchmarkLoginSucceeded(b *testing.B) {
	s, u := benchUser(b)
	for b.Loop() {
		if err := s.LoginSucceeded(b.Context(), u.ID, benchNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoginSucceededWithEvent(b *testing.B) {
	s, u := benchUser(b)
	for b.Loop() {
		if err := s.LoginSucceeded(hmisauth.WithEvent(b.Context(), signInEvent()), u.ID, benchNow); err != nil {
			b.Fatal(err)
		}
	}
}

// A single-statement write runs bare without events, in a transaction with them.
func BenchmarkTouchSession(b *testing.B) { benchTouch(b, false) }

func BenchmarkTouchSessionWithEvent(b *testing.B) { benchTouch(b, true) }

func benchTouch(b *testing.B, withEvent bool) {
	s, u := benchUser(b)
	sess := &hmisauth.Session{Site: "live", UserID: u.ID, TokenHash: []byte("token-0123456789abcdef0123456789"),
		CreatedAt: benchNow, LastSeenAt: benchNow, ExpiresAt: benchNow.Add(time.Hour)}
	if err := s.CreateSession(b.Context(), sess, false); err != nil {
		b.Fatal(err)
	}
	at := benchNow
	for b.Loop() {
		ctx := context.Context(b.Context())
		if withEvent {
			ctx = hmisauth.WithEvent(ctx, signInEvent())
		}
		at = at.Add(time.Microsecond)
		if err := s.TouchSession(ctx, sess.ID, at); err != nil {
			b.Fatal(err)
		}
	}
}

// A failed sign-in's event on its own, into a log that already holds 100,000.
func BenchmarkAppendEvents(b *testing.B) {
	s, _ := benchUser(b)
	batch := make([]*hmisauth.Event, 1000)
	for range 100 {
		for i := range batch {
			batch[i] = signInEvent()
		}
		if err := s.AppendEvents(b.Context(), batch...); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		ev := signInEvent()
		ev.Action, ev.Actor, ev.Detail = hmisauth.EventLoginFailed, "", "wrong_password"
		if err := s.AppendEvents(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
	}
}
