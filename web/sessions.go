package web

import (
	"net/http"
	"strconv"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// sessionRow is one session on the sessions page, its times worded.
type sessionRow struct {
	ID       int64
	Current  bool
	Browser  string
	Address  string
	Started  string
	LastUsed string
	Ends     string // when it times out: idle or absolute, whichever first
	Apps     []string
}

// sessionsPage lists the user's sessions, each with a button to end it.
func (s *Server) sessionsPage(w http.ResponseWriter, r *http.Request) {
	p := s.signedInPage(w, r, "account/sessions")
	if p == nil {
		return
	}
	v, err := s.sessionsView(r, p)
	if err != nil {
		s.errorPage(w, r, p.Site, err)
		return
	}
	s.render(w, r, http.StatusOK, "sessions", v)
}

func (s *Server) sessionsView(r *http.Request, p *auth.Principal) (*view, error) {
	list, err := s.svc.Sessions(r.Context(), p)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	v := s.newView(r, p.Site)
	v.Principal = p
	for _, x := range list {
		ends := x.ExpiresAt
		if x.IdleExpiresAt.Before(ends) {
			ends = x.IdleExpiresAt
		}
		v.Sessions = append(v.Sessions, sessionRow{ID: x.ID, Current: x.Current, Browser: x.Browser,
			Address: x.ClientAddr, Started: untilText(p.Site, x.CreatedAt, now),
			LastUsed: untilText(p.Site, x.LastSeenAt, now), Ends: untilText(p.Site, ends, now), Apps: x.Apps})
	}
	return v, nil
}

// sessionEnd ends one session; ending the current one signs out.
func (s *Server) sessionEnd(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPage(w, r, p.Site, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no such session."))
		return
	}
	if err := s.svc.EndSession(r.Context(), p, id); err != nil && hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
		s.errorPage(w, r, p.Site, err)
		return
	}
	if id == p.Session.ID {
		s.clearSession(w, p.Site)
		redirect(w, r, sitePath(p.Site, "login")+"?notice=signed_out")
		return
	}
	redirect(w, r, sitePath(p.Site, "account/sessions?notice=session_ended"))
}

// sessionsEndOthers ends every session but this one.
func (s *Server) sessionsEndOthers(w http.ResponseWriter, r *http.Request) {
	p := s.signedInForm(w, r)
	if p == nil {
		return
	}
	if err := s.svc.EndOtherSessions(r.Context(), p); err != nil {
		s.errorPage(w, r, p.Site, err)
		return
	}
	redirect(w, r, sitePath(p.Site, "account/sessions?notice=sessions_ended"))
}
