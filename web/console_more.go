package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
	"github.com/hmisauth/hmisauth/auth"
)

// More console pages: the audit log, reports, bulk import and recording a user agreement.

// ---- Audit log ----

const auditPageSize = 50

type auditView struct {
	User, Actor, Action, From, To string
	Actions                       []option
	Rows                          []auditRow
	Older                         string // the next (older) page's address
	CSV, JSON                     string // download addresses with the same filters
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

// consoleAudit lists audit events, newest first, with filters and paging (a sysadmin's only:
// Admin.Audit refuses anyone else).
func (s *Server) consoleAudit(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v := s.consoleView(r, a)
	v.fields = []string{"user", "actor", "action", "from", "to"}
	eq, av, err := consoleAuditQuery(r, a.Site())
	v.Audit = av
	if err != nil {
		s.consoleFormError(w, r, "admin_audit", v, err)
		return
	}
	eq.Limit = auditPageSize
	evs, err := a.Audit(r.Context(), eq)
	if err != nil {
		s.consoleFormError(w, r, "admin_audit", v, err)
		return
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
	s.consoleRender(w, r, http.StatusOK, "admin_audit", v)
}

// consoleAuditDownload sends the filtered audit events as a CSV or JSON file (sysadmin only).
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

// ---- Reports ----

var reportLabels = map[string]string{
	auth.ReportLocked:             "Locked accounts",
	auth.ReportExpiringPasswords:  "Passwords expiring soon",
	auth.ReportExpiringLicenses:   "Agency licenses expiring soon",
	auth.ReportExpiringAgreements: "User agreements expiring soon",
	auth.ReportNoEmail:            "Users without an e-mail address",
	auth.ReportInactive:           "Inactive users",
}

type reportView struct {
	Kind, Days, Title string
	Kinds             []option
	Ran               bool
	Rows              []auth.ReportRow
	CSV               string
}

// reportQuery reads the report's kind and days; days is 0 when none was given.
func reportQuery(r *http.Request) (string, string, int, error) {
	q := r.URL.Query()
	kind, daysText := q.Get("kind"), strings.TrimSpace(q.Get("days"))
	days := 0
	if daysText != "" {
		n, err := strconv.Atoi(daysText)
		if err != nil || n < 1 || n > auth.MaxReportDays {
			return kind, daysText, 0, hmisauth.FieldError("days", fmt.Sprintf("Days must be a whole number from 1 to %d.", auth.MaxReportDays))
		}
		days = n
	}
	return kind, daysText, days, nil
}

// consoleReports runs a report over the users in scope and shows it as a table.
func (s *Server) consoleReports(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v := s.consoleView(r, a)
	v.fields = []string{"kind", "days"}
	kind, daysText, days, err := reportQuery(r)
	if daysText == "" {
		daysText = strconv.Itoa(auth.DefaultReportDays)
	}
	rv := &reportView{Kind: kind, Days: daysText, Title: reportLabels[kind]}
	v.Report = rv
	for _, k := range auth.ReportKinds {
		rv.Kinds = append(rv.Kinds, option{Value: k, Label: reportLabels[k], Selected: k == kind})
	}
	if err != nil {
		s.consoleFormError(w, r, "admin_reports", v, err)
		return
	}
	if kind != "" {
		if _, ok := reportLabels[kind]; !ok {
			s.consoleFormError(w, r, "admin_reports", v, hmisauth.FieldError("kind", "Choose a report from the list."))
			return
		}
		rows, err := a.Report(r.Context(), kind, days)
		if err != nil {
			s.consoleFormError(w, r, "admin_reports", v, err)
			return
		}
		rv.Ran, rv.Rows = true, rows
		dl := url.Values{"kind": {kind}}
		if days > 0 {
			dl.Set("days", strconv.Itoa(days))
		}
		rv.CSV = adminPath(a.Site(), "reports/download") + "?" + dl.Encode()
	}
	s.consoleRender(w, r, http.StatusOK, "admin_reports", v)
}

// consoleReportDownload sends a report as CSV.
func (s *Server) consoleReportDownload(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	kind, _, days, err := reportQuery(r)
	var rows []auth.ReportRow
	if err == nil {
		rows, err = a.Report(r.Context(), kind, days)
	}
	var buf bytes.Buffer
	if err == nil {
		err = auth.WriteReportCSV(&buf, rows)
	}
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="report-%s-%s.csv"`, a.Site().Key, kind))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// ---- Import ----

type importView struct {
	// Agency is the agency admin's own agency, which every imported user joins ("" for a sysadmin).
	Agency string
	Plan   *auth.ImportPlan
	OK     bool
	CSV    string // the previewed file, sent again by the create button; Import re-checks it
	N      int
}

type importCreated struct{ Username, Name, Password string }

// importPageView starts the import page's view; an agency admin is told which agency the
// file's users join.
func (s *Server) importPageView(r *http.Request, a *auth.Admin) (*consoleView, error) {
	v := s.consoleView(r, a)
	v.Import = &importView{}
	v.fields = []string{"file"}
	if !a.IsSysadmin() {
		ags, err := a.Agencies(r.Context())
		if err != nil {
			return nil, err
		}
		if len(ags) == 1 {
			v.Import.Agency = ags[0].Name
		}
	}
	return v, nil
}

// consoleImportForm shows the upload form.
func (s *Server) consoleImportForm(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v, err := s.importPageView(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_import", v)
}

// consoleImport previews an uploaded file (nothing written) or, with step=create, imports the
// file text the preview sent back, parsing and checking it again first.
func (s *Server) consoleImport(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 2*auth.MaxImportBytes+maxBody)
	p := s.signedIn(w, r, site)
	if p == nil || pendingElsewhere(w, r, p, "admin") {
		return
	}
	a := s.adminOf(w, r, p)
	if a == nil {
		return
	}
	v, err := s.importPageView(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		msg := "The upload could not be read. Choose the file again and try again."
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			msg = "The file is too large: at most 10 MB."
		}
		s.consoleFormError(w, r, "admin_import", v, hmisauth.FieldError("file", msg))
		return
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	var text string
	create := r.PostFormValue("step") == "create"
	if create {
		text = r.PostFormValue("csv")
	} else {
		f, _, err := r.FormFile("file")
		if err != nil {
			s.consoleFormError(w, r, "admin_import", v, hmisauth.FieldError("file", "Choose a CSV file to upload."))
			return
		}
		b, err := io.ReadAll(io.LimitReader(f, auth.MaxImportBytes+1))
		f.Close()
		if err != nil {
			s.consoleFormError(w, r, "admin_import", v, hmisauth.FieldError("file", "The upload could not be read. Choose the file again and try again."))
			return
		}
		if len(b) > auth.MaxImportBytes {
			s.consoleFormError(w, r, "admin_import", v, hmisauth.FieldError("file", "The file is too large: at most 10 MB."))
			return
		}
		text = string(b)
	}
	if len(text) > auth.MaxImportBytes {
		s.consoleFormError(w, r, "admin_import", v, hmisauth.FieldError("file", "The file is too large: at most 10 MB."))
		return
	}
	plan, err := a.ParseImport(r.Context(), strings.NewReader(text))
	if err != nil {
		if e := hmisauth.AsError(err); e != nil && e.Field == "" {
			err = hmisauth.FieldError("file", e.Message)
		}
		s.consoleFormError(w, r, "admin_import", v, err)
		return
	}
	v.Import.Plan, v.Import.OK, v.Import.CSV, v.Import.N = plan, plan.OK(), text, len(plan.Rows)
	if !create || !plan.OK() {
		s.consoleRender(w, r, http.StatusOK, "admin_import", v)
		return
	}
	created, err := a.Import(r.Context(), plan)
	if err != nil {
		s.consoleFormError(w, r, "admin_import", v, err)
		return
	}
	v.Import = nil
	for _, c := range created {
		v.Created = append(v.Created, importCreated{Username: c.User.Username, Name: c.User.FullName(), Password: c.TemporaryPassword})
	}
	v.Done = fmt.Sprintf("%d accounts were created.", len(created))
	if len(created) == 1 {
		v.Done = "1 account was created."
	}
	w.Header().Set("Cache-Control", "no-store")
	s.consoleRender(w, r, http.StatusCreated, "admin_import", v)
}

// ---- User agreement ----

// consoleAgreement records a signed user agreement from the form on the user's page.
func (s *Server) consoleAgreement(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdminForm(w, r)
	if a == nil {
		return
	}
	username := r.PathValue("username")
	var ag auth.Agreement
	var err error
	for _, f := range []struct {
		field, label string
		to           *hmisauth.Date
	}{{"signed_on", "The user's signature date", &ag.Signed}, {"supervisor_signed_on", "The supervisor's signature date", &ag.Supervisor},
		{"director_signed_on", "The director's signature date", &ag.Director}, {"expires_on", "The expiry date", &ag.Expires}} {
		d, perr := hmisauth.ParseDate(f.field, f.label, r.PostFormValue(f.field))
		if perr != nil && err == nil {
			err = perr
		}
		*f.to = d
	}
	if err == nil {
		_, err = a.RecordAgreement(r.Context(), username, ag)
	}
	if err != nil {
		if hmisauth.ErrorCode(err) == hmisauth.EFORBIDDEN || hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
			s.consoleError(w, r, a.Site(), err)
			return
		}
		v, verr := s.userPageView(r, a, username)
		if verr != nil {
			s.consoleError(w, r, a.Site(), verr)
			return
		}
		v.fields = append(v.fields, "signed_on", "supervisor_signed_on", "director_signed_on", "expires_on")
		s.consoleFormError(w, r, "admin_user", v, err)
		return
	}
	redirect(w, r, userPath(a.Site(), username)+"?done=agreement_recorded")
}
