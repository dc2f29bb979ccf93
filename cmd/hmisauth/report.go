package main

import (
	"bytes"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hmisauth/hmisauth/auth"
)

func newReportCmd(g *globals) *cobra.Command {
	var site string
	var days int
	var csv bool
	cmd := &cobra.Command{
		Use:   "report --site S KIND",
		Short: "Print a helpdesk report: " + strings.Join(auth.ReportKinds, ", "),
		Long: `Print a helpdesk report of a site's users, as a system administrator of the site:

  locked               accounts locked by failed sign-ins
  expiring-passwords   passwords expiring in the next --days days
  expiring-licenses    users whose agency's license expires in the next --days days
  expiring-agreements  user agreements expiring in the next --days days
  expiring-trainings   trainings running out in the next --days days
  missing-trainings    required trainings not recorded, or lapsed
  no-email             accounts without an e-mail address
  inactive             accounts refused as unused for inactive_lock_days

Each row is username, name, agency, what and date. --csv writes CSV with a header row (a cell
a spreadsheet would run as a formula gets a leading apostrophe); --json one JSON array.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app, args []string) error {
			adm, err := a.svc.SystemAdmin(cmd.Context(), site)
			if err != nil {
				return err
			}
			rows, err := adm.Report(cmd.Context(), args[0], days)
			if err != nil {
				return err
			}
			if csv {
				return auth.WriteReportCSV(g.stdout, rows)
			}
			if rows == nil {
				rows = []auth.ReportRow{}
			}
			var buf bytes.Buffer
			if len(rows) == 0 {
				buf.WriteString("Nothing to report.\n")
			} else {
				tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tNAME\tAGENCY\tWHAT\tDATE")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", printable(r.Username), printable(r.Name), printable(r.Agency), printable(r.What), printable(r.Date))
				}
				tw.Flush()
			}
			return g.print(rows, buf.String())
		}),
	}
	cmd.Flags().StringVar(&site, "site", "live", "site key")
	cmd.Flags().IntVar(&days, "days", 0, fmt.Sprintf("window of the expiring-… reports in days (default %d)", auth.DefaultReportDays))
	cmd.Flags().BoolVar(&csv, "csv", false, "write CSV with a header row")
	return cmd
}
