package auth_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// securityKey is a USB security key in software: a real P-256 key that answers the
// server's WebAuthn requests the way a browser relays a real key's answers (no attestation,
// user present and verified, a counter that goes up with each use). The server's checks run
// on it unchanged; only the browser test uses Chromium's own authenticator.
type securityKey struct {
	t          *testing.T
	origin     string // where the "browser" says it is
	rpID       string
	id         []byte
	key        *ecdsa.PrivateKey
	count      uint32
	userHandle string
}

func newSecurityKey(t *testing.T) *securityKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &securityKey{t: t, origin: publicURL, rpID: "hmis.example.org", id: id, key: key}
}

var b64 = base64.RawURLEncoding.EncodeToString

func (k *securityKey) clientData(typ, challenge string) []byte {
	b, err := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	if err != nil {
		k.t.Fatal(err)
	}
	return b
}

func (k *securityKey) authData(flags byte) []byte {
	h := sha256.Sum256([]byte(k.rpID))
	return binary.BigEndian.AppendUint32(append(h[:], flags), k.count)
}

// create answers navigator.credentials.create() options with a new credential.
func (k *securityKey) create(options []byte) []byte {
	k.t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string
			User      struct{ ID string }
			Exclude   []struct{ ID string } `json:"excludeCredentials"`
		}
	}
	if err := json.Unmarshal(options, &o); err != nil {
		k.t.Fatal(err)
	}
	for _, c := range o.PublicKey.Exclude {
		if c.ID == b64(k.id) {
			k.t.Fatal("the key was asked to register again although the account holds it")
		}
	}
	k.userHandle = o.PublicKey.User.ID
	pub, err := k.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		k.t.Fatal(err)
	}
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:]})
	if err != nil {
		k.t.Fatal(err)
	}
	const up, uv, at = 0x01, 0x04, 0x40
	data := append(k.authData(up|uv|at), make([]byte, 16)...) // AAGUID: none
	data = binary.BigEndian.AppendUint16(data, uint16(len(k.id)))
	data = append(append(data, k.id...), cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": data})
	if err != nil {
		k.t.Fatal(err)
	}
	return k.marshal(map[string]any{"id": b64(k.id), "rawId": b64(k.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64(k.clientData("webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64(att), "transports": []string{"usb"}}})
}

// get answers navigator.credentials.get() options, signing with the key.
func (k *securityKey) get(options []byte) []byte {
	k.t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string
			Allow     []struct{ ID string } `json:"allowCredentials"`
		}
	}
	if err := json.Unmarshal(options, &o); err != nil {
		k.t.Fatal(err)
	}
	allowed := false
	for _, c := range o.PublicKey.Allow {
		allowed = allowed || c.ID == b64(k.id)
	}
	if !allowed {
		k.t.Fatalf("the sign-in request does not list the key: %s", options)
	}
	k.count++
	data := k.authData(0x01 | 0x04)
	cd := k.clientData("webauthn.get", o.PublicKey.Challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(bytes.Clone(data), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	return k.marshal(map[string]any{"id": b64(k.id), "rawId": b64(k.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(data),
			"signature": b64(sig), "userHandle": k.userHandle}})
}

func (k *securityKey) marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		k.t.Fatal(err)
	}
	return b
}

// addPasskey registers key for the signed-in p under name and returns the recovery codes
// shown (nil when 2-step verification was on already).
func (f *fixture) addPasskey(p *auth.Principal, key *securityKey, name string) []string {
	f.t.Helper()
	options, state, err := f.svc.BeginPasskeyRegistration(f.ctx, p)
	if err != nil {
		f.t.Fatal(err)
	}
	codes, err := f.svc.FinishPasskeyRegistration(f.ctx, p, state, name, key.create(options))
	if err != nil {
		f.t.Fatal(err)
	}
	return codes
}

// passkeyLogin signs in with the password and answers the second step with key.
func (f *fixture) passkeyLogin(username string, key *securityKey) (*auth.LoginResult, error) {
	f.t.Helper()
	c := f.challenge(username)
	if !c.Passkeys {
		f.t.Fatalf("sign-in asks for no passkey: %+v", c)
	}
	options, err := f.svc.BeginPasskeyLogin(f.ctx, "live", c.Token)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.svc.VerifyPasskeyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: c.Token, ClientAddr: "127.0.0.1"}, key.get(options))
}

func TestAddingAPasskeyNeedsThePasswordTypedAgain(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	p := f.login(u.Username, goodPassword).Principal
	options, state, err := f.svc.BeginPasskeyRegistration(f.ctx, p)
	if err != nil {
		t.Fatalf("just signed in: %v", err)
	}
	answer := newSecurityKey(t).create(options)
	f.clock.Add(5 * time.Minute) // session.reauth: the settings close
	_, _, err = f.svc.BeginPasskeyRegistration(f.ctx, p)
	wantCode(t, err, hmisauth.EReauthRequired)
	// Nor does a ceremony begun while they were open finish after they closed.
	_, err = f.svc.FinishPasskeyRegistration(f.ctx, p, state, "Office laptop", answer)
	wantCode(t, err, hmisauth.EReauthRequired)
	if fs, _ := f.store.SecondFactors(f.ctx, u.ID); len(fs.Passkeys) != 0 {
		t.Errorf("%d passkeys stored", len(fs.Passkeys))
	}
}

func TestFirstPasskeyTurnsOnTwoStepVerification(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	other := f.login(u.Username, goodPassword)
	p := f.login(u.Username, goodPassword).Principal
	key := newSecurityKey(t)
	codes := f.addPasskey(p, key, "  Office   laptop ")
	if len(codes) != auth.RecoveryCodeCount {
		t.Fatalf("recovery codes shown: %v", codes)
	}
	if !p.User.MFAEnabled || !f.reload(u.Username).MFAEnabled {
		t.Error("2-step verification is not on")
	}
	_, err := f.svc.Authenticate(f.ctx, "live", other.Token)
	if auth.SessionEndReason(err) != hmisauth.EndedMFAChanged {
		t.Errorf("the other session: %v", err)
	}
	fs, err := f.store.SecondFactors(f.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.Passkeys) != 1 || fs.Passkeys[0].Name != "Office laptop" || !bytes.Equal(fs.Passkeys[0].CredentialID, key.id) {
		t.Fatalf("stored passkeys: %+v", fs.Passkeys)
	}
	if fs.RecoveryCodesLeft != auth.RecoveryCodeCount {
		t.Errorf("recovery codes stored: %d", fs.RecoveryCodesLeft)
	}
	// The same key is not asked to register again: it refuses an excluded credential.
	options, _, err := f.svc.BeginPasskeyRegistration(f.ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(options), b64(key.id)) {
		t.Error("the registered key is not excluded")
	}
	// A second key needs no new codes, and a name is made up when none is given.
	if codes := f.addPasskey(p, newSecurityKey(t), ""); codes != nil {
		t.Errorf("codes shown again: %v", codes)
	}
	if fs, _ := f.store.SecondFactors(f.ctx, u.ID); fs.Passkeys[1].Name != "Passkey 2" {
		t.Errorf("unnamed passkey called %q", fs.Passkeys[1].Name)
	}
}

func TestRegistrationStateBelongsToItsSession(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	a := f.login(u.Username, goodPassword).Principal
	b := f.login(u.Username, goodPassword).Principal
	options, state, err := f.svc.BeginPasskeyRegistration(f.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	answer := newSecurityKey(t).create(options)
	_, err = f.svc.FinishPasskeyRegistration(f.ctx, b, state, "Office laptop", answer)
	wantCode(t, err, hmisauth.EINVALID)
	_, err = f.svc.FinishPasskeyRegistration(f.ctx, a, state[:len(state)-2]+"AA", "Office laptop", answer)
	wantCode(t, err, hmisauth.EINVALID)
	// An answer made for another site's address does not check out either.
	key := newSecurityKey(t)
	key.origin = "https://hmis.example.org.evil.example"
	options, state, err = f.svc.BeginPasskeyRegistration(f.ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.FinishPasskeyRegistration(f.ctx, a, state, "Office laptop", key.create(options))
	wantCode(t, err, hmisauth.EINVALID)
	if _, err := f.svc.FinishPasskeyRegistration(f.ctx, a, state, "Office laptop", newSecurityKey(t).create(options)); err != nil {
		t.Fatalf("the right session and origin: %v", err)
	}
}

func TestPasskeyNames(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	p := f.login(u.Username, goodPassword).Principal
	for _, name := range []string{strings.Repeat("x", 61), "Office\x00laptop"} {
		options, state, err := f.svc.BeginPasskeyRegistration(f.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.FinishPasskeyRegistration(f.ctx, p, state, name, newSecurityKey(t).create(options))
		wantCode(t, err, hmisauth.EINVALID)
		if e := hmisauth.AsError(err); e.Field != "name" {
			t.Errorf("%q: error about field %q", name, e.Field)
		}
	}
	f.addPasskey(p, newSecurityKey(t), strings.Repeat("é", 60))
}

func TestSignInWithAPasskey(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	key := newSecurityKey(t)
	f.addPasskey(f.login(u.Username, goodPassword).Principal, key, "Blue USB key")
	for i := 1; i <= 2; i++ {
		res, err := f.passkeyLogin(u.Username, key)
		if err != nil {
			t.Fatalf("sign-in %d: %v", i, err)
		}
		if res.Token == "" || res.Principal == nil {
			t.Fatalf("sign-in %d opened no session", i)
		}
		fs, _ := f.store.SecondFactors(f.ctx, u.ID)
		var cred webauthn.Credential
		if err := json.Unmarshal(fs.Passkeys[0].Credential, &cred); err != nil {
			t.Fatal(err)
		}
		if cred.Authenticator.SignCount != key.count || cred.Authenticator.CloneWarning {
			t.Errorf("sign-in %d: stored sign count %d (clone warning %v), key's %d",
				i, cred.Authenticator.SignCount, cred.Authenticator.CloneWarning, key.count)
		}
		if !fs.Passkeys[0].LastUsedAt.Equal(f.clock.Now()) {
			t.Errorf("last used %v", fs.Passkeys[0].LastUsedAt)
		}
	}
}

func TestPasskeyAnswerIsGoodForOneSignIn(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	key := newSecurityKey(t)
	f.addPasskey(f.login(u.Username, goodPassword).Principal, key, "Blue USB key")
	c := f.challenge(u.Username)
	options, err := f.svc.BeginPasskeyLogin(f.ctx, "live", c.Token)
	if err != nil {
		t.Fatal(err)
	}
	answer := key.get(options)
	req := auth.SecondStepRequest{Site: "live", Token: c.Token}
	if _, err := f.svc.VerifyPasskeyLogin(f.ctx, req, answer); err != nil {
		t.Fatal(err)
	}
	// The sign-in is over: its challenge is gone.
	_, err = f.svc.VerifyPasskeyLogin(f.ctx, req, answer)
	wantCode(t, err, hmisauth.ESessionExpired)
	// Replayed to the next sign-in it answers the wrong request.
	c = f.challenge(u.Username)
	if _, err := f.svc.BeginPasskeyLogin(f.ctx, "live", c.Token); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.VerifyPasskeyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: c.Token}, answer)
	wantCode(t, err, hmisauth.EPasskeyWrong)
}

func TestWrongPasskeyAnswersCountTowardTheLockout(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	key := newSecurityKey(t)
	f.addPasskey(f.login(u.Username, goodPassword).Principal, key, "Blue USB key")
	impostor := newSecurityKey(t)
	impostor.id = key.id // the right credential ID, the wrong private key
	var err error
	for i := range f.live.Policy.Lockout.Threshold {
		_, err = f.passkeyLogin(u.Username, impostor)
		if i < f.live.Policy.Lockout.Threshold-1 {
			wantCode(t, err, hmisauth.EPasskeyWrong)
		}
	}
	wantCode(t, err, hmisauth.EAccountLocked)
	if got := f.attempt(u.Username, goodPassword); got != hmisauth.EAccountLocked {
		t.Errorf("password after the lock: %q", got)
	}
}

func TestPasskeyWithoutBeginningIsRefused(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	key := newSecurityKey(t)
	f.addPasskey(f.login(u.Username, goodPassword).Principal, key, "Blue USB key")
	c := f.challenge(u.Username)
	other := f.challenge(u.Username)
	options, err := f.svc.BeginPasskeyLogin(f.ctx, "live", other.Token)
	if err != nil {
		t.Fatal(err)
	}
	// Signed for another sign-in's request: this one began none.
	_, err = f.svc.VerifyPasskeyLogin(f.ctx, auth.SecondStepRequest{Site: "live", Token: c.Token}, key.get(options))
	wantCode(t, err, hmisauth.EPasskeyWrong)
	if n := f.reload(u.Username).FailedAttempts; n != 1 {
		t.Errorf("failed attempts = %d, want 1", n)
	}
}

func TestLastPasskeyStaysWhenTheSiteRequiresTwoStep(t *testing.T) {
	f := newFixture(t, func(s *hmisauth.Site) { s.Policy.MFA.Required = "everyone" })
	p := f.signedInAs("Ana", "Diaz", "user", "")
	if p.NextAction() != hmisauth.ActionSetupMFA {
		t.Fatalf("required actions = %v", actionNames(p))
	}
	// A passkey does what the site requires, without typing the password again.
	f.clock.Add(20 * time.Minute)
	first := newSecurityKey(t)
	f.addPasskey(p, first, "Office laptop")
	if len(p.RequiredActions) != 0 {
		t.Fatalf("required actions after adding a passkey = %v", actionNames(p))
	}
	p = f.reauth(p)
	fs, _ := f.store.SecondFactors(f.ctx, p.User.ID)
	err := f.svc.DeletePasskey(f.ctx, p, fs.Passkeys[0].ID)
	wantCode(t, err, hmisauth.EFORBIDDEN)
	if !strings.Contains(hmisauth.ErrorMessage(err), "HMIS Live requires 2-step verification") {
		t.Errorf("refusal reads %q", hmisauth.ErrorMessage(err))
	}
	// With a second one, either may go; the last again stays.
	f.addPasskey(p, newSecurityKey(t), "Blue USB key")
	if err := f.svc.DeletePasskey(f.ctx, p, fs.Passkeys[0].ID); err != nil {
		t.Fatal(err)
	}
	fs, _ = f.store.SecondFactors(f.ctx, p.User.ID)
	if len(fs.Passkeys) != 1 || fs.Passkeys[0].Name != "Blue USB key" {
		t.Fatalf("passkeys left: %+v", fs.Passkeys)
	}
	wantCode(t, f.svc.DeletePasskey(f.ctx, p, fs.Passkeys[0].ID), hmisauth.EFORBIDDEN)
}

func TestRemovingTheLastPasskeyTurnsTwoStepOff(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	p := f.login(u.Username, goodPassword).Principal
	f.addPasskey(p, newSecurityKey(t), "Office laptop")
	fs, _ := f.store.SecondFactors(f.ctx, u.ID)
	f.clock.Add(5 * time.Minute)
	wantCode(t, f.svc.DeletePasskey(f.ctx, p, fs.Passkeys[0].ID), hmisauth.EReauthRequired)
	p = f.reauth(p)
	wantCode(t, f.svc.DeletePasskey(f.ctx, p, fs.Passkeys[0].ID+1), hmisauth.ENOTFOUND)
	if err := f.svc.DeletePasskey(f.ctx, p, fs.Passkeys[0].ID); err != nil {
		t.Fatal(err)
	}
	if p.User.MFAEnabled || f.reload(u.Username).MFAEnabled {
		t.Error("2-step verification still on")
	}
	if fs, _ := f.store.SecondFactors(f.ctx, u.ID); fs.RecoveryCodesLeft != 0 || len(fs.Passkeys) != 0 {
		t.Errorf("left behind: %+v", fs)
	}
	if res := f.login(u.Username, goodPassword); res.Principal == nil {
		t.Error("the password alone does not sign in")
	}
}

func TestPasskeysNeedTheSiteAtItsName(t *testing.T) {
	f := newFixture(t)
	for i, tc := range []struct {
		url    string
		origin string // where a browser at url says it is; "" when passkeys are off
	}{
		{"", ""},
		{"http://10.0.0.5:8080", ""},
		{"https://[2001:db8::1]", ""},
		{"http://localhost:8080", "http://localhost:8080"},
		{"https://signin.example.org/", "https://signin.example.org"},
		{"https://Signin.Example.org:443", "https://signin.example.org"},
	} {
		svc := auth.NewService(auth.Deps{Store: f.store, Clock: f.clock, Hasher: f.hasher,
			Sites: []*hmisauth.Site{f.live, f.train}, Letters: f.letters, PublicURL: tc.url})
		if got := svc.PasskeysAvailable(); got != (tc.origin != "") {
			t.Errorf("%q: passkeys available %v", tc.url, got)
		}
		u := f.user("Ana", fmt.Sprintf("Diaz%c", 'a'+i))
		res, err := svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: u.Username, Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		options, state, err := svc.BeginPasskeyRegistration(f.ctx, res.Principal)
		if tc.origin == "" {
			wantCode(t, err, hmisauth.EFORBIDDEN)
			if msg := hmisauth.ErrorMessage(err); !strings.Contains(msg, "opened at its name, like https://signin.example.org") {
				t.Errorf("%q: refusal reads %q", tc.url, msg)
			}
			_, err = svc.BeginPasskeyLogin(f.ctx, "live", "any")
			wantCode(t, err, hmisauth.EFORBIDDEN)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		at, err := url.Parse(tc.origin)
		if err != nil {
			t.Fatal(err)
		}
		key := newSecurityKey(t)
		key.origin, key.rpID = tc.origin, at.Hostname()
		if _, err := svc.FinishPasskeyRegistration(f.ctx, res.Principal, state, "", key.create(options)); err != nil {
			t.Errorf("%q: a passkey made at %s: %v", tc.url, tc.origin, err)
		}
	}
}

// challenge signs in with the password as the web does and returns the second step it waits for.
func (f *fixture) challenge(username string) *auth.Challenge {
	f.t.Helper()
	res, err := f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: username, Password: goodPassword,
		ClientAddr: "127.0.0.1", SecondStep: true})
	if err != nil || res.Challenge == nil {
		f.t.Fatalf("sign-in of %s waits for no second step: %+v, %v", username, res, err)
	}
	return res.Challenge
}

// reauth types the password again on p's session and returns the refreshed principal.
func (f *fixture) reauth(p *auth.Principal) *auth.Principal {
	f.t.Helper()
	token, err := f.svc.Reauthenticate(f.ctx, p, goodPassword, true)
	if err != nil {
		f.t.Fatal(err)
	}
	p, err = f.svc.Authenticate(f.ctx, "live", token)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}
