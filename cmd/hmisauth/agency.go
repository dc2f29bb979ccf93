package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

func newAgencyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "agency", Short: "Agencies, their license seats and expiry"}
	cmd.AddCommand(newAgencyCreateCmd(g), newAgencyUpdateCmd(g), newAgencyListCmd(g))
	return cmd
}

// agencyView is an agency as the CLI prints it.
type agencyView struct {
	ID             int64         `json:"id"`
	Site           string        `json:"site"`
	Name           string        `json:"name"`
	Seats          int           `json:"seats"`
	LicenseStarts  hmisauth.Date `json:"license_starts,omitempty"`
	LicenseExpires hmisauth.Date `json:"license_expires,omitempty"`
}

func viewAgency(a *hmisauth.Agency) agencyView {
	return agencyView{a.ID, a.Site, a.Name, a.Seats, a.LicenseStarts, a.LicenseExpires}
}

func (v agencyView) String() string {
	seats := "unlimited seats"
	if v.Seats > 0 {
		seats = fmt.Sprintf("%d seats", v.Seats)
	}
	exp := "no license expiry"
	if v.LicenseExpires != "" {
		exp = "license expires " + string(v.LicenseExpires)
	}
	return fmt.Sprintf("%s — %s, %s\n", printable(v.Name), seats, exp)
}

// agencyFlags are the flags create and update share; only flags given change anything.
type agencyFlags struct {
	name, rename, starts, expires string
	seats                         int
}

func (f *agencyFlags) register(cmd *cobra.Command, update bool) {
	fs := cmd.Flags()
	fs.StringVar(&f.name, "name", "", "agency name (required)")
	fs.IntVar(&f.seats, "seats", 0, "licensed user seats (0: no limit)")
	fs.StringVar(&f.starts, "license-starts", "", "license start date, YYYY-MM-DD")
	fs.StringVar(&f.expires, "license-expires", "", "license expiry date, YYYY-MM-DD")
	if update {
		fs.StringVar(&f.rename, "rename", "", "new name for the agency")
	}
	cmd.MarkFlagRequired("name")
}

func (f *agencyFlags) change(cmd *cobra.Command, create bool) (auth.AgencyChange, error) {
	var c auth.AgencyChange
	if create {
		c.Name = &f.name
	} else if cmd.Flags().Changed("rename") {
		c.Name = &f.rename
	}
	if cmd.Flags().Changed("seats") {
		c.Seats = &f.seats
	}
	for _, d := range []struct {
		flag, val string
		to        **hmisauth.Date
	}{{"license-starts", f.starts, &c.LicenseStarts}, {"license-expires", f.expires, &c.LicenseExpires}} {
		if !cmd.Flags().Changed(d.flag) {
			continue
		}
		date, err := hmisauth.ParseDate("--"+d.flag, "--"+d.flag, d.val)
		if err != nil {
			return c, err
		}
		*d.to = &date
	}
	return c, nil
}

func newAgencyCreateCmd(g *globals) *cobra.Command {
	var site string
	var f agencyFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an agency",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app, _ []string) error {
			c, err := f.change(cmd, true)
			if err != nil {
				return err
			}
			ag, err := a.svc.CreateAgency(cmd.Context(), site, c)
			if err != nil {
				return err
			}
			v := viewAgency(ag)
			return g.print(v, "Created "+v.String())
		}),
	}
	siteFlag(cmd, &site)
	f.register(cmd, false)
	return cmd
}

func newAgencyUpdateCmd(g *globals) *cobra.Command {
	var site string
	var f agencyFlags
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Change an agency's name, seats or license dates",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app, _ []string) error {
			c, err := f.change(cmd, false)
			if err != nil {
				return err
			}
			ag, err := a.svc.UpdateAgency(cmd.Context(), site, f.name, c)
			if err != nil {
				return err
			}
			v := viewAgency(ag)
			return g.print(v, "Updated "+v.String())
		}),
	}
	siteFlag(cmd, &site)
	f.register(cmd, true)
	return cmd
}

func newAgencyListCmd(g *globals) *cobra.Command {
	var site string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a site's agencies",
		Args:  cobra.NoArgs,
		RunE: g.withApp(func(cmd *cobra.Command, a *app, _ []string) error {
			list, err := a.svc.Agencies(cmd.Context(), site)
			if err != nil {
				return err
			}
			views := make([]agencyView, 0, len(list))
			var b strings.Builder
			for _, ag := range list {
				v := viewAgency(ag)
				views = append(views, v)
				b.WriteString(v.String())
			}
			if len(list) == 0 {
				b.WriteString("No agencies yet. Create one with: hmisauth agency create --site " + site + " --name NAME --seats N --license-expires YYYY-MM-DD\n")
			}
			return g.print(views, b.String())
		}),
	}
	siteFlag(cmd, &site)
	return cmd
}
