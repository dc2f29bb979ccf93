package mail

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base32"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/hmisauth/hmisauth"
)

//go:embed templates/*.txt templates/*.html
var templateFS embed.FS

// kinds are the letters there are templates for: templates/<kind>.txt defines "subject" and
// "body", templates/<kind>.html defines "body"; the layouts around them are shared.
var kinds = []string{
	hmisauth.MailReset,
	hmisauth.MailResetLocked,
	hmisauth.MailPasswordChanged,
	hmisauth.MailEmailChanged,
	hmisauth.MailPasswordExpiring,
	hmisauth.MailLicenseExpiring,
	hmisauth.MailAgreementExpiring,
	hmisauth.MailTrainingExpiring,
	hmisauth.MailMFAChanged,
	hmisauth.MailInactivityWarning,
}

// How times appear in letters, always in the site's timezone: the zone's abbreviation is
// written out so a reader in another zone, or a helpdesk agent, is not misled.
const (
	atLayout        = "Mon Jan 2, 2006 at 3:04 PM MST"
	dateLayout      = "Monday, January 2, 2006"
	shortDateLayout = "Mon Jan 2, 2006"
)

// LetterOptions configures Letters.
type LetterOptions struct {
	// From is the configured sender, "HMIS Helpdesk <donotreply@example.org>"; its domain
	// ends every Message-ID.
	From string
	// PublicURL is the base of links in e-mails, "https://hmis.example.org".
	PublicURL string
}

// Letters writes hmisauth's e-mails from the embedded templates. It implements
// hmisauth.Letters and is safe for concurrent use.
type Letters struct {
	domain    string
	publicURL string
	text      map[string]*texttemplate.Template
	html      map[string]*htmltemplate.Template
}

var _ hmisauth.Letters = (*Letters)(nil)

