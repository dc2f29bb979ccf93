package auth

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
)

// The pack's rosters and lists: users, agencies, exceptions, reviews, departures and the
// policy's history. Times are the site's local time, written so a spreadsheet reads them as
// dates; summary.html names the timezone.

const packTimeLayout = "2006-01-02 15:04:05"

// csvBytes is a CSV file: header, then rows, each text cell defused (csvCell).
func csvBytes(header []string, rows [][]string) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(header)
	for _, r := range rows {
		for i := range r {
			r[i] = csvCell(r[i])
		}
		cw.Write(r)
	}
	cw.Flush()
	return buf.Bytes()
}

// localTime is t in the site's time, "" for the zero time.
func (d *packData) localTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(d.site.Loc()).Format(packTimeLayout)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (d *packData) agencyName(id int64) string {
	if ag := d.agencyByID[id]; ag != nil {
		return ag.Name
	}
	return ""
}

// trainingKinds are the site's kinds of training, then any others recorded, by key.
func (d *packData) trainingKinds() []string {
	seen := map[string]bool{}
	for k := range d.site.Policy.Training.Kinds {
		seen[k] = true
	}
	for _, rs := range d.trainings {
		for _, r := range rs {
			seen[r.Kind] = true
		}
	}
	kinds := make([]string, 0, len(seen))
	for k := range seen {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

func (d *packData) usersCSV() []byte {
	kinds := d.trainingKinds()
	header := []string{"username", "first_name", "last_name", "email", "agency", "role", "security_officer", "status",
		"created", "last_sign_in", "last_password_change", "two_step", "agreement_signed", "agreement_supervisor_signed",
		"agreement_director_signed", "agreement_expires"}
	for _, k := range kinds {
		header = append(header, "training_"+k)
	}
	header = append(header, "disabled_at", "disable_reason", "disable_reported_on")
	today := d.site.Today(d.now)
	var rows [][]string
	for _, u := range d.users {
		r := []string{u.Username, u.FirstName, u.LastName, u.Email, d.agencyName(u.AgencyID), string(u.Role),
			yesNo(u.SecurityOfficer), Status(u), d.localTime(u.CreatedAt), d.localTime(u.LastLoginAt),
			d.localTime(u.PasswordChangedAt), yesNo(u.MFAEnabled), string(u.AgreementSignedOn),
			string(u.AgreementSupervisorSignedOn), string(u.AgreementDirectorSignedOn), string(u.AgreementExpiresOn)}
		for _, k := range kinds {
			last, _ := hmisauth.TrainingCurrent(d.site, d.trainings[u.ID], k, today)
			r = append(r, string(last))
		}
		reason, reported := "", ""
		if dep := d.departed[u.ID]; dep != nil && u.Disabled {
			reason, reported = dep.Reason, string(dep.ReportedOn)
		}
		disabledAt := ""
		if u.Disabled {
			disabledAt = d.localTime(u.DisabledAt)
		}
		rows = append(rows, append(r, disabledAt, reason, reported))
	}
	return csvBytes(header, rows)
}

func (d *packData) agenciesCSV() []byte {
	header := []string{"agency", "seats", "users_enabled", "license_starts", "license_expires", "license_expired",
		"security_officers", "last_review_recorded", "last_review_period", "last_review_by"}
	today := d.site.Today(d.now)
	var rows [][]string
	for _, ag := range d.agencies {
		var officers []string
		enabled := 0
		for _, u := range d.users {
			if u.AgencyID != ag.ID {
				continue
			}
			if !u.Disabled {
				enabled++
			}
			if u.SecurityOfficer {
				officers = append(officers, u.Username)
			}
		}
		seats := "unlimited"
		if ag.Seats > 0 {
			seats = strconv.Itoa(ag.Seats)
		}
		r := []string{ag.Name, seats, strconv.Itoa(enabled), string(ag.LicenseStarts), string(ag.LicenseExpires),
			yesNo(ag.LicenseExpired(today)), strings.Join(officers, "; "), "", "", ""}
		if rv := d.lastReview(ag.ID); rv != nil {
			r[7], r[8], r[9] = d.localTime(rv.At), fmt.Sprintf("%s to %s", rv.From, rv.To), rv.Reviewer
		}
		rows = append(rows, r)
	}
	return csvBytes(header, rows)
}

// lastReview is the newest review of the agency's access log (0: the site's own), nil if none.
func (d *packData) lastReview(agencyID int64) *hmisauth.LogReview {
	var last *hmisauth.LogReview
	for _, r := range d.reviews {
		if r.AgencyID == agencyID && (last == nil || r.At.After(last.At)) {
			last = r
		}
	}
	return last
}

func (d *packData) reviewsCSV() []byte {
	header := []string{"recorded", "scope", "reviewer", "period_from", "period_to", "findings", "follow_up"}
	var rows [][]string
	for _, r := range d.reviews {
		if !d.inPeriod(r.At) {
			continue
		}
		scope := "whole site"
		if r.AgencyID != 0 {
			scope = d.agencyName(r.AgencyID)
		}
		rows = append(rows, []string{d.localTime(r.At), scope, r.Reviewer, string(r.From), string(r.To), r.Findings, r.FollowUp})
	}
	return csvBytes(header, rows)
}

// departureHours is how long after it was reported an account was disabled, counted from the
// start of the day reported (reports carry no time of day, so this is the longest it can have
// been), and whether that is within 24 hours; ok is false when no report date was recorded.
func (d *packData) departureHours(dep *hmisauth.Departure) (hours float64, within, ok bool) {
	if dep.ReportedOn.IsZero() {
		return 0, false, false
	}
	h := dep.DisabledAt.Sub(d.site.StartOf(dep.ReportedOn)).Hours()
	return h, h <= 24, true
}

func (d *packData) departuresCSV() []byte {
	header := []string{"username", "agency", "reason", "reported_on", "disabled_at", "disabled_by", "hours_from_report_to_disable", "within_24h"}
	var rows [][]string
	for _, dep := range d.departures {
		hours, within := "", "not reported"
		if h, in, ok := d.departureHours(dep); ok {
			hours, within = strconv.FormatFloat(h, 'f', 1, 64), yesNo(in)
		}
		rows = append(rows, []string{dep.Username, d.agencyName(dep.AgencyID), dep.Reason, string(dep.ReportedOn),
			d.localTime(dep.DisabledAt), dep.DisabledBy, hours, within})
	}
	return csvBytes(header, rows)
}

// policyHistory lists every policy_changed event of the site (the whole history, whatever the
// period: the policy in force at the period's start is part of the record), each with what
// changed from the one before.
func (d *packData) policyHistory() []byte {
	header := []string{"recorded", "event_id", "changes", "policy"}
	var rows [][]string
	var prev map[string]string
	for _, ev := range d.events {
		if ev.Action != hmisauth.EventPolicyChanged {
			continue
		}
		cur := flattenJSON(ev.Detail)
		changes := "first policy recorded"
		if prev != nil {
			changes = policyChanges(prev, cur)
		}
		rows = append(rows, []string{d.localTime(ev.At), strconv.FormatInt(ev.ID, 10), changes, ev.Detail})
		prev = cur
	}
	return csvBytes(header, rows)
}

// flattenJSON turns a policy snapshot into setting → value ("password.min_length" → "8").
func flattenJSON(s string) map[string]string {
	var v any
	out := map[string]string{}
	if json.Unmarshal([]byte(s), &v) != nil {
		return out
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			for k, x := range m {
				walk(strings.TrimPrefix(prefix+"."+k, "."), x)
			}
			return
		}
		b, _ := json.Marshal(v)
		out[prefix] = string(b)
	}
	walk("", v)
	return out
}

// policyChanges says which settings differ: "Password.MinLength: 8 → 12; …".
func policyChanges(old, cur map[string]string) string {
	var keys []string
	for k := range old {
		keys = append(keys, k)
	}
	for k := range cur {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, cmp.Compare)
	var out []string
	for _, k := range keys {
		if old[k] != cur[k] {
			out = append(out, fmt.Sprintf("%s: %s → %s", k, cmp.Or(old[k], "(none)"), cmp.Or(cur[k], "(none)")))
		}
	}
	if len(out) == 0 {
		return "no setting changed"
	}
	return strings.Join(out, "; ")
}
