package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/hmisauth/hmisauth"
)

// Passkeys (WebAuthn) are a second factor here, never a replacement for the password: the
// server lists the user's credentials in every request (no discoverable credentials needed),
// and user verification (fingerprint, PIN) is asked for where the device has it but not
// required, so a plain USB security key works too.
const (
	// maxPasskeys bounds a user's passkeys: each is listed in every sign-in request.
	maxPasskeys = 10
	// maxPasskeyName is the longest name, in characters, a passkey may be given.
	maxPasskeyName = 60
	// The browser waits this long for the user to touch the key or the fingerprint reader;
	// the server refuses an answer that comes later.
	passkeyLoginTimeout        = 2 * time.Minute
	passkeyRegistrationTimeout = 5 * time.Minute
)

// newRelyingParty is the WebAuthn relying party at publicURL, or nil when passkeys cannot
// work there: browsers bind a passkey to the site's name (the RP ID), so an address without
// one (none configured, or a bare IP address) has none to bind to.
func newRelyingParty(publicURL string, log *slog.Logger) *webauthn.WebAuthn {
	if publicURL == "" {
		return nil
	}
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		log.Warn("passkeys are off: the public URL names no host (an IP address cannot hold them)", "public_url", publicURL)
		return nil
	}
	host := strings.ToLower(u.Hostname())
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          host,
		RPDisplayName: host, // each site's own name replaces it when a passkey is added
		// Compared as browsers send it: scheme and host alike in any case, a default port or none.
		RPOrigins: []string{u.Scheme + "://" + u.Host},
		Timeouts: webauthn.TimeoutsConfig{
			Login: webauthn.TimeoutConfig{Enforce: true,
				Timeout: passkeyLoginTimeout, TimeoutUVD: passkeyLoginTimeout},
			Registration: webauthn.TimeoutConfig{Enforce: true,
				Timeout: passkeyRegistrationTimeout, TimeoutUVD: passkeyRegistrationTimeout},
		},
	})
	if err != nil {
		log.Warn("passkeys are off: the public URL is not a valid relying party", "public_url", publicURL, "err", err)
		return nil
	}
	return wa
}

// PasskeysAvailable reports whether passkeys can be added and used at the server's public
// address; pages offer them only then.
func (s *Service) PasskeysAvailable() bool { return s.passkeys != nil }

func passkeysUnavailable() error {
	return hmisauth.Errorf(hmisauth.EFORBIDDEN,
		"Passkeys need the site to be opened at its name, like https://signin.example.org, not a bare IP address.")
}

// passkeyUser is a user as the WebAuthn library sees them, with their passkeys.
type passkeyUser struct {
	user  *hmisauth.User
	keys  []*hmisauth.Passkey
	creds []webauthn.Credential
}

func newPasskeyUser(u *hmisauth.User, keys []*hmisauth.Passkey) (*passkeyUser, error) {
	pu := &passkeyUser{user: u, keys: keys}
	for _, k := range keys {
		var c webauthn.Credential
		if err := json.Unmarshal(k.Credential, &c); err != nil {
			return nil, fmt.Errorf("passkey %d of user %d: %w", k.ID, u.ID, err)
		}
		pu.creds = append(pu.creds, c)
	}
	return pu, nil
}

// WebAuthnID is the user handle: the user's ID, which says nothing about them to the device.
func (pu *passkeyUser) WebAuthnID() []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(pu.user.ID))
}

func (pu *passkeyUser) WebAuthnName() string                       { return pu.user.Username }
func (pu *passkeyUser) WebAuthnDisplayName() string                { return pu.user.FullName() }
func (pu *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return pu.creds }

// passkey is the stored passkey whose credential ID is id, or nil.
func (pu *passkeyUser) passkey(id []byte) *hmisauth.Passkey {
	for _, k := range pu.keys {
		if bytes.Equal(k.CredentialID, id) {
			return k
		}
	}
	return nil
}

// registrationPurpose binds a registration's sealed state to the session that began it: a
// state copied into another session's form does not open.
func registrationPurpose(sessionID int64) string {
	return "webauthn-reg:" + strconv.FormatInt(sessionID, 10)
}

