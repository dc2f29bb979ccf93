package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageNames are the templates in templates/, each rendered inside base.html.
var pageNames = []string{"index", "notfound", "error", "login", "forgot", "reset", "terms", "password", "account",
	"profile", "recovery", "devmail", "admin_users", "admin_user", "admin_user_new", "admin_temp", "admin_disable",
	"admin_agencies", "admin_forbidden", "admin_audit", "admin_reports", "admin_import", "verify", "security",
	"security_totp", "recovery_codes", "sessions", "logout", "admin_clients", "admin_client", "admin_client_remove",
	"admin_client_secret"}

// pages holds one parsed template set per page, each with the base layout.
type pages struct {
	sets map[string]*template.Template
	css  string // the stylesheet's address, versioned by its content
}

func parsePages() *pages {
	p := &pages{sets: make(map[string]*template.Template), css: "/static/style.css?v=" + staticVersion("static/style.css")}
	for _, name := range pageNames {
		p.sets[name] = template.Must(template.New(name).Funcs(template.FuncMap{"paragraphs": paragraphs}).
			ParseFS(templateFS, "templates/base.html", "templates/"+name+".html"))
	}
	return p
}

// staticVersion is a short hash of a static file, so its address changes whenever it does and
// browsers may cache it for a year.
func staticVersion(name string) string {
	b, err := staticFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// staticHandler serves the embedded static/ files with a long cache; their addresses carry a
// content version. Directories are not listed.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		files.ServeHTTP(w, r)
	})
}

// faviconHandler serves static/favicon.ico at /favicon.ico, where browsers ask for it on
// every page whatever the layout links to. That address carries no version, so it is cached
// for a day rather than a year (a new icon still reaches everyone), and its ETag lets a
// browser revalidate with a 304.
func faviconHandler() http.Handler {
	icon, err := staticFS.ReadFile("static/favicon.ico")
	if err != nil {
		panic(err)
	}
	etag := `"` + staticVersion("static/favicon.ico") + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/x-icon")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("ETag", etag)
		http.ServeContent(w, r, "favicon.ico", time.Time{}, bytes.NewReader(icon))
	})
}

// view is everything a page template may show. Handlers fill what their page needs.
type view struct {
	Site  *hmisauth.Site   // nil on pages outside any site
	Sites []*hmisauth.Site // for choosing a site
	CSS   string
	// Notice is a key from notices; the template words it.
	Notice string

	// Errors is the summary at the top of a form; the same messages appear next to their
	// fields (FieldError), ordered as the fields are.
	Errors     []formError
	Violations []hmisauth.Violation
	fields     []string // the fields on this page, in order

	Username string // typed at a failed sign-in, to show again (a password never is)

	Principal *auth.Principal
	Rules     []string // password rules, shown before typing
	Forced    bool     // a required password change: no current password asked
	Reason    string   // why a password change is pending: temporary or expired
	Version   int      // terms version being accepted
	Accepted  bool     // terms already accepted: shown for reading only
	Account   *accountView
	Forgot    *forgotView
	Reset     *resetView
	Profile   *profileView
	Recovery  *recoveryView
	Inbox     *inboxView
	Verify    *verifyView
	Security  *securityView
	Sessions  []sessionRow
	// App is the application a sign-in is for (single sign-on).
	App *appView
	// Timeout says, on every signed-in page, when the session will time out (filled by render).
	Timeout *timeoutView
	// Wide pages (the helpdesk console's tables) use more of a large screen.
	Wide bool

	UnknownSite string // the site named in an address that has none
	Status      int    // on the error page
	Message     string // on the error page
	CrossOrigin bool   // the error page is the cross-origin refusal
}

// formError is one message of the error summary; Field is set when the page has the field,
// so the summary links to it.
type formError struct {
	Field   string
	Message string
}

func (s *Server) newView(r *http.Request, site *hmisauth.Site) *view {
	v := &view{Site: site, Sites: s.svc.Sites(), CSS: s.pages.css}
	if n := r.URL.Query().Get("notice"); notices[n] {
		v.Notice = n
	}
	return v
}

// setError puts an application error on the form: in the summary and next to its field.
func (v *view) setError(e *hmisauth.Error) {
	field := e.Field
	if !slices.Contains(v.fields, field) {
		field = ""
	}
	v.Errors = append(v.Errors, formError{Field: field, Message: e.Message})
	v.Violations = e.Violations
}

// FieldError is the message about a form field, or "".
func (v *view) FieldError(field string) string {
	for _, e := range v.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// render executes a page into a buffer first, so a template failure becomes a clean
// "Internal error." rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	s.renderData(w, r, status, name, v, v)
}

// renderData is render for a page whose template data embeds its view (the console's).
func (s *Server) renderData(w http.ResponseWriter, r *http.Request, status int, name string, v *view, data any) {
	if v.Principal != nil && v.Timeout == nil {
		v.Timeout = newTimeoutView(v.Principal, s.clock.Now())
	}
	var buf bytes.Buffer
	if err := s.pages.sets[name].ExecuteTemplate(&buf, "base", data); err != nil {
		s.log.ErrorContext(r.Context(), "template failed", "page", name, "err", err)
		if name == "error" {
			http.Error(w, internalMessage, http.StatusInternalServerError)
			return
		}
		s.internalError(w, r)
		return
	}
	app := v.App
	if app == nil {
		app = appOf(s.pendingRequest(r, v.Site))
	}
	if app != nil {
		// A form on this page may end, after its redirects, at the application a sign-in is
		// for; browsers apply form-action to those redirects too.
		w.Header().Set("Content-Security-Policy",
			strings.Replace(contentSecurityPolicy, "form-action 'self'", "form-action 'self' "+app.Origin, 1))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// paragraphs splits plain text (a site's terms file) at blank lines and joins each paragraph's
// lines, so text wrapped for an editor reflows on any screen, a phone's included.
func paragraphs(text string) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p := strings.Join(strings.Fields(para), " "); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// timeoutView warns before a session times out, without JavaScript: the page says when, and
// reloads itself to the sign-in page at that moment (a refresh meta tag), so a screen left
// open on a shared computer does not keep showing a signed-in page.
type timeoutView struct {
	Idle        string // "3:04 PM CST": when it ends if nothing is done; "" when End comes first
	End         string // when it ends at the latest
	IdleMinutes int
	Refresh     int // seconds until the page goes to the sign-in page
}

func newTimeoutView(p *auth.Principal, now time.Time) *timeoutView {
	first := p.IdleExpiresAt
	t := &timeoutView{End: untilText(p.Site, p.ExpiresAt, now),
		IdleMinutes: int(math.Round(p.Site.Policy.Session.Idle.Minutes()))}
	if p.ExpiresAt.Before(first) {
		first = p.ExpiresAt
	} else {
		t.Idle = untilText(p.Site, first, now)
	}
	// A few seconds late, so the server has surely timed the session out when the page asks.
	t.Refresh = int(max(0, first.Sub(now).Seconds())) + 5
	return t
}
