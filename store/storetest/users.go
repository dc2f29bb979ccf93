package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
)

// users lists q, failing the test on an error.
func users(t *testing.T, s hmisauth.Store, q hmisauth.UserQuery) []*hmisauth.User {
	t.Helper()
	got, err := s.Users(t.Context(), q)
	if err != nil {
		t.Fatalf("Users(%+v): %v", q, err)
	}
	return got
}

func usernames(us []*hmisauth.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Username
	}
	return out
}

// wantUsers checks Users(q) lists exactly the usernames, in that order, with every field
// (lockout state included) as User finds it.
func wantUsers(t *testing.T, s hmisauth.Store, q hmisauth.UserQuery, want ...string) []*hmisauth.User {
	t.Helper()
	got := users(t, s, q)
	if names := usernames(got); !slices.Equal(names, want) {
		t.Fatalf("Users(%+v) = %q, want %q", q, names, want)
	}
	for _, u := range got {
		one, err := s.User(t.Context(), u.Site, u.Username)
		must(t, err)
		equal(t, "Users: "+u.Username, u, one)
	}
	return got
}

// lock locks (site, username) with one attempt at threshold 1.
func lock(t *testing.T, s hmisauth.Store, site, username string) {
	t.Helper()
	a, err := s.ReserveLoginAttempt(t.Context(), site, hmisauth.UsernameKey(username), 1, at(1))
	must(t, err)
	if a.LockedAt.IsZero() {
		t.Fatalf("%s/%s did not lock", site, username)
	}
}

func noEmail(u *hmisauth.User)  { u.Email = "" }
func disabled(u *hmisauth.User) { u.Disabled = true }

