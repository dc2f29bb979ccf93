package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/postgres"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

// smtpSink is a real SMTP server (go-smtp) on loopback that keeps every message delivered to
// it, so a test can count deliveries per Message-ID. It outlives the hmisauth processes.
type smtpSink struct {
	port int
	srv  *smtp.Server
	mu   sync.Mutex
	msgs []*delivered
}

// delivered is one message as the sink received it.
type delivered struct {
	To        string
	MessageID string
	Subject   string
	Text      string // the text/plain part, decoded
}

func startSMTPSink(t testing.TB) *smtpSink {
	t.Helper()
	s := &smtpSink{}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{sink: s}, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// received is a copy of what arrived so far.
func (s *smtpSink) received() []*delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*delivered(nil), s.msgs...)
}

// byMessageID counts deliveries per Message-ID.
func (s *smtpSink) byMessageID() map[string]int {
	n := map[string]int{}
	for _, m := range s.received() {
		n[m.MessageID]++
	}
	return n
}

// resetToken waits (up to timeout) for a reset e-mail to address delivered after the first
// skip ones to it, and returns its token.
func (s *smtpSink) resetToken(t testing.TB, to string, skip int, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		seen := 0
		for _, m := range s.received() {
			if !strings.EqualFold(m.To, to) {
				continue
			}
			if tok := resetTokenIn(m.Text); tok != "" {
				if seen == skip {
					return tok
				}
				seen++
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no reset e-mail reached %s within %s", to, timeout)
	return ""
}

var resetLinkRE = regexp.MustCompile(`/reset-password\?token=([A-Za-z0-9_\-]+)`)

func resetTokenIn(text string) string {
	if m := resetLinkRE.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

type sinkSession struct {
	sink *smtpSink
	to   []string
}

func (s *sinkSession) AuthMechanisms() []string                  { return nil }
func (s *sinkSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *sinkSession) Reset()                                    { s.to = nil }
func (s *sinkSession) Logout() error                             { return nil }

func (s *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	d, err := parseDelivered(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: err.Error()}
	}
	if len(s.to) > 0 {
		d.To = s.to[0]
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	s.sink.msgs = append(s.sink.msgs, d)
	return nil
}

// parseDelivered reads the headers the tests count by and the decoded text part.
func parseDelivered(raw []byte) (*delivered, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(m.Header.Get("Subject"))
	d := &delivered{MessageID: strings.Trim(m.Header.Get("Message-ID"), "<> "), Subject: subject}
	d.Text, err = textPart(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	return d, err
}

// textPart finds the first text/plain part of a (possibly multipart) body and decodes it.
func textPart(contentType, encoding string, body io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return "", nil
				}
				return "", err
			}
			text, err := textPart(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part)
			if err != nil || text != "" {
				return text, err
			}
		}
	}
	if mt != "text/plain" {
		return "", nil
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	return string(b), err
}

// outbox reads the whole outbox of the database the processes share (newest first).
func outbox(t testing.TB, database string) []*hmisauth.Message {
	t.Helper()
	ctx := context.Background()
	var st hmisauth.Store
	if path, ok := strings.CutPrefix(database, "sqlite:"); ok {
		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		st = s
	} else {
		s, err := postgres.Open(ctx, database)
		if err != nil {
			t.Fatal(err)
		}
		st = s
	}
	defer st.Close()
	msgs, err := st.RecentMail(ctx, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// waitOutboxSent waits until every message in the outbox is sent (none waiting, none
// abandoned) and returns the outbox; the timeout covers a lease left by a killed process.
func waitOutboxSent(t testing.TB, database string, timeout time.Duration) []*hmisauth.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := outbox(t, database)
		var waiting []string
		for _, m := range msgs {
			if !m.AbandonedAt.IsZero() {
				t.Fatalf("message %d (%s to %s) was abandoned: %s", m.ID, m.Kind, m.To, m.LastError)
			}
			if m.SentAt.IsZero() {
				waiting = append(waiting, fmt.Sprintf("%d (%s to %s, %d attempts, %s)", m.ID, m.Kind, m.To, m.Attempts, m.LastError))
			}
		}
		if len(waiting) == 0 {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages still unsent after %s: %s", len(waiting), len(msgs), timeout, strings.Join(waiting, "; "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pendingResetRequests counts the "forgot password" requests still queued in the database
// (not yet handled: a claimed one stays until it is ended, or its lease runs out).
func pendingResetRequests(t testing.TB, database string) int {
	t.Helper()
	driver, dsn := "pgx", database
	if path, ok := strings.CutPrefix(database, "sqlite:"); ok {
		driver, dsn = "sqlite", path
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM reset_requests`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitResetRequestsTaken waits until no reset request is left queued.
func waitResetRequestsTaken(t testing.TB, database string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for n := pendingResetRequests(t, database); n > 0; n = pendingResetRequests(t, database) {
		if time.Now().After(deadline) {
			t.Fatalf("%d reset requests still queued after %s", n, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// auditIDs exports the audit log of the database (with the cli helper) and returns its ids,
// oldest first.
func auditIDs(c *cli) []int64 {
	c.t.Helper()
	var evs []struct {
		ID int64 `json:"id"`
	}
	out := c.run("audit", "export", "--format", "json")
	if err := json.Unmarshal([]byte(out), &evs); err != nil {
		c.t.Fatalf("audit export printed %.300q: %v", out, err)
	}
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// checkAudit runs `hmisauth audit verify` on the database and checks the ids run 1, 2, 3 …
// with no gap; it returns how many events there are.
func checkAudit(c *cli) int {
	c.t.Helper()
	if out, err := c.try("audit", "verify"); err != nil {
		c.t.Fatalf("audit verify: %v\n%s", oneLine(err), out)
	}
	ids := auditIDs(c)
	for i, id := range ids {
		if id != int64(i+1) {
			c.t.Fatalf("audit ids are not 1…%d without gaps: position %d holds id %d", len(ids), i+1, id)
		}
	}
	return len(ids)
}

// dbCLI is the cli helper pointed at a shared database (a postgres:// URL, or the SQLite
// database of a data folder when database is "").
func dbCLI(t *testing.T, data, database string) *cli {
	c := &cli{t: t, data: data, environ: clusterEnv(database, nil)}
	return c
}

// browser is a browser signed in to the live site's pages: its session cookie.
