package storetest

import (
	"fmt"
	"testing"

	"github.com/hmisauth/hmisauth"
)

// RunShared runs the cases that need several processes on one database: open must return
// two or more Stores on one new, migrated database (each its own connection pool, as two
// server processes, or a server and a CLI command, would have), closed when the test ends.
// Every rule that holds for parallel calls on one Store must hold when the calls are split
// across them.
func RunShared(t *testing.T, open func(t *testing.T) []hmisauth.Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, stores []hmisauth.Store)
	}{
		// Guesses split across processes evaluate at most the threshold's passwords.
		{"Lockout", func(t *testing.T, ss []hmisauth.Store) { ParallelReserve(t, ss, "jdoe", 50, 3) }},
		{"Seats", parallelSeats},
		// Neither may chain an event to a head the other has already moved past.
		{"AuditChain", ParallelEvents},
		// Each would send a message both held.
		{"MailClaim", func(t *testing.T, ss []hmisauth.Store) { ParallelClaim(t, ss, 4, 100) }},
		// A worker whose lease ran out cannot overwrite the next owner's result.
		{"MailTakeover", func(t *testing.T, ss []hmisauth.Store) { ParallelMailTakeover(t, ss, 4, 60) }},
		// Each would handle a "forgot password" request both held; a stale holder cannot end
		// the request another took over.
		{"ResetRequestClaim", func(t *testing.T, ss []hmisauth.Store) { ParallelResetClaims(t, ss, 4, 60) }},
		{"RateLimits", func(t *testing.T, ss []hmisauth.Store) { ParallelHits(t, ss, 50, 5) }},
		{"AddressAttempts", func(t *testing.T, ss []hmisauth.Store) { ParallelAddressAttempts(t, ss, 50, 5) }},
		{"RefusalWindows", func(t *testing.T, ss []hmisauth.Store) { ParallelRefusals(t, ss, 40) }},
		// Of parallel redemptions of one code, one wins and no token survives.
		{"CodeRedemption", func(t *testing.T, ss []hmisauth.Store) { ParallelCodeRedemption(t, ss, 20) }},
		{"RefreshRotation", func(t *testing.T, ss []hmisauth.Store) { ParallelRefresh(t, ss, 20) }},
		{"LogoutClaim", func(t *testing.T, ss []hmisauth.Store) { ParallelLogoutClaim(t, ss, 4, 60) }},
		{"LogoutTakeover", func(t *testing.T, ss []hmisauth.Store) { ParallelLogoutTakeover(t, ss, 4, 45) }},
		{"NextSigningKey", func(t *testing.T, ss []hmisauth.Store) { ParallelSigningKeys(t, ss, 20) }},
		// Each would act on a form both saw unused: a user created twice.
		{"FormTokenUse", func(t *testing.T, ss []hmisauth.Store) { ParallelFormUse(t, ss, 20) }},
		// Each would count rows the other removed; batches must not stop short of the end.
		{"Retention", func(t *testing.T, ss []hmisauth.Store) { ParallelRetention(t, ss, 1500) }},
		// Servers starting at once with a new configuration record one policy change, not one each.
		{"PolicyChange", func(t *testing.T, ss []hmisauth.Store) { ParallelPolicy(t, ss, 8) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ss := open(t)
			if len(ss) < 2 {
				t.Fatalf("open gave %d stores, want two or more on one database", len(ss))
			}
			c.run(t, ss)
		})
	}
}

// parallelSeats creates 40 users into an agency of 5 seats, alternating between the stores:
// the seats are decided in a transaction that reads then writes, which across processes only
// holds if it takes the write lock before it reads.
func parallelSeats(t *testing.T, stores []hmisauth.Store) {
	a := &hmisauth.Agency{Site: live, Name: "Hope House", Seats: 5}
	if err := stores[0].CreateAgency(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			errs <- stores[i%len(stores)].CreateUser(t.Context(), &hmisauth.User{
				Site: live, Username: fmt.Sprintf("user%02d", i), AgencyID: a.ID})
		}()
	}
	created := 0
	for range 40 {
		switch err := <-errs; hmisauth.ErrorCode(err) {
		case "":
			created++
		case hmisauth.ESeatsFull:
		default:
			t.Errorf("CreateUser: %v", err)
		}
	}
	if created != 5 {
		t.Errorf("%d users created into 5 seats from %d processes, want 5", created, len(stores))
	}
	n, err := stores[1].AgencyUserCount(t.Context(), a.ID)
	if err != nil || n != 5 {
		t.Errorf("AgencyUserCount = %d, %v; want 5", n, err)
	}
}
