package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// The console's reports over the users in scope: a table on the page, or a CSV download.

var reportLabels = map[string]string{
	auth.ReportLocked:             "Locked accounts",
	auth.ReportExpiringPasswords:  "Passwords expiring soon",
	auth.ReportExpiringLicenses:   "Agency licenses expiring soon",
	auth.ReportExpiringAgreements: "User agreements expiring soon",
	auth.ReportExpiringTrainings:  "Trainings expiring soon",
	auth.ReportMissingTrainings:   "Required trainings missing or lapsed",
	auth.ReportNoEmail:            "Users without an e-mail address",
	auth.ReportInactive:           "Inactive users",
}

type reportView struct {
	Kind, Days, Title string
	Kinds             []option
	Ran               bool
	Rows              []auth.ReportRow
	CSV               string
	// Pack is the monitoring pack's form as typed, when it was refused (console_compliance.go).
	Pack *packForm
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
