package config

import (
	"strings"
	"testing"
	"time"
)

func TestTrainingPolicyLoads(t *testing.T) {
	c := mustLoad(t, site("training: {kinds: {new_user: {valid: 0s}, privacy_security: {valid: 365d}}, required: [new_user, privacy_security]}"))
	tr := c.Sites["live"].Policy.Training
	if tr.Kinds["privacy_security"].Valid != 365*24*time.Hour || tr.Kinds["new_user"].Valid != 0 || len(tr.Required) != 2 {
		t.Errorf("training = %+v", tr)
	}
}

func TestImpossibleTrainingPoliciesAreRefusedByKey(t *testing.T) {
	for _, tc := range []struct{ name, policy, want string }{
		{"kind not an identifier", "training: {kinds: {Privacy Security: {valid: 365d}}}",
			`config: sites.live.policy.training.kinds "Privacy Security" must be a lower-case name`},
		{"negative validity", "training: {kinds: {yearly: {valid: -1h}}}",
			"config: sites.live.policy.training.kinds.yearly.valid must not be negative"},
		{"part of a day", "training: {kinds: {yearly: {valid: 36h}}}",
			"config: sites.live.policy.training.kinds.yearly.valid must be a whole number of days"},
		{"required kind not defined", "training: {kinds: {new_user: {valid: 0s}}, required: [privacy]}",
			`config: sites.live.policy.training.required names "privacy", which is not one of training.kinds`},
		{"required twice", "training: {kinds: {new_user: {valid: 0s}}, required: [new_user, new_user]}",
			`config: sites.live.policy.training.required names "new_user" twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := loadErr(t, site(tc.policy)); !strings.Contains(got, tc.want) {
				t.Errorf("error %q, want it to contain %q", got, tc.want)
			}
		})
	}
}
