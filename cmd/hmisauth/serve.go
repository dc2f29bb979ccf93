package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/mail"
	"github.com/hmisauth/hmisauth/web"
)

func newServeCmd(g *globals) *cobra.Command {
	var listen, demoAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (default 127.0.0.1:8080)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			g.serving = true
			if listen != "" {
				// As an override of the configuration, so public_url follows the port and
				// the value is checked like any other.
				g.environ = append(g.environ, "HMISAUTH_LISTEN="+listen)
			}
			a, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer a.store.Close()
			// Before anything is created or opened to the network.
			if err := devInboxExposed(a.cfg.Mail.Transport, a.cfg.Listen, a.cfg.PublicURL); err != nil {
				return err
			}
			if err := a.syncClients(ctx); err != nil {
				return err
			}
			stopDemo, err := a.startDemo(ctx, g, demoAddr)
			if err != nil {
				return err
			}
			defer stopDemo()
			return a.serve(ctx, g)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "HOST:PORT to listen on (overrides the configuration)")
	cmd.Flags().StringVar(&demoAddr, "demo-app", "", "also serve a demo application that signs in through the live site, on this loopback HOST:PORT")
	return cmd
}

// memoryHeadroom is what the server needs besides the hashing buffers: HTTP, SQLite's page
// cache, templates, sessions in flight. Collection is cheap here: the big buffers hold no
// pointers to scan.
const memoryHeadroom = 32 << 20

