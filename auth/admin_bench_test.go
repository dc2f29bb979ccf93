package auth_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// helpdeskSite is a state-wide site for the helpdesk benchmarks: benchUsers users in 20
// agencies, passwords set over the last 90 days (so about half have expired under the 45-day
// policy), signed in through a real SQLite database.
const benchUsers = 10000

func helpdeskSite(b *testing.B) (*fixture, *auth.Admin) {
	b.Helper()
	f := newFixture(b)
	var agencies []*hmisauth.Agency
	for i := range 20 {
		agencies = append(agencies, f.addAgency(fmt.Sprintf("Agency %02d", i), 0))
	}
	now := f.clock.Now()
	hash, err := f.hasher.Hash(f.ctx, "Bench-Password-1!")
	if err != nil {
		b.Fatal(err)
	}
	users := make([]*hmisauth.User, benchUsers)
	for i := range users {
		users[i] = &hmisauth.User{Site: "live", Username: fmt.Sprintf("user%05d", i), FirstName: "Case",
			LastName: fmt.Sprintf("Worker%05d", i), Email: fmt.Sprintf("user%05d@agency.example.org", i),
			AgencyID: agencies[i%len(agencies)].ID, Role: hmisauth.RoleUser, PasswordHash: hash,
			PasswordChangedAt: now.Add(-time.Duration(i%90) * 24 * time.Hour), CreatedAt: now.Add(-100 * 24 * time.Hour),
			LastLoginAt: now.Add(-time.Duration(i%60) * 24 * time.Hour)}
	}
	if err := f.store.CreateUsers(f.ctx, users); err != nil {
		b.Fatal(err)
	}
	return f, f.adminOf(f.signedInAs("Sam", "Sysop", "sysadmin", ""))
}

// BenchmarkAdminUsers is the console's user list: one page of 50, each user diagnosed by the
// login doctor, for the filters the store answers and for one the doctor works out.
func BenchmarkAdminUsers(b *testing.B) {
	f, a := helpdeskSite(b)
	for _, tc := range []struct {
		name   string
		filter auth.UserFilter
	}{
		{"first-page", auth.UserFilter{Limit: 50}},
		{"search", auth.UserFilter{Text: "worker0999", Limit: 50}},
		{"agency", auth.UserFilter{Agency: "Agency 07", Limit: 50}},
		{"password-expired", auth.UserFilter{Status: auth.StatusPasswordExpired, Limit: 50}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				page, err := a.Users(f.ctx, tc.filter)
				if err != nil || len(page.Users) == 0 {
					b.Fatalf("%v, %d users", err, len(page.Users))
				}
			}
		})
	}
}

// BenchmarkAdminReport is a whole-site report over every user (the expiring-passwords list).
func BenchmarkAdminReport(b *testing.B) {
	f, a := helpdeskSite(b)
	for b.Loop() {
		rows, err := a.Report(f.ctx, auth.ReportExpiringPasswords, 30)
		if err != nil || len(rows) == 0 {
			b.Fatalf("%v, %d rows", err, len(rows))
		}
	}
}
