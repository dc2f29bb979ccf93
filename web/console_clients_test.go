package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/oidc"
	"github.com/hmisauth/hmisauth/web"
)

var (
	clientIDRe     = regexp.MustCompile(`id="client-id">([^<]+)<`)
	clientSecretRe = regexp.MustCompile(`id="client-secret"[^>]*>([^<]+)<`)
)

// shownSecret reads the client ID and secret off the one-time secret page.
func shownSecret(t *testing.T, r *response) (string, string) {
	t.Helper()
	id, secret := clientIDRe.FindSubmatch(r.Body), clientSecretRe.FindSubmatch(r.Body)
	if id == nil || secret == nil {
		t.Fatalf("%s: no client ID and secret shown (status %d): %.500s", r.URL.Path, r.Status, r.Body)
	}
	return string(id[1]), string(secret[1])
}

// secretAccepted asks the site's revocation endpoint whether it takes the client's secret: it
// authenticates the client first and answers an unknown token 200 (RFC 7009), a refused
// client 401.
func (e *env) secretAccepted(id, secret string) bool {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/live/oidc/revoke", strings.NewReader("token=not-a-token"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	switch r := e.do(http.DefaultClient, req); r.Status {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	default:
		e.t.Fatalf("revoke answered %d: %s", r.Status, r.Body)
	}
	return false
}

