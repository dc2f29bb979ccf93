package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/oidc"
)

// maxBody bounds every request body (forms and JSON): nothing we accept comes near it.
const maxBody = 64 << 10

// readyTimeout bounds the readiness check so a stuck database answers 503 rather than hanging
// the load balancer's probe.
const readyTimeout = 2 * time.Second

// Options configure a Server. The zero value serves plain-HTTP development.
type Options struct {
	// Secure is true when users reach the server over https (the public URL): cookies are
	// marked Secure and take the __Host- prefix, and responses carry HSTS.
	Secure bool
	// TrustedProxies are the reverse proxies (the configuration's trusted_proxies) whose
	// X-Forwarded-For or Forwarded header names the client: only a request whose socket peer
	// is inside one of them is recorded and rate-limited under the address the headers give
	// (clientaddr.go). Empty: the socket's address always, whatever the headers say.
	TrustedProxies []netip.Prefix
	// Log receives request and error logs; nil discards them.
	Log *slog.Logger
	// Ready reports whether the server can serve (e.g. the database answers), for /readyz.
	// nil means always ready.
	Ready func(ctx context.Context) error
	// Clock tells the time for what pages show ("your password expires in 3 days"); nil is
	// the system clock. Give it the same Clock as the auth.Service.
	Clock hmisauth.Clock
	// DevInbox lists the newest e-mails, newest first, for the development inbox at /dev/mail
	// (the "dev" mail transport). nil serves no /dev/mail at all: never set it in production,
	// where the page would show anyone the reset links of every user.
	DevInbox func(ctx context.Context, limit int) ([]*hmisauth.Message, error)
	// OIDC is the sites' OpenID Connect provider; nil serves none.
	OIDC *oidc.Provider
	// ObserveRequest, when set, is told of every request when it ends: the route pattern it
	// matched ("" for none), its method, status and duration (the metrics).
	ObserveRequest func(route, method string, status int, took time.Duration)
	// Metrics, when set, is served at /metrics on this listener (the metrics_token guards it;
	// without a token the metrics have their own listener and this stays nil).
	Metrics http.Handler
	// PublicURL is the base of links in e-mails (the configuration's public_url). The
	// development inbox makes links to it clickable, besides links to the address it was
	// opened at; "" means only the latter.
	PublicURL string
}

// Server serves hmisauth's pages and JSON API. Build it with New and serve Handler.
type Server struct {
	svc     *auth.Service
	opt     Options
	log     *slog.Logger
	clock   hmisauth.Clock
	pages   *pages
	handler http.Handler
	// outage keeps the log of a database outage to a line every few seconds.
	outage outageLog
}

// New returns a Server over the given rules.
func New(svc *auth.Service, opts Options) *Server {
	s := &Server{svc: svc, opt: opts, log: opts.Log, clock: opts.Clock}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = hmisauth.SystemClock{}
	}
	s.pages = parsePages()
	s.handler = s.middleware(s.routes())
	return s
}

// Handler is the whole server as one http.Handler, middleware included.
func (s *Server) Handler() http.Handler { return s.handler }

