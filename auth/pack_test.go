package auth_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
	"github.com/hmisauth/hmisauth/auth"
)

// packFiles are the files every monitoring pack holds.
var packFiles = []string{"manifest.json", "policy.json", "policy_history.csv", "users.csv", "agencies.csv",
	"exceptions.csv", "failed_sign_ins.csv", "lockouts.csv", "admin_actions.csv", "overlapping_sessions.csv",
	"reviews.csv", "departures.csv", "summary.html"}

// seededSite is a site whose every account problem is known: the names of its users.
type seededSite struct {
	f                                              *fixture
	north, south                                   *hmisauth.Agency
	ok, locked, lapsed, untrained, admin, departed string
}

// seedPack makes two agencies and six users with one known problem each (ok has none), and
// requires the new_user training from then on.
func seedPack(t *testing.T) *seededSite {
	f := newFixture(t)
	if err := f.svc.RecordPolicies(f.ctx); err != nil {
		t.Fatal(err)
	}
	s := &seededSite{f: f}
	sys, err := f.svc.SystemAdmin(f.ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	if s.north, err = sys.CreateAgency(f.ctx, auth.AgencyChange{Name: new("North Shelter")}); err != nil {
		t.Fatal(err)
	}
	if s.south, err = sys.CreateAgency(f.ctx, auth.AgencyChange{Name: new("South Outreach")}); err != nil {
		t.Fatal(err)
	}
	mk := func(first, last string, ag *hmisauth.Agency, role hmisauth.Role) *hmisauth.User {
		u := f.user(first, last)
		u.AgencyID, u.Role = ag.ID, role
		if err := f.store.UpdateUserProfile(f.ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	users := []*hmisauth.User{
		mk("Olive", "Okafor", s.north, hmisauth.RoleUser),
		mk("Lena", "Locke", s.north, hmisauth.RoleUser),
		mk("Abe", "Agreement", s.north, hmisauth.RoleUser),
		mk("Una", "Trained", s.south, hmisauth.RoleUser),
		mk("Ada", "Admin", s.south, hmisauth.RoleAgencyAdmin),
		mk("Dee", "Parted", s.north, hmisauth.RoleUser),
	}
	s.ok, s.locked, s.lapsed, s.untrained, s.admin, s.departed = users[0].Username, users[1].Username,
		users[2].Username, users[3].Username, users[4].Username, users[5].Username

	f.live.Policy.Training = hmisauth.TrainingPolicy{Kinds: map[string]hmisauth.TrainingKind{"new_user": {}},
		Required: []string{"new_user"}}
	for _, u := range users {
		if u.Username == s.untrained {
			continue
		}
		if err := f.store.RecordTraining(f.ctx, &hmisauth.TrainingRecord{UserID: u.ID, Kind: "new_user",
			CompletedOn: "2026-01-05", RecordedBy: "cli:test", RecordedAt: f.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for range f.live.Policy.Lockout.Threshold {
		f.attempt(s.locked, "wrong password")
	}
	if err := f.store.SetAgreement(f.ctx, users[2].ID, "2025-01-02", "2025-01-02", "2025-01-02", "2026-01-02"); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Disable(f.ctx, s.departed, auth.Departure{Reason: hmisauth.DepartureLeftAgency, ReportedOn: "2026-03-02"}); err != nil {
		t.Fatal(err)
	}
	return s
}

// openPack zips the pack, opens the zip and checks it against its manifest: every file there,
// no other, each SHA-256 as listed, and the chain head as `audit verify` finds it.
func openPack(t *testing.T, f *fixture, p *auth.Pack) (map[string][]byte, auth.PackManifest) {
	t.Helper()
	var buf bytes.Buffer
	if err := p.WriteZip(&buf); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var names []string
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[zf.Name], names = b, append(names, zf.Name)
	}
	if !slices.Equal(names, packFiles) {
		t.Fatalf("the zip holds %q, want %q", names, packFiles)
	}
	var m auth.PackManifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != len(packFiles)-1 {
		t.Errorf("the manifest lists %d files, want every file but itself (%d)", len(m.Files), len(packFiles)-1)
	}
	for _, fh := range m.Files {
		sum := sha256.Sum256(files[fh.Name])
		if hex.EncodeToString(sum[:]) != fh.SHA256 {
			t.Errorf("%s: SHA-256 %x, the manifest says %s", fh.Name, sum, fh.SHA256)
		}
	}
	r, err := audit.Verify(f.ctx, f.store)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Audit.Verified || m.Audit.HeadID != r.Head.ID || m.Audit.HeadHash != hex.EncodeToString(r.Head.Hash) {
		t.Errorf("manifest audit %+v, want verified with head %s", m.Audit, r.Head)
	}
	return files, m
}

// csvRows reads a pack CSV file without its header.
func csvRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("not a CSV file with a header (%v): %q", err, b)
	}
	return rows[1:]
}

// column is one column of rows, joined by ",".
func column(rows [][]string, cols ...int) []string {
	var out []string
	for _, r := range rows {
		var cells []string
		for _, c := range cols {
			cells = append(cells, r[c])
		}
		out = append(out, strings.Join(cells, " "))
	}
	return out
}

func TestPackHoldsTheSeededProblemsExactly(t *testing.T) {
	s := seedPack(t)
	f := s.f
	sys, _ := f.svc.SystemAdmin(f.ctx, "live")
	p, err := sys.CompliancePack(f.ctx, auth.PackRequest{})
	if err != nil {
		t.Fatal(err)
	}
	files, m := openPack(t, f, p)
	if m.Site != "live" || m.Agency != "" || m.GeneratedBy != "cli:system" || m.Period.To != "2026-03-02" || m.Period.From != "2025-03-03" {
		t.Errorf("manifest %+v: want site live, the whole site, by cli:system, 2025-03-03 to 2026-03-02", m)
	}
	got := column(csvRows(t, files["exceptions.csv"]), 0, 3)
	want := []string{s.locked + " locked", s.lapsed + " agreement_expired", s.untrained + " training_missing", s.admin + " administrator"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("exceptions.csv lists %q, want exactly %q", got, want)
	}
	if got := column(csvRows(t, files["lockouts.csv"]), 3, 4); !slices.Equal(got, []string{s.locked + " account_locked"}) {
		t.Errorf("lockouts.csv: %q, want the one lockout of %s", got, s.locked)
	}
	deps := csvRows(t, files["departures.csv"])
	if len(deps) != 1 || deps[0][0] != s.departed || deps[0][2] != "left_agency" || deps[0][3] != "2026-03-02" || deps[0][7] != "yes" {
		t.Errorf("departures.csv: %q, want %s, left_agency, reported 2026-03-02, within 24h yes", deps, s.departed)
	}
	users := csvRows(t, files["users.csv"])
	if len(users) != 6 {
		t.Errorf("users.csv has %d rows, want the 6 seeded users", len(users))
	}
	if got := column(csvRows(t, files["policy_history.csv"]), 2); !slices.Equal(got, []string{"first policy recorded"}) {
		t.Errorf("policy_history.csv: %q, want the one policy recorded at start", got)
	}
	if !bytes.Contains(files["summary.html"], []byte("hash chain verified")) || !bytes.Contains(files["summary.html"], []byte(s.untrained)) {
		t.Errorf("summary.html does not say the chain verified and list the exceptions:\n%s", files["summary.html"])
	}
}

func TestAgencyPackLeavesOtherAgenciesOut(t *testing.T) {
	s := seedPack(t)
	f := s.f
	sys, _ := f.svc.SystemAdmin(f.ctx, "live")
	p, err := sys.CompliancePack(f.ctx, auth.PackRequest{Agency: "South Outreach"})
	if err != nil {
		t.Fatal(err)
	}
	files, m := openPack(t, f, p)
	if m.Agency != "South Outreach" {
		t.Errorf("manifest agency %q, want South Outreach", m.Agency)
	}
	if got := column(csvRows(t, files["users.csv"]), 0); !slices.Equal(got, []string{s.admin, s.untrained}) && !slices.Equal(got, []string{s.untrained, s.admin}) {
		t.Errorf("users.csv lists %q, want only South Outreach's %s and %s", got, s.admin, s.untrained)
	}
	if got := column(csvRows(t, files["agencies.csv"]), 0); !slices.Equal(got, []string{"South Outreach"}) {
		t.Errorf("agencies.csv lists %q, want only South Outreach", got)
	}
	for _, name := range []string{"exceptions.csv", "failed_sign_ins.csv", "lockouts.csv", "admin_actions.csv", "departures.csv"} {
		for _, other := range []string{s.ok, s.locked, s.lapsed, s.departed} {
			if bytes.Contains(files[name], []byte(other)) {
				t.Errorf("%s names %s of North Shelter:\n%s", name, other, files[name])
			}
		}
	}
	if len(csvRows(t, files["exceptions.csv"])) != 2 {
		t.Errorf("exceptions.csv: %s, want South Outreach's two", files["exceptions.csv"])
	}
}

func TestPackNeedsASysadminOrTheAgencysOfficer(t *testing.T) {
	s := seedPack(t)
	f := s.f
	u := f.reload(s.admin)
	p := &auth.Principal{Site: f.live, User: u}
	adm, err := f.svc.Admin(p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = adm.CompliancePack(f.ctx, auth.PackRequest{})
	wantCode(t, err, hmisauth.EFORBIDDEN)
	if err := f.store.SetSecurityOfficer(f.ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	p.User = f.reload(s.admin)
	adm, _ = f.svc.Admin(p)
	pack, err := adm.CompliancePack(f.ctx, auth.PackRequest{Agency: "North Shelter"})
	if err != nil {
		t.Fatal(err)
	}
	if pack.Manifest.Agency != "South Outreach" || pack.Manifest.GeneratedBy != s.admin {
		t.Errorf("an officer's pack: agency %q by %q, want their own South Outreach, by them", pack.Manifest.Agency, pack.Manifest.GeneratedBy)
	}
}

func TestPolicyHistoryRecordsOnlyChanges(t *testing.T) {
	f := newFixture(t)
	count := func() int {
		evs, err := f.store.Events(f.ctx, hmisauth.EventQuery{Site: "live", Action: hmisauth.EventPolicyChanged})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	for range 2 {
		if err := f.svc.RecordPolicies(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("after two starts with one configuration: %d policy_changed events, want 1", n)
	}
	f.live.Policy.Password.MinLength = 12
	f.clock.Add(time.Hour)
	if err := f.svc.RecordPolicies(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after a start with a longer minimum: %d policy_changed events, want 2", n)
	}
	sys, _ := f.svc.SystemAdmin(f.ctx, "live")
	p, err := sys.CompliancePack(f.ctx, auth.PackRequest{})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := openPack(t, f, p)
	got := column(csvRows(t, files["policy_history.csv"]), 2)
	if !slices.Equal(got, []string{"first policy recorded", "password.min_length: 8 → 12"}) {
		t.Errorf("policy_history.csv changes: %q", got)
	}
	if !bytes.Contains(files["policy.json"], []byte(`"min_length": 12`)) {
		t.Errorf("policy.json is not the policy in force:\n%s", files["policy.json"])
	}
}
