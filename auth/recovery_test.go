package auth_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// forgot asks for a reset as a visitor would and lets the background handle it.
func (f *fixture) forgot(username string) {
	f.t.Helper()
	if err := f.svc.RequestReset(f.ctx, auth.ForgotRequest{Site: "live", Username: username, ClientAddr: "192.0.2.10"}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.svc.ProcessResetRequests(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// outbox is every e-mail queued since the fixture's users were set up, newest first.
func (f *fixture) outbox() []*hmisauth.Message {
	f.t.Helper()
	ms, err := f.store.RecentMail(f.ctx, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return ms[:len(ms)-f.setupMail]
}

var linkToken = regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(publicURL) + `/live/reset-password\?token=([A-Za-z0-9_-]+)$`)

// resetToken is the token of the newest reset e-mail, read from its link line.
func (f *fixture) resetToken() string {
	f.t.Helper()
	for _, m := range f.outbox() {
		if m.Kind == hmisauth.MailReset {
			match := linkToken.FindStringSubmatch(m.Text)
			if match == nil {
				f.t.Fatalf("reset e-mail has no link on a line of its own:\n%s", m.Text)
			}
			return match[1]
		}
	}
	f.t.Fatal("no reset e-mail")
	return ""
}

func (f *fixture) reset(token, pw string) error {
	return f.svc.CompleteReset(f.ctx, auth.ResetRequest{Site: "live", Token: token, New: pw, Confirm: pw})
}

const newPassword = "Lantern-Meadow-47?"

func TestResetLinkSetsANewPasswordOnce(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	other := f.login("jdoe", goodPassword)
	f.attempt("jdoe", "wrong")
	f.forgot("JDOE")
	token := f.resetToken()
	link, err := f.svc.OpenResetLink(f.ctx, "live", token)
	if err != nil || link.User.Username != "jdoe" || !link.ExpiresAt.Equal(f.clock.Now().Add(15*time.Minute)) {
		t.Fatalf("open link: %+v %v", link, err)
	}
	wantCode(t, f.reset(token, "password"), hmisauth.EPasswordPolicy)
	wantCode(t, f.reset(token, goodPassword), hmisauth.EPasswordReused)
	if err := f.reset(token, newPassword); err != nil {
		t.Fatal(err)
	}
	if u := f.reload("jdoe"); u.FailedAttempts != 0 {
		t.Fatalf("failed attempts after reset: %d", u.FailedAttempts)
	}
	if got := f.attempt("jdoe", goodPassword); got != hmisauth.ELoginFailed {
		t.Fatalf("old password after reset: %q", got)
	}
	_, err = f.svc.Authenticate(f.ctx, "live", other.Token)
	wantCode(t, err, hmisauth.EUnauthorized)
	wantCode(t, f.reset(token, "Thistle-Orbit-26$"), hmisauth.ETokenInvalid)
	if f.outbox()[0].Kind != hmisauth.MailPasswordChanged {
		t.Fatalf("no password-changed notice: %s", f.outbox()[0].Kind)
	}
	f.login("jdoe", newPassword)
}

func TestResetRequestAnswersAlikeForEveryone(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	f.create(auth.NewUser{Site: "live", FirstName: "No", LastName: "Mail"})
	for _, name := range []string{"jdoe", "nosuchuser", "nmail"} {
		if err := f.svc.RequestReset(f.ctx, auth.ForgotRequest{Site: "live", Username: name}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	n, err := f.svc.ProcessResetRequests(f.ctx)
	if err != nil || n != 3 {
		t.Fatalf("processed %d, %v", n, err)
	}
	ms := f.outbox()
	if len(ms) != 1 || ms[0].To != "x@example.org" {
		t.Fatalf("e-mails: %d", len(ms))
	}
	m := ms[0]
	for _, want := range []string{"HMIS Live", "Mar 2, 2026", "CST"} {
		if !strings.Contains(m.Subject, want) {
			t.Errorf("subject %q lacks %q", m.Subject, want)
		}
	}
	for _, want := range []string{"15 minutes", "helpdesk@example.org"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Text)
		}
	}
}

func TestSecondRequestWithinMinutesKeepsTheFirstLink(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	f.forgot("jdoe")
	first := f.resetToken()
	f.clock.Add(2 * time.Minute)
	f.forgot("jdoe")
	if n := len(f.outbox()); n != 1 {
		t.Fatalf("%d e-mails after two requests within minutes", n)
	}
	f.clock.Add(4 * time.Minute) // 6 minutes after the first: a new link, which supersedes
	f.forgot("jdoe")
	second := f.resetToken()
	if second == first || len(f.outbox()) != 2 {
		t.Fatal("no new link after the resend window")
	}
	wantCode(t, f.reset(first, newPassword), hmisauth.ETokenInvalid)
	if err := f.reset(second, newPassword); err != nil {
		t.Fatal(err)
	}
}

func TestResetLinkExpires(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	f.forgot("jdoe")
	token := f.resetToken()
	f.clock.Add(15*time.Minute + time.Second)
	_, err := f.svc.OpenResetLink(f.ctx, "live", token)
	wantCode(t, err, hmisauth.ETokenInvalid)
	wantCode(t, f.reset(token, newPassword), hmisauth.ETokenInvalid)
}

func TestPasswordChangeKillsTheResetLink(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	f.forgot("jdoe")
	token := f.resetToken()
	p := f.login("jdoe", goodPassword).Principal
	if err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{Current: goodPassword, New: newPassword, Confirm: newPassword}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.reset(token, "Thistle-Orbit-26$"), hmisauth.ETokenInvalid)
}

func TestLockedAccountGetsNoLink(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	f.forgot("jdoe")
	token := f.resetToken() // asked for before the lock
	for range 3 {
		f.attempt("jdoe", "wrong")
	}
	wantCode(t, f.reset(token, newPassword), hmisauth.EAccountLocked)
	f.clock.Add(10 * time.Minute)
	f.forgot("jdoe")
	m := f.outbox()[0]
	if m.Kind != hmisauth.MailResetLocked || strings.Contains(m.Text, "token=") || !strings.Contains(m.Text, "helpdesk@example.org") {
		t.Fatalf("locked user's e-mail: %s\n%s", m.Kind, m.Text)
	}
}

func TestSecurityQuestionAfterTheLink(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.Recovery = []string{"email", "security_question"} })
	c := f.create(auth.NewUser{Site: "live", FirstName: "John", LastName: "Doe", Email: "x@example.org"})
	p := f.login("jdoe", c.TemporaryPassword).Principal
	f.svc.AcceptTerms(f.ctx, p, 1)
	if err := f.svc.ChangePassword(f.ctx, p, auth.PasswordChangeRequest{New: goodPassword, Confirm: goodPassword}); err != nil {
		t.Fatal(err)
	}
	if got := actionNames(p); len(got) != 1 || got[0] != "setup_recovery/" {
		t.Fatalf("required actions = %v", got)
	}
	wantCode(t, f.svc.SetRecovery(f.ctx, p, auth.Recovery{Question: "Pet?", Answer: "Rex"}), hmisauth.EINVALID)
	wantCode(t, f.svc.SetRecovery(f.ctx, p, auth.Recovery{Question: "What was Rex, my first dog, called?", Answer: "rex"}), hmisauth.EINVALID)
	if err := f.svc.SetRecovery(f.ctx, p, auth.Recovery{Question: "What street did I grow up on?", Answer: "  Maple   Avenue "}); err != nil {
		t.Fatal(err)
	}
	if len(p.RequiredActions) != 0 {
		t.Fatalf("actions left: %v", actionNames(p))
	}
	if strings.Contains(f.reload("jdoe").RecoveryAnswerHash, "aple") {
		t.Fatal("answer stored in clear")
	}
	f.forgot("jdoe")
	token := f.resetToken()
	link, err := f.svc.OpenResetLink(f.ctx, "live", token)
	if err != nil || link.SecurityQuestion != "What street did I grow up on?" {
		t.Fatalf("link: %+v %v", link, err)
	}
	answer := func(a string) error {
		return f.svc.CompleteReset(f.ctx, auth.ResetRequest{Site: "live", Token: token, New: newPassword, Confirm: newPassword, SecurityAnswer: a})
	}
	wantCode(t, answer(""), hmisauth.EINVALID)
	wantCode(t, answer("Elm Street"), hmisauth.ESecurityAnswerWrong)
	if u := f.reload("jdoe"); u.FailedAttempts != 1 {
		t.Fatalf("a wrong answer must count: %d", u.FailedAttempts)
	}
	if err := answer("maple avenue"); err != nil {
		t.Fatal(err)
	}
	f.login("jdoe", newPassword)
}