// routes lays out the URL space. Site pages and the API each get their own mux: a pattern like
// "GET /{site}/login" would otherwise conflict with "/static/" and "/api/" in one mux.
func (s *Server) routes() http.Handler {
	site := http.NewServeMux()
	site.HandleFunc("GET /{site}/{$}", s.siteHome)
	site.HandleFunc("GET /{site}/login", s.loginPage)
	site.HandleFunc("POST /{site}/login", s.loginSubmit)
	site.HandleFunc("GET /{site}/login/verify", s.verifyPage)
	site.HandleFunc("POST /{site}/login/verify", s.verifySubmit)
	site.HandleFunc("POST /{site}/login/passkey/options", s.passkeyLoginOptions)
	site.HandleFunc("POST /{site}/login/passkey", s.passkeyLoginSubmit)
	site.HandleFunc("POST /{site}/logout", s.logoutSubmit)
	site.HandleFunc("GET /{site}/logout", s.logoutConfirmPage)
	site.HandleFunc("POST /{site}/session/extend", s.sessionExtend)
	site.HandleFunc("GET /{site}/continue", s.continueSignIn)
	site.HandleFunc("GET /{site}/next", s.nextStep)
	site.HandleFunc("/{site}/oidc/", s.oidcEndpoint)
	site.HandleFunc("GET /{site}/.well-known/openid-configuration", s.oidcEndpoint)
	site.HandleFunc("GET /{site}/forgot-password", s.forgotPage)
	site.HandleFunc("POST /{site}/forgot-password", s.forgotSubmit)
	site.HandleFunc("GET /{site}/reset-password", s.resetPage)
	site.HandleFunc("POST /{site}/reset-password", s.resetSubmit)
	site.HandleFunc("GET /{site}/terms", s.termsPage)
	site.HandleFunc("POST /{site}/terms", s.termsSubmit)
	site.HandleFunc("GET /{site}/password", s.passwordPage)
	site.HandleFunc("POST /{site}/password", s.passwordSubmit)
	site.HandleFunc("GET /{site}/account", s.accountPage)
	site.HandleFunc("GET /{site}/account/profile", s.profilePage)
	site.HandleFunc("POST /{site}/account/profile", s.profileSubmit)
	site.HandleFunc("GET /{site}/account/recovery", s.recoveryPage)
	site.HandleFunc("POST /{site}/account/recovery", s.recoverySubmit)
	site.HandleFunc("GET /{site}/account/security", s.securityPage)
	site.HandleFunc("POST /{site}/account/security", s.reauthSubmit)
	site.HandleFunc("GET /{site}/account/security/totp", s.totpPage)
	site.HandleFunc("POST /{site}/account/security/totp", s.totpStart)
	site.HandleFunc("POST /{site}/account/security/totp/confirm", s.totpConfirm)
	site.HandleFunc("POST /{site}/account/security/totp/disable", s.totpDisable)
	site.HandleFunc("POST /{site}/account/security/recovery-codes", s.recoveryCodesNew)
	site.HandleFunc("POST /{site}/account/security/passkeys/options", s.passkeyRegisterOptions)
	site.HandleFunc("POST /{site}/account/security/passkeys", s.passkeyRegister)
	site.HandleFunc("POST /{site}/account/security/passkeys/{id}/delete", s.passkeyDelete)
	site.HandleFunc("GET /{site}/account/sessions", s.sessionsPage)
	site.HandleFunc("POST /{site}/account/sessions/end-others", s.sessionsEndOthers)
	site.HandleFunc("POST /{site}/account/sessions/{id}/end", s.sessionEnd)
	site.HandleFunc("GET /{site}/admin/{$}", s.consoleHome)
	site.HandleFunc("GET /{site}/admin/users", s.consoleUsers)
	site.HandleFunc("GET /{site}/admin/users/new", s.consoleNewUser)
	site.HandleFunc("POST /{site}/admin/users/new", s.consoleCreateUser)
	site.HandleFunc("GET /{site}/admin/users/{username}", s.consoleUser)
	site.HandleFunc("POST /{site}/admin/users/{username}", s.consoleUserSave)
	site.HandleFunc("POST /{site}/admin/users/{username}/unlock", s.consoleUnlock())
	site.HandleFunc("POST /{site}/admin/users/{username}/temporary-password", s.consoleTemporaryPassword)
	site.HandleFunc("GET /{site}/admin/users/{username}/disable", s.consoleDisableConfirm)
	site.HandleFunc("POST /{site}/admin/users/{username}/disable", s.consoleDisable)
	site.HandleFunc("POST /{site}/admin/users/{username}/enable", s.consoleEnable())
	site.HandleFunc("GET /{site}/admin/users/{username}/expire-password", s.consoleConfirm("expire-password"))
	site.HandleFunc("POST /{site}/admin/users/{username}/expire-password", s.consoleExpirePassword())
	site.HandleFunc("GET /{site}/admin/users/{username}/end-sessions", s.consoleConfirm("end-sessions"))
	site.HandleFunc("POST /{site}/admin/users/{username}/end-sessions", s.consoleEndSessions())
	site.HandleFunc("GET /{site}/admin/users/{username}/reset-mfa", s.consoleConfirm("reset-mfa"))
	site.HandleFunc("POST /{site}/admin/users/{username}/reset-mfa", s.consoleResetMFA())
	site.HandleFunc("GET /{site}/admin/agencies", s.consoleAgencies)
	site.HandleFunc("POST /{site}/admin/agencies", s.consoleSaveAgency(true))
	site.HandleFunc("GET /{site}/admin/agencies/{id}", s.consoleAgency)
	site.HandleFunc("POST /{site}/admin/agencies/{id}", s.consoleSaveAgency(false))
	site.HandleFunc("POST /{site}/admin/users/{username}/agreement", s.consoleAgreement)
	site.HandleFunc("POST /{site}/admin/users/{username}/training", s.consoleTraining)
	site.HandleFunc("GET /{site}/admin/audit", s.consoleAudit)
	site.HandleFunc("GET /{site}/admin/audit/download", s.consoleAuditDownload)
	site.HandleFunc("POST /{site}/admin/audit/reviews", s.consoleRecordReview)
	site.HandleFunc("POST /{site}/admin/users/{username}/security-officer", s.consoleSecurityOfficer)
	site.HandleFunc("GET /{site}/admin/reports", s.consoleReports)
	site.HandleFunc("GET /{site}/admin/reports/download", s.consoleReportDownload)
	site.HandleFunc("GET /{site}/admin/reports/pack", s.consoleCompliancePack)
	site.HandleFunc("GET /{site}/admin/import", s.consoleImportForm)
	site.HandleFunc("POST /{site}/admin/import", s.consoleImport)
	site.HandleFunc("GET /{site}/admin/clients", s.consoleClients)
	site.HandleFunc("POST /{site}/admin/clients", s.consoleAddClient)
	site.HandleFunc("GET /{site}/admin/clients/{id}", s.consoleClient)
	site.HandleFunc("POST /{site}/admin/clients/{id}", s.consoleSaveClient())
	site.HandleFunc("GET /{site}/admin/clients/{id}/secret", s.consoleClientSecret)
	site.HandleFunc("POST /{site}/admin/clients/{id}/rotate-secret", s.consoleRotateSecret())
	site.HandleFunc("POST /{site}/admin/clients/{id}/finish-rotation", s.consoleFinishRotation())
	site.HandleFunc("GET /{site}/admin/clients/{id}/remove", s.consoleRemoveClientConfirm)
	site.HandleFunc("POST /{site}/admin/clients/{id}/remove", s.consoleRemoveClient)
	site.HandleFunc("/", s.notFound)

	api := http.NewServeMux()
	const prefix = "/api/v1/sites/{site}"
	api.HandleFunc("POST "+prefix+"/login", s.apiLogin)
	api.HandleFunc("POST "+prefix+"/logout", s.apiLogout)
	api.HandleFunc("GET "+prefix+"/me", s.apiMe)
	api.HandleFunc("POST "+prefix+"/me/password", s.apiChangePassword)
	api.HandleFunc("POST "+prefix+"/me/terms", s.apiAcceptTerms)
	api.HandleFunc("PATCH "+prefix+"/me", s.apiUpdateContact)
	api.HandleFunc("PUT "+prefix+"/me/recovery", s.apiSetRecovery)
	api.HandleFunc("POST "+prefix+"/me/reauth", s.apiReauth)
	api.HandleFunc("POST "+prefix+"/me/totp", s.apiStartTOTP)
	api.HandleFunc("POST "+prefix+"/me/totp/confirm", s.apiConfirmTOTP)
	api.HandleFunc("DELETE "+prefix+"/me/totp", s.apiDisableTOTP)
	api.HandleFunc("POST "+prefix+"/me/totp/recovery-codes", s.apiNewRecoveryCodes)
	api.HandleFunc("GET "+prefix+"/me/sessions", s.apiSessions)
	api.HandleFunc("DELETE "+prefix+"/me/sessions/{id}", s.apiEndSession)
	api.HandleFunc("POST "+prefix+"/password/forgot", s.apiForgot)
	api.HandleFunc("GET "+prefix+"/password/reset", s.apiResetLink)
	api.HandleFunc("POST "+prefix+"/password/reset", s.apiReset)
	api.HandleFunc("POST "+prefix+"/users", s.apiCreateUser)
	api.HandleFunc("GET "+prefix+"/users", s.apiUsers)
	api.HandleFunc("GET "+prefix+"/users/{username}", s.apiUser)
	api.HandleFunc("PATCH "+prefix+"/users/{username}", s.apiUpdateUser)
	api.HandleFunc("POST "+prefix+"/users/{username}/unlock", s.apiUnlock())
	api.HandleFunc("POST "+prefix+"/users/{username}/temporary-password", s.apiTemporaryPassword)
	api.HandleFunc("POST "+prefix+"/users/{username}/disable", s.apiDisable())
	api.HandleFunc("POST "+prefix+"/users/{username}/enable", s.apiEnable())
	api.HandleFunc("POST "+prefix+"/users/{username}/expire-password", s.apiExpirePassword())
	api.HandleFunc("DELETE "+prefix+"/users/{username}/sessions", s.apiEndSessions)
	api.HandleFunc("DELETE "+prefix+"/users/{username}/mfa", s.apiResetMFA())
	api.HandleFunc("PUT "+prefix+"/users/{username}/agreement", s.apiRecordAgreement)
	api.HandleFunc("GET "+prefix+"/users/{username}/training", s.apiTrainings)
	api.HandleFunc("PUT "+prefix+"/users/{username}/training", s.apiRecordTraining)
	api.HandleFunc("GET "+prefix+"/agencies", s.apiAgencies)
	api.HandleFunc("POST "+prefix+"/agencies", s.apiSaveAgency(true))
	api.HandleFunc("GET "+prefix+"/agencies/{id}", s.apiAgency)
	api.HandleFunc("PATCH "+prefix+"/agencies/{id}", s.apiSaveAgency(false))
	api.HandleFunc("GET "+prefix+"/audit", s.apiAudit)
	api.HandleFunc("/", s.apiNotFound)

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", s.healthz)
	root.HandleFunc("GET /readyz", s.readyz)
	if s.opt.Metrics != nil {
		root.Handle("GET /metrics", s.opt.Metrics)
	}
	root.Handle("GET /static/", staticHandler())
	root.Handle("GET /favicon.ico", faviconHandler())
	root.Handle("/api/", api)
	if s.opt.DevInbox != nil {
		root.HandleFunc("GET /dev/mail", s.devMail)
	}
	root.HandleFunc("GET /{$}", s.index)
	root.HandleFunc("GET /{site}", s.siteHome)
	root.Handle("/{site}/", site)
	root.HandleFunc("/", s.notFound)
	return root
}

