package web_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/oidc"
)

// apacheApp is the application's name as registered here; the sign-in page names it.
const apacheApp = "Case Notes"

// Where scripts/install-test-deps.sh puts Apache and mod_auth_openidc: Debian's own paths.
const (
	apacheBinary  = "/usr/sbin/apache2"
	apacheModules = "/usr/lib/apache2/modules"
)

// TestApacheModAuthOpenIDC signs a user in to an application that Apache protects with
// mod_auth_openidc, a module nobody here wrote, configured as docs/INTEGRATION.md says. The
// module speaks to the user's browser with plain redirects, so a cookie-keeping HTTP client
// stands in for the browser: it opens the application, lands on the site's sign-in page,
// gives the password, and is sent back through the module's redirect URI to the application,
// which reads who the user is from the headers the module adds.
func TestApacheModAuthOpenIDC(t *testing.T) {
	apacheInstalled(t)
	e := newEnv(t)
	// ID tokens carry the real time and the module checks them against it.
	e.realTime()
	agency := e.makeAgency("live", "North Shelter", 0)
	c := e.makeUser("live", "Maria", "Lopez", "maria@north.example.org", "agency_admin", agency.Name)
	username := c.User.Username
	token := e.login("live", username, c.TemporaryPassword)
	e.expect(e.api("POST", "live", "/me/terms", token, map[string]any{"version": 1}), 204, "")
	e.expect(e.api("POST", "live", "/me/password", token, map[string]any{"new_password": goodPassword, "confirm_password": goodPassword}), 204, "")
	u, err := e.store.User(context.Background(), "live", username)
	if err != nil {
		t.Fatal(err)
	}

	upstream := httptest.NewServer(http.HandlerFunc(echoOIDCClaims))
	t.Cleanup(upstream.Close)
	a := startApache(t, e, "live", upstream.URL)

	b := navigator(e.ssoBrowser())
	login := b.open(a.url + "/protected/")
	if login.URL.Path != "/live/login" || !strings.HasPrefix(login.URL.String(), e.srv.URL+"/") {
		t.Fatalf("the application sent the browser to %s (%d), want the site's sign-in page: %.500s\nApache's error log:\n%s",
			login.URL, login.Status, login.Body, a.errorLog())
	}
	login.wantText("Sign in to continue to <strong>" + apacheApp + "</strong>")

	app := b.signInFor(login, username, goodPassword)
	if app.Status != http.StatusOK || app.URL.String() != a.url+"/protected/" {
		t.Fatalf("signed in at %s (%d), want the application at %s/protected/: %.500s\nApache's error log:\n%s",
			app.URL, app.Status, a.url, app.Body, a.errorLog())
	}
	var seen upstreamView
	if err := json.Unmarshal(app.Body, &seen); err != nil {
		t.Fatalf("the application answered %q: %v", app.Body, err)
	}
	for name, want := range map[string]string{
		"OIDC_CLAIM_preferred_username": username,
		"OIDC_CLAIM_sub":                u.Subject,
		"OIDC_CLAIM_email":              "maria@north.example.org",
		"OIDC_CLAIM_email_verified":     "0", // JSON false, as the module passes it on
		"OIDC_CLAIM_hmis_role":          "agency_admin",
		"OIDC_CLAIM_amr":                "pwd", // a list, joined with commas
		"OIDC_CLAIM_hmis_site":          "live",
		"OIDC_CLAIM_given_name":         "Maria",
		"OIDC_CLAIM_family_name":        "Lopez",
	} {
		if got := seen.Claims[strings.ToLower(name)]; got != want {
			t.Errorf("the application sees %s = %q, want %q", name, got, want)
		}
	}
	// An object claim comes as its JSON text.
	var ag struct {
		ID   int64
		Name string
	}
	if err := json.Unmarshal([]byte(seen.Claims["oidc_claim_hmis_agency"]), &ag); err != nil || ag.ID != agency.ID || ag.Name != "North Shelter" {
		t.Errorf("the application sees OIDC_CLAIM_hmis_agency = %q, want agency %d, North Shelter", seen.Claims["oidc_claim_hmis_agency"], agency.ID)
	}
	if seen.RemoteUser != username {
		t.Errorf("the application sees REMOTE_USER %q, want %q", seen.RemoteUser, username)
	}
	if seen.Path != "/" {
		t.Errorf("the application was asked for %q, want /", seen.Path)
	}
	t.Logf("the application sees REMOTE_USER %q and %v", seen.RemoteUser, seen.Claims)

	// The module's session cookie now lets the browser in without another sign-in, and the
	// headers the application trusts are the module's, whatever the browser sends.
	req, err := http.NewRequest("GET", a.url+"/protected/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header["OIDC_CLAIM_hmis_role"] = []string{"sysadmin"}
	req.Header.Set("X-Remote-User", "admin")
	again := e.do(b.c, req)
	if again.Status != http.StatusOK || again.URL.String() != a.url+"/protected/" {
		t.Fatalf("the second visit ended at %s (%d), want the application", again.URL, again.Status)
	}
	var second upstreamView
	if err := json.Unmarshal(again.Body, &second); err != nil {
		t.Fatalf("the application answered %q: %v", again.Body, err)
	}
	if got := second.Claims["oidc_claim_hmis_role"]; got != "agency_admin" || second.RemoteUser != username {
		t.Errorf("with forged headers the application sees hmis_role %q and REMOTE_USER %q, want agency_admin and %s",
			got, second.RemoteUser, username)
	}
	if log := a.errorLog(); !strings.Contains(log, "scrubbed suspicious request header (OIDC_CLAIM_hmis_role") {
		t.Errorf("the forged OIDC_CLAIM_hmis_role did not reach the module, or it did not say it removed it:\n%s", log)
	}

	evs, err := e.store.Events(context.Background(), hmisauth.EventQuery{Site: "live", Subject: username, Action: hmisauth.EventAppSignIn})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, apacheApp) {
		t.Errorf("%s in the audit log: %+v", hmisauth.EventAppSignIn, evs)
	}
	evs, err = e.store.Events(context.Background(), hmisauth.EventQuery{Site: "live", Subject: username, Action: hmisauth.EventTokensIssued})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, apacheApp) {
		t.Errorf("%s in the audit log: %+v", hmisauth.EventTokensIssued, evs)
	}
}