// BeginPasskeyRegistration starts adding a passkey: options is the JSON the browser gives
// navigator.credentials.create(), and state the sealed ceremony data that comes back with the
// new passkey to FinishPasskeyRegistration (it holds nothing secret, but cannot be forged).
func (s *Service) BeginPasskeyRegistration(ctx context.Context, p *Principal) (options []byte, state string, err error) {
	if s.passkeys == nil {
		return nil, "", passkeysUnavailable()
	}
	if err := s.requireReauth(p, hmisauth.ActionSetupMFA); err != nil {
		return nil, "", err
	}
	f, err := s.store.SecondFactors(ctx, p.User.ID)
	if err != nil {
		return nil, "", err
	}
	if len(f.Passkeys) >= maxPasskeys {
		return nil, "", hmisauth.Errorf(hmisauth.EINVALID,
			"You have %d passkeys, the most an account can have. Remove one you no longer use first.", len(f.Passkeys))
	}
	pu, err := newPasskeyUser(p.User, f.Passkeys)
	if err != nil {
		return nil, "", err
	}
	creation, sd, err := s.passkeys.BeginRegistration(pu,
		// An authenticator that holds one of these already refuses to make a second.
		webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementDiscouraged,
			RequireResidentKey: protocol.ResidentKeyNotRequired(),
			UserVerification:   protocol.VerificationPreferred,
		}),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()),
		// The device shows the site's name: "HMIS Live", not the server's host name.
		func(o *protocol.PublicKeyCredentialCreationOptions) error {
			o.RelyingParty.Name = p.Site.Name
			return nil
		},
	)
	if err != nil {
		return nil, "", err
	}
	options, err = json.Marshal(creation)
	if err != nil {
		return nil, "", err
	}
	data, err := json.Marshal(sd)
	if err != nil {
		return nil, "", err
	}
	state = base64.RawURLEncoding.EncodeToString(s.keys.Seal(data, registrationPurpose(p.Session.ID)))
	return options, state, nil
}

// FinishPasskeyRegistration checks the new passkey the browser made against state (from
// BeginPasskeyRegistration) and adds it under name. When it is the user's first second
// factor, 2-step verification turns on: the new recovery codes are returned, to be shown once,
// and the user's other sessions end, as when the authenticator app is turned on. Otherwise
// codes is nil.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, p *Principal, state, name string, response []byte) (codes []string, err error) {
	if s.passkeys == nil {
		return nil, passkeysUnavailable()
	}
	if err := s.requireReauth(p, hmisauth.ActionSetupMFA); err != nil {
		return nil, err
	}
	f, err := s.store.SecondFactors(ctx, p.User.ID)
	if err != nil {
		return nil, err
	}
	name, err = passkeyName(name, len(f.Passkeys)+1)
	if err != nil {
		return nil, err
	}
	if len(f.Passkeys) >= maxPasskeys {
		return nil, hmisauth.Errorf(hmisauth.EINVALID,
			"You have %d passkeys, the most an account can have. Remove one you no longer use first.", len(f.Passkeys))
	}
	sd, err := s.openRegistration(p, state)
	if err != nil {
		return nil, err
	}
	pu, err := newPasskeyUser(p.User, f.Passkeys)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, s.registrationRefused(ctx, p, err)
	}
	cred, err := s.passkeys.CreateCredential(pu, *sd, parsed)
	if err != nil {
		return nil, s.registrationRefused(ctx, p, err)
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	key := &hmisauth.Passkey{UserID: p.User.ID, CredentialID: cred.ID, Name: name, Credential: record, CreatedAt: now}
	actx := s.auditAs(ctx, p, hmisauth.EventPasskeyAdded, name)
	var hashes [][]byte
	if !f.Enabled() {
		// The first second factor: 2-step verification is on from now, with recovery codes
		// made in the same transaction.
		codes, hashes = s.newRecoveryCodes(p.User.ID)
		actx = s.auditAs(actx, p, hmisauth.EventRecoveryCodesNew, "")
	}
	notice, err := s.mfaChangedNotice(p.Site, p.User, hmisauth.MFAChangePasskeyAdded, name, now, p.Session.ClientAddr)
	if err != nil {
		return nil, err
	}
	if err := s.store.AddPasskey(actx, key, hashes, notice); err != nil {
		if hmisauth.ErrorCode(err) == hmisauth.ECONFLICT {
			return nil, hmisauth.Errorf(hmisauth.ECONFLICT,
				"That passkey is already added to an account. Use it, or add a different one.")
		}
		return nil, err
	}
	if notice != nil {
		s.kick()
	}
	s.log.InfoContext(ctx, "passkey added", "site", p.Site.Key, "username", p.User.Username, "passkey", key.ID)
	if f.Enabled() {
		return nil, nil
	}
	count := s.countEnded(ctx, p.Site.Key, p.User.ID, p.Session.ID, hmisauth.EndedMFAChanged)
	err = s.store.DeleteUserSessions(ctx, p.User.ID, p.Session.ID, hmisauth.EndedMFAChanged, s.clock.Now())
	count(err)
	if err != nil {
		return nil, err
	}
	p.User.MFAEnabled = true
	p.RequiredActions = RequiredActions(p.Site, p.User, now)
	return codes, nil
}

