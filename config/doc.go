// Package config reads hmisauth's configuration: a YAML file, then HMISAUTH_… environment
// variables, over built-in defaults, validated as a whole so that an operator sees every
// mistake at once, each naming its key (docs/CONFIG.md is the reference).
//
// It produces the root package's Site and Policy values and plain settings for the other
// packages; it must not import them (store, mail, web, auth), so that they can all be wired from
// one Config in cmd/hmisauth without cycles.
package config
