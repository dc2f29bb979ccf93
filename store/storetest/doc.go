// Package storetest is the one conformance suite every hmisauth.Store backend must pass, so
// the rules in auth/ can rely on the Store's documented semantics whichever database is
// underneath. A backend's test calls Run with a function that makes an empty, migrated store.
//
// It covers every Store method, its edge cases, and the concurrency cases the design depends
// on (parallel wrong passwords, single-use temporary passwords and reset links, username and
// seat races, rate limits, outbox claims, once-only expiry warnings, single-use authenticator
// codes, recovery codes and sign-in challenges, the audit chain under parallel writes, and for
// OpenID Connect: single-use authorization codes whose replay revokes what they gave, refresh
// tokens rotated once with reuse revoking the family, back-channel logout claims, the next
// signing key added once), using real goroutines. The Parallel* functions run those cases over
// several Store values on one database, for a backend to show two processes agree.
// It must not import a backend, auth/ or web/.
package storetest
