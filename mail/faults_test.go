package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/mail"
)

// fault is one way the mail server misbehaves.
type fault string

const (
	hangUp    fault = "hang up before the greeting"
	greet421  fault = "421 at the greeting"
	mail421   fault = "421 to MAIL FROM"
	rcpt451   fault = "451 to RCPT TO"
	data451   fault = "451 after the message"
	dropData  fault = "connection dropped mid-message"
	lostReply fault = "message stored, connection closed before the 250"
)

// faultyServer is the real SMTP server of helpers_test.go (go-smtp) scripted to fail: what a
// connection meets depends on the phase the test has set.
type faultyServer struct {
	*mailServer
	clock *fakeClock

	mu    sync.Mutex
	phase string // "greeting", "message", "slow" or "" (working)
	conns int    // connections accepted (the greeting phase cycles through its faults by it)
	// plan is the fault each recipient meets in the message phase, once.
	plan     map[string]fault
	busy     map[string]bool      // recipients answered 450 (mailbox busy) at RCPT in every phase
	busyAt   []time.Time          // when (on the test clock) a busy recipient was tried
	injected map[fault]int        // faults met, by kind
	lost     map[string]int       // Message-ID → copies stored whose 250 never went out
	delay    time.Duration        // each of the slow phase's two delays
	sessions map[*smtp.Conn]fault // the fault a session meets at DATA, chosen at RCPT
}

func startFaultyServer(t testing.TB, addr string, clock *fakeClock) *faultyServer {
	t.Helper()
	f := &faultyServer{clock: clock, plan: map[string]fault{}, busy: map[string]bool{},
		injected: map[fault]int{}, lost: map[string]int{}, sessions: map[*smtp.Conn]fault{}}
	f.mailServer = startMailServer(t, addr, nil, func(m *mailServer, _ *smtp.Server) {
		m.listen = func(l net.Listener) net.Listener { return faultListener{l, f} }
		m.fault = f.fault
	})
	return f
}

func (f *faultyServer) setPhase(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.phase = p
}

func (f *faultyServer) setBusy(to string, busy bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.busy[to] = busy
}

func (f *faultyServer) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

func (f *faultyServer) met(k fault) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected[k]
}

// lostReplies is how many copies of each message were stored without the server's 250.
func (f *faultyServer) lostReplies() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.lost {
		out[k] = v
	}
	return out
}

func (f *faultyServer) count(k fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.injected[k]++
}

// faultListener fails connections before go-smtp greets them, as a server too busy to take
// mail does.
type faultListener struct {
	net.Listener
	f *faultyServer
}

func (l faultListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.f.mu.Lock()
		n, phase := l.f.conns, l.f.phase
		l.f.conns++
		l.f.mu.Unlock()
		switch {
		case phase == "greeting":
			k := []fault{greet421, hangUp, mail421}[n%3]
			if k == mail421 {
				return taggedConn{c, k}, nil // go-smtp greets; the session refuses MAIL
			}
			if k == greet421 {
				c.Write([]byte("421 4.3.2 mx.agency.example Service not available, closing transmission channel\r\n"))
			}
			c.Close()
			l.f.count(k)
			continue
		case phase == "slow":
			return &slowConn{Conn: c, delay: l.f.delay}, nil
		}
		return c, nil
	}
}

// taggedConn carries the fault its session is to meet after the greeting.
type taggedConn struct {
	net.Conn
	fault fault
}

// slowConn holds back the greeting (its first write).
type slowConn struct {
	net.Conn
	delay   time.Duration
	greeted bool
}

func (c *slowConn) Write(p []byte) (int, error) {
	if !c.greeted {
		c.greeted = true
		time.Sleep(c.delay)
	}
	return c.Conn.Write(p)
}

// fault is the session hook of helpers_test.go: it fails the step the script says.
func (f *faultyServer) fault(s *session, step, arg string, data io.Reader) (bool, error) {
	f.mu.Lock()
	phase, delay := f.phase, f.delay
	k := f.sessions[s.conn]
	switch {
	case step == "rcpt" && f.busy[arg]:
		f.busyAt = append(f.busyAt, f.clock.Now())
		f.mu.Unlock()
		return false, &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "Mailbox busy, try again later"}
	case step == "rcpt" && phase == "message":
		k = f.plan[arg]
		delete(f.plan, arg)
		f.sessions[s.conn] = k
	}
	f.mu.Unlock()
	if tc, ok := s.conn.Conn().(taggedConn); ok && step == "mail" {
		k = tc.fault
	}

	switch {
	case step == "mail" && phase == "slow":
		time.Sleep(delay)
	case step == "mail" && k == mail421:
		f.count(k)
		return false, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Service shutting down, try again later"}
	case step == "rcpt" && k == rcpt451:
		f.count(k)
		return false, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Local error in processing, try again later"}
	case step == "data" && k == data451:
		// go-smtp reads the rest of the message, then sends this reply.
		f.count(k)
		return false, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary storage failure"}
	case step == "data" && k == dropData:
		f.count(k)
		io.ReadFull(data, make([]byte, 300)) // the headers' start, not the whole message
		s.conn.Conn().Close()
		return true, errors.New("connection dropped")
	case step == "data" && k == lostReply:
		f.count(k)
		b, err := io.ReadAll(data)
		if err != nil {
			return true, err
		}
		s.keep(b) // delivered, as far as the recipient can tell
		msg, err := netmail.ReadMessage(bytes.NewReader(b))
		if err == nil {
			f.mu.Lock()
			f.lost[msg.Header.Get("Message-ID")]++
			f.mu.Unlock()
		}
		s.conn.Conn().Close() // before go-smtp can answer 250
		return true, nil
	}
	return false, nil
}

