package oidc

import (
	"context"
	"crypto/subtle"
	"net/http"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// What the web layer tells the provider about the browser, through the request's context.
type (
	browserKey struct{}
	sessionKey struct{}
)

// browserSession is the browser's signed-in session, if any, and how to forget its cookie.
type browserSession struct {
	principal *auth.Principal
	signedOut func()
}

// WithBrowser returns ctx carrying the value of the browser's binding cookie: the
// authorization requests it starts are bound to it.
func WithBrowser(ctx context.Context, value string) context.Context {
	return context.WithValue(ctx, browserKey{}, value)
}

func browserFrom(ctx context.Context) string {
	v, _ := ctx.Value(browserKey{}).(string)
	return v
}

// WithSession returns ctx carrying the browser's session (nil when signed out) for the
// end_session endpoint, with signedOut to call when the session was ended (the web layer then
// clears its cookie).
func WithSession(ctx context.Context, p *auth.Principal, signedOut func()) context.Context {
	return context.WithValue(ctx, sessionKey{}, &browserSession{principal: p, signedOut: signedOut})
}

func sessionFrom(ctx context.Context) *browserSession {
	v, _ := ctx.Value(sessionKey{}).(*browserSession)
	return v
}

// Request is an authorization request waiting for its browser to sign in: what the site's
// pages need to finish it.
type Request struct {
	sp     *siteProvider
	r      *hmisauth.AuthRequest
	Client *hmisauth.Client
}

// ID is the request's identifier (it is in the address of the sign-in step).
func (q *Request) ID() string { return q.r.ID }

// ReturnOrigin is the scheme://host[:port] the browser goes back to with the code: pages
// whose forms may end there must allow it (the Content-Security-Policy's form-action also
// covers the redirects after a form).
func (q *Request) ReturnOrigin() string { return originOf(q.r.RedirectURI) }

// LoginHint is the username the application suggests, if any.
func (q *Request) LoginHint() string { return q.r.LoginHint }

// PromptNone says the application asked for no page to be shown: only a session already
// good enough finishes the request; anything else goes back as an error.
func (q *Request) PromptNone() bool { return slices.Contains(q.r.Prompt, oidc.PromptNone) }

// NeedsSignIn reports whether the browser must sign in (again) before the request can be
// finished: it has no session (p nil), the application asked for a fresh sign-in
// (prompt=login), the last sign-in is older than max_age, or the id_token_hint names someone
// else. A sign-in made after the request began is always fresh enough.
func (q *Request) NeedsSignIn(p *auth.Principal, now time.Time) bool {
	if p == nil {
		return true
	}
	fresh := !p.Session.CreatedAt.Before(q.r.CreatedAt)
	switch {
	case slices.Contains(q.r.Prompt, oidc.PromptLogin) && !fresh:
		return true
	case q.r.MaxAge >= 0 && !fresh && now.Sub(p.Session.CreatedAt) > q.r.MaxAge:
		return true
	case q.r.HintSubject != "" && q.r.HintSubject != p.User.Subject:
		return true
	}
	return false
}

// Errors of the sign-in step, worded for the person in the browser.
func requestGone() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND,
		Message: "This sign-in link is no longer valid: it was already used, or it is more than 30 minutes old. Go back to the application and sign in from there again."}
}

func otherBrowser() error {
	return &hmisauth.Error{Code: hmisauth.EFORBIDDEN,
		Message: "This sign-in was started in another web browser, so it cannot be finished here. Go back to the application in this browser and sign in from there."}
}

// Request finds the site's authorization request id for the browser whose binding cookie is
// browser. Unknown, expired and finished requests are ENOTFOUND; a request of another
// browser is EFORBIDDEN.
func (p *Provider) Request(ctx context.Context, site, id, browser string) (*Request, error) {
	sp, err := p.site(site)
	if err != nil {
		return nil, err
	}
	if id == "" || len(id) > 64 {
		return nil, requestGone()
	}
	ar, err := p.store.AuthRequest(ctx, id)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return nil, requestGone()
	} else if err != nil {
		return nil, err
	}
	if ar.Site != sp.site.Key || ar.Done() || !p.clock.Now().Before(ar.ExpiresAt) {
		return nil, requestGone()
	}
	if browser == "" || subtle.ConstantTimeCompare(auth.HashToken(browser), ar.BrowserHash) != 1 {
		return nil, otherBrowser()
	}
	c, err := p.store.Client(ctx, sp.site.Key, ar.ClientID)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return nil, requestGone()
	} else if err != nil {
		return nil, err
	}
	return &Request{sp: sp, r: ar, Client: c}, nil
}

// Finish answers the request for the signed-in principal: the sign-in rules are checked once
// more (an account disabled, unlicensed or out of agreement since it signed in gets no code;
// a lock does not end a session that is open), the request records who signed in and how,
// and the browser goes back to the application with a code.
func (p *Provider) Finish(w http.ResponseWriter, r *http.Request, q *Request, pr *auth.Principal) {
	ctx := op.ContextWithIssuer(r.Context(), q.sp.issuer)
	if reason, err := p.auth.Blocked(ctx, q.sp.site, pr.User); err != nil {
		p.Refuse(w, r, q, oidc.ErrServerError())
		return
	} else if reason != "" {
		p.log.InfoContext(ctx, "no code for the application: the user may not sign in now", "site", q.sp.site.Key,
			"username", pr.User.Username, "reason", reason)
		p.Refuse(w, r, q, oidc.ErrAccessDenied().WithDescription("the user may not sign in now"))
		return
	}
	now := p.clock.Now()
	a := auth.ActorOf(ctx)
	ev := &hmisauth.Event{Site: q.sp.site.Key, At: now, Actor: pr.User.Username, Subject: pr.User.Username,
		Action: hmisauth.EventAppSignIn, ClientAddr: a.ClientAddr, Detail: "to " + clientLabel(q.Client)}
	err := p.store.CompleteAuthRequest(hmisauth.WithEvent(ctx, ev), q.r.ID, pr.User.ID, pr.Session.ID,
		pr.Session.CreatedAt, pr.Session.AMR, now)
	if err != nil {
		p.log.WarnContext(ctx, "finishing an authorization request failed", "err", err)
		p.Refuse(w, r, q, oidc.ErrServerError().WithDescription("the sign-in could not be finished; please try again"))
		return
	}
	q.r.UserID, q.r.SessionID, q.r.AuthTime, q.r.AMR, q.r.DoneAt = pr.User.ID, pr.Session.ID, pr.Session.CreatedAt, pr.Session.AMR, now
	op.AuthResponse(&authRequest{r: q.r, subject: pr.User.Subject, session: pr.Session}, q.sp.op, w, r.WithContext(ctx))
}

// Refuse sends the browser back to the application with an OAuth error (login_required for a
// prompt=none request without a session, access_denied, …).
func (p *Provider) Refuse(w http.ResponseWriter, r *http.Request, q *Request, e *oidc.Error) {
	ctx := op.ContextWithIssuer(r.Context(), q.sp.issuer)
	op.AuthRequestError(w, r.WithContext(ctx), &authRequest{r: q.r}, e, q.sp.op)
}
