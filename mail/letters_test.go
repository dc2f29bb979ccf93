package mail_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/mail"
)

var update = flag.Bool("update", false, "rewrite the golden e-mails in testdata/")

const resetLink = "https://hmis.example.org/live/reset-password?token=Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"

func chicago(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func liveSite(t testing.TB) *hmisauth.Site {
	return &hmisauth.Site{
		Key: "live", Name: "HMIS Live", Timezone: "America/Chicago", Location: chicago(t),
		Helpdesk: hmisauth.Helpdesk{Email: "helpdesk@example.org", Phone: "555-0100", Hours: "Mon-Fri 8am-5pm"},
	}
}

func trainingSite(t testing.TB) *hmisauth.Site {
	s := liveSite(t)
	s.Key, s.Name, s.Training = "training", "HMIS Training", true
	return s
}

func newLetters(t testing.TB) *mail.Letters {
	t.Helper()
	ls, err := mail.NewLetters(mail.LetterOptions{
		From: "HMIS Helpdesk <donotreply@hmis.example.org>", PublicURL: "https://hmis.example.org/",
	})
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// requestAt is 18:47 UTC on a Monday: 12:47 PM in Chicago, in standard time.
var requestAt = time.Date(2026, 11, 23, 18, 47, 5, 0, time.UTC)

// letters is one letter of each kind, as auth/ will write them, keyed by the name of its
// golden file.
func letters(site *hmisauth.Site) map[string]hmisauth.Letter {
	u := &hmisauth.User{Site: site.Key, Username: "jdoe", FirstName: "Jane", LastName: "Doe", Email: "jane.doe@agency.example"}
	ls := map[string]hmisauth.Letter{
		hmisauth.MailReset: {Kind: hmisauth.MailReset, Site: site, User: u, To: u.Email, Link: resetLink,
			ExpiresIn: 15 * time.Minute, At: requestAt, ClientAddr: "203.0.113.7"},
		hmisauth.MailResetLocked: {Kind: hmisauth.MailResetLocked, Site: site, User: u, To: u.Email, At: requestAt},
		hmisauth.MailPasswordChanged: {Kind: hmisauth.MailPasswordChanged, Site: site, User: u, To: u.Email,
			At: requestAt},
		hmisauth.MailEmailChanged: {Kind: hmisauth.MailEmailChanged, Site: site, User: u, To: u.Email,
			NewEmail: "jane@new.example", At: requestAt},
		hmisauth.MailPasswordExpiring: {Kind: hmisauth.MailPasswordExpiring, Site: site, User: u, To: u.Email,
			At: requestAt, ExpiresOn: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)},
		hmisauth.MailLicenseExpiring: {Kind: hmisauth.MailLicenseExpiring, Site: site, User: u, To: u.Email,
			At: requestAt, Agency: &hmisauth.Agency{Site: site.Key, Name: "Hope House"},
			ExpiresOn: time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)},
		hmisauth.MailAgreementExpiring: {Kind: hmisauth.MailAgreementExpiring, Site: site, User: u, To: u.Email,
			At: requestAt, ExpiresOn: time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)},
		agreementCopy: {Kind: hmisauth.MailAgreementExpiring, Site: site, To: "admin@example.org",
			User:  &hmisauth.User{Site: site.Key, Username: "admin", FirstName: "Ada", Email: "admin@example.org"},
			About: u, At: requestAt, ExpiresOn: time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)},
		hmisauth.MailTrainingExpiring: {Kind: hmisauth.MailTrainingExpiring, Site: site, User: u, To: u.Email,
			At: requestAt, ExpiresOn: time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), TrainingKind: "privacy_security", TrainingRequired: true},
		trainingCopy: {Kind: hmisauth.MailTrainingExpiring, Site: site, To: "admin@example.org",
			User:  &hmisauth.User{Site: site.Key, Username: "admin", FirstName: "Ada", Email: "admin@example.org"},
			About: u, At: requestAt, ExpiresOn: time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), TrainingKind: "privacy_security"},
	}
	for _, st := range inactivityWarnings {
		ls[hmisauth.MailInactivityWarning+"_"+st.Action] = hmisauth.Letter{Kind: hmisauth.MailInactivityWarning, Site: site,
			User: u, To: u.Email, At: requestAt, ExpiresOn: time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), Step: &st}
	}
	for _, change := range mfaChanges {
		l := hmisauth.Letter{Kind: hmisauth.MailMFAChanged, Site: site, User: u, To: u.Email, At: requestAt,
			MFAChange: change, ClientAddr: "203.0.113.7"}
		switch change {
		case hmisauth.MFAChangePasskeyAdded, hmisauth.MFAChangePasskeyRemoved:
			l.PasskeyName = "Office laptop"
		case hmisauth.MFAChangeReset:
			l.ClientAddr = "" // the helpdesk did it
		}
		ls[mfaLetter(change)] = l
	}
	return ls
}

