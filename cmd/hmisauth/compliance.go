package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

func newComplianceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "compliance", Short: "Evidence for HUD and Continuum of Care monitoring"}
	cmd.AddCommand(newCompliancePackCmd(g))
	return cmd
}

func newCompliancePackCmd(g *globals) *cobra.Command {
	var site, agency, from, to, out string
	cmd := &cobra.Command{
		Use:   "pack --site S [--agency NAME] [--from YYYY-MM-DD --to YYYY-MM-DD] --out FILE.zip",
		Short: "Write the monitoring pack: the policy and its history, rosters, exceptions, audit extracts and a summary",
		Long: `Write the monitoring pack of a site (or of one agency, with --agency) as a zip file a
monitor opens: manifest.json (when, by whom, the period, each file's SHA-256 and the audit
chain's newest event and whether it verified), policy.json and policy_history.csv, users.csv,
agencies.csv, exceptions.csv, failed_sign_ins.csv, lockouts.csv, admin_actions.csv,
overlapping_sessions.csv, reviews.csv, departures.csv and summary.html.

The period (both days included) limits the audit extracts, reviews and departures; it is the
year up to today unless --from and --to say otherwise. docs/COMPLIANCE.md says what each file
shows and which policy it serves.`,
		Args: cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app, _ []string) error {
			if out == "" {
				return hmisauth.FieldError("out", "Say where to write the pack: --out FILE.zip.")
			}
			req := auth.PackRequest{Agency: agency}
			var err error
			if from != "" {
				if req.From, err = hmisauth.ParseDate("from", "--from", from); err != nil {
					return err
				}
			}
			if to != "" {
				if req.To, err = hmisauth.ParseDate("to", "--to", to); err != nil {
					return err
				}
			}
			adm, err := a.svc.SystemAdmin(cmd.Context(), site)
			if err != nil {
				return err
			}
			pack, err := adm.CompliancePack(cmd.Context(), req)
			if err != nil {
				return err
			}
			if err := writePack(pack, out); err != nil {
				return err
			}
			m := pack.Manifest
			text := fmt.Sprintf("Wrote the monitoring pack of %s", site)
			if m.Agency != "" {
				text += ", " + printable(m.Agency)
			}
			text += fmt.Sprintf(" for %s to %s to %s (%d files).\n", m.Period.From, m.Period.To, out, len(pack.Files))
			if m.Audit.Verified {
				text += fmt.Sprintf("The audit log is intact: %d events; newest event %d:%s.\n", m.Audit.Events, m.Audit.HeadID, m.Audit.HeadHash)
			} else {
				text += "The audit log is broken: " + m.Audit.Problem + " (the pack says so too).\n"
			}
			return g.print(m, text)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&site, "site", "live", "site key")
	fs.StringVar(&agency, "agency", "", "only this agency's users and their events")
	fs.StringVar(&from, "from", "", "first day of the period, YYYY-MM-DD (default: a year before --to)")
	fs.StringVar(&to, "to", "", "last day of the period, YYYY-MM-DD (default: today)")
	fs.StringVar(&out, "out", "", "the zip file to write")
	return cmd
}

// writePack writes the zip beside out and renames it into place, so a pack that fails half
// way never leaves a file a monitor could take for a whole one.
func writePack(pack *auth.Pack, out string) error {
	f, err := os.CreateTemp(filepath.Dir(out), ".pack-*.zip")
	if err != nil {
		return fmt.Errorf("Cannot write the pack to %s: %w", out, err)
	}
	defer os.Remove(f.Name())
	if err := pack.WriteZip(f); err != nil {
		f.Close()
		return fmt.Errorf("Cannot write the pack to %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("Cannot write the pack to %s: %w", out, err)
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return fmt.Errorf("Cannot write the pack to %s: %w", out, err)
	}
	return nil
}
