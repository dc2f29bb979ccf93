package auth

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
)

// Reports the helpdesk runs (PRODUCT.md, "Lists the helpdesk needs").
const (
	ReportLocked             = "locked"
	ReportExpiringPasswords  = "expiring-passwords"
	ReportExpiringLicenses   = "expiring-licenses"
	ReportExpiringAgreements = "expiring-agreements"
	ReportNoEmail            = "no-email"
	ReportInactive           = "inactive"
	ReportExpiringTrainings  = "expiring-trainings"
	ReportMissingTrainings   = "missing-trainings"
)

// ReportKinds lists the reports in the order menus offer them.
var ReportKinds = []string{ReportLocked, ReportExpiringPasswords, ReportExpiringLicenses,
	ReportExpiringAgreements, ReportExpiringTrainings, ReportMissingTrainings, ReportNoEmail, ReportInactive}

// DefaultReportDays is the window of the "expiring in the next N days" reports when none is
// given; MaxReportDays bounds it.
const (
	DefaultReportDays = 30
	MaxReportDays     = 366
)

// ReportRow is one line of a report: a user, what the report found and when. Date is a
// calendar date (YYYY-MM-DD) for expiries, or a time in the site's timezone
// ("2026-03-02 09:15 CST") for what happened at a moment.
type ReportRow struct {
	Username string `json:"username"`
	Name     string `json:"name"`
	Agency   string `json:"agency"`
	What     string `json:"what"`
	Date     string `json:"date"`
}

// reportTimeLayout is how a report writes a moment, in the site's timezone.
const reportTimeLayout = "2006-01-02 15:04 MST"

// Report runs the report of the given kind over the users in scope; days is the window of the
// expiring-… reports (0: DefaultReportDays) and is ignored by the others.
func (a *Admin) Report(ctx context.Context, kind string, days int) ([]ReportRow, error) {
	switch kind {
	case ReportLocked:
		return a.LockedAccounts(ctx)
	case ReportExpiringPasswords:
		return a.ExpiringPasswords(ctx, days)
	case ReportExpiringLicenses:
		return a.ExpiringLicenses(ctx, days)
	case ReportExpiringAgreements:
		return a.ExpiringAgreements(ctx, days)
	case ReportNoEmail:
		return a.UsersWithoutEmail(ctx)
	case ReportInactive:
		return a.InactiveUsers(ctx)
	case ReportExpiringTrainings:
		return a.ExpiringTrainings(ctx, days)
	case ReportMissingTrainings:
		return a.MissingTrainings(ctx)
	}
	return nil, hmisauth.FieldError("report", "The report must be one of "+strings.Join(ReportKinds, ", ")+".")
}

// LockedAccounts lists the accounts in scope locked by failed sign-ins, oldest lock first.
func (a *Admin) LockedAccounts(ctx context.Context) ([]ReportRow, error) {
	return a.report(ctx, hmisauth.UserQuery{Locked: true}, func(u *hmisauth.User, _ *hmisauth.Agency) (string, time.Time, bool) {
		return fmt.Sprintf("locked after %d failed sign-in attempts", u.FailedAttempts), u.LockedAt, true
	})
}

// ExpiringPasswords lists the enabled accounts in scope whose own password expires within the
// next days (under password.max_age_days), soonest first.
func (a *Admin) ExpiringPasswords(ctx context.Context, days int) ([]ReportRow, error) {
	days, err := reportDays(days)
	if err != nil {
		return nil, err
	}
	now := a.svc.clock.Now()
	end := now.AddDate(0, 0, days)
	return a.report(ctx, hmisauth.UserQuery{}, func(u *hmisauth.User, _ *hmisauth.Agency) (string, time.Time, bool) {
		exp := passwordExpiresAt(a.p.Site, u)
		if u.Disabled || u.MustChangePassword || exp.IsZero() || exp.Before(now) || !exp.Before(end) {
			return "", time.Time{}, false
		}
		return "password expires", exp, true
	}, dateOnly)
}

// ExpiringLicenses lists the enabled users in scope whose agency's license runs out within the
// next days (through the day days from today), one row per user, soonest first.
func (a *Admin) ExpiringLicenses(ctx context.Context, days int) ([]ReportRow, error) {
	days, err := reportDays(days)
	if err != nil {
		return nil, err
	}
	today := a.p.Site.Today(a.svc.clock.Now())
	last := today.AddDays(days)
	return a.report(ctx, hmisauth.UserQuery{}, func(u *hmisauth.User, ag *hmisauth.Agency) (string, time.Time, bool) {
		if u.Disabled || ag == nil || !dueWithin(ag.LicenseExpires, today, last) {
			return "", time.Time{}, false
		}
		return "license of " + ag.Name + " expires", a.p.Site.StartOf(ag.LicenseExpires), true
	}, dateOnly)
}

