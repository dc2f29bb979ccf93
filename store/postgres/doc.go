// Package postgres is hmisauth's Store on PostgreSQL, for installations that run several
// server processes behind a load balancer on one database: the same tables as the SQLite
// store (migrations/*.sql, applied by goose under an advisory lock so processes starting
// together migrate once), through pgx's connection pool.
//
// Every process shares every rule through the database, by construction:
//   - a failed sign-in is counted, and the account locked, by one INSERT … ON CONFLICT … DO
//     UPDATE … RETURNING at READ COMMITTED, which takes the row's lock, so parallel guesses
//     at any processes are counted exactly;
//   - single-use things (reset links, temporary passwords, 2-step codes and challenges,
//     authorization codes, refresh tokens) are spent by one guarded UPDATE or DELETE whose
//     WHERE only the first of parallel uses still matches;
//   - the outbox and the logout notices are claimed with FOR UPDATE SKIP LOCKED under a lease;
//   - a client address's rate-limit window is changed in a short transaction whose first
//     statement locks the window's row (ratelimit.go), so one address's attempts are counted
//     one at a time while other addresses' sign-ins do not wait for them;
//   - every other write is one transaction that first takes a transaction-scoped advisory
//     lock (writeLock), so transactions that read then write run one at a time as on SQLite,
//     and the audit chain is appended under it with id = head + 1 and a UNIQUE previous hash;
//   - serialization failures and deadlocks are retried a bounded number of times.
//
// A database that cannot be reached makes each method fail at once with
// hmisauth.EUnavailable (the pool reconnects by itself when it is back).
//
// It implements the rules' storage only: it must not import auth/ or web/, and it makes no
// policy decisions beyond what hmisauth.Store documents.
package postgres
