package web

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/oidc"
)

// Applications in the console (/{site}/admin/clients…): a system administrator registers the
// site's OpenID Connect clients, changes them, rotates their secrets and removes them. The
// rules (valid addresses, what may change, configuration-file clients left alone) are
// oidc.Provider's; these handlers decode forms and show its answers.
//
// A secret is shown once, on a page of its own reached by a redirect, so reloading it cannot
// add or rotate again. The POST hands the secret to that page in a short-lived cookie,
// encrypted with a key derived from the session token: it opens only in the session that made
// it, on any server process, and the page clears it, so a reload finds nothing to show.

// clientsView is the applications page: the list and the add form.
type clientsView struct {
	Rows []clientRow
	Form *clientForm
}

type clientRow struct {
	ID, Name, Kind, Link string
	RedirectURIs         []string
	FromConfig, Rotating bool
}

// clientForm is the add and edit form's values: saved, or typed into a refused form.
type clientForm struct {
	Action                                   string
	Editing                                  bool // the kind is chosen when adding only
	Name, RedirectURIs, PostLogoutURIs       string
	BackchannelURI, HomeURL, Format, Minutes string
	Public, RefreshTokens                    bool
}

// clientPageView is one application's page, its removal question and its secret page.
type clientPageView struct {
	C                    *hmisauth.Client
	Path, Kind, Issuer   string
	Scopes, Tokens       string
	Added, Changed       string
	Rotating             bool
	Form                 *clientForm // nil for a configuration-file client
	Secret               string      // the secret page, the one time it is shown
	PostLogout, Redirect []string
}

// clientFields are the form's fields, in order, as oidc.Provider names them in its errors.
var clientFields = []string{"name", "redirect_uri", "post_logout_redirect_uri", "backchannel_logout_uri", "home_url",
	"kind", "access_token_format", "access_token_lifetime", "refresh_tokens"}

// clientFieldsView is what the client-fields template (the add and edit forms' fields) shows.
type clientFieldsView struct {
	V *consoleView
	F *clientForm
}

// ClientFields hands the client-fields template the form and this page's errors.
func (v *consoleView) ClientFields(f *clientForm) clientFieldsView {
	return clientFieldsView{V: v, F: f}
}

func clientPath(site *hmisauth.Site, id string) string {
	return adminPath(site, "clients/"+url.PathEscape(id))
}

// appsAdmin returns the system administrator of an applications page, or nil when it has
// answered already: only a sysadmin manages applications.
func (s *Server) appsAdmin(w http.ResponseWriter, r *http.Request, form bool) *auth.Admin {
	var a *auth.Admin
	if form {
		a = s.consoleAdminForm(w, r)
	} else {
		a = s.consoleAdmin(w, r)
	}
	if a == nil {
		return nil
	}
	if !a.IsSysadmin() {
		s.consoleError(w, r, a.Site(), hmisauth.Errorf(hmisauth.EFORBIDDEN, "Only a system administrator can manage applications."))
		return nil
	}
	if s.opt.OIDC == nil {
		s.consoleError(w, r, a.Site(), hmisauth.Errorf(hmisauth.ENOTFOUND, "This server signs no applications in: single sign-on is off."))
		return nil
	}
	return a
}

// appsActor is the request's context with the administrator as the audited actor, as
// auth.Admin does for its own changes; the provider audits under it.
func appsActor(r *http.Request, a *auth.Admin) context.Context {
	p := a.Principal()
	act := auth.Actor{Username: p.User.Username, ClientAddr: auth.ActorOf(r.Context()).ClientAddr}
	if act.ClientAddr == "" && p.Session != nil {
		act.ClientAddr = p.Session.ClientAddr
	}
	return auth.WithActor(r.Context(), act)
}

func kindLabel(c *hmisauth.Client) string {
	if c.Public {
		return "Public (no secret, PKCE)"
	}
	return "Confidential (with a secret)"
}

