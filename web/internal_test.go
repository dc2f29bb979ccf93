package web

import (
	"bytes"
	"errors"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// newTestServer is a Server whose rules have no store: enough for rendering and middleware.
func newTestServer(t *testing.T, logs *bytes.Buffer) *Server {
	t.Helper()
	site := &hmisauth.Site{Key: "live", Name: "HMIS Live", Policy: hmisauth.DefaultPolicy(),
		Helpdesk: hmisauth.Helpdesk{Email: "helpdesk@example.org"}}
	log := slog.New(slog.NewTextHandler(logs, nil))
	return New(auth.NewService(nil, hmisauth.SystemClock{}, nil, []*hmisauth.Site{site}, log), Options{Log: log})
}

func TestEveryErrorCodeHasAStatus(t *testing.T) {
	codes := []string{
		hmisauth.ECONFLICT, hmisauth.EINTERNAL, hmisauth.EINVALID, hmisauth.ENOTFOUND, hmisauth.EFORBIDDEN,
		hmisauth.ELoginFailed, hmisauth.EAccountLocked, hmisauth.ETOTPRequired, hmisauth.ERateLimited,
		hmisauth.EBusy, hmisauth.EUnauthorized, hmisauth.ESessionExpired, hmisauth.ETemporaryUsed, hmisauth.ETemporaryExpired,
		hmisauth.EPasswordPolicy, hmisauth.EPasswordMismatch, hmisauth.EPasswordReused,
		hmisauth.ECurrentPasswordWrong, hmisauth.EActionRequired, hmisauth.ETermsVersion, hmisauth.ESeatsFull,
	}
	for _, c := range codes {
		if _, ok := statusByCode[c]; !ok {
			t.Errorf("code %q has no HTTP status", c)
		}
	}
	if statusByCode[hmisauth.EAccountLocked] != 423 || statusByCode[hmisauth.EBusy] != 503 {
		t.Error("locked must be 423 and busy 503")
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
	s.formError(w, r, "login", s.loginView(r, site), busy, nil)
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
	s.opt.TrustProxy = true
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
