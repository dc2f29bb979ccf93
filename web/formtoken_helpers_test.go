package web_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
)

var formTokenRe = regexp.MustCompile(`name="form_token" value="([^"]+)"`)

// formToken is the one-time token (web/formtoken.go) of the form in r's page whose action is
// action, or "" when that form has none.
func (r *response) formToken(action string) string {
	r.t.Helper()
	token, found := r.findFormToken(action)
	if !found {
		r.t.Fatalf("%s: no form with action %s", r.URL.Path, action)
	}
	return token
}

// findFormToken is formToken for a page that may not have the form at all (found is false).
func (r *response) findFormToken(action string) (token string, found bool) {
	body := string(r.Body)
	start := strings.Index(body, `action="`+action+`"`)
	if start < 0 {
		return "", false
	}
	end := strings.Index(body[start:], "</form>")
	if end < 0 {
		end = len(body) - start
	}
	m := formTokenRe.FindStringSubmatch(body[start : start+end])
	if m == nil {
		return "", true
	}
	return html.UnescapeString(m[1]), true
}

// withToken is form with the one-time token of the form whose action is action on r's page,
// as the browser sends it.
func withToken(r *response, action string, form url.Values) url.Values {
	r.t.Helper()
	token := r.formToken(action)
	if token == "" {
		r.t.Fatalf("%s: the form with action %s has no one-time token", r.URL.Path, action)
	}
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	out.Set("form_token", token)
	return out
}

// send opens page and sends its form whose action is action with the values of form, as a
// person does: the form's one-time token goes with them.
func (b *browser) send(page, action string, form url.Values) *response {
	b.e.t.Helper()
	return b.post(action, withToken(b.get(page), action, form))
}
