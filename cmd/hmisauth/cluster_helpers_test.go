package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The helpers of the several-process tests (cluster*_test.go): `hmisauth serve` in processes
// of its own (the test binary standing in for hmisauth, see TestMain), a small JSON API
// client and a browser of the sign-in pages. cluster_mail_test.go has the SMTP server that
// counts what the processes deliver, and what reads the shared database.

// clusterSecretKey is the server key every process sharing a database is given.
var clusterSecretKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

// clusterEnv is the configuration every test process gets, besides its database and mail:
// the cheapest accepted hash cost, one server key, and no per-address cap on reset requests
// (every client here is 127.0.0.1).
func clusterEnv(database string, mail *smtpSink) []string {
	env := []string{
		"HMISAUTH_LOG_LEVEL=warn",
		"HMISAUTH_PASSWORD_HASH_MEMORY_KIB=8192", "HMISAUTH_PASSWORD_HASH_ITERATIONS=1",
		"HMISAUTH_SECRET_KEY=" + clusterSecretKey,
		"HMISAUTH_SITES_LIVE_POLICY_RESET_LIMITS_PER_ADDRESS=1000000",
		"HMISAUTH_SITES_LIVE_POLICY_PASSWORD_MAX_AGE_DAYS=0",
	}
	if database != "" {
		env = append(env, "HMISAUTH_DATABASE="+database)
	}
	if mail != nil {
		env = append(env, "HMISAUTH_MAIL_TRANSPORT=smtp", "HMISAUTH_MAIL_SMTP_HOST=127.0.0.1",
			"HMISAUTH_MAIL_SMTP_PORT="+strconv.Itoa(mail.port), "HMISAUTH_MAIL_SMTP_TLS=none")
	}
	return env
}

// proc is one `hmisauth serve` process.
type proc struct {
	t    testing.TB
	name string
	data string
	env  []string
	addr string // HOST:PORT it listens on
	base string // http://HOST:PORT

	cmd    *exec.Cmd
	out    *procOutput
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed
}

// startProc starts `hmisauth serve` on data with env (clusterEnv) and returns once it is
// ready; it is stopped (SIGTERM) when the test ends, and must then exit cleanly. The port is
// chosen here, or kept from a previous process when addr is not "".
func startProc(t testing.TB, name, data, addr string, env []string) *proc {
	t.Helper()
	p := launchProc(t, name, data, addr, env)
	p.waitReady()
	return p
}

// launchProc starts the process without waiting for it to be ready.
func launchProc(t testing.TB, name, data, addr string, env []string) *proc {
	t.Helper()
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	p := &proc{t: t, name: name, data: data, env: env, addr: addr, base: "http://" + addr,
		out: &procOutput{}, exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], "serve", "--data", data, "--listen", addr)
	p.cmd.Env = append(append(serverEnviron(), "RUN_HMISAUTH_MAIN=1"), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.stop)
	return p
}

// waitReady waits for /readyz to answer 200, failing the test (with the process's output)
// if the process exits or 60 seconds pass first.
func (p *proc) waitReady() {
	p.t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			p.t.Fatalf("%s exited before it was ready (%v):\n%s", p.name, p.err, p.out.String())
		default:
		}
		if resp, err := client.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("%s was not ready within 60s:\n%s", p.name, p.out.String())
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would, and waits for it.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// alive reports whether the process is still running.
func (p *proc) alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop ends the process as an operator would (SIGTERM) and checks it exited cleanly (which,
// under -race, also says the race detector found nothing in it). A killed process is left be.
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			p.t.Errorf("%s did not exit cleanly on SIGTERM (%v):\n%s", p.name, p.err, p.out.String())
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
		p.t.Errorf("%s did not stop within 30s of SIGTERM:\n%s", p.name, p.out.String())
	}
	if p.t.Failed() {
		p.t.Logf("output of %s:\n%s", p.name, tailLines(p.out.String(), 40))
	}
}

// firstAdmin is the live site's first administrator as the process announced it (username
// and temporary password), or "", "" if it announced none.
func (p *proc) firstAdmin() (username, temp string) {
	return p.out.admin("live")
}

// procOutput collects a process's standard output and error.
type procOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *procOutput) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(b)
}

func (o *procOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// admin reads the "First administrator for …" block serve prints for a site.
func (o *procOutput) admin(site string) (username, temp string) {
	in := false
	for _, line := range strings.Split(o.String(), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "First administrator for"):
			in = strings.Contains(line, "/"+site+"/login")
		case in && strings.HasPrefix(line, "username:"):
			username = strings.TrimSpace(strings.TrimPrefix(line, "username:"))
		case in && strings.HasPrefix(line, "temporary password:"):
			temp = strings.TrimSpace(strings.TrimPrefix(line, "temporary password:"))
		}
	}
	return username, temp
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// answer is one HTTP answer, or the error that stopped it.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// code is the API error code of the answer ("" for none).
func (a answer) code() string {
	var e struct{ Error string }
	json.Unmarshal(a.body, &e)
	return e.Error
}

