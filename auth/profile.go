package auth

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
)

// ContactChange is a signed-in user's edit of their own e-mail and phone; nil stays as is.
type ContactChange struct {
	Email *string
	Phone *string
	// CurrentPassword proves it is still the user when the e-mail address changes; a fresh
	// re-authentication (within session.reauth) stands in for it.
	CurrentPassword string
}

// UpdateContact changes the signed-in user's e-mail and phone. The e-mail address is recovery
// information (reset links go there), so changing it needs the current password or a fresh
// re-authentication, like the security settings: otherwise a stolen session would become a
// permanent takeover through "forgot password". The old address is told, in the same
// transaction, so the change cannot happen quietly. The phone number needs neither.
func (s *Service) UpdateContact(ctx context.Context, p *Principal, c ContactChange) error {
	if err := p.Require(""); err != nil {
		return err
	}
	email, phone := p.User.Email, p.User.Phone
	var err error
	if c.Email != nil {
		if email, err = ValidateEmail(*c.Email); err != nil {
			return err
		}
	}
	if c.Phone != nil {
		if phone, err = ValidatePhone(*c.Phone); err != nil {
			return err
		}
	}
	now := s.clock.Now()
	emailChanged := !sameAddress(p.User.Email, email)
	if emailChanged {
		if err := s.proveForEmail(ctx, p, c.CurrentPassword, now); err != nil {
			return err
		}
	}
	var notice *hmisauth.Message
	if old := p.User.Email; old != "" && emailChanged {
		notice, err = s.letters.Compose(hmisauth.Letter{Kind: hmisauth.MailEmailChanged, Site: p.Site,
			To: old, User: p.User, NewEmail: email, At: now, ClientAddr: p.Session.ClientAddr})
		if err != nil {
			return err
		}
	}
	var what []string
	if emailChanged {
		what = append(what, "e-mail address")
	}
	if p.User.Phone != phone {
		what = append(what, "phone")
	}
	detail := "no change"
	if len(what) > 0 {
		detail = "changed " + strings.Join(what, " and ")
	}
	ctx = s.auditAs(ctx, p, hmisauth.EventProfileChanged, detail)
	if err := s.store.UpdateContact(ctx, p.User.ID, email, phone, notice); err != nil {
		return err
	}
	if notice != nil {
		s.kick()
	}
	p.User.Email, p.User.Phone = email, phone
	s.log.InfoContext(ctx, "contact details changed", "site", p.Site.Key, "username", p.User.Username,
		"email_changed", emailChanged)
	return nil
}

// proveForEmail lets an e-mail change through with the current password, or within
// session.reauth of the password being typed.
func (s *Service) proveForEmail(ctx context.Context, p *Principal, current string, now time.Time) error {
	if current == "" {
		if p.ReauthFresh(now) {
			return nil
		}
		return &hmisauth.Error{Code: hmisauth.EReauthRequired, Field: "current_password",
			Message: "To change your e-mail address, type your current password."}
	}
	if len(current) > maxPasswordBytes {
		return hmisauth.FieldError("current_password", "That is longer than any password. Check what you typed.")
	}
	slot, err := s.hasher.Acquire(ctx)
	if err != nil {
		return err
	}
	defer slot.Release()
	return s.checkOwnPassword(s.actorContext(ctx, p), slot, p, current, &hmisauth.Error{Code: hmisauth.ECurrentPasswordWrong,
		Field: "current_password", Message: "Your current password is not right. Type it again."})
}

func sameAddress(a, b string) bool { return hmisauth.UsernameKey(a) == hmisauth.UsernameKey(b) }

// Recovery is a security question the user chose, with its answer.
type Recovery struct {
	Question string
	Answer   string
}

