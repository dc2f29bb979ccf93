package web

import (
	"net/http"
	"time"

	"github.com/hmisauth/hmisauth"
)

// The API's training records: PUT records one completion (the user's answer then carries the
// doctor's problems, training_missing and training_expired among them), GET lists them.

type trainingRequest struct {
	Kind        string `json:"kind"`
	CompletedOn string `json:"completed_on"`
}

type trainingJSON struct {
	Kind        string        `json:"kind"`
	CompletedOn hmisauth.Date `json:"completed_on"`
	RecordedBy  string        `json:"recorded_by"`
	RecordedAt  time.Time     `json:"recorded_at"`
}

// apiRecordTraining records a completed training of a user in the caller's scope and answers
// with the user, as PUT …/agreement does.
func (s *Server) apiRecordTraining(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	var req trainingRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	d, err := hmisauth.ParseISODate("completed_on", req.CompletedOn)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	u, err := a.RecordTraining(r.Context(), r.PathValue("username"), req.Kind, d)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	s.writeAdminUser(w, r, a, http.StatusOK, u.Username)
}

// apiTrainings lists a user's completed trainings, newest first.
func (s *Server) apiTrainings(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	records, err := a.Trainings(r.Context(), r.PathValue("username"))
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	out := make([]trainingJSON, len(records))
	for i, t := range records {
		out[i] = trainingJSON{Kind: t.Kind, CompletedOn: t.CompletedOn, RecordedBy: t.RecordedBy, RecordedAt: t.RecordedAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"trainings": out})
}
