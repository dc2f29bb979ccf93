package auth

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
)

// Agency security officers and access-log reviews (issue 15). A sysadmin reviews the site's
// access log; an agency's security officer (an agency admin a sysadmin has marked) reads their
// agency's audit events and reviews their agency's. Each review is a signed-off record in the
// audit log, and the console reminds when the last one is older than the site asks.

// SetSecurityOfficer marks an agency admin as their agency's security officer, or no longer
// (the command line's; Admin.SetSecurityOfficer is the console's and API's).
func (s *Service) SetSecurityOfficer(ctx context.Context, siteKey, username string, officer bool) (*hmisauth.User, error) {
	detail := "no longer the agency's security officer"
	if officer {
		detail = "made the agency's security officer"
	}
	return s.adminStep(ctx, siteKey, username, hmisauth.EventSecurityOfficer, detail, func(ctx context.Context, u *hmisauth.User) error {
		return s.store.SetSecurityOfficer(ctx, u.ID, officer)
	})
}

// SetSecurityOfficer marks a user of the site as their agency's security officer, or no longer
// (sysadmin only: an officer reads their agency's audit log).
func (a *Admin) SetSecurityOfficer(ctx context.Context, username string, officer bool) (*hmisauth.User, error) {
	if !a.IsSysadmin() {
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN, "Only a system administrator can choose an agency's security officer.")
	}
	return a.svc.SetSecurityOfficer(a.actor(ctx), a.p.Site.Key, username, officer)
}

// IsSecurityOfficer reports whether the admin is their agency's security officer.
func (a *Admin) IsSecurityOfficer() bool {
	return a.p.User.Role == hmisauth.RoleAgencyAdmin && a.p.User.SecurityOfficer && a.p.User.AgencyID != 0
}

// CanReadAudit reports whether the admin may read the audit log: a sysadmin all of the site's,
// a security officer their agency's.
func (a *Admin) CanReadAudit() bool { return a.IsSysadmin() || a.IsSecurityOfficer() }

// reviewAgency is the agency whose reviews the admin signs off and reads: 0 (the site) for a
// sysadmin, their own for an officer; anyone else is refused.
func (a *Admin) reviewAgency() (int64, error) {
	switch {
	case a.IsSysadmin():
		return 0, nil
	case a.IsSecurityOfficer():
		return a.p.User.AgencyID, nil
	}
	return 0, hmisauth.Errorf(hmisauth.EFORBIDDEN,
		"Only a system administrator or your agency's security officer can review the access log.")
}

// ReviewInput is a review as the reviewer types it.
type ReviewInput struct {
	From, To string // dates, both included
	Findings string
	FollowUp string
}

// maxReviewText bounds findings and follow-up: a page of notes, not a file.
const maxReviewText = 4000

