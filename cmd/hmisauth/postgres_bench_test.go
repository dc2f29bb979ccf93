package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hmisauth/hmisauth/store/postgres/pgtest"
)

// BenchmarkLoginServerPostgres is BenchmarkLoginServer with the server on PostgreSQL (on the
// same machine, sharing its cores): password sign-ins per second at 8 and 64 clients, as a
// percentage of the raw Argon2id rate. Each client signs in to an account of its own, as the
// staff of a state-wide installation do (see benchAccounts).
//
//	scripts/with-postgres.sh go test -run='^$' -bench=LoginServerPostgres -benchtime=600x ./cmd/hmisauth/
func BenchmarkLoginServerPostgres(b *testing.B) {
	raw := rawArgon2Rate(200)
	srv := startServer(b, "HMISAUTH_DATABASE="+pgtest.Migrated(b))
	bodies := benchAccounts(b, srv, 64)
	for _, clients := range []int{8, 64} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			rate := loginLoad(b, clients, bodies, srv)
			b.ReportMetric(rate, "logins/s")
			b.ReportMetric(raw, "raw_hashes/s")
			b.ReportMetric(100*rate/raw, "%_of_raw")
		})
	}
}

// BenchmarkLoginTwoServersPostgres runs two server processes on one PostgreSQL database, as
// behind a load balancer, sharing this machine's cores, with the clients split between them:
// the sum of both rates as a percentage of the raw Argon2id rate.
//
//	scripts/with-postgres.sh go test -run='^$' -bench=LoginTwoServers -benchtime=600x ./cmd/hmisauth/
func BenchmarkLoginTwoServersPostgres(b *testing.B) {
	raw := rawArgon2Rate(200)
	db := "HMISAUTH_DATABASE=" + pgtest.Migrated(b)
	// Both processes must sign the same session tokens and seal the same secrets.
	key := "HMISAUTH_SECRET_KEY=" + benchSecretKey
	first := startServer(b, db, key)
	second, _ := launchServer(b, false, db, key)
	bodies := benchAccounts(b, first, 64)
	for _, clients := range []int{8, 64} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			rate := loginLoad(b, clients, bodies, first, second)
			b.ReportMetric(rate, "logins/s")
			b.ReportMetric(raw, "raw_hashes/s")
			b.ReportMetric(100*rate/raw, "%_of_raw")
		})
	}
}

// benchSecretKey is the secret key (base64 of 32 bytes) the two benchmark servers share.
const benchSecretKey = "wGlWPr88Abfyk8ymcyUaWjJ+dHqOf1DVtkamrTiPAOg="

// benchAccounts creates n staff accounts through srv's API, each with benchPassword as its own
// password, and returns their sign-in bodies. One account signed in to from many clients at
// once is not a load anyone has: each sign-in counts an attempt before its hash and clears it
// after, so more parallel sign-ins of one account than the lockout threshold can find it
// locked for the instant in between (see SECURITY.md).
func benchAccounts(b *testing.B, srv *benchServer, n int) [][]byte {
	b.Helper()
	admin := srv.call(b, "/login", "", map[string]string{"username": "admin", "password": benchPassword})["token"]
	bodies := make([][]byte, n)
	for i := range n {
		c := srv.call(b, "/users", admin, map[string]string{"first_name": "Case", "last_name": fmt.Sprintf("Worker%02d", i)})
		token := srv.call(b, "/login", "", map[string]string{"username": c["username"], "password": c["temporary_password"]})["token"]
		srv.call(b, "/me/terms", token, map[string]int{"version": 1})
		srv.call(b, "/me/password", token, map[string]string{"new_password": benchPassword, "confirm_password": benchPassword})
		bodies[i] = []byte(`{"username":"` + c["username"] + `","password":"` + benchPassword + `"}`)
	}
	return bodies
}

// loginLoad signs in b.N times from clients goroutines, each with an account of its own (of
// bodies, in turn) and a server of servers in turn, and returns the rate.
func loginLoad(b *testing.B, clients int, bodies [][]byte, servers ...*benchServer) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := range clients {
		srv, body := servers[c%len(servers)], bodies[c%len(bodies)]
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				resp, err := srv.client.Post(srv.base+"/login", "application/json", bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("sign-in answered %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	return float64(b.N) / b.Elapsed().Seconds()
}

// BenchmarkSessionCheckServer measures GET /me with a signed-in session's token, the check
// every signed-in request makes, against the real server (its own process) at 16 clients, on
// SQLite and on PostgreSQL.
//
//	scripts/with-postgres.sh go test -run='^$' -bench=SessionCheckServer -benchtime=40000x ./cmd/hmisauth/
func BenchmarkSessionCheckServer(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var env []string
			if backend == "postgres" {
				env = append(env, "HMISAUTH_DATABASE="+pgtest.Migrated(b))
			}
			srv := startServer(b, env...)
			token := srv.call(b, "/login", "", map[string]string{"username": "admin", "password": benchPassword})["token"]
			const clients = 16
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range clients {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						req, _ := http.NewRequest("GET", srv.base+"/me", nil)
						req.Header.Set("Authorization", "Bearer "+token)
						resp, err := srv.client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						// Read to the end, so the connection is kept for the next request.
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							b.Errorf("GET /me answered %d", resp.StatusCode)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
		})
	}
}
