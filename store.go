package hmisauth

import (
	"context"
	"time"
)

// Store is everything hmisauth keeps. Each method is one atomic step: a single statement or a
// transaction, correct under concurrent calls from several server processes on one database.
// The rules in auth/ never read-modify-write across calls where a race would matter; when they
// need an atomic step they get a method here.
//
// Lookups of something absent return an *Error with code ENOTFOUND; creating something that
// exists returns ECONFLICT. store/storetest checks every backend against this contract.
//
// Audit: every method that changes something appends the events its context carries
// (WithEvent) to the audit log in the same transaction, chained by EventHash; when the method
// returns an error, neither the change nor the events are written. Events get IDs 1, 2, 3, …
// in the order they are appended, with no gaps (the verifier reads a gap as a deletion); an
// event is appended once (one that already has an ID is refused); an event without a time is
// stamped with the current one; times are kept in UTC to the microsecond.
type Store interface {
	// ComplianceStore: policy history, trainings, departures, the security officer and
	// access-log reviews (compliance.go).
	ComplianceStore

	// Ping checks the database answers (readiness).
	Ping(ctx context.Context) error
	Close() error

	// SyncSite records a configured site, creating or renaming it.
	SyncSite(ctx context.Context, site *Site) error

	// CreateAgency inserts a, setting a.ID and a.CreatedAt; the name is unique per site
	// (case-insensitively).
	CreateAgency(ctx context.Context, a *Agency) error
	// UpdateAgency saves a's name, seats and license dates.
	UpdateAgency(ctx context.Context, a *Agency) error
	Agency(ctx context.Context, site string, id int64) (*Agency, error)
	AgencyByName(ctx context.Context, site, name string) (*Agency, error)
	Agencies(ctx context.Context, site string) ([]*Agency, error)
	// AgencyUserCount counts the agency's users that are not disabled (seats in use).
	AgencyUserCount(ctx context.Context, agencyID int64) (int, error)

	// CreateUser inserts u with its password hash (u.PasswordHash) and sets u.ID. The username
	// is unique per site by UsernameKey: a clash is ECONFLICT. Any stale lockout state held
	// under the same username key (guesses made before the account existed) is cleared in the
	// same transaction. When u.AgencyID is set and the agency has seats, the insert is refused
	// with ESeatsFull if they are all taken, decided in the same transaction.
	CreateUser(ctx context.Context, u *User) error
	// User finds an account by username, case-insensitively, with its lockout state.
	User(ctx context.Context, site, username string) (*User, error)
	UserByID(ctx context.Context, id int64) (*User, error)
	// UpdateUserProfile saves names, e-mail, phone, agency and role.
	UpdateUserProfile(ctx context.Context, u *User) error
	// SysadminCount counts a site's sysadmins (first start creates one when there is none).
	SysadminCount(ctx context.Context, site string) (int, error)

	// ReserveLoginAttempt counts one sign-in attempt for (site, username key) before its
	// password is checked, in one atomic step, whether or not such a user exists:
	//   - if the key is locked, or already has threshold counted attempts, nothing changes and
	//     Allowed is false (no hash is computed for a locked account);
	//   - otherwise the count rises by one, and when it reaches threshold the key is locked
	//     at now. Allowed is true and Count is the new count.
	// An attempt that then succeeds calls LoginSucceeded, which clears the count and lock.
	// So N parallel wrong guesses evaluate at most threshold passwords.
	ReserveLoginAttempt(ctx context.Context, site, usernameKey string, threshold int, now time.Time) (Attempt, error)
	// AutoUnlock clears the lock and count of (site, username key) if it locked at or before
	// lockedBefore (the site's automatic unlock). It reports whether it unlocked.
	AutoUnlock(ctx context.Context, site, usernameKey string, lockedBefore time.Time) (bool, error)
	// ReleaseLoginAttempt gives back one attempt counted by ReserveLoginAttempt whose password
	// was right but whose sign-in waits for a second step (or was a re-authentication): the
	// count falls by one, and if a.LockedAt is set (this attempt locked the key) and the key is
	// still locked at that time, it is unlocked. Earlier failures stay counted, so knowing the
	// password never clears the count: only a completed sign-in does.
	ReleaseLoginAttempt(ctx context.Context, site, usernameKey string, a Attempt) error
	// LoginSucceeded clears the failure count and lock of the user's username key and records
	// the sign-in time, in one transaction.
	LoginSucceeded(ctx context.Context, userID int64, at time.Time) error
	// Unlock is an administrator's unlock: clears count and lock.
	Unlock(ctx context.Context, userID int64) error

	// UseTemporaryPassword marks the user's temporary password used, once: it reports false
	// if it was already used (by a parallel sign-in, say).
	UseTemporaryPassword(ctx context.Context, userID int64, at time.Time) (bool, error)
	// SetPassword replaces the user's password in one transaction: the old hash joins the
	// history (trimmed to the newest c.History entries), temporary and must-change flags are
	// set as given, the lockout is cleared, the user's reset tokens die, the user's sessions
	// other than c.KeepSessionID are ended (reason EndedPasswordChanged), the user's
	// remembered devices and waiting sign-ins (login challenges) are forgotten, and c.Mail (if
	// any) is queued.
	SetPassword(ctx context.Context, c PasswordChange) error
	// PasswordHistory returns the user's previous password hashes, newest first.
	PasswordHistory(ctx context.Context, userID int64, limit int) ([]string, error)
	// RehashPassword swaps the stored hash for one with stronger parameters, only if the
	// stored hash is still oldHash (a password change in between wins).
	RehashPassword(ctx context.Context, userID int64, oldHash, newHash string) error
	// ExpirePassword makes the user choose a new password at the next sign-in.
	ExpirePassword(ctx context.Context, userID int64) error
	// AcceptTerms records that the user accepted the terms version.
	AcceptTerms(ctx context.Context, userID int64, version int, at time.Time) error
	// SetDisabled disables or enables the account; disabling ends all its sessions (reason
	// EndedByHelpdesk) and forgets its remembered devices and waiting sign-ins.
	SetDisabled(ctx context.Context, userID int64, disabled bool, at time.Time) error
	// SetAgreement records the user agreement's signatures and expiry.
	SetAgreement(ctx context.Context, userID int64, signed, supervisor, director, expires Date) error

	// CreateSession inserts s and sets s.ID. If single is true, the user's other sessions end
	// in the same transaction (one user, one workstation), with reason EndedElsewhere.
	CreateSession(ctx context.Context, s *Session, single bool) error
	// SessionByToken finds a session by the hash of its token.
	SessionByToken(ctx context.Context, tokenHash []byte) (*Session, error)
	// SessionAndUser finds a session by the hash of its token together with its user (with
	// the user's lockout state, as UserByID gives it), read in one statement: every signed-in
	// request asks, and one round trip instead of two is what it costs. ENOTFOUND (as
	// SessionByToken) when no session has that token.
	SessionAndUser(ctx context.Context, tokenHash []byte) (*Session, *User, error)
	// Session finds a session by its ID (a token's, for single sign-on), whether or not it
	// timed out (the caller decides, by the site's policy); ENOTFOUND once it ended.
	Session(ctx context.Context, id int64) (*Session, error)
	// TouchSession records use of the session at the given time.
	TouchSession(ctx context.Context, id int64, at time.Time) error
	// DeleteSession ends one session: a sign-out (signOut: its applications are told, see
	// below) or a time-out. No reason is kept.
	DeleteSession(ctx context.Context, id int64, signOut bool) error
	// DeleteUserSessions ends every session of the user except keepID (0: all), keeping reason
	// (one of the Ended* constants) as of at, for their browsers to be told.
	DeleteUserSessions(ctx context.Context, userID, keepID int64, reason string, at time.Time) error
	// UserSessions lists the user's sessions, newest first.
	UserSessions(ctx context.Context, userID int64) ([]*Session, error)
	// EndUserSession ends the user's session id, keeping reason as of at; ENOTFOUND when the
	// user has no such session (another user's included).
	EndUserSession(ctx context.Context, userID, id int64, reason string, at time.Time) error
	// SessionEndReason says why the session with this token hash was ended by
	// DeleteUserSessions, EndUserSession, SetPassword, SetDisabled, ResetSecondFactors or a
	// single-session CreateSession, if that was within SessionEndKept before now (each keeps
	// its reason as of its own time: at, c.At, the new session's CreatedAt); ENOTFOUND
	// otherwise (signed out, timed out, never existed).
	SessionEndReason(ctx context.Context, tokenHash []byte, now time.Time) (string, error)
	// Reauthenticated records that the session's password was typed again at, and, when
	// newTokenHash is not nil, gives the session that new token (the old one stops working).
	Reauthenticated(ctx context.Context, id int64, at time.Time, newTokenHash []byte) error
	// DeleteExpiredSessions removes sessions past their absolute limit or idle before idleBefore,
	// and with them what has no use after now: expired login challenges and remembered
	// devices, and session end reasons older than SessionEndKept. It counts the sessions.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error)

	// SecondFactors returns what the user has set up for 2-step verification (empty, not
	// ENOTFOUND, when nothing).
	SecondFactors(ctx context.Context, userID int64) (*SecondFactors, error)
	// StartTOTP stores the sealed secret of a new authenticator-app enrolment as pending,
	// replacing any earlier pending one; a confirmed app stays in use until ConfirmTOTP.
	StartTOTP(ctx context.Context, userID int64, sealed []byte, at time.Time) error
	// ConfirmTOTP makes the pending secret the one in use, with LastStep step, replaces the
	// user's recovery codes with codeHashes and queues m (if any: the "2-step verification
	// changed" notice), in one transaction. If the pending secret is no longer sealed (a newer
	// enrolment began, or it was confirmed already) it changes nothing, queues nothing and
	// answers ENOTFOUND.
	ConfirmTOTP(ctx context.Context, userID int64, sealed []byte, step int64, at time.Time, codeHashes [][]byte, m *Message) error
	// UseTOTPStep accepts a code of time step step once: it raises LastStep to step if step is
	// newer, and reports false (a replay, or an older code) otherwise. Of parallel uses of one
	// step exactly one reports true.
	UseTOTPStep(ctx context.Context, userID int64, step int64) (bool, error)
	// DisableTOTP removes the authenticator app; if the user then has no passkey either, their
	// recovery codes and remembered devices go too; and m (if any) is queued. One transaction.
	// With keepOne (the site requires 2-step verification of the user) it is refused with
	// EFORBIDDEN, changing and queueing nothing, when no passkey remains: decided in the
	// transaction, so two parallel removals cannot take the last two factors.
	DisableTOTP(ctx context.Context, userID int64, keepOne bool, m *Message) error
	// ReplaceRecoveryCodes replaces the user's recovery codes with hashes and queues m (if
	// any), in one transaction.
	ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte, at time.Time, m *Message) error
	// UseRecoveryCode spends the user's unused recovery code with this hash, once: ok is false
	// when there is none (wrong, or used already). left counts the unused codes after it.
	UseRecoveryCode(ctx context.Context, userID int64, hash []byte, at time.Time) (ok bool, left int, err error)
	// AddPasskey stores p, sets p.ID and queues m (if any), in one transaction; a credential ID
	// already registered is ECONFLICT, queueing nothing. When codeHashes is not nil (the user's
	// first second factor) the user's recovery codes are replaced with them in the same
	// transaction.
	AddPasskey(ctx context.Context, p *Passkey, codeHashes [][]byte, m *Message) error
	// PasskeyUsed records a sign-in with the passkey: its updated credential record (sign
	// count) and the time.
	PasskeyUsed(ctx context.Context, id int64, credential []byte, at time.Time) error
	// DeletePasskey removes the user's passkey id (ENOTFOUND when not theirs) and queues m (if
	// any), in one transaction; if the user then has no second factor left, their recovery
	// codes and remembered devices go too. keepOne refuses the last factor as for DisableTOTP.
	// A refused removal queues nothing.
	DeletePasskey(ctx context.Context, userID, id int64, keepOne bool, m *Message) error
	// ResetSecondFactors is the helpdesk's reset: the user's authenticator app, recovery
	// codes, passkeys, remembered devices and waiting sign-ins are removed, all their
	// sessions end (reason EndedByHelpdesk) and m (if any) is queued, in one transaction.
	ResetSecondFactors(ctx context.Context, userID int64, at time.Time, m *Message) error

	// RememberDevice stores d and sets d.ID.
	RememberDevice(ctx context.Context, d *RememberedDevice) error
	// DeviceRemembered reports whether the user has a remembered device with this token hash
	// that has not expired at now.
	DeviceRemembered(ctx context.Context, userID int64, tokenHash []byte, now time.Time) (bool, error)

	// CreateLoginChallenge stores c and sets c.ID.
	CreateLoginChallenge(ctx context.Context, c *LoginChallenge) error
	// LoginChallenge finds a challenge by its token hash that has not expired at now;
	// ENOTFOUND otherwise.
	LoginChallenge(ctx context.Context, tokenHash []byte, now time.Time) (*LoginChallenge, error)
	// SetChallengeWebAuthn stores the passkey assertion data begun for challenge id.
	SetChallengeWebAuthn(ctx context.Context, id int64, data []byte) error
	// EndLoginChallenge removes the challenge and reports whether it was still there: of
	// parallel completions exactly one sees true.
	EndLoginChallenge(ctx context.Context, id int64) (bool, error)

	// QueueResetRequest records a "forgot password" request for the background to handle,
	// setting r.ID: one insert, the same whether or not the username exists, so the answer
	// takes the same time either way.
	QueueResetRequest(ctx context.Context, r *ResetRequest) error
	// ClaimResetRequests leases up to limit queued requests that no worker holds (never
	// leased, or whose lease ended at or before now) until now+lease, and returns them oldest
	// first, each with LeasedUntil the lease's end as stored. Two workers, in one process or
	// several, never hold the same request at once. A claimed request stays queued until
	// EndResetRequest removes it, so one whose worker died (a crash, a SIGKILL) is claimed
	// again once its lease ends instead of being lost after its sender was told a link is on
	// its way. The lease must be at least a microsecond (the precision times are stored to).
	ClaimResetRequests(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*ResetRequest, error)
	// EndResetRequest removes r, a request as ClaimResetRequests returned it, once it has been
	// handled, if its lease (r.ID and r.LeasedUntil) is still the request's current one; a
	// lease that ran out but that no other worker has claimed since still counts. It reports
	// false, changing nothing, when the request is gone or another worker claimed it after
	// the lease ran out: that worker handles it (again) and ends it.
	EndResetRequest(ctx context.Context, r *ResetRequest) (bool, error)

	// StartReset stores a new password-reset token and queues its e-mail (when m is not nil),
	// in one transaction; the user's older tokens die (a newer link supersedes them).
	StartReset(ctx context.Context, t *ResetToken, m *Message) error
	// ResetToken finds a token by its hash that is unused and not expired at now; any other is
	// ENOTFOUND (unknown, used, expired and superseded alike).
	ResetToken(ctx context.Context, hash []byte, now time.Time) (*ResetToken, error)
	// CompleteReset uses the token and replaces the password in one transaction (see
	// SetPassword); when the token is not live at now, or is not c.UserID's, it changes
	// nothing and answers ENOTFOUND, so of parallel uses exactly one succeeds.
	CompleteReset(ctx context.Context, hash []byte, now time.Time, c PasswordChange) error
	// HitRateLimit counts one event for key in the fixed window of the given length that
	// contains now, and reports whether the count is still within limit. Windows are shared by
	// every server process on the database.
	HitRateLimit(ctx context.Context, key string, window time.Duration, limit int, now time.Time) (bool, error)
	// ReserveAddressAttempt counts attempt a in its window (a.Key's fixed window of length
	// a.Window that holds a.At), unless the window already holds a.MaxAttempts attempts or
	// a.MaxSubjects distinct subjects: then it counts nothing and answers Allowed false,
	// whatever a.Subject is. A non-empty a.Subject is counted among the distinct subjects
	// (once, however many of its attempts there are). It is one atomic step, shared by every
	// server process on the database: of parallel reservations exactly as many are allowed as
	// the limits leave room for. The first reservation of a window also deletes every key's
	// ended windows.
	ReserveAddressAttempt(ctx context.Context, a AddressAttempt) (AddressAttempts, error)
	// ReleaseAddressAttempt gives back one attempt that ReserveAddressAttempt allowed, given
	// the same a: the window counts one attempt less, and a.Subject one less, which stops
	// counting among the distinct subjects when none of its attempts is left. A window that
	// has ended (and was deleted) or holds no attempt of a.Subject is left as it is.
	ReleaseAddressAttempt(ctx context.Context, a AddressAttempt) error
	// NoteRefusal counts one refused request in the window of length window (fixed, aligned
	// to multiples of window) that contains r.At, for (r.Site, r.Kind, r.Key), in one atomic
	// step. The first refusal of a window appends the events ctx carries (its own audit event)
	// and reports true; each later one is only counted, with its time and (up to
	// RefusalValuesKept distinct) r.Value, appends nothing and reports false. Of parallel
	// first refusals exactly one reports true.
	NoteRefusal(ctx context.Context, r Refusal, window time.Duration) (bool, error)
	// ClosedRefusals lists up to limit windows that ended at or before now, oldest first.
	ClosedRefusals(ctx context.Context, now time.Time, limit int) ([]*RefusalCount, error)
	// EndRefusals removes the window id and appends the events ctx carries (its summary) in
	// one transaction, if it is still there: of parallel callers exactly one reports true and
	// appends; the others change nothing.
	EndRefusals(ctx context.Context, id int64) (bool, error)
	// LastResetAt is when the user's newest reset token was made (zero: none live).
	LastResetAt(ctx context.Context, userID int64, now time.Time) (time.Time, error)

	// SetRecovery stores the user's security question and the hash of its answer.
	SetRecovery(ctx context.Context, userID int64, question, answerHash string) error
	// UpdateContact sets the user's e-mail and phone and queues m (a notice to the old address,
	// when the address changed; may be nil) in one transaction.
	UpdateContact(ctx context.Context, userID int64, email, phone string, m *Message) error
	// PasswordExpiryCandidates lists a site's users with an e-mail address, a password of their
	// own changed within [from, to), and no expiry warning yet for that password.
	PasswordExpiryCandidates(ctx context.Context, site string, from, to time.Time) ([]*User, error)
	// WarnPasswordExpiry records that the user was warned about the password set at changedAt
	// and queues m, once: false (and nothing queued) if the warning was already recorded or the
	// password changed since.
	WarnPasswordExpiry(ctx context.Context, userID int64, changedAt time.Time, m *Message) (bool, error)

	// Remind does r once: it records r and queues ms (may be empty) and the events ctx
	// carries, in one transaction. If r (by Kind, TargetID and Due) was already recorded it
	// changes nothing, appends no event and reports false; of parallel callers exactly one
	// reports true.
	Remind(ctx context.Context, r Reminder, ms []*Message) (bool, error)

	// EnqueueMail queues a message on its own (most messages are queued by the step they
	// report). It sets m.ID.
	EnqueueMail(ctx context.Context, m *Message) error
	// ClaimMail leases up to limit messages due at now (unsent, not abandoned, next attempt
	// reached, not leased by another worker) until now+lease and returns them, each with
	// Attempts counting this claim and LeasedUntil the lease's end as stored. Two workers, in
	// one process or several, never hold the same message at once.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Message, error)
	// MailSent, MailFailed and AbandonMail report the outcome of a claim: m is the message as
	// ClaimMail returned it, whose ID, Attempts and LeasedUntil name the lease (every claim
	// counts an attempt, so no two claims of a message name the same lease). Each changes the
	// message only while that lease is still its current one, and ends it; a lease that ran
	// out but that no other worker has claimed since still counts. A report whose lease was
	// taken over (another worker claimed the message after it ran out) or was reported
	// already changes nothing, appends no event, and is an *Error with code ECONFLICT ("The
	// message is no longer leased to this worker."): the worker holding the message now
	// decides what became of it. An unknown m.ID is ENOTFOUND.
	//
	// MailSent records delivery; the body is erased unless keepBody (the development inbox).
	MailSent(ctx context.Context, m *Message, at time.Time, keepBody bool) error
	// MailFailed records a failed attempt and when to try again.
	MailFailed(ctx context.Context, m *Message, next time.Time, reason string) error
	// AbandonMail gives up on a message that can no longer help, erasing its body. An empty
	// reason keeps the last error.
	AbandonMail(ctx context.Context, m *Message, at time.Time, reason string) error
	// RecentMail lists the newest messages first (the development inbox).
	RecentMail(ctx context.Context, limit int) ([]*Message, error)
	// Stats counts what monitoring watches, read in one snapshot: see StoreStats.
	Stats(ctx context.Context) (StoreStats, error)

	// Users lists a site's users matching q, ordered by username, with their lockout state.
	Users(ctx context.Context, q UserQuery) ([]*User, error)
	// CreateUsers inserts all of us in one transaction (a bulk import), setting each ID; seat
	// checks count the batch's earlier rows. If any fails (a taken username, full seats, …)
	// none is written, and the error says which, by its index in us (an *Error whose Field is
	// "row N", counting from 1).
	CreateUsers(ctx context.Context, us []*User) error

	// UserBySubject finds an account by its OpenID Connect sub on a site.
	UserBySubject(ctx context.Context, site, subject string) (*User, error)

	// OpenID Connect clients. CreateClient inserts c (ECONFLICT when the site has that
	// client ID, or an application of that name, trimmed and in any case: field "name");
	// UpdateClient saves every field of c but its ID, site and CreatedAt (ENOTFOUND when
	// absent, ECONFLICT for another's name); DeleteClient removes it with its tokens. Each
	// appends the events ctx carries in its transaction.
	CreateClient(ctx context.Context, c *Client) error
	UpdateClient(ctx context.Context, c *Client) error
	DeleteClient(ctx context.Context, site, id string) error
	Client(ctx context.Context, site, id string) (*Client, error)
	// Clients lists a site's clients by name.
	Clients(ctx context.Context, site string) ([]*Client, error)

	// CreateAuthRequest stores a new authorization request.
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	// AuthRequest finds an authorization request by ID, whether or not it expired (the
	// caller decides, by its clock).
	AuthRequest(ctx context.Context, id string) (*AuthRequest, error)
	// CompleteAuthRequest records who signed in for the request (user, session, auth time,
	// AMR) at at, once: a request already done, expired at at, or whose session has ended is
	// ENOTFOUND and changes nothing. It also records that the session signed in to the client
	// (SessionClients), and appends the events ctx carries, in one transaction.
	CompleteAuthRequest(ctx context.Context, id string, userID, sessionID int64, authTime time.Time, amr []string, at time.Time) error
	// SaveAuthCode gives a done request the hash of its code, once (ECONFLICT if it has one).
	SaveAuthCode(ctx context.Context, id string, codeHash []byte) error
	// UseAuthCode redeems a code: the request whose code hash it is, done, unexpired at now and
	// never redeemed, is marked redeemed and returned. Of parallel uses exactly one succeeds.
	// A code redeemed before is a replay: the request is marked replayed, every token issued
	// from it (and their refresh families) is revoked with the events ctx carries, and the
	// answer is ECodeReplayed; a redemption appends none of them (they are the replay's
	// record). Any other code is ENOTFOUND.
	UseAuthCode(ctx context.Context, codeHash []byte, now time.Time) (*AuthRequest, error)

	// IssueTokens stores an access token and, when rt is not nil, a refresh token, and
	// appends the events ctx carries, in one transaction. It is refused with ENOTFOUND,
	// storing nothing, when the session at.SessionID has ended, at.AuthRequestID was replayed
	// or is not done, the request's session is not at.SessionID, or that session did not sign
	// in to at.ClientID: a token never outlives its session, and a replayed code gets nothing
	// more. A request no longer stored (swept after it expired) is not checked: refreshed
	// tokens outlive their request.
	IssueTokens(ctx context.Context, at *AccessToken, rt *RefreshToken) error
	// RefreshToken finds a refresh token by hash, rotated or not (ENOTFOUND when unknown).
	RefreshToken(ctx context.Context, hash []byte) (*RefreshToken, error)
	// RotateRefreshToken uses the refresh token oldHash: it is marked rotated at now, next
	// (its family's new token) and at are stored, and the events ctx carries appended, in
	// one transaction. next and at take the old token's Family, Site, ClientID, UserID,
	// SessionID and AuthRequestID whatever they held. Of parallel uses of one token exactly one succeeds. A token already
	// rotated is reuse: its whole family (refresh and access tokens) is revoked and the answer
	// is ERefreshReused; a token unknown, expired at now or whose session ended is ENOTFOUND.
	// Neither of those appends ctx's events.
	RotateRefreshToken(ctx context.Context, oldHash []byte, now time.Time, next *RefreshToken, at *AccessToken) error
	// RevokeFamily removes every refresh and access token of a refresh family and appends the
	// events ctx carries, in one transaction; it reports whether there was anything.
	RevokeFamily(ctx context.Context, site, family string) (bool, error)
	// AccessToken finds an access token's record (ENOTFOUND when unknown or revoked; expiry is
	// the caller's to check).
	AccessToken(ctx context.Context, id string) (*AccessToken, error)
	// RevokeAccessToken removes one access token's record, appending ctx's events when there
	// was one; it reports whether there was.
	RevokeAccessToken(ctx context.Context, site, id string) (bool, error)
	// SessionClients lists, for each of the user's sessions that signed in to a client, the
	// clients (client IDs, in the order first signed in); other sessions have no entry.
	SessionClients(ctx context.Context, userID int64) (map[int64][]string, error)

	// Ending a session (DeleteSession with signOut, DeleteUserSessions, EndUserSession,
	// SetPassword, CompleteReset, SetDisabled, ResetSecondFactors, a single-session
	// CreateSession) revokes its tokens and queues, in the same transaction, one LogoutNotice
	// for each client with a back-channel logout URI that the session signed in to, made and
	// due at the method's time (for DeleteSession, which has none, the session's last use: by
	// the caller's clock and never after the sign-out, so due at once). A session that times out
	// (DeleteExpiredSessions, or DeleteSession without signOut) loses its tokens but queues
	// nothing: an application the user is still working in is not interrupted.

	// ClaimLogouts leases up to limit notices due at now (unsent, not abandoned, next attempt
	// reached, not leased by another worker) until now+lease and returns them, oldest first,
	// each with Attempts counting this claim and LeasedUntil the lease's end as stored.
	ClaimLogouts(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*LogoutNotice, error)
	// LogoutSent records delivery; LogoutFailed a failed attempt and when to try again, and
	// AbandonLogout gives up (an empty reason keeps the last error). They report the outcome
	// of a claim like MailSent: n is the notice as ClaimLogouts returned it, whose ID,
	// Attempts and LeasedUntil name the lease, and each changes the notice only while that
	// lease is its current one, and ends it. An outcome is final: a sent or abandoned notice
	// stays as it is. Each appends the events ctx carries when it changes the notice, and
	// nothing when it does not: a report whose lease was taken over by another worker, or was
	// reported already, is ECONFLICT ("The logout notice is no longer leased to this
	// worker."); an unknown n.ID is ENOTFOUND.
	LogoutSent(ctx context.Context, n *LogoutNotice, at time.Time) error
	LogoutFailed(ctx context.Context, n *LogoutNotice, next time.Time, reason string) error
	AbandonLogout(ctx context.Context, n *LogoutNotice, at time.Time, reason string) error
	// LogoutNotices lists the newest notices first (for tests and the operator).
	LogoutNotices(ctx context.Context, limit int) ([]*LogoutNotice, error)

	// SigningKeys lists a site's signing keys, oldest UseFrom first.
	SigningKeys(ctx context.Context, site string) ([]*SigningKey, error)
	// AddSigningKey stores k unless the site already has a key with UseFrom at or after
	// k.UseFrom (then it reports false and stores nothing): of several processes adding the
	// next key at once, one does. It appends ctx's events when it stores.
	AddSigningKey(ctx context.Context, k *SigningKey) (bool, error)
	// UseSigningKeyFrom moves the UseFrom of the site's key id (a rotation forced now).
	UseSigningKeyFrom(ctx context.Context, site, id string, from time.Time) error
	// DeleteSigningKeys removes the site's keys whose UseFrom is before before, except the
	// newest of them (it may still be the one signing).
	DeleteSigningKeys(ctx context.Context, site string, before time.Time) error

	// DeleteExpiredOIDC removes authorization requests expired before before, access tokens
	// and refresh tokens expired at now, and logout notices sent or abandoned before before.
	DeleteExpiredOIDC(ctx context.Context, now, before time.Time) error

	// DeleteRetained removes the rows of c.Site that c says no one needs any more (see
	// RetentionCutoffs) and counts them by kind. It never touches the audit log, the lockout
	// row of a username an account of the site has, a message not yet sent or abandoned, a
	// reset token still live, or a reminder that could still be due, and appends no events
	// (whatever ctx carries). Each kind is removed by statements that each stand alone (a
	// batch at a time, so a large first run does not hold up sign-ins), so several processes
	// may run it at once: each row is removed, and counted, once.
	DeleteRetained(ctx context.Context, c RetentionCutoffs) (RetentionCounts, error)

	// Form tokens (see FormToken); none of these appends events, whatever ctx carries.
	// IssueFormToken stores t, unused, and sets t.ID: ENOTFOUND when session t.SessionID has
	// ended, ECONFLICT for a hash in use. The token goes when its session does.
	IssueFormToken(ctx context.Context, t *FormToken) error
	// UseFormToken uses the token with this hash once: when it is sessionID's and purpose's,
	// unexpired at now and unused, it is marked used at now and returned with first true; of
	// parallel uses exactly one sees first. A token used already is returned as stored with
	// first false (its Result is "" until CompleteFormToken). Any other (unknown, expired,
	// another session's or purpose's) is ENOTFOUND.
	UseFormToken(ctx context.Context, hash []byte, sessionID int64, purpose string, now time.Time) (t *FormToken, first bool, err error)
	// CompleteFormToken records result, what the token's first use did, once: a token not
	// used, or whose result is recorded already, is left as it is.
	CompleteFormToken(ctx context.Context, hash []byte, result string) error
	// ReleaseFormToken gives back the use of a token whose use changed nothing (a refused
	// form): unused again, it may be sent again. One with a result recorded stays used.
	ReleaseFormToken(ctx context.Context, hash []byte) error

	// AppendEvents appends events that record no state change of their own (a failed sign-in,
	// after its attempt was counted), then any ctx carries, in one transaction.
	AppendEvents(ctx context.Context, evs ...*Event) error
	// Events lists audit events matching q, newest first (at most 1000 at a time).
	Events(ctx context.Context, q EventQuery) ([]*Event, error)
	// EachEvent calls fn for every event in the order they were appended (by ID), stopping at
	// the first error; for verifying and exporting the whole log.
	EachEvent(ctx context.Context, fn func(*Event) error) error
}

// StoreStats is what Store.Stats counts for monitoring.
type StoreStats struct {
	// MailQueued counts outbox messages neither sent nor abandoned; OldestQueued is when the
	// oldest of them was queued (zero when none is).
	MailQueued   int
	OldestQueued time.Time
	// AuditEvents is the audit log's length (its newest event's ID: IDs have no gaps).
	AuditEvents int64
}
