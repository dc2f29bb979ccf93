// Package demoapp is a demonstration relying party: a small "HMIS application" that signs
// its users in through one hmisauth site with OpenID Connect, the way the real HMIS
// application would, and shows who signed in. `hmisauth serve --demo-app HOST:PORT` runs it
// beside the server so a newcomer can see single sign-on work end to end.
//
// It is not part of the server's security boundary: nothing in hmisauth trusts it, and it
// holds its sessions in memory. It talks to hmisauth only over HTTP, like any application,
// through libraries hmisauth did not write (coreos/go-oidc and golang.org/x/oauth2): the
// authorization code flow with PKCE (S256), state and nonce, the ID token verified against
// the published keys, the userinfo endpoint, RP-initiated logout (end_session with
// id_token_hint) and back-channel logout (logout tokens checked with VerifyLogout).
//
// It must not import auth, store (or its backends), web, hmisauth's oidc or any other
// hmisauth package (demoapp_test checks): whatever it knows about the provider it learns
// from discovery, so it proves the contract rather than the code.
package demoapp
