package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

// fakeClock is a Clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: requestAt} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openStore opens a migrated SQLite database in the test's directory; a second call with the
// same path is a second process's view of the same database.
func openStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "hmisauth.db")
	}
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// received is one message as the SMTP server got it.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	User string // who authenticated, if anyone
}

// mailServer is a real SMTP server (go-smtp) on loopback that keeps what it receives.
type mailServer struct {
	Addr string
	Port int

	user, pass string // when set, AUTH PLAIN is offered and required
	rejectRcpt bool
	// listen, when set, wraps the listener (faults_test.go fails connections before go-smtp
	// sees them); fault, when set, may fail a step of a session (see faultFunc).
	listen func(net.Listener) net.Listener
	fault  faultFunc

	srv  *smtp.Server
	mu   sync.Mutex
	msgs []received
}

type serverOption func(*mailServer, *smtp.Server)

// faultFunc is asked at each step of a session ("mail", "rcpt" with the recipient, "data")
// whether to fail it: a non-nil error is the server's reply. At "data" it may instead take
// the message over (handled true) and read, keep or drop it itself, as a server that fails
// mid-message does.
type faultFunc func(s *session, step, arg string, data io.Reader) (handled bool, err error)

// withSTARTTLS offers STARTTLS with cert.
func withSTARTTLS(cert tls.Certificate) serverOption {
	return func(_ *mailServer, s *smtp.Server) {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
}

func withAuth(user, pass string) serverOption {
	return func(m *mailServer, _ *smtp.Server) { m.user, m.pass = user, pass }
}

func rejectingRecipients() serverOption {
	return func(m *mailServer, _ *smtp.Server) { m.rejectRcpt = true }
}

// startMailServer serves SMTP on addr ("127.0.0.1:0" for any free port) until the test ends;
// implicitTLS, when set, is the certificate of a server that speaks TLS from the first byte.
func startMailServer(t testing.TB, addr string, implicitTLS *tls.Certificate, opts ...serverOption) *mailServer {
	t.Helper()
	m := &mailServer{}
	m.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{server: m, conn: c, tls: isTLS}, nil
	}))
	m.srv.Domain = "localhost"
	m.srv.ReadTimeout, m.srv.WriteTimeout = 10*time.Second, 10*time.Second
	m.srv.ErrorLog = log.New(io.Discard, "", 0)
	for _, o := range opts {
		o(m, m.srv)
	}
	var l net.Listener
	var err error
	if implicitTLS != nil {
		l, err = tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{*implicitTLS}})
	} else {
		l, err = net.Listen("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	m.Addr = l.Addr().String()
	_, port, _ := net.SplitHostPort(m.Addr)
	m.Port, _ = strconv.Atoi(port)
	if m.listen != nil {
		l = m.listen(l)
	}
	go m.srv.Serve(l)
	t.Cleanup(func() { m.srv.Close() })
	return m
}

// Received returns a copy of what arrived so far.
func (m *mailServer) Received() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.msgs...)
}

type session struct {
	server *mailServer
	conn   *smtp.Conn
	tls    bool
	user   string
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string {
	if s.server.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.server.user || pass != s.server.pass {
			return errors.New("wrong username or password")
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.server.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	if _, err := s.faultAt("mail", from, nil); err != nil {
		return err
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.server.rejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox"}
	}
	if _, err := s.faultAt("rcpt", to, nil); err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	if handled, err := s.faultAt("data", "", r); handled || err != nil {
		return err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.keep(b)
	return nil
}

func (s *session) faultAt(step, arg string, data io.Reader) (bool, error) {
	if s.server.fault == nil {
		return false, nil
	}
	return s.server.fault(s, step, arg, data)
}

// keep records data as a message the server received in this session.
func (s *session) keep(data []byte) {
	_, isTLS := s.conn.TLSConnectionState()
	s.server.mu.Lock()
	defer s.server.mu.Unlock()
	s.server.msgs = append(s.server.msgs, received{From: s.from, To: s.to, Data: data, TLS: isTLS || s.tls, User: s.user})
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// selfSignedCert makes a certificate for 127.0.0.1 and localhost and the pool that trusts it.
func selfSignedCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "hmisauth test mail server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// testMessage is a composed reset e-mail, ready for a transport.
func testMessage(t testing.TB) *hmisauth.Message {
	t.Helper()
	m := compose(t, letters(liveSite(t))[hmisauth.MailReset])
	m.ID = 1
	return m
}

// mailMetrics counts Metrics.Mail by outcome.
type mailMetrics struct {
	hmisauth.NoMetrics
	mu sync.Mutex
	n  map[string]int
}

func (m *mailMetrics) Mail(outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == nil {
		m.n = map[string]int{}
	}
	m.n[outcome]++
}

func (m *mailMetrics) counts() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for k, v := range m.n {
		out[k] = v
	}
	return out
}

// newResetLink is a reset link with a fresh token, as auth/ makes them.
func newResetLink(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "https://hmis.example.org/live/reset-password?token=" + base64.RawURLEncoding.EncodeToString(b)
}

// pending is the outbox's messages neither sent nor abandoned.
func pending(t testing.TB, store hmisauth.Store) []*hmisauth.Message {
	t.Helper()
	all, err := store.RecentMail(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*hmisauth.Message
	for _, m := range all {
		if m.SentAt.IsZero() && m.AbandonedAt.IsZero() {
			out = append(out, m)
		}
	}
	return out
}
