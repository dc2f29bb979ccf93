// Package web is hmisauth over HTTP: the server-rendered pages case workers sign in with
// (/{site}/login, terms, password change, forgot password and the reset link, account,
// contact details and security question) and the JSON API under /api/v1/sites/{site}, with
// the middleware every response passes through: security headers, cross-origin (CSRF)
// protection, session cookies, panic recovery and request logging. With the "dev" mail
// transport it also serves the development inbox at /dev/mail (Options.DevInbox).
//
// A reset link's token travels only in the e-mailed address and then in the reset form's
// hidden field: no page links to it, no redirect carries it, and request logs omit query
// strings.
//
// Handlers are thin: they decode a form or JSON body, call the rules in auth/, and render a
// template or encode JSON. The wording people read lives in templates/ (and in the messages of
// the errors auth/ returns); Go here holds only the logic of which page to show. One table,
// in errors.go, maps hmisauth error codes to HTTP statuses.
//
// Pages need no JavaScript and allow none: the Content-Security-Policy forbids inline script
// and style, so every look lives in static/style.css.
//
// It must not import store/ or config/ (tests excepted): the command that wires the server
// passes in an auth.Service and plain Options, so every storage backend and configuration
// source serves the same pages.
package web
