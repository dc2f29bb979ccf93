package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// importBatch is n new users on live named by names, with a password hash each.
func importBatch(names ...string) []*hmisauth.User {
	us := make([]*hmisauth.User, len(names))
	for i, name := range names {
		us[i] = &hmisauth.User{Site: live, Username: name, FirstName: "Imported", LastName: name,
			Email: name + "@example.org", CreatedAt: t0, PasswordHash: "$argon2id$" + name, PasswordTemporary: true}
	}
	return us
}

// wantNoneWritten checks a failed import left no trace: no user, no ID handed out.
func wantNoneWritten(t *testing.T, s hmisauth.Store, batch []*hmisauth.User, except ...*hmisauth.User) {
	t.Helper()
	for _, u := range batch {
		if u.ID != 0 {
			t.Errorf("%s: ID %d left set by a failed import", u.Username, u.ID)
		}
	}
	got := users(t, s, hmisauth.UserQuery{Site: live})
	var want []string
	for _, u := range except {
		want = append(want, u.Username)
	}
	if names := usernames(got); !slices.Equal(names, want) {
		t.Errorf("after a failed import the site holds %q, want %q", names, want)
	}
}

// wantRowError checks err is the application error code about row (counting from 1).
func wantRowError(t *testing.T, err error, code string, row int, message string) {
	t.Helper()
	e := wantCode(t, err, code)
	if want := fmt.Sprintf("row %d", row); e.Field != want {
		t.Errorf("error field %q, want %q", e.Field, want)
	}
	if message != "" && e.Message != message {
		t.Errorf("error message %q, want %q", e.Message, message)
	}
}

