package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

func newUserCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Create, inspect and help user accounts"}
	cmd.AddCommand(newUserCreateCmd(g), newUserShowCmd(g), newUserUpdateCmd(g), newUserTempPasswordCmd(g),
		newUserImportCmd(g),
		newUserAgreementCmd(g),
		newUserTrainingCmd(g),
		newUserStepCmd(g, "unlock", "Unlock an account locked by failed sign-ins", (*auth.Service).Unlock),
		newUserStepCmd(g, "expire-password", "Make the user choose a new password at the next sign-in", (*auth.Service).ExpirePassword),
		newUserDisableCmd(g),
		newUserStepCmd(g, "enable", "Enable a disabled account", enable),
		newUserStepCmd(g, "reset-mfa", "Remove the user's 2-step verification (lost phone) and sign them out everywhere",
			(*auth.Service).ResetMFA))
	return cmd
}

func siteFlag(cmd *cobra.Command, site *string) {
	cmd.Flags().StringVar(site, "site", "", "site key, e.g. live or training (required)")
	cmd.MarkFlagRequired("site")
}

// credentials is what create and temp-password print: the one time the password is shown.
type credentials struct {
	Username          string `json:"username"`
	TemporaryPassword string `json:"temporary_password"`
}

func (g *globals) printCredentials(c *auth.Created) error {
	g.json = true // scripts read this output (CONTRACT): always the JSON object
	return g.print(credentials{c.User.Username, c.TemporaryPassword}, "")
}

func newUserCreateCmd(g *globals) *cobra.Command {
	var req auth.NewUser
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a user with a temporary password",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app, _ []string) error {
			c, err := a.svc.CreateUser(cmd.Context(), req)
			if err != nil {
				return err
			}
			return g.printCredentials(c)
		}),
	}
	siteFlag(cmd, &req.Site)
	f := cmd.Flags()
	f.StringVar(&req.FirstName, "first", "", "first name (required)")
	f.StringVar(&req.LastName, "last", "", "last name (required)")
	f.StringVar(&req.Email, "email", "", "work e-mail address (for password resets)")
	f.StringVar(&req.Phone, "phone", "", "phone number")
	f.StringVar(&req.Agency, "agency", "", "agency name (the agency must exist)")
	f.StringVar(&req.Role, "role", "user", "user, agency_admin or sysadmin")
	f.StringVar(&req.Username, "username", "", "username; default: first initial + last name (jdoe, jdoe2, …)")
	cmd.MarkFlagRequired("first")
	cmd.MarkFlagRequired("last")
	return cmd
}

func newUserUpdateCmd(g *globals) *cobra.Command {
	var site string
	var v struct {
		first, last, email, phone, agency, role string
		officer                                 bool
	}
	cmd := &cobra.Command{
		Use:   "update USERNAME",
		Short: "Change a user's name, e-mail, phone, agency or role (only the flags given)",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app, args []string) error {
			var c auth.ProfileChange
			profile := false
			for _, f := range []struct {
				flag string
				val  *string
				to   **string
			}{{"first", &v.first, &c.FirstName}, {"last", &v.last, &c.LastName}, {"email", &v.email, &c.Email},
				{"phone", &v.phone, &c.Phone}, {"agency", &v.agency, &c.Agency}, {"role", &v.role, &c.Role}} {
				if cmd.Flags().Changed(f.flag) {
					*f.to = f.val
					profile = true
				}
			}
			username := args[0]
			officerChanged := cmd.Flags().Changed("security-officer")
			if profile || !officerChanged {
				u, err := a.svc.UpdateUser(cmd.Context(), site, username, c)
				if err != nil {
					return err
				}
				username = u.Username
			}
			// After the profile, so one command can make someone an agency admin and officer.
			if officerChanged {
				if _, err := a.svc.SetSecurityOfficer(cmd.Context(), site, username, v.officer); err != nil {
					return err
				}
			}
			return g.showUser(a, cmd.Context(), site, username)
		}),
	}
	siteFlag(cmd, &site)
	f := cmd.Flags()
	f.StringVar(&v.first, "first", "", "first name")
	f.StringVar(&v.last, "last", "", "last name")
	f.StringVar(&v.email, "email", "", "work e-mail address (\"\" removes it)")
	f.StringVar(&v.phone, "phone", "", "phone number")
	f.StringVar(&v.agency, "agency", "", "agency name (\"\" for none)")
	f.StringVar(&v.role, "role", "", "user, agency_admin or sysadmin")
	f.BoolVar(&v.officer, "security-officer", false, "make an agency admin their agency's security officer (=false: no longer)")
	return cmd
}

