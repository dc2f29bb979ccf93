package web

import (
	"net/http"
)

// The confirmation pages of a user page's destructive actions. The user page links to each
// with a plain GET form; the page says what will happen and holds the POST form that does it,
// so nothing is lost to a slip of the mouse and no JavaScript is needed. (Disabling has its
// own page, consoleDisableConfirm.)

// confirmView is one confirmation page: which action (its address under the user's page, and
// the key its template words it by).
type confirmView struct {
	Action string
}

// confirmActions are the actions confirmed on admin_confirm.html.
var confirmActions = map[string]bool{"expire-password": true, "end-sessions": true, "reset-mfa": true}

// consoleConfirm asks before the action of the address: it changes nothing itself.
func (s *Server) consoleConfirm(action string) http.HandlerFunc {
	if !confirmActions[action] {
		panic("consoleConfirm: no confirmation page for " + action)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		_, v := s.openUserPage(w, r, false)
		if v == nil {
			return
		}
		v.Confirm = &confirmView{Action: action}
		s.consoleRender(w, r, http.StatusOK, "admin_confirm", v)
	}
}