func (s *Server) clientsView(r *http.Request, a *auth.Admin, form *clientForm) (*consoleView, error) {
	v := s.consoleView(r, a)
	v.fields = clientFields
	list, err := s.opt.OIDC.Clients(r.Context(), a.Site().Key)
	if err != nil {
		return nil, err
	}
	cv := &clientsView{}
	for _, c := range list {
		cv.Rows = append(cv.Rows, clientRow{ID: c.ID, Name: c.Name, Kind: kindLabel(c), Link: clientPath(a.Site(), c.ID),
			RedirectURIs: c.RedirectURIs, FromConfig: c.FromConfig, Rotating: c.OldSecretHash != nil})
	}
	if form == nil {
		form = &clientForm{Format: hmisauth.TokenOpaque, Minutes: "10"}
	}
	form.Action = adminPath(a.Site(), "clients")
	cv.Form = form
	v.Clients = cv
	return v, nil
}

// clientPage builds one application's page; form is a refused edit form to show again.
func (s *Server) clientPage(r *http.Request, a *auth.Admin, c *hmisauth.Client, form *clientForm) *consoleView {
	site := a.Site()
	v := s.consoleView(r, a)
	v.fields = clientFields
	p := &clientPageView{C: c, Path: clientPath(site, c.ID), Kind: kindLabel(c), Issuer: s.opt.OIDC.Issuer(site.Key),
		Scopes: "All the site offers", Added: siteTime(site, c.CreatedAt), Changed: siteTime(site, c.UpdatedAt),
		Rotating: c.OldSecretHash != nil, Redirect: c.RedirectURIs, PostLogout: c.PostLogoutRedirectURIs,
		Tokens: c.AccessTokenFormat + ", living " + minutes(c.AccessTokenLifetime)}
	if len(c.Scopes) > 0 {
		p.Scopes = strings.Join(c.Scopes, " ")
	}
	if !c.FromConfig {
		if form == nil {
			form = &clientForm{Name: c.Name, RedirectURIs: strings.Join(c.RedirectURIs, "\n"),
				PostLogoutURIs: strings.Join(c.PostLogoutRedirectURIs, "\n"), BackchannelURI: c.BackchannelLogoutURI,
				HomeURL: c.HomeURL, Format: c.AccessTokenFormat, RefreshTokens: c.RefreshTokens,
				Minutes: strconv.Itoa(int(c.AccessTokenLifetime / time.Minute))}
		}
		form.Action, form.Editing, form.Public = p.Path, true, c.Public
		p.Form = form
	}
	v.Client = p
	return v
}

func minutes(d time.Duration) string {
	if d == time.Minute {
		return "1 minute"
	}
	return strconv.Itoa(int(d/time.Minute)) + " minutes"
}

// readClientForm reads the add or edit form as it was typed.
func readClientForm(r *http.Request) *clientForm {
	return &clientForm{Name: r.PostFormValue("name"), RedirectURIs: r.PostFormValue("redirect_uri"),
		PostLogoutURIs: r.PostFormValue("post_logout_redirect_uri"), BackchannelURI: r.PostFormValue("backchannel_logout_uri"),
		HomeURL: r.PostFormValue("home_url"), Format: r.PostFormValue("access_token_format"),
		Minutes: strings.TrimSpace(r.PostFormValue("access_token_lifetime")), Public: r.PostFormValue("kind") == "public",
		RefreshTokens: r.PostFormValue("refresh_tokens") == "yes"}
}

