package auth

import (
	"fmt"
	"time"

	"github.com/hmisauth/hmisauth"
)

// The pack's exception list: one row per account per exception, from the login doctor (so
// the pack, the console and `hmisauth user show` say the same about an account), plus what a
// monitor asks about that is not a sign-in problem: outstanding temporary passwords and
// administrators.

// Exception codes the pack adds to the login doctor's problem codes.
const (
	ExceptionTemporaryPassword = "temporary_password_outstanding"
	ExceptionAdministrator     = "administrator"
)

// notExceptions are doctor problems a monitor's lists leave out: a disabled account cannot be
// used (departures.csv has it), and terms and security questions are asked for at the next
// sign-in by the user's own hand.
var notExceptions = map[string]bool{
	hmisauth.ProblemDisabled:         true,
	hmisauth.ProblemTermsNotAccepted: true,
	hmisauth.ProblemNoRecoveryInfo:   true,
}

// PackException is one row of exceptions.csv.
type PackException struct {
	Username, Name, Agency string
	Code, What, Fix        string
	Since                  time.Time
}

// exceptions lists the exceptions of every enabled account in scope, by username, each
// account's in the doctor's order (most blocking first), then the pack's own.
func (d *packData) exceptions() []PackException {
	var out []PackException
	for _, u := range d.users {
		if u.Disabled {
			continue
		}
		add := func(code string, since time.Time, what, fix string) {
			out = append(out, PackException{Username: u.Username, Name: u.FullName(), Agency: d.agencyName(u.AgencyID),
				Code: code, What: what, Fix: fix, Since: since})
		}
		for _, p := range d.problems(u) {
			if !notExceptions[p.Code] {
				add(p.Code, p.Since, p.Message, p.Fix)
			}
		}
		if u.PasswordTemporary && u.TemporaryUsedAt.IsZero() && !d.now.After(u.PasswordChangedAt.Add(d.site.Policy.TemporaryPasswordTTL)) {
			add(ExceptionTemporaryPassword, u.PasswordChangedAt,
				"A temporary password was issued and has not been used yet.",
				"Nothing to do if the person has it: they choose their own password at the next sign-in.")
		}
		if u.Role.IsAdmin() {
			what := "A system administrator: manages every account of the site."
			if u.Role == hmisauth.RoleAgencyAdmin {
				what = fmt.Sprintf("An agency administrator: manages the accounts of %s.", d.agencyName(u.AgencyID))
			}
			add(ExceptionAdministrator, time.Time{}, what, "Confirm the person still needs to administer accounts.")
		}
	}
	return out
}

// problems is the login doctor's answer for u, with the training gate's, as the console's
// user page (Diagnose) gives it.
func (d *packData) problems(u *hmisauth.User) []hmisauth.Problem {
	return withTraining(Problems(d.site, u, d.agencyByID[u.AgencyID], d.now),
		TrainingProblems(d.site, u, d.trainings[u.ID], d.now))
}

var exceptionHeader = []string{"username", "name", "agency", "exception", "since", "what", "fix"}

func (d *packData) exceptionRows(es []PackException) [][]string {
	rows := make([][]string, 0, len(es))
	for _, e := range es {
		rows = append(rows, []string{e.Username, e.Name, e.Agency, e.Code, d.localTime(e.Since), e.What, e.Fix})
	}
	return rows
}
