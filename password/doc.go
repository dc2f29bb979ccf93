// Package password holds everything hmisauth knows about passwords themselves, apart from any
// account: the site policy engine (which rules a new password breaks, worded for a case worker,
// and the rules listed before anyone types), the common-password blocklist, readable temporary
// passwords, and Argon2id hashing behind a bounded pool.
//
// The pool is why hashing lives behind a Hasher rather than a function: every Argon2id call
// holds MemoryKiB of memory for tens of milliseconds, so a flood of sign-ins must queue (and,
// past a short queue, be told "busy") instead of allocating without limit.
//
// It must not import store/, auth/ or web/: it knows nothing of users, sessions or requests.
// auth/ decides when to check, hash or verify; password/ only answers. It may import the root
// package for Error, Violation and PasswordPolicy.
package password
