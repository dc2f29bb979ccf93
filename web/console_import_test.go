package web_test

import (
	"bytes"
	"context"
	"html"
	"mime/multipart"
	"net/http"
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
	r = b.postMultipart("/live/admin/import", map[string]string{"step": "preview"}, good).wantText("Create this user", northName)
	r = b.postMultipart("/live/admin/import", map[string]string{"step": "create", "csv": good,
		"form_token": r.formToken("/live/admin/import")}, "")
	if r.Status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", r.Status, r.Body)
	}
	u, err := w.store.User(context.Background(), "live", "aable")
	if err != nil || u.AgencyID != w.north.ID {
		t.Fatalf("imported user: %v %+v", err, u)
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
	r = b.postMultipart("/live/admin/import", map[string]string{"step": "create", "csv": html.UnescapeString(string(m[1])),
		"form_token": r.formToken("/live/admin/import")}, "")
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