// openRegistration opens the state BeginPasskeyRegistration sealed for this session.
func (s *Service) openRegistration(p *Principal, state string) (*webauthn.SessionData, error) {
	again := hmisauth.Errorf(hmisauth.EINVALID,
		"Adding the passkey was not finished in time, or was started in another window. Select “Add a passkey” again.")
	sealed, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil || state == "" {
		return nil, again
	}
	data, err := s.keys.Open(sealed, registrationPurpose(p.Session.ID))
	if err != nil {
		return nil, again
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(data, &sd); err != nil {
		return nil, err
	}
	return &sd, nil
}

// registrationRefused is the answer for a new passkey that does not check out (a late
// answer, another site's, a tampered one): the library's reason goes to the log.
func (s *Service) registrationRefused(ctx context.Context, p *Principal, err error) error {
	s.log.InfoContext(ctx, "passkey refused at registration", "site", p.Site.Key, "username", p.User.Username,
		"reason", passkeyReason(err))
	return hmisauth.Errorf(hmisauth.EINVALID,
		"The passkey could not be added: it took too long, or its answer did not check out. Select “Add a passkey” and try again.")
}

// passkeyReason is what the library says about a refused passkey, for the log.
func passkeyReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return strings.TrimSpace(pe.Type + ": " + pe.Details + " " + pe.DevInfo)
	}
	return err.Error()
}

// passkeyName checks the name the user gave a passkey; an empty one becomes "Passkey n".
func passkeyName(name string, n int) (string, error) {
	name = strings.Join(strings.Fields(name), " ")
	if err := ValidateText("name", "name of the passkey", name); err != nil {
		return "", err
	}
	switch {
	case name == "":
		return "Passkey " + strconv.Itoa(n), nil
	case utf8.RuneCountInString(name) > maxPasskeyName:
		return "", hmisauth.FieldError("name", fmt.Sprintf(
			"Make the name %d characters or fewer, like “Office laptop”.", maxPasskeyName))
	}
	return name, nil
}

// DeletePasskey removes one of the user's passkeys. A site that requires 2-step verification
// of this user keeps their last second factor: they add another first.
func (s *Service) DeletePasskey(ctx context.Context, p *Principal, id int64) error {
	if err := s.requireReauth(p, ""); err != nil {
		return err
	}
	f, err := s.store.SecondFactors(ctx, p.User.ID)
	if err != nil {
		return err
	}
	var key *hmisauth.Passkey
	for _, k := range f.Passkeys {
		if k.ID == id {
			key = k
		}
	}
	if key == nil {
		return hmisauth.Errorf(hmisauth.ENOTFOUND, "That passkey is not on your account: it may have been removed already.")
	}
	required := MFARequired(p.Site, p.User)
	lastKey := func() error {
		return hmisauth.Errorf(hmisauth.EFORBIDDEN,
			"%s requires 2-step verification for your account, so you cannot remove your only passkey. Add another passkey or set up the authenticator app first, then remove this one.",
			p.Site.Name)
	}
	if required && !f.TOTP.Confirmed() && len(f.Passkeys) == 1 {
		return lastKey()
	}
	now := s.clock.Now()
	notice, err := s.mfaChangedNotice(p.Site, p.User, hmisauth.MFAChangePasskeyRemoved, key.Name, now, p.Session.ClientAddr)
	if err != nil {
		return err
	}
	// The store decides "last factor" again in its transaction: a parallel removal may have
	// taken the other one since.
	if err := s.store.DeletePasskey(s.auditAs(ctx, p, hmisauth.EventPasskeyRemoved, key.Name), p.User.ID, id, required, notice); err != nil {
		if hmisauth.ErrorCode(err) == hmisauth.EFORBIDDEN {
			return lastKey()
		}
		return err
	}
	if notice != nil {
		s.kick()
	}
	p.User.MFAEnabled = f.TOTP.Confirmed() || len(f.Passkeys) > 1
	p.RequiredActions = RequiredActions(p.Site, p.User, now)
	s.log.InfoContext(ctx, "passkey removed", "site", p.Site.Key, "username", p.User.Username, "passkey", id)
	return nil
}