// spec puts the form over base (the client's current spec when editing, so what the form
// does not show, like scopes, stays as it is).
func (f *clientForm) spec(base oidc.ClientSpec) (oidc.ClientSpec, error) {
	lines := func(s string) []string { return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") }
	base.Name, base.RedirectURIs, base.PostLogoutRedirectURIs = f.Name, lines(f.RedirectURIs), lines(f.PostLogoutURIs)
	base.BackchannelLogoutURI, base.HomeURL, base.AccessTokenFormat = f.BackchannelURI, f.HomeURL, f.Format
	base.Public, base.RefreshTokens, base.AccessTokenLifetime = f.Public, f.RefreshTokens, 0
	if f.Minutes != "" {
		n, err := strconv.Atoi(f.Minutes)
		if err != nil || n <= 0 {
			return base, hmisauth.FieldError("access_token_lifetime", "Enter the access-token lifetime in whole minutes, like 10.")
		}
		base.AccessTokenLifetime = time.Duration(n) * time.Minute
	}
	return base, nil
}

// consoleClients lists the site's applications, with the form that adds one.
func (s *Server) consoleClients(w http.ResponseWriter, r *http.Request) {
	a := s.appsAdmin(w, r, false)
	if a == nil {
		return
	}
	v, err := s.clientsView(r, a, nil)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_clients", v)
}

// consoleAddClient adds an application from the form; a confidential one's secret goes to
// its one-time page.
func (s *Server) consoleAddClient(w http.ResponseWriter, r *http.Request) {
	a := s.appsAdmin(w, r, true)
	if a == nil {
		return
	}
	f := readClientForm(r)
	spec, err := f.spec(oidc.ClientSpec{})
	var c *hmisauth.Client
	var secret string
	if err == nil {
		c, secret, err = s.opt.OIDC.AddClient(appsActor(r, a), a.Site().Key, spec)
	}
	if err != nil {
		v, verr := s.clientsView(r, a, f)
		if verr != nil {
			s.consoleError(w, r, a.Site(), verr)
			return
		}
		s.consoleFormError(w, r, "admin_clients", v, err)
		return
	}
	if c.Public {
		redirect(w, r, clientPath(a.Site(), c.ID)+"?done=client_added_public")
		return
	}
	s.handOverSecret(w, r, a.Site(), c.ID, secret)
}

// clientOf finds the application of the address.
func (s *Server) clientOf(r *http.Request, a *auth.Admin) (*hmisauth.Client, error) {
	return s.opt.OIDC.Client(r.Context(), a.Site().Key, r.PathValue("id"))
}

// consoleClient is one application's page: its settings to change, its secret to rotate, and
// the way to remove it; a configuration-file client is shown read-only.
func (s *Server) consoleClient(w http.ResponseWriter, r *http.Request) {
	s.clientPageAs(w, r, "admin_client")
}

// consoleRemoveClientConfirm asks before removing: the application stops working at once.
func (s *Server) consoleRemoveClientConfirm(w http.ResponseWriter, r *http.Request) {
	s.clientPageAs(w, r, "admin_client_remove")
}

func (s *Server) clientPageAs(w http.ResponseWriter, r *http.Request, page string) {
	a := s.appsAdmin(w, r, false)
	if a == nil {
		return
	}
	c, err := s.clientOf(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, page, s.clientPage(r, a, c, nil))
}

// consoleSaveClient saves the edit form.
func (s *Server) consoleSaveClient() http.HandlerFunc {
	return s.clientStep(func(w http.ResponseWriter, r *http.Request, a *auth.Admin, c *hmisauth.Client) {
		f := readClientForm(r)
		spec, err := f.spec(oidc.SpecOf(c))
		if err == nil {
			_, err = s.opt.OIDC.UpdateClient(appsActor(r, a), a.Site().Key, c.ID, spec)
		}
		if err != nil {
			s.clientRefused(w, r, a, c, f, err)
			return
		}
		redirect(w, r, clientPath(a.Site(), c.ID)+"?done=client_saved")
	})
}

// clientStep is a POST on one application's page: it finds the application (sysadmins only)
// and runs do, which answers.
func (s *Server) clientStep(do func(w http.ResponseWriter, r *http.Request, a *auth.Admin, c *hmisauth.Client)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := s.appsAdmin(w, r, true)
		if a == nil {
			return
		}
		c, err := s.clientOf(r, a)
		if err != nil {
			s.consoleError(w, r, a.Site(), err)
			return
		}
		do(w, r, a, c)
	}
}

// clientRefused shows the application's page again with what the provider refused: a
// refused form with its field errors, or, for a configuration-file client, the read-only page
// saying where to change it (rather than the console's "your role does not allow it").
func (s *Server) clientRefused(w http.ResponseWriter, r *http.Request, a *auth.Admin, c *hmisauth.Client, form *clientForm, err error) {
	v := s.clientPage(r, a, c, form)
	if e := hmisauth.AsError(err); e != nil && e.Code == hmisauth.EFORBIDDEN && c.FromConfig {
		v.setError(e)
		s.consoleRender(w, r, http.StatusForbidden, "admin_client", v)
		return
	}
	s.consoleFormError(w, r, "admin_client", v, err)
}

// consoleRotateSecret gives the application a new secret and sends it to its one-time page.
func (s *Server) consoleRotateSecret() http.HandlerFunc {
	return s.clientStep(func(w http.ResponseWriter, r *http.Request, a *auth.Admin, c *hmisauth.Client) {
		secret, err := s.opt.OIDC.RotateSecret(appsActor(r, a), a.Site().Key, c.ID)
		if err != nil {
			s.clientRefused(w, r, a, c, nil, err)
			return
		}
		s.handOverSecret(w, r, a.Site(), c.ID, secret)
	})
}

