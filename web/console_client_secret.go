package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/hmisauth/hmisauth"
)

// An application's new secret, shown once (console_clients.go adds and rotates). The POST that
// made it hands the secret to its page in a short-lived cookie, encrypted with a key derived
// from the session token: it opens only in the session that made it, on any server process,
// and the page clears it, so a reload finds nothing to show.

// consoleClientSecret is the page that shows a new secret, once: it takes the secret from the
// cookie the add or rotation left and clears it, so the page shows it no more.
func (s *Server) consoleClientSecret(w http.ResponseWriter, r *http.Request) {
	a := s.appsAdmin(w, r, false)
	if a == nil {
		return
	}
	c, err := s.clientOf(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	v, err := s.clientPage(r, a, c, nil, "admin_client_secret")
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	v.Client.Secret = s.pickUpSecret(w, r, a.Site(), c.ID)
	w.Header().Set("Cache-Control", "no-store")
	s.consoleRender(w, r, http.StatusOK, "admin_client_secret", v)
}

// secretCookie (see siteCookie) carries a new secret from the POST that made it to the page
// that shows it, for at most secretHandOver.
const (
	secretCookie   = "_secret"
	secretHandOver = 2 * time.Minute
)

// secretAEAD is the cipher of the secret cookie: its key comes from the session token, which
// only this browser and the server know.
func secretAEAD(sessionToken string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(sessionToken), nil, "hmisauth console client secret v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// handOverSecret leaves the secret for the application's one-time page and goes there.
func (s *Server) handOverSecret(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, id, secret string) {
	aead, err := secretAEAD(s.cookieToken(r, site))
	if err != nil {
		s.internalError(w, r)
		return
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, []byte(secret), []byte(site.Key+"\x00"+id))
	s.setCookie(w, site, secretCookie, base64.RawURLEncoding.EncodeToString(sealed), s.clock.Now().Add(secretHandOver))
	redirect(w, r, clientPath(site, id)+"/secret")
}

// pickUpSecret takes the secret handed over for the application id, clearing the cookie; ""
// when there is none (shown already), or it is another session's or application's (left for
// that application's page).
func (s *Server) pickUpSecret(w http.ResponseWriter, r *http.Request, site *hmisauth.Site, id string) string {
	raw := s.cookieValue(r, site, secretCookie)
	if raw == "" {
		return ""
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	aead, aerr := secretAEAD(s.cookieToken(r, site))
	if err != nil || aerr != nil || len(sealed) < aead.NonceSize() {
		s.clearCookie(w, site, secretCookie)
		return ""
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(site.Key+"\x00"+id))
	if err != nil {
		return ""
	}
	s.clearCookie(w, site, secretCookie)
	return string(plain)
}
