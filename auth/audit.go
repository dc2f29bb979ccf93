package auth

import (
	"context"

	"github.com/hmisauth/hmisauth"
)

// Actor is who is acting, for the audit log: the web layer sets the client address (and, for
// signed-in requests, the user); the command line sets "cli:<operating-system user>".
type Actor struct {
	Username   string
	ClientAddr string
}

type actorKey struct{}

// WithActor returns a context saying who acts in it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorOf returns the context's actor (zero: an anonymous visitor from an unknown address).
func ActorOf(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}

// audit returns ctx carrying an audit event for the next store write: action on subject, by the
// context's actor. The event is written in the same transaction as that write, or not at all.
func (s *Service) audit(ctx context.Context, site *hmisauth.Site, action, subject, detail string) context.Context {
	return hmisauth.WithEvent(ctx, s.newEvent(ctx, site, action, subject, detail))
}

// auditAs is audit with the signed-in principal as actor (and the context's address, falling
// back to where the session signed in).
func (s *Service) auditAs(ctx context.Context, p *Principal, action, detail string) context.Context {
	return s.audit(s.actorContext(ctx, p), p.Site, action, p.User.Username, detail)
}

// actorContext makes the principal the context's actor, for events recorded on their behalf.
func (s *Service) actorContext(ctx context.Context, p *Principal) context.Context {
	a := ActorOf(ctx)
	a.Username = p.User.Username
	if a.ClientAddr == "" {
		a.ClientAddr = p.Session.ClientAddr
	}
	return WithActor(ctx, a)
}

func (s *Service) newEvent(ctx context.Context, site *hmisauth.Site, action, subject, detail string) *hmisauth.Event {
	a := ActorOf(ctx)
	return &hmisauth.Event{Site: site.Key, At: s.clock.Now(), Actor: a.Username, Subject: subject,
		Action: action, ClientAddr: a.ClientAddr, Detail: detail}
}

// record appends events that go with no state change of their own (a refused sign-in whose
// attempt was already counted). A failure to record is logged, not returned: the answer the
// user gets must not change because the log is unwritable, and the error log says so loudly.
func (s *Service) record(ctx context.Context, evs ...*hmisauth.Event) {
	s.countLockouts(evs)
	if err := s.store.AppendEvents(ctx, evs...); err != nil {
		s.log.ErrorContext(ctx, "audit log append failed", "err", err, "action", evs[0].Action)
	}
}
