package auth

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
	"github.com/hmisauth/hmisauth/store/teststore"
)

// Recovery codes are drawn from the readable alphabet of temporary passwords, without
// capitals (they are typed in any case): no 0/o, no 1/l/i.
func TestRecoveryCodesUseTheReadableAlphabet(t *testing.T) {
	if recoveryAlphabet != password.ReadableDigits+password.ReadableLower {
		t.Errorf("recovery codes are drawn from %q, not the readable alphabet's small letters and digits", recoveryAlphabet)
	}
	keys, err := NewKeys(make([]byte, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	shape := regexp.MustCompile(`^[` + recoveryAlphabet + `]{5}-[` + recoveryAlphabet + `]{5}$`)
	s := &Service{keys: keys}
	for range 50 {
		codes, hashes := s.newRecoveryCodes(1)
		if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
			t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
		}
		for _, c := range codes {
			if !shape.MatchString(c) {
				t.Fatalf("code %q is not two groups of five readable characters", c)
			}
		}
	}
}

// A recovery code issued before the alphabet was shared (kept as the HMAC of its ten small
// letters and digits, as then) still works, however it is typed back.
func TestRecoveryCodesIssuedBeforeStillWork(t *testing.T) {
	ctx := context.Background()
	st := teststore.Open(t)
	keys, err := NewKeys(make([]byte, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{store: st, keys: keys}
	site := &hmisauth.Site{Key: "live", Name: "HMIS Live"}
	if err := st.SyncSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	u := &hmisauth.User{Site: "live", Username: "rpark", FirstName: "Rosa", LastName: "Park", PasswordHash: "x",
		Role: hmisauth.RoleUser, CreatedAt: time.Now(), PasswordChangedAt: time.Now()}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	old := []string{"k7mzq3wx9p", "abcde23456", "hjkmn78pqr", "stuvw2xyz9"}
	var hashes [][]byte
	for _, c := range old {
		hashes = append(hashes, keys.Hash(recoveryPurpose(u.ID), []byte(c)))
	}
	if err := st.ReplaceRecoveryCodes(ctx, u.ID, hashes, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	for i, typed := range []string{"k7mzq-3wx9p", " ABCDE–23456\n", "hjkmn 78pqr", "STUVW-2XYZ9"} {
		f, err := st.SecondFactors(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		recovery, left, err := s.checkCode(ctx, u, f, typed, time.Now())
		if err != nil || !recovery || left != len(old)-i-1 {
			t.Errorf("old code %q typed as %q: recovery %v, %d left, %v", old[i], typed, recovery, left, err)
		}
	}
	if _, _, err := s.checkCode(ctx, u, &hmisauth.SecondFactors{}, strings.ToUpper(old[0]), time.Now()); hmisauth.ErrorCode(err) != hmisauth.ETOTPWrong {
		t.Errorf("a used code: %v, want %s", err, hmisauth.ETOTPWrong)
	}
}
