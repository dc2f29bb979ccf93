package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
)

// postMultipart submits a multipart form as a same-origin browser would; file, when not
// empty, is sent as the "file" field.
func (b *browser) postMultipart(path string, fields map[string]string, file string) *response {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != "" {
		fw, err := mw.CreateFormFile("file", "users.csv")
		if err != nil {
			b.e.t.Fatal(err)
		}
		fw.Write([]byte(file))
	}
	mw.Close()
	req, err := http.NewRequest("POST", b.e.srv.URL+path, &body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.e.do(b.c, req)
}

func TestConsoleAuditLog(t *testing.T) {
	w := newAdminWorld(t)
	locked := w.makeUser("live", "Lena", "Locked", "", "user", northName).User.Username
	w.lockOut("live", locked)
	b := w.signInBrowser(w.sysName)

	r := b.get("/live/admin/audit")
	if r.Status != http.StatusOK {
		t.Fatalf("audit: status %d", r.Status)
	}
	r.wantText("Audit log", "<td>account_locked</td>", "<td>user_created</td>", "<td>"+locked+"</td>", "Download CSV", "Download JSON")

	r = b.get("/live/admin/audit?user=" + locked + "&action=account_locked")
	r.wantText("<td>account_locked</td>", `<option value="account_locked" selected>`).lackText("<td>login_failed</td>", "<td>user_created</td>")
	// Done by: the setup's operator created every user, and nothing else here.
	b.get("/live/admin/audit?actor=cli:setup").wantText("<td>user_created</td>").lackText("<td>login_failed</td>", "<td>account_locked</td>")
	b.get("/live/admin/audit?from=2026-13-01").wantText("The from date must be a real date")
	b.get("/live/admin/audit?to=2020-01-01").wantText(`id="no-events"`)

	dl := b.get("/live/admin/audit/download?format=csv&user=" + locked)
	if dl.Status != http.StatusOK {
		t.Fatalf("download: status %d", dl.Status)
	}
	if cd := dl.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}
	recs, err := csv.NewReader(bytes.NewReader(dl.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 3 || recs[0][0] != "id" {
		t.Fatalf("csv: %q", recs)
	}
	actions := map[string]bool{}
	for _, rec := range recs[1:] {
		if rec[4] != locked {
			t.Errorf("csv row about %q, want only %q", rec[4], locked)
		}
		actions[rec[5]] = true
	}
	if !actions["account_locked"] || !actions["user_created"] {
		t.Errorf("csv actions %v", actions)
	}
	js := b.get("/live/admin/audit/download?format=json")
	if js.Status != http.StatusOK || !bytes.HasPrefix(js.Body, []byte("[")) {
		t.Errorf("json: status %d: %.80s", js.Status, js.Body)
	}
}

func TestConsoleAuditPaging(t *testing.T) {
	w := newAdminWorld(t)
	for i := range 20 {
		w.lockOut("live", fmt.Sprint("nobody", i))
	}
	b := w.signInBrowser(w.sysName)
	r := b.get("/live/admin/audit")
	m := regexp.MustCompile(`href="([^"]+)" rel="next">Older events`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatal("no older events link")
	}
	b.get(html.UnescapeString(string(m[1]))).wantText("login_failed")
}

func TestConsoleAuditRefusesAgencyAdmins(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.northAdminName)
	for _, r := range []*response{b.get("/live/admin/audit"), b.get("/live/admin/audit/download?format=csv")} {
		if r.Status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", r.URL.Path, r.Status)
		}
		r.wantText("You cannot do that")
	}
	b.get("/live/admin/users").lackText("/live/admin/audit").wantText("/live/admin/reports", "/live/admin/import")
}

func TestConsoleAgencyAdminImportsIntoTheirAgency(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.northAdminName)
	b.get("/live/admin/import").wantText("Everyone in the file joins your agency, " + northName)

	mixed := "first,last,email,phone,agency,role\nAnn,Able,,,,user\nSue,Stray,,," + southName + ",user\n"
	r := b.postMultipart("/live/admin/import", map[string]string{"step": "preview"}, mixed)
	r.wantText("row 3: you can only import users of your own agency, " + northName).lackText("Create these")
	b.postMultipart("/live/admin/import", map[string]string{"step": "create", "csv": mixed}, "").lackText("accounts were created")
	if _, err := w.store.User(context.Background(), "live", "aable"); err == nil {
		t.Fatal("a file with another agency's user was imported")
	}

	good := "first,last\nAnn,Able\n"
	b.postMultipart("/live/admin/import", map[string]string{"step": "preview"}, good).wantText("Create this user", northName)
	r = b.postMultipart("/live/admin/import", map[string]string{"step": "create", "csv": good}, "")
	if r.Status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", r.Status, r.Body)
	}
	u, err := w.store.User(context.Background(), "live", "aable")
	if err != nil || u.AgencyID != w.north.ID {
		t.Fatalf("imported user: %v %+v", err, u)
	}
}

