package mail

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/hmisauth/hmisauth"
	gomail "github.com/wneessen/go-mail"
)

// Options says how messages leave the server. The fields mean what config.Mail's do.
type Options struct {
	// Transport is dev (nothing leaves: the outbox itself is the /dev/mail inbox), file (one
	// .eml per message in Dir) or smtp.
	Transport string
	Dir       string
	// From is the sender, "HMIS Helpdesk <donotreply@example.org>".
	From string
	SMTP SMTPOptions
	DKIM DKIMOptions
}

// SMTPOptions is the mail server the smtp transport hands messages to.
type SMTPOptions struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string
	// TLS is starttls (mandatory: a server without it is refused), tls (implicit TLS) or none.
	TLS string
	// Timeout bounds one whole delivery, from connecting to the server's final answer
	// (0: 30 seconds).
	Timeout time.Duration
	// RootCAs are the authorities that may sign the server's certificate; nil trusts the
	// system's. Tests use it to trust their own server; a site could use it for a private CA.
	RootCAs *x509.CertPool
}

// DKIMOptions turns on DKIM signing when all three fields are set.
type DKIMOptions struct {
	Domain         string
	Selector       string
	PrivateKeyFile string // PEM, RSA (at least 1024 bits) or Ed25519, PKCS#1 or PKCS#8
}

const defaultSMTPTimeout = 30 * time.Second

// NewMailer builds the configured transport. Every transport renders the same bytes (see
// Render); dev renders them too, so a message that cannot be sent fails in development as it
// would in production.
func NewMailer(o Options) (hmisauth.Mailer, error) {
	r, err := newRenderer(o.From, o.DKIM)
	if err != nil {
		return nil, err
	}
	switch o.Transport {
	case "dev":
		return devMailer{r}, nil
	case "file":
		return newFileMailer(r, o.Dir)
	case "smtp":
		return newSMTPMailer(r, o.SMTP)
	}
	return nil, fmt.Errorf("mail: unknown transport %q (dev, file or smtp)", o.Transport)
}

// devMailer sends nothing: in development the outbox row, kept with its body, is the inbox
// that /dev/mail shows.
type devMailer struct{ r *renderer }

func (d devMailer) Send(_ context.Context, m *hmisauth.Message) error {
	_, err := d.r.render(m)
	return err
}

// renderer turns a Message into the RFC 5322 bytes every transport delivers.
type renderer struct {
	from *mail.Address
	dkim *dkim.SignOptions // nil: no signing
}

func newRenderer(from string, d DKIMOptions) (*renderer, error) {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: the sender %q is not an e-mail address: %w", from, err)
	}
	r := &renderer{from: addr}
	switch n := countSet(d.Domain, d.Selector, d.PrivateKeyFile); n {
	case 0:
		return r, nil
	case 3:
	default:
		return nil, errors.New("mail: DKIM needs all of domain, selector and private_key_file, or none")
	}
	pemBytes, err := os.ReadFile(d.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("mail: DKIM key: %w", err)
	}
	key, err := gomail.PrivKeyFromPEM(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("mail: DKIM key %s: %w", d.PrivateKeyFile, err)
	}
	if k, ok := key.(*rsa.PrivateKey); ok && k.N.BitLen() < 1024 {
		return nil, fmt.Errorf("mail: DKIM key %s has %d bits; receivers ignore RSA keys under 1024 (use 2048)", d.PrivateKeyFile, k.N.BitLen())
	}
	r.dkim = &dkim.SignOptions{
		Domain:                 d.Domain,
		Selector:               d.Selector,
		Signer:                 key,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys: []string{
			"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
			"Auto-Submitted",
		},
	}
	return r, nil
}

func countSet(ss ...string) int {
	n := 0
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			n++
		}
	}
	return n
}

// render builds m as one RFC 5322 message: From, To, Subject, Date (m.CreatedAt), the stored
// Message-ID (so a retry is recognisably the same message), multipart/alternative text and
// HTML in UTF-8, DKIM-signed when configured. An error here will not go away on retry.
func (r *renderer) render(m *hmisauth.Message) ([]byte, error) {
	if m.Text == "" {
		return nil, permanent(errors.New("the message has no text (its body was erased)"))
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, permanent(fmt.Errorf("recipient %q: %w", m.To, err))
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(r.from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetDateWithValue(m.CreatedAt)
	if id := strings.Trim(m.MessageID, "<>"); id != "" {
		msg.SetMessageIDWithValue(id)
	}
	// RFC 3834: an automatic message, so out-of-office replies are not sent back to it.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, permanent(fmt.Errorf("render: %w", err))
	}
	if r.dkim == nil {
		return buf.Bytes(), nil
	}
	var signed bytes.Buffer
	if err := dkim.Sign(&signed, &buf, r.dkim); err != nil {
		return nil, fmt.Errorf("mail: DKIM sign: %w", err)
	}
	return signed.Bytes(), nil
}

// permanentError is a delivery failure that no retry can fix for this message (a malformed
// or refused recipient): the worker abandons the message instead of retrying it for ever.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

// IsPermanent reports whether err says a message can never be delivered as it is.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