// agreementCopy names, in letters(), the sysadmins' copy of an agreement reminder.
const agreementCopy = hmisauth.MailAgreementExpiring + "_copy"

// trainingCopy names, in letters(), the sysadmins' copy of a training reminder.
const trainingCopy = hmisauth.MailTrainingExpiring + "_copy"

// inactivityWarnings are the inactivity steps a MailInactivityWarning warns of.
var inactivityWarnings = []hmisauth.InactivityStep{{After: 60 * 24 * time.Hour, Action: hmisauth.InactivityLock},
	{After: 90 * 24 * time.Hour, Action: hmisauth.InactivityRequireTraining, Training: "privacy_security"},
	{After: 180 * 24 * time.Hour, Action: hmisauth.InactivityDisable}}

// mfaChanges are the changes to 2-step verification a MailMFAChanged letter tells of.
var mfaChanges = []string{hmisauth.MFAChangeAppOn, hmisauth.MFAChangeAppOff, hmisauth.MFAChangeRecoveryCodes,
	hmisauth.MFAChangePasskeyAdded, hmisauth.MFAChangePasskeyRemoved, hmisauth.MFAChangeReset}

// mfaLetter names, in letters(), the 2-step verification notice of one change.
func mfaLetter(change string) string { return hmisauth.MailMFAChanged + "_" + change }

func compose(t testing.TB, l hmisauth.Letter) *hmisauth.Message {
	t.Helper()
	m, err := newLetters(t).Compose(l)
	if err != nil {
		t.Fatalf("compose %s: %v", l.Kind, err)
	}
	return m
}

// TestEveryLetterNamesTheSiteAndTheHelpdesk checks what CONTRACT.md promises of every e-mail,
// on both kinds of site, and keeps the wording in testdata/ for review (go test -update).
func TestEveryLetterNamesTheSiteAndTheHelpdesk(t *testing.T) {
	for _, site := range []*hmisauth.Site{liveSite(t), trainingSite(t)} {
		for kind, l := range letters(site) {
			t.Run(site.Key+"/"+kind, func(t *testing.T) {
				m := compose(t, l)
				if m.Site != site.Key || m.Kind != l.Kind || m.To != l.To || !m.CreatedAt.Equal(l.At) {
					t.Errorf("message is %q %q to %q at %v", m.Site, m.Kind, m.To, m.CreatedAt)
				}
				if !regexp.MustCompile(`^<[a-z2-7]{26}@hmis\.example\.org>$`).MatchString(m.MessageID) {
					t.Errorf("Message-ID %q", m.MessageID)
				}
				if !strings.Contains(m.Subject, site.Name) {
					t.Errorf("subject %q does not name the site", m.Subject)
				}
				if strings.HasPrefix(m.Subject, "[TRAINING] ") != site.Training {
					t.Errorf("subject %q: training marker wrong", m.Subject)
				}
				for part, body := range map[string]string{"text": m.Text, "HTML": m.HTML} {
					for _, want := range []string{"helpdesk@example.org or 555-0100 (Mon-Fri 8am-5pm)", "jdoe", "sent automatically"} {
						if !strings.Contains(body, want) {
							t.Errorf("%s part lacks %q", part, want)
						}
					}
					if strings.Contains(body, "practice site") != site.Training {
						t.Errorf("%s part: practice-site notice wrong for training=%v", part, site.Training)
					}
				}
				if !strings.HasPrefix(m.HTML, "<!DOCTYPE html>\n<html lang=\"en\">") {
					t.Errorf("HTML part does not declare its language: %.60q", m.HTML)
				}
				for _, external := range []string{"<img", "<link", "<script", "src=", "url("} {
					if strings.Contains(m.HTML, external) {
						t.Errorf("HTML part loads something from outside: %q", external)
					}
				}
				golden(t, filepath.Join("testdata", site.Key+"-"+kind+".txt"), "Subject: "+m.Subject+"\n\n"+m.Text)
			})
		}
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mail -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("%s changed (go test ./mail -update rewrites it):\n--- got ---\n%s", path, got)
	}
}