// consoleFinishRotation stops the old secret of a rotation.
func (s *Server) consoleFinishRotation() http.HandlerFunc {
	return s.clientStep(func(w http.ResponseWriter, r *http.Request, a *auth.Admin, c *hmisauth.Client) {
		if err := s.opt.OIDC.FinishRotation(appsActor(r, a), a.Site().Key, c.ID); err != nil {
			s.clientRefused(w, r, a, c, nil, err)
			return
		}
		redirect(w, r, clientPath(a.Site(), c.ID)+"?done=rotation_finished")
	})
}

// consoleRemoveClient removes the application and goes back to the list.
// A removal sent twice (a double click) finds the application gone, and ends where the first
// did rather than on "no such application".
func (s *Server) consoleRemoveClient(w http.ResponseWriter, r *http.Request) {
	a := s.appsAdmin(w, r, true)
	if a == nil {
		return
	}
	removed := adminPath(a.Site(), "clients") + "?done=client_removed"
	c, err := s.clientOf(r, a)
	if err == nil {
		err = s.opt.OIDC.RemoveClient(appsActor(r, a), a.Site().Key, c.ID)
	}
	switch {
	case err == nil, hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND:
		redirect(w, r, removed)
	case c == nil:
		s.consoleError(w, r, a.Site(), err)
	default:
		s.clientRefused(w, r, a, c, nil, err)
	}
}

// consoleClientSecret is the page that shows a new secret, once: it takes the secret from the
// cookie the add or rotation left and clears it, so the page shows it no more.
func (s *Server) consoleClientSecret(w http.ResponseWriter, r *http.Request) {
	a := s.appsAdmin(w, r, false)
	if a == nil {
		return
	}
	c, err := s.clientOf(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	v := s.clientPage(r, a, c, nil)
	v.Client.Secret = s.pickUpSecret(w, r, a.Site(), c.ID)
	s.consoleRender(w, r, http.StatusOK, "admin_client_secret", v)
}

// secretCookie (see siteCookie) carries a new secret from the POST that made it to the page
// that shows it, for at most secretHandOver.
const (
	secretCookie   = "_secret"
	secretHandOver = 2 * time.Minute
)

// secretAEAD is the cipher of the secret cookie: its key comes from the session token, which
// only this browser and the server know.
func secretAEAD(sessionToken string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(sessionToken), nil, "hmisauth console client secret v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// handOverSecret leaves the secret for the application's one-time page and goes there.
func (s *Server) handOverSecret(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, id, secret string) {
	aead, err := secretAEAD(s.cookieToken(r, site))
	if err != nil {
		s.internalError(w, r)
		return
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, []byte(secret), []byte(site.Key+"\x00"+id))
	s.setCookie(w, site, secretCookie, base64.RawURLEncoding.EncodeToString(sealed), s.clock.Now().Add(secretHandOver))
	redirect(w, r, clientPath(site, id)+"/secret")
}

// pickUpSecret takes the secret handed over for the application id, clearing the cookie; ""
// when there is none (shown already), or it is another session's or application's (left for
// that application's page).
func (s *Server) pickUpSecret(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, id string) string {
	raw := s.cookieValue(r, site, secretCookie)
	if raw == "" {
		return ""
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	aead, aerr := secretAEAD(s.cookieToken(r, site))
	if err != nil || aerr != nil || len(sealed) < aead.NonceSize() {
		s.clearCookie(w, site, secretCookie)
		return ""
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(site.Key+"\x00"+id))
	if err != nil {
		return ""
	}
	s.clearCookie(w, site, secretCookie)
	return string(plain)
}

// userSessionRows lists where a user in scope is signed in, for their console page: each
// live session with the applications it signed in to.
func (s *Server) userSessionRows(r *http.Request, a *auth.Admin, username string) ([]sessionRow, error) {
	list, err := a.UserSessions(r.Context(), username)
	if err != nil {
		return nil, err
	}
	site := a.Site()
	var rows []sessionRow
	for _, x := range list {
		rows = append(rows, sessionRow{ID: x.ID, Browser: x.Browser, Address: x.ClientAddr,
			Started: siteTime(site, x.CreatedAt), LastUsed: siteTime(site, x.LastSeenAt), Apps: x.Apps})
	}
	return rows, nil
}
