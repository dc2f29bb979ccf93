// Package auth holds hmisauth's rules: sign-in and lockout, temporary passwords, required
// actions (terms, password change), sessions, and the account administration the helpdesk
// does, with the login doctor that explains why someone cannot sign in.
//
// It works through the root package's interfaces (hmisauth.Store, hmisauth.Clock) and the
// password package (hashing and policy). It must not import store/, web/, config/ or
// cmd/: the web layer and the CLI call it, and every storage backend serves it alike.
package auth