func newUserTempPasswordCmd(g *globals) *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use:   "temp-password USERNAME",
		Short: "Set and print a new temporary password (also unlocks and reactivates)",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app, args []string) error {
			c, err := a.svc.SetTemporaryPassword(cmd.Context(), site, args[0])
			if err != nil {
				return err
			}
			return g.printCredentials(c)
		}),
	}
	siteFlag(cmd, &site)
	return cmd
}

type userStep func(s *auth.Service, ctx context.Context, site, username string) (*hmisauth.User, error)

func enable(s *auth.Service, ctx context.Context, site, username string) (*hmisauth.User, error) {
	return s.SetDisabled(ctx, site, username, false)
}

func newUserDisableCmd(g *globals) *cobra.Command {
	var site, reason, reported string
	cmd := &cobra.Command{
		Use:   "disable USERNAME",
		Short: "Disable an account (ends its sessions), recording why and when the agency reported it",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app, args []string) error {
			on, err := hmisauth.ParseDate("--reported-on", "--reported-on", reported)
			if err != nil {
				return err
			}
			if _, err := a.svc.Disable(cmd.Context(), site, args[0], auth.Departure{Reason: reason, ReportedOn: on}); err != nil {
				return err
			}
			return g.showUser(a, cmd.Context(), site, args[0])
		}),
	}
	siteFlag(cmd, &site)
	f := cmd.Flags()
	f.StringVar(&reason, "reason", hmisauth.DepartureOther, "left_agency, violation or other")
	f.StringVar(&reported, "reported-on", "", "the day the agency reported it, YYYY-MM-DD (default today)")
	return cmd
}

// newUserStepCmd is a command that applies one administrative step and shows the account.
func newUserStepCmd(g *globals, use, short string, step userStep) *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use:   use + " USERNAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app, args []string) error {
			if _, err := step(a.svc, cmd.Context(), site, args[0]); err != nil {
				return err
			}
			return g.showUser(a, cmd.Context(), site, args[0])
		}),
	}
	siteFlag(cmd, &site)
	return cmd
}

func newUserAgreementCmd(g *globals) *cobra.Command {
	var site, signed, supervisor, director, expires string
	cmd := &cobra.Command{
		Use:   "agreement USERNAME",
		Short: "Record the user's signed user agreement",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app, args []string) error {
			var ag auth.Agreement
			var err error
			for _, d := range []struct {
				flag, val string
				to        *hmisauth.Date
			}{{"--signed", signed, &ag.Signed}, {"--supervisor-signed", supervisor, &ag.Supervisor},
				{"--director-signed", director, &ag.Director}, {"--expires", expires, &ag.Expires}} {
				if *d.to, err = hmisauth.ParseDate(d.flag, d.flag, d.val); err != nil {
					return err
				}
			}
			if _, err := a.svc.RecordAgreement(cmd.Context(), site, args[0], ag); err != nil {
				return err
			}
			return g.showUser(a, cmd.Context(), site, args[0])
		}),
	}
	siteFlag(cmd, &site)
	f := cmd.Flags()
	f.StringVar(&signed, "signed", "", "date the user signed, YYYY-MM-DD (required)")
	f.StringVar(&supervisor, "supervisor-signed", "", "date the supervisor signed")
	f.StringVar(&director, "director-signed", "", "date the executive director signed")
	f.StringVar(&expires, "expires", "", "expiry date; default a year after the last signature")
	cmd.MarkFlagRequired("signed")
	return cmd
}

func newUserTrainingCmd(g *globals) *cobra.Command {
	var site, kind, completed string
	cmd := &cobra.Command{
		Use:   "training USERNAME [KIND DATE]",
		Short: "Record a training the user completed (--kind K --completed YYYY-MM-DD, or KIND DATE)",
		Args:  cobra.RangeArgs(1, 3),
		RunE: g.withApp(func(cmd *cobra.Command, a *app, args []string) error {
			switch {
			case len(args) == 3 && kind == "" && completed == "":
				kind, completed = args[1], args[2]
			case len(args) != 1:
				return errors.New("give the training as --kind K --completed YYYY-MM-DD, or as KIND DATE after the username")
			}
			if kind == "" || completed == "" {
				return errors.New("both --kind and --completed are required")
			}
			d, err := hmisauth.ParseDate("--completed", "--completed", completed)
			if err != nil {
				return err
			}
			if _, err := a.svc.RecordTraining(cmd.Context(), site, args[0], kind, d); err != nil {
				return err
			}
			return g.showUser(a, cmd.Context(), site, args[0])
		}),
	}
	siteFlag(cmd, &site)
	f := cmd.Flags()
	f.StringVar(&kind, "kind", "", "the kind of training, one of the site's policy.training.kinds")
	f.StringVar(&completed, "completed", "", "the date it was completed, YYYY-MM-DD")
	return cmd
}

