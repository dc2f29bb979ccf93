// Package metrics exports what hmisauth counts to Prometheus, through client_golang: the
// hmisauth.Metrics counters, HTTP requests by route pattern, the password-hashing pool, the
// outbox and the audit log (read from the Store when scraped), and the Go runtime and process.
//
// Label values are site keys, route patterns, status codes and fixed words: never a
// username, an address or anything else a request chose, so a scrape reveals no one.
// It imports the root package and password/, never auth/ or web/.
package metrics
