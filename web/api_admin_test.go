package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// Names of the administration tests' world.
const (
	northName = "North Shelter"
	southName = "South Outreach"
)

// adminWorld is a live site with two agencies and someone of every role signed in through the
// API, plus a signed-in sysadmin of the training site, whose token must mean nothing on live.
type adminWorld struct {
	*env
	north, south *hmisauth.Agency
	// Tokens.
	sys, northAdmin, southAdmin, plain, training string
	// Usernames.
	sysName, northAdminName, southAdminName string
}

func newAdminWorld(t *testing.T) *adminWorld {
	t.Helper()
	w := &adminWorld{env: newEnv(t)}
	w.north = w.makeAgency("live", northName, 0)
	w.south = w.makeAgency("live", southName, 0)
	w.makeAgency("training", northName, 0)
	w.sysName, w.sys = w.signedIn("live", "Sam", "Sysop", "sysadmin", "")
	w.northAdminName, w.northAdmin = w.signedIn("live", "Nora", "Northadmin", "agency_admin", northName)
	w.southAdminName, w.southAdmin = w.signedIn("live", "Sol", "Southadmin", "agency_admin", southName)
	_, w.plain = w.signedIn("live", "Pat", "Plain", "user", northName)
	_, w.training = w.signedIn("training", "Tara", "Trainer", "sysadmin", "")
	return w
}

// setupCtx is the context test setup acts in, as an operator would.
func setupCtx() context.Context {
	return auth.WithActor(context.Background(), auth.Actor{Username: "cli:setup"})
}

