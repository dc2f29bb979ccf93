package web

import (
	"github.com/hmisauth/hmisauth/auth"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
)

// contentSecurityPolicy allows nothing but our own stylesheet, images and script file,
// fetching from and posting forms back to ourselves, and never being framed. No inline script
// or handler runs; the one script (static/passkey.js) only drives passkeys, which browsers
// offer to JavaScript alone, and every other flow works without it.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// hsts is sent only behind https. No includeSubDomains: other hosts of the agency's domain
// are not ours to commit to https.
const hsts = "max-age=31536000"

// middleware wraps the routes in what every request passes through, outermost first: request
// logging with panic recovery, security headers, then cross-origin (CSRF) protection.
func (s *Server) middleware(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginRefused))
	// The OpenID Connect endpoints are called across origins by design (an application's
	// page posts to end_session, a single-page app calls the token endpoint); they keep their
	// own checks: client authentication, PKCE, the browser binding, id_token_hint.
	cop.AddInsecureBypassPattern("/{site}/oidc/")
	return s.observe(s.securityHeaders(cop.Handler(h)))
}

// securityHeaders sets the headers every response carries. Pages and API answers hold
// personal data, so nothing may be cached; /static/ overrides Cache-Control for its files.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if s.opt.Secure {
			h.Set("Strict-Transport-Security", hsts)
		}
		next.ServeHTTP(w, r)
	})
}

// crossOriginRefused answers a state-changing request that another website made the browser
// send (a forged form post). A person only meets it after following a form from elsewhere.
func (s *Server) crossOriginRefused(w http.ResponseWriter, r *http.Request) {
	s.log.WarnContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"client", s.clientAddr(r), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	err := &hmisauth.Error{Code: hmisauth.EFORBIDDEN,
		Message: "This request came from another website, so it was refused."}
	if isAPI(r) {
		s.writeJSONError(w, r, err)
		return
	}
	v := s.newView(r, nil)
	v.Status, v.Message, v.CrossOrigin = http.StatusForbidden, err.Message, true
	s.render(w, r, http.StatusForbidden, "error", v)
}

// observe logs each request when it ends and turns a panic into "Internal error." with the
// detail only in the log. The log line holds no query string (reset links carry their token
// there), no headers, no cookies and no body.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		// Who acts, for the audit log: an anonymous visitor from this address until a
		// handler knows better.
		req := r.WithContext(auth.WithActor(r.Context(), auth.Actor{ClientAddr: s.clientAddr(r)}))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path,
					"panic", v, "stack", string(debug.Stack()))
				if !rec.wrote {
					// Whatever the handler meant to send, such as a new session cookie, is void.
					rec.Header().Del("Set-Cookie")
					s.internalError(rec, r)
				}
			}
			level := slog.LevelInfo
			if quiet(r.URL.Path) && rec.status < 500 {
				level = slog.LevelDebug
			}
			s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path,
				"status", rec.statusCode(), "bytes", rec.bytes,
				"duration_ms", float64(time.Since(start).Microseconds())/1000, "client", s.clientAddr(r))
			if s.opt.ObserveRequest != nil {
				// The muxes record the pattern they matched on the request they were given.
				s.opt.ObserveRequest(req.Pattern, r.Method, rec.statusCode(), time.Since(start))
			}
		}()
		next.ServeHTTP(rec, req)
	})
}

// quiet paths are probed constantly or fetched with every page; they log at debug level.
func quiet(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/favicon.ico" || strings.HasPrefix(path, "/static/")
}

// recorder notes the status and size of a response for the log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// isAPI reports whether the request is for the JSON API, which answers errors in JSON.
func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/")
}
