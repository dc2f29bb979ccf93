package sqlstore

import (
	"database/sql"

	"github.com/hmisauth/hmisauth"
)

// The errors below are the answers the Store contract names for something absent or refused.
// Their codes and messages are what the user reads, so both backends return the same ones.

// NoUser is the ENOTFOUND answer for a user that does not exist.
func NoUser() error { return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "No such user."} }

// NoAgency is the ENOTFOUND answer for an agency that does not exist.
func NoAgency() error { return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "No such agency."} }

// NoSession is the ENOTFOUND answer for a session that does not exist.
func NoSession() error { return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "No such session."} }

// AgencyTaken is the ECONFLICT answer for an agency name the site has already.
func AgencyTaken(name string) error {
	return hmisauth.Errorf(hmisauth.ECONFLICT, "An agency named %s already exists on this site.", name)
}

// NoPasskey is the ENOTFOUND answer for a passkey the user does not have.
func NoPasskey() error { return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "No such passkey."} }

// NoEnrolment is the ENOTFOUND answer for an authenticator app set-up that is not the
// user's current one.
func NoEnrolment() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND,
		Message: "This authenticator app set-up is no longer the current one. Start the set-up again."}
}

// NoChallenge is the ENOTFOUND answer for a sign-in waiting for its second step that has
// expired or ended.
func NoChallenge() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "This sign-in has expired. Sign in again."}
}

// NoToken is the ENOTFOUND answer for a password-reset link that is unknown, used or expired.
func NoToken() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "This reset link is no longer valid."}
}

// NoMessage is the ENOTFOUND answer for an outbox message that does not exist.
func NoMessage() error { return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "No such message."} }

// MailLeaseLost is the ECONFLICT answer for a report on a message whose lease is no longer
// the reporting worker's.
func MailLeaseLost() error {
	return &hmisauth.Error{Code: hmisauth.ECONFLICT, Message: "The message is no longer leased to this worker."}
}

// NoClient is the ENOTFOUND answer for an OpenID Connect client the site does not have.
func NoClient() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "No such application."}
}

// NoSigningKey is the ENOTFOUND answer for a signing key the site does not have.
func NoSigningKey() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "No such signing key."}
}

// NoLogoutNotice is the ENOTFOUND answer for a back-channel logout notice that does not exist.
func NoLogoutNotice() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "No such logout notice."}
}

// LogoutLeaseLost is the ECONFLICT answer for a report on a logout notice whose lease is no
// longer the reporting worker's.
func LogoutLeaseLost() error {
	return &hmisauth.Error{Code: hmisauth.ECONFLICT, Message: "The logout notice is no longer leased to this worker."}
}

// NoAuthRequest is the ENOTFOUND answer for an authorization request that has expired or was
// finished already.
func NoAuthRequest() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND,
		Message: "This sign-in request has expired or was finished already. Go back to the application and sign in again."}
}

// NoCode is the ENOTFOUND answer for an authorization code that is unknown or expired.
func NoCode() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "The authorization code is unknown or has expired."}
}

// CodeReplayed is the ECodeReplayed answer for an authorization code used a second time.
func CodeReplayed() error {
	return &hmisauth.Error{Code: hmisauth.ECodeReplayed,
		Message: "The authorization code was used already: the tokens issued for it are revoked."}
}

// NoAccessToken is the ENOTFOUND answer for an access token that is unknown or revoked.
func NoAccessToken() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "The access token is unknown or revoked."}
}

// NoRefreshToken is the ENOTFOUND answer for a refresh token that is unknown, expired or
// revoked.
func NoRefreshToken() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND, Message: "The refresh token is unknown, expired or revoked."}
}

// NoGrant refuses a token whose sign-in is over (its session ended, or its code was replayed)
// or was never this one's (another session's, or a client the session did not sign in to).
func NoGrant() error {
	return &hmisauth.Error{Code: hmisauth.ENOTFOUND,
		Message: "The sign-in these tokens were for has ended. Sign in again."}
}

// RefreshReused is the ERefreshReused answer for a refresh token used a second time.
func RefreshReused() error {
	return &hmisauth.Error{Code: hmisauth.ERefreshReused,
		Message: "The refresh token was used already: every token of its sign-in is revoked."}
}

// Changed passes a statement's error on, or returns notFound() if it touched no row.
func Changed(res sql.Result, err error, notFound func() error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound()
	}
	return nil
}

// UserChanged is Changed answering NoUser.
func UserChanged(res sql.Result, err error) error { return Changed(res, err, NoUser) }

// SessionChanged is Changed answering NoSession.
func SessionChanged(res sql.Result, err error) error { return Changed(res, err, NoSession) }

// PasskeyChanged is Changed answering NoPasskey.
func PasskeyChanged(res sql.Result, err error) error { return Changed(res, err, NoPasskey) }

// EnrolmentChanged is Changed answering NoEnrolment.
func EnrolmentChanged(res sql.Result, err error) error { return Changed(res, err, NoEnrolment) }

// ChallengeChanged is Changed answering NoChallenge.
func ChallengeChanged(res sql.Result, err error) error { return Changed(res, err, NoChallenge) }

// ClientChanged is Changed answering NoClient.
func ClientChanged(res sql.Result, err error) error { return Changed(res, err, NoClient) }