func newUserShowCmd(g *globals) *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use:   "show USERNAME",
		Short: "Show an account and every reason it cannot sign in (login doctor)",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(cmd *cobra.Command, a *app, args []string) error {
			return g.showUser(a, cmd.Context(), site, args[0])
		}),
	}
	siteFlag(cmd, &site)
	return cmd
}

// userView is the account as `user show` prints it (CONTRACT field names).
type userView struct {
	Site               string             `json:"site"`
	Username           string             `json:"username"`
	FirstName          string             `json:"first_name"`
	LastName           string             `json:"last_name"`
	Email              string             `json:"email"`
	Phone              string             `json:"phone"`
	Role               hmisauth.Role      `json:"role"`
	Agency             string             `json:"agency,omitempty"`
	Status             string             `json:"status"`
	FailedAttempts     int                `json:"failed_attempts"`
	LockedAt           *time.Time         `json:"locked_at"`
	PasswordChangedAt  *time.Time         `json:"password_changed_at"`
	PasswordTemporary  bool               `json:"password_temporary"`
	LastLoginAt        *time.Time         `json:"last_login_at"`
	CreatedAt          *time.Time         `json:"created_at"`
	TermsVersion       int                `json:"terms_version"`
	AgreementExpiresOn hmisauth.Date      `json:"agreement_expires_on,omitempty"`
	MFAEnabled         bool               `json:"mfa_enabled"`
	Problems           []hmisauth.Problem `json:"problems"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (g *globals) showUser(a *app, ctx context.Context, site, username string) error {
	d, err := a.svc.Diagnose(ctx, site, username)
	if err != nil {
		return err
	}
	u := d.User
	v := userView{
		Site: d.Site.Key, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, Phone: u.Phone, Role: u.Role, Status: auth.Status(u),
		FailedAttempts: u.FailedAttempts, LockedAt: timePtr(u.LockedAt),
		PasswordChangedAt: timePtr(u.PasswordChangedAt), PasswordTemporary: u.PasswordTemporary,
		LastLoginAt: timePtr(u.LastLoginAt), CreatedAt: timePtr(u.CreatedAt), TermsVersion: u.TermsVersion,
		AgreementExpiresOn: u.AgreementExpiresOn, MFAEnabled: u.MFAEnabled, Problems: d.Problems,
	}
	if v.Problems == nil {
		v.Problems = []hmisauth.Problem{}
	}
	if d.Agency != nil {
		v.Agency = d.Agency.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) on %s — %s\n", printable(u.Username), printable(u.FullName()), printable(d.Site.Name), v.Status)
	fmt.Fprintf(&b, "  e-mail: %s  phone: %s  role: %s  agency: %s\n", dash(printable(u.Email)), dash(printable(u.Phone)),
		printable(string(u.Role)), dash(printable(v.Agency)))
	if u.SecurityOfficer {
		b.WriteString("  the agency's security officer\n")
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.In(d.Site.Location).Format("2006-01-02 15:04 MST")
	}
	fmt.Fprintf(&b, "  failed attempts: %d  last sign-in: %s  password set: %s  2-step verification: %s\n",
		u.FailedAttempts, when(u.LastLoginAt), when(u.PasswordChangedAt), map[bool]string{true: "on", false: "off"}[u.MFAEnabled])
	if len(d.Problems) == 0 {
		b.WriteString("No problems: this user can sign in.\n")
	}
	for _, p := range d.Problems {
		since := ""
		if !p.Since.IsZero() {
			since = " (since " + when(p.Since) + ")"
		}
		fmt.Fprintf(&b, "\n* %s%s: %s\n  Fix: %s\n", p.Code, since, printable(p.Message), printable(p.Fix))
	}
	return g.print(v, b.String())
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
