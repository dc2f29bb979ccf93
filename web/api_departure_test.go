package web_test

import (
	"testing"

	"github.com/hmisauth/hmisauth"
)

// TestAPIDisableKeepsTheDepartureReasonAndDate: POST …/disable takes {reason, reported_on},
// refuses a reason it does not know and a day after today, and a client that sends no body
// (as before departures were kept) disables with reason "other", reported today.
func TestAPIDisableKeepsTheDepartureReasonAndDate(t *testing.T) {
	w := newAdminWorld(t)
	w.makeUser("live", "Lea", "Left", "lea@agency.example.org", "user", northName)
	w.makeUser("live", "Old", "Client", "old@agency.example.org", "user", northName)

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"reason": "inactive"}, "reason"},
		{map[string]any{"reason": "left_agency", "reported_on": "2026-03-03"}, "reported_on"},
		{map[string]any{"reason": "left_agency", "reported_on": "03/01/2026"}, "reported_on"},
	} {
		var e struct{ Field string }
		w.expect(w.api("POST", "live", "/users/lleft/disable", w.sys, c.body), 400, hmisauth.EINVALID).decode(&e)
		if e.Field != c.field {
			t.Errorf("%v: error on %q, want %q", c.body, e.Field, c.field)
		}
	}

	var got struct {
		Disabled            bool    `json:"disabled"`
		DisabledAt          *string `json:"disabled_at"`
		DisabledReason      string  `json:"disabled_reason"`
		DepartureReportedOn *string `json:"departure_reported_on"`
	}
	w.expect(w.api("POST", "live", "/users/lleft/disable", w.sys,
		map[string]any{"reason": "left_agency", "reported_on": "2026-03-01"}), 200, "").decode(&got)
	if !got.Disabled || got.DisabledAt == nil || got.DisabledReason != "left_agency" ||
		got.DepartureReportedOn == nil || *got.DepartureReportedOn != "2026-03-01" {
		t.Fatalf("after disable: %+v", got)
	}
	w.expect(w.api("GET", "live", "/users/lleft", w.sys, nil), 200, "").decode(&got)
	if got.DisabledReason != "left_agency" {
		t.Errorf("GET after disable: %+v", got)
	}
	w.expect(w.api("POST", "live", "/users/oclient/disable", w.sys, nil), 200, "").decode(&got)
	if got.DisabledReason != "other" || got.DepartureReportedOn == nil || *got.DepartureReportedOn != "2026-03-02" {
		t.Fatalf("disable without a body: %+v", got)
	}
	w.expect(w.api("POST", "live", "/users/oclient/enable", w.sys, nil), 200, "").decode(&got)
	if got.Disabled || got.DisabledReason != "" || got.DepartureReportedOn != nil {
		t.Fatalf("after enable: %+v", got)
	}
}