func (e *env) makeAgency(site, name string, seats int) *hmisauth.Agency {
	e.t.Helper()
	a, err := e.svc.CreateAgency(setupCtx(), site, auth.AgencyChange{Name: &name, Seats: &seats})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// makeUser creates an account directly through the rules, as the helpdesk's CLI does.
func (e *env) makeUser(site, first, last, email, role, agency string) *auth.Created {
	e.t.Helper()
	c, err := e.svc.CreateUser(setupCtx(), auth.NewUser{Site: site, FirstName: first, LastName: last,
		Email: email, Role: role, Agency: agency})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// signedIn creates an account, walks it through first sign-in over the API and returns its
// username and a token with nothing pending.
func (e *env) signedIn(site, first, last, role, agency string) (string, string) {
	e.t.Helper()
	c := e.makeUser(site, first, last, strings.ToLower(first)+"@agency.example.org", role, agency)
	token := e.login(site, c.User.Username, c.TemporaryPassword)
	e.expect(e.api("POST", site, "/me/terms", token, map[string]any{"version": 1}), 204, "")
	e.expect(e.api("POST", site, "/me/password", token,
		map[string]any{"new_password": goodPassword, "confirm_password": goodPassword}), 204, "")
	return c.User.Username, token
}

// newestEventID is the ID of the audit log's newest event (0: none).
func (e *env) newestEventID() int64 {
	e.t.Helper()
	evs, err := e.store.Events(context.Background(), hmisauth.EventQuery{Limit: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(evs) == 0 {
		return 0
	}
	return evs[0].ID
}

// lockOut fails sign-in until the account locks.
func (e *env) lockOut(site, username string) {
	e.t.Helper()
	for range 3 {
		e.api("POST", site, "/login", "", map[string]any{"username": username, "password": "Wrong-Pass-1"})
	}
}

// adminUser is the part of the API's user answer the tests read.
type adminUser struct {
	Username string
	Agency   string
	Role     string
	Status   string
	Phone    string
	Problems []struct {
		Code    string
		Since   *string
		Message string
		Fix     string
	}
}

type usersPage struct {
	Users     []adminUser
	NextAfter string `json:"next_after"`
}

func (r *response) usernames() []string {
	r.t.Helper()
	var page usersPage
	r.decode(&page)
	var out []string
	for _, u := range page.Users {
		out = append(out, u.Username)
	}
	return out
}

// adminRoute is one administration call and what each kind of caller hears.
type adminRoute struct {
	method, path string // {u}: a user of North; {id}: North's agency ID
	body         any
	ok           int // as a sysadmin
	own          int // as North's agency admin
	other        int // as South's agency admin
}

// TestAdminRoutesKeepEveryoneInTheirPlace runs every administration call as each kind of
// caller. Refused calls must change nothing, so no audit event may appear.
func TestAdminRoutesKeepEveryoneInTheirPlace(t *testing.T) {
	w := newAdminWorld(t)
	target := w.makeUser("live", "Tess", "Target", "tess@agency.example.org", "user", northName).User.Username
	routes := []adminRoute{
		{"POST", "/users", map[string]any{"first_name": "Nia", "last_name": "New", "agency": northName}, 201, 201, 403},
		{"GET", "/users?agency=North+Shelter", nil, 200, 200, 403},
		{"GET", "/users/{u}", nil, 200, 200, 403},
		{"PATCH", "/users/{u}", map[string]any{"phone": "555-0111"}, 200, 200, 403},
		{"POST", "/users/{u}/unlock", nil, 200, 200, 403},
		{"POST", "/users/{u}/temporary-password", nil, 200, 200, 403},
		{"POST", "/users/{u}/disable", nil, 200, 200, 403},
		{"POST", "/users/{u}/enable", nil, 200, 200, 403},
		{"POST", "/users/{u}/expire-password", nil, 200, 200, 403},
		{"DELETE", "/users/{u}/sessions", nil, 204, 204, 403},
		{"PUT", "/users/{u}/agreement", map[string]any{"signed_on": "2026-03-01", "supervisor_signed_on": "2026-03-01",
			"director_signed_on": "2026-03-02"}, 200, 200, 403},
		{"GET", "/agencies", nil, 200, 200, 200}, // South's admin sees only South: TestAgencyAdminSeesOnlyTheirAgency
		{"POST", "/agencies", map[string]any{"name": "East Clinic", "seats": 5}, 201, 403, 403},
		{"GET", "/agencies/{id}", nil, 200, 200, 403},
		{"PATCH", "/agencies/{id}", map[string]any{"seats": 40}, 200, 403, 403},
		{"GET", "/audit", nil, 200, 403, 403},
	}
	for _, rt := range routes {
		path := strings.NewReplacer("{u}", target, "{id}", fmt.Sprint(w.north.ID)).Replace(rt.path)
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			parent := w.t
			w.t = t
			defer func() { w.t = parent }()
			refused := func(who, token string, status int, code string) {
				t.Helper()
				before := w.newestEventID()
				r := w.api(rt.method, "live", path, token, rt.body)
				if r.Status != status || r.errorCode() != code {
					t.Fatalf("%s: %d %s, want %d %s", who, r.Status, r.Body, status, code)
				}
				if after := w.newestEventID(); after != before {
					t.Errorf("%s: a refused call wrote audit events %d..%d", who, before+1, after)
				}
			}
			refused("training sysadmin", w.training, 401, hmisauth.EUnauthorized)
			refused("no token", "", 401, hmisauth.EUnauthorized)
			refused("plain user", w.plain, 403, hmisauth.EFORBIDDEN)
			if rt.other == 403 {
				refused("other agency's admin", w.southAdmin, 403, hmisauth.EFORBIDDEN)
			} else {
				w.expect(w.api(rt.method, "live", path, w.southAdmin, rt.body), rt.other, "")
			}
			if rt.own == 403 {
				refused("own agency's admin", w.northAdmin, 403, hmisauth.EFORBIDDEN)
			} else {
				w.expect(w.api(rt.method, "live", path, w.northAdmin, rt.body), rt.own, "")
			}
			body := rt.body
			if rt.method == "POST" && rt.path == "/agencies" {
				body = map[string]any{"name": "West Clinic"}
			}
			w.expect(w.api(rt.method, "live", path, w.sys, body), rt.ok, "")
		})
	}
}

func TestAdminCallsOfAnotherSiteAreUnauthorized(t *testing.T) {
	w := newAdminWorld(t)
	// The training sysadmin is a sysadmin, just not here: their token opens nothing on live,
	// and a live token nothing on training.
	w.expect(w.api("GET", "training", "/users", w.training, nil), 200, "")
	w.expect(w.api("GET", "live", "/users", w.training, nil), 401, hmisauth.EUnauthorized)
	w.expect(w.api("GET", "training", "/users", w.sys, nil), 401, hmisauth.EUnauthorized)
	w.expect(w.api("GET", "training", "/users/"+w.sysName, w.training, nil), 404, hmisauth.ENOTFOUND)
}

func TestAdminWithPendingActionsIsRefused(t *testing.T) {
	w := newAdminWorld(t)
	c := w.makeUser("live", "Fresh", "Admin", "fresh@agency.example.org", "sysadmin", "")
	token := w.login("live", c.User.Username, c.TemporaryPassword)
	w.expect(w.api("GET", "live", "/users", token, nil), 403, hmisauth.EActionRequired)
	w.expect(w.api("POST", "live", "/users/"+w.northAdminName+"/disable", token, nil), 403, hmisauth.EActionRequired)
}
