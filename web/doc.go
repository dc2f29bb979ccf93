// Package web is hmisauth over HTTP: the server-rendered pages case workers sign in with
// (/{site}/login, terms, password change, account) and the JSON API under
// /api/v1/sites/{site}, with the middleware every response passes through: security headers,
// cross-origin (CSRF) protection, session cookies, panic recovery and request logging.
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
