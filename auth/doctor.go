package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/hmisauth/hmisauth"
)

// Diagnosis is the login doctor's answer for one account: every reason the user cannot sign
// in (or recover) right now, with what fixes each.
type Diagnosis struct {
	Site     *hmisauth.Site
	User     *hmisauth.User
	Agency   *hmisauth.Agency // nil: no agency
	Problems []hmisauth.Problem
	// Factors is the account's 2-step verification (filled for one account, not for lists).
	Factors *hmisauth.SecondFactors
	// Departure is why and when a disabled account was disabled (filled for one account, and
	// nil when it is enabled or was disabled before reasons were kept).
	Departure *hmisauth.Departure
	// Trainings are the account's completed trainings, newest first (filled, and the training
	// gate's problems added, for one account, not for lists).
	Trainings []*hmisauth.TrainingRecord
}

// addTrainings loads the account's trainings into d and adds the training gate's problems.
func (s *Service) addTrainings(ctx context.Context, d *Diagnosis) error {
	records, err := s.store.Trainings(ctx, d.User.ID)
	if err != nil {
		return err
	}
	d.Trainings = records
	now := s.clock.Now()
	d.Problems = withTraining(d.Problems, append(TrainingProblems(d.Site, d.User, records, now),
		inactiveTrainingProblems(d.Site, d.User, records, now)...))
	return nil
}

// Diagnose runs the login doctor for a user.
func (s *Service) Diagnose(ctx context.Context, siteKey, username string) (*Diagnosis, error) {
	site, u, err := s.FindUser(ctx, siteKey, username)
	if err != nil {
		return nil, err
	}
	d := &Diagnosis{Site: site, User: u}
	if u.AgencyID != 0 {
		if d.Agency, err = s.store.Agency(ctx, site.Key, u.AgencyID); err != nil {
			return nil, err
		}
	}
	d.Problems = Problems(site, u, d.Agency, s.clock.Now())
	if err := s.addTrainings(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// Problems lists, most blocking first, why u cannot sign in or recover at now. It is a pure
// function of the account so the web console, API and CLI all say the same.
func Problems(site *hmisauth.Site, u *hmisauth.User, agency *hmisauth.Agency, now time.Time) []hmisauth.Problem {
	var ps []hmisauth.Problem
	add := func(blocking bool, code string, since time.Time, msg, fix string) {
		ps = append(ps, hmisauth.Problem{Code: code, Since: since, Message: msg, Fix: fix, Blocking: blocking})
	}
	cmd := func(verb string) string {
		return fmt.Sprintf("hmisauth user %s --site %s %s", verb, site.Key, u.Username)
	}
	today := site.Today(now)

	if u.Disabled {
		add(true, hmisauth.ProblemDisabled, u.DisabledAt, "The account is disabled.",
			"Enable it if the person should still have access ("+cmd("enable")+").")
	}
	if u.Locked() {
		auto := ""
		if after := site.Policy.Lockout.AutoUnlockAfter; after > 0 {
			auto = fmt.Sprintf(" It unlocks by itself at %s.", u.LockedAt.Add(after).In(site.Loc()).Format("Jan 2 3:04 PM MST"))
		}
		add(true, hmisauth.ProblemLocked, u.LockedAt,
			fmt.Sprintf("Locked after %d failed sign-in attempts; the last at %s.%s", u.FailedAttempts,
				u.LastFailedAt.In(site.Loc()).Format("Jan 2 3:04 PM MST"), auto),
			"Confirm who is calling, then unlock ("+cmd("unlock")+"), or issue a temporary password, which also unlocks."+resetUnlocks(site, u))
	}
	ps = append(ps, inactivityProblems(site, u, now)...)
	if agency != nil && agency.LicenseExpired(today) {
		add(true, hmisauth.ProblemLicenseExpired, dayAfter(site, agency.LicenseExpires),
			fmt.Sprintf("The license of %s expired on %s.", agency.Name, agency.LicenseExpires),
			fmt.Sprintf("Renew the agency's license (hmisauth agency update --site %s --name %q --license-expires YYYY-MM-DD).", site.Key, agency.Name))
	}
	if !u.AgreementExpiresOn.IsZero() && u.AgreementExpiresOn.Before(today) {
		add(true, hmisauth.ProblemAgreementExpired, dayAfter(site, u.AgreementExpiresOn),
			fmt.Sprintf("The signed user agreement expired on %s.", u.AgreementExpiresOn),
			"Have the user, supervisor and executive director sign a new agreement, then record it ("+cmd("agreement")+" --signed YYYY-MM-DD).")
	}
	if u.PasswordTemporary {
		switch exp := u.PasswordChangedAt.Add(site.Policy.TemporaryPasswordTTL); {
		case !u.TemporaryUsedAt.IsZero():
			add(true, hmisauth.ProblemTemporaryPasswordUsed, u.TemporaryUsedAt,
				"The temporary password was used to sign in, but no new password was chosen; it cannot be used again.",
				"Issue a new temporary password ("+cmd("temp-password")+").")
		case now.After(exp):
			add(true, hmisauth.ProblemTemporaryPasswordExpired, exp,
				"The temporary password expired before it was used.",
				"Issue a new temporary password ("+cmd("temp-password")+").")
		}
	} else if passwordExpired(site, u, now) {
		add(false, hmisauth.ProblemPasswordExpired, passwordExpiresAt(site, u),
			"The password has expired.",
			"Nothing to do if they remember it: they choose a new one at their next sign-in. Otherwise issue a temporary password.")
	}
	if u.TermsVersion < site.Policy.Terms.Version {
		add(false, hmisauth.ProblemTermsNotAccepted, time.Time{},
			fmt.Sprintf("Has not accepted version %d of the Terms of Agreement.", site.Policy.Terms.Version),
			"Nothing to do: they are asked to accept at their next sign-in.")
	}
	if u.Email == "" {
		add(false, hmisauth.ProblemNoEmail, time.Time{},
			"No e-mail address on file, so they cannot reset a forgotten password themselves.",
			"Add their work e-mail address ("+cmd("update")+" --email ADDRESS).")
	}
	if site.RequiresSecurityQuestion() && u.RecoveryQuestion == "" {
		add(false, hmisauth.ProblemNoRecoveryInfo, time.Time{},
			"No security question set, which this site requires for self-service password reset.",
			"Nothing to do now: they are asked to set one at their next sign-in. Until then, issue a temporary password if they forget theirs.")
	}
	return ps
}

// dayAfter is the first moment a date-bound thing (valid through its date) is expired.
func dayAfter(site *hmisauth.Site, d hmisauth.Date) time.Time {
	t := site.StartOf(d)
	if t.IsZero() {
		return t
	}
	return t.AddDate(0, 0, 1)
}

// Status is the account's state in one word: disabled, locked or active.
func Status(u *hmisauth.User) string {
	switch {
	case u.Disabled:
		return "disabled"
	case u.Locked():
		return "locked"
	}
	return "active"
}

// resetUnlocks adds, where the site lets a reset unlock, that the user can do it themselves.
func resetUnlocks(site *hmisauth.Site, u *hmisauth.User) string {
	if !site.Policy.Lockout.ResetUnlocks || u.Email == "" {
		return ""
	}
	return " Or the person can use \"Forgot password\": on this site a reset by e-mail also unlocks."
}
