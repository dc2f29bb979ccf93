package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// Every form that creates something or shows a secret acts on its first sending only: the same
// form sent again (a reload of its answer, a double click, two at once) shows what the first
// did, never the secret again, and changes nothing (web/formtoken.go).

// sendAll sends one form n times at once from b, as a double click or an impatient reload
// does, and returns the answers' statuses and bodies.
func (b *browser) sendAll(n int, path string, form url.Values) (statuses []int, bodies []string) {
	b.e.t.Helper()
	statuses, bodies = make([]int, n), make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			req, err := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
			if err != nil {
				errs[i] = err
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			res, err := b.c.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			statuses[i], bodies[i], errs[i] = res.StatusCode, string(body), err
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.e.t.Fatal(err)
		}
	}
	return statuses, bodies
}

// usersNamed counts the site's accounts whose names or username hold text.
func (e *env) usersNamed(text string) int {
	e.t.Helper()
	us, err := e.store.Users(context.Background(), hmisauth.UserQuery{Site: "live", Text: text})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(us)
}

func (e *env) passwordHash(username string) string {
	e.t.Helper()
	u, err := e.store.User(context.Background(), "live", username)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.PasswordHash
}

func TestReloadedCreateUserShowsTheAccountItCreated(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	form := url.Values{"first": {"Ana"}, "last": {"Ruiz"}, "email": {"ana@agency.example.org"}, "agency": {northName},
		"role": {"user"}, "step": {"preview"}}
	preview := b.post("/live/admin/users/new", form).wantText(`value="aruiz"`)
	form = withToken(preview, "/live/admin/users/new", form)
	form.Set("step", "create")
	form.Set("username", "aruiz")
	form.Set("generated", "aruiz")

	first := b.post("/live/admin/users/new", form)
	if first.Status != http.StatusCreated {
		t.Fatalf("create: status %d: %.300s", first.Status, first.Body)
	}
	temp := tempPassword(t, first)
	if first.Header.Get("Cache-Control") != "no-store" {
		t.Error("the page with the temporary password may be cached")
	}
	before := w.newestEventID()

	// The reload: the same form again.
	again := b.post("/live/admin/users/new", form)
	if again.Status != http.StatusOK {
		t.Errorf("reload: status %d", again.Status)
	}
	again.wantText("This account was already created: aruiz", `href="/live/admin/users/aruiz"`, "Nothing was created now",
		"is not shown again").lackText(temp, `id="temp-password"`)
	if n := w.usersNamed("ruiz"); n != 1 || w.newestEventID() != before {
		t.Errorf("after the reload %d accounts for Ana Ruiz (want 1), events %d after %d", n, w.newestEventID(), before)
	}
	w.login("live", "aruiz", temp) // the password shown the first time is the one that works
}

func TestCreateUserSentTwiceAtOnceCreatesOneAccount(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	form := withToken(b.get("/live/admin/users/new"), "/live/admin/users/new",
		url.Values{"first": {"Ana"}, "last": {"Ruiz"}, "role": {"user"}, "agency": {northName}, "step": {"create"}})
	statuses, bodies := b.sendAll(5, "/live/admin/users/new", form)
	created := 0
	for i, status := range statuses {
		switch {
		case status == http.StatusCreated && strings.Contains(bodies[i], `id="temp-password"`):
			created++
		case status == http.StatusOK && strings.Contains(bodies[i], "This account was already created: aruiz"):
		default:
			t.Errorf("sending %d: status %d: %.300s", i, status, bodies[i])
		}
	}
	if created != 1 || w.usersNamed("ruiz") != 1 {
		t.Errorf("5 sendings at once: %d showed a password, %d accounts; want 1 and 1", created, w.usersNamed("ruiz"))
	}
}

// A form whose token is missing, or is another session's (sent after signing in again), does
// nothing and comes back with a new token to send it with; a refused form gives its token back.
func TestCreateUserFormWithoutALiveTokenCreatesNothing(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	form := url.Values{"first": {"Ana"}, "last": {"Ruiz"}, "role": {"user"}, "agency": {northName}, "step": {"create"}}
	old := withToken(b.get("/live/admin/users/new"), "/live/admin/users/new", form)
	b = w.signInBrowser(w.sysName) // another session
	for _, f := range []url.Values{form, old} {
		r := b.post("/live/admin/users/new", f)
		if r.Status != http.StatusConflict {
			t.Errorf("status %d, want 409", r.Status)
		}
		r.wantText("Nothing was created: this form had expired", `value="Ruiz"`, "Create the account")
		if token := r.formToken("/live/admin/users/new"); token == "" || token == old.Get("form_token") {
			t.Errorf("the form came back with token %q, want a new one", token)
		}
	}
	if n := w.usersNamed("ruiz"); n != 0 {
		t.Fatalf("%d accounts created", n)
	}

	// Refused (a bad e-mail address), the form is sent again with its token, corrected.
	fresh := withToken(b.get("/live/admin/users/new"), "/live/admin/users/new", form)
	fresh.Set("email", "not-an-address")
	b.post("/live/admin/users/new", fresh).wantText(`id="email-error"`)
	fresh.Set("email", "ana@agency.example.org")
	if r := b.post("/live/admin/users/new", fresh); r.Status != http.StatusCreated {
		t.Fatalf("the corrected form: status %d: %.300s", r.Status, r.Body)
	}
}