var usersTests = []test{
	{"SiteIsRequired", func(t *testing.T, s hmisauth.Store) {
		newUser(t, s, live, "jdoe")
		_, err := s.Users(t.Context(), hmisauth.UserQuery{})
		wantCode(t, err, hmisauth.EINVALID)
	}},
	{"ZeroQueryListsTheSiteByUsernameKey", func(t *testing.T, s hmisauth.Store) {
		for _, name := range []string{"Carol", "amy", "Bob", "dave"} {
			newUser(t, s, live, name)
		}
		newUser(t, s, training, "aaron")
		newUser(t, s, training, "Amy")
		wantUsers(t, s, hmisauth.UserQuery{Site: live}, "amy", "Bob", "Carol", "dave")
		wantUsers(t, s, hmisauth.UserQuery{Site: training}, "aaron", "Amy")
		wantUsers(t, s, hmisauth.UserQuery{Site: "nowhere"})
	}},
	{"ListsFullUsersWithTheirLockoutState", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 0)
		newUser(t, s, live, "amy", inAgency(a), func(u *hmisauth.User) {
			u.Phone, u.Role, u.TermsVersion = "555-0100", hmisauth.RoleAgencyAdmin, 3
			u.AgreementSignedOn, u.RecoveryQuestion = "2026-01-05", "First pet?"
		})
		newUser(t, s, live, "bob")
		newUser(t, s, live, "cal")
		lock(t, s, live, "bob")
		reserve(t, s, "cal", 3, 2) // counted, not locked
		got := wantUsers(t, s, hmisauth.UserQuery{Site: live}, "amy", "bob", "cal")
		if !got[1].Locked() || got[1].FailedAttempts != 1 || got[2].FailedAttempts != 1 || got[2].Locked() {
			t.Errorf("lockout state: bob %d attempts, locked at %v; cal %d attempts, locked at %v",
				got[1].FailedAttempts, got[1].LockedAt, got[2].FailedAttempts, got[2].LockedAt)
		}
	}},
	{"TextMatchesUsernameNamesOrEmailInAnyCase", func(t *testing.T, s hmisauth.Store) {
		newUser(t, s, live, "JSmith", func(u *hmisauth.User) { u.FirstName, u.LastName, u.Email = "John", "Brown", "jb@example.org" })
		newUser(t, s, live, "kim", func(u *hmisauth.User) { u.FirstName, u.LastName, u.Email = "Smithers", "Lee", "kl@example.org" })
		newUser(t, s, live, "lou", func(u *hmisauth.User) { u.FirstName, u.LastName, u.Email = "Lou", "Goldsmith", "lg@example.org" })
		newUser(t, s, live, "max", func(u *hmisauth.User) { u.FirstName, u.LastName, u.Email = "Max", "Ng", "max@SMITH.example" })
		newUser(t, s, live, "ned", func(u *hmisauth.User) { u.FirstName, u.LastName, u.Email = "Ned", "Smyth", "ned@example.org" })
		newUser(t, s, training, "smith", func(u *hmisauth.User) { u.FirstName, u.LastName = "Smith", "Smith" })
		for _, text := range []string{"smith", "SMITH", "sMiTh"} {
			wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: text}, "JSmith", "kim", "lou", "max")
		}
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "jsm"}, "JSmith")     // username
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "JOHN"}, "JSmith")    // first name
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "goldSMITH"}, "lou")  // last name
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "kl@example"}, "kim") // e-mail
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "@smith.ex"}, "max")  // e-mail domain
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "example.org"}, "JSmith", "kim", "lou", "ned")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "nobody"})
	}},
	{"TextWildcardsAreLiteral", func(t *testing.T, s hmisauth.Store) {
		newUser(t, s, live, "pct", func(u *hmisauth.User) { u.FirstName = "50% Club" })
		newUser(t, s, live, "fifty", func(u *hmisauth.User) { u.FirstName = "5000" })
		newUser(t, s, live, "j_doe")
		newUser(t, s, live, "jxdoe")
		newUser(t, s, live, "slash", func(u *hmisauth.User) { u.LastName = `Back\slash` })
		newUser(t, s, live, "plain", func(u *hmisauth.User) { u.Email = "plain@example.org" })
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "50%"}, "pct")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "%"}, "pct")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "%%"})
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "j_d"}, "j_doe")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: "_"}, "j_doe")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: `\`}, "slash")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: `k\s`}, "slash")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Text: `\%`})
	}},
	{"EachFilter", func(t *testing.T, s hmisauth.Store) {
		a := newAgency(t, s, live, "Hope House", 0)
		b := newAgency(t, s, live, "Safe Harbor", 0)
		newUser(t, s, live, "amy", inAgency(a))
		newUser(t, s, live, "bob", inAgency(b), disabled)
		newUser(t, s, live, "cal", noEmail)
		newUser(t, s, live, "dee", inAgency(a))
		newUser(t, s, live, "eve")
		lock(t, s, live, "dee")
		lock(t, s, live, "eve")
		reserve(t, s, "amy", 3, 2) // a failed attempt is not a lock
		lock(t, s, live, "ghost")  // a lockout without an account lists nothing
		wantUsers(t, s, hmisauth.UserQuery{Site: live, AgencyID: a.ID}, "amy", "dee")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, AgencyID: b.ID}, "bob")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, AgencyID: 999})
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Locked: true}, "dee", "eve")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, Disabled: true}, "bob")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, NoEmail: true}, "cal")
	}},
	{"EveryCombinationOfFilters", func(t *testing.T, s hmisauth.Store) {
		// Every mix of agency (a, b, none), lock (none, one failed attempt, locked), disabled,
		// e-mail and a match for the text in one of the four searched fields, on two sites with
		// the same usernames, checked against every combination of the five filters.
		type props struct {
			agency            int // 0 none, 1 a, 2 b
			lockout           int // 0 none, 1 one failed attempt, 2 locked
			disabled, noEmail bool
			match             bool
			field             int // where the text matches: 0 username, 1 first, 2 last name, 3 e-mail
			username, key     string
		}
		var all []props
		agencies := map[string][3]int64{}
		for _, site := range []string{live, training} {
			a := newAgency(t, s, site, "Hope House", 0)
			b := newAgency(t, s, site, "Safe Harbor", 0)
			agencies[site] = [3]int64{0, a.ID, b.ID}
		}
		i := 0
		for agency := range 3 {
			for lockout := range 3 {
				for _, dis := range []bool{false, true} {
					for _, ne := range []bool{false, true} {
						for _, match := range []bool{false, true} {
							p := props{agency: agency, lockout: lockout, disabled: dis, noEmail: ne, match: match,
								username: fmt.Sprintf("User%03d", (i*37)%100), field: i % 4}
							if ne && p.field == 3 {
								p.field = 1 // no e-mail to match in
							}
							if match && p.field == 0 {
								p.username = fmt.Sprintf("Smith%03d", (i*37)%100)
							}
							p.key = hmisauth.UsernameKey(p.username)
							all = append(all, p)
							i++
						}
					}
				}
			}
		}
		for _, site := range []string{live, training} {
			for _, p := range all {
				newUser(t, s, site, p.username, func(u *hmisauth.User) {
					u.FirstName, u.LastName, u.Email = "Jane", "Doe", p.key+"@example.org"
					if p.match {
						switch p.field {
						case 1:
							u.FirstName = "Smithson"
						case 2:
							u.LastName = "Goldsmith"
						case 3:
							u.Email = p.key + "@smith.example"
						}
					}
					if p.noEmail {
						u.Email = ""
					}
					u.AgencyID = agencies[site][p.agency]
					u.Disabled = p.disabled
				})
				switch p.lockout {
				case 1:
					_, err := s.ReserveLoginAttempt(t.Context(), site, p.key, 3, at(1))
					must(t, err)
				case 2:
					lock(t, s, site, p.username)
				}
			}
		}
		slices.SortFunc(all, func(x, y props) int { return strings.Compare(x.key, y.key) })
		for mask := range 32 {
			for _, site := range []string{live, training} {
				q := hmisauth.UserQuery{Site: site, Locked: mask&4 != 0, Disabled: mask&8 != 0, NoEmail: mask&16 != 0}
				if mask&1 != 0 {
					q.Text = "SMITH"
				}
				if mask&2 != 0 {
					q.AgencyID = agencies[site][1]
				}
				var want []string
				for _, p := range all {
					if (q.Text == "" || p.match) && (q.AgencyID == 0 || p.agency == 1) && (!q.Locked || p.lockout == 2) &&
						(!q.Disabled || p.disabled) && (!q.NoEmail || p.noEmail) {
						want = append(want, p.username)
					}
				}
				got := users(t, s, q)
				if names := usernames(got); !slices.Equal(names, want) {
					t.Errorf("Users(%+v) = %q, want %q", q, names, want)
				}
				for _, u := range got {
					if u.Site != site {
						t.Errorf("Users(%+v) listed %s of site %s", q, u.Username, u.Site)
					}
				}
			}
		}
	}},
	{"AfterPagesForwardByUsernameKey", func(t *testing.T, s hmisauth.Store) {
		names := []string{"golf", "Bravo", "echo", "alpha", "Foxtrot", "charlie", "Delta"}
		for _, name := range names {
			newUser(t, s, live, name)
		}
		newUser(t, s, training, "bravo2")
		want := []string{"alpha", "Bravo", "charlie", "Delta", "echo", "Foxtrot", "golf"}
		var got []string
		var pages int
		for after := ""; ; pages++ {
			page := users(t, s, hmisauth.UserQuery{Site: live, After: after, Limit: 3})
			got = append(got, usernames(page)...)
			if len(page) < 3 {
				break
			}
			after = hmisauth.UsernameKey(page[len(page)-1].Username)
		}
		if !slices.Equal(got, want) || pages != 2 {
			t.Errorf("paged by 3: %q in %d pages, want %q in 2 full pages and a short one", got, pages, want)
		}
		wantUsers(t, s, hmisauth.UserQuery{Site: live, After: "bravo"}, "charlie", "Delta", "echo", "Foxtrot", "golf")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, After: "c"}, "charlie", "Delta", "echo", "Foxtrot", "golf")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, After: "golf"})
		wantUsers(t, s, hmisauth.UserQuery{Site: live, After: "zulu"})
	}},
	{"AfterPagesAFilteredList", func(t *testing.T, s hmisauth.Store) {
		for i := range 10 {
			var opts []func(*hmisauth.User)
			if i%2 == 0 {
				opts = append(opts, noEmail)
			}
			newUser(t, s, live, fmt.Sprintf("u%02d", i), opts...)
		}
		wantUsers(t, s, hmisauth.UserQuery{Site: live, NoEmail: true, Limit: 2}, "u00", "u02")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, NoEmail: true, Limit: 2, After: "u02"}, "u04", "u06")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, NoEmail: true, Limit: 2, After: "u06"}, "u08")
		wantUsers(t, s, hmisauth.UserQuery{Site: live, NoEmail: true, Limit: 2, After: "u08"})
	}},
	{"LimitDefaultsTo100AndIsAtMost1000", func(t *testing.T, s hmisauth.Store) {
		batch := make([]*hmisauth.User, 1005)
		for i := range batch {
			batch[i] = &hmisauth.User{Site: live, Username: fmt.Sprintf("user%04d", i), CreatedAt: t0}
		}
		must(t, s.CreateUsers(t.Context(), batch))
		for _, c := range []struct{ limit, want int }{{0, 100}, {7, 7}, {1000, 1000}, {1001, 1000}, {5000, 1000}} {
			got := users(t, s, hmisauth.UserQuery{Site: live, Limit: c.limit})
			if len(got) != c.want || got[0].Username != "user0000" || got[len(got)-1].Username != fmt.Sprintf("user%04d", c.want-1) {
				t.Errorf("Limit %d: %d users (%s…%s), want the first %d", c.limit, len(got),
					got[0].Username, got[len(got)-1].Username, c.want)
			}
		}
		got := users(t, s, hmisauth.UserQuery{Site: live, Limit: 1000, After: "user0999"})
		if names := usernames(got); !slices.Equal(names, []string{"user1000", "user1001", "user1002", "user1003", "user1004"}) {
			t.Errorf("the page after the first 1000: %q", names)
		}
	}},
}
