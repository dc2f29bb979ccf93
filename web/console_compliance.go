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

// consoleCompliancePack sends the monitoring pack as a zip: a sysadmin's of the site or of the
// agency they name, a security officer's of their own agency (auth decides who may). It is a
// GET, like the CSV reports: it changes nothing, and the browser saves what it gets.
func (s *Server) consoleCompliancePack(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	q := r.URL.Query()
	req := auth.PackRequest{Agency: strings.TrimSpace(q.Get("agency"))}
	from, err := hmisauth.ParseDate("from", "The first day of the period", q.Get("from"))
	var to hmisauth.Date
	if err == nil {
		to, err = hmisauth.ParseDate("to", "The last day of the period", q.Get("to"))
	}
	req.From, req.To = from, to
	var pack *auth.Pack
	if err == nil {
		pack, err = a.CompliancePack(r.Context(), req)
	}
	var buf bytes.Buffer
	if err == nil {
		err = pack.WriteZip(&buf)
	}
	if err != nil {
		s.packFormError(w, r, a, req, q, err)
		return
	}
	name := fmt.Sprintf("monitoring-pack-%s-%s.zip", a.Site().Key, pack.Manifest.Period.To)
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// packFormError shows the reports page again with what was typed into the pack's form and
// what is wrong with it (a date that is not one, an agency that does not exist).
func (s *Server) packFormError(w http.ResponseWriter, r *http.Request, a *auth.Admin, req auth.PackRequest, q url.Values, err error) {
	v := s.consoleView(r, a)
	v.fields = []string{"agency", "from", "to"}
	rv := &reportView{Days: strconv.Itoa(auth.DefaultReportDays),
		Pack: &packForm{Agency: req.Agency, From: q.Get("from"), To: q.Get("to")}}
	for _, k := range auth.ReportKinds {
		rv.Kinds = append(rv.Kinds, option{Value: k, Label: reportLabels[k]})
	}
	v.Report = rv
	s.consoleFormError(w, r, "admin_reports", v, err)
}

// packForm is what was typed into the monitoring pack's form, shown again with its error.
type packForm struct{ Agency, From, To string }
