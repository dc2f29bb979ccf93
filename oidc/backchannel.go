package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/hmisauth/hmisauth"
)

// Back-channel logout (OpenID Connect Back-Channel Logout 1.0). When a session ends, the
// store queues a notice for every application it signed in to that has a back-channel logout
// address, in the same transaction as the end. This worker delivers them: a logout token
// (signed like an ID token, with sid and the logout event, no nonce) POSTed to the
// application, retried with backoff while it is down, abandoned (and audited) once a day has
// passed, since by then its own sessions have long timed out.

const (
	logoutLease     = time.Minute      // how long a worker holds a notice
	logoutBatch     = 20               // notices claimed at a time
	logoutGiveUp    = 24 * time.Hour   // after this, a notice is abandoned
	logoutFirstWait = 30 * time.Second // the first retry; doubles up to logoutMaxWait
	logoutMaxWait   = 30 * time.Minute //
	logoutTokenLife = 2 * time.Minute  // a logout token is checked on arrival
	logoutPoll      = 5 * time.Second  // how often the queue is looked at
	logoutTypeJWT   = "logout+jwt"     // its typ header, so it cannot pass for an ID token
	backchannelType = "application/x-www-form-urlencoded"
)

// DeliverLogouts sends the logout notices due now, once each, and reports how many it
// finished (sent or abandoned). Several server processes may run it: a notice is leased to one.
func (p *Provider) DeliverLogouts(ctx context.Context) (int, error) {
	done := 0
	for {
		ns, err := p.store.ClaimLogouts(ctx, p.clock.Now(), logoutLease, logoutBatch)
		if err != nil {
			return done, err
		}
		for _, n := range ns {
			finished, err := p.deliver(ctx, n)
			if err != nil {
				return done, err
			}
			if finished {
				done++
			}
		}
		if len(ns) < logoutBatch {
			return done, nil
		}
	}
}

// RunLogouts delivers logout notices until ctx ends: whenever wake says some may have been
// queued, and every logoutPoll for retries and other processes' notices.
func (p *Provider) RunLogouts(ctx context.Context, wake <-chan struct{}) {
	t := time.NewTicker(logoutPoll)
	defer t.Stop()
	for {
		if _, err := p.DeliverLogouts(ctx); err != nil && ctx.Err() == nil {
			p.log.ErrorContext(ctx, "back-channel logouts", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// deliver tries one notice and records the outcome; it reports whether the notice is finished.
func (p *Provider) deliver(ctx context.Context, n *hmisauth.LogoutNotice) (bool, error) {
	now := p.clock.Now()
	username := ""
	if u, err := p.store.UserBySubject(ctx, n.Site, n.Subject); err == nil {
		username = u.Username
	}
	label := n.ClientID
	if c, err := p.store.Client(ctx, n.Site, n.ClientID); err == nil {
		label = clientLabel(c)
	}
	ev := &hmisauth.Event{Site: n.Site, At: now, Actor: "system", Subject: username}
	err := p.post(ctx, n)
	switch {
	case err == nil:
		ev.Action, ev.Detail = hmisauth.EventBackchannelSent, label+" was told the session ended"
		p.log.InfoContext(ctx, "back-channel logout sent", "site", n.Site, "client", n.ClientID)
		return p.recorded(ctx, n, "sent", p.store.LogoutSent(hmisauth.WithEvent(ctx, ev), n, now))
	case now.Sub(n.CreatedAt) >= logoutGiveUp:
		ev.Action = hmisauth.EventBackchannelLost
		ev.Detail = fmt.Sprintf("%s could not be told the session ended (%d tries in a day): %s", label, n.Attempts+1, err)
		p.log.WarnContext(ctx, "back-channel logout abandoned", "site", n.Site, "client", n.ClientID, "err", err)
		return p.recorded(ctx, n, "abandoned", p.store.AbandonLogout(hmisauth.WithEvent(ctx, ev), n, now, err.Error()))
	default:
		wait := logoutFirstWait << min(n.Attempts, 10)
		wait = min(wait, logoutMaxWait)
		p.log.InfoContext(ctx, "back-channel logout failed; will retry", "site", n.Site, "client", n.ClientID,
			"err", err, "retry_in", wait)
		_, err := p.recorded(ctx, n, "failed", p.store.LogoutFailed(ctx, n, now.Add(wait), err.Error()))
		return false, err
	}
}

// recorded is deliver's answer once the outcome's report returned err: finished when it was
// recorded as sent or abandoned. A report the store refused because the lease ran out and
// another worker claimed the notice meanwhile (ECONFLICT) is no error: that worker records the
// outcome (and its audit event), and the notice may reach the application twice, which a
// logout token allows.
func (p *Provider) recorded(ctx context.Context, n *hmisauth.LogoutNotice, outcome string, err error) (bool, error) {
	if hmisauth.ErrorCode(err) == hmisauth.ECONFLICT {
		p.log.WarnContext(ctx, "back-channel logout: the lease ran out and another worker took the notice; its outcome was not recorded",
			"site", n.Site, "client", n.ClientID, "outcome", outcome)
		return false, nil
	}
	return err == nil && outcome != "failed", err
}

// post sends one logout token; a 2xx answer is delivery.
func (p *Provider) post(ctx context.Context, n *hmisauth.LogoutNotice) error {
	token, err := p.LogoutToken(ctx, n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URI,
		strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", backchannelType)
	res, err := p.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return fmt.Errorf("%s: %w", n.URI, uerr.Err)
		}
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", n.URI, res.Status)
	}
	return nil
}

// LogoutToken is the signed logout token of a notice: iss, aud (the client), iat, exp, jti,
// sub, sid and the back-channel logout event, typed logout+jwt.
func (p *Provider) LogoutToken(ctx context.Context, n *hmisauth.LogoutNotice) (string, error) {
	sp, err := p.site(n.Site)
	if err != nil {
		return "", err
	}
	key, err := p.signing.signingKey(ctx, n.Site)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.SignatureAlgorithm(),
		Key: &jose.JSONWebKey{Key: key.Key(), KeyID: key.ID()}}, (&jose.SignerOptions{}).WithType(logoutTypeJWT))
	if err != nil {
		return "", err
	}
	claims := oidc.NewLogoutTokenClaims(sp.issuer, n.Subject, oidc.Audience{n.ClientID},
		time.Now().Add(logoutTokenLife), randomID(), n.SID, 0)
	return crypto.Sign(claims, signer)
}
