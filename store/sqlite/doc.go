// Package sqlite is hmisauth's Store on SQLite: one database file holding sites, agencies,
// users, their lockout state, password history, sessions and why they ended, second factors
// (authenticator apps, recovery codes, passkeys), remembered devices, sign-ins waiting for
// their second step, password-reset tokens, rate-limit windows, the e-mail outbox, the
// OpenID Connect provider's clients, authorization requests, tokens, back-channel logout
// notices and signing keys, and the hash-chained audit log, with its schema migrations
// embedded (migrations/*.sql, applied by goose).
//
// It is the default backend for a single server. The file may be opened by several processes
// at once — the server and a CLI command run by an operator — so every write is one statement
// or one BEGIN IMMEDIATE transaction on a single writer connection, and waits on the database
// lock (busy_timeout) rather than failing. Audit events a write's context carries are appended
// in its transaction (a single-statement write gets one only when it carries events), under
// that lock, so the chain never forks between processes.
//
// It implements the rules' storage only: it must not import auth/ or web/, and it makes no
// policy decisions beyond what hmisauth.Store documents.
package sqlite
