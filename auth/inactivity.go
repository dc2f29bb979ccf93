package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/hmisauth/hmisauth"
)

// Tiered inactivity (CONTRACT.md "Compliance"): a site's policy.inactivity is a list of steps,
// each taken once an account has been unused for its After: lock (sign-in refused until the
// helpdesk issues a temporary password), require_training (sign-in refused until the named
// training is recorded as completed on or after the day the step applied) and disable (the
// daily job disables the account, reason "inactive"). Without policy.inactivity, a site's
// inactive_lock_days is the one step "lock after that many days", as it always was.

// InactivityWarnDays is how many days before an inactivity step applies its warning e-mail
// goes out. It is fixed, not policy.reminder_days: that is sized for renewing a license or an
// agreement (a month), and a month's warning of a 60-day lock would go to anyone who has not
// signed in for a month; a week is enough to sign in once.
const InactivityWarnDays = 7

// inactivitySteps are the site's inactivity steps, in ascending After.
func inactivitySteps(site *hmisauth.Site) []hmisauth.InactivityStep {
	if len(site.Policy.Inactivity) > 0 {
		return site.Policy.Inactivity
	}
	if days := site.Policy.InactiveLockDays; days > 0 {
		return []hmisauth.InactivityStep{{After: time.Duration(days) * 24 * time.Hour, Action: hmisauth.InactivityLock}}
	}
	return nil
}

// lastActive is the account's last activity: the last sign-in, its creation, or a password
// set (by the helpdesk's temporary password or the user's own reset), whichever is latest. A
// temporary password is how the helpdesk reactivates a locked account.
func lastActive(u *hmisauth.User) time.Time {
	last := lastSignIn(u)
	if u.PasswordChangedAt.After(last) {
		last = u.PasswordChangedAt
	}
	return last
}

// lastSignIn is the last sign-in, or the account's creation. A require_training step counts
// from it and not from a password set: the temporary password that lifts the lock must not
// lift the training the person needs after months away.
func lastSignIn(u *hmisauth.User) time.Time {
	if u.LastLoginAt.After(u.CreatedAt) {
		return u.LastLoginAt
	}
	return u.CreatedAt
}

// stepAt is when step applies to u: its After past the activity it counts from. Whole days
// are calendar days (as inactive_lock_days always were), so a clock change in between does
// not move the step by an hour.
func stepAt(u *hmisauth.User, step hmisauth.InactivityStep) time.Time {
	from := stepFrom(u, step)
	if step.After%(24*time.Hour) == 0 {
		return from.AddDate(0, 0, int(step.After/(24*time.Hour)))
	}
	return from.Add(step.After)
}

// stepFrom is the activity step counts from.
func stepFrom(u *hmisauth.User, step hmisauth.InactivityStep) time.Time {
	if step.Action == hmisauth.InactivityRequireTraining {
		return lastSignIn(u)
	}
	return lastActive(u)
}

// stepInForce reports whether a step applying at `at` applies at now: strictly after, as the
// inactivity lock always was.
func stepInForce(at, now time.Time) bool { return !at.IsZero() && at.Before(now) }

// inactiveSince is when the account became inactive under the site's first lock (or
// disable) step, or zero if the site has none: the time sign-in starts refusing it as
// inactive.
func inactiveSince(site *hmisauth.Site, u *hmisauth.User) time.Time {
	for _, st := range inactivitySteps(site) {
		if st.Action != hmisauth.InactivityRequireTraining {
			return stepAt(u, st)
		}
	}
	return time.Time{}
}

// inactiveAfterDays is the After, in days, of the step inactiveSince counts to.
func inactiveAfterDays(site *hmisauth.Site) int {
	for _, st := range inactivitySteps(site) {
		if st.Action != hmisauth.InactivityRequireTraining {
			return int(st.After / (24 * time.Hour))
		}
	}
	return 0
}

// trainedSince reports whether a completion of kind is dated on or after day.
func trainedSince(trainings []*hmisauth.TrainingRecord, kind string, day hmisauth.Date) bool {
	for _, t := range trainings {
		if t.Kind == kind && !t.CompletedOn.Before(day) {
			return true
		}
	}
	return false
}

