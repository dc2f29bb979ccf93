package auth_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

func dateP(s string) *hmisauth.Date { d := hmisauth.Date(s); return &d }

// reportWorld is a live site on 2026-03-02 with two agencies, their admins and users.
type reportWorld struct {
	f                  *fixture
	sys, hopeAdm       *auth.Admin
	hope, bridge       *hmisauth.Agency
	jane, bob, noemail *hmisauth.User
}

func newReportWorld(t *testing.T) *reportWorld {
	f := newFixture(t)
	w := &reportWorld{f: f}
	w.hope = f.addAgency("Hope House", 0)
	w.bridge = f.addAgency("=Bridge", 0)
	for ag, exp := range map[*hmisauth.Agency]string{w.hope: "2026-03-20", w.bridge: "2026-06-01"} {
		if _, err := f.svc.UpdateAgency(f.ctx, "live", ag.Name, auth.AgencyChange{LicenseExpires: dateP(exp)}); err != nil {
			t.Fatal(err)
		}
	}
	w.sys = f.adminOf(f.signedInAs("Sam", "Sys", "sysadmin", ""))
	w.hopeAdm = f.adminOf(f.signedInAs("Hal", "Hope", "agency_admin", "Hope House"))
	w.jane = f.create(auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe", Email: "jane@example.org", Agency: "Hope House"}).User
	w.bob = f.create(auth.NewUser{Site: "live", FirstName: "Bob", LastName: "Roe", Email: "bob@example.org", Agency: "=Bridge"}).User
	w.noemail = f.create(auth.NewUser{Site: "live", FirstName: "Nora", LastName: "Mail", Agency: "Hope House"}).User
	for u, exp := range map[*hmisauth.User]string{w.jane: "2026-03-15", w.bob: "2026-03-25"} {
		if _, err := f.svc.RecordAgreement(f.ctx, "live", u.Username, auth.Agreement{Signed: "2025-03-15", Expires: hmisauth.Date(exp)}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func rowsText(rows []auth.ReportRow) string {
	var lines []string
	for _, r := range rows {
		lines = append(lines, strings.Join([]string{r.Username, r.Name, r.Agency, r.What, r.Date}, "|"))
	}
	return strings.Join(lines, "\n")
}

func wantRows(t *testing.T, what string, rows []auth.ReportRow, err error, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := rowsText(rows); got != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", what, got, strings.Join(want, "\n"))
	}
}

func TestReports(t *testing.T) {
	w := newReportWorld(t)
	f, ctx := w.f, w.f.ctx
	for range 3 {
		f.attempt(w.bob.Username, "wrong")
	}
	f.clock.Add(10 * time.Minute)
	f.attempt(w.jane.Username, "wrong")
	f.attempt(w.jane.Username, "wrong")
	f.attempt(w.jane.Username, "wrong")

	rows, err := w.sys.Report(ctx, auth.ReportLocked, 0)
	wantRows(t, "locked", rows, err,
		"broe|Bob Roe|=Bridge|locked after 3 failed sign-in attempts|2026-03-02 09:00 CST",
		"jdoe|Jane Doe|Hope House|locked after 3 failed sign-in attempts|2026-03-02 09:10 CST")
	rows, err = w.hopeAdm.Report(ctx, auth.ReportLocked, 0)
	wantRows(t, "locked, agency admin", rows, err,
		"jdoe|Jane Doe|Hope House|locked after 3 failed sign-in attempts|2026-03-02 09:10 CST")

	rows, err = w.sys.Report(ctx, auth.ReportExpiringLicenses, 30)
	wantRows(t, "expiring licenses", rows, err,
		"hhope|Hal Hope|Hope House|license of Hope House expires|2026-03-20",
		"jdoe|Jane Doe|Hope House|license of Hope House expires|2026-03-20",
		"nmail|Nora Mail|Hope House|license of Hope House expires|2026-03-20")
	rows, err = w.sys.Report(ctx, auth.ReportExpiringLicenses, 10)
	wantRows(t, "expiring licenses in 10 days", rows, err)

	rows, err = w.sys.Report(ctx, auth.ReportExpiringAgreements, 0)
	wantRows(t, "expiring agreements", rows, err,
		"jdoe|Jane Doe|Hope House|user agreement expires|2026-03-15",
		"broe|Bob Roe|=Bridge|user agreement expires|2026-03-25")
	rows, err = w.hopeAdm.Report(ctx, auth.ReportExpiringAgreements, 0)
	wantRows(t, "expiring agreements, agency admin", rows, err,
		"jdoe|Jane Doe|Hope House|user agreement expires|2026-03-15")

	// Own passwords were set at sign-up (Sam, Hal): they expire after 45 days, on Apr 16.
	rows, err = w.sys.Report(ctx, auth.ReportExpiringPasswords, 30)
	wantRows(t, "expiring passwords in 30 days", rows, err)
	rows, err = w.sys.Report(ctx, auth.ReportExpiringPasswords, 45)
	wantRows(t, "expiring passwords in 45 days", rows, err,
		"hhope|Hal Hope|Hope House|password expires|2026-04-16",
		"ssys|Sam Sys||password expires|2026-04-16")
	rows, err = w.hopeAdm.Report(ctx, auth.ReportExpiringPasswords, 45)
	wantRows(t, "expiring passwords, agency admin", rows, err,
		"hhope|Hal Hope|Hope House|password expires|2026-04-16")

	rows, err = w.sys.Report(ctx, auth.ReportNoEmail, 0)
	wantRows(t, "no e-mail", rows, err, "nmail|Nora Mail|Hope House|no e-mail address (created)|2026-03-02 09:00 CST")
	rows, err = w.sys.Report(ctx, auth.ReportInactive, 0)
	wantRows(t, "inactive now", rows, err)

	// 91 days on, everyone is inactive since 90 days after their last use (09:00 CST is 10:00
	// CDT); the agency admin sees only Hope House's users.
	f.clock.Add(91 * 24 * time.Hour)
	rows, err = w.hopeAdm.Report(ctx, auth.ReportInactive, 0)
	wantRows(t, "inactive, agency admin", rows, err,
		"hhope|Hal Hope|Hope House|not used for 90 days|2026-05-31 10:00 CDT",
		"jdoe|Jane Doe|Hope House|not used for 90 days|2026-05-31 10:00 CDT",
		"nmail|Nora Mail|Hope House|not used for 90 days|2026-05-31 10:00 CDT")

	_, err = w.sys.Report(ctx, "everyone", 0)
	wantCode(t, err, hmisauth.EINVALID)
	_, err = w.sys.Report(ctx, auth.ReportExpiringLicenses, -1)
	wantCode(t, err, hmisauth.EINVALID)
}

func TestReportCSV(t *testing.T) {
	var buf bytes.Buffer
	err := auth.WriteReportCSV(&buf, []auth.ReportRow{
		{Username: "jdoe", Name: "Jane Doe", Agency: "=Bridge", What: "license, expires", Date: "2026-03-20"},
		{Username: "x", Name: "@SUM(A1)", Agency: "+1", What: "-2", Date: ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "username,name,agency,what,date\njdoe,Jane Doe,'=Bridge,\"license, expires\",2026-03-20\nx,'@SUM(A1),'+1,'-2,\n"
	if buf.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestSystemAdminIsASysadminOfOneSite(t *testing.T) {
	w := newReportWorld(t)
	ctx := auth.WithActor(w.f.ctx, auth.Actor{Username: "cli:helpdesk"})
	a, err := w.f.svc.SystemAdmin(ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	if !a.IsSysadmin() || a.Principal().User.Username != "cli:helpdesk" {
		t.Errorf("SystemAdmin = sysadmin %v as %q", a.IsSysadmin(), a.Principal().User.Username)
	}
	rows, err := a.Report(ctx, auth.ReportNoEmail, 0)
	wantRows(t, "no e-mail", rows, err, "nmail|Nora Mail|Hope House|no e-mail address (created)|2026-03-02 09:00 CST")
	_, err = w.f.svc.SystemAdmin(ctx, "nowhere")
	wantCode(t, err, hmisauth.ENOTFOUND)
}
