package auth

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// requestBatch is how many queued reset requests one ProcessResetRequests call claims. The
// limits on requests are site policy: hmisauth.ResetLimits.
const requestBatch = 50

// requestLease is how long a claimed request is this process's alone, as the outbox's
// (mail.WorkerOptions.Lease): handling one takes a few statements, and a request whose
// process died waits this long before another handles it.
const requestLease = time.Minute

// requestGiveUp is how old a request may get while handling it keeps failing (a site no longer
// configured, a letter that cannot be composed) before it is dropped: a link that comes later
// than that is no longer what the user waits for, who has asked again or called the helpdesk.
const requestGiveUp = time.Hour

// ForgotRequest is "I forgot my password" for a username on a site.
type ForgotRequest struct {
	Site       string
	Username   string
	ClientAddr string
}

// RequestReset accepts a "forgot password" request. Whoever the username belongs to — a real
// user, nobody, a locked or disabled account, one without an e-mail address — it does the same
// single write (queue the request) and answers the same nothing, so neither words nor time
// tell an outsider whether the account exists. ProcessResetRequests does the rest.
func (s *Service) RequestReset(ctx context.Context, req ForgotRequest) error {
	site, err := s.Site(req.Site)
	if err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(req.Username) == "":
		return hmisauth.FieldError("username", "Enter your username.")
	case utf8.RuneCountInString(req.Username) > MaxUsernameLength:
		return hmisauth.FieldError("username", "That is longer than any username. Check what you typed.")
	}
	now := s.clock.Now()
	lim := site.Policy.ResetLimits
	typed := strings.TrimSpace(req.Username)
	ok, err := s.store.HitRateLimit(ctx, "forgot-addr:"+site.Key+":"+req.ClientAddr, lim.AddressWindow, lim.PerAddress, now)
	if err != nil {
		return err
	} else if !ok {
		// Refused in so many words (429): the limit is the address's, so the answer says
		// nothing about the username.
		ev := s.newEvent(ctx, site, hmisauth.EventResetRequested, typed, "refused: too many requests from this address")
		if s.refused(ctx, site, hmisauth.Refusal{Kind: hmisauth.RefusalResetDropped, Key: req.ClientAddr, Value: typed}, ev) {
			s.log.WarnContext(ctx, "reset requests rate-limited", "site", site.Key, "client", req.ClientAddr)
		}
		return s.forgotLimited(site, now)
	}
	ctx = s.audit(ctx, site, hmisauth.EventResetRequested, typed, "")
	err = s.store.QueueResetRequest(ctx, &hmisauth.ResetRequest{Site: site.Key, Username: typed,
		ClientAddr: req.ClientAddr, At: now})
	if err == nil {
		s.metrics.ResetRequested(site.Key)
		s.kick()
	}
	return err
}

// ProcessResetRequests turns queued requests into reset links and e-mails, and reports how many
// it claimed. Several server processes may run it at once: each request is leased to one
// (Store.ClaimResetRequests), and removed from the queue only once it has been handled — its
// link stored and e-mail queued (Store.StartReset), or nothing to send decided (unknown user,
// no address, rate-limited …). So a request whose process dies in between is not lost: it is
// handled again when the lease ends. If the link had already been stored, that sends nothing
// new while the first link is recent (ResetLimits.ResendAfter), or else a second e-mail with a
// newer link that supersedes the first: better than a request acknowledged and never answered.
// A request whose handling fails stays leased and is tried again when the lease ends, until
// requestGiveUp.
func (s *Service) ProcessResetRequests(ctx context.Context) (int, error) {
	reqs, err := s.store.ClaimResetRequests(ctx, s.clock.Now(), requestLease, requestBatch)
	if err != nil {
		return 0, err
	}
	// Past the lease (measured on the monotonic clock) another process may claim the same
	// requests and send a second link, so none is started unless it can finish; the rest stay
	// leased and are handled when the lease ends.
	end := time.Now().Add(requestLease * 9 / 10)
	for i, r := range reqs {
		if ctx.Err() != nil {
			break
		}
		if time.Until(end) <= 0 {
			s.log.WarnContext(ctx, "reset requests: lease ran out; the rest of the batch waits for it to end", "left", len(reqs)-i)
			break
		}
		err := s.processResetRequest(ctx, r)
		if err != nil {
			if age := s.clock.Now().Sub(r.At); age < requestGiveUp {
				s.log.ErrorContext(ctx, "reset request failed; will retry", "site", r.Site, "username", r.Username, "err", err)
				continue
			}
			s.log.ErrorContext(ctx, "reset request failed for too long: dropped", "site", r.Site, "username", r.Username,
				"requested", r.At, "err", err)
		}
		// Handled, even if ctx ended meanwhile (a shutdown): a request left queued would be
		// handled again.
		if ended, err := s.store.EndResetRequest(context.WithoutCancel(ctx), r); err != nil {
			s.log.ErrorContext(ctx, "reset request handled but not removed; it will be handled again", "site", r.Site,
				"username", r.Username, "err", err)
		} else if !ended {
			s.log.WarnContext(ctx, "reset requests: the lease ran out and another process took the request; it may be answered twice",
				"site", r.Site, "username", r.Username)
		}
	}
	if len(reqs) > 0 {
		s.kick()
	}
	return len(reqs), nil
}

