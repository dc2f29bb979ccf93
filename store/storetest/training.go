package storetest

import (
	"testing"

	"github.com/hmisauth/hmisauth"
)

func recordTraining(t *testing.T, s hmisauth.Store, u *hmisauth.User, kind string, on hmisauth.Date, sec int, evs ...*hmisauth.Event) *hmisauth.TrainingRecord {
	t.Helper()
	r := &hmisauth.TrainingRecord{UserID: u.ID, Kind: kind, CompletedOn: on, RecordedBy: "helpdesk", RecordedAt: at(sec)}
	must(t, s.RecordTraining(carrying(t, evs...), r))
	if r.ID == 0 {
		t.Fatal("RecordTraining left the ID zero")
	}
	return r
}

var trainingTests = []test{
	{"KeepsEveryCompletionNewestFirstWithItsEvent", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		first := recordTraining(t, s, u, "privacy_security", "2025-03-01", 1, event(hmisauth.EventTrainingRecorded, "jdoe", "first", 1))
		intro := recordTraining(t, s, u, "new_user", "2025-02-01", 2)
		renewed := recordTraining(t, s, u, "privacy_security", "2026-02-20", 3, event(hmisauth.EventTrainingRecorded, "jdoe", "renewed", 3))
		got, err := s.Trainings(t.Context(), u.ID)
		must(t, err)
		equal(t, "Trainings", got, []*hmisauth.TrainingRecord{renewed, first, intro})
		wantDetails(t, s, "first", "renewed")
		other := newUser2(t, s)
		none, err := s.Trainings(t.Context(), other.ID)
		must(t, err)
		if len(none) != 0 {
			t.Errorf("a user with no training lists %d", len(none))
		}
	}},
	{"UnknownUserIsNotFoundAndWritesNothing", func(t *testing.T, s hmisauth.Store) {
		err := s.RecordTraining(carrying(t, event(hmisauth.EventTrainingRecorded, "ghost", "ghost", 1)),
			&hmisauth.TrainingRecord{UserID: 987654, Kind: "new_user", CompletedOn: "2026-01-01", RecordedAt: at(1)})
		wantCode(t, err, hmisauth.ENOTFOUND)
		wantDetails(t, s)
	}},
	{"SiteTrainingsHoldOnlyTheSitesUsers", func(t *testing.T, s hmisauth.Store) {
		a, b := newUser(t, s, live, "adoe"), newUser(t, s, live, "bdoe")
		elsewhere := newUser(t, s, training, "adoe")
		ra := recordTraining(t, s, a, "new_user", "2026-01-05", 1)
		rb1 := recordTraining(t, s, b, "new_user", "2026-01-02", 2)
		rb2 := recordTraining(t, s, b, "privacy_security", "2026-01-09", 3)
		recordTraining(t, s, elsewhere, "new_user", "2026-01-03", 4)
		got, err := s.SiteTrainings(t.Context(), live)
		must(t, err)
		equal(t, "SiteTrainings", got, []*hmisauth.TrainingRecord{ra, rb2, rb1})
	}},
}

// newUser2 is a second user of live, for "someone else's" checks.
func newUser2(t *testing.T, s hmisauth.Store) *hmisauth.User { return newUser(t, s, live, "other") }
