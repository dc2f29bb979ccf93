package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hmisauth/hmisauth"
)

// statusByCode is the one table from hmisauth error codes to HTTP statuses, for pages and API
// alike.
var statusByCode = map[string]int{
	hmisauth.ELoginFailed:       http.StatusUnauthorized,
	hmisauth.ETOTPRequired:      http.StatusUnauthorized,
	hmisauth.ETOTPWrong:         http.StatusUnauthorized,
	hmisauth.EPasskeyWrong:      http.StatusUnauthorized,
	hmisauth.EReauthRequired:    http.StatusForbidden,
	hmisauth.ESignedInElsewhere: http.StatusUnauthorized,
	// mfa_unavailable: the server cannot read the user's authenticator secret (its key was
	// lost or changed); a server fault, but one the user must be told how to get past.
	hmisauth.EMFAUnavailable:       http.StatusInternalServerError,
	hmisauth.EUnauthorized:         http.StatusUnauthorized,
	hmisauth.ESessionExpired:       http.StatusUnauthorized,
	hmisauth.EAccountLocked:        http.StatusLocked,
	hmisauth.ERateLimited:          http.StatusTooManyRequests,
	hmisauth.EBusy:                 http.StatusServiceUnavailable,
	hmisauth.EUnavailable:          http.StatusServiceUnavailable,
	hmisauth.EINVALID:              http.StatusBadRequest,
	hmisauth.EPasswordPolicy:       http.StatusBadRequest,
	hmisauth.EPasswordMismatch:     http.StatusBadRequest,
	hmisauth.EPasswordReused:       http.StatusBadRequest,
	hmisauth.ECurrentPasswordWrong: http.StatusUnauthorized,
	hmisauth.ETemporaryUsed:        http.StatusUnauthorized,
	hmisauth.ETemporaryExpired:     http.StatusUnauthorized,
	hmisauth.EActionRequired:       http.StatusForbidden,
	hmisauth.EFORBIDDEN:            http.StatusForbidden,
	hmisauth.ETermsVersion:         http.StatusConflict,
	hmisauth.ENOTFOUND:             http.StatusNotFound,
	hmisauth.ECONFLICT:             http.StatusConflict,
	hmisauth.ESeatsFull:            http.StatusConflict,
	hmisauth.EINTERNAL:             http.StatusInternalServerError,
	hmisauth.ETokenInvalid:         http.StatusGone,
	hmisauth.ESecurityAnswerWrong:  http.StatusBadRequest,
	// recovery_unavailable: self-service reset is not open to this account (no security
	// question on a site that needs one); the helpdesk must help, so it is a refusal, 403.
	hmisauth.ERecoveryUnavailable: http.StatusForbidden,
}

// retryAfterBusy is how long (seconds) a client told "busy" should wait: the hashing queue
// drains in well under that. retryAfterUnavailable is for a database out of reach: a restart
// or a fail-over takes tens of seconds.
const (
	retryAfterBusy        = "5"
	retryAfterUnavailable = "30"
)

// internalMessage is all anyone outside learns of an error that is not an application error.
const internalMessage = "Internal error."

// httpError is an application error whose status is not the table's: a request refused
// before it reached the rules (wrong content type, body too large).
type httpError struct {
	status int
	err    *hmisauth.Error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

// status returns the HTTP status for err and the application error to show, which is nil
// when err is not an application error (it must then be logged and hidden).
func (s *Server) status(r *http.Request, err error) (int, *hmisauth.Error) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, he.err
	}
	e := hmisauth.AsError(err)
	if e != nil && e.Code == hmisauth.EUnavailable {
		// The cause (which database error) is for the operator; during an outage every
		// request meets it, so it is logged once every outageLogEvery with a count.
		if n, ok := s.outage.due(s.clock.Now()); ok {
			s.log.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path,
				"refused_since_last", n, "err", err)
		}
	}
	if e == nil || e.Code == hmisauth.EINTERNAL {
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusInternalServerError, nil
	}
	code, ok := statusByCode[e.Code]
	if !ok {
		// A new code someone forgot to add above: still show its message, but say so loudly.
		s.log.ErrorContext(r.Context(), "error code without an HTTP status", "code", e.Code)
		code = http.StatusInternalServerError
	}
	return code, e
}

// outageLogEvery is how often a database outage is logged while requests keep meeting it.
const outageLogEvery = 10 * time.Second

// outageLog counts requests refused because the database did not answer, and says when the
// next log line is due.
type outageLog struct {
	mu      sync.Mutex
	last    time.Time
	refused int
}

// due counts one refusal at now and reports whether to log it, with how many were refused
// since the last line (this one included).
func (o *outageLog) due(now time.Time) (int, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refused++
	if !o.last.IsZero() && now.Sub(o.last) < outageLogEvery {
		return 0, false
	}
	n := o.refused
	o.last, o.refused = now, 0
	return n, true
}

// setErrorHeaders adds what a status needs beyond the body.
func setErrorHeaders(w http.ResponseWriter, e *hmisauth.Error) {
	switch {
	case e == nil:
	case e.Code == hmisauth.EBusy:
		w.Header().Set("Retry-After", retryAfterBusy)
	case e.Code == hmisauth.EUnavailable:
		w.Header().Set("Retry-After", retryAfterUnavailable)
	case e.Code == hmisauth.ERateLimited && e.RetryAfter > 0:
		// Whole seconds until the limit's window ends, rounded up: a client that waits that
		// long is not refused again for the same window.
		w.Header().Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
}

// apiError is the JSON shape of every API error (CONTRACT.md).
type apiError struct {
	Error      string               `json:"error"`
	Message    string               `json:"message"`
	Field      string               `json:"field,omitempty"`
	Violations []hmisauth.Violation `json:"violations,omitempty"`
	// AttemptsLeft, on login_failed, is how many more failed sign-ins lock the username.
	AttemptsLeft int `json:"attempts_left,omitempty"`
}

// writeJSONError answers err as {"error", "message"[, "field"][, "violations"][, "attempts_left"]}.
func (s *Server) writeJSONError(w http.ResponseWriter, r *http.Request, err error) {
	status, e := s.status(r, err)
	body := apiError{Error: hmisauth.EINTERNAL, Message: internalMessage}
	if e != nil {
		body = apiError{Error: e.Code, Message: e.Message, Field: e.Field, AttemptsLeft: e.AttemptsLeft}
		if e.Code == hmisauth.EPasswordPolicy {
			body.Violations = e.Violations
		}
	}
	setErrorHeaders(w, e)
	writeJSON(w, status, body)
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types reach here; they always marshal.
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// internalError answers "Internal error." as a page or JSON; the detail is already logged.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		writeJSON(w, http.StatusInternalServerError, apiError{Error: hmisauth.EINTERNAL, Message: internalMessage})
		return
	}
	v := s.newView(r, nil)
	v.Status, v.Message = http.StatusInternalServerError, internalMessage
	s.render(w, r, http.StatusInternalServerError, "error", v)
}

// errorPage answers an error that has no form to show it next to, as a page of its own.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, err error) {
	status, e := s.status(r, err)
	v := s.newView(r, site)
	v.Status, v.Message = status, internalMessage
	if e != nil {
		v.Message = e.Message
	}
	setErrorHeaders(w, e)
	s.render(w, r, status, "error", v)
}
