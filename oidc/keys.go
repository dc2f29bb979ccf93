package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hmisauth/hmisauth"
)

// Signing keys. Each site has a current key that signs, the next key (published long before
// it signs, so no client ever meets an unknown kid) and, for KeyGrace after a rotation, the
// previous one (tokens it signed still verify). Keys are RSA 2048 (RS256, which every client
// library accepts), generated here, and stored sealed with the server key, so every server
// process on the database signs with the same key.

// KeyGrace is how long a replaced key stays published: longer than any token it signed lives.
const KeyGrace = 7 * 24 * time.Hour

// keyCacheFor is how long a process trusts its list of a site's keys before reading it
// again: a rotation made by another process (or the command line) is seen within it, and the
// next key was published long before, so clients never meet a kid they cannot find.
const keyCacheFor = 30 * time.Second

const rsaBits = 2048

// keyring reads, caches, makes and rotates the sites' signing keys.
type keyring struct {
	p *Provider

	mu     sync.Mutex
	sites  map[string]*siteKeys
	parsed map[string]*rsa.PrivateKey // by site/kid; keys never change once made
}

// siteKeys is a site's key list as read at readAt.
type siteKeys struct {
	keys   []*hmisauth.SigningKey
	readAt time.Time
}

func newKeyring(p *Provider) *keyring {
	return &keyring{p: p, sites: map[string]*siteKeys{}, parsed: map[string]*rsa.PrivateKey{}}
}

// list returns the site's keys, from the cache when fresh.
func (k *keyring) list(ctx context.Context, site string) ([]*hmisauth.SigningKey, error) {
	now := time.Now()
	k.mu.Lock()
	c := k.sites[site]
	k.mu.Unlock()
	if c != nil && now.Sub(c.readAt) < keyCacheFor {
		return c.keys, nil
	}
	keys, err := k.p.store.SigningKeys(ctx, site)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.sites[site] = &siteKeys{keys: keys, readAt: now}
	k.mu.Unlock()
	return keys, nil
}

// forget drops the cached list, after this process changed the keys.
func (k *keyring) forget(site string) {
	k.mu.Lock()
	delete(k.sites, site)
	k.mu.Unlock()
}

// ensure makes sure the site has a signing key for now and a next key, makes what is missing,
// and retires keys replaced more than KeyGrace ago. Several processes may run it at once:
// the store adds a key with a given UseFrom once.
func (k *keyring) ensure(ctx context.Context, site string) error {
	now := k.p.clock.Now()
	keys, err := k.p.store.SigningKeys(ctx, site)
	if err != nil {
		return err
	}
	current := signingKeyAt(keys, now)
	if current == nil {
		// The site's first key. Another server starting on the same database may be adding
		// its own at this moment, and the store keeps only the later of the two: dated a
		// little in the past, whichever is kept is already in use for both.
		from := now.Add(-firstKeyBackdate)
		if _, err := k.add(ctx, site, from); err != nil {
			return err
		}
		current = &hmisauth.SigningKey{UseFrom: from}
	}
	if next := nextKeyAfter(keys, now); next == nil {
		from := current.UseFrom.Add(k.p.rotation)
		if !from.After(now) {
			from = now.Add(k.p.rotation)
		}
		if _, err := k.add(ctx, site, from); err != nil {
			return err
		}
	}
	if err := k.p.store.DeleteSigningKeys(ctx, site, now.Add(-KeyGrace)); err != nil {
		return err
	}
	k.forget(site)
	// The current key must open with this server's key, or nothing could be signed.
	keys, err = k.p.store.SigningKeys(ctx, site)
	if err != nil {
		return err
	}
	_, err = k.private(signingKeyAt(keys, k.p.clock.Now()))
	return err
}

// firstKeyBackdate is how far before its making a site's first signing key is dated: more
// than two servers starting together take between reading the keys and adding one, or
// their clocks differ by.
const firstKeyBackdate = time.Minute

// add makes a new RSA key that signs from from, sealed with the server key.
func (k *keyring) add(ctx context.Context, site string, from time.Time) (bool, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return false, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return false, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return false, err
	}
	id := make([]byte, 12)
	rand.Read(id)
	key := &hmisauth.SigningKey{ID: base64.RawURLEncoding.EncodeToString(id), Site: site, Algorithm: string(jose.RS256),
		Public: pub, UseFrom: from, CreatedAt: k.p.clock.Now()}
	key.Private = k.p.keys.Seal(der, sealPurpose(key))
	return k.p.store.AddSigningKey(ctx, key)
}

