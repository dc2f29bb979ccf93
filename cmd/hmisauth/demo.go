package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/demoapp"
	"github.com/hmisauth/hmisauth/oidc"
)

// The demo application (serve --demo-app): a relying party registered on the live site (or
// the first) under a fixed client ID, with its secret kept in the data folder so that a
// restart finds it registered as before.
const (
	demoClientID   = "demo-hmis"
	demoSecretFile = "demo-app.secret"
)

// startDemo registers the demo application and serves it on addr beside the server, until
// the returned stop is called. With addr "" it does nothing. It refuses before registering
// anything where the demo would not be this machine's alone.
func (a *app) startDemo(ctx context.Context, g *globals, addr string) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	if err := demoExposed(addr, a.cfg.PublicURL); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--demo-app %s: %w", addr, err)
	}
	host, _, _ := net.SplitHostPort(addr)
	_, port, _ := net.SplitHostPort(ln.Addr().String()) // port 0 picks a free one
	base := "http://" + net.JoinHostPort(host, port)
	secret, err := demoSecret(filepath.Join(a.cfg.DataDir, demoSecretFile))
	if err != nil {
		ln.Close()
		return nil, err
	}
	site := a.cfg.SiteKeys[0]
	if slices.Contains(a.cfg.SiteKeys, "live") {
		site = "live"
	}
	spec := oidc.ClientSpec{Name: "Demo HMIS app", HomeURL: base + "/", RedirectURIs: []string{base + "/callback"},
		PostLogoutRedirectURIs: []string{base + "/"}, BackchannelLogoutURI: base + "/backchannel",
		Scopes: []string{"openid", "profile", "email", "phone", oidc.ScopeHMIS}}
	actx := auth.WithActor(ctx, auth.Actor{Username: "serve --demo-app"})
	if _, err := a.oidc.EnsureClient(actx, site, demoClientID, spec, secret); err != nil {
		ln.Close()
		return nil, fmt.Errorf("--demo-app: register the demo application on %s: %w", site, err)
	}
	name := a.cfg.Sites[site].Name
	srv := &http.Server{
		Handler: demoapp.New(demoapp.Options{Issuer: a.cfg.PublicURL + "/" + site, SiteName: name,
			ClientID: demoClientID, ClientSecret: secret, BaseURL: base, Log: a.log}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("demo app", "err", err)
		}
	}()
	// Printed with the server's own lines, once it listens.
	a.banner = append(a.banner, fmt.Sprintf("Demo HMIS app: %s/ (signs in through %s)\n", base, name))
	return func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
		<-done
	}, nil
}

// demoExposed refuses the demo application where it would not be this machine's alone: its
// client ID is known to everyone and its secret sits in the data folder, so it must never
// be registered on a server people use (public_url https), nor listen beyond loopback.
func demoExposed(addr, publicURL string) error {
	if u, err := url.Parse(publicURL); err == nil && strings.EqualFold(u.Scheme, "https") {
		return fmt.Errorf("--demo-app is for trying hmisauth on this machine: refused with public_url %s, "+
			"where a demo application must not be registered; start serve without --demo-app", publicURL)
	}
	if host, port, err := net.SplitHostPort(addr); err != nil || port == "" || !loopback(host) {
		return fmt.Errorf("--demo-app %s: the demo application listens only on this machine: give a loopback HOST:PORT "+
			"like localhost:8090", addr)
	}
	return nil
}

// demoSecret reads the demo application's client secret, or makes it on first start (0600,
// written whole or not at all).
func demoSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := writeSecret(path, rand.Text()+rand.Text()); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("--demo-app: make %s: %w", path, err)
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("--demo-app: %w", err)
	}
	secret := strings.TrimSpace(string(b))
	if len(secret) < 16 {
		return "", fmt.Errorf("--demo-app: %s holds no usable secret: delete it and start again to make a new one", path)
	}
	return secret, nil
}

// writeSecret writes a temporary file and links it into place; fs.ErrExist means another
// process made it first.
func writeSecret(path, secret string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".demo-app-*.secret")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = fmt.Fprintln(f, secret) // CreateTemp made the file 0600
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(f.Name(), path)
}
