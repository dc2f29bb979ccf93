package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// noErr fails the test on err.
func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// totalRows is the number of rows of all tables.
func totalRows(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

// sqliteCounts counts the rows of every application table of the SQLite file, read straight
// from the file.
func sqliteCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		noErr(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	noErr(t, rows.Err())
	return countRows(t, db, tables)
}

// postgresCounts counts the rows of tables in the PostgreSQL database at url.
func postgresCounts(t *testing.T, url string, tables []string) map[string]int64 {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return countRows(t, db, tables)
}

// countRows counts the rows of tables in db.
func countRows(t *testing.T, db *sql.DB, tables []string) map[string]int64 {
	t.Helper()
	counts := map[string]int64{}
	for _, table := range tables {
		var n int64
		if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// serveStoppable runs serve on c's data until stop (or the test's end) and returns its base URL.
func (c *cli) serveStoppable() (base string, stop func()) {
	addr := freeAddr(c.t)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		cmd := newRootCmd(io.Discard, io.Discard, c.environ)
		cmd.SetArgs([]string{"serve", "--listen", addr, "--data", c.data})
		served <- cmd.ExecuteContext(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-served; err != nil {
				c.t.Errorf("serve: %v", err)
			}
		})
	}
	c.t.Cleanup(stop)
	waitReady(c.t, "http://"+addr)
	return "http://" + addr, stop
}

// post sends body as JSON (with a bearer token when not "") and returns the status and the
// decoded answer.
func postJSON(t *testing.T, client *http.Client, u, token string, body any) (int, map[string]any) {
	t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", u, bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// getBody is the body of the page at u.
func getBody(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitUntil polls ok for up to 30 seconds.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("waited in vain for %s", what)
}

// oidcClient is a confidential application of a running server.
type oidcClient struct{ issuer, id, secret string }

// signIn signs username in on a new browser and returns it.
func (o *oidcClient) signIn(t *testing.T, username, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.PostForm(o.issuer+"/login", url.Values{"username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("browser sign-in answered %d", resp.StatusCode)
	}
	return browser
}

// codeFlow runs an authorization code flow with PKCE in the signed-in browser and returns the
// token response.
func (o *oidcClient) codeFlow(t *testing.T, browser *http.Client) map[string]any {
	t.Helper()
	verifier := fmt.Sprintf("verifier-%d-0123456789abcdefghijklmnopqrstuvwxyz", time.Now().UnixNano())
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {o.id}, "redirect_uri": {copyRedirect}, "response_type": {"code"},
		"scope": {"openid profile email hmis"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	next := o.issuer + "/oidc/authorize?" + q.Encode()
	code := ""
	for range 5 {
		resp, err := browser.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("%s answered %d without a redirect", next, resp.StatusCode)
		}
		if strings.HasPrefix(loc.String(), copyRedirect) {
			code = loc.Query().Get("code")
			break
		}
		next = loc.String()
	}
	if code == "" {
		t.Fatal("no authorization code")
	}
	return o.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {copyRedirect},
		"code_verifier": {verifier}})
}

// token asks the token endpoint for a grant, failing the test unless it is given.
func (o *oidcClient) token(t *testing.T, form url.Values) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", o.issuer+"/oidc/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(o.id), url.QueryEscape(o.secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token %s: %d %v", form.Get("grant_type"), resp.StatusCode, m)
	}
	return m
}
