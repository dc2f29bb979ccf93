package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
)

// The training gate (CONTRACT.md "Compliance"): a site's policy.training.required kinds must
// each have a completion that still counts (hmisauth.TrainingCurrent) before a user signs in,
// and keep one after. Completions are recorded here, from the console, the API, the command
// line and the bulk import alike.

// RecordTraining records that the user completed a training of kind on completed, audited as
// training_recorded with the context's actor as RecordedBy. The kind must be one the site
// defines, and the date not after today in the site's timezone.
func (s *Service) RecordTraining(ctx context.Context, siteKey, username, kind string, completed hmisauth.Date) (*hmisauth.User, error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, err
	}
	kind = strings.TrimSpace(kind)
	if err := checkTraining(site, kind, completed, site.Today(s.clock.Now()), "kind", "completed_on"); err != nil {
		return nil, err
	}
	return s.adminStep(ctx, siteKey, username, hmisauth.EventTrainingRecorded, trainingDetail(kind, completed),
		func(ctx context.Context, u *hmisauth.User) error {
			return s.store.RecordTraining(ctx, &hmisauth.TrainingRecord{UserID: u.ID, Kind: kind, CompletedOn: completed,
				RecordedBy: ActorOf(ctx).Username, RecordedAt: s.clock.Now()})
		})
}

// RecordTraining records a completed training of an account in scope: an agency admin only
// for their own agency's users.
func (a *Admin) RecordTraining(ctx context.Context, username, kind string, completed hmisauth.Date) (*hmisauth.User, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	return a.svc.RecordTraining(a.actor(ctx), a.p.Site.Key, u.Username, kind, completed)
}

// Trainings lists the completed trainings of an account in scope, newest first.
func (a *Admin) Trainings(ctx context.Context, username string) ([]*hmisauth.TrainingRecord, error) {
	u, err := a.target(ctx, username)
	if err != nil {
		return nil, err
	}
	return a.svc.store.Trainings(ctx, u.ID)
}

func trainingDetail(kind string, completed hmisauth.Date) string {
	return kind + " completed " + string(completed)
}

// checkTraining refuses a kind the site does not define or a date that is missing or after
// today; kindField and dateField name the fields in the errors.
func checkTraining(site *hmisauth.Site, kind string, completed, today hmisauth.Date, kindField, dateField string) error {
	kinds := TrainingKinds(site)
	switch {
	case len(kinds) == 0:
		return hmisauth.FieldError(kindField, site.Name+" records no trainings: its policy.training.kinds is empty.")
	case !slices.Contains(kinds, kind):
		return hmisauth.FieldError(kindField, fmt.Sprintf("%q is not a training %s records. Choose one of: %s.",
			kind, site.Name, strings.Join(kinds, ", ")))
	case completed.IsZero():
		return hmisauth.FieldError(dateField, "Enter the date the training was completed.")
	case today.Before(completed):
		return hmisauth.FieldError(dateField, "The completion date cannot be after today.")
	}
	return nil
}

