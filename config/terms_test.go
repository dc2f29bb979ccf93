package config

import (
	"strings"
	"testing"
)

// The built-in terms are what users of a site without its own terms file read and accept:
// complete terms of use, with nothing that tells them it is placeholder text.
func TestDefaultTermsReadAsFinishedTerms(t *testing.T) {
	text := DefaultTerms()
	for _, placeholder := range []string{"default text", "built-in", "replace", "hmisauth", "TODO", "example"} {
		if strings.Contains(strings.ToLower(text), strings.ToLower(placeholder)) {
			t.Errorf("the default terms say %q", placeholder)
		}
	}
	for _, topic := range []string{"confidential", "One person, one account", "Never share your password",
		"shared or public computer", "contact the helpdesk", "monitored", "can end your HMIS access"} {
		if !strings.Contains(text, topic) {
			t.Errorf("the default terms lack %q", topic)
		}
	}
}
