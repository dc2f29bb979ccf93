package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
	"github.com/hmisauth/hmisauth/config"
	"github.com/hmisauth/hmisauth/store/postgres"
	"github.com/hmisauth/hmisauth/store/sqlite"
)

// copied is what copy-data prints with --json.
type copied struct {
	Source string                 `json:"source"`
	Target string                 `json:"target"`
	Tables []postgres.CopiedTable `json:"tables"`
	Rows   int64                  `json:"rows"`
	Audit  audit.Report           `json:"audit"`
}

func newCopyDataCmd(g *globals) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "copy-data --to DATABASE_URL",
		Short: "Copy this installation's data into an empty PostgreSQL database",
		Long: `Copy this installation's data into an empty PostgreSQL database, for an installation that
outgrows SQLite: every row of every table (users, agencies, sessions, second factors, the
audit log, applications with their tokens and signing keys, queued e-mail …) is copied from
the SQLite database --config and --data name, then the copy's audit log is checked as
"hmisauth audit verify" checks it.

Stop the servers first. The copy is a snapshot of the moment it starts (consistent even while
a server runs), and nothing written after it is copied: sign-ins, sessions and audit events of
a server still running would be lost when you switch.

DATABASE_URL is postgres://user:password@host:port/database?sslmode=…, a new database with
nothing in it (copy-data creates the schema; it refuses a database that has any rows, and
leaves it as it was). Leave the password out of the URL and set PGPASSWORD, or use
~/.pgpass, to keep it out of the process list and the shell history.

Then:
  1. set database: in the configuration (or HMISAUTH_DATABASE) to the PostgreSQL URL;
  2. keep the same secret key (secret.key in the data folder, or secret_key) on every
     server: the copied authenticator apps and recovery codes work only with it;
  3. start the servers.
The SQLite database is left as it was: it is the way back until the servers have written to
PostgreSQL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if !strings.HasPrefix(to, "postgres://") && !strings.HasPrefix(to, "postgresql://") {
				return hmisauth.FieldError("to", "--to must be a PostgreSQL URL: postgres://user:password@host:port/database")
			}
			// The databases only, not the whole program (g.open): that would write to the
			// source (the configured sites), and nothing else of it is needed to copy.
			cfg, err := config.Load(g.config, g.data, g.environ)
			if err != nil {
				return err
			}
			path, ok := strings.CutPrefix(cfg.Database, "sqlite:")
			if !ok {
				return fmt.Errorf("copy-data copies from SQLite, and this installation's database is %s already", redactURL(cfg.Database))
			}
			// Opening a file that is not there would create it, and copy an empty database.
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("there is no database to copy at %s: give the --config and --data of the installation", path)
			}
			source, err := openStore(ctx, cfg.Database)
			if err != nil {
				return err
			}
			defer source.Close()
			target, err := openTarget(ctx, to)
			if err != nil {
				return err
			}
			defer target.Close()
			rep, err := target.CopyFrom(ctx, source.(*sqlite.Store))
			if err != nil {
				return targetError(to, err)
			}
			check, err := audit.Verify(ctx, target)
			if err != nil {
				return targetError(to, err)
			}
			if !check.OK {
				return brokenCopy(ctx, source, check)
			}
			out := copied{Source: cfg.Database, Target: redactURL(to), Tables: rep.Tables, Rows: rep.Rows(), Audit: check}
			return g.print(out, copiedText(out))
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the empty PostgreSQL database to copy into: postgres://user:password@host:port/database")
	cmd.MarkFlagRequired("to") //nolint:errcheck // the flag is defined just above
	return cmd
}

// openTarget connects to the PostgreSQL database at url and, unless it has rows already,
// creates the schema; CopyFrom checks again, in its transaction, that it is still empty.
func openTarget(ctx context.Context, url string) (*postgres.Store, error) {
	target, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	err = target.Empty(ctx)
	if err == nil {
		err = target.Migrate(ctx)
	}
	if err != nil {
		target.Close()
		return nil, targetError(url, err)
	}
	return target, nil
}

// targetError names the target database (without its password) in an error about it. An
// application error passes as it is (the target is not empty), but for "unavailable", whose
// message is written for a web user ("the sign-in service cannot reach its database"): the
// operator needs to know which database, and what the driver said.
func targetError(url string, err error) error {
	switch {
	case hmisauth.ErrorCode(err) == hmisauth.EUnavailable:
		// pgx lists each address it tried on a line of its own.
		return fmt.Errorf("cannot reach the target database %s: %s", redactURL(url), strings.Join(strings.Fields(cause(err).Error()), " "))
	case hmisauth.AsError(err) == nil:
		return fmt.Errorf("target database %s: %w", redactURL(url), err)
	}
	return err
}

// cause is the error under err that is not an application error: what the driver said.
func cause(err error) error {
	for {
		switch e := err.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if hmisauth.AsError(inner) == nil {
					return inner
				}
			}
			return err
		case interface{ Unwrap() error }:
			if e.Unwrap() == nil {
				return err
			}
			err = e.Unwrap()
		default:
			return err
		}
	}
}

// brokenCopy is the error for a copy whose audit log does not verify, saying whether the
// source's does, so the operator knows whether the copy or the original is at fault.
func brokenCopy(ctx context.Context, source hmisauth.Store, check audit.Report) error {
	msg := "The audit log copied to the target does not verify: " + check.Problem + "."
	if own, err := audit.Verify(ctx, source); err == nil && !own.OK {
		msg += " Neither does this installation's own (hmisauth audit verify): the copy is as the original."
	} else {
		msg += " This installation's own log verifies: do not switch to the copy."
	}
	return errors.New(msg)
}

// copiedText is the summary copy-data prints for a person.
func copiedText(c copied) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Copied %d rows in %d tables from %s to %s:\n", c.Rows, len(c.Tables), c.Source, c.Target)
	name, rows := 0, 0
	for _, t := range c.Tables {
		name, rows = max(name, len(t.Name)), max(rows, len(fmt.Sprint(t.Rows)))
	}
	for _, t := range c.Tables {
		fmt.Fprintf(&b, "  %-*s %*d\n", name, t.Name, rows, t.Rows)
	}
	events := "events"
	if c.Audit.Events == 1 {
		events = "event"
	}
	fmt.Fprintf(&b, "audit verify: ok, %d %s", c.Audit.Events, events)
	if c.Audit.Head != nil {
		fmt.Fprintf(&b, ", chain head %s", c.Audit.Head)
	}
	b.WriteString(".\nNext: point database: (or HMISAUTH_DATABASE) at the PostgreSQL database, keep the same secret key, and start the servers.\n")
	return b.String()
}
