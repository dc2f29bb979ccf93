package web_test

import (
	"net/url"
	"testing"
)

func TestConsoleRecordsAgreement(t *testing.T) {
	w := newAdminWorld(t)
	u := w.makeUser("live", "Abe", "Agreed", "abe@agency.example.org", "user", northName).User.Username
	b := w.signInBrowser(w.northAdminName)
	page := "/live/admin/users/" + u
	b.get(page).wantText("Record a signed user agreement", `action="`+page+`/agreement"`)

	r := b.post(page+"/agreement", url.Values{"signed_on": {"2025-01-02"}, "supervisor_signed_on": {"2025-01-03"},
		"director_signed_on": {"2025-01-04"}, "expires_on": {"2026-01-31"}}).wantPath(page)
	r.wantText("The user agreement was recorded.", `data-code="agreement_expired"`)

	b.post(page+"/agreement", url.Values{"signed_on": {"2026-02-30"}}).wantText("The user&#39;s signature date must be a real date", `aria-invalid="true"`)

	r = b.post(page+"/agreement", url.Values{"signed_on": {"2026-03-01"}, "supervisor_signed_on": {"2026-03-01"},
		"director_signed_on": {"2026-03-02"}}).wantPath(page)
	r.wantText("The user agreement was recorded.", "Signed Mar 1, 2026").lackText(`data-code="agreement_expired"`)
}