func TestWrongSecurityAnswersLock(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.Recovery = []string{"email", "security_question"} })
	f.user("John", "Doe")
	p := f.login("jdoe", goodPassword).Principal
	f.svc.SetRecovery(f.ctx, p, auth.Recovery{Question: "What street did I grow up on?", Answer: "Maple"})
	f.forgot("jdoe")
	token := f.resetToken()
	for i, want := range []string{hmisauth.ESecurityAnswerWrong, hmisauth.ESecurityAnswerWrong, hmisauth.EAccountLocked, hmisauth.EAccountLocked} {
		err := f.svc.CompleteReset(f.ctx, auth.ResetRequest{Site: "live", Token: token, New: newPassword, Confirm: newPassword, SecurityAnswer: "Oak"})
		if got := hmisauth.ErrorCode(err); got != want {
			t.Fatalf("answer %d: %q, want %q", i+1, got, want)
		}
	}
}

func TestNoSecurityQuestionMeansCallTheHelpdesk(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	f.forgot("jdoe")
	token := f.resetToken()
	f.live.Policy.Recovery = []string{"email", "security_question"} // the site changed its policy since
	_, err := f.svc.OpenResetLink(f.ctx, "live", token)
	wantCode(t, err, hmisauth.ERecoveryUnavailable)
	if !strings.Contains(hmisauth.ErrorMessage(err), "helpdesk@example.org") {
		t.Fatalf("message %q", hmisauth.ErrorMessage(err))
	}
}

