package auth

import "github.com/hmisauth/hmisauth"

// ValidateText refuses text typed into a form field (field, for the error) that holds a
// character no one types on purpose: a line break, an escape or another control character, or
// a bidirectional control (hmisauth.UnprintableRune). label names the field in the message,
// as a person would ("first name", "agency name"). Every name we keep and show again passes
// through it, so a name can never put a false line into an e-mail or the audit log, or
// commands into an administrator's terminal.
func ValidateText(field, label, s string) error {
	if _, bad := hmisauth.UnprintableRune(s); bad {
		return hmisauth.FieldError(field, "The "+label+" has a character that cannot be typed, such as a line break or a hidden control character. Type the "+label+" again.")
	}
	return nil
}
