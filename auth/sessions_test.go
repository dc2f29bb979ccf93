package auth_test

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

func TestSigningInAgainEndsTheBrowsersOldSession(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	a, b := f.login(u.Username, goodPassword), f.login(u.Username, goodPassword)
	if a.Token == b.Token || a.Principal.Session.ID == b.Principal.Session.ID {
		t.Error("two sign-ins share a token")
	}
	// The web discards the session the browser held when it signs in again.
	if err := f.svc.Discard(f.ctx, "live", a.Token); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Authenticate(f.ctx, "live", a.Token)
	wantCode(t, err, hmisauth.EUnauthorized)
}

func TestUserSeesAndEndsTheirSessions(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	desk, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword,
		ClientAddr: "10.0.0.5", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0"})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Minute)
	phone, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword,
		ClientAddr: "10.0.0.9", UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"})
	if err != nil {
		t.Fatal(err)
	}
	other := f.user("Ben", "Cole")
	theirs := f.login(other.Username, goodPassword)

	list, err := f.svc.Sessions(f.ctx, phone.Principal)
	if err != nil {
		t.Fatal(err)
	}
	// user() signed in twice during setup; those sessions are still live too.
	var mine []auth.SessionInfo
	for _, x := range list {
		if x.ID == desk.Principal.Session.ID || x.ID == phone.Principal.Session.ID {
			mine = append(mine, x)
		}
		if x.UserID != u.ID {
			t.Errorf("another user's session listed: %+v", x)
		}
	}
	if len(mine) != 2 || mine[0].ID != phone.Principal.Session.ID || !mine[0].Current || mine[1].Current {
		t.Fatalf("sessions = %+v", mine)
	}
	if mine[0].Browser != "Safari on iPhone" || mine[1].Browser != "Edge on Windows" || mine[1].ClientAddr != "10.0.0.5" {
		t.Errorf("browsers = %q, %q from %q", mine[0].Browser, mine[1].Browser, mine[1].ClientAddr)
	}
	// Another user's session cannot be ended, and looks like one that does not exist.
	wantCode(t, f.svc.EndSession(f.ctx, phone.Principal, theirs.Principal.Session.ID), hmisauth.ENOTFOUND)
	if _, err := f.svc.Authenticate(f.ctx, "live", theirs.Token); err != nil {
		t.Errorf("their session after the refusal: %v", err)
	}
	if err := f.svc.EndSession(f.ctx, phone.Principal, desk.Principal.Session.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Authenticate(f.ctx, "live", desk.Token)
	if auth.SessionEndReason(err) != hmisauth.EndedByUser {
		t.Errorf("ended session: %v", err)
	}
	if err := f.svc.EndOtherSessions(f.ctx, phone.Principal); err != nil {
		t.Fatal(err)
	}
	list, err = f.svc.Sessions(f.ctx, phone.Principal)
	if err != nil || len(list) != 1 || !list[0].Current {
		t.Errorf("after ending the others: %+v, %v", list, err)
	}
}

func TestSingleSessionSiteSignsTheOlderSessionOutSayingWhy(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.Session.Single = true })
	u := f.user("Ana", "Diaz")
	first := f.login(u.Username, goodPassword)
	second := f.login(u.Username, goodPassword)
	_, err := f.svc.Authenticate(f.ctx, "live", first.Token)
	wantCode(t, err, hmisauth.ESignedInElsewhere)
	if got := hmisauth.ErrorMessage(err); got == "" || got == "Please sign in." {
		t.Errorf("message = %q", got)
	}
	if _, err := f.svc.Authenticate(f.ctx, "live", second.Token); err != nil {
		t.Errorf("newer session: %v", err)
	}
}

func TestRoleChangeEndsTheUsersSessions(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	res := f.login(u.Username, goodPassword)
	admin := f.adminOf(f.signedInAs("Sam", "Admin", "sysadmin", ""))
	role := "sysadmin"
	if _, err := admin.UpdateUser(f.ctx, u.Username, auth.ProfileChange{Role: &role}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Authenticate(f.ctx, "live", res.Token)
	if auth.SessionEndReason(err) != hmisauth.EndedByHelpdesk {
		t.Errorf("session after a role change: %v", err)
	}
}

func TestBrowserName(t *testing.T) {
	for ua, want := range map[string]string{
		"": "Unknown browser",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                "Firefox on Linux",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15": "Safari on Mac",
		"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36":              "Chrome on Android",
		"curl/8.5.0":    "curl",
		"HMIS-sync/1.0": "Another program",
	} {
		if got := auth.BrowserName(ua); got != want {
			t.Errorf("BrowserName(%q) = %q, want %q", ua, got, want)
		}
	}
}

func FuzzBrowserName(f *testing.F) {
	f.Add("Mozilla/5.0 (Windows NT 10.0) Chrome/131.0 Edg/131.0")
	f.Add("")
	f.Fuzz(func(t *testing.T, ua string) {
		if auth.BrowserName(ua) == "" {
			t.Errorf("BrowserName(%q) is empty", ua)
		}
	})
}