// RecordReview signs off a review of the access log from From to To: the site's for a
// sysadmin, their agency's for a security officer. The period may not end in the future, and
// the findings are required ("None" says nothing was found).
func (a *Admin) RecordReview(ctx context.Context, in ReviewInput) (*hmisauth.LogReview, error) {
	agency, err := a.reviewAgency()
	if err != nil {
		return nil, err
	}
	site := a.p.Site
	today := site.Today(a.svc.clock.Now())
	from, err := hmisauth.ParseDate("from", "The first day reviewed", in.From)
	if err != nil {
		return nil, err
	}
	to, err := hmisauth.ParseDate("to", "The last day reviewed", in.To)
	if err != nil {
		return nil, err
	}
	findings, followUp := strings.TrimSpace(in.Findings), strings.TrimSpace(in.FollowUp)
	switch {
	case from.IsZero():
		return nil, hmisauth.FieldError("from", "Enter the first day you reviewed.")
	case to.IsZero():
		return nil, hmisauth.FieldError("to", "Enter the last day you reviewed.")
	case to.Before(from):
		return nil, hmisauth.FieldError("to", "The last day reviewed must be on or after the first day.")
	case today.Before(to):
		return nil, hmisauth.FieldError("to", "The last day reviewed cannot be in the future.")
	case findings == "":
		return nil, hmisauth.FieldError("findings", `Enter what you found. If nothing needs attention, write "None".`)
	case utf8.RuneCountInString(findings) > maxReviewText:
		return nil, hmisauth.FieldError("findings", fmt.Sprintf("Findings can be at most %d characters.", maxReviewText))
	case utf8.RuneCountInString(followUp) > maxReviewText:
		return nil, hmisauth.FieldError("follow_up", fmt.Sprintf("Follow-up can be at most %d characters.", maxReviewText))
	}
	r := &hmisauth.LogReview{Site: site.Key, AgencyID: agency, Reviewer: a.p.User.Username, From: from, To: to,
		Findings: findings, FollowUp: followUp, At: a.svc.clock.Now()}
	ctx = a.actor(ctx)
	ev := a.svc.newEvent(ctx, site, hmisauth.EventAccessLogReviewed, "", fmt.Sprintf("reviewed %s to %s", from, to))
	ev.AgencyID = agency
	if err := a.svc.store.RecordReview(hmisauth.WithEvent(ctx, ev), r); err != nil {
		return nil, err
	}
	a.svc.log.InfoContext(ctx, "access log reviewed", "site", site.Key, "agency", agency, "from", from, "to", to)
	return r, nil
}

// LogReviews lists the reviews in the admin's care, newest first: the site's for a sysadmin,
// their agency's for an officer.
func (a *Admin) LogReviews(ctx context.Context) ([]*hmisauth.LogReview, error) {
	agency, err := a.reviewAgency()
	if err != nil {
		return nil, err
	}
	return a.svc.store.LogReviews(ctx, a.p.Site.Key, agency)
}

// ReviewStatus is when the access log in an admin's care was last reviewed, against the
// site's policy.log_review_every.
type ReviewStatus struct {
	Last    *hmisauth.LogReview // nil: never
	DaysAgo int                 // whole days since Last was recorded
	Every   time.Duration       // the site's period; 0: it asks for none
	// Due is true when the site asks for reviews and there is none, or the last is older
	// than Every.
	Due bool
}

// EveryDays is the site's period in whole days (rounded up), for the reminder's words.
func (r *ReviewStatus) EveryDays() int { return int((r.Every + 24*time.Hour - 1) / (24 * time.Hour)) }

// ReviewStatus says when the access log in the admin's care was last reviewed, and whether a
// review is due; nil for an admin who reviews nothing (an agency admin who is not the officer).
func (a *Admin) ReviewStatus(ctx context.Context, reviews []*hmisauth.LogReview) (*ReviewStatus, error) {
	if !a.CanReadAudit() {
		return nil, nil
	}
	if reviews == nil {
		var err error
		if reviews, err = a.LogReviews(ctx); err != nil {
			return nil, err
		}
	}
	st := &ReviewStatus{Every: a.p.Site.Policy.LogReviewEvery}
	now := a.svc.clock.Now()
	if len(reviews) > 0 {
		st.Last = reviews[0]
		st.DaysAgo = int(now.Sub(st.Last.At) / (24 * time.Hour))
	}
	st.Due = st.Every > 0 && (st.Last == nil || now.Sub(st.Last.At) > st.Every)
	return st, nil
}

// SignInActivity lists the officer's agency's users with their last sign-in and failed
// attempts, by username (at most a thousand: an agency's, not a site's).
func (a *Admin) SignInActivity(ctx context.Context) ([]*hmisauth.User, error) {
	if !a.IsSecurityOfficer() {
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN, "Only your agency's security officer can see its sign-in activity.")
	}
	return a.svc.store.Users(ctx, hmisauth.UserQuery{Site: a.p.Site.Key, AgencyID: a.p.User.AgencyID, Limit: 1000})
}
