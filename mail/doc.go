// Package mail writes and delivers hmisauth's e-mails.
//
// Letters turns an hmisauth.Letter into a Message in the site's words, from the templates
// embedded from templates/ (text and HTML, one pair per kind, sharing one layout so that every
// message names its site, says how to reach the helpdesk and marks the training site). The
// step that changes an account queues that Message in the store's outbox in the same
// transaction; the Worker here then delivers it through a transport (dev, file or smtp) with
// retries and backoff, and abandons it only when it can no longer help.
//
// Every transport renders the same RFC 5322 bytes with go-mail, DKIM-signed with go-msgauth
// when a key is configured, so what the file transport writes is exactly what SMTP would send.
//
// This package depends on the root package's interfaces only: it must not import auth/, web/,
// store/ or config/ outside tests (cmd/hmisauth converts the configuration into Options).
package mail