func (s *Service) processResetRequest(ctx context.Context, r *hmisauth.ResetRequest) error {
	site, err := s.Site(r.Site)
	if err != nil {
		return err
	}
	log := s.log.With("site", site.Key, "username", hmisauth.UsernameKey(r.Username), "client", r.ClientAddr)
	u, err := s.store.User(ctx, site.Key, r.Username)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		log.InfoContext(ctx, "reset requested for unknown username")
		return nil
	} else if err != nil {
		return err
	}
	switch {
	case u.Disabled:
		log.InfoContext(ctx, "reset requested for disabled account: nothing sent")
		return nil
	case u.Email == "":
		log.InfoContext(ctx, "reset requested for account without e-mail: nothing sent")
		return nil
	}
	now := s.clock.Now()
	lim := site.Policy.ResetLimits
	if ok, err := s.store.HitRateLimit(ctx, "reset-user:"+site.Key+":"+hmisauth.UsernameKey(u.Username), time.Hour, lim.PerAccountPerHour, now); err != nil {
		return err
	} else if !ok {
		log.WarnContext(ctx, "reset requests for this account rate-limited: nothing sent")
		return nil
	}
	letter := hmisauth.Letter{Site: site, To: u.Email, User: u, At: r.At, ClientAddr: r.ClientAddr}
	if u.Locked() && !site.Policy.Lockout.ResetUnlocks {
		// No working link while locked: the e-mail says to call the helpdesk instead.
		letter.Kind = hmisauth.MailResetLocked
		m, err := s.letters.Compose(letter)
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "reset requested for locked account: helpdesk e-mail queued")
		return s.store.EnqueueMail(ctx, m)
	}
	if last, err := s.store.LastResetAt(ctx, u.ID, now); err != nil {
		return err
	} else if !last.IsZero() && now.Sub(last) < lim.ResendAfter {
		log.InfoContext(ctx, "reset asked again within minutes: the link already sent stays valid")
		return nil
	}
	token, hash := newToken()
	ttl := site.Policy.ResetLinkTTL
	letter.Kind, letter.ExpiresIn, letter.Unlocks = hmisauth.MailReset, ttl, u.Locked()
	letter.Link = fmt.Sprintf("%s/%s/reset-password?token=%s", s.publicURL, site.Key, token)
	m, err := s.letters.Compose(letter)
	if err != nil {
		return err
	}
	// The link lives from when it is made; the e-mail's words count from the request.
	t := &hmisauth.ResetToken{UserID: u.ID, Site: site.Key, TokenHash: hash, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.StartReset(ctx, t, m); err != nil {
		return err
	}
	log.InfoContext(ctx, "reset link queued")
	return nil
}