// TestApacheModAuthOpenIDCWrongSecret is the same setup with a client secret the site does
// not know: the module gets no tokens, and the browser never reaches the application. The
// module's error page is answered at its redirect URI; were that address passed on to the
// application too (no `ProxyPass …/redirect_uri !`), the application would get the request,
// with no user, after the error page.
func TestApacheModAuthOpenIDCWrongSecret(t *testing.T) {
	apacheInstalled(t)
	e := newEnv(t)
	e.realTime()
	username := e.activeUser("live", "Maria", "Lopez", goodPassword)
	reached := make(chan struct{}, 10)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- struct{}{}
		echoOIDCClaims(w, r)
	}))
	t.Cleanup(upstream.Close)
	a := startApache(t, e, "live", upstream.URL, func(c *apacheConfig) { c.ClientSecret = "not-the-secret" })

	b := navigator(e.ssoBrowser())
	login := b.open(a.url + "/protected/")
	if login.URL.Path != "/live/login" {
		t.Fatalf("the application sent the browser to %s (%d), want the site's sign-in page\nApache's error log:\n%s",
			login.URL, login.Status, a.errorLog())
	}
	res := b.signInFor(login, username, goodPassword)
	if len(reached) != 0 {
		t.Fatalf("with a wrong client secret the application was reached %d times; the browser ended at %s (%d): %.500s",
			len(reached), res.URL, res.Status, res.Body)
	}
	// The module shows its own error page there (with status 200, as this version does).
	if !strings.HasPrefix(res.URL.String(), a.url+"/protected/redirect_uri?") || !strings.Contains(res.text(), "Error") {
		t.Errorf("the browser ended at %s (%d), want the module's error page at its redirect URI: %.500s", res.URL, res.Status, res.Body)
	}
	// The module logs why: the token endpoint refused the client.
	if log := a.errorLog(); !strings.Contains(log, "invalid_client") {
		t.Errorf("Apache's error log does not say invalid_client:\n%s", log)
	}
	evs, err := e.store.Events(context.Background(), hmisauth.EventQuery{Site: "live", Subject: username, Action: hmisauth.EventTokensIssued})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 0 {
		t.Errorf("tokens issued to a client with a wrong secret: %+v", evs)
	}
}