func (a *app) serve(ctx context.Context, g *globals) error {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		// The pool's Argon2id buffers stay allocated for the life of the process, so Go's
		// default pacing (collect when the heap doubles) would let other garbage grow to their
		// size again. A soft limit of buffers + headroom keeps a 2-core server near 75 MiB
		// under any sign-in load; GOMEMLIMIT in the environment overrides it.
		debug.SetMemoryLimit(a.hasher.MemoryBytes() + memoryHeadroom)
	}
	// The OpenID Connect library logs through the default logger: let it be ours.
	slog.SetDefault(a.log)
	if err := a.announceAdministrators(ctx, g); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Listen, err)
	}
	opts := web.Options{
		Secure:         a.cfg.Secure(),
		Log:            a.log,
		Ready:          a.store.Ping,
		DevInbox:       a.devInbox(),
		OIDC:           a.oidc,
		PublicURL:      a.cfg.PublicURL,
		ObserveRequest: a.metrics.Request,
		TrustedProxies: a.cfg.TrustedProxyPrefixes(),
	}
	if a.cfg.MetricsToken != "" {
		opts.Metrics = a.metrics.Handler(a.cfg.MetricsToken)
	}
	srv := &http.Server{
		Handler:           web.New(a.svc, opts).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	mailer, err := mail.NewMailer(mailOptions(a.cfg.Mail))
	if err != nil {
		return err
	}
	outbox := mail.NewWorker(a.store, mailer, hmisauth.SystemClock{}, a.log,
		mail.WorkerOptions{KeepBody: a.cfg.Mail.Transport == "dev", OnAbandon: a.auditAbandoned, Metrics: a.counts})
	stopMetrics, err := a.serveMetrics()
	if err != nil {
		return err
	}
	defer stopMetrics()
	if err := a.oidc.EnsureKeys(ctx); err != nil {
		return err
	}
	// The background stops, and is waited for, before serve returns and the store is closed,
	// also when serving fails.
	background, stopBackground := context.WithCancel(ctx)
	waitBackground := a.startBackground(background, outbox)
	defer func() {
		stopBackground()
		waitBackground()
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("serving", "listen", ln.Addr().String(), "public_url", a.cfg.PublicURL, "sites", a.cfg.SiteKeys)
	fmt.Fprintf(g.stdout, "hmisauth is running. Open %s/ in your browser (Ctrl-C stops it).\n", a.cfg.PublicURL)
	if a.cfg.Mail.Transport == "dev" {
		fmt.Fprintf(g.stdout, "E-mails are not sent in this mode: read them at %s/dev/mail\n", a.cfg.PublicURL)
	}
	for _, line := range a.banner {
		fmt.Fprint(g.stdout, line)
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	a.log.Info("stopped")
	return nil
}

// devInboxExposed refuses to serve the development inbox beyond this machine. With the dev
// transport, /dev/mail shows every e-mail, reset links included, to whoever opens it: fine on
// a laptop, a takeover of any account once others can reach it. They can when public_url is
// https (users are sent there) or the server listens on anything but a loopback address. The
// check is here and not in the configuration's validation because only serve serves the page:
// the other commands run as before on the same configuration.
func devInboxExposed(transport, listen, publicURL string) error {
	if transport != "dev" {
		return nil
	}
	const why = "mail.transport is dev, which shows every e-mail (reset links included) at /dev/mail to anyone: " +
		"set mail.transport to smtp or file before "
	if u, err := url.Parse(publicURL); err == nil && strings.EqualFold(u.Scheme, "https") {
		return errors.New(why + "serving public_url " + publicURL)
	}
	if host, _, err := net.SplitHostPort(listen); err != nil || !loopback(host) {
		return errors.New(why + "listening on " + listen)
	}
	return nil
}

// loopback reports whether a listen address's host is reachable from this machine only:
// localhost, 127.0.0.0/8 or ::1. An empty host (":8080") is every interface.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// announceAdministrators creates each site's first system administrator on first start and
// prints the temporary password once, on standard output (never in the log).
func (a *app) announceAdministrators(ctx context.Context, g *globals) error {
	for _, key := range a.cfg.SiteKeys {
		c, err := a.svc.EnsureAdministrator(ctx, key)
		if err != nil {
			return err
		}
		if c == nil {
			continue
		}
		site := a.cfg.Sites[key]
		fmt.Fprintf(g.stdout, "\nFirst administrator for %s (%s/%s/login):\n  username:           %s\n  temporary password: %s\n"+
			"  It works once, within %s; you will choose your own password.\n"+
			"  Lost it? From this folder, run: %s\n",
			site.Name, a.cfg.PublicURL, key, c.User.Username, c.TemporaryPassword,
			humanDuration(site.Policy.TemporaryPasswordTTL),
			g.commandLine("user temp-password", "--site", key, c.User.Username))
	}
	return nil
}

// commandLine is the command of this program named by command ("user temp-password") with
// args, written so that it works as printed from the folder the server was started in: this
// very binary, with the --config and --data it was given (a bare "hmisauth" may not be
// installed, and without --data another folder's database would answer).
func (g *globals) commandLine(command string, args ...string) string {
	exe, err := os.Executable()
	if err != nil {
		exe = "hmisauth"
	}
	wd, _ := os.Getwd()
	words := strings.Fields(command)
	if g.config != "" {
		words = append(words, "--config", g.config)
	}
	words = append(words, "--data", g.data)
	line := programPath(exe, wd)
	for _, w := range append(words, args...) {
		line += " " + shellQuote(w)
	}
	return line
}

// programPath is how to start the binary at exe from the folder wd: relative, as ./bin/hmisauth,
// when it is inside wd (`make run`); `go run ./cmd/hmisauth` when go run built it in a
// temporary folder that is removed when it exits; otherwise its full path.
func programPath(exe, wd string) string {
	if dir := filepath.Dir(exe); filepath.Base(dir) == "exe" && strings.HasPrefix(filepath.Base(filepath.Dir(filepath.Dir(dir))), "go-build") {
		return "go run ./cmd/hmisauth"
	}
	if wd != "" {
		if rel, err := filepath.Rel(wd, exe); err == nil && filepath.IsLocal(rel) {
			return shellQuote("./" + filepath.ToSlash(rel))
		}
	}
	return shellQuote(exe)
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(w string) string {
	if w != "" && strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@+,") == "" {
		return w
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

func newMigrateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Bring the database schema up to date (serve does it too)",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app, _ []string) error {
			return g.print(map[string]any{"migrated": true, "database": redactURL(a.cfg.Database)}, "The database is up to date.\n")
		}),
	}
}

// humanDuration says 72h as "72 hours" and 90m as "90 minutes" for people reading the terminal.
func humanDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

// auditAbandoned records an e-mail the outbox gave up on: the helpdesk may need to know that
// a reset link never reached someone.
func (a *app) auditAbandoned(ctx context.Context, m *hmisauth.Message, reason string) {
	err := a.store.AppendEvents(ctx, &hmisauth.Event{Site: m.Site, At: time.Now(), Actor: "system",
		Subject: m.To, Action: hmisauth.EventMailAbandoned, Detail: m.Kind + " e-mail not delivered: " + reason})
	if err != nil {
		a.log.Error("audit log append failed", "err", err, "action", hmisauth.EventMailAbandoned)
	}
}
