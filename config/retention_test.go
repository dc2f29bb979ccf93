package config

import (
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

func TestRetentionDefaultsAndDays(t *testing.T) {
	c := mustLoad(t, site("retention: {unknown_usernames: 90d, reset_tokens: 0s}"))
	got := c.Sites["live"].Policy.Retention
	want := hmisauth.DefaultRetention()
	want.UnknownUsernames, want.ResetTokens = 90*24*time.Hour, 0
	if got != want {
		t.Errorf("live retention = %+v, want %+v", got, want)
	}
	if d := mustLoad(t, "").Sites["live"].Policy.Retention; d != hmisauth.DefaultRetention() {
		t.Errorf("retention with no file = %+v, want the defaults", d)
	}
}

func TestRetentionBelowWhatAFeatureNeedsIsRefused(t *testing.T) {
	const p = "config: sites.live.policy.retention."
	for _, tt := range []struct{ name, text, want string }{
		{"negative", site("retention: {reset_tokens: -1s}"), p + "reset_tokens must not be negative"},
		{"negative reminders", site("retention: {reminders: -24h}"), p + "reminders must not be negative"},
		{"unknown usernames", site("retention: {unknown_usernames: 23h}"), p + "unknown_usernames must be at least 1d"},
		{"shorter than the lock", site("lockout: {auto_unlock_after: 72h}\n      retention: {unknown_usernames: 2d}"),
			p + "unknown_usernames must be at least lockout.auto_unlock_after (72h)"},
		{"sent mail", site("retention: {sent_mail: 59m}"), p + "sent_mail must be at least 1h"},
		{"abandoned mail", site("retention: {abandoned_mail: 0s}"), p + "abandoned_mail must be at least 1h"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := loadErr(t, tt.text)
			if !strings.Contains(got, tt.want) {
				t.Errorf("error = %q, want it to contain %q", got, tt.want)
			}
			if n := strings.Count(got, "\n") + 1; n != 1 {
				t.Errorf("%d errors, want only the one about the bad value:\n%s", n, got)
			}
		})
	}
	for _, text := range []string{
		site("retention: {unknown_usernames: 1d, sent_mail: 1h, abandoned_mail: 1h, reset_tokens: 0s, reminders: 0s}"),
		site("lockout: {auto_unlock_after: 72h}\n      retention: {unknown_usernames: 3d}"),
	} {
		if _, err := Load(writeConfig(t, text), "data", nil); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}