func TestResetLetter(t *testing.T) {
	l := letters(liveSite(t))[hmisauth.MailReset]
	m := compose(t, l)

	if want := "HMIS Live: password reset requested Mon Nov 23, 2026 at 12:47 PM CST"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	lines := strings.Split(m.Text, "\n")
	onItsOwn := 0
	for _, line := range lines {
		if strings.Contains(line, resetLink) {
			if line != resetLink {
				t.Errorf("the link shares its line: %q", line)
			}
			onItsOwn++
		}
	}
	if onItsOwn != 1 {
		t.Errorf("the link is on %d lines of its own, want 1", onItsOwn)
	}
	for _, want := range []string{
		"This link expires in 15 minutes",
		"If you did not ask to reset your password, do not use this link",
		"tell the helpdesk",
		"username: jdoe",
		"203.0.113.7",
		"Hello Jane,",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if !strings.Contains(m.HTML, `href="`+resetLink+`"`) || !strings.Contains(m.HTML, "This link expires in 15 minutes") {
		t.Error("HTML part lacks the link or its expiry")
	}
	if want := requestAt.Add(15 * time.Minute); !m.DiscardAfter.Equal(want) {
		t.Errorf("DiscardAfter %v, want %v: the link is useless after it expires", m.DiscardAfter, want)
	}
}

func TestLinkLifetimeInWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		15 * time.Minute:  "15 minutes",
		time.Minute:       "1 minute",
		time.Hour:         "1 hour",
		90 * time.Minute:  "1 hour and 30 minutes",
		2 * time.Hour:     "2 hours",
		48 * time.Hour:    "2 days",
		30 * time.Second:  "1 minute",
		121 * time.Second: "2 minutes",
	} {
		l := letters(liveSite(t))[hmisauth.MailReset]
		l.ExpiresIn = d
		if m := compose(t, l); !strings.Contains(m.Text, "This link expires in "+want+",") {
			t.Errorf("%v: text does not say %q", d, want)
		}
	}
}

func TestTimesAreInTheSiteTimezone(t *testing.T) {
	site := liveSite(t)
	summer := time.Date(2026, 7, 4, 15, 5, 0, 0, time.UTC) // 10:05 AM CDT
	l := letters(site)[hmisauth.MailPasswordChanged]
	l.At = summer
	if m := compose(t, l); !strings.Contains(m.Text, "on Sat Jul 4, 2026 at 10:05 AM CDT") {
		t.Errorf("text does not give the change in Chicago summer time:\n%s", m.Text)
	}

	// 03:00 UTC on December 1 is still November 30 in Chicago.
	m := compose(t, letters(site)[hmisauth.MailPasswordExpiring])
	if want := "HMIS Live: your password expires on Mon Nov 30, 2026"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if !strings.Contains(m.Text, "expires on Monday, November 30, 2026") {
		t.Errorf("text lacks the expiry date in the site's timezone:\n%s", m.Text)
	}
	if !strings.Contains(m.Text, "Sign in at https://hmis.example.org/live/login\n") {
		t.Errorf("text lacks the sign-in address:\n%s", m.Text)
	}
	if m.DiscardAfter != (time.Time{}) {
		t.Errorf("a warning is always worth delivering, but DiscardAfter is %v", m.DiscardAfter)
	}
}

