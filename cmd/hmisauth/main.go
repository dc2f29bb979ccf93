// Command hmisauth is the sign-in and account-security server for HMIS deployments: one
// binary that serves (serve), administers (user, agency), audits (audit) and maintains
// (migrate) the data.
// This file and its siblings only parse the command line and wire the packages together.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/config"
	"github.com/hmisauth/hmisauth/mail"
	"github.com/hmisauth/hmisauth/metrics"
	"github.com/hmisauth/hmisauth/oidc"
	"github.com/hmisauth/hmisauth/password"
	"github.com/hmisauth/hmisauth/store/postgres"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

func main() {
	if err := newRootCmd(os.Stdout, os.Stderr, os.Environ()).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "hmisauth: "+oneLine(err))
		os.Exit(1)
	}
}

// globals are the flags every command takes.
type globals struct {
	config  string
	data    string
	json    bool
	serving bool // serve logs everything configured; other commands only warnings
	environ []string
	stdout  io.Writer
	stderr  io.Writer
}

func newRootCmd(stdout, stderr io.Writer, environ []string) *cobra.Command {
	g := &globals{environ: environ, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "hmisauth",
		Short:         "Sign-in and account security for HMIS sites",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.config, "config", "", "configuration file (YAML); without it, the built-in defaults")
	pf.StringVar(&g.data, "data", "./hmisauth-data", "data folder (the SQLite database and generated files)")
	pf.BoolVar(&g.json, "json", false, "print one JSON document on standard output")
	root.AddCommand(newServeCmd(g), newMigrateCmd(g), newUserCmd(g), newAgencyCmd(g), newAuditCmd(g), newReportCmd(g),
		newClientCmd(g), newOIDCCmd(g), newCopyDataCmd(g), newComplianceCmd(g))
	return root
}

// app is the wired program: configuration, store and rules.
type app struct {
	cfg    *config.Config
	store  hmisauth.Store
	svc    *auth.Service
	oidc   *oidc.Provider
	hasher *password.Hasher
	log    *slog.Logger
	// metrics counts for /metrics; nil unless serving. counts is it, or NoMetrics.
	metrics *metrics.Registry
	counts  hmisauth.Metrics
	// banner holds lines serve prints once it listens (the demo application's address).
	banner []string
	// wake is signalled when the rules queue reset requests or e-mail, so serve's background
	// work starts at once instead of at its next poll.
	wake chan struct{}
}