func (e *env) client(id string) *hmisauth.Client {
	e.t.Helper()
	c, err := e.oidc.Client(context.Background(), "live", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) addApp(spec oidc.ClientSpec) (*hmisauth.Client, string) {
	e.t.Helper()
	c, secret, err := e.oidc.AddClient(setupCtx(), "live", spec)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, secret
}

func appForm(name, redirects string) url.Values {
	return url.Values{"name": {name}, "redirect_uri": {redirects}, "kind": {"confidential"},
		"access_token_format": {"opaque"}, "access_token_lifetime": {"10"}}
}

func TestConsoleAddsAnApplicationAndShowsItsSecretOnce(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	b.get("/live/admin/users").wantText(`href="/live/admin/clients">Applications</a>`)
	w.signInBrowser(w.northAdminName).get("/live/admin/users").lackText("/live/admin/clients")

	b.get("/live/admin/clients").wantText("Add an application", `id="no-clients"`)
	form := appForm("  Coordinated Entry ", "https://ce.example.org/oidc/callback\r\nhttps://ce.example.org/other\r\n")
	form.Set("post_logout_redirect_uri", "https://ce.example.org/")
	form.Set("backchannel_logout_uri", "https://ce.example.org/oidc/backchannel")
	form.Set("home_url", "https://ce.example.org/")
	form.Set("access_token_format", "jwt")
	form.Set("access_token_lifetime", "5")
	form.Set("refresh_tokens", "yes")
	r := b.send("/live/admin/clients", "/live/admin/clients", form)
	if r.Status != http.StatusOK || !strings.HasSuffix(r.URL.Path, "/secret") {
		t.Fatalf("add ended at %s (%d): %.500s", r.URL, r.Status, r.Body)
	}
	id, secret := shownSecret(t, r)
	r.wantText("Coordinated Entry was added", "shown only this once and is not shown again", w.srv.URL+"/live")
	if r.URL.Path != "/live/admin/clients/"+id+"/secret" {
		t.Errorf("secret page at %s for client %s", r.URL.Path, id)
	}
	if !w.secretAccepted(id, secret) || w.secretAccepted(id, secret+"x") {
		t.Fatal("the server does not take exactly the secret shown")
	}
	c := w.client(id)
	if c.Name != "Coordinated Entry" || c.Public || len(c.RedirectURIs) != 2 || c.PostLogoutRedirectURIs[0] != "https://ce.example.org/" ||
		c.BackchannelLogoutURI != "https://ce.example.org/oidc/backchannel" || c.HomeURL != "https://ce.example.org/" ||
		c.AccessTokenFormat != hmisauth.TokenJWT || c.AccessTokenLifetime.Minutes() != 5 || !c.RefreshTokens || c.FromConfig {
		t.Fatalf("stored: %+v", c)
	}

	// Reloading the page, or opening it again, shows the secret no more, and says so.
	again := b.get(r.URL.Path)
	again.wantText("The secret is not shown again", id).lackText(secret)
	if again.Status != http.StatusOK {
		t.Errorf("reload: status %d", again.Status)
	}
	// Nor does any other page: the list, the application's page.
	b.get("/live/admin/clients").wantText("Coordinated Entry", id, "https://ce.example.org/other").lackText(secret, `id="no-clients"`)
	b.get("/live/admin/clients/"+id).wantText("Make a new secret", "Save changes", `value="Coordinated Entry"`).lackText(secret)

	// The change is the sysadmin's in the audit log, without the secret.
	evs, err := w.store.Events(context.Background(), hmisauth.EventQuery{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs {
		if ev.Action == hmisauth.EventClientCreated && ev.Actor == w.sysName && strings.Contains(ev.Detail, id) {
			found = true
		}
		if strings.Contains(ev.Detail, secret) {
			t.Error("the secret reached the audit log")
		}
	}
	if !found {
		t.Errorf("no client_created event by %s: %+v", w.sysName, evs)
	}
}

// The add form sent twice (a double click, a reload of its answer) adds one application, and
// the second sending ends where the first did; filled in again for the same name, it is
// refused on the name, with what to do.
func TestConsoleAddsAnApplicationOnceWhenTheFormIsSentTwice(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	form := withToken(b.get("/live/admin/clients"), "/live/admin/clients", appForm("Bed Board", "https://beds.example.org/cb"))
	first := b.post("/live/admin/clients", form)
	if !strings.HasSuffix(first.URL.Path, "/secret") {
		t.Fatalf("add ended at %s (%d)", first.URL, first.Status)
	}
	_, secret := shownSecret(t, first)
	before := w.newestEventID()
	again := b.post("/live/admin/clients", form)
	if again.URL.Path != first.URL.Path || again.Status != http.StatusOK {
		t.Errorf("sent again, the add form ended at %s (%d), want %s", again.URL.Path, again.Status, first.URL.Path)
	}
	again.wantText("The secret is not shown again").lackText(secret)
	if list, _ := w.oidc.Clients(context.Background(), "live"); len(list) != 1 || w.newestEventID() != before {
		t.Errorf("the form sent twice made %d applications", len(list))
	}
	form.Set("name", " bed board")
	r := b.send("/live/admin/clients", "/live/admin/clients", form)
	if r.Status != http.StatusConflict {
		t.Errorf("the second add: status %d", r.Status)
	}
	r.wantText("already has an application named bed board", "open that one from the list", `href="#name"`, `aria-invalid="true"`)
	if list, _ := w.oidc.Clients(context.Background(), "live"); len(list) != 1 || w.newestEventID() != before {
		t.Errorf("the form sent twice made %d applications", len(list))
	}
	// Renaming another application to the name is refused the same way.
	other, _ := w.addApp(oidc.ClientSpec{Name: "HMIS", RedirectURIs: []string{"https://hmis.example.org/cb"}})
	b.post("/live/admin/clients/"+other.ID, form).wantText("already has an application named bed board")
	if w.client(other.ID).Name != "HMIS" {
		t.Error("the rename went through")
	}
}

// The secret handed to its one-time page is that application's: another application's
// secret page neither shows it nor uses it up.
func TestConsoleShowsASecretOnlyOnItsApplicationsPage(t *testing.T) {
	w := newAdminWorld(t)
	other, _ := w.addApp(oidc.ClientSpec{Name: "HMIS", RedirectURIs: []string{"https://hmis.example.org/cb"}})
	b := w.signInBrowser(w.sysName)
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r := b.send("/live/admin/clients", "/live/admin/clients", appForm("Bed Board", "https://beds.example.org/cb"))
	b.c.CheckRedirect = nil
	page := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasSuffix(page, "/secret") {
		t.Fatalf("add answered %d to %q", r.Status, page)
	}
	b.get("/live/admin/clients/" + other.ID + "/secret").wantText("not shown again")
	if _, secret := shownSecret(t, b.get(page)); secret == "" {
		t.Error("another application's page used the secret up")
	}
}

func TestConsoleAddsAPublicApplicationWithoutSecret(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	form := appForm("Outreach", "http://localhost:5173/callback")
	form.Set("kind", "public")
	r := b.send("/live/admin/clients", "/live/admin/clients", form)
	if !strings.HasPrefix(r.URL.Path, "/live/admin/clients/outreach-") || strings.HasSuffix(r.URL.Path, "/secret") {
		t.Fatalf("add ended at %s (%d)", r.URL, r.Status)
	}
	r.wantText("It is public: it has no secret", "Public (no secret, PKCE)").lackText("Make a new secret", `id="kind"`)
	id := strings.TrimPrefix(r.URL.Path, "/live/admin/clients/")
	if c := w.client(id); !c.Public || c.SecretHash != nil {
		t.Fatalf("stored: %+v", c)
	}
	b.get(r.URL.Path + "/secret").wantText("This application is public: it has no secret.")
}

func TestConsoleRotatesASecretWithoutAGap(t *testing.T) {
	w := newAdminWorld(t)
	c, old := w.addApp(oidc.ClientSpec{Name: "HMIS", RedirectURIs: []string{"https://hmis.example.org/cb"}})
	b := w.signInBrowser(w.sysName)
	page := "/live/admin/clients/" + c.ID

	r := b.send(page, page+"/rotate-secret", nil)
	if r.URL.Path != page+"/secret" {
		t.Fatalf("rotate ended at %s (%d)", r.URL, r.Status)
	}
	id, secret := shownSecret(t, r)
	r.wantText("New secret for HMIS", "shown only this once", "The old secret keeps working until you stop it")
	if id != c.ID || secret == old {
		t.Fatalf("rotation showed %s %s", id, secret)
	}
	b.get(r.URL.Path).lackText(secret).wantText("not shown again")
	if !w.secretAccepted(c.ID, old) || !w.secretAccepted(c.ID, secret) {
		t.Fatal("during a rotation both secrets must work")
	}

	b.get(page).wantText("the old and the new secret both work", "Stop the old secret")
	b.get("/live/admin/clients").wantText("(secret rotation under way)")
	// Asked again from the page (a lost secret), the new secret is replaced and the old one,
	// which the application still uses, keeps working. (A double click does not ask again:
	// TestReloadedFormsDoNotAddOrRotateAgain.)
	lost := secret
	_, secret = shownSecret(t, b.send(page, page+"/rotate-secret", nil))
	if !w.secretAccepted(c.ID, old) || !w.secretAccepted(c.ID, secret) || w.secretAccepted(c.ID, lost) {
		t.Fatal("a second new secret must keep the old one and stop the first new one")
	}
	r = b.post(page+"/finish-rotation", nil).wantPath(page).wantText("The old secret no longer works.")
	r.lackText("Stop the old secret")
	if w.secretAccepted(c.ID, old) || !w.secretAccepted(c.ID, secret) {
		t.Fatal("after the rotation only the new secret may work")
	}
	// Finishing again (a double click) changes nothing and ends where the first did.
	before := w.newestEventID()
	r = b.post(page+"/finish-rotation", nil).wantPath(page).wantText("The old secret no longer works.")
	if w.newestEventID() != before || w.secretAccepted(c.ID, old) || !w.secretAccepted(c.ID, secret) {
		t.Error("finishing twice changed something")
	}
}

func TestConsoleEditsAndRemovesAnApplication(t *testing.T) {
	w := newAdminWorld(t)
	c, secret := w.addApp(oidc.ClientSpec{Name: "HMIS", RedirectURIs: []string{"https://hmis.example.org/cb"},
		Scopes: []string{"profile", "hmis"}, RefreshTokens: true})
	b := w.signInBrowser(w.sysName)
	page := "/live/admin/clients/" + c.ID

	form := appForm("HMIS Live", "https://hmis.example.org/cb\nhttps://hmis.example.org/cb2")
	form.Set("home_url", "https://hmis.example.org/")
	form.Set("kind", "public") // the kind is not the form's to change
	b.post(page, form).wantPath(page).wantText("The application was saved.", `value="HMIS Live"`)
	got := w.client(c.ID)
	if got.Name != "HMIS Live" || len(got.RedirectURIs) != 2 || got.HomeURL != "https://hmis.example.org/" || got.Public ||
		got.RefreshTokens || strings.Join(got.Scopes, " ") != "profile hmis" {
		t.Fatalf("after edit: %+v", got)
	}
	if !w.secretAccepted(c.ID, secret) {
		t.Error("editing changed the secret")
	}

	b.get(page+"/remove").wantText("Remove the application HMIS Live", "Yes, remove the application", `action="`+page+`/remove"`)
	if w.client(c.ID) == nil {
		t.Fatal("the question removed the application")
	}
	b.post(page+"/remove", nil).wantPath("/live/admin/clients").wantText("The application was removed.").lackText(c.ID)
	before := w.newestEventID()
	b.post(page+"/remove", nil).wantPath("/live/admin/clients").wantText("The application was removed.") // sent twice
	if w.newestEventID() != before {
		t.Error("the second removal wrote to the audit log")
	}
	if _, err := w.oidc.Client(context.Background(), "live", c.ID); hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
		t.Errorf("after remove: %v", err)
	}
	if w.secretAccepted(c.ID, secret) {
		t.Error("a removed application's secret still works")
	}
	if r := b.get(page); r.Status != http.StatusNotFound {
		t.Errorf("a removed application's page: status %d", r.Status)
	}
}

// TestConsoleApplicationFormErrors: each refused form comes back with what was typed, the
// error in the summary linking to its field, and the field marked.
func TestConsoleApplicationFormErrors(t *testing.T) {
	w := newAdminWorld(t)
	c, _ := w.addApp(oidc.ClientSpec{Name: "HMIS", RedirectURIs: []string{"https://hmis.example.org/cb"}})
	b := w.signInBrowser(w.sysName)
	for _, tc := range []struct {
		name, field, value, want string
	}{
		{"empty name", "name", "  ", "Enter the application&#39;s name"},
		{"control character in the name", "name", "HMIS\x1b[2J", "cannot be typed"},
		{"no redirect address", "redirect_uri", "\n", "Enter the application&#39;s sign-in return address"},
		{"relative redirect address", "redirect_uri", "/oidc/callback", "is not a complete web address"},
		{"redirect address with a fragment", "redirect_uri", "https://hmis.example.org/cb#top", "must not have a # part"},
		{"wildcard", "redirect_uri", "https://*.example.org/cb", "without spaces or wildcards"},
		{"bad back-channel address", "backchannel_logout_uri", "ftp://hmis.example.org/bc", "must start with https://"},
		{"bad home address", "home_url", "hmis.example.org", "The home address must be a web address"},
		{"lifetime not a number", "access_token_lifetime", "ten", "in whole minutes"},
		{"lifetime too long", "access_token_lifetime", "2000", "between 1 minute and 24 hours"},
		{"unknown token format", "access_token_format", "paseto", "opaque or jwt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/live/admin/clients", "/live/admin/clients/" + c.ID} {
				form := appForm("East HMIS", "https://east.example.org/cb")
				form.Set(tc.field, tc.value)
				before := w.newestEventID()
				r := b.post(path, form) // the edit form
				if path == "/live/admin/clients" {
					r = b.send(path, path, form) // the add form, with its one-time token
				}
				if r.Status != http.StatusBadRequest {
					t.Fatalf("%s: status %d: %.300s", path, r.Status, r.Body)
				}
				r.wantText(tc.want, `href="#`+tc.field+`"`, `id="`+tc.field+`-error"`, `aria-invalid="true"`,
					`aria-describedby="`+tc.field+`-error `)
				if tc.field != "name" {
					r.wantText(`value="East HMIS"`) // what was typed stays
				}
				if w.newestEventID() != before {
					t.Errorf("%s: a refused form changed something", path)
				}
			}
		})
	}
	if list, _ := w.oidc.Clients(context.Background(), "live"); len(list) != 1 || w.client(c.ID).Name != "HMIS" {
		t.Errorf("refused forms changed the applications: %d, %q", len(list), w.client(c.ID).Name)
	}
}

