package auth_test

import (
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/password"
)

// Every temporary password the helpdesk hands out — a new account's, a reset one, an
// import's — meets the site's own password rules in full, the person's names and the site's
// name included, in readable groups of four: a site that asks for 24 characters gets them.
func TestTemporaryPasswordsMeetTheSitePolicy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*hmisauth.Site)
		length int
	}{
		{"default", func(*hmisauth.Site) {}, 19},
		{"min_length 24", func(s *hmisauth.Site) { s.Policy.Password.MinLength = 24 }, 24},
		{"nist profile", func(s *hmisauth.Site) {
			p, _, _ := password.Profile(password.ProfileNIST)
			p.History = s.Policy.Password.History
			s.Policy.Password = p
		}, 19},
		{"forbidden words", func(s *hmisauth.Site) { s.Policy.Password.ForbiddenWords = []string{"a", "b", "c"} }, 19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.edit)
			p := f.live.Policy.Password
			check := func(what string, u *hmisauth.User, temp string) {
				t.Helper()
				who := password.Person{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, SiteName: f.live.Name}
				if vs := password.Check(p, temp, who); len(vs) > 0 || len(temp) != tc.length || strings.ContainsAny(temp, "0Oo1lIi") {
					t.Errorf("%s: temporary password %q (%d characters, want %d) breaks %+v", what, temp, len(temp), tc.length, vs)
				}
			}
			for range 20 {
				c := f.create(auth.NewUser{Site: "live", FirstName: "Abe", LastName: "Cab", Email: "abe@example.org"})
				check("new account", c.User, c.TemporaryPassword)
				again, err := f.svc.SetTemporaryPassword(f.ctx, "live", c.User.Username)
				if err != nil {
					t.Fatal(err)
				}
				check("new temporary password", again.User, again.TemporaryPassword)
			}
			plan, err := f.svc.ParseImport(f.ctx, "live", strings.NewReader("first,last\nBea,Dab\nCy,Fab\n"))
			if err != nil {
				t.Fatal(err)
			}
			imported, err := f.svc.Import(f.ctx, plan)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range imported {
				check("import", c.User, c.TemporaryPassword)
			}
			f.login(imported[0].User.Username, imported[0].TemporaryPassword) // and it signs in
		})
	}
}