func TestOtherLettersSayWhatHappened(t *testing.T) {
	ls := letters(liveSite(t))
	for kind, wants := range map[string][]string{
		hmisauth.MailResetLocked: {"locked", "too many failed sign-ins", "cannot reset your password yourself",
			"helpdesk@example.org or 555-0100"},
		hmisauth.MailPasswordChanged: {"was changed on Mon Nov 23, 2026 at 12:47 PM CST",
			"If this was not you, contact the helpdesk at once"},
		hmisauth.MailEmailChanged: {"was changed to jane@new.example on Mon Nov 23, 2026 at 12:47 PM CST",
			"If this was not you, contact the helpdesk at once"},
		hmisauth.MailPasswordExpiring: {"Change your password", "lists the rules"},
		hmisauth.MailLicenseExpiring: {"license of Hope House expires on Thu Dec 31, 2026",
			"runs out on Thursday, December 31, 2026", "nobody at Hope House can sign in"},
		hmisauth.MailAgreementExpiring: {"your user agreement expires on Thu Dec 31, 2026",
			"expires on Thursday, December 31, 2026", "supervisor and your executive director"},
		agreementCopy: {"copy: the user agreement of jdoe", "Hello Ada", "reminder sent to Jane Doe (username: jdoe)"},
		mfaLetter(hmisauth.MFAChangeAppOn): {"Subject: HMIS Live: an authenticator app was turned on for 2-step verification\n",
			"was turned on for 2-step verification on your HMIS Live account (username: jdoe) on Mon Nov 23, 2026 at 12:47 PM CST",
			"The change came from the internet address 203.0.113.7.", "If this was not you, contact the helpdesk at once"},
		mfaLetter(hmisauth.MFAChangeAppOff): {"Subject: HMIS Live: the authenticator app for 2-step verification was turned off\n",
			"was turned off on Mon Nov 23, 2026 at 12:47 PM CST", "203.0.113.7", "If this was not you, contact the helpdesk at once"},
		mfaLetter(hmisauth.MFAChangeRecoveryCodes): {"Subject: HMIS Live: new recovery codes were made for 2-step verification\n",
			"The recovery codes you had before no longer work", "203.0.113.7", "If this was not you, contact the helpdesk at once"},
		mfaLetter(hmisauth.MFAChangePasskeyAdded): {"Subject: HMIS Live: a passkey was added to your account\n",
			"A passkey named “Office laptop” was added", "203.0.113.7", "If this was not you, contact the helpdesk at once"},
		mfaLetter(hmisauth.MFAChangePasskeyRemoved): {"Subject: HMIS Live: a passkey was removed from your account\n",
			"The passkey named “Office laptop” was removed", "203.0.113.7", "If this was not you, contact the helpdesk at once"},
		mfaLetter(hmisauth.MFAChangeReset): {"Subject: HMIS Live: the helpdesk reset your 2-step verification\n",
			"The helpdesk reset 2-step verification on your HMIS Live account (username: jdoe) on Mon Nov 23, 2026 at 12:47 PM CST",
			"If you asked the helpdesk for this", "If you did not ask for this, contact the helpdesk at once"},
	} {
		m := compose(t, ls[kind])
		m.Text = "Subject: " + m.Subject + "\n" + m.Text
		for _, want := range wants {
			if !strings.Contains(m.Text, want) {
				t.Errorf("%s text lacks %q:\n%s", kind, want, m.Text)
			}
		}
		if strings.Contains(m.Text, "reset-password?token=") {
			t.Errorf("%s text has a reset link", kind)
		}
	}
}

func TestComposeRefusesIncompleteLetters(t *testing.T) {
	site := liveSite(t)
	ls := newLetters(t)
	for name, mutate := range map[string]func(*hmisauth.Letter){
		"unknown kind":      func(l *hmisauth.Letter) { l.Kind = "welcome" },
		"no site":           func(l *hmisauth.Letter) { l.Site = nil },
		"no address":        func(l *hmisauth.Letter) { l.To, l.User.Email = "", "" },
		"bad address":       func(l *hmisauth.Letter) { l.To = "jane at agency" },
		"no link":           func(l *hmisauth.Letter) { l.Link = "" },
		"link on two lines": func(l *hmisauth.Letter) { l.Link = resetLink + "\nhttps://evil.example" },
		"no lifetime":       func(l *hmisauth.Letter) { l.ExpiresIn = 0 },
		"no time":           func(l *hmisauth.Letter) { l.At = time.Time{} },
	} {
		l := letters(site)[hmisauth.MailReset]
		mutate(&l)
		if _, err := ls.Compose(l); err == nil {
			t.Errorf("%s: composed", name)
		}
	}
	for _, o := range []mail.LetterOptions{
		{From: "not an address", PublicURL: "https://hmis.example.org"},
		{From: "a@example.org", PublicURL: "hmis.example.org"},
	} {
		if _, err := mail.NewLetters(o); err == nil {
			t.Errorf("NewLetters(%+v) accepted", o)
		}
	}
}

func TestSubjectStaysOneLine(t *testing.T) {
	site := liveSite(t)
	site.Name = "HMIS\r\nBcc: everyone@example.org"
	m := compose(t, letters(site)[hmisauth.MailPasswordChanged])
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject %q spans lines", m.Subject)
	}
}

