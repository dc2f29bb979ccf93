package auth

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// FuzzCodeMatching feeds what people (or attackers) type into the second step's code field
// through the code checks: nothing panics, normalizing is idempotent, and only the six digits
// the app shows for a step within the drift are ever accepted.
func FuzzCodeMatching(f *testing.F) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	right, err := totp.GenerateCode(secret, now)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{right, " " + right[:3] + " " + right[3:], "000000", "abcde-fghjk", "１２３４５６", "", "\x00\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		code := normalizeCode(typed)
		if normalizeCode(code) != code {
			t.Fatalf("normalizeCode(%q) = %q is not stable", typed, code)
		}
		step, ok := matchTOTP(secret, code, now, -1)
		if !ok {
			return
		}
		if !isTOTPCode(code) || step < now.Unix()/totpPeriod-totpDrift || step > now.Unix()/totpPeriod+totpDrift {
			t.Fatalf("accepted %q (normalized %q) as step %d", typed, code, step)
		}
		if want, _ := totp.GenerateCode(secret, time.Unix(step*totpPeriod, 0)); want != code {
			t.Fatalf("accepted %q for step %d, whose code is %s", code, step, want)
		}
		// Once step is used, the same code matches only a newer step (a code repeating within
		// the drift window), never step itself or an older one.
		if later, again := matchTOTP(secret, code, now, step); again && later <= step {
			t.Fatalf("step %d accepted again after step %d was used", later, step)
		}
	})
}

// FuzzKeysOpen opens arbitrary bytes as a sealed value: never a panic, never a success for
// anything Seal did not make with these keys and purpose.
func FuzzKeysOpen(f *testing.F) {
	k, err := NewKeys(make([]byte, KeySize))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(k.Seal([]byte("secret"), "totp:1"), "totp:1")
	f.Add([]byte{1}, "")
	f.Add([]byte{}, "totp:2")
	f.Fuzz(func(t *testing.T, sealed []byte, purpose string) {
		plain, err := k.Open(sealed, purpose)
		if err == nil && (purpose != "totp:1" || string(plain) != "secret") {
			t.Fatalf("opened %x for %q as %q", sealed, purpose, plain)
		}
		again, err := k.Open(k.Seal(sealed, purpose), purpose)
		if err != nil || string(again) != string(sealed) {
			t.Fatalf("round trip of %x: %q, %v", sealed, again, err)
		}
	})
}
