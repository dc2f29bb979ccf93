package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// The "Training" section of a user's page: each kind of training the site records with the
// newest completion and whether it still counts, and a form to record a completion.

type trainingView struct {
	Rows  []trainingRow
	Kinds []option
	// Today is the latest date the form accepts (YYYY-MM-DD), for the date field's max.
	Today string
}

type trainingRow struct {
	Kind     string // the configured key
	Name     string // in words
	Required bool
	// Last is the newest completion in the console's date format, or "Not recorded"; Status
	// says whether it counts, and until when, in words.
	Last, Status string
	Current      bool
}

// trainingName is a kind's key as words ("privacy_security" → "Privacy security").
func trainingName(kind string) string {
	s := strings.ReplaceAll(kind, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// trainingSection is the page's Training section, nil when the site records no training.
func trainingSection(site *hmisauth.Site, d *auth.Diagnosis, now time.Time) *trainingView {
	kinds := auth.TrainingKinds(site)
	if len(kinds) == 0 {
		return nil
	}
	v := &trainingView{Today: string(site.Today(now))}
	for _, st := range auth.TrainingStatuses(site, d.Trainings, now) {
		row := trainingRow{Kind: st.Kind, Name: trainingName(st.Kind), Required: st.Required, Current: st.Current,
			Last: "Not recorded"}
		switch {
		case st.Last.IsZero() && st.Required:
			row.Status = "Missing: they cannot sign in until it is recorded"
		case st.Last.IsZero():
			row.Status = "Not recorded"
		case st.Current && st.LastDay.IsZero():
			row.Status = "Current (does not lapse)"
		case st.Current:
			row.Status = "Current through " + siteDate(st.LastDay)
		case st.Required:
			row.Status = "Lapsed after " + siteDate(st.LastDay) + ": they cannot sign in until it is taken again"
		default:
			row.Status = "Lapsed after " + siteDate(st.LastDay)
		}
		if !st.Last.IsZero() {
			row.Last = siteDate(st.Last)
		}
		v.Rows = append(v.Rows, row)
		v.Kinds = append(v.Kinds, option{Value: st.Kind, Label: row.Name})
	}
	return v
}

// consoleTraining records a completed training from the form on the user's page.
func (s *Server) consoleTraining(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdminForm(w, r)
	if a == nil {
		return
	}
	username := r.PathValue("username")
	kind := r.PostFormValue("training_kind")
	d, err := hmisauth.ParseDate("training_completed_on", "The completion date", r.PostFormValue("training_completed_on"))
	if err == nil {
		_, err = a.RecordTraining(r.Context(), username, kind, d)
	}
	if err == nil {
		redirect(w, r, userPath(a.Site(), username)+"?done=training_recorded")
		return
	}
	if c := hmisauth.ErrorCode(err); c == hmisauth.EFORBIDDEN || c == hmisauth.ENOTFOUND {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	v, verr := s.userPageView(r, a, username)
	if verr != nil {
		s.consoleError(w, r, a.Site(), verr)
		return
	}
	// auth names its fields as the API does; the page's fields carry a prefix of their own.
	if e := hmisauth.AsError(err); e != nil && (e.Field == "kind" || e.Field == "completed_on") {
		renamed := *e
		renamed.Field = "training_" + e.Field
		err = &renamed
	}
	if t := v.Detail.Training; t != nil {
		for i := range t.Kinds {
			t.Kinds[i].Selected = t.Kinds[i].Value == kind
		}
	}
	v.fields = append(v.fields, "training_kind", "training_completed_on")
	s.consoleFormError(w, r, "admin_user", v, err)
}