// TestStoredNamesCannotStartALine: a first name saved before names were checked, like an
// agency's or a passkey's name, holds a line break and a line that looks like the helpdesk's
// advice. In every letter it stays on the line it is on, without its control characters, and
// the HTML part still escapes it.
func TestStoredNamesCannotStartALine(t *testing.T) {
	const evil = "Jane\r\nClick http://evil.example <b>now</b>\x1b[2J\u202e\u2028"
	site := liveSite(t)
	for kind, l := range letters(site) {
		t.Run(kind, func(t *testing.T) {
			u := *l.User
			u.FirstName, u.Username = evil, "jdoe\nClick"
			l.User = &u
			if l.About != nil {
				about := *l.About
				about.FirstName, about.Username = evil, "jdoe\nClick"
				l.About = &about
			}
			if l.Agency != nil {
				l.Agency = &hmisauth.Agency{Site: site.Key, Name: evil}
			}
			if l.PasskeyName != "" {
				l.PasskeyName = evil
			}
			if l.NewEmail != "" {
				l.NewEmail = "jane@new.example\r\nClick http://evil.example"
			}
			if l.ClientAddr != "" {
				l.ClientAddr = "203.0.113.7\nClick http://evil.example"
			}
			m := compose(t, l)
			for _, line := range strings.Split(m.Text, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "Click") {
					t.Errorf("a stored value starts the line %q:\n%s", line, m.Text)
				}
			}
			if i := strings.IndexFunc(m.Text+m.HTML, func(r rune) bool { return r != '\n' && hmisauth.IsUnprintable(r) }); i >= 0 {
				t.Errorf("a control character reached the letter at %d:\n%q", i, m.Text)
			}
			if strings.Contains(m.Text, "Jane") && !strings.Contains(m.Text, "Jane Click http://evil.example <b>now</b>") {
				t.Errorf("the first name is not kept on one line:\n%s", m.Text)
			}
			if strings.Contains(m.HTML, "<b>now") || !strings.Contains(m.HTML, "Jane Click http://evil.example &lt;b&gt;now&lt;/b&gt;") {
				t.Errorf("HTML part does not escape the name on one line:\n%s", m.HTML)
			}
		})
	}
}

func TestMFALetterSaysWhatChangedAndWhere(t *testing.T) {
	ls := letters(liveSite(t))
	subjects := map[string]bool{}
	for _, change := range mfaChanges {
		l := ls[mfaLetter(change)]
		m := compose(t, l)
		if subjects[m.Subject] {
			t.Errorf("%s: subject %q is another change's too", change, m.Subject)
		}
		subjects[m.Subject] = true
		for part, body := range map[string]string{"text": m.Text, "HTML": m.HTML} {
			if got := strings.Contains(body, "internet address 203.0.113.7"); got != (l.ClientAddr != "") {
				t.Errorf("%s %s part: names the address = %v, want %v", change, part, got, l.ClientAddr != "")
			}
			if !strings.Contains(body, "contact the helpdesk at once.") {
				t.Errorf("%s %s part lacks the warning", change, part)
			}
		}
		if strings.Contains(m.Text, "reset-password?token=") || m.DiscardAfter != (time.Time{}) {
			t.Errorf("%s: a notice with a link or an expiry", change)
		}
	}
	// The passkey's name is the user's own text: escaped in the HTML part.
	l := ls[mfaLetter(hmisauth.MFAChangePasskeyAdded)]
	l.PasskeyName = "<b>Phone</b>"
	if m := compose(t, l); strings.Contains(m.HTML, "<b>Phone") || !strings.Contains(m.HTML, "&lt;b&gt;Phone") {
		t.Errorf("HTML part does not escape the passkey's name:\n%s", m.HTML)
	}
}

func TestMFALetterNeedsWhatChanged(t *testing.T) {
	ls := newLetters(t)
	for name, mutate := range map[string]func(*hmisauth.Letter){
		"no change":        func(l *hmisauth.Letter) { l.MFAChange = "" },
		"unknown change":   func(l *hmisauth.Letter) { l.MFAChange = "app_lost" },
		"no passkey name":  func(l *hmisauth.Letter) { l.PasskeyName = "" },
		"removed, no name": func(l *hmisauth.Letter) { l.MFAChange, l.PasskeyName = hmisauth.MFAChangePasskeyRemoved, "" },
	} {
		l := letters(liveSite(t))[mfaLetter(hmisauth.MFAChangePasskeyAdded)]
		mutate(&l)
		if _, err := ls.Compose(l); err == nil {
			t.Errorf("%s: composed", name)
		}
	}
}