// pendingTrainingStep is the require_training step in force for u whose training has not
// been recorded since it applied, with when it applied; ok false when there is none.
func pendingTrainingStep(site *hmisauth.Site, u *hmisauth.User, trainings []*hmisauth.TrainingRecord, now time.Time) (hmisauth.InactivityStep, time.Time, bool) {
	for _, st := range inactivitySteps(site) {
		if st.Action != hmisauth.InactivityRequireTraining {
			continue
		}
		at := stepAt(u, st)
		if stepInForce(at, now) && !trainedSince(trainings, st.Training, site.Today(at)) {
			return st, at, true
		}
	}
	return hmisauth.InactivityStep{}, time.Time{}, false
}

// needsTrainingCheck reports whether a require_training step is in force for u, so sign-in
// reads the user's trainings only then.
func needsTrainingCheck(site *hmisauth.Site, u *hmisauth.User, now time.Time) bool {
	for _, st := range inactivitySteps(site) {
		if st.Action == hmisauth.InactivityRequireTraining && stepInForce(stepAt(u, st), now) {
			return true
		}
	}
	return false
}

// inactivityBlock is the problem code for which the inactivity policy refuses u's sign-in at
// now, or "": inactive (a lock or disable step), or inactive_training.
func (s *Service) inactivityBlock(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, now time.Time) (string, error) {
	if since := inactiveSince(site, u); stepInForce(since, now) {
		return hmisauth.ProblemInactive, nil
	}
	if !needsTrainingCheck(site, u, now) {
		return "", nil
	}
	trainings, err := s.store.Trainings(ctx, u.ID)
	if err != nil {
		return "", err
	}
	if _, _, ok := pendingTrainingStep(site, u, trainings, now); ok {
		return hmisauth.ProblemInactiveTraining, nil
	}
	return "", nil
}

// inactivityDays is how many whole days u has been unused at now, for the doctor's words.
func inactivityDays(from, now time.Time) int { return int(now.Sub(from) / (24 * time.Hour)) }

// inactivityProblems is the login doctor's finding for a lock (or disable) step in force:
// a pure function of the account, like Problems.
func inactivityProblems(site *hmisauth.Site, u *hmisauth.User, now time.Time) []hmisauth.Problem {
	since := inactiveSince(site, u)
	if !stepInForce(since, now) {
		return nil
	}
	last := lastActive(u)
	return []hmisauth.Problem{{Code: hmisauth.ProblemInactive, Since: since, Blocking: true,
		Message: fmt.Sprintf("Inactive %d days (not used since %s), so sign-in is refused as inactive.",
			inactivityDays(last, now), last.In(site.Loc()).Format("Jan 2, 2006")),
		Fix: fmt.Sprintf("If the person still needs access, issue a temporary password (hmisauth user temp-password --site %s %s), which reactivates the account.",
			site.Key, u.Username)}}
}

// inactiveTrainingProblems is the login doctor's finding for a require_training step in
// force whose training is not recorded since it applied, given the user's trainings.
func inactiveTrainingProblems(site *hmisauth.Site, u *hmisauth.User, trainings []*hmisauth.TrainingRecord, now time.Time) []hmisauth.Problem {
	st, at, ok := pendingTrainingStep(site, u, trainings, now)
	if !ok {
		return nil
	}
	return []hmisauth.Problem{{Code: hmisauth.ProblemInactiveTraining, Since: at, Blocking: true,
		Message: fmt.Sprintf("Inactive %d days: must complete %s training again (completed on or after %s).",
			inactivityDays(lastSignIn(u), now), st.Training, site.Today(at)),
		Fix: fmt.Sprintf("When they have completed %s training, record it on the user's page (hmisauth user training --site %s %s --kind %s --completed YYYY-MM-DD).",
			st.Training, site.Key, u.Username, st.Training)}}
}

