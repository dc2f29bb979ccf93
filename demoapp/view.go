package demoapp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// view is what page.html shows: the sign-in button, or who signed in.
type view struct {
	SiteName string
	Notice   string // a sign-out that happened
	Problem  string // a sign-in that did not finish
	Person   *person
	IDToken  []claim
	UserInfo []claim
}

// person is the signed-in user as the application understood the claims.
type person struct {
	Name, Username, Email, Site, Role, Agency string
	How, HowClaims                            string
	When                                      string
}

type claim struct{ Name, Value string }

var roles = map[string]string{"user": "User", "agency_admin": "Agency administrator", "sysadmin": "System administrator"}

// methods name the amr values hmisauth uses.
var methods = map[string]string{"pwd": "password", "otp": "authenticator app or recovery code",
	"hwk": "security key", "swk": "passkey"}

func personOf(s *session) *person {
	get := func(name string) any {
		if v, ok := s.userinfo[name]; ok {
			return v
		}
		return s.idClaims[name]
	}
	str := func(name string) string { v, _ := get(name).(string); return v }
	p := &person{Name: str("name"), Username: str("preferred_username"), Email: str("email"), Site: str("hmis_site")}
	if p.Role = roles[str("hmis_role")]; p.Role == "" {
		p.Role = str("hmis_role")
	}
	if agency, ok := get("hmis_agency").(map[string]any); ok {
		p.Agency, _ = agency["name"].(string)
	}
	var how []string
	amr, _ := get("amr").([]any)
	for _, m := range amr {
		if m, _ := m.(string); m != "mfa" {
			if methods[m] != "" {
				m = methods[m]
			}
			how = append(how, m)
		}
	}
	acr := str("acr")
	p.How = strings.Join(how, ", then ")
	if acr == "mfa" {
		p.How += " (2-step verification)"
	}
	if p.How != "" {
		p.How = strings.ToUpper(p.How[:1]) + p.How[1:]
	}
	p.HowClaims = "amr " + compact(amr) + ", acr " + acr
	if t, ok := get("auth_time").(float64); ok {
		p.When = when(t)
	}
	return p
}

// claimList is a token's or answer's claims, sorted by name, each value as text: times also
// as dates, lists and objects as JSON.
func claimList(claims map[string]any) []claim {
	var out []claim
	for name, v := range claims {
		var text string
		switch v := v.(type) {
		case string:
			text = v
		case float64:
			text = compact(v)
			if slices.Contains([]string{"exp", "iat", "nbf", "auth_time", "updated_at"}, name) {
				text += " (" + when(v) + ")"
			}
		default:
			text = compact(v)
		}
		out = append(out, claim{Name: name, Value: text})
	}
	slices.SortFunc(out, func(a, b claim) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// when is a Unix time as people read it, in this machine's time zone.
func when(unix float64) string {
	return time.Unix(int64(unix), 0).Local().Format("Monday, January 2, 2006 at 3:04:05 PM MST")
}
