package mail_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/mail"
)

const from = "HMIS Helpdesk <donotreply@hmis.example.org>"

// parsed is an .eml as a mail program reads it.
type parsed struct {
	Header     netmail.Header
	Subject    string
	Text, HTML string
}

func parseEML(t testing.TB, raw []byte) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	p := parsed{Header: msg.Header}
	if p.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = part
		if part.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(part)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "\r\n", "\n")
		switch ct := part.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain") && strings.Contains(strings.ToLower(ct), "utf-8"):
			p.Text = text
		case strings.HasPrefix(ct, "text/html") && strings.Contains(strings.ToLower(ct), "utf-8"):
			p.HTML = text
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	return p
}

// checkDelivered checks that raw is m as a mail program would show it.
func checkDelivered(t testing.TB, raw []byte, m *hmisauth.Message) parsed {
	t.Helper()
	p := parseEML(t, raw)
	if got := p.Header.Get("Message-ID"); got != m.MessageID {
		t.Errorf("Message-ID %q, want the stored %q", got, m.MessageID)
	}
	date, err := p.Header.Date()
	if err != nil || !date.Equal(m.CreatedAt.Truncate(time.Second)) {
		t.Errorf("Date %q (%v), want %v", p.Header.Get("Date"), err, m.CreatedAt)
	}
	if p.Subject != m.Subject {
		t.Errorf("Subject %q, want %q", p.Subject, m.Subject)
	}
	if f, err := p.Header.AddressList("From"); err != nil || len(f) != 1 || f[0].Address != "donotreply@hmis.example.org" || f[0].Name != "HMIS Helpdesk" {
		t.Errorf("From %q (%v)", p.Header.Get("From"), err)
	}
	if to, err := p.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != m.To {
		t.Errorf("To %q (%v), want %s", p.Header.Get("To"), err, m.To)
	}
	if p.Text != m.Text {
		t.Errorf("text part differs:\n--- got ---\n%s\n--- want ---\n%s", p.Text, m.Text)
	}
	if p.HTML != m.HTML {
		t.Errorf("HTML part differs")
	}
	return p
}

func TestFileTransportWritesOneEMLPerMessage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail", "out") // not there yet
	mailer, err := mail.NewMailer(mail.Options{Transport: "file", Dir: dir, From: from})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(t)
	if err := mailer.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	// A retry of the same message (its delivery not recorded in time) replaces the file.
	if err := mailer.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "20261123T184705Z-") || !strings.HasSuffix(entries[0].Name(), ".eml") {
		t.Fatalf("files %v, want one 20261123T184705Z-….eml and no temporary file", entries)
	}
	info, _ := entries[0].Info()
	if info.Mode().Perm()&0o007 != 0 {
		t.Errorf("the file holds a reset link but is world-readable: %v", info.Mode())
	}
	raw, err := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	p := checkDelivered(t, raw, m)
	if !strings.Contains(p.Text, "\n"+resetLink+"\n") {
		t.Error("the delivered text does not have the link on its own line")
	}
	if got := p.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted %q", got)
	}
}

func TestDevTransportSendsNothingButChecksTheMessage(t *testing.T) {
	mailer, err := mail.NewMailer(mail.Options{Transport: "dev", From: from})
	if err != nil {
		t.Fatal(err)
	}
	if err := mailer.Send(context.Background(), testMessage(t)); err != nil {
		t.Fatal(err)
	}
	bad := testMessage(t)
	bad.To = "not an address"
	if err := mailer.Send(context.Background(), bad); !mail.IsPermanent(err) {
		t.Errorf("bad recipient: %v, want a permanent error", err)
	}
}

// dkimKey writes a private key as PEM and returns the DNS TXT record publishing it.
func dkimKey(t testing.TB, key crypto.Signer) (file, record string) {
	t.Helper()
	var block *pem.Block
	switch k := key.(type) {
	case *rsa.PrivateKey:
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
		pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		record = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)
	case ed25519.PrivateKey:
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
		record = "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey))
	}
	file = filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, record
}

// verifyDKIM checks raw's one signature against record published for mail._domainkey.
func verifyDKIM(raw []byte, record string) error {
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "mail._domainkey.hmis.example.org" {
				return nil, fmt.Errorf("no TXT record for %s", domain)
			}
			return []string{record}, nil
		},
	})
	switch {
	case err != nil:
		return err
	case len(verifs) != 1:
		return fmt.Errorf("%d signatures, want 1", len(verifs))
	case verifs[0].Err != nil:
		return verifs[0].Err
	case verifs[0].Domain != "hmis.example.org":
		return fmt.Errorf("signed for %q", verifs[0].Domain)
	}
	for _, h := range []string{"from", "to", "subject", "date", "message-id", "mime-version", "content-type"} {
		found := false
		for _, k := range verifs[0].HeaderKeys {
			found = found || strings.EqualFold(k, h)
		}
		if !found {
			return fmt.Errorf("%s is not signed (h=%v)", h, verifs[0].HeaderKeys)
		}
	}
	return nil
}

func TestFileTransportSignsWithEd25519(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	file, record := dkimKey(t, key)
	dir := t.TempDir()
	mailer, err := mail.NewMailer(mail.Options{Transport: "file", Dir: dir, From: from,
		DKIM: mail.DKIMOptions{Domain: "hmis.example.org", Selector: "mail", PrivateKeyFile: file}})
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage(t)
	if err := mailer.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(names) != 1 {
		t.Fatalf("files %v", names)
	}
	raw, _ := os.ReadFile(names[0])
	checkDelivered(t, raw, m)
	if err := verifyDKIM(raw, record); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
}

func TestMailerRefusesBadSettings(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, _ := dkimKey(t, rsaKey)
	notAKey := filepath.Join(t.TempDir(), "not-a-key.pem")
	os.WriteFile(notAKey, []byte("hello"), 0o600)

	for name, o := range map[string]mail.Options{
		"unknown transport":  {Transport: "pigeon", From: from},
		"bad sender":         {Transport: "dev", From: "helpdesk"},
		"file without dir":   {Transport: "file", From: from},
		"smtp without host":  {Transport: "smtp", From: from},
		"smtp bad tls":       {Transport: "smtp", From: from, SMTP: mail.SMTPOptions{Host: "mail.example.org", TLS: "ssl"}},
		"password in clear":  {Transport: "smtp", From: from, SMTP: mail.SMTPOptions{Host: "mail.example.org", TLS: "none", Username: "u", Password: "p"}},
		"half of DKIM":       {Transport: "dev", From: from, DKIM: mail.DKIMOptions{Domain: "hmis.example.org", PrivateKeyFile: keyFile}},
		"missing DKIM key":   {Transport: "dev", From: from, DKIM: mail.DKIMOptions{Domain: "d", Selector: "s", PrivateKeyFile: "/nonexistent.pem"}},
		"DKIM key not a key": {Transport: "dev", From: from, DKIM: mail.DKIMOptions{Domain: "d", Selector: "s", PrivateKeyFile: notAKey}},
	} {
		if _, err := mail.NewMailer(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := mail.NewMailer(mail.Options{Transport: "dev", From: from,
		DKIM: mail.DKIMOptions{Domain: "hmis.example.org", Selector: "mail", PrivateKeyFile: keyFile}}); err != nil {
		t.Errorf("a PKCS#1 RSA key: %v", err)
	}
}