func TestReloadedTemporaryPasswordIsNotIssuedAgain(t *testing.T) {
	w := newAdminWorld(t)
	username := w.makeUser("live", "Lena", "Locked", "lena@agency.example.org", "user", northName).User.Username
	b := w.signInBrowser(w.northAdminName)
	page := "/live/admin/users/" + username
	action := page + "/temporary-password"

	// Without a live token nothing is done: the page asks again.
	hash := w.passwordHash(username)
	ask := b.post(action, nil)
	if ask.Status != http.StatusOK {
		t.Fatalf("without a token: status %d", ask.Status)
	}
	ask.wantText("Issue a temporary password for Lena Locked?", "Nothing has been done yet").lackText(`id="temp-password"`)
	if w.passwordHash(username) != hash {
		t.Fatal("a form without a token changed the password")
	}

	form := withToken(ask, action, nil)
	first := b.post(action, form)
	temp := tempPassword(t, first)
	hash = w.passwordHash(username)
	before := w.newestEventID()
	again := b.post(action, form)
	again.wantText("The temporary password was already shown", "is not shown again", "Nothing was changed now",
		`href="`+page+`"`).lackText(temp, `id="temp-password"`)
	if w.passwordHash(username) != hash || w.newestEventID() != before {
		t.Error("the reload changed the password")
	}
	w.login("live", username, temp)

	// Sent five times at once: one password, shown once.
	form = withToken(b.post(action, nil), action, nil)
	statuses, bodies := b.sendAll(5, action, form)
	shown := ""
	for i, body := range bodies {
		switch {
		case strings.Contains(body, `id="temp-password"`):
			if shown != "" {
				t.Error("two sendings showed a password")
			}
			shown = tempPassword(t, &response{t: t, Body: []byte(body), URL: &url.URL{Path: action}})
		case !strings.Contains(body, "The temporary password was already shown") &&
			!strings.Contains(body, "This form was already sent"):
			t.Errorf("sending %d: status %d: %.300s", i, statuses[i], body)
		}
	}
	if shown == "" {
		t.Fatal("no sending showed the password")
	}
	w.login("live", username, shown)
}

// The user page's button carries the token its form needs, so one press issues the password.
func TestUserPageCarriesTheTemporaryPasswordToken(t *testing.T) {
	w := newAdminWorld(t)
	username := w.makeUser("live", "Tim", "Token", "", "user", northName).User.Username
	b := w.signInBrowser(w.sysName)
	page := "/live/admin/users/" + username
	if b.get(page).formToken(page+"/temporary-password") == "" {
		t.Fatal("the user page's temporary-password form has no one-time token (web.Server.userPageFormToken)")
	}
	tempPassword(t, b.send(page, page+"/temporary-password", nil))
}

func TestReloadedImportImportsOnce(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	file := "first,last,agency\nAnn,Able," + northName + "\nBob,Baker," + northName + "\n"
	preview := b.postMultipart("/live/admin/import", map[string]string{"step": "preview"}, file).wantText("Create these 2 users")
	fields := map[string]string{"step": "create", "csv": file, "form_token": preview.formToken("/live/admin/import")}
	first := b.postMultipart("/live/admin/import", fields, "")
	if first.Status != http.StatusCreated {
		t.Fatalf("import: status %d: %.300s", first.Status, first.Body)
	}
	first.wantText("2 accounts were created", "shown only this once")
	before := w.newestEventID()

	again := b.postMultipart("/live/admin/import", fields, "")
	if again.Status != http.StatusOK {
		t.Errorf("reload: status %d", again.Status)
	}
	again.wantText("This import was already done", "It created 2 accounts", ">aable<", ">bbaker<", "not shown again").
		lackText(`class="secret"`, "Temporary password</th>", "cannot be used")
	if w.usersNamed("able") != 1 || w.usersNamed("baker") != 1 || w.newestEventID() != before {
		t.Error("the reload imported again")
	}

	// Sent three times at once: one import.
	file = "first,last,agency\nCal,Cole," + northName + "\n"
	preview = b.postMultipart("/live/admin/import", map[string]string{"step": "preview"}, file)
	fields = map[string]string{"step": "create", "csv": file, "form_token": preview.formToken("/live/admin/import")}
	var wg sync.WaitGroup
	answers := make([]*response, 3)
	for i := range answers {
		wg.Go(func() { answers[i] = b.postMultipart("/live/admin/import", fields, "") })
	}
	wg.Wait()
	created := 0
	for _, r := range answers {
		if r.Status == http.StatusCreated {
			created++
		} else {
			r.wantText("This import was already")
		}
	}
	if created != 1 || w.usersNamed("cole") != 1 {
		t.Errorf("3 sendings at once: %d imports, %d accounts for Cal Cole; want 1 and 1", created, w.usersNamed("cole"))
	}
}