// healthz answers whether the process is up; it touches nothing else, so a slow database
// does not get a healthy process restarted.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers whether the server can serve requests now (its database answers).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.opt.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.opt.Ready(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready\n"))
			return
		}
	}
	w.Write([]byte("ok\n"))
}

// index lets people who landed on the wrong address choose their site.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "index", s.newView(r, nil))
}

// siteHome sends /live and /live/ to the sign-in page.
func (s *Server) siteHome(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	redirect(w, r, sitePath(site, "login"))
}

// notFound is the answer for any address we do not serve, listing the sites to choose from.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, nil)
	s.render(w, r, http.StatusNotFound, "notfound", v)
}

// site finds the configured site named in the path; for an unknown one it answers the 404
// page (which lists the real sites) and reports false.
func (s *Server) site(w http.ResponseWriter, r *http.Request) (*hmisauth.Site, bool) {
	site, err := s.svc.Site(r.PathValue("site"))
	if err != nil {
		v := s.newView(r, nil)
		v.UnknownSite = r.PathValue("site")
		s.render(w, r, http.StatusNotFound, "notfound", v)
		return nil, false
	}
	return site, true
}

// sitePath is the address of one of a site's pages.
func sitePath(site *hmisauth.Site, page string) string {
	return "/" + site.Key + "/" + page
}

// redirect sends the browser to path with a GET (303 also turns a POST into a GET).
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}
