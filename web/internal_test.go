package web

import (
	"bytes"
	"context"
	"errors"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// newTestServer is a Server whose rules have no store: enough for rendering and middleware.
func newTestServer(t *testing.T, logs *bytes.Buffer) *Server {
	t.Helper()
	site := &hmisauth.Site{Key: "live", Name: "HMIS Live", Policy: hmisauth.DefaultPolicy(),
		Helpdesk: hmisauth.Helpdesk{Email: "helpdesk@example.org"}}
	log := slog.New(slog.NewTextHandler(logs, nil))
	svc := auth.NewService(auth.Deps{Clock: hmisauth.SystemClock{}, Sites: []*hmisauth.Site{site}, Log: log})
	return New(svc, Options{Log: log})
}

func TestEveryErrorCodeHasAStatus(t *testing.T) {
	codes := []string{
		hmisauth.ECONFLICT, hmisauth.EINTERNAL, hmisauth.EINVALID, hmisauth.ENOTFOUND, hmisauth.EFORBIDDEN,
		hmisauth.ELoginFailed, hmisauth.EAccountLocked, hmisauth.ETOTPRequired, hmisauth.ERateLimited,
		hmisauth.EBusy, hmisauth.EUnavailable, hmisauth.EUnauthorized, hmisauth.ESessionExpired, hmisauth.ETemporaryUsed, hmisauth.ETemporaryExpired,
		hmisauth.EPasswordPolicy, hmisauth.EPasswordMismatch, hmisauth.EPasswordReused,
		hmisauth.ECurrentPasswordWrong, hmisauth.EActionRequired, hmisauth.ETermsVersion, hmisauth.ESeatsFull,
		hmisauth.ETokenInvalid, hmisauth.ESecurityAnswerWrong, hmisauth.ERecoveryUnavailable,
	}
	for _, c := range codes {
		if _, ok := statusByCode[c]; !ok {
			t.Errorf("code %q has no HTTP status", c)
		}
	}
	if statusByCode[hmisauth.EAccountLocked] != 423 || statusByCode[hmisauth.EBusy] != 503 {
		t.Error("locked must be 423 and busy 503")
	}
	if statusByCode[hmisauth.ETokenInvalid] != 410 || statusByCode[hmisauth.ESecurityAnswerWrong] != 400 {
		t.Error("token_invalid must be 410 and security_answer_wrong 400 (CONTRACT.md)")
	}
}

func TestBusyAnswersRetryAfter(t *testing.T) {
	s := newTestServer(t, &bytes.Buffer{})
	busy := &hmisauth.Error{Code: hmisauth.EBusy, Message: "The sign-in service is very busy. Please try again in a few seconds."}

	w := httptest.NewRecorder()
	s.writeJSONError(w, httptest.NewRequest("POST", "/api/v1/sites/live/login", nil), busy)
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" {
		t.Errorf("API busy: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}

	w = httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/live/login", nil)
	site, _ := s.svc.Site("live")
	s.formError(w, r, "login", s.loginView(r, site, nil), busy, nil)
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" {
		t.Errorf("page busy: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if !strings.Contains(w.Body.String(), "The sign-in service is very busy. Please try again in a few seconds.") {
		t.Errorf("page busy lacks the message:\n%s", w.Body)
	}
}

func TestOtherErrorsSayOnlyInternalError(t *testing.T) {
	var logs bytes.Buffer
	s := newTestServer(t, &logs)
	w := httptest.NewRecorder()
	s.writeJSONError(w, httptest.NewRequest("GET", "/api/v1/sites/live/me", nil), errors.New("disk on fire at /var/db"))
	if w.Code != 500 || strings.TrimSpace(w.Body.String()) != `{"error":"internal","message":"Internal error."}` {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Error("the detail is not in the log")
	}
}

func TestPanicBecomesInternalError(t *testing.T) {
	var logs bytes.Buffer
	s := newTestServer(t, &logs)
	h := s.observe(s.securityHeaders(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret detail")
	})))
	for _, path := range []string{"/live/account", "/api/v1/sites/live/me"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != 500 || !strings.Contains(w.Body.String(), "Internal error.") || strings.Contains(w.Body.String(), "secret detail") {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
		if w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no security headers on the error", path)
		}
	}
	if !strings.Contains(logs.String(), "secret detail") {
		t.Error("the panic is not in the log")
	}
}

func TestClientAddrTrustsForwardedForOnlyWhenTold(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.5:4431"
	r.Header.Add("X-Forwarded-For", "6.6.6.6, 203.0.113.9")
	s := &Server{}
	if got := s.clientAddr(r); got != "10.0.0.5" {
		t.Errorf("untrusted: %q", got)
	}
	s.opt.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	if got := s.clientAddr(r); got != "203.0.113.9" {
		t.Errorf("trusted: %q", got)
	}
}

// TestImportsNeitherStoreNorConfig keeps the package's promise in doc.go: the server works over
// any storage backend and any source of configuration.
func TestImportsNeitherStoreNorConfig(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, banned := range []string{"/store", "/config"} {
				if strings.HasPrefix(path, "github.com/hmisauth/hmisauth"+banned) {
					t.Errorf("%s imports %s", name, path)
				}
			}
		}
	}
}