// BeginPasskeyLogin starts the second step of the sign-in waiting under challengeToken with a
// passkey: it returns the JSON the browser gives navigator.credentials.get(). The challenge
// keeps the request, so it is answered once: the challenge ends with the sign-in.
func (s *Service) BeginPasskeyLogin(ctx context.Context, siteKey, challengeToken string) ([]byte, error) {
	if s.passkeys == nil {
		return nil, passkeysUnavailable()
	}
	c, err := s.LoadChallenge(ctx, siteKey, challengeToken)
	if err != nil {
		return nil, err
	}
	f := c.factors
	if len(f.Passkeys) == 0 {
		return nil, hmisauth.Errorf(hmisauth.ENOTFOUND, "Your account has no passkey. Type a code instead.")
	}
	pu, err := newPasskeyUser(c.user, f.Passkeys)
	if err != nil {
		return nil, err
	}
	assertion, sd, err := s.passkeys.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(sd)
	if err != nil {
		return nil, err
	}
	if err := s.store.SetChallengeWebAuthn(ctx, c.id, data); err != nil {
		if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
			return nil, challengeGone()
		}
		return nil, err
	}
	return json.Marshal(assertion)
}

// verifyPasskeyLogin completes a sign-in with the passkey's answer (the JSON of the browser's
// navigator.credentials.get() result) to BeginPasskeyLogin's request. An answer that does not
// verify is counted toward the lockout like a wrong code.
func (s *Service) verifyPasskeyLogin(ctx context.Context, req SecondStepRequest, response []byte) (*LoginResult, error) {
	if s.passkeys == nil {
		return nil, passkeysUnavailable()
	}
	if len(response) == 0 {
		return nil, hmisauth.Errorf(hmisauth.EINVALID, "Your browser did not send the passkey's answer. Select “Use your passkey” again.")
	}
	return s.secondStep(ctx, req, func(c *Challenge, now time.Time, res *LoginResult) error {
		refused := func(reason string) error {
			s.log.InfoContext(ctx, "passkey refused at sign-in", "site", c.Site.Key, "username", c.user.Username, "reason", reason)
			return &hmisauth.Error{Code: hmisauth.EPasskeyWrong,
				Message: "Your passkey was not accepted. Try again, or type a code from your authenticator app or a recovery code."}
		}
		if len(c.row.WebAuthn) == 0 {
			return refused("no passkey request was begun for this sign-in")
		}
		var sd webauthn.SessionData
		if err := json.Unmarshal(c.row.WebAuthn, &sd); err != nil {
			return err
		}
		pu, err := newPasskeyUser(c.user, c.factors.Passkeys)
		if err != nil {
			return err
		}
		for i := range pu.creds {
			// The stored warning was the last sign-in's; this one decides afresh.
			pu.creds[i].Authenticator.CloneWarning = false
		}
		parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
		if err != nil {
			return refused(passkeyReason(err))
		}
		// Besides the signature this checks the request's age, the site it was made for and
		// that the passkey's backup-eligible flag did not change since it was added.
		cred, err := s.passkeys.ValidateLogin(pu, sd, parsed)
		if err != nil {
			return refused(passkeyReason(err))
		}
		key := pu.passkey(cred.ID)
		if key == nil {
			return refused("the passkey is no longer on the account")
		}
		if cred.Authenticator.CloneWarning {
			// Its signature counter went backwards: two copies of the key may exist. The sign-in
			// stands (some devices count wrongly), but the log says so for whoever reviews it.
			s.log.WarnContext(ctx, "passkey may be cloned: its sign count did not increase", "site", c.Site.Key,
				"username", c.user.Username, "passkey", key.ID, "sign_count", cred.Authenticator.SignCount)
		}
		record, err := json.Marshal(cred)
		if err != nil {
			return err
		}
		if err := s.store.PasskeyUsed(ctx, key.ID, record, now); err != nil {
			return err
		}
		res.RecoveryCodesLeft = c.factors.RecoveryCodesLeft
		// A passkey that may be copied to other devices (synced) is a software key; one
		// bound to its device, a hardware key (RFC 8176).
		res.factor = "hwk"
		if cred.Flags.BackupEligible {
			res.factor = "swk"
		}
		return nil
	})
}
