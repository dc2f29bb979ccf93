package main

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/mail"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

// A reset link the outbox gives up on is recorded in the audit log, through the OnAbandon
// hook serve gives the worker, so the helpdesk can see that it never reached the person; the
// entry says what and why, never the link.
func TestAbandonedResetLinkIsAudited(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "hmisauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	a := &app{store: st, log: slog.New(slog.DiscardHandler)}

	// The mail server's port, with nothing listening on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	mailer, err := mail.NewMailer(mail.Options{Transport: "smtp", From: "HMIS Helpdesk <donotreply@hmis.example.org>",
		SMTP: mail.SMTPOptions{Host: "127.0.0.1", Port: port, TLS: "none", Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	const token = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"
	clock := &stepClock{now: time.Now()}
	m := &hmisauth.Message{Site: "live", Kind: hmisauth.MailReset, To: "jane.doe@agency.example",
		Subject: "Reset your HMIS Live password", MessageID: "<abandoned-reset@hmis.example.org>",
		Text:      "Reset it here: https://hmis.example.org/live/reset-password?token=" + token,
		CreatedAt: clock.now.Add(-14 * time.Minute), DiscardAfter: clock.now.Add(time.Minute)}
	if err := st.EnqueueMail(ctx, m); err != nil {
		t.Fatal(err)
	}
	w := mail.NewWorker(st, mailer, clock, nil, mail.WorkerOptions{OnAbandon: a.auditAbandoned})
	abandonments := func() []*hmisauth.Event {
		t.Helper()
		evs, err := st.Events(ctx, hmisauth.EventQuery{Site: "live", Action: hmisauth.EventMailAbandoned})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}

	// The server is down: a failed attempt, to be retried, and nothing to audit yet.
	if sent, err := w.RunOnce(ctx); sent != 0 || err != nil {
		t.Fatalf("sent %d, %v with the server down", sent, err)
	}
	if evs := abandonments(); len(evs) != 0 {
		t.Fatalf("audited %d abandonments before the link expired", len(evs))
	}
	// The retry comes due after the link expired: the worker gives up on it.
	clock.now = clock.now.Add(2 * time.Minute)
	if sent, err := w.RunOnce(ctx); sent != 0 || err != nil {
		t.Fatalf("sent %d, %v after the link expired", sent, err)
	}

	evs := abandonments()
	if len(evs) != 1 {
		t.Fatalf("%d abandonments audited, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Actor != "system" || ev.Subject != m.To || !strings.Contains(ev.Detail, "reset e-mail not delivered") ||
		!strings.Contains(ev.Detail, "expired") {
		t.Errorf("audit entry: actor %q, subject %q, detail %q", ev.Actor, ev.Subject, ev.Detail)
	}
	if strings.Contains(ev.Detail, token) {
		t.Errorf("the audit entry holds the reset link: %q", ev.Detail)
	}
	// Nothing more: an abandoned link is not tried again, nor audited twice.
	clock.now = clock.now.Add(time.Hour)
	if sent, err := w.RunOnce(ctx); sent != 0 || err != nil || len(abandonments()) != 1 {
		t.Errorf("an hour later: sent %d, %v, %d abandonments audited", sent, err, len(abandonments()))
	}
}

// stepClock is a clock the test moves by hand (the worker runs in the test's goroutine).
type stepClock struct{ now time.Time }

func (c *stepClock) Now() time.Time { return c.now }