func TestConsoleReports(t *testing.T) {
	w := newAdminWorld(t)
	locked := w.makeUser("live", "Lena", "Locked", "lena@agency.example.org", "user", northName).User.Username
	w.lockOut("live", locked)
	b := w.signInBrowser(w.northAdminName)

	b.get("/live/admin/reports").wantText("Run the report", "Locked accounts").lackText("Download CSV")
	r := b.get("/live/admin/reports?kind=locked")
	if r.Status != http.StatusOK {
		t.Fatalf("report: status %d", r.Status)
	}
	r.wantText(">"+locked+"<", "Lena Locked", "Download CSV")
	b.get("/live/admin/reports?kind=expiring-agreements&days=60").wantText("User agreements expiring soon", "reports/download?days=60")
	b.get("/live/admin/reports?kind=expiring-passwords&days=abc").wantText("Days must be a whole number")

	m := regexp.MustCompile(`href="([^"]+)" download>Download CSV`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatal("no download link")
	}
	dl := b.get(html.UnescapeString(string(m[1])))
	if dl.Status != http.StatusOK || !strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: status %d, %q", dl.Status, dl.Header.Get("Content-Disposition"))
	}
	if !strings.HasPrefix(string(dl.Body), "username,name,agency,what,date\n") || !strings.Contains(string(dl.Body), locked+",Lena Locked") {
		t.Errorf("csv: %s", dl.Body)
	}
}

var importCSVRe = regexp.MustCompile(`name="csv" value="([^"]*)"`)

func TestConsoleImport(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	b.get("/live/admin/import").wantText("CSV file of new users", `enctype="multipart/form-data"`)

	bad := "first,last,email,phone,agency,role\nAnn,Able,ann@agency.example.org,,North Outreach,user\nBob,Baker,not-an-email,,North Outreach,user\n"
	bad = strings.ReplaceAll(bad, "North Outreach", northName)
	r := b.postMultipart("/live/admin/import", map[string]string{"step": "preview"}, bad)
	if r.Status != http.StatusOK {
		t.Fatalf("preview: status %d: %s", r.Status, r.Body)
	}
	r.wantText("Preview", "Nothing has been created yet", "aable").lackText("Create these")
	r.wantText("row 3: enter an e-mail address")
	// Forcing the create step with the bad file is refused too.
	b.postMultipart("/live/admin/import", map[string]string{"step": "create", "csv": bad}, "").lackText("accounts were created")
	if _, err := w.store.User(context.Background(), "live", "aable"); err == nil {
		t.Fatal("the preview created a user")
	}

	good := "first,last,email,phone,agency,role\nAnn,Able,ann@agency.example.org,,X,user\nBob,Baker,bob@agency.example.org,,X,user\n"
	good = strings.ReplaceAll(good, "X", northName)
	r = b.postMultipart("/live/admin/import", map[string]string{"step": "preview"}, good).wantText("Create these 2 users")
	m := importCSVRe.FindSubmatch(r.Body)
	if m == nil {
		t.Fatal("no csv field")
	}
	r = b.postMultipart("/live/admin/import", map[string]string{"step": "create", "csv": html.UnescapeString(string(m[1]))}, "")
	if r.Status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", r.Status, r.Body)
	}
	r.wantText("2 accounts were created", ">aable<", ">bbaker<", "shown only this once")
	for _, u := range []string{"aable", "bbaker"} {
		if _, err := w.store.User(context.Background(), "live", u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	evs, err := w.store.Events(context.Background(), hmisauth.EventQuery{Site: "live", Subject: "aable", Action: hmisauth.EventUserCreated})
	if err != nil || len(evs) != 1 || evs[0].Actor != w.sysName {
		t.Errorf("import event: %v %+v", err, evs)
	}
}

func TestConsoleRecordsAgreement(t *testing.T) {
	w := newAdminWorld(t)
	u := w.makeUser("live", "Abe", "Agreed", "abe@agency.example.org", "user", northName).User.Username
	b := w.signInBrowser(w.northAdminName)
	page := "/live/admin/users/" + u
	b.get(page).wantText("Record a signed user agreement", `action="`+page+`/agreement"`)

	r := b.post(page+"/agreement", url.Values{"signed_on": {"2025-01-02"}, "supervisor_signed_on": {"2025-01-03"},
		"director_signed_on": {"2025-01-04"}, "expires_on": {"2026-01-31"}}).wantPath(page)
	r.wantText("The user agreement was recorded.", `data-code="agreement_expired"`)

	b.post(page+"/agreement", url.Values{"signed_on": {"2026-02-30"}}).wantText("The user&#39;s signature date must be a real date", `aria-invalid="true"`)

	r = b.post(page+"/agreement", url.Values{"signed_on": {"2026-03-01"}, "supervisor_signed_on": {"2026-03-01"},
		"director_signed_on": {"2026-03-02"}}).wantPath(page)
	r.wantText("The user agreement was recorded.", "Signed 2026-03-01").lackText(`data-code="agreement_expired"`)
}