func (a answer) decode(v any) error { return json.Unmarshal(a.body, v) }

func (a answer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body))
}

// apiClient calls one site's JSON API. Every request is bounded: a hang is a failure.
var apiClient = &http.Client{Timeout: 20 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// call sends method base/api/v1/sites/live+path with body as JSON (nil: none), as the
// holder of token ("" for none).
func call(base, method, path, token string, body any) answer {
	return callWith(apiClient, base, method, path, token, body)
}

func callWith(client *http.Client, base, method, path, token string, body any) answer {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{err: err}
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+"/api/v1/sites/live"+path, r)
	if err != nil {
		return answer{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

// must is call that fails the test unless the answer is want.
func must(t testing.TB, want int, base, method, path, token string, body any) answer {
	t.Helper()
	a := call(base, method, path, token, body)
	if a.err != nil || a.status != want {
		t.Fatalf("%s %s on %s: %v, want %d", method, path, base, a, want)
	}
	return a
}

// signIn signs username in and returns the session token, failing the test otherwise.
func signIn(t testing.TB, base, username, password string) string {
	t.Helper()
	var res struct{ Token string }
	must(t, http.StatusOK, base, "POST", "/login", "", map[string]string{"username": username, "password": password}).decode(&res)
	if res.Token == "" {
		t.Fatalf("sign-in of %s gave no token", username)
	}
	return res.Token
}

// firstSignIn takes an account from its temporary password to newPassword (terms accepted)
// and returns a session token that opens everything; it reports what went wrong instead of
// failing, so load goroutines can use it.
func firstSignIn(base, username, temp, newPassword string) (string, error) {
	var res struct{ Token string }
	a := call(base, "POST", "/login", "", map[string]string{"username": username, "password": temp})
	if a.err != nil || a.status != http.StatusOK || a.decode(&res) != nil {
		return "", fmt.Errorf("first sign-in of %s: %v", username, a)
	}
	if a := call(base, "POST", "/me/terms", res.Token, map[string]int{"version": 1}); a.err != nil || a.status != http.StatusNoContent {
		return "", fmt.Errorf("terms of %s: %v", username, a)
	}
	if a := call(base, "POST", "/me/password", res.Token, map[string]string{"new_password": newPassword,
		"confirm_password": newPassword}); a.err != nil || a.status != http.StatusNoContent {
		return "", fmt.Errorf("password change of %s: %v", username, a)
	}
	return res.Token, nil
}

// adminPassword is the first administrator's own password in every cluster test.
const adminPassword = "Lantern-Orchard-58!"

// setUpAdmin signs the first administrator in on base with their temporary password, takes
// them through the first sign-in and returns their token.
func setUpAdmin(t testing.TB, base, username, temp string) string {
	t.Helper()
	if username == "" || temp == "" {
		t.Fatal("no first administrator was announced")
	}
	token, err := firstSignIn(base, username, temp, adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// browser is a browser signed in to the live site's pages: its session cookie.
type browser struct {
	base   string
	cookie *http.Cookie
}

// browserSession signs username in through the sign-in page and keeps the session cookie.
func browserSession(t testing.TB, base, username, password string) *browser {
	t.Helper()
	b := &browser{base: base}
	status, page, header := b.do(apiClient, "POST", "/live/login", url.Values{"username": {username}, "password": {password}})
	if status != http.StatusSeeOther && status != http.StatusFound {
		t.Fatalf("sign-in page answered %d:\n%s", status, pageText(page))
	}
	resp := http.Response{Header: header}
	for _, c := range resp.Cookies() {
		if c.Name == "hmisauth_live" || strings.HasSuffix(c.Name, "hmisauth_live") {
			b.cookie = c
		}
	}
	if b.cookie == nil || b.cookie.Value == "" {
		t.Fatalf("the sign-in page set no session cookie: %v", header.Values("Set-Cookie"))
	}
	return b
}

// do requests a page (form: a POST's fields) with the session cookie, following no redirect.
func (b *browser) do(client *http.Client, method, path string, form url.Values) (int, string, http.Header) {
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		return 0, err.Error(), nil
	}
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.cookie != nil {
		req.AddCookie(&http.Cookie{Name: b.cookie.Name, Value: b.cookie.Value})
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error(), http.Header{}
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(page), resp.Header
}

var tagRE = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)

// pageText is a page's text without its markup, for messages.
func pageText(page string) string {
	return strings.Join(strings.Fields(tagRE.ReplaceAllString(page, " ")), " ")
}