// The outbox, delivering through the smtp transport to a real mail server that is first down,
// then fails at the greeting, then fails each message in its own way, and then recovers:
// every reset link and notice arrives, duplicates only where the server's reply was lost and
// then as the same message, and a reset link whose mailbox stays busy is abandoned when it
// expires and never sent late.
func TestOutboxDeliversThroughAMisbehavingMailServer(t *testing.T) {
	store, clock := openStore(t, ""), newClock()
	metrics := &mailMetrics{}
	var abandoned []string
	addr, port := freeAddr(t)
	w := mail.NewWorker(store, smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: port, TLS: "none"}), clock, nil,
		mail.WorkerOptions{Metrics: metrics, OnAbandon: func(_ context.Context, m *hmisauth.Message, reason string) {
			abandoned = append(abandoned, m.MessageID+" "+reason)
		}})

	// Reset links and notices alternate, as the rules queue them; each message-phase fault
	// below meets at least one of each.
	ls := letters(liveSite(t))
	notices := []string{hmisauth.MailPasswordChanged, hmisauth.MailEmailChanged, hmisauth.MailResetLocked,
		hmisauth.MailPasswordExpiring, hmisauth.MailLicenseExpiring, mfaLetter(hmisauth.MFAChangeAppOn),
		hmisauth.MailAgreementExpiring, mfaLetter(hmisauth.MFAChangePasskeyAdded)}
	messageFaults := []fault{rcpt451, data451, dropData, lostReply}
	plan := map[string]fault{}
	var queued []*hmisauth.Message
	links := map[string]string{} // Message-ID → reset link
	for i, kind := range notices {
		reset := ls[hmisauth.MailReset]
		reset.To, reset.Link = fmt.Sprintf("reset%d@agency.example", i), newResetLink(t)
		m := queue(t, store, reset)
		links[m.MessageID] = reset.Link
		notice := ls[kind]
		notice.To = fmt.Sprintf("notice%d@agency.example", i)
		queued = append(queued, m, queue(t, store, notice))
		plan[reset.To], plan[notice.To] = messageFaults[i%4], messageFaults[i%4]
	}
	busy := ls[hmisauth.MailReset]
	busy.To, busy.Link = "busy.mailbox@agency.example", newResetLink(t)
	stuck := queue(t, store, busy)
	all := len(queued) + 1

	// round runs the worker once at the current time, expecting sent deliveries and the
	// rest rescheduled; then it checks the backoff (no message comes back before it, none
	// waits longer than the documented doubling) and moves the clock to when all are due.
	round := func(name string, wantSent int) {
		t.Helper()
		sent := runOnce(t, w)
		if sent != wantSent {
			t.Fatalf("%s: sent %d, want %d", name, sent, wantSent)
		}
		if len(abandoned) != 0 {
			t.Fatalf("%s: gave up on %q: a temporary failure taken for a permanent one", name, abandoned)
		}
		left := pending(t, store)
		var latest time.Time
		for _, m := range left {
			limit := 30 * time.Second << (m.Attempts - 1)
			wait := m.NextAttemptAt.Sub(clock.Now())
			if wait <= 0 || wait > limit || (m.DiscardAfter.IsZero() && wait < limit*3/4) {
				t.Errorf("%s: %s after %d attempts is due again in %v, want %v less at most a quarter", name, m.Kind, m.Attempts, wait, limit)
			}
			if m.LastError == "" || m.Text == "" {
				t.Errorf("%s: %s failed without a recorded error (%q) or lost its body", name, m.Kind, m.LastError)
			}
			if m.NextAttemptAt.After(latest) {
				latest = m.NextAttemptAt
			}
		}
		if runOnce(t, w) != 0 {
			t.Fatalf("%s: a message was sent again before its backoff passed", name)
		}
		for _, m := range left {
			if row := outboxRow(t, store, m.ID); row.Attempts != m.Attempts {
				t.Fatalf("%s: %s tried again before its backoff passed", name, m.Kind)
			}
		}
		if !latest.IsZero() {
			clock.Advance(latest.Sub(clock.Now()))
		}
	}

	// Phase 1: nothing listens on the mail server's port, for two rounds.
	round("refused", 0)
	round("refused again", 0)
	for _, m := range pending(t, store) {
		if m.Attempts != 2 || !strings.Contains(m.LastError, "connect") {
			t.Errorf("while the server was down: %d attempts, error %q", m.Attempts, m.LastError)
		}
	}
	if st, err := store.Stats(context.Background()); err != nil || st.MailQueued != all || !st.OldestQueued.Equal(requestAt) {
		t.Errorf("during the outage: %d queued since %v (%v), want %d since %v", st.MailQueued, st.OldestQueued, err, all, requestAt)
	}
	if got := metrics.counts(); got["retried"] != 2*all || got["sent"] != 0 || got["abandoned"] != 0 {
		t.Errorf("metrics after the outage: %v, want %d retried", got, 2*all)
	}

	// Phase 2: the server is back on the same port but turns connections away at the greeting
	// (421, or hanging up) or refuses MAIL FROM with 421.
	srv := startFaultyServer(t, addr, clock)
	srv.setBusy(busy.To, true)
	srv.setPhase("greeting")
	round("greeting", 0)
	conns := srv.connections()

	// Phase 3: each message meets its own fault: 451 to RCPT, 451 after DATA, the connection
	// dropped mid-message, or the message stored and the connection closed before the 250.
	srv.mu.Lock()
	srv.plan = plan
	srv.mu.Unlock()
	srv.setPhase("message")
	round("message", 0)
	if got := srv.connections() - conns; got != all {
		t.Errorf("the message phase saw %d connections, want %d: one per message", got, all)
	}
	for _, k := range []fault{greet421, hangUp, mail421, rcpt451, data451, dropData, lostReply} {
		if srv.met(k) == 0 {
			t.Errorf("no message met %q", k)
		}
	}
	if n := len(srv.lostReplies()); n != 4 {
		t.Errorf("%d messages had their reply lost, want 4 (two reset links, two notices)", n)
	}

	// Phase 4: the server works again, except for the busy mailbox.
	srv.setPhase("")
	round("recovered", len(queued))
	// Four failed rounds for every message, and the busy mailbox's fifth.
	if got := metrics.counts(); got["sent"] != len(queued) || got["retried"] != 4*all+1 {
		t.Errorf("metrics after recovery: %v, want %d sent and %d retried", got, len(queued), 4*all+1)
	}

	// The busy mailbox's reset link is tried until it expires, then abandoned.
	for range 20 {
		row := outboxRow(t, store, stuck.ID)
		if !row.AbandonedAt.IsZero() {
			break
		}
		clock.Advance(row.NextAttemptAt.Sub(clock.Now()))
		runOnce(t, w)
	}
	row := outboxRow(t, store, stuck.ID)
	if row.AbandonedAt.IsZero() || row.Text != "" || row.HTML != "" || !strings.Contains(row.LastError, "expired") {
		t.Fatalf("the undeliverable reset link: abandoned %v, body kept %v, reason %q", row.AbandonedAt, row.Text != "", row.LastError)
	}
	if len(abandoned) != 1 || !strings.HasPrefix(abandoned[0], stuck.MessageID+" ") || !strings.Contains(abandoned[0], "expired") {
		t.Errorf("OnAbandon heard of %q, want the busy mailbox's link, expired", abandoned)
	}
	srv.mu.Lock()
	tries := append([]time.Time(nil), srv.busyAt...)
	srv.mu.Unlock()
	if len(tries) == 0 {
		t.Fatal("the busy mailbox was never tried")
	}
	for _, at := range tries {
		if !at.Before(stuck.DiscardAfter) {
			t.Errorf("tried at %v, at or after the link expired at %v", at, stuck.DiscardAfter)
		}
	}
	if last := tries[len(tries)-1]; stuck.DiscardAfter.Sub(last) > time.Minute {
		t.Errorf("last tried %v before the link expired, want within its last minute", stuck.DiscardAfter.Sub(last))
	}

	// The mailbox frees up: the dead link still never goes.
	srv.setBusy(busy.To, false)
	clock.Advance(2 * time.Hour)
	if runOnce(t, w) != 0 {
		t.Error("a message went out after everything was delivered or abandoned")
	}

	// Every message arrived, each copy the stored message itself: the same Message-ID, text,
	// HTML and so the same link; a second copy only where the server's reply was lost.
	lost := srv.lostReplies()
	copies := map[string][]received{}
	for _, r := range srv.Received() {
		id := parseEML(t, r.Data).Header.Get("Message-ID")
		copies[id] = append(copies[id], r)
	}
	if got := copies[stuck.MessageID]; len(got) != 0 {
		t.Errorf("the expired reset link was delivered %d times", len(got))
	}
	for _, m := range queued {
		got := copies[m.MessageID]
		if want := 1 + lost[m.MessageID]; len(got) != want {
			t.Errorf("%s to %s arrived %d times, want %d (%d lost replies)", m.Kind, m.To, len(got), want, lost[m.MessageID])
		}
		for _, r := range got {
			if len(r.To) != 1 || r.To[0] != m.To {
				t.Errorf("%s went to %v, want %s", m.MessageID, r.To, m.To)
			}
			p := checkDelivered(t, r.Data, m)
			if link := links[m.MessageID]; link != "" && !strings.Contains(p.Text, link) {
				t.Errorf("a copy of reset %s lacks its link %s", m.MessageID, link)
			}
		}
		row := outboxRow(t, store, m.ID)
		if row.SentAt.IsZero() || row.Text != "" || row.MessageID != m.MessageID {
			t.Errorf("%s: sent %v, body kept %v, Message-ID now %q", m.Kind, row.SentAt, row.Text != "", row.MessageID)
		}
	}
	for id := range copies {
		if lost[id] == 0 && len(copies[id]) > 1 {
			t.Errorf("%s arrived %d times though no reply to it was lost", id, len(copies[id]))
		}
	}

	// Every attempt (every claim) is counted once, by its outcome.
	attempts := 0
	for _, m := range append(queued, stuck) {
		attempts += outboxRow(t, store, m.ID).Attempts
	}
	got := metrics.counts()
	if got["sent"] != len(queued) || got["abandoned"] != 1 || got["sent"]+got["retried"]+got["abandoned"] != attempts {
		t.Errorf("metrics %v for %d attempts, want %d sent, 1 abandoned and every attempt counted", got, attempts, len(queued))
	}
	if st, err := store.Stats(context.Background()); err != nil || st.MailQueued != 0 {
		t.Errorf("%d still queued (%v)", st.MailQueued, err)
	}
}