func TestReloadedAgencyFormAddsOneAgency(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	form := withToken(b.get("/live/admin/agencies"), "/live/admin/agencies", url.Values{"name": {"East House"}, "seats": {"2"}})
	b.post("/live/admin/agencies", form).wantPath("/live/admin/agencies").wantText("The agency was added.")
	before := w.newestEventID()
	// The second sending ends where the first did, not on "that name is taken".
	b.post("/live/admin/agencies", form).wantPath("/live/admin/agencies").wantText("The agency was added.").
		lackText("error-summary")
	statuses, _ := b.sendAll(3, "/live/admin/agencies", form)
	for _, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("sent again at once: status %d", s)
		}
	}
	if w.newestEventID() != before {
		t.Error("sending the form again changed something")
	}
	ags, err := w.svc.Agencies(context.Background(), "live")
	if err != nil {
		t.Fatal(err)
	}
	if len(ags) != 3 { // North, South and East House
		t.Errorf("%d agencies, want 3", len(ags))
	}

	// Without a live token nothing is added.
	r := b.post("/live/admin/agencies", url.Values{"name": {"West House"}, "seats": {"2"}})
	if r.Status != http.StatusConflict {
		t.Errorf("without a token: status %d", r.Status)
	}
	r.wantText("Nothing was added: this form had expired", `value="West House"`)
}

func TestReloadedFormsDoNotAddOrRotateAgain(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.sysName)
	form := withToken(b.get("/live/admin/clients"), "/live/admin/clients", appForm("Bed Board", "https://beds.example.org/cb"))
	statuses, _ := b.sendAll(3, "/live/admin/clients", form)
	for _, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("add sent at once: status %d", s)
		}
	}
	list, _ := w.oidc.Clients(context.Background(), "live")
	if len(list) != 1 {
		t.Fatalf("the add form sent 3 times at once made %d applications", len(list))
	}
	c := list[0]

	page := "/live/admin/clients/" + c.ID
	form = withToken(b.get(page), page+"/rotate-secret", nil)
	first := b.post(page+"/rotate-secret", form)
	_, secret := shownSecret(t, first)
	before := w.newestEventID()
	again := b.post(page+"/rotate-secret", form).wantPath(page + "/secret")
	again.wantText("The secret is not shown again").lackText(secret)
	if w.newestEventID() != before || !w.secretAccepted(c.ID, secret) {
		t.Error("the rotation sent again made another secret, stopping the one shown")
	}

	r := b.post(page+"/rotate-secret", nil)
	if r.Status != http.StatusConflict {
		t.Errorf("rotation without a token: status %d", r.Status)
	}
	r.wantText("No new secret was made: this page had expired")
	if !w.secretAccepted(c.ID, secret) {
		t.Error("a rotation without a token changed the secret")
	}
}

func TestReloadedRecoveryCodesAreNotShownOrReplaced(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Rosa", "Park", goodPassword)
	b := e.browser()
	b.signIn("live", username, goodPassword)

	// Turning the app on, sent twice: the codes once.
	setup := b.post("/live/account/security/totp", nil)
	secret := strings.ReplaceAll(string(totpSecretRe.FindSubmatch(setup.Body)[1]), " ", "")
	confirm := "/live/account/security/totp/confirm"
	form := withToken(setup, confirm, url.Values{"code": {e.appCode(secret)}})
	codes := recoveryCodesRe.FindAllStringSubmatch(b.post(confirm, form).text(), -1)
	if len(codes) != 10 {
		t.Fatalf("%d codes shown", len(codes))
	}
	again := b.post(confirm, form)
	again.wantText("Your recovery codes were already shown", "not shown again", "those codes still work").
		lackText(codes[0][1], `id="recovery-codes"`)
	if again.Header.Get("Cache-Control") != "no-store" {
		t.Error("the recovery codes page may be cached")
	}

	// New codes, sent twice: the first new ones stay.
	form = withToken(b.get("/live/account/security"), "/live/account/security/recovery-codes", nil)
	fresh := recoveryCodesRe.FindAllStringSubmatch(b.post("/live/account/security/recovery-codes", form).text(), -1)
	if len(fresh) != 10 {
		t.Fatalf("%d new codes shown", len(fresh))
	}
	b.post("/live/account/security/recovery-codes", form).wantText("Your recovery codes were already shown").lackText(fresh[0][1])
	b.get("/live/account/security").wantText(`<strong id="codes-left">10</strong>`)
	e.clock.Advance(time.Minute)
	if _, err := e.svc.Login(context.Background(), auth.LoginRequest{Site: "live", Username: username,
		Password: goodPassword, Code: fresh[0][1], ClientAddr: "127.0.0.1"}); err != nil {
		t.Errorf("a code shown by the first sending: %v", err)
	}
	b.post("/live/account/security/recovery-codes", nil).
		wantText("No new recovery codes were made: this page had expired")

	// Turning the app off, sent twice (post/redirect/get): both end saying it is off.
	for range 2 {
		b.post("/live/account/security/totp/disable", nil).wantPath("/live/account/security").
			wantText("2-step verification with the authenticator app is off.").lackText("error-summary")
	}
}
