// Package sqlstore is what both SQL stores, store/sqlite and store/postgres, share: the
// errors the hmisauth.Store contract names (no such user, a replayed code, a reused refresh
// token …), the encodings of values both schemas store alike (lists as JSON arrays, "none" as
// NULL, name keys, the time the Store stamps itself), the checks on what a write is given
// (tokens, users, a session's end), and the checks and stamping of audit events before a
// backend appends them. One copy here instead of one per backend keeps the two answering alike.
//
// It holds no SQL: each backend keeps its statements, its transactions and the encodings that
// differ by database (times, dates), so "which SQL runs" is still answered by the backend's
// own package. It must not import a database driver, auth/ or web/.
package sqlstore
