package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"time"

	"github.com/hmisauth/hmisauth"
	gomail "github.com/wneessen/go-mail"
)

// smtpMailer hands each message to a mail server over SMTP. go-mail connects, negotiates
// TLS and authenticates; the already rendered (and signed) bytes then go out unchanged, so
// the DKIM signature covers exactly what the server receives.
type smtpMailer struct {
	r       *renderer
	o       SMTPOptions
	timeout time.Duration
	tls     *tls.Config
}

func newSMTPMailer(r *renderer, o SMTPOptions) (*smtpMailer, error) {
	if o.Host == "" {
		return nil, errors.New("mail: the smtp transport needs a host (mail.smtp.host)")
	}
	if o.TLS == "" {
		o.TLS = "starttls"
	}
	if o.Port == 0 {
		o.Port = map[string]int{"starttls": 587, "tls": 465, "none": 25}[o.TLS]
	}
	switch {
	case o.TLS != "starttls" && o.TLS != "tls" && o.TLS != "none":
		return nil, fmt.Errorf("mail: smtp tls must be starttls, tls or none, not %q", o.TLS)
	case o.Port < 1 || o.Port > 65535:
		return nil, fmt.Errorf("mail: smtp port %d is not a port", o.Port)
	case o.TLS == "none" && o.Username != "" && !isLoopback(o.Host):
		return nil, errors.New("mail: smtp username with tls none would send the password unencrypted; use starttls or tls")
	}
	m := &smtpMailer{r: r, o: o, timeout: o.Timeout}
	if m.timeout <= 0 {
		m.timeout = defaultSMTPTimeout
	}
	m.tls = &tls.Config{ServerName: o.Host, RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	return m, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Send delivers one message in one SMTP conversation. The whole conversation must finish
// within the timeout, or sooner if ctx has an earlier deadline (the outbox lease).
func (s *smtpMailer) Send(ctx context.Context, m *hmisauth.Message) error {
	raw, err := s.r.render(m)
	if err != nil {
		return err
	}
	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 {
		return fmt.Errorf("smtp: no time left to send: %w", context.DeadlineExceeded)
	}
	end := time.Now().Add(timeout)
	opts := []gomail.Option{
		gomail.WithPort(s.o.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(s.tls),
		gomail.WithDialContextFunc(s.dialer(end)),
	}
	switch s.o.TLS {
	case "starttls":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "tls":
		// The dialer speaks TLS from the first byte; go-mail, told so, offers no STARTTLS.
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.o.Username != "" {
		// PLAIN or LOGIN, whichever the server offers; go-mail sends them only over TLS
		// (or to this machine).
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.o.Username), gomail.WithPassword(s.o.Password))
	}
	client, err := gomail.NewClient(s.o.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("smtp: connect to %s: %w", client.ServerAddr(), err)
	}
	// The connection's deadline (end) bounds every step from here; a cancelled ctx does not
	// cut a conversation short, which could leave the server holding a message we would then
	// send again.
	defer conn.Close()

	to, _ := mail.ParseAddress(m.To) // render checked it
	if err := conn.Mail((&mail.Address{Address: s.r.from.Address}).String()); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := conn.Rcpt((&mail.Address{Address: to.Address}).String()); err != nil {
		err = fmt.Errorf("smtp: the server refused the recipient: %w", err)
		if replyCode(err)/100 == 5 {
			return permanent(err) // no such mailbox: trying again cannot help
		}
		return err
	}
	w, err := conn.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		w.Close()
		return fmt.Errorf("smtp: sending the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: the server did not accept the message: %w", err)
	}
	// The message is accepted; a failed goodbye does not make it unsent.
	_ = conn.Quit()
	return nil
}

// dialer connects for one delivery that must be over by end. go-mail gives the connection a
// fresh deadline of the whole time-out after connecting and again after the greeting, so a
// slow server could hold one delivery for up to three times the time-out, past the outbox
// lease, after which another worker may send the message again; the connection it gets here
// moves no deadline past end. For implicit TLS the handshake is done here, and go-mail gets a
// *tls.Conn, which it recognises as encrypted (so AUTH PLAIN is allowed over it).
func (s *smtpMailer) dialer(end time.Time) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithDeadline(ctx, end)
		defer cancel()
		var d net.Dialer
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn := net.Conn(deadlineConn{raw, end})
		if err := conn.SetDeadline(end); err != nil {
			raw.Close()
			return nil, err
		}
		if s.o.TLS != "tls" {
			return conn, nil
		}
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return tc, nil
	}
}

// deadlineConn is a connection whose deadlines never pass end (nor are lifted).
type deadlineConn struct {
	net.Conn
	end time.Time
}

func (c deadlineConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.clamp(t)) }
func (c deadlineConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.clamp(t)) }
func (c deadlineConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.clamp(t)) }

func (c deadlineConn) clamp(t time.Time) time.Time {
	if t.IsZero() || t.After(c.end) {
		return c.end
	}
	return t
}

// replyCode is the SMTP reply code in err, or 0.
func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}
