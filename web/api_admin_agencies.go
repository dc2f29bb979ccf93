package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// The administration API, continued: agencies and the audit log. Scope is the *auth.Admin's,
// as for users (api_admin.go).

// agencyJSON is an agency as administrators see it.
type agencyJSON struct {
	ID             int64         `json:"id"`
	Name           string        `json:"name"`
	Seats          int           `json:"seats"`
	SeatsUsed      int           `json:"seats_used"`
	LicenseStarts  hmisauth.Date `json:"license_starts,omitempty"`
	LicenseExpires hmisauth.Date `json:"license_expires,omitempty"`
	CreatedAt      *time.Time    `json:"created_at"`
}

func (s *Server) newAgencyJSON(r *http.Request, a *auth.Admin, ag *hmisauth.Agency) (agencyJSON, error) {
	used, err := a.SeatsUsed(r.Context(), ag)
	return agencyJSON{ID: ag.ID, Name: ag.Name, Seats: ag.Seats, SeatsUsed: used, LicenseStarts: ag.LicenseStarts,
		LicenseExpires: ag.LicenseExpires, CreatedAt: utcPtr(ag.CreatedAt)}, err
}

func (s *Server) writeAgency(w http.ResponseWriter, r *http.Request, a *auth.Admin, status int, ag *hmisauth.Agency) {
	v, err := s.newAgencyJSON(r, a, ag)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

func (s *Server) apiAgencies(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	list, err := a.Agencies(r.Context())
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	res := struct {
		Agencies []agencyJSON `json:"agencies"`
	}{Agencies: []agencyJSON{}}
	for _, ag := range list {
		v, err := s.newAgencyJSON(r, a, ag)
		if err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		res.Agencies = append(res.Agencies, v)
	}
	writeJSON(w, http.StatusOK, res)
}

// agencyRequest is POST /agencies and PATCH /agencies/{id}: a field left out (or null) stays
// as it is; a date of "" clears it.
type agencyRequest struct {
	Name           *string `json:"name"`
	Seats          *int    `json:"seats"`
	LicenseStarts  *string `json:"license_starts"`
	LicenseExpires *string `json:"license_expires"`
}

// change checks the request. The API takes dates as YYYY-MM-DD only; the console's form (with
// labels, naming its date fields in errors) also takes them as people write them.
func (req agencyRequest) change(labels map[string]string) (auth.AgencyChange, error) {
	c := auth.AgencyChange{Name: req.Name, Seats: req.Seats}
	for _, f := range []struct {
		name string
		from *string
		to   **hmisauth.Date
	}{{"license_starts", req.LicenseStarts, &c.LicenseStarts}, {"license_expires", req.LicenseExpires, &c.LicenseExpires}} {
		if f.from != nil {
			var d hmisauth.Date
			var err error
			if labels == nil {
				d, err = hmisauth.ParseISODate(f.name, *f.from)
			} else {
				d, err = hmisauth.ParseDate(f.name, labels[f.name], *f.from)
			}
			if err != nil {
				return c, err
			}
			*f.to = &d
		}
	}
	return c, nil
}

// agencyID is the {id} of an agency's address; one that is not a number names no agency.
func agencyID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no agency %q.", r.PathValue("id"))
	}
	return id, nil
}

func (s *Server) apiAgency(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	id, err := agencyID(r)
	var ag *hmisauth.Agency
	if err == nil {
		ag, err = a.Agency(r.Context(), id)
	}
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	s.writeAgency(w, r, a, http.StatusOK, ag)
}

func (s *Server) apiSaveAgency(create bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := s.admin(w, r)
		if a == nil {
			return
		}
		var req agencyRequest
		if err := decodeJSON(w, r, &req); err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		c, err := req.change(nil)
		var ag *hmisauth.Agency
		status := http.StatusOK
		switch {
		case err != nil:
		case create:
			ag, err = a.CreateAgency(r.Context(), c)
			status = http.StatusCreated
		default:
			var id int64
			if id, err = agencyID(r); err == nil {
				ag, err = a.UpdateAgency(r.Context(), id, c)
			}
		}
		if err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		s.writeAgency(w, r, a, status, ag)
	}
}

// eventJSON is one audit event; its hashes stay in the export, which is for verifying.
type eventJSON struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Actor      string    `json:"actor"`
	Subject    string    `json:"subject"`
	Action     string    `json:"action"`
	ClientAddr string    `json:"client_addr"`
	Detail     string    `json:"detail"`
}

type auditResponse struct {
	Events     []eventJSON `json:"events"`
	NextBefore int64       `json:"next_before,omitempty"`
}

// Audit pages hold at most maxAuditPage events (defaultAuditPage when the call says nothing).
const (
	defaultAuditPage = 100
	maxAuditPage     = 500
)

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	q, limit, err := auditQuery(a.Site(), r.URL.Query())
	var evs []*hmisauth.Event
	if err == nil {
		q.Limit = limit + 1 // one more tells whether another page exists
		evs, err = a.Audit(r.Context(), q)
	}
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	res := auditResponse{Events: []eventJSON{}}
	if len(evs) > limit {
		evs = evs[:limit]
		res.NextBefore = evs[limit-1].ID
	}
	for _, ev := range evs {
		res.Events = append(res.Events, eventJSON{ID: ev.ID, Time: ev.At.UTC(), Actor: ev.Actor, Subject: ev.Subject,
			Action: ev.Action, ClientAddr: ev.ClientAddr, Detail: ev.Detail})
	}
	writeJSON(w, http.StatusOK, res)
}

// auditQuery reads GET /audit's filters: since and until are RFC 3339 times or dates (a
// date's whole day in the site's timezone), user the account acted on.
func auditQuery(site *hmisauth.Site, v url.Values) (hmisauth.EventQuery, int, error) {
	q := hmisauth.EventQuery{Subject: strings.TrimSpace(v.Get("user")), Actor: strings.TrimSpace(v.Get("actor")),
		Action: strings.TrimSpace(v.Get("action"))}
	var err error
	if q.Since, err = queryTime(site, v, "since", 0); err != nil {
		return q, 0, err
	}
	if q.Until, err = queryTime(site, v, "until", 1); err != nil {
		return q, 0, err
	}
	if q.BeforeID, err = queryInt(v, "before"); err != nil {
		return q, 0, err
	}
	limit, err := queryInt(v, "limit")
	switch {
	case limit == 0:
		limit = defaultAuditPage
	case limit > maxAuditPage:
		limit = maxAuditPage
	}
	return q, int(limit), err
}

// queryTime reads an RFC 3339 time, or a date meaning the start of that day plus days.
func queryTime(site *hmisauth.Site, v url.Values, name string, days int) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(hmisauth.DateLayout, s, site.Loc())
	if err != nil {
		return time.Time{}, hmisauth.FieldError(name, name+" must be a date (2026-03-02) or a time (2026-03-02T15:04:05Z).")
	}
	return t.AddDate(0, 0, days), nil
}
