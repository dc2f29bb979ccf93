package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth/store/postgres/pgtest"
)

// TestKillNineUnderLoad kills a server with SIGKILL at a random moment while clients create
// users, change passwords, sign in and ask for reset links, then starts it again on the same
// data: whatever was acknowledged before the kill is there, the audit chain verifies and no
// queued e-mail is lost.
//
// A message the killed process had claimed waits for its lease (mail.WorkerOptions.Lease, a
// minute) to end before the restarted one sends it, so this takes up to a minute; the two
// stores run side by side.
func TestKillNineUnderLoad(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		killNineUnderLoad(t, "")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		killNineUnderLoad(t, pgtest.Migrated(t))
	})
}

func killNineUnderLoad(t *testing.T, database string) {
	sink := startSMTPSink(t)
	data := t.TempDir()
	env := clusterEnv(database, sink)
	shared := database
	if shared == "" {
		shared = "sqlite:" + filepath.Join(data, "hmisauth.db")
	}
	p := startProc(t, "server", data, "", env)
	adminName, adminTemp := p.firstAdmin()
	admin := setUpAdmin(t, p.base, adminName, adminTemp)

	// What the server acknowledged (2xx) before it died.
	var mu sync.Mutex
	created := map[string]bool{}     // username
	passwords := map[string]string{} // username → the new password whose change was acknowledged
	forgot := map[string]string{}    // username → e-mail address, for acknowledged reset requests
	var signIns atomic.Int64
	var stopped atomic.Bool
	// unexpected records an answer that is wrong even under load; a failed connection is
	// expected once the process is gone.
	unexpected := func(what string, ans answer) bool {
		if ans.err != nil || ans.status >= 300 {
			if ans.err == nil && !stopped.Load() {
				t.Errorf("%s answered %v before the kill", what, ans)
			}
			return true
		}
		return false
	}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := 0; !stopped.Load(); i++ {
				name := fmt.Sprintf("w%du%d", w, i)
				email := name + "@agency.example.org"
				ans := call(p.base, "POST", "/users", admin, map[string]string{"first_name": "Kim", "last_name": "Load",
					"username": name, "email": email})
				var u newUser
				if unexpected("create "+name, ans) || ans.decode(&u) != nil {
					return
				}
				mu.Lock()
				created[name] = true
				mu.Unlock()
				var res struct{ Token string }
				ans = call(p.base, "POST", "/login", "", map[string]string{"username": name, "password": u.TemporaryPassword})
				if unexpected("first sign-in of "+name, ans) || ans.decode(&res) != nil {
					return
				}
				if unexpected("terms of "+name, call(p.base, "POST", "/me/terms", res.Token, map[string]int{"version": 1})) {
					return
				}
				pw := fmt.Sprintf("Harbor-Light-%d!%d", w, i)
				ans = call(p.base, "POST", "/me/password", res.Token, map[string]string{"new_password": pw, "confirm_password": pw})
				if unexpected("password change of "+name, ans) {
					return
				}
				mu.Lock()
				passwords[name] = pw
				mu.Unlock()
				if unexpected("sign-in of "+name, call(p.base, "POST", "/login", "", map[string]string{"username": name, "password": pw})) {
					return
				}
				signIns.Add(1)
				if unexpected("forgot for "+name, call(p.base, "POST", "/password/forgot", "", map[string]string{"username": name})) {
					return
				}
				mu.Lock()
				forgot[name] = email
				mu.Unlock()
			}
		})
	}
	// A random moment once the load is well under way: a few reset requests acknowledged,
	// however slow the machine.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(forgot)
		mu.Unlock()
		if n >= 6 {
			break
		}
		if time.Now().After(deadline) || t.Failed() {
			stopped.Store(true)
			wg.Wait()
			t.Fatalf("the load did not get going: %d reset requests acknowledged in 60s", n)
		}
	}
	time.Sleep(time.Duration(rand.IntN(1000)) * time.Millisecond)
	p.kill()
	stopped.Store(true)
	wg.Wait()
	t.Logf("killed after %d users created, %d passwords changed, %d sign-ins, %d reset requests acknowledged",
		len(created), len(passwords), signIns.Load(), len(forgot))

	p = startProc(t, "restarted server", data, "", env)
	admin = signIn(t, p.base, adminName, adminPassword)
	for name := range created {
		must(t, http.StatusOK, p.base, "GET", "/users/"+name, admin, nil)
	}
	for name, pw := range passwords {
		if ans := call(p.base, "POST", "/login", "", map[string]string{"username": name, "password": pw}); ans.status != http.StatusOK {
			t.Errorf("after the restart, %s's acknowledged new password answered %v", name, ans)
		}
	}
	n := checkAudit(dbCLI(t, data, database))
	t.Logf("the audit chain verifies: %d events", n)

	// Every acknowledged reset request becomes a message, and every message the outbox holds
	// is delivered: at least once (one being sent when the process died may go twice), after
	// the lease of the killed process on it ends if it held one.
	waitResetRequestsTaken(t, shared, 90*time.Second)
	msgs := waitOutboxSent(t, shared, 150*time.Second)
	got := sink.byMessageID()
	for _, m := range msgs {
		if got[strings.Trim(m.MessageID, "<>")] == 0 {
			t.Errorf("message %d (%s to %s) is recorded sent but never arrived", m.ID, m.Kind, m.To)
		}
	}
	lost := 0
	for name, email := range forgot {
		if !slices.ContainsFunc(sink.received(), func(d *delivered) bool {
			return strings.EqualFold(d.To, email) && resetTokenIn(d.Text) != ""
		}) {
			lost++
			t.Logf("no reset e-mail for %s's acknowledged request", name)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged reset requests brought no e-mail", lost, len(forgot))
	}
}