// NewLetters parses the templates and checks the options.
func NewLetters(o LetterOptions) (*Letters, error) {
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("mail: the sender %q is not an e-mail address: %w", o.From, err)
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mail: the public URL %q must be an http or https address", o.PublicURL)
	}
	ls := &Letters{
		domain:    from.Address[strings.LastIndexByte(from.Address, '@')+1:],
		publicURL: strings.TrimRight(o.PublicURL, "/"),
		text:      map[string]*texttemplate.Template{},
		html:      map[string]*htmltemplate.Template{},
	}
	for _, k := range kinds {
		t, err := texttemplate.New(k).Option("missingkey=error").
			ParseFS(templateFS, "templates/layout.txt", "templates/"+k+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		h, err := htmltemplate.New(k).Option("missingkey=error").
			ParseFS(templateFS, "templates/layout.html", "templates/"+k+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		ls.text[k], ls.html[k] = t, h
	}
	return ls, nil
}

// letter is what the templates see: every value already in words and in the site's timezone.
type letter struct {
	SiteName       string
	Training       bool
	Helpdesk       string // the helpdesk contact as one phrase, with its hours
	FirstName      string
	Username       string
	Link           string
	ExpiresIn      string // "15 minutes"
	Unlocks        bool   // the reset also unlocks the locked account
	At             string // "Mon Nov 23, 2026 at 12:47 PM CST"
	ExpiresOn      string // "Monday, December 7, 2026"
	ExpiresOnShort string // "Mon Dec 7, 2026"
	NewEmail       string
	ClientAddr     string
	LoginURL       string
	AgencyName     string // the agency whose license expires
	AboutName      string // a copy's subject user: their full name (else username)
	AboutUsername  string // set only in a copy about someone else
	MFAChange      string // what changed in 2-step verification: one of the hmisauth.MFAChange* kinds
	PasskeyName    string // the passkey added or removed
	TrainingName   string // the training that lapses, in words ("privacy security")
	Required       bool   // the site requires the training to sign in
	Subject        string // for the HTML title, once written
	// StepAction is the inactivity step a warning is about (lock, require_training, disable),
	// StepTraining its training in words, and LastUsed the day the account was last used.
	StepAction, StepTraining, LastUsed string
}

// Compose writes l as a Message ready for the outbox.
func (ls *Letters) Compose(l hmisauth.Letter) (*hmisauth.Message, error) {
	if l.Site == nil {
		return nil, errors.New("mail: a letter needs its site")
	}
	text, ok := ls.text[l.Kind]
	if !ok {
		return nil, fmt.Errorf("mail: no letter of kind %q", l.Kind)
	}
	if l.At.IsZero() {
		return nil, fmt.Errorf("mail: a %s letter needs the time it is about", l.Kind)
	}
	to := l.To
	if to == "" && l.User != nil {
		to = l.User.Email
	}
	if _, err := mail.ParseAddress(to); err != nil {
		return nil, fmt.Errorf("mail: cannot send a %s letter to %q: %w", l.Kind, to, err)
	}
	if err := checkLetter(l); err != nil {
		return nil, err
	}

	d := ls.letterData(l)
	var buf bytes.Buffer
	if err := text.ExecuteTemplate(&buf, "full-subject", d); err != nil {
		return nil, fmt.Errorf("mail: %s subject: %w", l.Kind, err)
	}
	// One line, whatever the template or a site's name holds: a header cannot break.
	d.Subject = strings.Join(strings.Fields(buf.String()), " ")
	buf.Reset()
	if err := text.ExecuteTemplate(&buf, "text", d); err != nil {
		return nil, fmt.Errorf("mail: %s text: %w", l.Kind, err)
	}
	body := tidyText(buf.String())
	buf.Reset()
	if err := ls.html[l.Kind].ExecuteTemplate(&buf, "html", d); err != nil {
		return nil, fmt.Errorf("mail: %s HTML: %w", l.Kind, err)
	}
	id, err := ls.newMessageID()
	if err != nil {
		return nil, err
	}
	m := &hmisauth.Message{
		Site:      l.Site.Key,
		Kind:      l.Kind,
		To:        to,
		Subject:   d.Subject,
		Text:      body,
		HTML:      buf.String(),
		MessageID: id,
		CreatedAt: l.At,
	}
	if l.Kind == hmisauth.MailReset {
		// A reset link is useless once it expires: delivering it later would only confuse.
		m.DiscardAfter = l.At.Add(l.ExpiresIn)
	}
	return m, nil
}

// checkLetter refuses a letter missing what its kind must say.
func checkLetter(l hmisauth.Letter) error {
	switch {
	case l.Kind == hmisauth.MailReset && (l.Link == "" || strings.ContainsAny(l.Link, " \t\r\n") || l.ExpiresIn <= 0):
		return errors.New("mail: a reset letter needs a link on one line and how long it works")
	case l.Kind == hmisauth.MailPasswordExpiring && l.ExpiresOn.IsZero():
		return errors.New("mail: a password-expiring letter needs the expiry date")
	case l.Kind == hmisauth.MailLicenseExpiring && (l.Agency == nil || l.ExpiresOn.IsZero()):
		return errors.New("mail: a license-expiring letter needs the agency and the expiry date")
	case l.Kind == hmisauth.MailAgreementExpiring && l.ExpiresOn.IsZero():
		return errors.New("mail: an agreement-expiring letter needs the expiry date")
	case l.Kind == hmisauth.MailTrainingExpiring && (l.ExpiresOn.IsZero() || l.TrainingKind == ""):
		return errors.New("mail: a training-expiring letter needs the training and its last day")
	case l.Kind == hmisauth.MailInactivityWarning && (l.Step == nil || l.ExpiresOn.IsZero()):
		return errors.New("mail: an inactivity warning needs its step and when it applies")
	case l.Kind == hmisauth.MailMFAChanged:
		switch l.MFAChange {
		case hmisauth.MFAChangeAppOn, hmisauth.MFAChangeAppOff, hmisauth.MFAChangeRecoveryCodes, hmisauth.MFAChangeReset:
		case hmisauth.MFAChangePasskeyAdded, hmisauth.MFAChangePasskeyRemoved:
			if l.PasskeyName == "" {
				return errors.New("mail: a passkey letter needs the passkey's name")
			}
		default:
			return fmt.Errorf("mail: a 2-step verification letter needs what changed, not %q", l.MFAChange)
		}
	}
	return nil
}

// letterData is what the templates see of l. Every value that comes from stored data or the
// configuration passes through oneLine, so a name saved before names were checked (or a
// passkey's name, an agency's) cannot start a line of its own in the text part: no "Click
// here" line that seems to come from the helpdesk.
func (ls *Letters) letterData(l hmisauth.Letter) *letter {
	loc := siteLocation(l.Site)
	d := &letter{
		SiteName:   oneLine(l.Site.Name),
		Training:   l.Site.Training,
		Helpdesk:   oneLine(l.Site.Helpdesk.Contact()),
		Link:       l.Link,
		At:         l.At.In(loc).Format(atLayout),
		NewEmail:   oneLine(l.NewEmail),
		ClientAddr: oneLine(l.ClientAddr),
		LoginURL:   ls.publicURL + "/" + url.PathEscape(l.Site.Key) + "/login",
	}
	d.MFAChange, d.PasskeyName = l.MFAChange, oneLine(l.PasskeyName)
	// A kind is a configured key (privacy_security): said as words in a letter.
	d.TrainingName = oneLine(strings.ReplaceAll(l.TrainingKind, "_", " "))
	d.Required = l.TrainingRequired
	d.Unlocks = l.Unlocks
	if d.SiteName == "" {
		d.SiteName = l.Site.Key
	}
	if l.User != nil {
		d.FirstName, d.Username = oneLine(l.User.FirstName), oneLine(l.User.Username)
	}
	if l.Agency != nil {
		d.AgencyName = oneLine(l.Agency.Name)
	}
	if l.About != nil {
		d.AboutUsername, d.AboutName = oneLine(l.About.Username), oneLine(l.About.FullName())
		if d.AboutName == "" {
			d.AboutName = d.AboutUsername
		}
	}
	if l.Step != nil {
		d.StepAction, d.StepTraining = l.Step.Action, oneLine(strings.ReplaceAll(l.Step.Training, "_", " "))
		d.LastUsed = l.At.In(loc).Format(dateLayout)
	}
	if l.ExpiresIn > 0 {
		d.ExpiresIn = durationWords(l.ExpiresIn)
	}
	if !l.ExpiresOn.IsZero() {
		d.ExpiresOn = l.ExpiresOn.In(loc).Format(dateLayout)
		d.ExpiresOnShort = l.ExpiresOn.In(loc).Format(shortDateLayout)
	}
	return d
}

// oneLine is s with each run of line breaks, control characters, bidirectional controls and
// bytes that are not UTF-8 (hmisauth.IsUnprintable) turned into one space.
func oneLine(s string) string {
	if _, bad := hmisauth.UnprintableRune(s); !bad {
		return s
	}
	return strings.Join(strings.FieldsFunc(strings.ToValidUTF8(s, "\x00"), hmisauth.IsUnprintable), " ")
}

// siteLocation is the site's timezone: the loaded one, else its name loaded now, else UTC.
func siteLocation(s *hmisauth.Site) *time.Location {
	if s.Location != nil {
		return s.Location
	}
	if s.Timezone != "" {
		if loc, err := time.LoadLocation(s.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// newMessageID is a fresh "<random@sender-domain>": unguessable, and in the sender's domain
// as receivers expect.
func (ls *Letters) newMessageID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("mail: message id: %w", err)
	}
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	return "<" + s + "@" + ls.domain + ">", nil
}

// durationWords says a link's lifetime as people do: "15 minutes", "1 hour", "1 hour and 30
// minutes", "2 days". Seconds are dropped; anything under a minute is "1 minute".
func durationWords(d time.Duration) string {
	d = d.Truncate(time.Minute)
	if d < time.Minute {
		d = time.Minute
	}
	if d%(24*time.Hour) == 0 {
		return plural(int(d/(24*time.Hour)), "day")
	}
	var parts []string
	if h := int(d / time.Hour); h > 0 {
		parts = append(parts, plural(h, "hour"))
	}
	if m := int(d % time.Hour / time.Minute); m > 0 {
		parts = append(parts, plural(m, "minute"))
	}
	return strings.Join(parts, " and ")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

var blankLines = regexp.MustCompile(`\n{3,}`)

// tidyText lets templates be written readably: trailing spaces go, runs of blank lines become
// one, and the text starts with words and ends with one newline.
func tidyText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = strings.TrimRight(line, " \t")
	}
	s = blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.Trim(s, "\n") + "\n"
}
