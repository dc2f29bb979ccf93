package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
	"github.com/hmisauth/hmisauth/auth"
)

// The console's audit log (a sysadmin's, or a security officer's agency's): filters, paging,
// and CSV or JSON downloads.

const auditPageSize = 50

type auditView struct {
	User, Actor, Action, From, To string
	Actions                       []option
	Rows                          []auditRow
	Older                         string // the next (older) page's address
	CSV, JSON                     string // download addresses with the same filters
	// Agency is set for a security officer: the agency whose events are shown.
	Agency   string
	Reviews  *reviewsView
	Activity []activityRow // an officer's agency's users' sign-ins
}

type auditRow struct {
	ID                                            int64
	Time, Actor, Subject, Action, Detail, Address string
}

// consoleAuditQuery reads the audit filters of the address into a query and the view.
func consoleAuditQuery(r *http.Request, site *hmisauth.Site) (hmisauth.EventQuery, *auditView, error) {
	q := r.URL.Query()
	av := &auditView{User: strings.TrimSpace(q.Get("user")), Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	for _, act := range hmisauth.EventActions {
		av.Actions = append(av.Actions, option{Value: act, Label: act, Selected: act == av.Action})
	}
	eq := hmisauth.EventQuery{Subject: av.User, Actor: av.Actor, Action: av.Action}
	from, err := hmisauth.ParseDate("from", "The from date", av.From)
	if err != nil {
		return eq, av, err
	}
	to, err := hmisauth.ParseDate("to", "The to date", av.To)
	if err != nil {
		return eq, av, err
	}
	if !from.IsZero() {
		eq.Since = site.StartOf(from)
	}
	if !to.IsZero() {
		eq.Until = site.StartOf(to.AddDays(1))
	}
	if b := q.Get("before"); b != "" {
		if id, err := strconv.ParseInt(b, 10, 64); err == nil && id > 0 {
			eq.BeforeID = id
		}
	}
	filters := url.Values{}
	for k, val := range map[string]string{"user": av.User, "actor": av.Actor, "action": av.Action, "from": av.From, "to": av.To} {
		if val != "" {
			filters.Set(k, val)
		}
	}
	dl := func(format string) string {
		f := url.Values{"format": {format}}
		for k, v := range filters {
			f[k] = v
		}
		return adminPath(site, "audit/download") + "?" + f.Encode()
	}
	av.CSV, av.JSON = dl("csv"), dl("json")
	return eq, av, nil
}

// consoleAudit lists audit events, newest first, with filters and paging: a sysadmin's whole
// log, a security officer's agency's events (Admin.Audit scopes and refuses), with the
// access-log reviews and, for an officer, the agency's sign-in activity.
func (s *Server) consoleAudit(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v := s.consoleView(r, a)
	v.fields = []string{"user", "actor", "action", "from", "to"}
	err := s.auditPage(r, a, v, nil)
	if err != nil {
		s.consoleFormError(w, r, "admin_audit", v, err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_audit", v)
}

// auditPage fills the audit page's view: the events the address's filters select, then the
// reviews (with form, the review form as sent) and the sign-in activity.
func (s *Server) auditPage(r *http.Request, a *auth.Admin, v *consoleView, form *reviewForm) error {
	eq, av, err := consoleAuditQuery(r, a.Site())
	v.Audit = av
	if err != nil {
		return err
	}
	eq.Limit = auditPageSize
	evs, err := a.Audit(r.Context(), eq)
	if err != nil {
		return err
	}
	for _, ev := range evs {
		av.Rows = append(av.Rows, auditRow{ID: ev.ID, Time: siteTimeIn(a.Site(), ev.At, "Jan 2, 2006 3:04:05 PM MST"), Actor: ev.Actor, Subject: ev.Subject,
			Action: ev.Action, Detail: ev.Detail, Address: ev.ClientAddr})
	}
	if len(evs) == auditPageSize {
		next := r.URL.Query()
		next.Set("before", strconv.FormatInt(evs[len(evs)-1].ID, 10))
		av.Older = adminPath(a.Site(), "audit") + "?" + next.Encode()
	}
	return s.reviewsPart(r, a, v, form)
}

// consoleAuditDownload sends the filtered audit events as a CSV or JSON file (in the reader's
// scope, as the page).
func (s *Server) consoleAuditDownload(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "json" {
		s.consoleError(w, r, a.Site(), hmisauth.Errorf(hmisauth.EINVALID, "The download format must be csv or json."))
		return
	}
	eq, _, err := consoleAuditQuery(r, a.Site())
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	eq.BeforeID = 0
	// Gather every matching event first, so an error is still a clean error page.
	var buf bytes.Buffer
	x, err := audit.NewWriter(&buf, format)
	if err == nil {
		eq.Limit = 500
		for {
			evs, aerr := a.Audit(r.Context(), eq)
			if aerr != nil {
				err = aerr
				break
			}
			for _, ev := range evs {
				if err = x.Write(ev); err != nil {
					break
				}
			}
			if err != nil || len(evs) < eq.Limit {
				break
			}
			eq.BeforeID = evs[len(evs)-1].ID
		}
		if err == nil {
			err = x.Close()
		}
	}
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	ctype := "text/csv; charset=utf-8"
	if format == "json" {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%s.%s"`, a.Site().Key, format))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