// ResetLink is what a live reset link shows before the new password is typed.
type ResetLink struct {
	Site             *hmisauth.Site
	User             *hmisauth.User
	ExpiresAt        time.Time
	SecurityQuestion string // set when the site asks it after the link
	// Unlocks says the account is locked and completing this reset unlocks it (the site's
	// lockout.reset_unlocks); a locked account on any other site cannot reset.
	Unlocks bool
}

// Refused is the error completing this reset would end in whatever is typed (the account is
// locked and the site does not let a reset unlock it), or nil.
func (l *ResetLink) Refused() error {
	if l.User.Locked() && !l.Unlocks {
		return lockedError(l.Site)
	}
	return nil
}

// OpenResetLink checks a reset link's token. Unknown, used, expired and superseded links are
// all ETokenInvalid: which one it was helps nobody but an attacker. Links that do not work
// count against the client address's rate limit (ratelimit.go), so tokens cannot be guessed
// at speed.
func (s *Service) OpenResetLink(ctx context.Context, siteKey, token string) (_ *ResetLink, err error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, err
	}
	lim, err := s.reserveResetLink(ctx, site)
	if err != nil {
		return nil, err
	}
	defer func() { s.settle(ctx, lim, err) }()
	t, err := s.liveToken(ctx, site, token)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, tokenInvalid()
	}
	link := &ResetLink{Site: site, User: u, ExpiresAt: t.ExpiresAt,
		Unlocks: u.Locked() && site.Policy.Lockout.ResetUnlocks}
	if site.RequiresSecurityQuestion() {
		if u.RecoveryQuestion == "" {
			return nil, recoveryUnavailable(site)
		}
		link.SecurityQuestion = u.RecoveryQuestion
	}
	return link, nil
}

func (s *Service) liveToken(ctx context.Context, site *hmisauth.Site, token string) (*hmisauth.ResetToken, error) {
	if token == "" || len(token) > 128 {
		return nil, tokenInvalid()
	}
	t, err := s.store.ResetToken(ctx, HashToken(token), s.clock.Now())
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND || (err == nil && t.Site != site.Key) {
		return nil, tokenInvalid()
	}
	return t, err
}

func tokenInvalid() error {
	return &hmisauth.Error{Code: hmisauth.ETokenInvalid,
		Message: "This reset link no longer works: it was already used, it expired, or a newer link was sent. Ask for a new link below."}
}

func recoveryUnavailable(site *hmisauth.Site) error {
	return hmisauth.Errorf(hmisauth.ERecoveryUnavailable,
		"Your account has no security question set up, which %s needs for a reset by e-mail. Contact the helpdesk at %s to get a temporary password.",
		site.Name, site.Helpdesk.Contact())
}

// ResetRequest is the form behind a reset link: the new password twice, and the answer to
// the security question where the site asks one.
type ResetRequest struct {
	Site           string
	Token          string
	New            string
	Confirm        string
	SecurityAnswer string
}

// CompleteReset sets a new password through a reset link. On success every session of the user
// ends, the failure count clears and a "password changed" notice is queued; the user then signs
// in with the new password. A wrong security answer counts as a failed sign-in attempt. A
// locked account cannot reset, unless the site lets a reset unlock it (it is then unlocked).
func (s *Service) CompleteReset(ctx context.Context, req ResetRequest) error {
	link, err := s.OpenResetLink(ctx, req.Site, req.Token)
	if err != nil {
		return err
	}
	site, u := link.Site, link.User
	if err := link.Refused(); err != nil {
		return err
	}
	if err := s.checkNewPassword(site, u, req.New, req.Confirm); err != nil {
		return err
	}
	slot, err := s.hasher.Acquire(ctx)
	if err != nil {
		return err
	}
	defer slot.Release()
	if link.SecurityQuestion != "" {
		if err := s.checkSecurityAnswer(ctx, slot, link, req.SecurityAnswer); err != nil {
			return err
		}
	}
	hash, err := s.hashNewPassword(ctx, slot, site, u, req.New)
	if err != nil {
		return err
	}
	slot.Release()

	now := s.clock.Now()
	notice, err := s.passwordChangedNotice(site, u, now, "")
	if err != nil {
		return err
	}
	detail := "through an e-mailed link"
	if link.Unlocks {
		detail += ", which also unlocked the account"
	}
	ctx = s.audit(ctx, site, hmisauth.EventResetCompleted, u.Username, detail)
	count := s.countEnded(ctx, site.Key, u.ID, 0, hmisauth.EndedPasswordChanged)
	err = s.store.CompleteReset(ctx, HashToken(req.Token), now, hmisauth.PasswordChange{
		UserID: u.ID, Hash: hash, At: now, History: site.Policy.Password.History, Mail: notice,
	})
	count(err)
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return tokenInvalid() // used or superseded while the form was being filled in
	} else if err != nil {
		return err
	}
	s.metrics.ResetCompleted(site.Key)
	s.kick()
	s.log.InfoContext(ctx, "password reset", "site", site.Key, "username", u.Username)
	return nil
}

