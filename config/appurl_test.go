package config

import (
	"strings"
	"testing"
)

// sites.KEY.app_url is a link on every account page, so only an address a browser can open
// safely is accepted: https, or http on this machine.

func TestAppURLIsLoadedFromFileAndEnvironment(t *testing.T) {
	c := mustLoad(t, "sites:\n  live:\n    app_url: https://hmis.example.org/\n    app_name: Clarity\n")
	if s := c.Sites["live"]; s.AppURL != "https://hmis.example.org/" || s.AppName != "Clarity" {
		t.Errorf("live app = %q %q", s.AppURL, s.AppName)
	}
	c = mustLoad(t, "", "HMISAUTH_SITES_TRAINING_APP_URL=http://localhost:3000/")
	if got := c.Sites["training"].AppURL; got != "http://localhost:3000/" {
		t.Errorf("from the environment: %q", got)
	}
	if s := c.Sites["live"]; s.AppURL != "" || s.AppName != "" {
		t.Errorf("live has an app it was not given: %q %q", s.AppURL, s.AppName)
	}
}

func TestAppURLMustBeAnAddressToOpen(t *testing.T) {
	for _, bad := range []string{"hmis.example.org", "/hmis", "http://hmis.example.org/", "javascript:alert(1)",
		"ftp://hmis.example.org/", "https://me:pw@hmis.example.org/"} {
		got := loadErr(t, "sites:\n  live:\n    app_url: '"+bad+"'\n")
		if !strings.Contains(got, "config: sites.live.app_url must") {
			t.Errorf("%q: %s", bad, got)
		}
	}
	for _, good := range []string{"https://hmis.example.org", "https://hmis.example.org/app/?site=live",
		"http://localhost:8081/", "http://127.0.0.1/"} {
		mustLoad(t, "sites:\n  live:\n    app_url: '"+good+"'\n")
	}
	got := loadErr(t, "sites:\n  live:\n    app_name: '"+strings.Repeat("x", 101)+"'\n")
	if !strings.Contains(got, "config: sites.live.app_name must be at most 100 characters") {
		t.Errorf("long name: %s", got)
	}
}
