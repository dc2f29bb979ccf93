package auth

import (
	"context"
	"time"

	"github.com/hmisauth/hmisauth"
)

// One-time form tokens (hmisauth.FormToken): a page whose form creates something or shows a
// secret carries one, and the form acts only on the token's first use. A reload or a double
// click sends the same token again, and that sending learns what the first one did instead.

// IssueFormToken returns a new one-time token for a form of purpose on the signed-in session's
// pages. It lives as long as the session at most, and goes with it.
func (s *Service) IssueFormToken(ctx context.Context, p *Principal, purpose string) (string, error) {
	if p == nil || p.Session == nil {
		return "", hmisauth.Errorf(hmisauth.EUnauthorized, "Please sign in.")
	}
	token, hash := newToken()
	err := s.store.IssueFormToken(ctx, &hmisauth.FormToken{Hash: hash, SessionID: p.Session.ID, Purpose: purpose,
		CreatedAt: s.clock.Now(), ExpiresAt: p.Session.ExpiresAt})
	return token, err
}

// FormUse is one sending of a form with its token.
type FormUse struct {
	// First is true when this sending acts: the caller does the form's work, then calls Done
	// with what it did, or Undo when the work was refused and changed nothing.
	First bool
	// Result is, for a repeat, what the first sending did as Done recorded it; "" when the
	// first is still at work after formWait.
	Result string
	// At is when the first sending came.
	At time.Time

	svc  *Service
	hash []byte
}

// formWait is how long a repeat waits for the first sending to finish, so the answer a person
// sees after a double click (the browser shows the second) can say what the first did: one
// account created, with its username. Creating one takes well under a second.
const formWait = 5 * time.Second

// formPoll is how often a waiting repeat looks again.
const formPoll = 50 * time.Millisecond

// UseFormToken uses token for a form of purpose sent in the principal's session. An unknown
// or expired token, or one of another session or form, is ENOTFOUND: the form acts on none of
// them. Of parallel sendings with one token exactly one is First.
func (s *Service) UseFormToken(ctx context.Context, p *Principal, purpose, token string) (*FormUse, error) {
	if token == "" || p == nil || p.Session == nil {
		return nil, hmisauth.Errorf(hmisauth.ENOTFOUND, "This form has expired or belongs to another page.")
	}
	hash := HashToken(token)
	deadline := time.Now().Add(formWait) // the wait is real time, whatever the service's clock says
	for {
		t, first, err := s.store.UseFormToken(ctx, hash, p.Session.ID, purpose, s.clock.Now())
		if err != nil {
			return nil, err
		}
		if first || t.Result != "" || !time.Now().Before(deadline) {
			return &FormUse{First: first, Result: t.Result, At: t.UsedAt, svc: s, hash: hash}, nil
		}
		select {
		case <-ctx.Done():
			return &FormUse{At: t.UsedAt, svc: s, hash: hash}, nil
		case <-time.After(formPoll):
		}
	}
}

// Done records what the first sending did, for repeats to show. It never holds a secret.
func (u *FormUse) Done(ctx context.Context, result string) error {
	return u.svc.store.CompleteFormToken(context.WithoutCancel(ctx), u.hash, result)
}

// Undo gives the token back after the form was refused and changed nothing, so the corrected
// form, sent with the same token, acts.
func (u *FormUse) Undo(ctx context.Context) error {
	return u.svc.store.ReleaseFormToken(context.WithoutCancel(ctx), u.hash)
}
