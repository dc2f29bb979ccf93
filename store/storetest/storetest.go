package storetest

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// Run runs the whole suite. newStore must return an empty, migrated store for one test and
// arrange for it to be closed when that test ends (t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) hmisauth.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Site", siteTests},
		{"Policy", policyTests},
		{"Agency", agencyTests},
		{"User", userTests},
		{"Users", usersTests},
		{"CreateUsers", createUsersTests},
		{"Lockout", lockoutTests},
		{"Password", passwordTests},
		{"Session", sessionTests},
		{"SessionEnd", sessionEndTests},
		{"MFA", mfaTests},
		{"SecondStep", secondStepTests},
		{"MFAConcurrency", mfaConcurrencyTests},
		{"MFAAudit", mfaAuditTests},
		{"MFAGuard", mfaGuardTests},
		{"MFAMail", mfaMailTests},
		{"Concurrency", concurrencyTests},
		{"ResetRequest", resetRequestTests},
		{"Reset", resetTests},
		{"ResetConcurrency", resetConcurrencyTests},
		{"Outbox", outboxTests},
		{"Stats", statsTests},
		{"RateLimit", rateLimitTests},
		{"AddressAttempts", addressAttemptTests},
		{"Refusal", refusalTests},
		{"Profile", profileTests},
		{"Audit", auditTests},
		{"AuditQuery", auditQueryTests},
		{"AuditConcurrency", auditConcurrencyTests},
		{"Review", reviewTests},
		{"Reminders", reminderTests},
		{"Training", trainingTests},
		{"Departure", departureTests},
		{"Retention", retentionTests},
		{"FormToken", formTokenTests},
		{"OIDCIdentity", identityTests},
		{"OIDCClient", clientTests},
		{"OIDCCode", codeTests},
		{"OIDCToken", tokenTests},
		{"OIDCLogout", logoutTests},
		{"OIDCSigningKey", signingKeyTests},
		{"OIDCAudit", oidcAuditTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, s hmisauth.Store)
}

// t0 is "now" in the suite: microseconds, the precision every backend must keep.
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC)

const (
	live     = "live"
	training = "training"
)

var siteTests = []test{
	{"PingAnswers", func(t *testing.T, s hmisauth.Store) {
		must(t, s.Ping(t.Context()))
	}},
	{"SyncSiteCreatesThenRenames", func(t *testing.T, s hmisauth.Store) {
		must(t, s.SyncSite(t.Context(), &hmisauth.Site{Key: live, Name: "HMIS Live"}))
		must(t, s.SyncSite(t.Context(), &hmisauth.Site{Key: live, Name: "HMIS Live (renamed)"}))
		must(t, s.SyncSite(t.Context(), &hmisauth.Site{Key: training, Name: "HMIS Training"}))
	}},
}

// newUser creates a user on site with a password hash, after applying the options.
func newUser(t *testing.T, s hmisauth.Store, site, username string, opts ...func(*hmisauth.User)) *hmisauth.User {
	t.Helper()
	u := &hmisauth.User{
		Site: site, Username: username, FirstName: "Jane", LastName: "Doe",
		Email: username + "@example.org", Role: hmisauth.RoleUser, CreatedAt: t0,
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$" + username + "$hash0", PasswordChangedAt: t0,
	}
	for _, o := range opts {
		o(u)
	}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s/%s): %v", site, username, err)
	}
	if u.ID == 0 {
		t.Fatalf("CreateUser(%s/%s) left ID zero", site, username)
	}
	return u
}

func inAgency(a *hmisauth.Agency) func(*hmisauth.User) {
	return func(u *hmisauth.User) { u.AgencyID = a.ID }
}

func newAgency(t *testing.T, s hmisauth.Store, site, name string, seats int) *hmisauth.Agency {
	t.Helper()
	a := &hmisauth.Agency{Site: site, Name: name, Seats: seats, LicenseStarts: "2026-01-01", LicenseExpires: "2026-12-31"}
	if err := s.CreateAgency(t.Context(), a); err != nil {
		t.Fatalf("CreateAgency(%s/%s): %v", site, name, err)
	}
	return a
}

func newSession(t *testing.T, s hmisauth.Store, u *hmisauth.User, token string, single bool) *hmisauth.Session {
	t.Helper()
	sess := &hmisauth.Session{
		Site: u.Site, UserID: u.ID, TokenHash: tokenHash(token),
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour), ReauthAt: t0,
		ClientAddr: "192.0.2.10", UserAgent: "Mozilla/5.0 (test)",
	}
	if err := s.CreateSession(t.Context(), sess, single); err != nil {
		t.Fatalf("CreateSession(%s): %v", token, err)
	}
	if sess.ID == 0 {
		t.Fatalf("CreateSession(%s) left ID zero", token)
	}
	return sess
}

// tokenHash stands in for SHA-256 of a token: any 32 bytes distinct per token.
func tokenHash(token string) []byte {
	h := make([]byte, 32)
	copy(h, token)
	return h
}

func reload(t *testing.T, s hmisauth.Store, u *hmisauth.User) *hmisauth.User {
	t.Helper()
	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("UserByID(%d): %v", u.ID, err)
	}
	return got
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantCode fails unless err is an application error with the code.
func wantCode(t *testing.T, err error, code string) *hmisauth.Error {
	t.Helper()
	if got := hmisauth.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
	return hmisauth.AsError(err)
}

// equal fails with the differing fields unless got and want are deeply equal. Times must be
// equal instants and in UTC.
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if diffs := diff(reflect.ValueOf(got), reflect.ValueOf(want), what); len(diffs) > 0 {
		t.Errorf("%s", strings.Join(diffs, "\n"))
	}
}

var timeType = reflect.TypeFor[time.Time]()

func diff(got, want reflect.Value, path string) []string {
	if got.Type() == timeType {
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) || (!g.IsZero() && g.Location() != time.UTC) {
			return []string{fmt.Sprintf("%s = %v, want %v (in UTC)", path, g, w)}
		}
		return nil
	}
	switch got.Kind() {
	case reflect.Pointer:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				return []string{fmt.Sprintf("%s = %v, want %v", path, got, want)}
			}
			return nil
		}
		return diff(got.Elem(), want.Elem(), path)
	case reflect.Struct:
		var out []string
		for i := range got.NumField() {
			out = append(out, diff(got.Field(i), want.Field(i), path+"."+got.Type().Field(i).Name)...)
		}
		return out
	case reflect.Slice:
		if got.Len() != want.Len() {
			return []string{fmt.Sprintf("%s = %v, want %v", path, got, want)}
		}
		var out []string
		for i := range got.Len() {
			out = append(out, diff(got.Index(i), want.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if !reflect.DeepEqual(got.Interface(), want.Interface()) {
		return []string{fmt.Sprintf("%s = %#v, want %#v", path, got, want)}
	}
	return nil
}

// parallel runs fn(0…n-1) in n goroutines released together, and returns their errors.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
