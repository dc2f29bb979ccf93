package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

func newUserImportCmd(g *globals) *cobra.Command {
	var site string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Create users from a spreadsheet saved as CSV: all of them, or none",
		Long: `Create users from a spreadsheet saved as CSV ("-" reads standard input).

The first row names the columns, in any order: first, last, email, phone, agency, role, and
optionally username (common spellings like "First Name" or "E-mail" work too). Every row is
checked first; if any has a problem, the problems are listed and nothing is imported. Otherwise
all users are created at once, and their usernames and temporary passwords are printed: the
only time the passwords are shown.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app, args []string) error {
			in, err := openImportFile(cmd, args[0])
			if err != nil {
				return err
			}
			plan, err := a.svc.ParseImport(cmd.Context(), site, in)
			in.Close()
			if err != nil {
				return err
			}
			if problems := plan.Problems(); len(problems) > 0 {
				if err := g.printPlan(plan); err != nil {
					return err
				}
				for _, p := range problems {
					fmt.Fprintln(g.stderr, printable(p))
				}
				return hmisauth.Errorf(hmisauth.EINVALID, "Nothing was imported: fix the rows above and run the command again.")
			}
			if dryRun {
				return g.printPlan(plan)
			}
			created, err := a.svc.Import(cmd.Context(), plan)
			if err != nil {
				return err
			}
			return g.printImported(plan, created)
		}),
	}
	siteFlag(cmd, &site)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only check the file and show who would be created")
	return cmd
}

func openImportFile(cmd *cobra.Command, name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(cmd.InOrStdin()), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	return f, nil
}

// plannedView is one row of the preview as --json prints it.
type plannedView struct {
	Line      int      `json:"line"`
	Username  string   `json:"username"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Email     string   `json:"email"`
	Phone     string   `json:"phone"`
	Agency    string   `json:"agency"`
	Role      string   `json:"role"`
	Errors    []string `json:"errors"`
}

// printPlan shows who the file would create; in text, problems are left to stderr.
func (g *globals) printPlan(plan *auth.ImportPlan) error {
	views := make([]plannedView, len(plan.Rows))
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROW\tUSERNAME\tNAME\tE-MAIL\tAGENCY\tROLE")
	for i, r := range plan.Rows {
		views[i] = plannedView{r.Line, r.Username, r.FirstName, r.LastName, r.Email, r.Phone, r.Agency, r.Role, r.Errors}
		if views[i].Errors == nil {
			views[i].Errors = []string{}
		}
		name := dash(strings.TrimSpace(printable(r.FirstName + " " + r.LastName)))
		if len(r.Errors) > 0 {
			name += " (has problems)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Line, dash(printable(r.Username)), name, dash(printable(r.Email)), dash(printable(r.Agency)), dash(printable(r.Role)))
	}
	tw.Flush()
	if plan.OK() {
		fmt.Fprintf(&b, "\nThe file is good: %s would be created.\n", users(len(plan.Rows)))
	}
	return g.print(views, b.String())
}

// importedView is one created user as --json prints it.
type importedView struct {
	Line              int    `json:"line"`
	Username          string `json:"username"`
	FirstName         string `json:"first_name"`
	LastName          string `json:"last_name"`
	Email             string `json:"email"`
	Agency            string `json:"agency"`
	TemporaryPassword string `json:"temporary_password"`
}

const handOutNote = "These temporary passwords are shown only this once. Hand each person their own password privately\n" +
	"(in person or by phone, never in a group e-mail or a shared file); they choose a new one at first sign-in.\n"

// printImported prints the created users with their temporary passwords; created is in the
// plan's row order.
func (g *globals) printImported(plan *auth.ImportPlan, created []*auth.Created) error {
	views := make([]importedView, len(created))
	var b strings.Builder
	fmt.Fprintf(&b, "Imported %s.\n\n", users(len(created)))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tNAME\tTEMPORARY PASSWORD")
	for i, c := range created {
		r := plan.Rows[i]
		views[i] = importedView{r.Line, c.User.Username, c.User.FirstName, c.User.LastName, c.User.Email, r.Agency, c.TemporaryPassword}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.User.Username, printable(c.User.FullName()), c.TemporaryPassword)
	}
	tw.Flush()
	b.WriteString("\n" + handOutNote)
	if g.json {
		fmt.Fprint(g.stderr, handOutNote) // stdout is the one JSON document
	}
	return g.print(views, b.String())
}

func users(n int) string {
	if n == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", n)
}
