package auth

import (
	"context"
	"strings"

	"github.com/hmisauth/hmisauth"
)

// JobActor is the audited actor of the daily jobs (no person, no client address).
const JobActor = "job:daily"

// SystemAdmin returns sysadmin powers over a site for the trusted command line, which has no
// signed-in principal: the operator at the server's shell can read the database anyway. Its
// actor is the context's "cli:…" actor (hmisauth sets "cli:<operating-system user>"), or
// "cli:system" when the context names none. Never give one to a web or API request.
func (s *Service) SystemAdmin(ctx context.Context, siteKey string) (*Admin, error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, err
	}
	name := ActorOf(ctx).Username
	switch {
	case name == "":
		name = "cli:system"
	case !strings.HasPrefix(name, "cli:"):
		name = "cli:" + name
	}
	return &Admin{svc: s, p: &Principal{Site: site,
		User: &hmisauth.User{Site: site.Key, Username: name, Role: hmisauth.RoleSysadmin}}}, nil
}

// siteUsers lists every user of a site, page by page.
func (s *Service) siteUsers(ctx context.Context, site string) ([]*hmisauth.User, error) {
	var all []*hmisauth.User
	q := hmisauth.UserQuery{Site: site, Limit: 1000}
	for {
		batch, err := s.store.Users(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, batch...)
		if len(batch) < q.Limit {
			return all, nil
		}
		q.After = hmisauth.UsernameKey(batch[len(batch)-1].Username)
	}
}

// SendReminders queues, once each, the reminder e-mails of policy.reminder_days:
//
//   - license_expiring, for every agency whose license runs out within reminder_days: one
//     message to each enabled agency admin of the agency with an e-mail address or, when it
//     has none, to each enabled sysadmin of the site with one;
//   - agreement_expiring, for every enabled user whose user agreement runs out within
//     reminder_days: one message to the user (when they have an address) and one copy to each
//     enabled sysadmin with an address (Letter.About names the user). A Message has one
//     recipient, so the copy is a message of its own, not a Cc;
//   - training_expiring, likewise, for every kind of training whose newest completion stops
//     counting within reminder_days (sendTrainingReminders).
//
// Each reminder (agency or user, and the expiry date) is recorded with its messages in one
// atomic step (Store.Remind), so running this again, or in several processes at once, sends
// nothing more; a renewed license or agreement is reminded anew before its new expiry. A
// reminder with nobody to send it to is not recorded, so it goes out once someone has an
// address. It returns how many messages it queued.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	now, sent := s.clock.Now(), 0
	for _, site := range s.Sites() {
		days := site.Policy.ReminderDays
		if days <= 0 {
			continue
		}
		today := site.Today(now)
		last := today.AddDays(days)
		users, err := s.siteUsers(ctx, site.Key)
		if err != nil {
			return sent, err
		}
		var sysadmins []*hmisauth.User
		admins := map[int64][]*hmisauth.User{} // agency admins by agency
		for _, u := range users {
			if u.Disabled || u.Email == "" {
				continue
			}
			switch u.Role {
			case hmisauth.RoleSysadmin:
				sysadmins = append(sysadmins, u)
			case hmisauth.RoleAgencyAdmin:
				admins[u.AgencyID] = append(admins[u.AgencyID], u)
			}
		}
		agencies, err := s.store.Agencies(ctx, site.Key)
		if err != nil {
			return sent, err
		}
		for _, ag := range agencies {
			if !dueWithin(ag.LicenseExpires, today, last) {
				continue
			}
			to := admins[ag.ID]
			if len(to) == 0 {
				to = sysadmins
			}
			var ms []*hmisauth.Message
			for _, r := range to {
				m, err := s.letters.Compose(hmisauth.Letter{Kind: hmisauth.MailLicenseExpiring, Site: site, To: r.Email,
					User: r, Agency: ag, At: now, ExpiresOn: site.StartOf(ag.LicenseExpires)})
				if err != nil {
					return sent, err
				}
				ms = append(ms, m)
			}
			n, err := s.remind(ctx, hmisauth.Reminder{Site: site.Key, Kind: hmisauth.ReminderLicense, TargetID: ag.ID,
				Due: string(ag.LicenseExpires), At: now}, ms)
			if err != nil {
				return sent, err
			}
			sent += n
		}
		for _, u := range users {
			if u.Disabled || !dueWithin(u.AgreementExpiresOn, today, last) {
				continue
			}
			expires := site.StartOf(u.AgreementExpiresOn)
			var ms []*hmisauth.Message
			if u.Email != "" {
				m, err := s.letters.Compose(hmisauth.Letter{Kind: hmisauth.MailAgreementExpiring, Site: site, To: u.Email,
					User: u, At: now, ExpiresOn: expires})
				if err != nil {
					return sent, err
				}
				ms = append(ms, m)
			}
			for _, r := range sysadmins {
				if r.ID == u.ID {
					continue // a sysadmin's own reminder is their copy
				}
				m, err := s.letters.Compose(hmisauth.Letter{Kind: hmisauth.MailAgreementExpiring, Site: site, To: r.Email,
					User: r, About: u, At: now, ExpiresOn: expires})
				if err != nil {
					return sent, err
				}
				ms = append(ms, m)
			}
			n, err := s.remind(ctx, hmisauth.Reminder{Site: site.Key, Kind: hmisauth.ReminderAgreement, TargetID: u.ID,
				Due: string(u.AgreementExpiresOn), At: now}, ms)
			if err != nil {
				return sent, err
			}
			sent += n
		}
		n, err := s.sendTrainingReminders(ctx, site, users, sysadmins, today, last, now)
		sent += n
		if err != nil {
			return sent, err
		}
	}
	if sent > 0 {
		s.kick()
		s.log.InfoContext(ctx, "reminders queued", "count", sent)
	}
	return sent, nil
}

// remind records r with its messages once, returning how many messages it queued.
func (s *Service) remind(ctx context.Context, r hmisauth.Reminder, ms []*hmisauth.Message) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	ok, err := s.store.Remind(ctx, r, ms)
	if err != nil || !ok {
		return 0, err
	}
	return len(ms), nil
}

// RunDailyJobs runs the daily jobs: reminder e-mails, then the inactivity record. It goes on
// with the second when the first fails and returns the first error.
func (s *Service) RunDailyJobs(ctx context.Context) error {
	_, err1 := s.SendReminders(ctx)
	_, err2 := s.RecordInactiveAccounts(ctx)
	if err1 != nil {
		return err1
	}
	return err2
}