// A mail server that answers slowly must not keep a delivery going past the outbox lease: at
// the lease's end another worker may claim the message and send it again. go-mail renews the
// connection's deadline after connecting and again after the greeting, so the transport's
// time-out has to bound the whole conversation itself.
func TestASlowMailServerCannotHoldADeliveryPastTheLease(t *testing.T) {
	store, clock := openStore(t, ""), newClock()
	srv := startFaultyServer(t, "127.0.0.1:0", clock)
	const lease = 3 * time.Second
	srv.delay = 1800 * time.Millisecond // twice: 3.6s in all, past the lease
	srv.setPhase("slow")
	metrics := &mailMetrics{}
	w := mail.NewWorker(store, smtpMailer(t, mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, TLS: "none", Timeout: time.Minute}),
		clock, nil, mail.WorkerOptions{Lease: lease, Metrics: metrics})
	m := queue(t, store, letters(liveSite(t))[hmisauth.MailPasswordChanged])

	start := time.Now()
	sent := runOnce(t, w)
	if took := time.Since(start); sent != 0 || took >= lease {
		t.Fatalf("sent %d after %v: the delivery outlasted its %v lease", sent, took, lease)
	}
	row := outboxRow(t, store, m.ID)
	if !row.SentAt.IsZero() || !row.AbandonedAt.IsZero() || !strings.Contains(row.LastError, "timeout") {
		t.Errorf("sent %v, abandoned %v, error %q: want a time-out, to be tried again", row.SentAt, row.AbandonedAt, row.LastError)
	}
	if got := metrics.counts(); got["retried"] != 1 {
		t.Errorf("metrics %v, want one retry", got)
	}

	srv.setPhase("")
	clock.Advance(time.Minute)
	if runOnce(t, w) != 1 {
		t.Fatal("not delivered once the server answered in time")
	}
	receivedOne(t, srv.mailServer, m)
}

// The transport dials the connection itself (to bound its deadlines); implicit TLS must still
// be TLS from the first byte, so AUTH PLAIN is allowed and the password is never sent in clear.
func TestImplicitTLSWithAuthStillWorks(t *testing.T) {
	cert, pool := selfSignedCert(t)
	srv := startMailServer(t, "127.0.0.1:0", &cert, withAuth("hmis", "s3cret pass"))
	m := testMessage(t)
	o := mail.SMTPOptions{Host: "127.0.0.1", Port: srv.Port, TLS: "tls", RootCAs: pool, Username: "hmis", Password: "s3cret pass"}
	if err := smtpMailer(t, o).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if r := receivedOne(t, srv, m); !r.TLS || r.User != "hmis" {
		t.Errorf("TLS %v, authenticated as %q", r.TLS, r.User)
	}
}
