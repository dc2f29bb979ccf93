package auth_test

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth/auth"
)

// BenchmarkSecondStep is the code page's work after a right password: load the waiting
// sign-in, count the attempt, open the sealed secret, check the code once, end the challenge,
// clear the count and open the session. No password hash runs in it.
func BenchmarkSecondStep(b *testing.B) {
	f := newFixture(b)
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	for b.Loop() {
		b.StopTimer()
		res, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword, SecondStep: true})
		if err != nil {
			b.Fatal(err)
		}
		f.clock.Add(30 * time.Second) // a fresh code each time: each step is accepted once
		c := code(b, secret, f.clock.Now())
		b.StartTimer()
		if _, err := f.svc.VerifyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: res.Challenge.Token, Code: c}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate is what every signed-in request costs: the session by its token hash,
// its user (with the 2-step subqueries), the time-out checks.
func BenchmarkAuthenticate(b *testing.B) {
	f := newFixture(b)
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	res, err := f.loginWith(u.Username, goodPassword, code(b, secret, f.clock.Now()))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.svc.Authenticate(f.ctx, "live", res.Token); err != nil {
			b.Fatal(err)
		}
	}
}
