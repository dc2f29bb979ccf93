package mail_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/mail"
)

func smtpMailer(t testing.TB, o mail.SMTPOptions, dkimOpts ...mail.DKIMOptions) hmisauth.Mailer {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	opts := mail.Options{Transport: "smtp", From: from, SMTP: o}
	if len(dkimOpts) > 0 {
		opts.DKIM = dkimOpts[0]
	}
	mailer, err := mail.NewMailer(opts)
	if err != nil {
		t.Fatal(err)
	}
	return mailer
}

// receivedOne checks the server got exactly m, once, from our sender to m's recipient.
func receivedOne(t testing.TB, srv *mailServer, m *hmisauth.Message) received {
	t.Helper()
	got := srv.Received()
	if len(got) != 1 {
		t.Fatalf("the server received %d messages, want 1", len(got))
	}
	r := got[0]
	if r.From != "donotreply@hmis.example.org" || len(r.To) != 1 || r.To[0] != m.To {
		t.Errorf("envelope from %q to %q", r.From, r.To)
	}
	checkDelivered(t, r.Data, m)
	return r
}

func TestSMTPWithoutTLS(t *testing.T) {
	srv := startMailServer(t, "127.0.0.1:0", nil)
	m := testMessage(t)
	err := smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, TLS: "none"}).Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if r := receivedOne(t, srv, m); r.TLS {
		t.Error("tls none, yet the session was encrypted")
	}
}

func TestSMTPWithSTARTTLSAndAuthPlain(t *testing.T) {
	cert, pool := selfSignedCert(t)
	srv := startMailServer(t, "127.0.0.1:0", nil, withSTARTTLS(cert), withAuth("hmis", "s3cret pass"))
	m := testMessage(t)
	o := mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, TLS: "starttls", Username: "hmis", Password: "s3cret pass", RootCAs: pool}
	if err := smtpMailer(t, o).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if r := receivedOne(t, srv, m); !r.TLS || r.User != "hmis" {
		t.Errorf("session TLS=%v user=%q, want encrypted and signed in as hmis", r.TLS, r.User)
	}

	o.Password = "wrong"
	err := smtpMailer(t, o).Send(context.Background(), m)
	if err == nil || mail.IsPermanent(err) {
		t.Errorf("wrong password: %v, want an error to retry (the operator can fix it)", err)
	}
}

func TestSMTPWithImplicitTLS(t *testing.T) {
	cert, pool := selfSignedCert(t)
	srv := startMailServer(t, "127.0.0.1:0", &cert)
	m := testMessage(t)
	o := mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, TLS: "tls", RootCAs: pool}
	if err := smtpMailer(t, o).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if r := receivedOne(t, srv, m); !r.TLS {
		t.Error("the session was not encrypted")
	}
}

func TestSTARTTLSIsMandatory(t *testing.T) {
	cert, _ := selfSignedCert(t)
	plain := startMailServer(t, "127.0.0.1:0", nil)
	untrusted := startMailServer(t, "127.0.0.1:0", nil, withSTARTTLS(cert))
	for name, port := range map[string]int{"no STARTTLS": plain.Port, "untrusted certificate": untrusted.Port} {
		err := smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: port, TLS: "starttls"}).Send(context.Background(), testMessage(t))
		if err == nil {
			t.Errorf("%s: sent", name)
		}
	}
	if n := len(plain.Received()) + len(untrusted.Received()); n != 0 {
		t.Errorf("%d messages went out unprotected", n)
	}
}

func TestRefusedRecipientIsPermanent(t *testing.T) {
	srv := startMailServer(t, "127.0.0.1:0", nil, rejectingRecipients())
	err := smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, TLS: "none"}).Send(context.Background(), testMessage(t))
	if !mail.IsPermanent(err) {
		t.Errorf("550 to RCPT: %v, want a permanent error", err)
	}
}

func TestSMTPMessageIsDKIMSigned(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	file, record := dkimKey(t, key)
	cert, pool := selfSignedCert(t)
	srv := startMailServer(t, "127.0.0.1:0", nil, withSTARTTLS(cert))
	m := testMessage(t)
	mailer := smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, RootCAs: pool},
		mail.DKIMOptions{Domain: "hmis.example.org", Selector: "mail", PrivateKeyFile: file})
	if err := mailer.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	raw := receivedOne(t, srv, m).Data
	if err := verifyDKIM(raw, record); err != nil {
		t.Fatalf("the signature does not verify: %v\n%s", err, raw)
	}

	// One byte of the body changed in transit: the signature must no longer hold.
	body := bytes.Index(raw, []byte("\r\n\r\n")) + 4
	i := body + bytes.Index(raw[body:], []byte("expires in"))
	tampered := bytes.Clone(raw)
	tampered[i] = 'E'
	if err := verifyDKIM(tampered, record); err == nil {
		t.Error("a changed body still verifies")
	}
	// So must a changed signed header.
	tampered = bytes.Replace(raw, []byte("Subject: "), []byte("Subject: Re: "), 1)
	if err := verifyDKIM(tampered, record); err == nil {
		t.Error("a changed subject still verifies")
	}
}
