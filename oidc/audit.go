package oidc

import (
	"context"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// The audit events the provider's storage records.

// event is an audit event of the site by the context's actor.
func (s *storage) event(ctx context.Context, action, subject, detail string) *hmisauth.Event {
	a := auth.ActorOf(ctx)
	return &hmisauth.Event{Site: s.siteKey(), At: s.now(), Actor: a.Username, Subject: subject, Action: action,
		ClientAddr: a.ClientAddr, Detail: detail}
}

// userEvent is an audit event about a user's tokens, done by the client.
func (s *storage) userEvent(ctx context.Context, c *hmisauth.Client, userID int64, action, detail string) *hmisauth.Event {
	subject := ""
	if u, err := s.store().UserByID(ctx, userID); err == nil {
		subject = u.Username
	}
	return s.appEvent(ctx, c, subject, action, detail)
}

// appEvent is userEvent for a user whose username is known.
func (s *storage) appEvent(ctx context.Context, c *hmisauth.Client, username, action, detail string) *hmisauth.Event {
	ev := s.event(ctx, action, username, detail)
	ev.Actor = "app:" + c.ID
	return ev
}

// clientLabel names a client in the audit log: "HMIS (hmis-app)".
func clientLabel(c *hmisauth.Client) string {
	if c.Name == "" || c.Name == c.ID {
		return c.ID
	}
	return c.Name + " (" + c.ID + ")"
}

// clockText is a time in the site's timezone for audit details.
func (s *storage) clockText(t time.Time) string {
	return t.In(s.site().Loc()).Format("15:04:05 MST")
}