func sealPurpose(key *hmisauth.SigningKey) string {
	return "oidc signing key:" + key.Site + ":" + key.ID
}

// rotate starts using the site's next key now (hmisauth oidc rotate-keys) and makes a new
// next key, so the one that now signs was published before, and returns the new kid.
func (k *keyring) rotate(ctx context.Context, site string) (string, error) {
	if err := k.ensure(ctx, site); err != nil {
		return "", err
	}
	now := k.p.clock.Now()
	keys, err := k.p.store.SigningKeys(ctx, site)
	if err != nil {
		return "", err
	}
	next := nextKeyAfter(keys, now)
	if next == nil {
		return "", errors.New("no next signing key to rotate to")
	}
	if err := k.p.store.UseSigningKeyFrom(ctx, site, next.ID, now); err != nil {
		return "", err
	}
	if _, err := k.add(ctx, site, now.Add(k.p.rotation)); err != nil {
		return "", err
	}
	k.forget(site)
	return next.ID, nil
}

// signingKeyAt is the key that signs at now: the newest whose UseFrom has come.
func signingKeyAt(keys []*hmisauth.SigningKey, now time.Time) *hmisauth.SigningKey {
	var cur *hmisauth.SigningKey
	for _, key := range keys {
		if !key.UseFrom.After(now) && (cur == nil || key.UseFrom.After(cur.UseFrom)) {
			cur = key
		}
	}
	return cur
}

// nextKeyAfter is the key that will sign next: the earliest whose UseFrom is still to come.
func nextKeyAfter(keys []*hmisauth.SigningKey, now time.Time) *hmisauth.SigningKey {
	var next *hmisauth.SigningKey
	for _, key := range keys {
		if key.UseFrom.After(now) && (next == nil || key.UseFrom.Before(next.UseFrom)) {
			next = key
		}
	}
	return next
}

// private opens and parses a key's private half, once per process.
func (k *keyring) private(key *hmisauth.SigningKey) (*rsa.PrivateKey, error) {
	if key == nil {
		return nil, errors.New("the site has no signing key yet")
	}
	id := key.Site + "/" + key.ID
	k.mu.Lock()
	priv := k.parsed[id]
	k.mu.Unlock()
	if priv != nil {
		return priv, nil
	}
	der, err := k.p.keys.Open(key.Private, sealPurpose(key))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", key.ID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", key.ID, err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is not an RSA key", key.ID)
	}
	k.mu.Lock()
	k.parsed[id] = priv
	k.mu.Unlock()
	return priv, nil
}

// signingKey is the site's key that signs now, for the library.
func (k *keyring) signingKey(ctx context.Context, site string) (op.SigningKey, error) {
	keys, err := k.list(ctx, site)
	if err != nil {
		return nil, err
	}
	key := signingKeyAt(keys, k.p.clock.Now())
	if key == nil {
		// A fresh installation, or the list read before another process made the key.
		if err := k.ensure(ctx, site); err != nil {
			return nil, err
		}
		if keys, err = k.list(ctx, site); err != nil {
			return nil, err
		}
		key = signingKeyAt(keys, k.p.clock.Now())
	}
	priv, err := k.private(key)
	if err != nil {
		return nil, err
	}
	return &rsaSigningKey{id: key.ID, priv: priv}, nil
}

// keySet is every key the site publishes: previous, current and next.
func (k *keyring) keySet(ctx context.Context, site string) ([]op.Key, error) {
	keys, err := k.list(ctx, site)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, 0, len(keys))
	for _, key := range keys {
		pub, err := x509.ParsePKIXPublicKey(key.Public)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", key.ID, err)
		}
		rsaPub, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("signing key %s is not an RSA key", key.ID)
		}
		out = append(out, &rsaPublicKey{id: key.ID, pub: rsaPub})
	}
	return out, nil
}

// rsaSigningKey is op.SigningKey.
type rsaSigningKey struct {
	id   string
	priv *rsa.PrivateKey
}

func (k *rsaSigningKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *rsaSigningKey) Key() any                                    { return k.priv }
func (k *rsaSigningKey) ID() string                                  { return k.id }

// rsaPublicKey is op.Key: a published public key.
type rsaPublicKey struct {
	id  string
	pub *rsa.PublicKey
}

func (k *rsaPublicKey) ID() string                         { return k.id }
func (k *rsaPublicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *rsaPublicKey) Use() string                        { return "sig" }
func (k *rsaPublicKey) Key() any                           { return k.pub }
