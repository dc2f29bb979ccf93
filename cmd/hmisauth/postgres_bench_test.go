package main

import (
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
// percentage of the raw Argon2id rate.
//
//	scripts/with-postgres.sh go test -run='^$' -bench=LoginServerPostgres -benchtime=600x ./cmd/hmisauth/
func BenchmarkLoginServerPostgres(b *testing.B) {
	raw := rawArgon2Rate(200)
	srv := startServer(b, "HMISAUTH_DATABASE="+pgtest.Migrated(b))
	for _, clients := range []int{8, 64} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			rate := loginLoad(b, clients, srv)
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
	for _, clients := range []int{8, 64} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			rate := loginLoad(b, clients, first, second)
			b.ReportMetric(rate, "logins/s")
			b.ReportMetric(raw, "raw_hashes/s")
			b.ReportMetric(100*rate/raw, "%_of_raw")
		})
	}
}

// benchSecretKey is the secret key (base64 of 32 bytes) the two benchmark servers share.
const benchSecretKey = "wGlWPr88Abfyk8ymcyUaWjJ+dHqOf1DVtkamrTiPAOg="

// loginLoad signs in b.N times from clients goroutines, spread over the servers in turn, and
// returns the rate.
func loginLoad(b *testing.B, clients int, servers ...*benchServer) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := range clients {
		srv := servers[c%len(servers)]
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if status := srv.login(b); status != http.StatusOK {
					b.Errorf("sign-in answered %d", status)
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
