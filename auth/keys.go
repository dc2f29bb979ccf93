package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// KeySize is the length of the server key in bytes.
const KeySize = 32

// sealVersion starts every sealed value, so a later key or cipher can be told apart.
const sealVersion = 1

// Keys protect what is stored but must stay secret from anyone holding only a copy of the
// database: they seal (encrypt and authenticate) authenticator-app secrets and passkey
// ceremony data, and key the hashes of recovery codes. Both keys derive from one server key
// (configuration secret_key, or the key file generated in the data folder). Losing it makes
// every authenticator app and recovery code unusable: the helpdesk then resets 2-step
// verification (docs/SECURITY.md).
type Keys struct {
	aead cipher.AEAD
	mac  []byte
}

// NewKeys derives the keys from a KeySize-byte server key.
func NewKeys(serverKey []byte) (*Keys, error) {
	if len(serverKey) != KeySize {
		return nil, fmt.Errorf("the server key must be %d bytes, not %d", KeySize, len(serverKey))
	}
	enc, err := hkdf.Key(sha256.New, serverKey, nil, "hmisauth seal v1", 32)
	if err != nil {
		return nil, err
	}
	mac, err := hkdf.Key(sha256.New, serverKey, nil, "hmisauth code hash v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keys{aead: aead, mac: mac}, nil
}

// NewServerKey returns a fresh random server key.
func NewServerKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

// errSealed is what opening anything not sealed by these keys for this purpose gives.
var errSealed = errors.New("sealed value does not open with the server key (wrong key, or not this record's)")

// Seal encrypts plain, binding it to purpose (e.g. "totp:42"): it opens only with the same
// keys and the same purpose, so a sealed value copied to another user's row is useless.
func (k *Keys) Seal(plain []byte, purpose string) []byte {
	nonce := make([]byte, k.aead.NonceSize(), 1+k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	rand.Read(nonce)
	out := append([]byte{sealVersion}, nonce...)
	return k.aead.Seal(out, nonce, plain, []byte(purpose))
}

// Open decrypts what Seal sealed for purpose.
func (k *Keys) Open(sealed []byte, purpose string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < 1+n+k.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errSealed
	}
	plain, err := k.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(purpose))
	if err != nil {
		return nil, errSealed
	}
	return plain, nil
}

// Hash is a keyed hash (HMAC-SHA-256) of data for purpose: how recovery codes are stored, so
// that a copy of the database alone cannot test guesses against them.
func (k *Keys) Hash(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)
}
