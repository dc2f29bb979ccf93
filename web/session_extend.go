package web

import (
	"bytes"
	"net/http"
)

// sessionExtend is "Stay signed in" in the time-out warning (static/timeout.js): a same-origin
// POST from the page, which the cross-origin protection lets through like any form of ours. It
// records use of the session now and answers its new deadlines as a timeoutView, the
// "Signed in as …" line included, so the page's words stay true. A session already ended
// answers the JSON error (session_expired, unauthorized), and the script says it ended.
func (s *Server) sessionExtend(w http.ResponseWriter, r *http.Request) {
	p := s.signedInJSON(w, r)
	if p == nil {
		return
	}
	p, err := s.svc.ExtendSession(r.Context(), p)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	t := newTimeoutView(p, s.clock.Now())
	var line bytes.Buffer
	// Every page's set holds base.html, where the line is worded.
	if err := s.pages.sets["account"].ExecuteTemplate(&line, "timeout-line", t); err != nil {
		s.log.ErrorContext(r.Context(), "template failed", "template", "timeout-line", "err", err)
		s.internalError(w, r)
		return
	}
	t.Line = line.String()
	writeJSON(w, http.StatusOK, t)
}
