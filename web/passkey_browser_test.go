package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	vwa "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/hmisauth/hmisauth/auth"
)

// TestBrowserPasskeySecondFactor walks a case worker through adding a passkey as their
// second factor and signing in with it, in real Chromium with its virtual authenticator (a
// platform authenticator with a fingerprint reader that always says yes): security settings,
// the passkey named "Office laptop", the recovery codes shown once, sign out, password, the
// 2-step page, "Use your passkey", and the account page.
func TestBrowserPasskeySecondFactor(t *testing.T) {
	ctx := newChrome(t)
	e := newLocalhostEnv(t)
	username := e.activeUser("live", "Maria", "Lopez", goodPassword)
	step, text, location := pageSteps(t, ctx, e)
	browserProblems(t, ctx)
	authenticator := virtualAuthenticator(t, ctx)

	signIn := func(then chromedp.Action[chromedp.Void]) {
		t.Helper()
		step("sign in with the password",
			chromedp.Navigate(e.srv.URL+"/live/login"),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), username),
			chromedp.SendKeys(chromedp.ID("password"), goodPassword),
			chromedp.Click(chromedp.CSS(`form[action="/live/login"] button[type="submit"]`)),
			then)
	}
	signIn(chromedp.WaitVisible(chromedp.CSS(".details")))

	step("open the security settings", chromedp.Navigate(e.srv.URL+"/live/account/security"),
		chromedp.WaitVisible(chromedp.CSS("h1")))
	if closed, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('passkey-name') === null`)); closed {
		step("type the password again",
			chromedp.SendKeys(chromedp.ID("password"), goodPassword),
			chromedp.Click(chromedp.CSS(`form[action="/live/account/security"] button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.ID("passkey-name")))
	}
	step("the script offers a passkey", chromedp.WaitVisible(chromedp.ID("passkey-button")),
		chromedp.WaitNotVisible(chromedp.ID("passkey-nojs")))
	screenshot(t, ctx, "security-passkey.png")

	// A refusal shows on the page (the server's, or the script's): wait for either outcome.
	refusal := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('.error-summary, #passkey-error')]
			.map(e => e.textContent.trim()).join(' ')`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const refused = ".error-summary, #passkey-error:not([hidden])"

	step("add a passkey named Office laptop",
		chromedp.SendKeys(chromedp.ID("passkey-name"), "Office laptop"),
		chromedp.Click(chromedp.ID("passkey-button")),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes, "+refused)))
	if h1 := text("h1"); h1 != "Your recovery codes" {
		t.Fatalf("after the first passkey: %q, saying %q", h1, refusal())
	}
	if n := strings.Count(text("#recovery-codes"), "-"); n != auth.RecoveryCodeCount {
		t.Errorf("%d recovery codes shown, want %d", n, auth.RecoveryCodeCount)
	}
	screenshot(t, ctx, "passkey-recovery-codes.png")
	creds := authenticatorCredentials(t, ctx, authenticator)
	if len(creds) != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", len(creds))
	}

	step("back to the settings",
		chromedp.Click(chromedp.CSS(`a[href="/live/account/security"]`)),
		chromedp.WaitVisible(chromedp.ID("passkeys")))
	if list := text("#passkeys"); !strings.Contains(list, "Office laptop") || !strings.Contains(list, "Never") {
		t.Errorf("passkeys listed: %q", list)
	}

	step("sign out from the account page",
		chromedp.Navigate(e.srv.URL+"/live/account"),
		chromedp.WaitVisible(chromedp.CSS(".details")),
		chromedp.Click(chromedp.CSS(`form[action="/live/logout"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("username")))
	signIn(chromedp.WaitVisible(chromedp.ID("passkey-button")))
	if got := location(); got != "/live/login/verify" {
		t.Fatalf("after the password at %s, want the 2-step page", got)
	}
	if h1 := text("h1"); h1 != "2-step verification" {
		t.Errorf("2-step page heading %q", h1)
	}
	screenshot(t, ctx, "verify-passkey.png")

	step("use the passkey",
		chromedp.Click(chromedp.ID("passkey-button")),
		chromedp.WaitVisible(chromedp.CSS(".details, "+refused)))
	if got := location(); got != "/live/account" {
		t.Fatalf("signed in at %s, want the account page; the page says %q", got, refusal())
	}
	if h1 := text("h1"); !strings.Contains(h1, "Maria Lopez") {
		t.Errorf("account heading %q", h1)
	}

	// The server keeps the authenticator's signature counter, so a copy of the key that
	// signs with an older count would be noticed.
	creds = authenticatorCredentials(t, ctx, authenticator)
	if len(creds) != 1 {
		t.Fatalf("the authenticator holds %d credentials after signing in, want 1", len(creds))
	}
	stored := e.passkeys(username)
	if len(stored) != 1 || stored[0].Name != "Office laptop" {
		t.Fatalf("stored passkeys: %+v", stored)
	}
	if string(stored[0].ID) != string(creds[0].CredentialID) {
		t.Error("the stored credential is not the authenticator's")
	}
	if got, want := stored[0].Authenticator.SignCount, uint32(creds[0].SignCount); got != want || want == 0 {
		t.Errorf("stored sign count %d, the authenticator's %d", got, want)
	}
}

