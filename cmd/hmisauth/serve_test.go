package main

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// serveBriefly runs serve on c's data with more environment, until it returns or a few
// seconds pass, and returns what it printed and its error.
func (c *cli) serveBriefly(environ ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := newRootCmd(&out, &bytes.Buffer{}, append(slices.Clone(c.environ), environ...))
	cmd.SetArgs([]string{"serve", "--data", c.data})
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// TestDevInboxNeverServesBeyondThisMachine: with mail.transport dev, /dev/mail shows every
// reset link to whoever opens it, so serve refuses to start where others can reach it, in one
// line that names the setting to change, before it creates or opens anything.
func TestDevInboxNeverServesBeyondThisMachine(t *testing.T) {
	for _, tc := range []struct {
		environ []string
		want    string
	}{
		{[]string{"HMISAUTH_LISTEN=0.0.0.0:0"}, "before listening on 0.0.0.0:0"},
		{[]string{"HMISAUTH_LISTEN=:0"}, "before listening on :0"},
		{[]string{"HMISAUTH_LISTEN=127.0.0.1:0", "HMISAUTH_PUBLIC_URL=https://hmis.example.org"},
			"before serving public_url https://hmis.example.org"},
	} {
		c := newCLI(t)
		out, err := c.serveBriefly(tc.environ...)
		const setting = "mail.transport is dev, which shows every e-mail (reset links included) at /dev/mail to anyone: " +
			"set mail.transport to smtp or file "
		if err == nil || !strings.Contains(oneLine(err), setting+tc.want) || strings.Contains(oneLine(err), "\n") {
			t.Errorf("%v: serve answered %v; want one line %q", tc.environ, err, setting+tc.want)
		}
		if out != "" {
			t.Errorf("%v: serve printed %q before refusing", tc.environ, out)
		}
	}

	// The same address with mail that leaves the machine starts.
	c := newCLI(t)
	c.environ = append(c.environ, "HMISAUTH_MAIL_TRANSPORT=file", "HMISAUTH_PUBLIC_URL=https://hmis.example.org")
	if out, err := c.serveBriefly("HMISAUTH_LISTEN=127.0.0.1:0"); err != nil || !strings.Contains(out, "hmisauth is running") {
		t.Errorf("file transport behind https: %v\n%s", err, out)
	}
}

// TestDevInboxServesOnLoopback: the out-of-the-box start, and one at localhost, still serve
// the development inbox.
func TestDevInboxServesOnLoopback(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "localhost"} {
		c := newCLI(t)
		base := c.serveInBackgroundOn(host)
		resp, err := http.Get(base + "/dev/mail")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: /dev/mail answered %d", host, resp.StatusCode)
		}
	}
}

func TestDevInboxExposed(t *testing.T) {
	for _, tc := range []struct {
		transport, listen, publicURL string
		refused                      bool
	}{
		{"dev", "127.0.0.1:8080", "http://localhost:8080", false},
		{"dev", "localhost:8080", "http://localhost:8080", false},
		{"dev", "LocalHost:8080", "http://localhost:8080", false},
		{"dev", "[::1]:8080", "http://localhost:8080", false},
		{"dev", "127.0.0.2:8080", "http://localhost:8080", false},
		{"dev", "0.0.0.0:8080", "http://localhost:8080", true},
		{"dev", ":8080", "http://localhost:8080", true},
		{"dev", "[::]:8080", "http://localhost:8080", true},
		{"dev", "192.168.1.5:8080", "http://192.168.1.5:8080", true},
		{"dev", "hmis.example.org:8080", "http://hmis.example.org:8080", true},
		{"dev", "127.0.0.1:8080", "https://hmis.example.org", true},
		{"dev", "127.0.0.1:8080", "HTTPS://hmis.example.org", true},
		{"file", "0.0.0.0:8080", "https://hmis.example.org", false},
		{"smtp", ":8080", "https://hmis.example.org", false},
	} {
		err := devInboxExposed(tc.transport, tc.listen, tc.publicURL)
		if (err != nil) != tc.refused {
			t.Errorf("%s on %s for %s: %v, want refused %v", tc.transport, tc.listen, tc.publicURL, err, tc.refused)
		}
		if err != nil && !strings.Contains(err.Error(), "set mail.transport to smtp or file") {
			t.Errorf("%s on %s: %q does not name the setting", tc.transport, tc.listen, err)
		}
	}
}
