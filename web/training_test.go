package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// trainingKinds gives the live site two kinds of training, none required.
func (w *adminWorld) trainingKinds() *hmisauth.Site {
	w.t.Helper()
	site, err := w.svc.Site("live")
	if err != nil {
		w.t.Fatal(err)
	}
	site.Policy.Training = hmisauth.TrainingPolicy{
		Kinds: map[string]hmisauth.TrainingKind{"new_user": {}, "privacy_security": {Valid: 365 * 24 * time.Hour}}}
	return site
}

// withTraining is trainingKinds with new_user required to sign in.
func (w *adminWorld) withTraining() {
	w.trainingKinds().Policy.Training.Required = []string{"new_user"}
}

func TestAPIRecordsTraining(t *testing.T) {
	w := newAdminWorld(t)
	w.withTraining()
	north := w.makeUser("live", "Tess", "Trained", "tess@agency.example.org", "user", northName).User.Username
	south := w.makeUser("live", "Sid", "South", "sid@agency.example.org", "user", southName).User.Username

	r := w.expect(w.api("GET", "live", "/users/"+north, w.sys, nil), 200, "")
	if !strings.Contains(r.text(), `"code":"training_missing"`) {
		t.Errorf("before: %s", r.text())
	}
	r = w.expect(w.api("PUT", "live", "/users/"+north+"/training", w.northAdmin,
		map[string]any{"kind": "new_user", "completed_on": "2026-02-27"}), 200, "")
	if strings.Contains(r.text(), "training_missing") {
		t.Errorf("after recording, the user still shows training_missing: %s", r.text())
	}
	var list struct {
		Trainings []struct {
			Kind        string `json:"kind"`
			CompletedOn string `json:"completed_on"`
			RecordedBy  string `json:"recorded_by"`
		} `json:"trainings"`
	}
	w.expect(w.api("GET", "live", "/users/"+north+"/training", w.sys, nil), 200, "").decode(&list)
	if len(list.Trainings) != 1 || list.Trainings[0].Kind != "new_user" || list.Trainings[0].CompletedOn != "2026-02-27" || list.Trainings[0].RecordedBy != w.northAdminName {
		t.Errorf("trainings %+v", list.Trainings)
	}

	w.expect(w.api("PUT", "live", "/users/"+south+"/training", w.northAdmin,
		map[string]any{"kind": "new_user", "completed_on": "2026-02-27"}), 403, hmisauth.EFORBIDDEN)
	w.expect(w.api("PUT", "live", "/users/"+north+"/training", w.sys,
		map[string]any{"kind": "first_aid", "completed_on": "2026-02-27"}), 400, hmisauth.EINVALID)
	w.expect(w.api("PUT", "live", "/users/"+north+"/training", w.sys,
		map[string]any{"kind": "new_user", "completed_on": "02/27/2026"}), 400, hmisauth.EINVALID)
	w.expect(w.api("PUT", "live", "/users/"+north+"/training", w.plain,
		map[string]any{"kind": "new_user", "completed_on": "2026-02-27"}), 403, hmisauth.EFORBIDDEN)
}

func TestConsoleRecordsTraining(t *testing.T) {
	w := newAdminWorld(t)
	b := w.signInBrowser(w.northAdminName) // before the gate: the administrator has no training either
	w.withTraining()
	u := w.makeUser("live", "Tess", "Trained", "tess@agency.example.org", "user", northName).User.Username
	page := "/live/admin/users/" + u
	b.get(page).wantText(`id="training-heading"`, `action="`+page+`/training"`, `data-code="training_missing"`,
		"Missing: they cannot sign in until it is recorded", `href="#training_kind"`)

	b.post(page+"/training", url.Values{"training_kind": {"new_user"}, "training_completed_on": {"2099-01-01"}}).
		wantText("The completion date cannot be after today.", `id="training_completed_on-error"`, `aria-invalid="true"`)

	r := b.post(page+"/training", url.Values{"training_kind": {"privacy_security"}, "training_completed_on": {"02/01/2026"}}).wantPath(page)
	r.wantText("The training was recorded.", "Current through Jan 31, 2027", `data-code="training_missing"`)
	r = b.post(page+"/training", url.Values{"training_kind": {"new_user"}, "training_completed_on": {"2026-02-02"}}).wantPath(page)
	r.wantText("Current (does not lapse)").lackText(`data-code="training_missing"`)
}