// TrainingKinds lists the site's kinds of training in a stable order (by key).
func TrainingKinds(site *hmisauth.Site) []string {
	kinds := make([]string, 0, len(site.Policy.Training.Kinds))
	for k := range site.Policy.Training.Kinds {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// trainingBlock is the training gate's part of blockedReason: "" when the site requires no
// training or the user has every required one, current.
func (s *Service) trainingBlock(ctx context.Context, site *hmisauth.Site, u *hmisauth.User, today hmisauth.Date) (string, error) {
	if len(site.Policy.Training.Required) == 0 {
		return "", nil // no query on sites without the gate: sign-in is hot
	}
	records, err := s.store.Trainings(ctx, u.ID)
	if err != nil {
		return "", err
	}
	for _, kind := range site.Policy.Training.Required {
		if last, ok := hmisauth.TrainingCurrent(site, records, kind, today); !ok {
			if last.IsZero() {
				return hmisauth.ProblemTrainingMissing, nil
			}
			return hmisauth.ProblemTrainingExpired, nil
		}
	}
	return "", nil
}

// TrainingProblems are the login doctor's findings about the required trainings: each kind
// missing or lapsed, with its fix. Like Problems, a pure function of what it is given.
func TrainingProblems(site *hmisauth.Site, u *hmisauth.User, records []*hmisauth.TrainingRecord, now time.Time) []hmisauth.Problem {
	var ps []hmisauth.Problem
	today := site.Today(now)
	fix := fmt.Sprintf("Record the completed training on the user's page (hmisauth user training --site %s %s --kind %%s --completed YYYY-MM-DD).",
		site.Key, u.Username)
	for _, kind := range site.Policy.Training.Required {
		last, ok := hmisauth.TrainingCurrent(site, records, kind, today)
		switch {
		case ok:
		case last.IsZero():
			ps = append(ps, hmisauth.Problem{Code: hmisauth.ProblemTrainingMissing, Blocking: true,
				Message: fmt.Sprintf("The required training %s has not been recorded.", kind),
				Fix:     fmt.Sprintf(fix, kind)})
		default:
			lastDay := hmisauth.TrainingLastDay(site, kind, last)
			ps = append(ps, hmisauth.Problem{Code: hmisauth.ProblemTrainingExpired, Blocking: true,
				Since:   dayAfter(site, lastDay),
				Message: fmt.Sprintf("The required training %s, completed on %s, lapsed after %s.", kind, last, lastDay),
				Fix:     "Once they have taken it again, " + lowerFirst(fmt.Sprintf(fix, kind))})
		}
	}
	return ps
}

// withTraining adds the training problems to the doctor's list, keeping blocking ones first.
func withTraining(ps, training []hmisauth.Problem) []hmisauth.Problem {
	i := slices.IndexFunc(ps, func(p hmisauth.Problem) bool { return !p.Blocking })
	if i < 0 {
		return append(ps, training...)
	}
	return slices.Insert(ps, i, training...)
}

// TrainingStatus is one kind of training as a user's page shows it.
type TrainingStatus struct {
	Kind     string
	Required bool
	Last     hmisauth.Date // zero: never recorded
	// LastDay is the last day the newest completion counts (zero: it never lapses, or none).
	LastDay hmisauth.Date
	Current bool
}

// TrainingStatuses is every kind of the site's training, in key order, as records show it.
func TrainingStatuses(site *hmisauth.Site, records []*hmisauth.TrainingRecord, now time.Time) []TrainingStatus {
	today := site.Today(now)
	var out []TrainingStatus
	for _, kind := range TrainingKinds(site) {
		st := TrainingStatus{Kind: kind, Required: slices.Contains(site.Policy.Training.Required, kind)}
		st.Last, st.Current = hmisauth.TrainingCurrent(site, records, kind, today)
		if !st.Last.IsZero() {
			st.LastDay = hmisauth.TrainingLastDay(site, kind, st.Last)
		}
		out = append(out, st)
	}
	return out
}

// newestTrainings maps each user to their newest completion of each kind, from SiteTrainings.
func newestTrainings(records []*hmisauth.TrainingRecord) map[int64]map[string]hmisauth.Date {
	out := map[int64]map[string]hmisauth.Date{}
	for _, r := range records {
		m := out[r.UserID]
		if m == nil {
			m = map[string]hmisauth.Date{}
			out[r.UserID] = m
		}
		if m[r.Kind].Before(r.CompletedOn) {
			m[r.Kind] = r.CompletedOn
		}
	}
	return out
}

// sendTrainingReminders is SendReminders' part for trainings: for every enabled user whose
// newest completion of a kind that lapses has its last day within [today, last], one message
// to the user (when they have an address) and a copy to each sysadmin, once per user, kind
// and last day (Reminder.Due "YYYY-MM-DD kind"): a renewed training is reminded anew.
func (s *Service) sendTrainingReminders(ctx context.Context, site *hmisauth.Site, users, sysadmins []*hmisauth.User,
	today, last hmisauth.Date, now time.Time) (int, error) {
	if len(site.Policy.Training.Kinds) == 0 {
		return 0, nil
	}
	records, err := s.store.SiteTrainings(ctx, site.Key)
	if err != nil {
		return 0, err
	}
	newest, sent := newestTrainings(records), 0
	for _, u := range users {
		if u.Disabled || newest[u.ID] == nil {
			continue
		}
		for _, kind := range TrainingKinds(site) {
			lastDay := hmisauth.TrainingLastDay(site, kind, newest[u.ID][kind])
			if newest[u.ID][kind].IsZero() || !dueWithin(lastDay, today, last) {
				continue
			}
			l := hmisauth.Letter{Kind: hmisauth.MailTrainingExpiring, Site: site, At: now, ExpiresOn: site.StartOf(lastDay),
				TrainingKind: kind, TrainingRequired: slices.Contains(site.Policy.Training.Required, kind)}
			var ms []*hmisauth.Message
			if u.Email != "" {
				l.To, l.User = u.Email, u
				m, err := s.letters.Compose(l)
				if err != nil {
					return sent, err
				}
				ms = append(ms, m)
			}
			for _, r := range sysadmins {
				if r.ID == u.ID {
					continue // a sysadmin's own reminder is their copy
				}
				l.To, l.User, l.About = r.Email, r, u
				m, err := s.letters.Compose(l)
				if err != nil {
					return sent, err
				}
				ms = append(ms, m)
			}
			n, err := s.remind(ctx, hmisauth.Reminder{Site: site.Key, Kind: hmisauth.ReminderTraining, TargetID: u.ID,
				Due: string(lastDay) + " " + kind, At: now}, ms)
			if err != nil {
				return sent, err
			}
			sent += n
		}
	}
	return sent, nil
}

// importTrainings reads a row's training_<kind> cells: the trainings it records, and what is
// wrong with them in the import preview's words. Columns of kinds the site does not define
// are the file's error (unknownTrainingColumns), not each row's.
func importTrainings(site *hmisauth.Site, rec importRecord, now time.Time) ([]importTraining, []string) {
	var out []importTraining
	var errs []string
	today := site.Today(now)
	for _, kind := range TrainingKinds(site) {
		cell := strings.TrimSpace(rec.fields[trainingColumn+kind])
		if cell == "" {
			continue
		}
		d, err := hmisauth.ParseDate("training_"+kind, "The training_"+kind+" date", cell)
		if err == nil {
			err = checkTraining(site, kind, d, today, "kind", "training_"+kind)
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("row %d: %s", rec.line, lowerFirst(hmisauth.ErrorMessage(err))))
			continue
		}
		out = append(out, importTraining{kind: kind, completed: d})
	}
	return out, errs
}

// unknownTrainingColumns names, once each, the file's training_<kind> columns whose kind the
// site does not define.
func unknownTrainingColumns(site *hmisauth.Site, records []importRecord) []string {
	seen := map[string]bool{}
	var errs []string
	for _, rec := range records {
		for field := range rec.fields {
			kind, ok := strings.CutPrefix(field, trainingColumn)
			if !ok || seen[kind] {
				continue
			}
			seen[kind] = true
			if _, defined := site.Policy.Training.Kinds[kind]; !defined {
				errs = append(errs, fmt.Sprintf("The column training_%s is not a training %s records (it records: %s).",
					kind, site.Name, strings.Join(TrainingKinds(site), ", ")))
			}
		}
	}
	slices.Sort(errs)
	return errs
}

// recordImportedTrainings records the trainings of the users an import just created, each
// audited as training_recorded. The users are created already and their temporary passwords
// must reach the helpdesk, so a failure here is logged rather than returned: the doctor then
// names the missing training, and the helpdesk records it on the user's page.
func (s *Service) recordImportedTrainings(ctx context.Context, site *hmisauth.Site, plan *ImportPlan, users []*hmisauth.User) {
	now := s.clock.Now()
	for i, u := range users {
		if i >= len(plan.trainings) {
			break
		}
		for _, t := range plan.trainings[i] {
			err := s.store.RecordTraining(s.audit(ctx, site, hmisauth.EventTrainingRecorded, u.Username, trainingDetail(t.kind, t.completed)),
				&hmisauth.TrainingRecord{UserID: u.ID, Kind: t.kind, CompletedOn: t.completed, RecordedBy: ActorOf(ctx).Username, RecordedAt: now})
			if err != nil {
				s.log.ErrorContext(ctx, "imported training not recorded", "site", site.Key, "username", u.Username,
					"kind", t.kind, "err", err)
			}
		}
	}
}
