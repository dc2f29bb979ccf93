package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/oidc"
)

// oidcBench is a real server process with one confidential application registered and its
// administrator signed in through a browser-like client (one password hash, before timing).
type oidcBench struct {
	*benchServer
	issuer   string
	clientID string
	secret   string
	browser  *http.Client
}

const benchRedirect = "http://127.0.0.1:9/callback" // never contacted: the code is read off the redirect

func startOIDCBench(b *testing.B) *oidcBench {
	b.Helper()
	srv := startServer(b)
	root := strings.TrimSuffix(srv.base, "/api/v1/sites/live")
	// Register the application through the program's own rules, on the server's data, as
	// `hmisauth client add` does.
	g := &globals{data: srv.data, environ: os.Environ(), stdout: io.Discard, stderr: os.Stderr}
	a, err := g.open(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	c, secret, err := a.oidc.AddClient(auth.WithActor(context.Background(), auth.Actor{Username: "cli:bench"}), "live",
		oidc.ClientSpec{Name: "Bench", RedirectURIs: []string{benchRedirect}, RefreshTokens: true})
	a.store.Close()
	if err != nil {
		b.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 16},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.PostForm(root+"/live/login", url.Values{"username": {"admin"}, "password": {benchPassword}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-in: %v %v", resp, err)
	}
	resp.Body.Close()
	return &oidcBench{benchServer: srv, issuer: root + "/live", clientID: c.ID, secret: secret, browser: browser}
}

// codeFlow runs one whole authorization code flow in the signed-in browser (no password
// hash: the session is already there) and returns the token response.
func (o *oidcBench) codeFlow(b *testing.B) map[string]any {
	verifier := fmt.Sprintf("verifier-%d-%d-0123456789abcdefghijklmnop", time.Now().UnixNano(), os.Getpid())
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {o.clientID}, "redirect_uri": {benchRedirect}, "response_type": {"code"},
		"scope": {"openid profile email hmis"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	next := o.issuer + "/oidc/authorize?" + q.Encode()
	var code string
	for range 5 {
		resp, err := o.browser.Get(next)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			b.Fatalf("%s answered %d without a redirect", next, resp.StatusCode)
		}
		if strings.HasPrefix(loc.String(), benchRedirect) {
			code = loc.Query().Get("code")
			break
		}
		next = loc.String()
	}
	if code == "" {
		b.Fatal("no code")
	}
	return o.token(b, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {benchRedirect},
		"code_verifier": {verifier}})
}

func (o *oidcBench) token(b *testing.B, form url.Values) map[string]any {
	req, _ := http.NewRequest("POST", o.issuer+"/oidc/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(o.clientID, o.secret)
	resp, err := o.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("token: %d %v", resp.StatusCode, m)
	}
	return m
}

// cpuSeconds is the server process's CPU time so far (user + system), from /proc.
func (o *oidcBench) cpuSeconds() float64 {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", o.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // clock ticks; USER_HZ is 100 on Linux
}

// BenchmarkOIDCCodeFlow runs whole code flows one at a time against the real server
// (authorize, the sign-in step with the session already open, the redirect with the code,
// the token request with PKCE and client authentication, an RS256-signed ID token) and
// reports their latency and the server process's CPU time per flow.
//
//	go test -run='^$' -bench=OIDCCodeFlow -benchtime=300x ./cmd/hmisauth/
func BenchmarkOIDCCodeFlow(b *testing.B) {
	o := startOIDCBench(b)
	o.codeFlow(b) // keys made, caches warm
	cpu := o.cpuSeconds()
	b.ResetTimer()
	for range b.N {
		o.codeFlow(b)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/flow")
	b.ReportMetric((o.cpuSeconds()-cpu)*1000/float64(b.N), "server_cpu_ms/flow")
}

// BenchmarkOIDCRefresh has 16 clients refresh as fast as they can, each rotating its own
// refresh token (client authentication, reuse check, rotation and a new access token in one
// transaction with its audit event), and reports grants per second.
//
//	go test -run='^$' -bench=OIDCRefresh -benchtime=20000x ./cmd/hmisauth/
func BenchmarkOIDCRefresh(b *testing.B) {
	o := startOIDCBench(b)
	const clients = 16
	tokens := make([]string, clients)
	for i := range tokens {
		tokens[i], _ = o.codeFlow(b)["refresh_token"].(string)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				m := o.token(b, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens[i]}})
				tokens[i], _ = m["refresh_token"].(string)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
}

// BenchmarkOIDCUserinfo has 16 clients ask userinfo with their access tokens and reports
// answers per second.
//
//	go test -run='^$' -bench=OIDCUserinfo -benchtime=50000x ./cmd/hmisauth/
func BenchmarkOIDCUserinfo(b *testing.B) {
	o := startOIDCBench(b)
	const clients = 16
	tokens := make([]string, clients)
	for i := range tokens {
		tokens[i], _ = o.codeFlow(b)["access_token"].(string)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range clients {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", o.issuer+"/oidc/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+tokens[i])
			for next.Add(1) <= int64(b.N) {
				resp, err := o.client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("userinfo answered %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "answers/s")
}