func TestChangingEmailNotifiesTheOldAddress(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	p := f.login("jdoe", goodPassword).Principal
	bad, good := "john at work", "john.doe@agency.example.org"
	wantCode(t, f.svc.UpdateContact(f.ctx, p, auth.ContactChange{Email: &bad}), hmisauth.EINVALID)
	if err := f.svc.UpdateContact(f.ctx, p, auth.ContactChange{Email: &good}); err != nil {
		t.Fatal(err)
	}
	ms := f.outbox()
	if len(ms) != 1 || ms[0].Kind != hmisauth.MailEmailChanged || ms[0].To != "x@example.org" || !strings.Contains(ms[0].Text, good) {
		t.Fatalf("notice: %+v", ms)
	}
	phone := "555-0142"
	if err := f.svc.UpdateContact(f.ctx, p, auth.ContactChange{Phone: &phone}); err != nil {
		t.Fatal(err)
	}
	if u := f.reload("jdoe"); u.Email != good || u.Phone != phone || len(f.outbox()) != 1 {
		t.Fatalf("after phone change: %s %s, %d e-mails", u.Email, u.Phone, len(f.outbox()))
	}
}

func TestPasswordExpiryWarningIsSentOnce(t *testing.T) {
	f := newFixture(t) // max age 45 days, warn 7 days before
	f.user("John", "Doe")
	f.clock.Add(37 * 24 * time.Hour)
	if n, err := f.svc.SendPasswordExpiryWarnings(f.ctx); err != nil || n != 0 {
		t.Fatalf("8 days before expiry: %d %v", n, err)
	}
	f.clock.Add(25 * time.Hour)
	if n, err := f.svc.SendPasswordExpiryWarnings(f.ctx); err != nil || n != 1 {
		t.Fatalf("within 7 days of expiry: %d %v", n, err)
	}
	if n, _ := f.svc.SendPasswordExpiryWarnings(f.ctx); n != 0 {
		t.Fatalf("warned twice: %d", n)
	}
	if m := f.outbox()[0]; m.Kind != hmisauth.MailPasswordExpiring || !strings.Contains(m.Text, "2026") {
		t.Fatalf("warning: %s\n%s", m.Kind, m.Text)
	}
}

func TestResetRequestsAreRateLimitedPerAddress(t *testing.T) {
	f := newFixture(t)
	for i := range 25 {
		err := f.svc.RequestReset(f.ctx, auth.ForgotRequest{Site: "live", Username: "nosuchuser", ClientAddr: "198.51.100.9"})
		if want := map[bool]string{true: "", false: hmisauth.ERateLimited}[i < 20]; hmisauth.ErrorCode(err) != want {
			t.Fatalf("request %d: %v, want %q", i+1, err, want)
		}
	}
	if n, _ := f.svc.ProcessResetRequests(f.ctx); n != 20 {
		t.Fatalf("%d requests queued from one address in 15 minutes, want 20", n)
	}
}

func TestRemovingEmailTellsTheOldAddress(t *testing.T) {
	f := newFixture(t)
	f.user("John", "Doe")
	p := f.login("jdoe", goodPassword).Principal
	none := ""
	if err := f.svc.UpdateContact(f.ctx, p, auth.ContactChange{Email: &none}); err != nil {
		t.Fatal(err)
	}
	ms := f.outbox()
	if len(ms) != 1 || ms[0].To != "x@example.org" || !strings.Contains(ms[0].Subject, "removed") ||
		!strings.Contains(ms[0].Text, "cannot reset a forgotten password yourself") {
		t.Fatalf("removal notice: %+v", ms)
	}
	if u := f.reload("jdoe"); u.Email != "" {
		t.Fatalf("e-mail still %q", u.Email)
	}
}