// ExpiringAgreements lists the enabled users in scope whose signed user agreement runs out
// within the next days, soonest first.
func (a *Admin) ExpiringAgreements(ctx context.Context, days int) ([]ReportRow, error) {
	days, err := reportDays(days)
	if err != nil {
		return nil, err
	}
	today := a.p.Site.Today(a.svc.clock.Now())
	last := today.AddDays(days)
	return a.report(ctx, hmisauth.UserQuery{}, func(u *hmisauth.User, _ *hmisauth.Agency) (string, time.Time, bool) {
		if u.Disabled || !dueWithin(u.AgreementExpiresOn, today, last) {
			return "", time.Time{}, false
		}
		return "user agreement expires", a.p.Site.StartOf(u.AgreementExpiresOn), true
	}, dateOnly)
}

// UsersWithoutEmail lists the accounts in scope with no e-mail address (they cannot reset a
// forgotten password themselves), oldest account first.
func (a *Admin) UsersWithoutEmail(ctx context.Context) ([]ReportRow, error) {
	return a.report(ctx, hmisauth.UserQuery{NoEmail: true}, func(u *hmisauth.User, _ *hmisauth.Agency) (string, time.Time, bool) {
		return "no e-mail address (created)", u.CreatedAt, true
	})
}

// InactiveUsers lists the enabled accounts in scope that sign-in refuses as inactive (a lock
// or disable step of the inactivity policy in force), with when they became inactive,
// longest inactive first.
func (a *Admin) InactiveUsers(ctx context.Context) ([]ReportRow, error) {
	now := a.svc.clock.Now()
	return a.report(ctx, hmisauth.UserQuery{}, func(u *hmisauth.User, _ *hmisauth.Agency) (string, time.Time, bool) {
		since := inactiveSince(a.p.Site, u)
		if u.Disabled || since.IsZero() || !since.Before(now) {
			return "", time.Time{}, false
		}
		return fmt.Sprintf("not used for %d days", inactiveAfterDays(a.p.Site)), since, true
	})
}

func reportDays(days int) (int, error) {
	switch {
	case days < 0 || days > MaxReportDays:
		return 0, hmisauth.FieldError("days", fmt.Sprintf("days must be from 1 to %d.", MaxReportDays))
	case days == 0:
		return DefaultReportDays, nil
	}
	return days, nil
}

// dueWithin reports whether d is set and falls in [first, last].
func dueWithin(d, first, last hmisauth.Date) bool {
	return !d.IsZero() && !d.Before(first) && !last.Before(d)
}

// dateTime is the start of d in the site's timezone.

// dateOnly marks a report whose Date column is a calendar date rather than a moment.
const dateOnly = true