// TestPasskeyOptionsAnswerJSON checks what the script gets from the server: JSON errors it
// can act on (never a sign-in page), and options naming the site and the user.
func TestPasskeyOptionsAnswerJSON(t *testing.T) {
	e := newLocalhostEnv(t)
	username := e.activeUser("live", "Maria", "Lopez", goodPassword)
	b := e.browser()
	r := e.expect(b.post("/live/account/security/passkeys/options", nil), http.StatusUnauthorized, "unauthorized")
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("signed out: content type %q", ct)
	}
	e.expect(b.post("/live/login/passkey/options", nil), http.StatusUnauthorized, "session_expired")

	b.signIn("live", username, goodPassword).wantPath("/live/account")
	page := b.get("/live/account/security").wantText(`<script src="/static/passkey.js?v=`,
		`id="passkey-button" hidden`, `id="passkey-nojs"`, `name="state" id="passkey-state"`)
	script := regexp.MustCompile(`src="(/static/passkey\.js\?v=[0-9a-f]+)"`).FindSubmatch(page.Body)
	if script == nil {
		t.Fatal("no versioned script address")
	}
	if r := b.get(string(script[1])); r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Content-Type"), "javascript") {
		t.Errorf("script: status %d, type %q", r.Status, r.Header.Get("Content-Type"))
	}
	r = e.expect(b.post("/live/account/security/passkeys/options", nil), http.StatusOK, "")
	var body struct {
		Options struct {
			PublicKey struct {
				RP   struct{ ID, Name string } `json:"rp"`
				User struct {
					Name        string `json:"name"`
					DisplayName string `json:"displayName"`
				}
			} `json:"publicKey"`
		}
		State string
	}
	r.decode(&body)
	pk := body.Options.PublicKey
	if pk.RP.ID != "localhost" || pk.RP.Name != "HMIS Live" || pk.User.Name != username ||
		pk.User.DisplayName != "Maria Lopez" || body.State == "" {
		t.Errorf("options: %s", r.Body)
	}

	// Another website cannot start one (the refusal is a page: no script of ours asked).
	req, err := http.NewRequest("POST", e.srv.URL+"/live/account/security/passkeys/options", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	e.expect(e.do(b.c, req), http.StatusForbidden, "").lackText(`"options"`)

	// The settings close after session.reauth: the script sends the user to type the password.
	e.clock.Advance(6 * time.Minute)
	e.expect(b.post("/live/account/security/passkeys/options", nil), http.StatusForbidden, "reauth_required")
}

// TestNoPasskeysAtAnIPAddress: newEnv's server is at http://127.0.0.1:PORT, where no passkey
// can be bound, so none is offered and the script's endpoint says why.
func TestNoPasskeysAtAnIPAddress(t *testing.T) {
	e := newEnv(t)
	username := e.activeUser("live", "Maria", "Lopez", goodPassword)
	b := e.browser()
	b.signIn("live", username, goodPassword).wantPath("/live/account")
	b.get("/live/account/security").wantText(`id="passkey-unavailable"`).lackText("passkey.js", `id="passkey-register"`)
	e.expect(b.post("/live/account/security/passkeys/options", nil), http.StatusForbidden, "forbidden").
		wantText("not a bare IP address")
}

// storedPasskey is a stored passkey with its credential record decoded.
type storedPasskey struct {
	Name string
	webauthn.Credential
}

func (e *env) passkeys(username string) []storedPasskey {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.store.User(ctx, "live", username)
	if err != nil {
		e.t.Fatal(err)
	}
	f, err := e.store.SecondFactors(ctx, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []storedPasskey
	for _, k := range f.Passkeys {
		p := storedPasskey{Name: k.Name}
		if err := json.Unmarshal(k.Credential, &p.Credential); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// newLocalhostEnv is a server at http://localhost:PORT, where passkeys work.
func newLocalhostEnv(t *testing.T) *env {
	t.Helper()
	e := newEnvAt(t, testSites(), true)
	if !e.svc.PasskeysAvailable() {
		t.Fatalf("passkeys unavailable at %s", e.srv.URL)
	}
	return e
}

// virtualAuthenticator gives the tab Chromium's virtual authenticator: built in (like a
// laptop's fingerprint reader), verifying the user and consenting without being touched.
func virtualAuthenticator(t *testing.T, ctx context.Context) vwa.AuthenticatorID {
	t.Helper()
	if _, err := chromedp.Call(ctx, vwa.Enable, vwa.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Call(ctx, vwa.AddVirtualAuthenticator, vwa.AddVirtualAuthenticatorParams{
		Options: &vwa.VirtualAuthenticatorOptions{
			Protocol:                    vwa.AuthenticatorProtocolCtap2,
			Ctap2version:                vwa.Ctap2versionCtap21,
			Transport:                   vwa.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.AuthenticatorID
}

func authenticatorCredentials(t *testing.T, ctx context.Context, id vwa.AuthenticatorID) []*vwa.Credential {
	t.Helper()
	res, err := chromedp.Call(ctx, vwa.GetCredentials, vwa.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		t.Fatal(err)
	}
	return res.Credentials
}

// browserProblems fails the test, at its end, on every script exception and console error
// in the tab: a script the content security policy blocked reports there.
func browserProblems(t *testing.T, ctx context.Context) {
	t.Helper()
	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, desc))
		case *cdplog.EventEntryAdded:
			// The browser asks for a favicon the server does not have; nothing of ours.
			if ev.Entry.Level == cdplog.EntryLevelError && !strings.HasSuffix(ev.Entry.URL, "/favicon.ico") {
				problems = append(problems, fmt.Sprintf("console %s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("browser: %s", p)
		}
	})
}