// open loads the configuration, opens and migrates the database and builds the rules service.
// Every command runs through it, so a CLI command run beside a server sees the same data.
func (g *globals) open(ctx context.Context) (*app, error) {
	cfg, err := config.Load(g.config, g.data, g.environ)
	if err != nil {
		return nil, err
	}
	logCfg := cfg.Log
	if !g.serving && logCfg.Level != "debug" {
		// A command's own output says what it did; routine log lines would only clutter the
		// terminal. Warnings and errors still show.
		logCfg.Level = "warn"
	}
	log := newLogger(g.stderr, logCfg)
	st, err := openStore(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	sites := make([]*hmisauth.Site, 0, len(cfg.SiteKeys))
	for _, k := range cfg.SiteKeys {
		sites = append(sites, cfg.Sites[k])
	}
	letters, err := mail.NewLetters(mail.LetterOptions{From: cfg.Mail.From, PublicURL: cfg.PublicURL})
	if err != nil {
		st.Close()
		return nil, err
	}
	key, err := serverKey(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	keys, err := auth.NewKeys(key)
	if err != nil {
		st.Close()
		return nil, err
	}
	a := &app{cfg: cfg, store: st, hasher: password.NewHasher(cfg.PasswordHash), log: log, wake: make(chan struct{}, 1)}
	a.counts = hmisauth.NoMetrics{}
	if g.serving {
		a.metrics = metrics.New(metrics.Deps{Store: st, Hasher: a.hasher, Sites: cfg.SiteKeys, Log: log})
		a.counts = a.metrics
	}
	a.svc = auth.NewService(auth.Deps{Store: st, Clock: hmisauth.SystemClock{}, Hasher: a.hasher, Keys: keys, Sites: sites,
		Letters: letters, PublicURL: cfg.PublicURL, Kick: a.kick, Log: log, Metrics: a.counts})
	if err := a.svc.SyncSites(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if g.serving {
		if err := a.svc.RecordPolicies(ctx); err != nil {
			st.Close()
			return nil, err
		}
	}
	a.oidc, err = oidc.New(oidc.Deps{Store: st, Auth: a.svc, Keys: keys, Clock: hmisauth.SystemClock{},
		PublicURL: cfg.PublicURL, KeyRotation: cfg.OIDC.KeyRotation, Log: log})
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// store is a Store that can bring its schema up to date.
type store interface {
	hmisauth.Store
	Migrate(ctx context.Context) error
}

// openStore opens the database the configuration names (sqlite:PATH or postgres://…) and
// brings its schema up to date.
func openStore(ctx context.Context, database string) (store, error) {
	var st store
	if path, ok := strings.CutPrefix(database, "sqlite:"); ok {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		s, err := sqlite.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
		st = s
	} else {
		s, err := postgres.Open(ctx, database)
		if err != nil {
			return nil, err
		}
		st = s
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate database %s: %w", redactURL(database), err)
	}
	return st, nil
}

// redactURL is a database setting fit for a message: a URL's password, given after the user
// name or as the password parameter, is replaced.
func redactURL(database string) string {
	if strings.HasPrefix(database, "sqlite:") {
		return database
	}
	u, err := url.Parse(database)
	if err != nil {
		return "(the configured database)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// print writes v as JSON with --json, else the human text. JSON keeps stored values as they
// are (its encoding escapes control characters); the text is for a terminal.
func (g *globals) print(v any, text string) error {
	if g.json {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := fmt.Fprint(g.stdout, terminalText(text))
	return err
}

// printable is a stored value as a terminal may show it: each rune hmisauth.IsUnprintable finds
// (and each byte that is not UTF-8) is written as an escape instead, ESC as \x1b, a line feed
// as \n, a bidirectional override as \u202e. Names are checked when they are typed, but rows
// written before that, or straight into the database, are not: an agency administrator's
// "\x1b[2J" must not clear the screen of the sysadmin who lists users, nor "\nusername: admin"
// print a line of its own. Every stored value put into human text goes through it.
func printable(s string) string {
	if _, bad := hmisauth.UnprintableRune(s); !bad {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && hmisauth.IsUnprintable(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case hmisauth.IsUnprintable(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// terminalText is the safety net under printable: a value someone forgot to pass through it
// still cannot reach the terminal raw, short of its line feeds, which the text's own lines need.
func terminalText(text string) string {
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		lines[i] = printable(line)
	}
	return strings.Join(lines, "\n")
}

// oneLine turns an error into the one-line reason the CONTRACT promises on stderr, with
// anything unprintable in it (a name from the database) escaped.
func oneLine(err error) string {
	msg := err.Error()
	if e := hmisauth.AsError(err); e != nil {
		msg = e.Message
	}
	return printable(strings.ReplaceAll(strings.TrimSpace(msg), "\n", "; "))
}

// withApp adapts a command that needs the wired program: it opens the configuration and data,
// runs the command and closes the database again.
func (g *globals) withApp(run func(cmd *cobra.Command, a *app, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a, err := g.open(cmd.Context())
		if err != nil {
			return err
		}
		defer a.store.Close()
		// What a command changes is audited as done from the command line, by whoever ran it.
		cmd.SetContext(auth.WithActor(cmd.Context(), auth.Actor{Username: "cli:" + operator()}))
		return run(cmd, a, args)
	}
}

// kick wakes serve's background work; it never blocks, and a command without a server just
// leaves the request for the next one to start.
func (a *app) kick() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// operator names who runs a command, for the audit log: the operating-system user.
func operator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if name := os.Getenv("USER"); name != "" {
		return name
	}
	return "unknown"
}
