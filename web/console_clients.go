package web

import (
	"context"
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
// A secret is shown once, on a page of its own reached by a redirect (console_client_secret.go),
// so reloading it cannot add or rotate again. The forms that add an application and make a new secret also carry a one-time token
// (formtoken.go): sent twice (a double click), the second sending goes where the first did
// rather than adding another application or replacing the secret just made.

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
	if v.FormToken, err = s.formToken(r, a.Principal(), formAddClient); err != nil {
		return nil, err
	}
	form.Action = adminPath(a.Site(), "clients")
	cv.Form = form
	v.Clients = cv
	return v, nil
}

// clientPage builds one application's page (with a new token for its "Make a new secret" form
// when it has one), its removal question or its secret page; form is a refused edit form to
// show again.
func (s *Server) clientPage(r *http.Request, a *auth.Admin, c *hmisauth.Client, form *clientForm, page string) (*consoleView, error) {
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
		if !c.Public && page == "admin_client" {
			var err error
			if v.FormToken, err = s.formToken(r, a.Principal(), formRotateSecret(c.ID)); err != nil {
				return nil, err
			}
		}
	}
	v.Client = p
	return v, nil
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
	once, err := s.useForm(r, a.Principal(), formAddClient)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	if once.Repeat() {
		s.clientAddedAlready(w, r, a, once)
		return
	}
	defer s.release(r, once)
	f := readClientForm(r)
	// Both required fields are flagged at once when both are empty.
	if v, verr := s.clientsView(r, a, f); verr == nil && v.missing(r,
		required{"name", "Enter the application's name, as users know it (\"HMIS\")."},
		required{"redirect_uri", "Enter the application's sign-in return address: where it receives the user back, like https://hmis.example.org/oidc/callback."}) {
		s.consoleRender(w, r, http.StatusBadRequest, "admin_clients", v)
		return
	}
	spec, err := f.spec(oidc.ClientSpec{})
	if err == nil && once.Stale() {
		err = staleForm("Nothing was added: this form had expired. If you added this application already, it is in the list. " +
			"Otherwise check the details and press “Add the application” again.")
	}
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
	s.done(r, once, formResult{ID: c.ID, Name: c.Name, Public: c.Public})
	if c.Public {
		redirect(w, r, clientPath(a.Site(), c.ID)+"?done=client_added_public")
		return
	}
	s.handOverSecret(w, r, a.Site(), c.ID, secret)
}

// clientAddedAlready answers the add form sent again: to where the first sending went, the
// application's secret page, which shows the secret only if that sending's answer never got
// to (a double click: the browser dropped it) and says it was shown otherwise. A sending
// still at work is waited for by useForm; one that outlasts it goes to the list.
func (s *Server) clientAddedAlready(w http.ResponseWriter, r *http.Request, a *auth.Admin, once *formSending) {
	switch res := once.Result; {
	case !once.Finished():
		redirect(w, r, adminPath(a.Site(), "clients"))
	case res.Public:
		redirect(w, r, clientPath(a.Site(), res.ID)+"?done=client_added_public")
	default:
		redirect(w, r, clientPath(a.Site(), res.ID)+"/secret")
	}
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
	v, err := s.clientPage(r, a, c, nil, page)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, page, v)
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
	v, verr := s.clientPage(r, a, c, form, "admin_client")
	if verr != nil {
		s.consoleError(w, r, a.Site(), verr)
		return
	}
	if e := hmisauth.AsError(err); e != nil && e.Code == hmisauth.EFORBIDDEN && c.FromConfig {
		v.setError(e)
		s.consoleRender(w, r, http.StatusForbidden, "admin_client", v)
		return
	}
	s.consoleFormError(w, r, "admin_client", v, err)
}

// consoleRotateSecret gives the application a new secret and sends it to its one-time page,
// on the form's token's first sending: a repeat goes to that page without making another
// (which would stop the one just made).
func (s *Server) consoleRotateSecret() http.HandlerFunc {
	return s.clientStep(func(w http.ResponseWriter, r *http.Request, a *auth.Admin, c *hmisauth.Client) {
		if c.FromConfig {
			// The provider refuses, saying where such an application is changed.
			_, err := s.opt.OIDC.RotateSecret(appsActor(r, a), a.Site().Key, c.ID)
			s.clientRefused(w, r, a, c, nil, err)
			return
		}
		once, err := s.useForm(r, a.Principal(), formRotateSecret(c.ID))
		if err != nil {
			s.consoleError(w, r, a.Site(), err)
			return
		}
		if once.Repeat() {
			redirect(w, r, clientPath(a.Site(), c.ID)+"/secret")
			return
		}
		defer s.release(r, once)
		if once.Stale() {
			s.clientRefused(w, r, a, c, nil, staleForm("No new secret was made: this page had expired. "+
				"If you made one from it already, that secret works. Otherwise press “Make a new secret” again."))
			return
		}
		secret, err := s.opt.OIDC.RotateSecret(appsActor(r, a), a.Site().Key, c.ID)
		if err != nil {
			s.clientRefused(w, r, a, c, nil, err)
			return
		}
		s.done(r, once, formResult{ID: c.ID})
		s.handOverSecret(w, r, a.Site(), c.ID, secret)
	})
}

// consoleFinishRotation stops the old secret of a rotation. Sent twice (a double click), the
// second finds no rotation under way and ends where the first did.
func (s *Server) consoleFinishRotation() http.HandlerFunc {
	return s.clientStep(func(w http.ResponseWriter, r *http.Request, a *auth.Admin, c *hmisauth.Client) {
		if c.OldSecretHash == nil && !c.FromConfig {
			redirect(w, r, clientPath(a.Site(), c.ID)+"?done=rotation_finished")
			return
		}
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