var createUsersTests = []test{
	{"CreatesEveryUserAndSetsTheirIDs", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 3)
		batch := importBatch("amy", "Bob", "cal")
		batch[0].AgencyID, batch[1].AgencyID = a.ID, a.ID
		batch[1].Role = hmisauth.RoleAgencyAdmin
		batch[2].CreatedAt = time.Time{}
		must(t, s.CreateUsers(t.Context(), batch))
		ids := map[int64]bool{}
		for _, u := range batch {
			if u.ID == 0 || ids[u.ID] {
				t.Fatalf("%s: ID %d (zero or given twice)", u.Username, u.ID)
			}
			ids[u.ID] = true
		}
		if batch[0].Role != hmisauth.RoleUser || batch[2].CreatedAt.IsZero() {
			t.Errorf("defaults not filled as CreateUser does: role %q, created %v", batch[0].Role, batch[2].CreatedAt)
		}
		for _, u := range batch {
			equal(t, "User", reload(t, s, u), u)
		}
		wantCount(t, s, a, 2)
	}},
	{"SameUsernameOnTwoSitesIsTwoAccounts", func(t *testing.T, s hmisauth.Store) {
		batch := importBatch("jdoe", "jdoe")
		batch[1].Site = training
		must(t, s.CreateUsers(t.Context(), batch))
		wantUsers(t, s, hmisauth.UserQuery{Site: live}, "jdoe")
		wantUsers(t, s, hmisauth.UserQuery{Site: training}, "jdoe")
	}},
	{"ClearsStaleLockoutState", func(t *testing.T, s hmisauth.Store) {
		for i := 1; i <= 3; i++ {
			reserve(t, s, "newbie", 3, i)
		}
		batch := importBatch("amy", "NewBie")
		must(t, s.CreateUsers(t.Context(), batch))
		if got := reload(t, s, batch[1]); got.FailedAttempts != 0 || got.Locked() {
			t.Errorf("the imported account inherited %d guesses, locked at %v", got.FailedAttempts, got.LockedAt)
		}
	}},
	{"EmptyBatchCreatesNothing", func(t *testing.T, s hmisauth.Store) {
		must(t, s.CreateUsers(t.Context(), nil))
		wantUsers(t, s, hmisauth.UserQuery{Site: live})
	}},
	{"Row3ClashingWithAnExistingUserWritesNone", func(t *testing.T, s hmisauth.Store) {
		carol := newUser(t, s, live, "carol")
		reserve(t, s, "carol", 3, 1)
		for i := 1; i <= 3; i++ {
			reserve(t, s, "bob", 3, i)
		}
		batch := importBatch("amy", "bob", "CAROL", "dave", "eve")
		err := s.CreateUsers(t.Context(), batch)
		wantRowError(t, err, hmisauth.ECONFLICT, 3, "The username CAROL is already taken on this site.")
		wantNoneWritten(t, s, batch, carol)
		if got := reload(t, s, carol); got.FailedAttempts != 1 {
			t.Errorf("carol's failed attempts %d, want 1 untouched", got.FailedAttempts)
		}
		// Row 2 cleared bob's stale lockout; that rolled back with the rest.
		if a := reserve(t, s, "bob", 3, 9); a.Allowed || a.Count != 3 {
			t.Errorf("bob's lockout after the failed import: %+v, want still locked", a)
		}
	}},
	{"ClashBetweenTwoRowsOfTheBatchWritesNone", func(t *testing.T, s hmisauth.Store) {
		batch := importBatch("amy", "bob", "cal", "Bob")
		err := s.CreateUsers(t.Context(), batch)
		wantRowError(t, err, hmisauth.ECONFLICT, 4, "The username Bob is already taken on this site.")
		wantNoneWritten(t, s, batch)
	}},
	{"SeatsCountTheBatchsOwnRows", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 3)
		existing := newUser(t, s, live, "amy", inAgency(a))
		batch := importBatch("bob", "cal", "dee", "eve")
		for _, u := range batch {
			u.AgencyID = a.ID
		}
		batch[0].Disabled = true // takes no seat
		err := s.CreateUsers(t.Context(), batch)
		wantRowError(t, err, hmisauth.ESeatsFull, 4,
			"Agency Hope House has no free seats (3 of 3 used). Free a seat or raise the agency's seats.")
		wantNoneWritten(t, s, batch, existing)
		wantCount(t, s, a, 1)
		// Without the row too many, it fits exactly.
		batch = batch[:3]
		must(t, s.CreateUsers(t.Context(), batch))
		wantCount(t, s, a, 3)
	}},
	{"TheFirstFailingRowKeepsItsCode", func(t *testing.T, s hmisauth.Store) {
		other := newAgency(t, s, training, "Elsewhere", 0)
		cases := []struct {
			name    string
			edit    func(us []*hmisauth.User)
			code    string
			row     int
			message string
		}{
			{"blank username", func(us []*hmisauth.User) { us[1].Username = "  " }, hmisauth.EINVALID, 2, "Username is required."},
			{"agency of another site", func(us []*hmisauth.User) { us[2].AgencyID = other.ID }, hmisauth.ENOTFOUND, 3, "No such agency."},
			{"first of two failures", func(us []*hmisauth.User) { us[1].AgencyID = 999; us[2].Username = "" }, hmisauth.ENOTFOUND, 2, ""},
			{"nil user", func(us []*hmisauth.User) { us[0] = nil }, hmisauth.EINVALID, 1, ""},
		}
		for _, c := range cases {
			batch := importBatch("amy", "bob", "cal")
			c.edit(batch)
			err := s.CreateUsers(t.Context(), batch)
			t.Log(c.name)
			wantRowError(t, err, c.code, c.row, c.message)
			wantNoneWritten(t, s, slices.DeleteFunc(batch, func(u *hmisauth.User) bool { return u == nil }))
		}
	}},
	{"EventsAreAppendedOnceWithTheImport", func(t *testing.T, s hmisauth.Store) {
		imported := event("user.import", "", "imported 3 users", 1)
		created := event(hmisauth.EventUserCreated, "amy", "created by import", 1)
		batch := importBatch("amy", "bob", "cal")
		must(t, s.CreateUsers(carrying(t, imported, created), batch))
		wantDetails(t, s, "imported 3 users", "created by import")
		if imported.ID != 1 || created.ID != 2 {
			t.Errorf("event IDs %d, %d, want 1, 2", imported.ID, created.ID)
		}
	}},
	{"AFailedImportAppendsNoEvent", func(t *testing.T, s hmisauth.Store) {
		newUser(t, s, live, "bob")
		imported := event("user.import", "", "imported 3 users", 1)
		batch := importBatch("amy", "BOB", "cal")
		err := s.CreateUsers(carrying(t, imported), batch)
		wantRowError(t, err, hmisauth.ECONFLICT, 2, "")
		if imported.ID != 0 || imported.Hash != nil {
			t.Errorf("the event of a failed import claims ID %d, hash %x", imported.ID, imported.Hash)
		}
		wantDetails(t, s)
		// The same event goes to the retry, which succeeds.
		batch = importBatch("amy", "cal")
		must(t, s.CreateUsers(carrying(t, imported), batch))
		wantDetails(t, s, "imported 3 users")
	}},
	{"ParallelImportsNeverOverfillAnAgency", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 5)
		errs := parallel(6, func(i int) error {
			batch := importBatch(fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i), fmt.Sprintf("c%d", i))
			for _, u := range batch {
				u.AgencyID = a.ID
			}
			return s.CreateUsers(t.Context(), batch)
		})
		ok := 0
		for _, err := range errs {
			switch hmisauth.ErrorCode(err) {
			case "":
				ok++
			case hmisauth.ESeatsFull:
				wantRowError(t, err, hmisauth.ESeatsFull, 3, "")
			default:
				t.Errorf("CreateUsers: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d imports of 3 into 5 seats succeeded, want 1", ok)
		}
		wantCount(t, s, a, 3)
		if n := len(users(t, s, hmisauth.UserQuery{Site: live})); n != 3 {
			t.Errorf("%d users on the site, want 3 (one whole import)", n)
		}
	}},
}
