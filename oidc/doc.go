// Package oidc makes every site an OpenID Connect provider, so the HMIS application and the
// lead agency's other applications sign their users in through hmisauth. It is built on
// zitadel/oidc's op package: this package implements op.Storage over the hmisauth Store,
// manages the clients (applications), the signing keys and back-channel logout, and leaves
// every sign-in rule to auth (the browser signs in on the site's own pages; a request is
// finished only for a session auth accepts).
//
// Each site is its own issuer, {public_url}/{site}: a code or token of one site is worthless
// on another (each site has its own encryption key, and every lookup checks the site).
//
// It must not import web: the web package mounts Provider's handlers and drives the sign-in
// step (Continue) between the authorization request and the code.
package oidc