// answerWindow is the period in which a locked account whose reset would unlock it gets its
// threshold of security answers: the lockout cannot count them, the account being locked.
const answerWindow = 24 * time.Hour

// checkSecurityAnswer compares the answer with the stored hash, counting it like a sign-in
// attempt: the same atomic reservation, so guessing answers locks the account just as
// guessing passwords does. The count clears when the reset succeeds. On an account already
// locked whose reset would unlock it, answers are counted apart instead: the threshold a day.
func (s *Service) checkSecurityAnswer(ctx context.Context, slot *password.Slot, link *ResetLink, answer string) error {
	site, u := link.Site, link.User
	if strings.TrimSpace(answer) == "" {
		return hmisauth.FieldError("security_answer", "Type the answer to your security question.")
	}
	key := hmisauth.UsernameKey(u.Username)
	threshold := site.Policy.Lockout.Threshold
	if link.Unlocks {
		ok, err := s.store.HitRateLimit(ctx, "reset-answer:"+site.Key+":"+key, answerWindow, threshold, s.clock.Now())
		if err != nil {
			return err
		} else if !ok {
			return hmisauth.Errorf(hmisauth.EAccountLocked,
				"Your account is locked, and the security answer was wrong too many times. Contact the helpdesk at %s to unlock it, or use \"Forgot password\" again tomorrow.",
				site.Helpdesk.Contact())
		}
		if ok, _, err := slot.Verify(NormalizeAnswer(answer), u.RecoveryAnswerHash); err != nil || ok {
			return err
		}
		s.record(ctx, s.newEvent(ctx, site, hmisauth.EventSecurityAnswerWrong, u.Username, "account locked"))
		return wrongAnswer("after too many wrong answers, only the helpdesk can unlock your account until tomorrow")
	}
	attempt, err := s.store.ReserveLoginAttempt(ctx, site.Key, key, threshold, s.clock.Now())
	if err != nil {
		return err
	}
	if !attempt.Allowed {
		return lockedError(site)
	}
	ok, _, err := slot.Verify(NormalizeAnswer(answer), u.RecoveryAnswerHash)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	s.log.InfoContext(ctx, "security answer wrong", "site", site.Key, "username", u.Username, "attempt", attempt.Count)
	evs := []*hmisauth.Event{s.newEvent(ctx, site, hmisauth.EventSecurityAnswerWrong, u.Username, "")}
	if attempt.Count >= site.Policy.Lockout.Threshold {
		evs = append(evs, s.newEvent(ctx, site, hmisauth.EventAccountLocked, u.Username,
			fmt.Sprintf("locked after %d failed attempts", attempt.Count)))
	}
	s.record(ctx, evs...)
	if attempt.Count >= site.Policy.Lockout.Threshold {
		return lockedError(site)
	}
	return wrongAnswer("too many wrong answers lock your account")
}

// wrongAnswer refuses a wrong security answer, with what too many of them do.
func wrongAnswer(tooMany string) error {
	return &hmisauth.Error{Code: hmisauth.ESecurityAnswerWrong, Field: "security_answer",
		Message: "That answer is not right. Check it and try again; " + tooMany + "."}
}

// NormalizeAnswer is how security answers are compared: case and extra spaces ignored.
func NormalizeAnswer(s string) string {
	return strings.ToLower(NormalizeSpaces(s))
}
