package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
)

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Check and export the tamper-evident audit log"}
	cmd.AddCommand(newAuditVerifyCmd(g), newAuditExportCmd(g))
	return cmd
}

func newAuditVerifyCmd(g *globals) *cobra.Command {
	var anchors []string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain; exits non-zero, naming the event, if one was changed, deleted or moved",
		Long: `Check the audit log's hash chain; exits non-zero, naming the event, if one was changed,
deleted or moved.

The chain cannot show that its newest events were deleted, or that it was rewritten from some
event on. To catch that, keep the "newest event" line an intact run prints somewhere the
database's users cannot write, and pass it to later runs with --anchor.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app, _ []string) error {
			var as []audit.Anchor
			for _, s := range anchors {
				an, err := audit.ParseAnchor(s)
				if err != nil {
					return hmisauth.FieldError("anchor", err.Error())
				}
				as = append(as, an)
			}
			r, err := audit.Verify(cmd.Context(), a.store, as...)
			if err != nil {
				return err
			}
			if !r.OK {
				if g.json {
					if err := g.print(r, ""); err != nil {
						return err
					}
				}
				return fmt.Errorf("The audit log is broken: %s", r.Problem)
			}
			text := fmt.Sprintf("The audit log is intact: %d events.\n", r.Events)
			if r.Events == 1 {
				text = "The audit log is intact: 1 event.\n"
			}
			if r.Head != nil {
				text += fmt.Sprintf("Newest event: %s\n(record it elsewhere; a later `hmisauth audit verify --anchor %s` "+
					"fails if it or any event before it is deleted or changed)\n", r.Head, r.Head)
			}
			return g.print(r, text)
		}),
	}
	cmd.Flags().StringArrayVar(&anchors, "anchor", nil,
		"ID:HASH of an event from an earlier verify's \"newest event\" (repeatable): fail if it is gone or differs")
	return cmd
}

func newAuditExportCmd(g *globals) *cobra.Command {
	var format, since, site string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the audit log to standard output as CSV or JSON, oldest first",
		Long: `Write the audit log to standard output as CSV or JSON, oldest first.

CSV has the columns id,time,site,actor,subject,action,client_addr,detail,hash; a text cell a
spreadsheet would run as a formula gets a leading apostrophe. JSON is one array with one event
per line, also holding each event's prev_hash, so every event can be checked on its own.
Times are RFC 3339 in UTC, to the microsecond.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app, _ []string) error {
			if g.json {
				if cmd.Flags().Changed("format") && format != "json" {
					return hmisauth.FieldError("format", "--json prints JSON; leave out --format "+format+" or --json.")
				}
				format = "json"
			}
			f := audit.Filter{Site: site}
			loc := time.UTC
			if site != "" {
				s, err := a.svc.Site(site)
				if err != nil {
					return err
				}
				if s.Location != nil {
					loc = s.Location
				}
			}
			if since != "" {
				t, err := parseSince(since, loc)
				if err != nil {
					return err
				}
				f.Since = t
			}
			return audit.Export(cmd.Context(), g.stdout, format, a.store, f)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&format, "format", "csv", "csv or json")
	fs.StringVar(&since, "since", "", "only events at or after this time: RFC 3339 (2026-03-02T09:30:00Z) or a date, YYYY-MM-DD (midnight in the site's time zone with --site, else UTC)")
	fs.StringVar(&site, "site", "", "only this site's events")
	return cmd
}

// parseSince reads --since: an RFC 3339 time, or a date meaning its midnight in loc.
func parseSince(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(hmisauth.DateLayout, s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, hmisauth.FieldError("since",
		"--since must be a date written YYYY-MM-DD, like 2026-03-02, or a time written like 2026-03-02T09:30:00Z.")
}