// navigator makes the browser's requests look like a person's page loads, which is what
// mod_auth_openidc redirects to the sign-in page: to a request that does not accept text/html
// (an API call, a script's fetch) it answers 401 instead.
func navigator(b *browser) *browser {
	next := b.c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	b.c.Transport = roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Accept") == "" {
			r = r.Clone(r.Context())
			r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		}
		return next.RoundTrip(r)
	})
	return b
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// upstreamView is what the application behind Apache reports about a request.
type upstreamView struct {
	Path       string            `json:"path"`
	RemoteUser string            `json:"remote_user"`
	Claims     map[string]string `json:"claims"` // header name, lower case: value
}

// echoOIDCClaims is the application behind Apache: it answers, as JSON, the OIDC_CLAIM_*
// headers mod_auth_openidc added and the REMOTE_USER the configuration passes on.
func echoOIDCClaims(w http.ResponseWriter, r *http.Request) {
	v := upstreamView{Path: r.URL.Path, RemoteUser: r.Header.Get("X-Remote-User"), Claims: map[string]string{}}
	for name, values := range r.Header {
		if n := strings.ToLower(name); strings.HasPrefix(n, "oidc_claim_") {
			v.Claims[n] = strings.Join(values, ",")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// apacheInstalled skips the test on a developer's machine without Apache or mod_auth_openidc
// and fails it in CI, like a missing Chromium.
func apacheInstalled(t *testing.T) {
	t.Helper()
	var missing []string
	for _, path := range []string{apacheBinary, filepath.Join(apacheModules, "mod_auth_openidc.so"),
		filepath.Join(apacheModules, "mod_proxy_http.so")} {
		if _, err := os.Stat(path); err != nil {
			missing = append(missing, path)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("no %s; scripts/install-test-deps.sh installs Apache and mod_auth_openidc (Debian packages apache2-bin, libapache2-mod-auth-openidc)",
		strings.Join(missing, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI must run this test")
	}
	t.Skip(msg + "; they are required when CI=true")
}

// apacheConfig is what goes into the generated httpd.conf.
type apacheConfig struct {
	Dir          string // ServerRoot, with the pid file and logs, and the document root htdocs
	Addr         string // 127.0.0.1:PORT
	Metadata     string // the site's discovery document
	ClientID     string
	ClientSecret string
	Passphrase   string
	Upstream     string // the application, http://127.0.0.1:PORT
	// User and Group are the account the workers run as when Apache starts as root (it will
	// not serve requests as root); empty when it does not.
	User, Group string
}

// apacheConf is a minimal Apache configuration: the modules the recipe needs and the recipe
// itself, docs/INTEGRATION.md's mod_auth_openidc section.
func apacheConf(c apacheConfig) string {
	var s strings.Builder
	fmt.Fprintf(&s, "ServerRoot %q\nDefaultRuntimeDir %q\nPidFile %q\nErrorLog %q\nLogLevel warn auth_openidc:info\n",
		c.Dir, c.Dir, filepath.Join(c.Dir, "httpd.pid"), filepath.Join(c.Dir, "error.log"))
	for _, m := range []string{"mpm_event", "authn_core", "authz_core", "authz_user", "headers", "proxy", "proxy_http", "auth_openidc"} {
		fmt.Fprintf(&s, "LoadModule %s_module %q\n", m, filepath.Join(apacheModules, "mod_"+m+".so"))
	}
	if c.User != "" {
		fmt.Fprintf(&s, "User %s\nGroup %s\n", c.User, c.Group)
	}
	fmt.Fprintf(&s, `Listen %[1]s
ServerName %[1]s
DocumentRoot %[2]q
<Directory />
	AllowOverride None
	Require all denied
</Directory>
# One worker process is plenty for one test.
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 16

OIDCProviderMetadataURL %[3]s
OIDCClientID %[4]s
OIDCClientSecret %[5]s
OIDCRedirectURI http://%[1]s/protected/redirect_uri
OIDCCryptoPassphrase %[6]s
OIDCPKCEMethod S256
OIDCScope "openid email profile hmis"
OIDCRemoteUserClaim preferred_username
OIDCPassClaimsAs headers

<Location /protected>
	AuthType openid-connect
	Require valid-user
	RequestHeader set X-Remote-User expr=%%{REMOTE_USER}
</Location>
ProxyPass /protected/redirect_uri !
ProxyPass /protected/ %[7]s/
`, c.Addr, filepath.Join(c.Dir, "htdocs"), c.Metadata, c.ClientID, c.ClientSecret, c.Passphrase, c.Upstream)
	return s.String()
}

// apache is a running Apache.
type apache struct {
	url    string
	dir    string
	output *syncBuffer // what it printed before it opened its error log
	exited chan struct{}
}

// errorLog is Apache's error log so far, with what it printed before opening it.
func (a *apache) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(a.dir, "error.log"))
	return a.output.String() + string(b)
}

// apacheDir is Apache's folder for the test: its configuration, pid file, error log and an
// empty document root (htdocs). Apache maps the requests it does not proxy, the module's
// redirect URI among them, to the document root before any module sees them, and refuses
// them when its workers cannot reach it: run as root, the workers are nobody, so the folder
// is one they can pass through, directly in the system's temporary folder (a t.TempDir is
// inside a folder only its owner can enter). The files in it stay the owner's alone.
func apacheDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hmisauth-apache-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Mkdir(filepath.Join(dir, "htdocs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startApache registers Apache as a confidential client of site and starts it on a free
// loopback port, in the foreground, in front of upstream; it stops with the test. The port is
// chosen before Apache takes it, so another program may take it first: then it tries again.
func startApache(t *testing.T, e *env, site, upstream string, configure ...func(*apacheConfig)) *apache {
	t.Helper()
	for attempt := 1; ; attempt++ {
		a, err := tryApache(t, e, site, upstream, configure)
		if err == nil {
			return a
		}
		if attempt == 3 || !strings.Contains(a.errorLog(), "Address already in use") {
			t.Fatalf("Apache did not start: %v\n%s", err, a.errorLog())
		}
	}
}

func tryApache(t *testing.T, e *env, site, upstream string, configure []func(*apacheConfig)) (*apache, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	a := &apache{url: "http://" + addr, dir: apacheDir(t), output: &syncBuffer{}, exited: make(chan struct{})}
	client, secret, err := e.oidc.AddClient(setupCtx(), site, oidc.ClientSpec{Name: apacheApp, HomeURL: a.url + "/protected/",
		RedirectURIs: []string{a.url + "/protected/redirect_uri"}})
	if err != nil {
		t.Fatal(err)
	}
	passphrase := make([]byte, 32)
	rand.Read(passphrase)
	c := apacheConfig{Dir: a.dir, Addr: addr, Metadata: e.srv.URL + "/" + site + "/.well-known/openid-configuration",
		ClientID: client.ID, ClientSecret: secret, Passphrase: base64.RawURLEncoding.EncodeToString(passphrase),
		Upstream: upstream}
	if os.Geteuid() == 0 {
		// Apache refuses to serve as root; its workers run as nobody (apacheDir lets them
		// through to the document root).
		c.User, c.Group = "nobody", "#65534"
		if u, err := user.Lookup("nobody"); err == nil {
			c.User, c.Group = "#"+u.Uid, "#"+u.Gid
		}
	}
	for _, f := range configure {
		f(&c)
	}
	conf := filepath.Join(a.dir, "httpd.conf")
	if err := os.WriteFile(conf, []byte(apacheConf(c)), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, apacheBinary, "-DFOREGROUND", "-d", a.dir, "-f", conf)
	// Apache stops its workers and exits on SIGTERM; a SIGKILL would leave the workers behind.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stdout, cmd.Stderr = a.output, a.output
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(a.exited)
	}()
	stop := func() {
		cancel()
		<-a.exited
	}
	// Ready when this Apache answers: its Server header says so, and not some other program
	// that took the port first.
	ready := func() bool {
		res, err := http.Get(a.url + "/")
		if err != nil {
			return false
		}
		res.Body.Close()
		return strings.HasPrefix(res.Header.Get("Server"), "Apache")
	}
	// A hang guard, not a measure: Apache starts in well under a second.
	deadline := time.Now().Add(30 * time.Second)
	for !ready() {
		select {
		case <-a.exited:
			cancel()
			return a, errors.New("it exited")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return a, errors.New("it did not answer")
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("Apache's configuration:\n%s\nApache's error log:\n%s", apacheConf(c), a.errorLog())
		}
	})
	return a, nil
}
