package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// Access-log reviews on the console's audit page: a sysadmin signs off the site's, a security
// officer their agency's, with a one-time form; the list of past reviews; the reminder on the
// console's home and audit pages when the last review is older than the site asks; and an
// officer's table of their agency's sign-ins.

// formRecordReview is the review form's one-time purpose: a reload must not sign off twice.
const formRecordReview = "record-review"

type reviewsView struct {
	Status *auth.ReviewStatus
	Form   *reviewForm
	Rows   []reviewRow
	LastAt string // when the last review was recorded
	Action string // where the form posts
	Done   bool   // a review was just recorded
}

// reviewForm is the review form as typed (empty: a new one).
type reviewForm struct {
	From, To, Findings, FollowUp string
}

type reviewRow struct {
	At, From, To, Reviewer, Findings, FollowUp string
}

type activityRow struct {
	Username, Name, LastSignIn, Status, Link string
	FailedAttempts                           int
}

// reviewNag is the reminder a console page shows when the access log in the reader's care is
// due a review (nil when it is not, or is in nobody's care of theirs).
type reviewNag struct {
	Status *auth.ReviewStatus
	Agency bool // the officer's agency's log, not the site's
	Link   string
}

// setReviewNag sets v.ReviewNag when a review is due.
func (s *Server) setReviewNag(r *http.Request, a *auth.Admin, v *consoleView, st *auth.ReviewStatus) error {
	if st == nil {
		var err error
		if st, err = a.ReviewStatus(r.Context(), nil); err != nil || st == nil {
			return err
		}
	}
	if st.Due {
		v.ReviewNag = &reviewNag{Status: st, Agency: !a.IsSysadmin(), Link: adminPath(a.Site(), "audit") + "#reviews"}
	}
	return nil
}

// reviewsPart fills the audit page's reviews (and form) and, for an officer, sign-in activity.
func (s *Server) reviewsPart(r *http.Request, a *auth.Admin, v *consoleView, form *reviewForm) error {
	ctx := r.Context()
	reviews, err := a.LogReviews(ctx)
	if err != nil {
		return err
	}
	st, err := a.ReviewStatus(ctx, reviews)
	if err != nil {
		return err
	}
	if err := s.setReviewNag(r, a, v, st); err != nil {
		return err
	}
	if form == nil {
		form = &reviewForm{}
	}
	rv := &reviewsView{Status: st, Form: form, Action: adminPath(a.Site(), "audit/reviews"),
		Done: r.URL.Query().Get("done") == "reviewed"}
	if st.Last != nil {
		rv.LastAt = siteTime(a.Site(), st.Last.At) + " by " + st.Last.Reviewer
	}
	for _, rev := range reviews {
		rv.Rows = append(rv.Rows, reviewRow{At: siteTime(a.Site(), rev.At), From: siteDate(rev.From), To: siteDate(rev.To),
			Reviewer: rev.Reviewer, Findings: rev.Findings, FollowUp: rev.FollowUp})
	}
	if v.FormToken, err = s.formToken(r, a.Principal(), formRecordReview); err != nil {
		return err
	}
	v.Audit.Reviews = rv
	if !a.IsSecurityOfficer() {
		return nil
	}
	ag, err := a.Agency(ctx, a.Principal().User.AgencyID)
	if err != nil {
		return err
	}
	v.Audit.Agency = ag.Name
	users, err := a.SignInActivity(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		v.Audit.Activity = append(v.Audit.Activity, activityRow{Username: u.Username, Name: u.FullName(),
			LastSignIn: siteTimeOr(a.Site(), u.LastLoginAt, "Never"), FailedAttempts: u.FailedAttempts,
			Status: statusLabel(u), Link: userPath(a.Site(), u.Username)})
	}
	return nil
}

// reviewFields are the review form's fields, by the names the rules give them (the audit
// filter's own from and to come first on the page).
var reviewFields = map[string]string{"from": "review_from", "to": "review_to", "findings": "findings", "follow_up": "follow_up"}

// consoleRecordReview signs off a review of the access log (POST /{site}/admin/audit/reviews).
func (s *Server) consoleRecordReview(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdminForm(w, r)
	if a == nil {
		return
	}
	once, err := s.useForm(r, a.Principal(), formRecordReview)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	if once.Repeat() {
		redirect(w, r, adminPath(a.Site(), "audit")+"?done=reviewed#reviews")
		return
	}
	defer s.release(r, once)
	form := &reviewForm{From: strings.TrimSpace(r.PostFormValue("review_from")), To: strings.TrimSpace(r.PostFormValue("review_to")),
		Findings: r.PostFormValue("findings"), FollowUp: r.PostFormValue("follow_up")}
	if once.Stale() {
		err = staleForm("Nothing was recorded: this form had expired. If you recorded this review already, it is in the list. " +
			"Otherwise check the details and press “Record the review” again.")
	} else {
		var rev *hmisauth.LogReview
		rev, err = a.RecordReview(r.Context(), auth.ReviewInput{From: form.From, To: form.To, Findings: form.Findings, FollowUp: form.FollowUp})
		if err == nil {
			s.done(r, once, formResult{ID: strconv.FormatInt(rev.ID, 10)})
			redirect(w, r, adminPath(a.Site(), "audit")+"?done=reviewed#reviews")
			return
		}
	}
	if e := hmisauth.AsError(err); e != nil && e.Field != "" {
		c := *e
		c.Field = reviewFields[e.Field]
		err = &c
	}
	v := s.consoleView(r, a)
	v.fields = []string{"review_from", "review_to", "findings", "follow_up"}
	if perr := s.auditPage(r, a, v, form); perr != nil {
		s.consoleError(w, r, a.Site(), perr)
		return
	}
	s.consoleFormError(w, r, "admin_audit", v, err)
}

// consoleSecurityOfficer makes an agency admin their agency's security officer, or no longer
// (a sysadmin's button on the user page; officer=yes or no).
func (s *Server) consoleSecurityOfficer(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdminForm(w, r)
	if a == nil {
		return
	}
	username := r.PathValue("username")
	officer := r.PostFormValue("officer") == "yes"
	if _, err := a.SetSecurityOfficer(r.Context(), username, officer); err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	done := "officer_unset"
	if officer {
		done = "officer_set"
	}
	redirect(w, r, userPath(a.Site(), username)+"?done="+done)
}