func TestLinkifyLinksOnlyOurOwnAddresses(t *testing.T) {
	origins := []string{"http://127.0.0.1:8080", "http://localhost:8080"}
	for _, c := range []struct {
		text  string
		links []string
	}{
		{"Open this link:\nhttp://127.0.0.1:8080/live/reset-password?token=abc\n\nThanks.",
			[]string{"http://127.0.0.1:8080/live/reset-password?token=abc"}},
		{"(sign in at http://localhost:8080/live/login).", []string{"http://localhost:8080/live/login"}},
		{"or open /live/forgot-password, then", []string{"/live/forgot-password"}},
		{"HTTP://LOCALHOST:8080/x", []string{"HTTP://LOCALHOST:8080/x"}},
		{"https://evil.example/phish http://127.0.0.1:8080.evil.example/x http://127.0.0.1:80801/x", nil},
		{"http://user@127.0.0.1:8080/x https://127.0.0.1:8080/x http://127.0.0.1/x", nil},
		{"javascript:alert(1) data:text/html,<b>x</b> //evil.example/x /\\evil.example / ", nil},
		{`http://127.0.0.1:8080/a"onmouseover="alert(1) <script>alert(1)</script>`, nil},
		{"", nil},
	} {
		parts := linkify(c.text, origins)
		var joined strings.Builder
		var links []string
		for _, p := range parts {
			joined.WriteString(p.Text)
			if p.Href != "" {
				if p.Href != p.Text {
					t.Errorf("%q: link %q shows %q", c.text, p.Href, p.Text)
				}
				links = append(links, p.Href)
			}
		}
		if joined.String() != c.text {
			t.Errorf("%q: text changed to %q", c.text, joined.String())
		}
		if strings.Join(links, " ") != strings.Join(c.links, " ") {
			t.Errorf("%q: links %q, want %q", c.text, links, c.links)
		}
	}
}

func TestDevInboxEscapesTheMail(t *testing.T) {
	s := newTestServer(t, &bytes.Buffer{})
	s.opt.DevInbox = func(context.Context, int) ([]*hmisauth.Message, error) {
		return []*hmisauth.Message{{Site: "live", Kind: "reset", To: "a@example.org", Subject: "<i>Reset</i>",
			Text: "<b>Hi</b> http://example.com/live/x?a=1&b=2 </pre><script>alert(1)</script>",
			HTML: "<p>never shown</p>"}}, nil
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "http://example.com/dev/mail", nil)
	s.devMail(w, r)
	page := w.Body.String()
	for _, want := range []string{"&lt;b&gt;Hi&lt;/b&gt;", `<a href="http://example.com/live/x?a=1&amp;b=2">`,
		"&lt;/pre&gt;&lt;script&gt;", "&lt;i&gt;Reset&lt;/i&gt;", "Development inbox — e-mails are not really sent"} {
		if !strings.Contains(page, want) {
			t.Errorf("inbox lacks %q", want)
		}
	}
	for _, bad := range []string{"<b>", "<script>", "<i>", "never shown"} {
		if strings.Contains(page, bad) {
			t.Errorf("inbox has %q", bad)
		}
	}
}

func TestDurationInWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		15 * time.Minute: "15 minutes", time.Minute: "1 minute", time.Hour: "1 hour",
		90 * time.Minute: "90 minutes", 2 * time.Hour: "2 hours", 30 * time.Second: "30 seconds",
	} {
		if got := duration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

// stepClock is a clock the test moves.
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }

// During an outage every request meets the database error: the log gets a line when it begins
// and then one every outageLogEvery with the count, not a line per request.
func TestAnOutageIsLoggedEveryFewSecondsNotPerRequest(t *testing.T) {
	var logs bytes.Buffer
	s := newTestServer(t, &logs)
	clock := &stepClock{now: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)}
	s.clock = clock
	down := errors.Join(hmisauth.ErrUnavailable(), errors.New("dial tcp 10.0.0.5:5432: connect: connection refused"))
	for i := range 250 {
		clock.now = clock.now.Add(100 * time.Millisecond) // 10 requests a second for 25 s
		w := httptest.NewRecorder()
		s.writeJSONError(w, httptest.NewRequest("GET", "/api/v1/sites/live/me", nil), down)
		if w.Code != 503 || w.Header().Get("Retry-After") != "30" {
			t.Fatalf("request %d: %d, Retry-After %q; want 503 with Retry-After 30", i, w.Code, w.Header().Get("Retry-After"))
		}
	}
	lines := strings.Count(logs.String(), "database unavailable")
	if lines != 3 {
		t.Errorf("25 s of outage logged %d lines, want 3 (at 0, 10 and 20 s):\n%s", lines, logs.String())
	}
	if !strings.Contains(logs.String(), "refused_since_last=100") || !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("the lines must count the refusals since the last and name the cause:\n%s", logs.String())
	}
}