// SetRecovery stores the signed-in user's security question and the Argon2id hash of its
// answer (compared later ignoring case and extra spaces). It is the setup_recovery required
// action on sites that ask a question after the reset link.
func (s *Service) SetRecovery(ctx context.Context, p *Principal, r Recovery) error {
	if err := s.requireReauth(p, hmisauth.ActionSetupRecovery); err != nil {
		return err
	}
	q, a := NormalizeSpaces(r.Question), NormalizeAnswer(r.Answer)
	if err := ValidateText("question", "question", q); err != nil {
		return err
	}
	switch {
	case utf8.RuneCountInString(q) < 10:
		return hmisauth.FieldError("question", "Write a question of at least 10 characters, one only you can answer.")
	case utf8.RuneCountInString(q) > 200:
		return hmisauth.FieldError("question", "Keep the question under 200 characters.")
	case utf8.RuneCountInString(a) < 3:
		return hmisauth.FieldError("answer", "The answer must be at least 3 characters.")
	case utf8.RuneCountInString(a) > 200:
		return hmisauth.FieldError("answer", "Keep the answer under 200 characters.")
	case strings.Contains(NormalizeAnswer(q), a):
		return hmisauth.FieldError("answer", "The answer must not be written in the question.")
	case a == NormalizeAnswer(p.User.Username):
		return hmisauth.FieldError("answer", "The answer must not be your username.")
	}
	hash, err := s.hasher.Hash(ctx, a)
	if err != nil {
		return err
	}
	if err := s.store.SetRecovery(s.auditAs(ctx, p, hmisauth.EventRecoveryChanged, ""), p.User.ID, q, hash); err != nil {
		return err
	}
	p.User.RecoveryQuestion, p.User.RecoveryAnswerHash = q, hash
	p.RequiredActions = RequiredActions(p.Site, p.User, s.clock.Now())
	s.log.InfoContext(ctx, "security question set", "site", p.Site.Key, "username", p.User.Username)
	return nil
}

// NormalizeSpaces trims and collapses runs of white space.
func NormalizeSpaces(s string) string { return strings.Join(strings.Fields(s), " ") }

// SendPasswordExpiryWarnings e-mails each user whose password expires within the site's
// warn_days, once per password. Several server processes may run it: each warning is recorded
// and queued in one atomic step. It returns how many it queued.
func (s *Service) SendPasswordExpiryWarnings(ctx context.Context) (int, error) {
	now, sent := s.clock.Now(), 0
	for _, site := range s.Sites() {
		pw := site.Policy.Password
		if pw.MaxAgeDays <= 0 || pw.WarnDays <= 0 {
			continue
		}
		// Passwords set in [from, to) expire within warn_days from now and have not yet.
		from := now.AddDate(0, 0, -pw.MaxAgeDays)
		to := now.AddDate(0, 0, pw.WarnDays-pw.MaxAgeDays)
		users, err := s.store.PasswordExpiryCandidates(ctx, site.Key, from, to)
		if err != nil {
			return sent, err
		}
		for _, u := range users {
			if u.MustChangePassword {
				continue
			}
			m, err := s.letters.Compose(hmisauth.Letter{Kind: hmisauth.MailPasswordExpiring, Site: site, To: u.Email,
				User: u, At: now, ExpiresOn: passwordExpiresAt(site, u)})
			if err != nil {
				return sent, err
			}
			ok, err := s.store.WarnPasswordExpiry(ctx, u.ID, u.PasswordChangedAt, m)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
	if sent > 0 {
		s.kick()
		s.log.InfoContext(ctx, "password expiry warnings queued", "count", sent)
	}
	return sent, nil
}

// PasswordExpiresSoon reports when the principal's password expires, if that is within the
// site's warn_days (the account page shows a notice then).
func (p *Principal) PasswordExpiresSoon(now time.Time) (time.Time, bool) {
	days := p.Site.Policy.Password.WarnDays
	if p.PasswordExpiresAt.IsZero() || days <= 0 {
		return time.Time{}, false
	}
	return p.PasswordExpiresAt, !now.Before(p.PasswordExpiresAt.AddDate(0, 0, -days))
}