// report lists the users in scope matching q for whom pick says yes, ordered by the time pick
// gives, then username.
func (a *Admin) report(ctx context.Context, q hmisauth.UserQuery,
	pick func(*hmisauth.User, *hmisauth.Agency) (string, time.Time, bool), dates ...bool) ([]ReportRow, error) {
	agencies, err := a.agencyMap(ctx)
	if err != nil {
		return nil, err
	}
	type row struct {
		ReportRow
		at time.Time
	}
	var rows []row
	err = a.eachUser(ctx, q, func(u *hmisauth.User) error {
		ag := agencies[u.AgencyID]
		what, at, ok := pick(u, ag)
		if !ok {
			return nil
		}
		r := row{ReportRow: ReportRow{Username: u.Username, Name: u.FullName(), What: what}, at: at}
		if ag != nil {
			r.Agency = ag.Name
		}
		if len(dates) > 0 && dates[0] {
			r.Date = at.In(a.p.Site.Loc()).Format(hmisauth.DateLayout)
		} else if !at.IsZero() {
			r.Date = at.In(a.p.Site.Loc()).Format(reportTimeLayout)
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(rows, func(x, y row) int {
		return cmp.Or(x.at.Compare(y.at), cmp.Compare(hmisauth.UsernameKey(x.Username), hmisauth.UsernameKey(y.Username)))
	})
	out := make([]ReportRow, len(rows))
	for i, r := range rows {
		out[i] = r.ReportRow
	}
	return out, nil
}

// eachUser calls fn for every user in scope matching q (its Site, AgencyID, After and Limit
// are set here), page by page: an agency admin's scope is their agency, without its sysadmins.
func (a *Admin) eachUser(ctx context.Context, q hmisauth.UserQuery, fn func(*hmisauth.User) error) error {
	q.Site, q.After, q.Limit = a.p.Site.Key, "", 1000
	if !a.IsSysadmin() {
		q.AgencyID = a.p.User.AgencyID
		if q.AgencyID == 0 {
			return forbidden()
		}
	}
	for {
		batch, err := a.svc.store.Users(ctx, q)
		if err != nil {
			return err
		}
		for _, u := range batch {
			if !a.IsSysadmin() && !a.inScope(u) {
				continue
			}
			if err := fn(u); err != nil {
				return err
			}
		}
		if len(batch) < q.Limit {
			return nil
		}
		q.After = hmisauth.UsernameKey(batch[len(batch)-1].Username)
	}
}

// WriteReportCSV writes rows as CSV with a header row (username,name,agency,what,date). A cell
// a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return)
// gets a leading apostrophe, as the audit export does.
func WriteReportCSV(w io.Writer, rows []ReportRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"username", "name", "agency", "what", "date"}); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write([]string{csvCell(r.Username), csvCell(r.Name), csvCell(r.Agency), csvCell(r.What), csvCell(r.Date)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ExpiringTrainings lists, for the enabled users in scope, each training whose newest
// completion stops counting within the next days (Date: its last day), soonest first.
func (a *Admin) ExpiringTrainings(ctx context.Context, days int) ([]ReportRow, error) {
	days, err := reportDays(days)
	if err != nil {
		return nil, err
	}
	site := a.p.Site
	today := site.Today(a.svc.clock.Now())
	last := today.AddDays(days)
	return a.trainingReport(ctx, func(_ *hmisauth.User, kind string, completed hmisauth.Date) (string, hmisauth.Date) {
		lastDay := hmisauth.TrainingLastDay(site, kind, completed)
		if completed.IsZero() || !dueWithin(lastDay, today, last) {
			return "", ""
		}
		return kind + " training runs out (completed " + string(completed) + ")", lastDay
	})
}

// MissingTrainings lists, for the enabled users in scope, each required training never
// recorded (no date) or lapsed (Date: the first day it no longer counted), as sign-in refuses
// them; lapsed first, oldest first.
func (a *Admin) MissingTrainings(ctx context.Context) ([]ReportRow, error) {
	site := a.p.Site
	today := site.Today(a.svc.clock.Now())
	return a.trainingReport(ctx, func(_ *hmisauth.User, kind string, completed hmisauth.Date) (string, hmisauth.Date) {
		if !slices.Contains(site.Policy.Training.Required, kind) {
			return "", ""
		}
		if completed.IsZero() {
			return kind + " training not recorded", ""
		}
		lastDay := hmisauth.TrainingLastDay(site, kind, completed)
		if lastDay.IsZero() || !lastDay.Before(today) {
			return "", ""
		}
		return kind + " training lapsed (completed " + string(completed) + ")", lastDay.AddDays(1)
	})
}

// trainingReport lists one row for each enabled user in scope and kind of training for which
// pick says what (given the newest completion, zero when none), ordered by pick's date (rows
// without one last), then username and kind.
func (a *Admin) trainingReport(ctx context.Context, pick func(u *hmisauth.User, kind string, completed hmisauth.Date) (string, hmisauth.Date)) ([]ReportRow, error) {
	agencies, err := a.agencyMap(ctx)
	if err != nil {
		return nil, err
	}
	records, err := a.svc.store.SiteTrainings(ctx, a.p.Site.Key)
	if err != nil {
		return nil, err
	}
	newest, kinds := newestTrainings(records), TrainingKinds(a.p.Site)
	type row struct {
		ReportRow
		kind string
	}
	var rows []row
	err = a.eachUser(ctx, hmisauth.UserQuery{}, func(u *hmisauth.User) error {
		if u.Disabled {
			return nil
		}
		for _, kind := range kinds {
			what, date := pick(u, kind, newest[u.ID][kind])
			if what == "" {
				continue
			}
			r := row{ReportRow: ReportRow{Username: u.Username, Name: u.FullName(), What: what, Date: string(date)}, kind: kind}
			if ag := agencies[u.AgencyID]; ag != nil {
				r.Agency = ag.Name
			}
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(rows, func(x, y row) int {
		undated := func(r row) int { // dated rows first
			if r.Date == "" {
				return 1
			}
			return 0
		}
		return cmp.Or(cmp.Compare(undated(x), undated(y)), cmp.Compare(x.Date, y.Date),
			cmp.Compare(hmisauth.UsernameKey(x.Username), hmisauth.UsernameKey(y.Username)), cmp.Compare(x.kind, y.kind))
	})
	out := make([]ReportRow, len(rows))
	for i, r := range rows {
		out[i] = r.ReportRow
	}
	return out, nil
}