// TestConsoleRefusesPlainHTTPWhenTheServerIsHTTPS: behind an https public address, an
// application's addresses must be https too, except on this machine.
func TestConsoleRefusesPlainHTTPWhenTheServerIsHTTPS(t *testing.T) {
	w := newAdminWorld(t)
	keys, err := auth.NewKeys(auth.NewServerKey())
	if err != nil {
		t.Fatal(err)
	}
	provider, err := oidc.New(oidc.Deps{Store: w.store, Auth: w.svc, Keys: keys, Clock: w.clock, PublicURL: "https://signin.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	// A second server on the same data, as if reached at the https address (the cookie jar
	// shares the sign-in across ports of the same host).
	srv := httptest.NewServer(web.New(w.svc, web.Options{Clock: w.clock, OIDC: provider}).Handler())
	t.Cleanup(srv.Close)
	b := w.signInBrowser(w.sysName)
	other := *w.env
	other.srv = srv
	b.e = &other

	r := b.send("/live/admin/clients", "/live/admin/clients", appForm("HMIS", "http://hmis.example.org/cb"))
	if r.Status != http.StatusBadRequest {
		t.Fatalf("status %d: %.300s", r.Status, r.Body)
	}
	r.wantText("must use https (http only on this machine)", `href="#redirect_uri"`)
	r = b.send("/live/admin/clients", "/live/admin/clients", appForm("Dev HMIS", "http://127.0.0.1:3000/cb"))
	if !strings.HasSuffix(r.URL.Path, "/secret") {
		t.Errorf("a loopback http address was refused: %s (%d)", r.URL, r.Status)
	}
}

func TestConsoleShowsConfigurationClientsReadOnly(t *testing.T) {
	w := newAdminWorld(t)
	const secret = "the-secret-from-the-configuration-file"
	err := w.oidc.SyncClients(setupCtx(), "live", []oidc.DeclaredClient{{ID: "hmis-app", Secret: secret,
		Spec: oidc.ClientSpec{Name: "HMIS", RedirectURIs: []string{"https://hmis.example.org/cb"}, HomeURL: "https://hmis.example.org/"}}})
	if err != nil {
		t.Fatal(err)
	}
	b := w.signInBrowser(w.sysName)
	b.get("/live/admin/clients").wantText("HMIS", "The configuration file (read-only here)")
	page := "/live/admin/clients/hmis-app"
	b.get(page).wantText("declared in the configuration file", "sites.live.clients.hmis-app", "https://hmis.example.org/cb",
		"https://hmis.example.org/").lackText("Save changes", "Make a new secret", "/remove",
		`action="/live/admin/clients`) // no form acts on it; the header's "Sign out" is the page's only form
	b.get(page + "/remove").wantText("remove it there and restart").lackText(`action="` + page + `/remove"`)

	for _, path := range []string{page, page + "/rotate-secret", page + "/finish-rotation", page + "/remove"} {
		before := w.newestEventID()
		r := b.post(path, appForm("Changed", "https://other.example.org/cb"))
		if r.Status != http.StatusForbidden {
			t.Errorf("%s: status %d", path, r.Status)
		}
		r.wantText(`class="error-summary"`, "declared in the configuration file: change it there and restart")
		if w.newestEventID() != before {
			t.Errorf("%s changed something", path)
		}
	}
	if c := w.client("hmis-app"); c.Name != "HMIS" || !w.secretAccepted("hmis-app", secret) {
		t.Errorf("the configuration's client changed: %+v", c)
	}
}

// TestConsoleUserPageShowsWhereTheyAreSignedIn: the helpdesk sees each of the user's sessions
// and the applications it signed in to.
func TestConsoleUserPageShowsWhereTheyAreSignedIn(t *testing.T) {
	// The application checks its ID tokens against the real time, so everyone signs in at it.
	w := &adminWorld{env: newEnv(t)}
	w.realTime()
	w.makeAgency("live", northName, 0)
	w.sysName, _ = w.signedIn("live", "Sam", "Sysop", "sysadmin", "")
	w.northAdminName, _ = w.signedIn("live", "Nora", "Northadmin", "agency_admin", northName)
	username, _ := w.signedIn("live", "Ann", "Apps", "user", northName)
	sys := w.signInBrowser(w.sysName)
	sys.get("/live/admin/users/"+username).wantText("Signed in", `<td data-label="Applications">None</td>`) // the API sign-in: no application

	rp := newRelyingParty(t, w.env, "live")
	b := w.ssoBrowser()
	r := b.signInFor(b.open(rp.authURL()), username, goodPassword)
	if r.Status != http.StatusOK || !strings.Contains(r.text(), "signed in to the app") {
		t.Fatalf("single sign-on ended at %s (%d): %.300s", r.URL, r.Status, r.Body)
	}
	page := sys.get("/live/admin/users/" + username)
	page.wantText(`id="user-sessions"`, `<td data-label="Applications">Test HMIS</td>`, "127.0.0.1")
	w.signInBrowser(w.northAdminName).get("/live/admin/users/" + username).wantText(`<td data-label="Applications">Test HMIS</td>`)

	sys.post("/live/admin/users/"+username+"/end-sessions", nil).wantText(`id="no-sessions"`, "Ann is not signed in anywhere right now.").
		lackText(`<td data-label="Applications">Test HMIS</td>`)
}
