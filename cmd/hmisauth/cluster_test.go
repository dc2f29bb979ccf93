package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/postgres/pgtest"
)

// The several-process tests: real `hmisauth serve` processes (the test binary running main,
// see TestMain) over real HTTP, sharing one database, killed, and cut off from it. They need
// PostgreSQL (pgtest: skipped without it outside CI).

// threshold is the live site's lockout threshold: the product's default, which these tests
// leave as it is.
var threshold = hmisauth.DefaultPolicy().Lockout.Threshold

// newUser is a user created through the admin API.
type newUser struct {
	Username          string `json:"username"`
	TemporaryPassword string `json:"temporary_password"`
}

// TestTwoServersShareOnePostgres runs two servers on one PostgreSQL database, as behind a
// load balancer, and checks what PRODUCT.md promises stays correct across them: lockout
// counts, sessions, reset links, the audit chain and the e-mail outbox.
func TestTwoServersShareOnePostgres(t *testing.T) {
	t.Parallel()
	database := pgtest.Empty(t)
	sink := startSMTPSink(t)
	env := clusterEnv(database, sink)

	// Both start together on an empty database: the schema is made once, and there is one
	// first administrator.
	a := launchProc(t, "server A", t.TempDir(), "", env)
	b := launchProc(t, "server B", t.TempDir(), "", env)
	a.waitReady()
	b.waitReady()
	procs := []*proc{a, b}
	var adminName, adminTemp string
	announced := 0
	for _, p := range procs {
		if u, temp := p.firstAdmin(); temp != "" {
			announced++
			adminName, adminTemp = u, temp
		}
	}
	if announced != 1 {
		t.Errorf("%d processes announced a first administrator of the live site, want 1", announced)
	}
	admin := setUpAdmin(t, a.base, adminName, adminTemp)

	t.Run("50 parallel wrong passwords lock the account after exactly the threshold", func(t *testing.T) {
		var u newUser
		must(t, http.StatusCreated, a.base, "POST", "/users", admin,
			map[string]string{"first_name": "Maria", "last_name": "Lopez"}).decode(&u)
		answers := make([]answer, 50)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() {
				answers[i] = call(procs[i%2].base, "POST", "/login", "",
					map[string]string{"username": u.Username, "password": "Wrong-guess-1"})
			})
		}
		wg.Wait()
		failed, locked := 0, 0
		for _, ans := range answers {
			switch {
			case ans.status == http.StatusUnauthorized && ans.code() == hmisauth.ELoginFailed:
				failed++
			case ans.status == http.StatusLocked && ans.code() == hmisauth.EAccountLocked:
				locked++
			default:
				t.Errorf("a wrong password answered %v", ans)
			}
		}
		// The attempt that reaches the threshold already says the account is locked.
		if failed != threshold-1 || locked != len(answers)-(threshold-1) {
			t.Errorf("%d answered login_failed and %d account_locked; want %d and %d",
				failed, locked, threshold-1, len(answers)-(threshold-1))
		}
		for _, p := range procs {
			var s struct {
				Status         string `json:"status"`
				FailedAttempts int    `json:"failed_attempts"`
			}
			must(t, http.StatusOK, p.base, "GET", "/users/"+u.Username, admin, nil).decode(&s)
			if s.Status != "locked" || s.FailedAttempts != threshold {
				t.Errorf("%s shows the account %s after %d failed attempts; want locked after %d", p.name, s.Status, s.FailedAttempts, threshold)
			}
			right := call(p.base, "POST", "/login", "", map[string]string{"username": u.Username, "password": u.TemporaryPassword})
			if right.status != http.StatusLocked {
				t.Errorf("%s let the locked account sign in with its right password: %v", p.name, right)
			}
		}
		// The audit log saw exactly threshold passwords evaluated, and one lock.
		var log struct {
			Events []struct{ Action, Detail string }
		}
		must(t, http.StatusOK, b.base, "GET", "/audit?limit=500&user="+u.Username, admin, nil).decode(&log)
		evaluated, locks := 0, 0
		for _, e := range log.Events {
			switch {
			case e.Action == hmisauth.EventLoginFailed && e.Detail == "wrong_password":
				evaluated++
			case e.Action == hmisauth.EventAccountLocked:
				locks++
			}
		}
		if evaluated != threshold || locks != 1 {
			t.Errorf("the audit log shows %d wrong passwords evaluated and %d locks; want %d and 1", evaluated, locks, threshold)
		}
	})

	t.Run("a session made on one server works on the other and ends on both at once", func(t *testing.T) {
		token := signIn(t, a.base, adminName, adminPassword)
		for _, p := range procs {
			must(t, http.StatusOK, p.base, "GET", "/me", token, nil)
		}
		must(t, http.StatusNoContent, b.base, "POST", "/logout", token, nil)
		for _, p := range procs {
			if ans := call(p.base, "GET", "/me", token, nil); ans.status != http.StatusUnauthorized {
				t.Errorf("%s still accepts a session ended on server B: %v", p.name, ans)
			}
		}
	})

	t.Run("a reset link asked for on one server works once on the other", func(t *testing.T) {
		var u newUser
		email := "jane.doe@agency.example.org"
		must(t, http.StatusCreated, a.base, "POST", "/users", admin,
			map[string]string{"first_name": "Jane", "last_name": "Doe", "email": email}).decode(&u)
		must(t, http.StatusAccepted, a.base, "POST", "/password/forgot", "", map[string]string{"username": u.Username})
		token := sink.resetToken(t, email, 0, 60*time.Second)
		must(t, http.StatusOK, b.base, "GET", "/password/reset?token="+url.QueryEscape(token), "", nil)
		// Both servers are handed the link at once, each with another new password: one wins.
		passwords := []string{"Copper-Kettle-71!", "Silver-Spoon-28?"}
		answers := make([]answer, 2)
		var wg sync.WaitGroup
		for i, p := range procs {
			wg.Go(func() {
				answers[i] = call(p.base, "POST", "/password/reset", "", map[string]string{"token": token,
					"new_password": passwords[i], "confirm_password": passwords[i]})
			})
		}
		wg.Wait()
		winner := -1
		for i, ans := range answers {
			switch {
			case ans.status == http.StatusNoContent && winner == -1:
				winner = i
			case ans.status == http.StatusGone && ans.code() == hmisauth.ETokenInvalid:
			default:
				t.Errorf("reset on %s answered %v", procs[i].name, ans)
			}
		}
		if winner == -1 {
			t.Fatalf("neither server took the reset link: %v, %v", answers[0], answers[1])
		}
		// Once used it is refused everywhere, and the password it set is the one that works.
		for _, p := range procs {
			again := call(p.base, "POST", "/password/reset", "", map[string]string{"token": token,
				"new_password": "Velvet-Lamp-93!", "confirm_password": "Velvet-Lamp-93!"})
			if again.status != http.StatusGone {
				t.Errorf("a used reset link answered %v on %s", again, p.name)
			}
			signIn(t, p.base, u.Username, passwords[winner])
		}
	})

	t.Run("200 parallel changes across both servers keep one gapless audit chain", func(t *testing.T) {
		var agency struct {
			ID int64 `json:"id"`
		}
		const seats = 5
		must(t, http.StatusCreated, a.base, "POST", "/agencies", admin,
			map[string]any{"name": "Hope Shelter", "seats": seats, "license_expires": "2099-12-31"}).decode(&agency)
		staff := make([]string, 20)
		for i := range staff {
			var u newUser
			must(t, http.StatusCreated, procs[i%2].base, "POST", "/users", admin, map[string]string{
				"first_name": "Sam", "last_name": "Staff", "username": fmt.Sprintf("staff%02d", i)}).decode(&u)
			staff[i] = u.Username
		}
		var mu sync.Mutex
		created := map[string]bool{}
		joined := map[string]bool{}
		var ops atomic.Int64
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				for {
					i := int(ops.Add(1)) - 1
					if i >= 200 {
						return
					}
					base := procs[(i+w)%2].base
					who := staff[i%len(staff)]
					var ans answer
					switch i % 4 {
					case 0: // the same name on both servers at once: each gets a username of its own
						ans = call(base, "POST", "/users", admin, map[string]string{"first_name": "Ana", "last_name": "Reyes",
							"email": fmt.Sprintf("ana.reyes.%d@agency.example.org", i)})
						var u newUser
						if ans.status == http.StatusCreated && ans.decode(&u) == nil {
							mu.Lock()
							if created[u.Username] {
								t.Errorf("username %s was given twice", u.Username)
							}
							created[u.Username] = true
							mu.Unlock()
						}
					case 1:
						ans = call(base, "PATCH", "/users/"+who, admin, map[string]string{"phone": fmt.Sprintf("555-01%02d", i%100)})
					case 2:
						ans = call(base, "POST", "/users/"+who+"/temporary-password", admin, nil)
					case 3: // more staff than seats: the seats are counted across both servers
						ans = call(base, "PATCH", "/users/"+who, admin, map[string]string{"agency": "Hope Shelter"})
						if ans.status == http.StatusOK {
							mu.Lock()
							joined[who] = true
							mu.Unlock()
						} else if ans.status == http.StatusConflict && ans.code() == hmisauth.ESeatsFull {
							continue
						}
					}
					if ans.err != nil || ans.status >= 300 {
						t.Errorf("change %d on %s: %v", i, base, ans)
					}
				}
			})
		}
		wg.Wait()
		if len(created) != 50 {
			t.Errorf("%d users were created, want 50", len(created))
		}
		if len(joined) != seats {
			t.Errorf("%d staff joined an agency of %d seats", len(joined), seats)
		}
		var ag struct {
			SeatsUsed int `json:"seats_used"`
		}
		must(t, http.StatusOK, b.base, "GET", fmt.Sprintf("/agencies/%d", agency.ID), admin, nil).decode(&ag)
		if ag.SeatsUsed != seats {
			t.Errorf("the agency shows %d seats used, want %d", ag.SeatsUsed, seats)
		}
		n := checkAudit(dbCLI(t, t.TempDir(), database))
		t.Logf("the audit chain verifies: %d events, ids 1…%d", n, n)
	})

	t.Run("each queued e-mail is delivered exactly once with both workers running", func(t *testing.T) {
		const n = 40
		emails := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			emails[i] = fmt.Sprintf("reader%02d@agency.example.org", i)
			wg.Go(func() {
				ans := call(procs[i%2].base, "POST", "/users", admin, map[string]string{"first_name": "Rae", "last_name": "Reader",
					"username": fmt.Sprintf("reader%02d", i), "email": emails[i]})
				if ans.status != http.StatusCreated {
					t.Errorf("create reader%02d: %v", i, ans)
					return
				}
				if ans := call(procs[(i+1)%2].base, "POST", "/password/forgot", "", map[string]string{"username": fmt.Sprintf("reader%02d", i)}); ans.status != http.StatusAccepted {
					t.Errorf("forgot for reader%02d: %v", i, ans)
				}
			})
		}
		wg.Wait()
		for _, e := range emails {
			sink.resetToken(t, e, 0, 60*time.Second)
		}
		msgs := waitOutboxSent(t, database, 60*time.Second)
		got := sink.byMessageID()
		for _, m := range msgs {
			if c := got[strings.Trim(m.MessageID, "<>")]; c != 1 {
				t.Errorf("message %d (%s to %s) was delivered %d times", m.ID, m.Kind, m.To, c)
			}
		}
		if total := len(sink.received()); total != len(msgs) {
			t.Errorf("%d deliveries for %d messages in the outbox", total, len(msgs))
		}
		t.Logf("%d messages, each delivered once", len(msgs))
	})
}

// TestTwoServersStartTogetherOnAMigratedDatabase starts two servers at the same moment on a
// database that already has its schema, as a deployment of two instances does (on a new
// database, TestTwoServersShareOnePostgres, the migration lock staggers them). Both must come
// up, and the live site must get one first administrator, not one per process.
func TestTwoServersStartTogetherOnAMigratedDatabase(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		env := clusterEnv(pgtest.Migrated(t), nil)
		procs := []*proc{launchProc(t, "server A", t.TempDir(), "", env), launchProc(t, "server B", t.TempDir(), "", env)}
		var admins []string
		for _, p := range procs {
			p.waitReady()
			if name, temp := p.firstAdmin(); temp != "" {
				admins = append(admins, name)
			}
		}
		if len(admins) != 1 {
			t.Errorf("round %d: %d first administrators of the live site were created and announced (%s), want 1",
				round+1, len(admins), strings.Join(admins, ", "))
		}
		for _, p := range procs {
			p.stop()
		}
	}
}
