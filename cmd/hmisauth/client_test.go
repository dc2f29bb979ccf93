package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth/store/sqlite"
)

// both runs one command and returns its stdout and stderr, failing the test on error.
func (c *cli) both(args ...string) (string, string) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := newRootCmd(&stdout, &stderr, c.environ)
	cmd.SetArgs(append(args, "--data", c.data))
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		c.t.Fatalf("hmisauth %s: %v", strings.Join(args, " "), err)
	}
	return stdout.String(), stderr.String()
}

type addedClient struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// addClient runs client add and reads the JSON it prints whatever --json says.
func (c *cli) addClient(args ...string) (addedClient, string) {
	c.t.Helper()
	out, note := c.both(append([]string{"client", "add", "--site", "live"}, args...)...)
	var a addedClient
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.ClientID == "" {
		c.t.Fatalf("client add printed %q (%v)", out, err)
	}
	return a, note
}

type listedClient struct {
	ClientID               string   `json:"client_id"`
	Name                   string   `json:"name"`
	Kind                   string   `json:"kind"`
	HomeURL                string   `json:"home_url"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	BackchannelLogoutURI   string   `json:"backchannel_logout_uri"`
	Scopes                 []string `json:"scopes"`
	AccessTokenFormat      string   `json:"access_token_format"`
	AccessTokenLifetime    string   `json:"access_token_lifetime"`
	RefreshTokens          bool     `json:"refresh_tokens"`
	SecretRotation         bool     `json:"secret_rotation"`
	FromConfig             bool     `json:"from_config"`
}

// secretWorks asks a running server whether it takes the client's secret: the revocation
// endpoint authenticates the client before it looks at the token, and answers an unknown
// token with 200 (RFC 7009), a refused client with 401.
func secretWorks(t *testing.T, base, id, secret string) bool {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/live/oidc/revoke", strings.NewReader("token=not-a-token"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized, http.StatusBadRequest:
		return false
	}
	t.Fatalf("revoke answered %d", resp.StatusCode)
	return false
}

func TestClientAddListUpdateRotateRemove(t *testing.T) {
	c := newCLI(t)
	base := c.serveInBackground()

	added, note := c.addClient("--name", "HMIS", "--redirect-uri", "https://hmis.example.org/oidc/callback",
		"--redirect-uri", "https://hmis.example.org/other", "--post-logout-redirect-uri", "https://hmis.example.org/",
		"--backchannel-logout-uri", "https://hmis.example.org/oidc/backchannel", "--access-token-format", "jwt",
		"--access-token-lifetime", "5m", "--refresh-tokens", "--scope", "profile", "--scope", "hmis")
	if !strings.HasPrefix(added.ClientID, "hmis-") || len(added.ClientSecret) < 40 {
		t.Fatalf("add printed %+v", added)
	}
	if !strings.Contains(note, "shown only this once") {
		t.Errorf("add did not say the secret is shown once: %q", note)
	}
	// --json prints the same one document.
	again, _ := c.addClient("--name", "Coordinated Entry", "--redirect-uri", "https://ce.example.org/cb", "--json")
	if again.ClientSecret == "" || again.ClientSecret == added.ClientSecret {
		t.Fatalf("second add: %+v", again)
	}
	if !secretWorks(t, base, added.ClientID, added.ClientSecret) || secretWorks(t, base, added.ClientID, again.ClientSecret) {
		t.Fatal("the server does not take exactly the client's own secret")
	}

	var list []listedClient
	c.json(&list, "client", "list", "--site", "live")
	if len(list) != 2 {
		t.Fatalf("list: %+v", list)
	}
	var hmis listedClient
	for _, l := range list {
		if l.ClientID == added.ClientID {
			hmis = l
		}
	}
	if hmis.Name != "HMIS" || hmis.Kind != "confidential" || len(hmis.RedirectURIs) != 2 || hmis.AccessTokenFormat != "jwt" ||
		hmis.AccessTokenLifetime != "5m0s" || !hmis.RefreshTokens || strings.Join(hmis.Scopes, " ") != "profile hmis" || hmis.FromConfig {
		t.Fatalf("listed: %+v", hmis)
	}
	text := c.run("client", "list", "--site", "live")
	for _, want := range []string{"CLIENT ID", added.ClientID, "HMIS", "confidential", "https://hmis.example.org/oidc/callback", " no"} {
		if !strings.Contains(text, want) {
			t.Errorf("list text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, added.ClientSecret) {
		t.Error("list shows the secret")
	}

	// Only the flags given change.
	var updated listedClient
	c.json(&updated, "client", "update", "--site", "live", added.ClientID, "--home-url", "https://hmis.example.org/",
		"--backchannel-logout-uri", "")
	if updated.Name != "HMIS" || updated.HomeURL != "https://hmis.example.org/" || updated.BackchannelLogoutURI != "" ||
		len(updated.RedirectURIs) != 2 || updated.AccessTokenFormat != "jwt" || !updated.RefreshTokens || len(updated.Scopes) != 2 {
		t.Fatalf("update: %+v", updated)
	}

	// A rotation: both secrets work until it is finished, then only the new one.
	out, note := c.both("client", "rotate-secret", "--site", "live", added.ClientID)
	var rotated addedClient
	if err := json.Unmarshal([]byte(out), &rotated); err != nil || rotated.ClientID != added.ClientID || rotated.ClientSecret == "" ||
		rotated.ClientSecret == added.ClientSecret {
		t.Fatalf("rotate-secret printed %q (%v)", out, err)
	}
	if !strings.Contains(note, "shown only this once") || !strings.Contains(note, "--finish") {
		t.Errorf("rotate-secret note: %q", note)
	}
	if !secretWorks(t, base, added.ClientID, added.ClientSecret) || !secretWorks(t, base, added.ClientID, rotated.ClientSecret) {
		t.Fatal("during the rotation, the old and new secrets must both work")
	}
	c.json(&list, "client", "list", "--site", "live")
	for _, l := range list {
		if l.ClientID == added.ClientID && !l.SecretRotation {
			t.Error("list does not show the rotation under way")
		}
	}
	finished := c.run("client", "rotate-secret", "--finish", "--site", "live", added.ClientID)
	if !strings.Contains(finished, "old secret no longer works") {
		t.Errorf("finish printed %q", finished)
	}
	if secretWorks(t, base, added.ClientID, added.ClientSecret) || !secretWorks(t, base, added.ClientID, rotated.ClientSecret) {
		t.Fatal("after finishing, only the new secret may work")
	}
	if _, err := c.try("client", "rotate-secret", "--finish", "--site", "live", added.ClientID); err == nil ||
		!strings.Contains(oneLine(err), "no secret rotation under way") {
		t.Errorf("finishing twice: %v", err)
	}

	c.run("client", "remove", "--site", "live", added.ClientID)
	if secretWorks(t, base, added.ClientID, rotated.ClientSecret) {
		t.Error("a removed client's secret still works")
	}
	c.json(&list, "client", "list", "--site", "live")
	if len(list) != 1 || list[0].ClientID != again.ClientID {
		t.Fatalf("after remove: %+v", list)
	}

	// Each change is audited as the operator's, and no secret reaches the log.
	log := c.run("audit", "export", "--format", "csv")
	for _, action := range []string{"client_created", "client_updated", "client_secret_rotated", "client_removed"} {
		if !strings.Contains(log, ","+action+",") {
			t.Errorf("audit export lacks %s", action)
		}
	}
	for _, secret := range []string{added.ClientSecret, rotated.ClientSecret, again.ClientSecret} {
		if strings.Contains(log, secret) {
			t.Error("a client secret reached the audit log")
		}
	}
}

func TestPublicClientHasNoSecret(t *testing.T) {
	c := newCLI(t)
	added, note := c.addClient("--name", "Outreach App", "--public", "--redirect-uri", "http://127.0.0.1:5173/callback")
	if added.ClientSecret != "" || !strings.Contains(note, "no secret") {
		t.Fatalf("public add: %+v, %q", added, note)
	}
	if _, err := c.try("client", "rotate-secret", "--site", "live", added.ClientID); err == nil ||
		!strings.Contains(oneLine(err), "public: it has no secret") {
		t.Errorf("rotating a public client's secret: %v", err)
	}
	var v listedClient
	c.json(&v, "client", "update", "--site", "live", added.ClientID, "--name", "Street Outreach")
	if v.Kind != "public" || v.Name != "Street Outreach" {
		t.Errorf("update: %+v", v)
	}
	if _, err := c.try("client", "update", "--site", "live", added.ClientID, "--public"); err == nil {
		t.Error("update took --public: a client's kind is chosen when it is added")
	}
}

func TestClientErrorsAreOneLine(t *testing.T) {
	c := newCLI(t)
	c.environ = append(c.environ, "HMISAUTH_PUBLIC_URL=https://signin.example.org")
	good := "https://hmis.example.org/cb"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"client", "add", "--site", "live", "--name", "", "--redirect-uri", good}, "Enter the application's name"},
		{[]string{"client", "add", "--site", "live", "--name", "HMIS\x1b[2J", "--redirect-uri", good}, "cannot be typed"},
		{[]string{"client", "add", "--site", "live", "--name", "HMIS"}, "Enter the application's sign-in return address"},
		{[]string{"client", "add", "--site", "live", "--name", "HMIS", "--redirect-uri", "/oidc/callback"}, "not a complete web address"},
		{[]string{"client", "add", "--site", "live", "--name", "HMIS", "--redirect-uri", "https://hmis.example.org/cb#x"}, "must not have a # part"},
		{[]string{"client", "add", "--site", "live", "--name", "HMIS", "--redirect-uri", "http://hmis.example.org/cb"}, "must use https (http only on this machine)"},
		{[]string{"client", "add", "--site", "live", "--name", "HMIS", "--redirect-uri", good, "--access-token-format", "paseto"}, "opaque or jwt"},
		{[]string{"client", "add", "--site", "live", "--name", "HMIS", "--redirect-uri", good, "--access-token-lifetime", "48h"}, "between 1 minute and 24 hours"},
		{[]string{"client", "add", "--site", "live", "--name", "HMIS", "--redirect-uri", good, "--access-token-lifetime", "90s"}, "whole minutes"},
		{[]string{"client", "add", "--site", "live", "--name", "HMIS", "--redirect-uri", good, "--scope", "admin"}, `"admin" is not a scope`},
		{[]string{"client", "add", "--site", "moon", "--name", "HMIS", "--redirect-uri", good}, `"moon"`},
		{[]string{"client", "update", "--site", "live", "nobody-123456", "--name", "X"}, `There is no application with the client ID "nobody-123456"`},
		{[]string{"client", "remove", "--site", "live", "nobody-123456"}, "There is no application"},
		{[]string{"client", "rotate-secret", "--site", "live", "nobody-123456"}, "There is no application"},
		{[]string{"oidc", "rotate-keys", "--site", "moon"}, `"moon"`},
	} {
		_, err := c.try(tc.args...)
		if err == nil || !strings.Contains(oneLine(err), tc.want) || strings.Contains(oneLine(err), "\n") || strings.Contains(oneLine(err), "\x1b") {
			t.Errorf("%q: error %v, want one line containing %q", tc.args, err, tc.want)
		}
	}
	// On this machine, http is fine for development.
	c.addClient("--name", "Dev", "--redirect-uri", "http://localhost:8000/cb")
}

func TestConfigDeclaredClientsAreReadOnly(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "hmis.secret")
	os.WriteFile(secretFile, []byte("a-long-enough-secret-from-the-file\n"), 0o600)
	config := filepath.Join(dir, "hmisauth.yaml")
	os.WriteFile(config, []byte(`sites:
  live:
    clients:
      hmis-app:
        name: HMIS
        redirect_uris: [https://hmis.example.org/oidc/callback]
        secret_file: `+secretFile+`
`), 0o600)
	var list []listedClient
	c.json(&list, "client", "list", "--site", "live", "--config", config)
	if len(list) != 1 || list[0].ClientID != "hmis-app" || !list[0].FromConfig {
		t.Fatalf("list: %+v", list)
	}
	if text := c.run("client", "list", "--site", "live", "--config", config); !strings.Contains(text, "yes") {
		t.Errorf("list does not say the client is from the configuration:\n%s", text)
	}
	for _, args := range [][]string{
		{"client", "update", "--site", "live", "hmis-app", "--name", "Other"},
		{"client", "rotate-secret", "--site", "live", "hmis-app"},
		{"client", "rotate-secret", "--finish", "--site", "live", "hmis-app"},
		{"client", "remove", "--site", "live", "hmis-app"},
	} {
		_, err := c.try(append(args, "--config", config)...)
		if err == nil || !strings.Contains(oneLine(err), "declared in the configuration file") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestOIDCRotateKeys(t *testing.T) {
	c := newCLI(t)
	var all []struct{ Site, KID string }
	c.json(&all, "oidc", "rotate-keys")
	if len(all) != 2 || all[0].Site != "live" || all[1].Site != "training" || all[0].KID == "" || all[0].KID == all[1].KID {
		t.Fatalf("rotate-keys: %+v", all)
	}
	var one []struct{ Site, KID string }
	c.json(&one, "oidc", "rotate-keys", "--site", "live")
	if len(one) != 1 || one[0].Site != "live" || one[0].KID == all[0].KID {
		t.Fatalf("rotate-keys --site live: %+v after %+v", one, all)
	}
	if text := c.run("oidc", "rotate-keys", "--site", "training"); !strings.Contains(text, "training: the key ") {
		t.Errorf("rotate-keys printed %q", text)
	}
	if log := c.run("audit", "export", "--format", "csv"); strings.Count(log, ",signing_key_rotated,") != 4 {
		t.Errorf("audit export has %d key rotations, want 4", strings.Count(log, ",signing_key_rotated,"))
	}
}

// TestClientListEscapesStoredValues: a name written straight into the database cannot rewrite
// the terminal of whoever lists the applications.
func TestClientListEscapesStoredValues(t *testing.T) {
	c := newCLI(t)
	added, _ := c.addClient("--name", "HMIS", "--redirect-uri", "https://hmis.example.org/cb")
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(c.data, "hmisauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := st.Client(ctx, "live", added.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	cl.Name = "HMIS\x1b[2J\nclient: admin"
	if err := st.UpdateClient(ctx, cl); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out := c.run("client", "list", "--site", "live")
	if strings.ContainsAny(out, "\x1b") || strings.Contains(out, "\nclient: admin") || !strings.Contains(out, `HMIS\x1b[2J\nclient: admin`) {
		t.Errorf("list:\n%q", out)
	}
	var list []listedClient
	c.json(&list, "client", "list", "--site", "live")
	if list[0].Name != cl.Name {
		t.Errorf("--json changed the name to %q", list[0].Name)
	}
}

// A mistake in one application's entry stops serve (and the client commands), naming it, but
// never the helpdesk's other commands.
func TestABadClientEntryStopsServeButNotTheHelpdesk(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "hmisauth.yaml")
	os.WriteFile(config, []byte(`sites:
  live:
    clients:
      hmis-app: {name: HMIS, redirect_uris: ['ftp://hmis.example.org/'], public: true}
`), 0o600)
	c.run("user", "create", "--site", "live", "--first", "Jane", "--last", "Doe", "--config", config)
	for _, args := range [][]string{{"client", "list", "--site", "live"}, {"serve", "--listen", "127.0.0.1:0"}} {
		_, err := c.try(append(args, "--config", config)...)
		if err == nil || !strings.Contains(oneLine(err), "sites.live.clients") || !strings.Contains(oneLine(err), "hmis-app") {
			t.Errorf("%v with a bad client: %v", args, err)
		}
	}
	// Two entries of one name: the second is named in the refusal.
	os.WriteFile(config, []byte(`sites:
  live:
    clients:
      hmis-app: {name: HMIS, redirect_uris: ['https://hmis.example.org/cb'], public: true}
      hmis-two: {name: hmis, redirect_uris: ['https://hmis.example.org/cb2'], public: true}
`), 0o600)
	_, err := c.try("client", "list", "--site", "live", "--config", config)
	if err == nil || !strings.Contains(oneLine(err), "client hmis-two: This site already has an application named hmis") {
		t.Errorf("two clients of one name: %v", err)
	}
}
