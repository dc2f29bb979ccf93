package storetest

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// wantClient checks Client(site, id) finds want.
func wantClient(t *testing.T, s hmisauth.Store, want *hmisauth.Client) {
	t.Helper()
	got, err := s.Client(t.Context(), want.Site, want.ID)
	must(t, err)
	equal(t, "Client", got, want)
}

var clientTests = []test{
	{"EveryFieldRoundTrips", func(t *testing.T, s hmisauth.Store) {
		chicago := time.FixedZone("CST", -6*3600)
		c := &hmisauth.Client{
			Site: live, ID: "hmis-app", Name: "HMIS", HomeURL: "https://hmis.example.org/",
			RedirectURIs:           []string{"https://hmis.example.org/oidc/callback", "https://hmis.example.org/alt"},
			PostLogoutRedirectURIs: []string{"https://hmis.example.org/"},
			BackchannelLogoutURI:   "https://hmis.example.org/oidc/backchannel",
			SecretHash:             tokenHash("new secret"), OldSecretHash: tokenHash("old secret"),
			Scopes:            []string{"profile", "email", "hmis"},
			AccessTokenFormat: hmisauth.TokenJWT, AccessTokenLifetime: 10*time.Minute + 1500*time.Nanosecond,
			RefreshTokens: true, FromConfig: true, CreatedAt: t0.In(chicago), UpdatedAt: at(5),
		}
		must(t, s.CreateClient(t.Context(), c))
		wantClient(t, s, c)
		cs, err := s.Clients(t.Context(), live)
		must(t, err)
		equal(t, "Clients", cs, []*hmisauth.Client{c})
	}},
	{"APublicClientHoldsNoSecret", func(t *testing.T, s hmisauth.Store) {
		c := newClient(t, s, live, "spa", func(c *hmisauth.Client) {
			c.Public, c.SecretHash, c.RedirectURIs, c.HomeURL, c.UpdatedAt = true, nil, nil, "", time.Time{}
		})
		wantClient(t, s, c)
	}},
	{"CreateStampsCreatedAtWhenLeftZero", func(t *testing.T, s hmisauth.Store) {
		c := &hmisauth.Client{Site: live, ID: "fresh", Name: "Fresh", AccessTokenFormat: hmisauth.TokenOpaque}
		must(t, s.CreateClient(t.Context(), c))
		if c.CreatedAt.IsZero() {
			t.Fatal("CreatedAt left zero")
		}
		wantClient(t, s, c)
	}},
	{"AClientIDIsUniquePerSite", func(t *testing.T, s hmisauth.Store) {
		a := newClient(t, s, live, "hmis-app")
		err := s.CreateClient(t.Context(), &hmisauth.Client{Site: live, ID: "hmis-app", Name: "Another", CreatedAt: t0})
		wantCode(t, err, hmisauth.ECONFLICT)
		b := newClient(t, s, training, "hmis-app", func(c *hmisauth.Client) { c.Name = "HMIS Training" })
		wantClient(t, s, a)
		wantClient(t, s, b)
	}},
	{"AClientNameIsUniquePerSite", func(t *testing.T, s hmisauth.Store) {
		a := newClient(t, s, live, "hmis-app", func(c *hmisauth.Client) { c.Name = "HMIS" })
		twice := appClient(live, "hmis-app-2")
		twice.Name = " hmis "
		err := s.CreateClient(t.Context(), twice)
		wantCode(t, err, hmisauth.ECONFLICT)
		if e := hmisauth.AsError(err); e == nil || e.Field != "name" {
			t.Errorf("the clash is %#v, want one on field name", e)
		}
		b := newClient(t, s, live, "bed-board", func(c *hmisauth.Client) { c.Name = "Bed Board" })
		b.Name = "Hmis"
		wantCode(t, s.UpdateClient(t.Context(), b), hmisauth.ECONFLICT)
		b.Name = "Bed Board"
		wantClient(t, s, b)
		newClient(t, s, training, "hmis-app", func(c *hmisauth.Client) { c.Name = "HMIS" })
		a.Name = "hmis" // its own name, in other letters
		must(t, s.UpdateClient(t.Context(), a))
		wantClient(t, s, a)
	}},
	{"ASitesClientIsNotAnothers", func(t *testing.T, s hmisauth.Store) {
		newClient(t, s, live, "hmis-app")
		_, err := s.Client(t.Context(), training, "hmis-app")
		wantCode(t, err, hmisauth.ENOTFOUND)
		_, err = s.Client(t.Context(), live, "nope")
		wantCode(t, err, hmisauth.ENOTFOUND)
		cs, err := s.Clients(t.Context(), training)
		must(t, err)
		if len(cs) != 0 {
			t.Errorf("training lists %d clients, want none: live's are not its", len(cs))
		}
		wantCode(t, s.UpdateClient(t.Context(), &hmisauth.Client{Site: training, ID: "hmis-app", Name: "x"}), hmisauth.ENOTFOUND)
		wantCode(t, s.DeleteClient(t.Context(), training, "hmis-app"), hmisauth.ENOTFOUND)
		if _, err := s.Client(t.Context(), live, "hmis-app"); err != nil {
			t.Errorf("live's client after training's update and delete: %v", err)
		}
	}},
	{"ClientsAreListedByName", func(t *testing.T, s hmisauth.Store) {
		b := newClient(t, s, live, "b", func(c *hmisauth.Client) { c.Name = "Coordinated Entry" })
		a := newClient(t, s, live, "a", func(c *hmisauth.Client) { c.Name = "HMIS" })
		c := newClient(t, s, live, "c", func(c *hmisauth.Client) { c.Name = "Bed Board" })
		newClient(t, s, training, "d", func(c *hmisauth.Client) { c.Name = "Alpha" })
		cs, err := s.Clients(t.Context(), live)
		must(t, err)
		equal(t, "Clients", cs, []*hmisauth.Client{c, b, a})
	}},
	{"UpdateSavesEverythingButIdentityAndCreation", func(t *testing.T, s hmisauth.Store) {
		c := newClient(t, s, live, "hmis-app", backchannel)
		edit := *c
		edit.Name, edit.HomeURL, edit.RedirectURIs = "HMIS (new)", "https://new.example.org/", []string{"https://new.example.org/cb"}
		edit.PostLogoutRedirectURIs, edit.BackchannelLogoutURI = []string{"https://new.example.org/bye"}, ""
		edit.Public, edit.SecretHash, edit.OldSecretHash = true, nil, nil
		edit.Scopes, edit.AccessTokenFormat, edit.AccessTokenLifetime = []string{"email"}, hmisauth.TokenJWT, time.Hour
		edit.RefreshTokens, edit.FromConfig, edit.UpdatedAt = false, true, at(60)
		edit.CreatedAt = at(30) // not saved
		must(t, s.UpdateClient(t.Context(), &edit))
		edit.CreatedAt = c.CreatedAt
		wantClient(t, s, &edit)
		wantCode(t, s.UpdateClient(t.Context(), &hmisauth.Client{Site: live, ID: "nope", Name: "x"}), hmisauth.ENOTFOUND)
	}},
	{"SecretRotationKeepsBothThenOne", func(t *testing.T, s hmisauth.Store) {
		c := newClient(t, s, live, "hmis-app")
		c.OldSecretHash, c.SecretHash, c.UpdatedAt = c.SecretHash, tokenHash("second secret"), at(10)
		must(t, s.UpdateClient(t.Context(), c))
		wantClient(t, s, c)
		c.OldSecretHash, c.UpdatedAt = nil, at(20)
		must(t, s.UpdateClient(t.Context(), c))
		wantClient(t, s, c)
	}},
	{"UpdateStampsUpdatedAtWhenLeftZero", func(t *testing.T, s hmisauth.Store) {
		c := newClient(t, s, live, "hmis-app")
		c.UpdatedAt = time.Time{}
		must(t, s.UpdateClient(t.Context(), c))
		if c.UpdatedAt.IsZero() {
			t.Fatal("UpdatedAt left zero")
		}
		wantClient(t, s, c)
	}},
	{"DeleteTakesItsRequestsTokensAndSessionLinks", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := appSession(t, s, u, "tok")
		gone := newClient(t, s, live, "gone", backchannel)
		kept := newClient(t, s, live, "kept", backchannel)
		r := signInTo(t, s, gone, sess, "r1")
		issue(t, s, r)
		pending := newRequest(t, s, gone, "r2")
		other := signInTo(t, s, kept, sess, "r3")
		issue(t, s, other)

		must(t, s.DeleteClient(t.Context(), live, "gone"))
		wantCode(t, s.DeleteClient(t.Context(), live, "gone"), hmisauth.ENOTFOUND)
		_, err := s.Client(t.Context(), live, "gone")
		wantCode(t, err, hmisauth.ENOTFOUND)
		for _, id := range []string{r.ID, pending.ID} {
			_, err := s.AuthRequest(t.Context(), id)
			wantCode(t, err, hmisauth.ENOTFOUND)
		}
		wantAccess(t, s, map[string]bool{"at-r1": false, "at-r3": true})
		wantRefresh(t, s, map[string]bool{"rt-r1": false, "rt-r3": true})
		got, err := s.SessionClients(t.Context(), u.ID)
		must(t, err)
		equal(t, "SessionClients", got[sess.ID], []string{"kept"})
		wantSessions(t, s, map[string]bool{"tok": true})
		// The session no longer signed in to it: ending it owes the deleted client nothing.
		must(t, s.DeleteSession(t.Context(), sess.ID, true))
		if ns := logouts(t, s); len(ns) != 1 || ns[0].ClientID != "kept" {
			t.Errorf("notices after the sign-out: %s, want one for kept", describe(ns))
		}
	}},
}

