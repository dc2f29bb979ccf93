package config

import (
	"slices"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// TestInactivityStepsAreRead reads CONTRACT.md's tiered policy, days and all.
func TestInactivityStepsAreRead(t *testing.T) {
	c, err := Load(writeConfig(t, site(`training: {kinds: {privacy_security: {valid: 365d}}}
      inactivity:
        - {after: 60d, action: lock}
        - {after: 90d, action: require_training, training: privacy_security}
        - {after: 180d, action: disable}`)), "data", nil)
	if err != nil {
		t.Fatal(err)
	}
	var live *hmisauth.Site
	for _, s := range c.Sites {
		if s.Key == "live" {
			live = s
		}
	}
	const day = 24 * time.Hour
	want := []hmisauth.InactivityStep{{After: 60 * day, Action: "lock"},
		{After: 90 * day, Action: "require_training", Training: "privacy_security"}, {After: 180 * day, Action: "disable"}}
	if live == nil || !slices.Equal(live.Policy.Inactivity, want) {
		t.Fatalf("steps %+v", live)
	}
	if got := loadErr(t, site("inactivity: [{after: 60d, action: lock, when: never}]")); got != `config: unknown key "sites.live.policy.inactivity[0].when" (line 4)` {
		t.Errorf("unknown key: %q", got)
	}
}
