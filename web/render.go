package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"slices"
	"strconv"
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
	"admin_client_secret", "admin_confirm", "admin_error"}

// pages holds one parsed template set per page, each with the base layout.
type pages struct {
	sets map[string]*template.Template
	css  string // the stylesheet's address, versioned by its content
}

func parsePages() *pages {
	static := staticAddress()
	css, err := static("style.css")
	if err != nil {
		panic(err)
	}
	p := &pages{sets: make(map[string]*template.Template), css: css}
	for _, name := range pageNames {
		p.sets[name] = template.Must(template.New(name).Funcs(template.FuncMap{"paragraphs": paragraphs,
			"static": static, "tel": telURI}).
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

// staticAddress is the "static" template function: the versioned address of a file in
// static/ ({{static "forms.js"}}), so a page loads a changed script at once despite the long
// cache. A name that is no file fails the page's rendering, and so its tests.
func staticAddress() func(name string) (string, error) {
	addrs := map[string]string{}
	entries, err := staticFS.ReadDir("static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		addrs[e.Name()] = "/static/" + e.Name() + "?v=" + staticVersion("static/"+e.Name())
	}
	return func(name string) (string, error) {
		if a, ok := addrs[name]; ok {
			return a, nil
		}
		return "", fmt.Errorf("no static file %q", name)
	}
}

// telURI is the "tel" template function: a phone number as written for people ("555-0100 x12",
// "(312) 555 0100") as a tel: address phones dial: the digits and a leading +, with an
// extension after ";ext=".
func telURI(phone string) template.URL {
	number, ext := phone, ""
	lower := []byte(phone) // ASCII lower case only, so indexes stay those of phone
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	for _, sep := range []string{" ext. ", " ext ", " x", "x"} {
		if i := strings.Index(string(lower), sep); i > 0 {
			number, ext = phone[:i], phone[i+len(sep):]
			break
		}
	}
	keep := func(s string, plus bool) string {
		var b strings.Builder
		for i, r := range strings.TrimSpace(s) {
			if r >= '0' && r <= '9' || plus && i == 0 && r == '+' {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	uri := "tel:" + keep(number, true)
	if ext = keep(ext, false); ext != "" {
		uri += ";ext=" + ext
	}
	// Only digits, "+" and ";ext=" remain: safe as a URL.
	return template.URL(uri)
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
	// SignIn is what a refused sign-in says about the lockout (pages.go).
	SignIn *signInView

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
	// FormToken is the page's one-time form token ("form-token" in base.html): set on pages
	// whose forms must not act twice.
	FormToken string

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

// required is a form field that must not be left empty, and what its error says when it is.
type required struct{ field, message string }

// missing flags every required field the request left empty, all at once and in the page's
// order (not only the first, as the rules would one by one), so a single submission shows
// everything there is to fix. It reports whether any was empty; the form must then be shown
// again without acting on it.
func (v *view) missing(r *http.Request, fields ...required) bool {
	found := false
	for _, f := range fields {
		if strings.TrimSpace(r.PostFormValue(f.field)) == "" {
			v.Errors = append(v.Errors, formError{Field: f.field, Message: f.message})
			found = true
		}
	}
	return found
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

// timeoutView says on every signed-in page when the session times out. Nothing acts on it by
// itself: a page that left for the sign-in page on its own would throw away what someone was
// typing, unannounced (WCAG 2.2.1), so without JavaScript the next request after the time-out
// says the session timed out. With JavaScript, static/timeout.js warns in a dialog WarnMS
// before the end and offers to stay signed in (session_extend.go). It is also the JSON answer
// of that extension, for the script to move its timer and the line's words.
type timeoutView struct {
	Username string `json:"-"`
	Idle     string `json:"idle"` // "3:04 PM CST": when it ends if nothing is done; "" when End comes first
	End      string `json:"end"`  // when it ends at the latest
	IdleFor  string `json:"-"`    // the idle time: "30 minutes"
	Lifetime string `json:"-"`    // how long a session lasts at most: "12 hours"
	// Now, IdleAt and EndAt are instants by the server's clock (RFC 3339 in UTC, to the
	// millisecond): the script counts from the difference, so a browser whose clock is wrong
	// still warns on time.
	Now    string `json:"now"`
	IdleAt string `json:"idle_at"`
	EndAt  string `json:"end_at"`
	// WarnMS is how long before the time-out the warning shows, in milliseconds.
	WarnMS int64 `json:"-"`
	// Line is the "Signed in as …" line again ("timeout-line" in base.html), in the answer to
	// an extension only.
	Line string `json:"line,omitempty"`
}

// timeoutWarning is how long before the idle time-out the warning shows: two minutes, time to
// notice and answer. A site whose idle time is short gets half of it instead, so a page never
// opens with the warning already showing.
const timeoutWarning = 2 * time.Minute

// durationText says a session's idle time or lifetime in the unit it was configured in: whole
// hours, else minutes, else seconds.
func durationText(d time.Duration) string {
	n, unit := int(math.Round(d.Seconds())), "second"
	if d >= time.Hour && d%time.Hour == 0 {
		n, unit = int(d/time.Hour), "hour"
	} else if d >= time.Minute && d%time.Minute == 0 {
		n, unit = int(d/time.Minute), "minute"
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// instant is how timeoutView tells the script an instant.
func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func newTimeoutView(p *auth.Principal, now time.Time) *timeoutView {
	idle := p.Site.Policy.Session.Idle
	t := &timeoutView{Username: p.User.Username, End: untilText(p.Site, p.ExpiresAt, now),
		IdleFor: durationText(idle), Lifetime: durationText(p.Site.Policy.Session.Absolute),
		Now: instant(now), IdleAt: instant(p.IdleExpiresAt), EndAt: instant(p.ExpiresAt),
		WarnMS: min(timeoutWarning, idle/2).Milliseconds()}
	if !p.ExpiresAt.Before(p.IdleExpiresAt) {
		t.Idle = untilText(p.Site, p.IdleExpiresAt, now)
	}
	return t
}