var identityTests = []test{
	{"GeneratedSubjectsAreUniqueAndStable", func(t *testing.T, s hmisauth.Store) {
		seen := make(map[string]bool)
		var us []*hmisauth.User
		for _, site := range []string{live, training} {
			for _, name := range []string{"amy", "bob", "cal", "dee", "eve"} {
				u := newUser(t, s, site, name)
				if u.Subject == "" || u.Subject == name || seen[u.Subject] {
					t.Fatalf("%s/%s got subject %q: want a new random one", site, name, u.Subject)
				}
				seen[u.Subject] = true
				us = append(us, u)
			}
		}
		for _, u := range us {
			got, err := s.UserBySubject(t.Context(), u.Site, u.Subject)
			must(t, err)
			equal(t, "UserBySubject", got, u)
		}
		u := us[0]
		// The profile, password and state change; the subject does not.
		u.FirstName, u.Email = "Amelia", "amelia@example.org"
		must(t, s.UpdateUserProfile(t.Context(), u))
		must(t, s.SetPassword(t.Context(), hmisauth.PasswordChange{UserID: u.ID, Hash: "h1", At: at(1)}))
		must(t, s.SetDisabled(t.Context(), u.ID, true, at(2)))
		if got := reload(t, s, u); got.Subject != u.Subject {
			t.Errorf("subject changed from %q to %q", u.Subject, got.Subject)
		}
	}},
	{"AGivenSubjectIsKeptAndUniquePerSite", func(t *testing.T, s hmisauth.Store) {
		a := newUser(t, s, live, "jdoe", func(u *hmisauth.User) { u.Subject = "subject-1" })
		if a.Subject != "subject-1" {
			t.Fatalf("Subject = %q, want the one given", a.Subject)
		}
		err := s.CreateUser(t.Context(), &hmisauth.User{Site: live, Username: "other", Subject: "subject-1", CreatedAt: t0})
		wantCode(t, err, hmisauth.ECONFLICT)
		_, err = s.User(t.Context(), live, "other")
		wantCode(t, err, hmisauth.ENOTFOUND)
		b := newUser(t, s, training, "jdoe", func(u *hmisauth.User) { u.Subject = "subject-1" })
		for _, u := range []*hmisauth.User{a, b} {
			got, err := s.UserBySubject(t.Context(), u.Site, "subject-1")
			must(t, err)
			if got.ID != u.ID {
				t.Errorf("UserBySubject(%s) = #%d, want #%d", u.Site, got.ID, u.ID)
			}
		}
	}},
	{"UnknownSubjectIsNotFound", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		for _, tc := range []struct{ site, subject string }{{live, "nope"}, {live, ""}, {training, u.Subject}, {live, "jdoe"}} {
			_, err := s.UserBySubject(t.Context(), tc.site, tc.subject)
			wantCode(t, err, hmisauth.ENOTFOUND)
		}
	}},
	{"EveryLookupFillsTheSubject", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		byName, err := s.User(t.Context(), live, "JDOE")
		must(t, err)
		listed := users(t, s, hmisauth.UserQuery{Site: live})
		for what, got := range map[string]string{"User": byName.Subject, "UserByID": reload(t, s, u).Subject, "Users": listed[0].Subject} {
			if got != u.Subject {
				t.Errorf("%s: Subject %q, want %q", what, got, u.Subject)
			}
		}
	}},
	{"CreateUsersMakesSubjectsOrNone", func(t *testing.T, s hmisauth.Store) {
		batch := importBatch("amy", "bob")
		batch[1].Subject = "given"
		must(t, s.CreateUsers(t.Context(), batch))
		if batch[0].Subject == "" || batch[1].Subject != "given" {
			t.Fatalf("subjects %q, %q: want one made and one kept", batch[0].Subject, batch[1].Subject)
		}
		for _, u := range batch {
			equal(t, "Subject", reload(t, s, u).Subject, u.Subject)
		}
		failed := importBatch("cal", "amy")
		wantCode(t, s.CreateUsers(t.Context(), failed), hmisauth.ECONFLICT)
		if failed[0].Subject != "" {
			t.Errorf("a rolled-back import left subject %q on its row", failed[0].Subject)
		}
	}},
	{"SIDAndAMRRoundTrip", func(t *testing.T, s hmisauth.Store) {
		u := newUser(t, s, live, "jdoe")
		sess := appSession(t, s, u, "tok")
		plain := newSession(t, s, u, "plain", false)
		got, err := s.SessionByToken(t.Context(), tokenHash("tok"))
		must(t, err)
		equal(t, "SessionByToken", got, sess)
		if got.SID != "sid-tok" || len(got.AMR) != 3 {
			t.Errorf("SID %q, AMR %q", got.SID, got.AMR)
		}
		list, err := s.UserSessions(t.Context(), u.ID)
		must(t, err)
		equal(t, "UserSessions", list, []*hmisauth.Session{plain, sess})
		if list[0].SID != "" || list[0].AMR != nil {
			t.Errorf("a session without sid or AMR reads back %q, %q", list[0].SID, list[0].AMR)
		}
	}},
}