// RecordInactiveAccounts is the daily job of the inactivity policy. Sign-in already refuses an
// account a lock or require_training step applies to (worked out at each attempt); for each
// enabled account this
//
//   - appends an account_inactive audit event once per lock or require_training step and
//     spell of inactivity, so the helpdesk sees when it happened;
//   - disables the account when a disable step applies (audited user_disabled, departure
//     reason "inactive", its sessions ended);
//   - queues the warning e-mail of each step InactivityWarnDays before it applies, once per
//     step and spell (Store.Remind, kind inactivity_warning), to users with an address.
//
// It returns how many steps it recorded or applied (warnings not counted).
func (s *Service) RecordInactiveAccounts(ctx context.Context) (int, error) {
	now, n, sent := s.clock.Now(), 0, 0
	ctx = WithActor(ctx, Actor{Username: JobActor})
	for _, site := range s.Sites() {
		steps := inactivitySteps(site)
		if len(steps) == 0 {
			continue
		}
		users, err := s.siteUsers(ctx, site.Key)
		if err != nil {
			return n, err
		}
		for _, u := range users {
			if u.Disabled {
				continue
			}
			for _, st := range steps {
				at := stepAt(u, st)
				if !stepInForce(at, now) {
					q, err := s.warnInactivity(ctx, site, u, st, at, now)
					if err != nil {
						return n, err
					}
					sent += q
					continue
				}
				done, err := s.applyInactivityStep(ctx, site, u, st, at, now)
				if err != nil {
					return n, err
				}
				if done {
					n++
				}
				if st.Action == hmisauth.InactivityDisable {
					break
				}
			}
		}
	}
	if sent > 0 {
		s.kick()
		s.log.InfoContext(ctx, "inactivity warnings queued", "count", sent)
	}
	if n > 0 {
		s.log.InfoContext(ctx, "inactive accounts recorded", "count", n)
	}
	return n, nil
}

// applyInactivityStep records (lock, require_training) or takes (disable) a step in force,
// reporting whether it did anything this time.
func (s *Service) applyInactivityStep(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, st hmisauth.InactivityStep, at, now time.Time) (bool, error) {
	days := int(st.After / (24 * time.Hour))
	if st.Action == hmisauth.InactivityDisable {
		detail := fmt.Sprintf("reason: %s (not used for %d days)", hmisauth.DepartureInactive, days)
		count := s.countEnded(ctx, site.Key, u.ID, 0, hmisauth.EndedByHelpdesk)
		err := s.store.Disable(s.audit(ctx, site, hmisauth.EventUserDisabled, u.Username, detail), &hmisauth.Departure{
			UserID: u.ID, Reason: hmisauth.DepartureInactive, ReportedOn: site.Today(now), DisabledAt: now, DisabledBy: JobActor})
		count(err)
		if err != nil {
			return false, err
		}
		u.Disabled = true
		return true, nil
	}
	detail := fmt.Sprintf("inactive since %s (not used for %d days)", at.In(site.Loc()).Format(reportTimeLayout), days)
	if st.Action == hmisauth.InactivityRequireTraining {
		detail += fmt.Sprintf(": must complete %s training again", st.Training)
	}
	return s.store.Remind(s.audit(ctx, site, hmisauth.EventAccountInactive, u.Username, detail),
		hmisauth.Reminder{Site: site.Key, Kind: hmisauth.ReminderInactive, TargetID: u.ID,
			Due: at.UTC().Format(time.RFC3339Nano), At: now}, nil)
}

// warnInactivity queues, once, the warning of a step not yet in force when it applies within
// InactivityWarnDays; it returns how many messages it queued.
func (s *Service) warnInactivity(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, st hmisauth.InactivityStep, at, now time.Time) (int, error) {
	if u.Email == "" || at.After(now.AddDate(0, 0, InactivityWarnDays)) {
		return 0, nil
	}
	step := st
	m, err := s.letters.Compose(hmisauth.Letter{Kind: hmisauth.MailInactivityWarning, Site: site, To: u.Email,
		User: u, At: stepFrom(u, st), ExpiresOn: at, Step: &step})
	if err != nil {
		return 0, err
	}
	return s.remind(ctx, hmisauth.Reminder{Site: site.Key, Kind: hmisauth.ReminderInactivityWarning, TargetID: u.ID,
		Due: at.UTC().Format(time.RFC3339Nano), At: now}, []*hmisauth.Message{m})
}
