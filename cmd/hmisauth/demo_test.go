package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// TestDemoAppOnlyOnThisMachine: the demo application's client ID is known to everyone and
// its secret sits in the data folder, so serve refuses --demo-app where the server is for
// real (public_url https) or the demo would listen beyond loopback: one line naming the flag,
// before anything is printed or registered.
func TestDemoAppOnlyOnThisMachine(t *testing.T) {
	for _, tc := range []struct {
		demo    string
		environ []string
		want    string
	}{
		{"0.0.0.0:8090", nil, "--demo-app 0.0.0.0:8090: the demo application listens only on this machine"},
		{":8090", nil, "--demo-app :8090: the demo application listens only on this machine"},
		{"192.168.1.5:8090", nil, "--demo-app 192.168.1.5:8090: the demo application listens only on this machine"},
		{"localhost", nil, "--demo-app localhost: the demo application listens only on this machine"},
		{"localhost:0", []string{"HMISAUTH_PUBLIC_URL=https://hmis.example.org", "HMISAUTH_MAIL_TRANSPORT=file"},
			"--demo-app is for trying hmisauth on this machine: refused with public_url https://hmis.example.org"},
	} {
		c := newCLI(t)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		var out bytes.Buffer
		cmd := newRootCmd(&out, io.Discard, append(slices.Clone(c.environ), tc.environ...))
		cmd.SetArgs([]string{"serve", "--listen", "127.0.0.1:0", "--demo-app", tc.demo, "--data", c.data})
		err := cmd.ExecuteContext(ctx)
		cancel()
		if err == nil || !strings.Contains(oneLine(err), tc.want) || strings.Contains(oneLine(err), "\n") {
			t.Errorf("--demo-app %s: serve answered %v; want one line with %q", tc.demo, err, tc.want)
		}
		if out.Len() != 0 {
			t.Errorf("--demo-app %s: serve printed %q before refusing", tc.demo, out.String())
		}
		if _, err := os.Stat(filepath.Join(c.data, demoSecretFile)); err == nil {
			t.Errorf("--demo-app %s: a secret was made before refusing", tc.demo)
		}
	}
}

// TestDemoAppKeepsItsSecretAcrossStarts: the first start makes the secret (0600) and
// registers the demo; the second finds both as they were, and signing in through the demo
// works, first sign-in steps and all.
func TestDemoAppKeepsItsSecretAcrossStarts(t *testing.T) {
	c := newCLI(t)
	listen, demo := freeAddr(t), freeAddr(t)
	out, stop := c.serveWithDemo(listen, demo)
	stop()
	if want := "Demo HMIS app: http://" + demo + "/ (signs in through HMIS Live)\n"; !strings.Contains(out.String(), want) {
		t.Errorf("serve printed:\n%s\nwant the line %q", out, want)
	}
	path := filepath.Join(c.data, demoSecretFile)
	first, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v", path, fi.Mode().Perm())
	}

	c.serveWithDemo(listen, demo)
	if again, _ := os.ReadFile(path); !bytes.Equal(again, first) {
		t.Errorf("the second start changed the secret")
	}
	var events []struct{ Action, Actor, Detail string }
	if err := json.Unmarshal([]byte(c.run("audit", "export", "--format", "json")), &events); err != nil {
		t.Fatal(err)
	}
	var registered []string
	for _, e := range events {
		if e.Action == hmisauth.EventClientCreated || e.Action == hmisauth.EventClientUpdated {
			registered = append(registered, e.Action+" by "+e.Actor+": "+e.Detail)
		}
	}
	if len(registered) != 1 || !strings.HasPrefix(registered[0], hmisauth.EventClientCreated+" by serve --demo-app") {
		t.Errorf("registrations in the audit log: %q", registered)
	}

	var created struct {
		Username          string
		TemporaryPassword string `json:"temporary_password"`
	}
	c.json(&created, "user", "create", "--site", "live", "--first", "Maria", "--last", "Lopez", "--role", "sysadmin")
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar}
	hmis := "http://localhost:" + strings.Split(listen, ":")[1]
	for _, step := range []struct {
		path string
		form url.Values
		to   string
	}{
		{"http://" + demo + "/login", nil, hmis + "/live/login"},
		{hmis + "/live/login", url.Values{"username": {created.Username}, "password": {created.TemporaryPassword}}, hmis + "/live/terms"},
		{hmis + "/live/terms", url.Values{"version": {"1"}}, hmis + "/live/password"},
		{hmis + "/live/password", url.Values{"new_password": {"Blue-Kettle-42-Rain"}, "confirm_password": {"Blue-Kettle-42-Rain"}},
			"http://" + demo + "/"},
	} {
		res, err := b.Get(step.path)
		if step.form != nil {
			res, err = b.PostForm(step.path, step.form)
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if at := res.Request.URL; at.Scheme+"://"+at.Host+at.Path != step.to {
			t.Fatalf("%s ended at %s (%d), want %s: %.500s", step.path, at, res.StatusCode, step.to, body)
		}
		if step.to == "http://"+demo+"/" && !strings.Contains(string(body), "<dd>"+created.Username+"</dd>") {
			t.Errorf("the demo does not show who signed in: %.2000s", body)
		}
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveWithDemo runs serve --demo-app on c's data until stop (or the test's end), and returns
// what it prints.
func (c *cli) serveWithDemo(listen, demo string) (*syncBuffer, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	served := make(chan error, 1)
	go func() {
		cmd := newRootCmd(out, io.Discard, c.environ)
		cmd.SetArgs([]string{"serve", "--listen", listen, "--demo-app", demo, "--data", c.data})
		served <- cmd.ExecuteContext(ctx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				c.t.Errorf("serve: %v", err)
			}
		})
	}
	c.t.Cleanup(stop)
	waitReady(c.t, "http://"+listen)
	return out, stop
}

// syncBuffer is what serve prints, read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
