package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// agencyRow is one agency in the console's list.
type agencyRow struct {
	ID                           int64
	Name, Seats, Starts, Expires string
	Expired, Full                bool
	Link                         string
}

// agencyForm is the create or edit form of an agency.
type agencyForm struct {
	ID                           int64 // 0 when creating
	Name, Seats, Starts, Expires string
	Action                       string
}

func (s *Server) agencyRows(r *http.Request, a *auth.Admin) ([]agencyRow, error) {
	list, err := a.Agencies(r.Context())
	if err != nil {
		return nil, err
	}
	today := a.Site().Today(s.clock.Now())
	var rows []agencyRow
	for _, ag := range list {
		used, err := a.SeatsUsed(r.Context(), ag)
		if err != nil {
			return nil, err
		}
		row := agencyRow{ID: ag.ID, Name: ag.Name, Starts: string(ag.LicenseStarts), Expires: string(ag.LicenseExpires),
			Expired: ag.LicenseExpired(today), Link: adminPath(a.Site(), fmt.Sprintf("agencies/%d", ag.ID))}
		if ag.Seats == 0 {
			row.Seats = fmt.Sprintf("%d used, no limit", used)
		} else {
			row.Seats = fmt.Sprintf("%d of %d used", used, ag.Seats)
			row.Full = used >= ag.Seats
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func (s *Server) agenciesView(r *http.Request, a *auth.Admin, form *agencyForm) (*consoleView, error) {
	v := s.consoleView(r, a)
	v.fields = []string{"name", "seats", "license_starts", "license_expires"}
	rows, err := s.agencyRows(r, a)
	if err != nil {
		return nil, err
	}
	v.Agencies = rows
	if a.IsSysadmin() {
		if form == nil {
			form = &agencyForm{Seats: "0"}
		}
		if form.ID == 0 {
			form.Action = adminPath(a.Site(), "agencies")
			if v.FormToken, err = s.formToken(r, a.Principal(), formAddAgency); err != nil {
				return nil, err
			}
		} else {
			form.Action = adminPath(a.Site(), fmt.Sprintf("agencies/%d", form.ID))
		}
		v.AgencyForm = form
	}
	return v, nil
}

// consoleAgencies lists the agencies in scope with seats and license dates; a sysadmin also
// gets the form that adds one.
func (s *Server) consoleAgencies(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v, err := s.agenciesView(r, a, nil)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_agencies", v)
}

// consoleAgency is the agencies page with one agency's edit form (sysadmin only).
func (s *Server) consoleAgency(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	ag, err := s.editableAgency(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	v, err := s.agenciesView(r, a, &agencyForm{ID: ag.ID, Name: ag.Name, Seats: strconv.Itoa(ag.Seats),
		Starts: string(ag.LicenseStarts), Expires: string(ag.LicenseExpires)})
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_agencies", v)
}

// editableAgency finds the agency of the address for its edit form: only a sysadmin changes
// agencies, so others hear that now rather than after filling it in.
func (s *Server) editableAgency(r *http.Request, a *auth.Admin) (*hmisauth.Agency, error) {
	if !a.IsSysadmin() {
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN, "Only a system administrator can change agencies.")
	}
	id, err := agencyID(r)
	if err != nil {
		return nil, err
	}
	return a.Agency(r.Context(), id)
}

// consoleSaveAgency creates (create) or changes an agency from the form; either way its answer
// is a redirect, so reloading it sends nothing. The add form also carries a one-time token
// (formtoken.go), so sending it twice (a double click) adds one agency and answers both
// sendings alike, instead of refusing the second for a name now taken.
func (s *Server) consoleSaveAgency(create bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := s.consoleAdminForm(w, r)
		if a == nil {
			return
		}
		var once *formSending
		if create && a.IsSysadmin() {
			var err error
			if once, err = s.useForm(r, a.Principal(), formAddAgency); err != nil {
				s.consoleError(w, r, a.Site(), err)
				return
			}
			if once.Repeat() {
				redirect(w, r, adminPath(a.Site(), "agencies")+"?done=agency_created")
				return
			}
			defer s.release(r, once)
		}
		form := &agencyForm{Name: r.PostFormValue("name"), Seats: strings.TrimSpace(r.PostFormValue("seats")),
			Starts: strings.TrimSpace(r.PostFormValue("license_starts")), Expires: strings.TrimSpace(r.PostFormValue("license_expires"))}
		var id int64
		if !create {
			ag, err := s.editableAgency(r, a)
			if err != nil {
				s.consoleError(w, r, a.Site(), err)
				return
			}
			id, form.ID = ag.ID, ag.ID
		}
		req := agencyRequest{Name: &form.Name}
		var err error
		seats := 0
		if form.Seats != "" {
			if seats, err = strconv.Atoi(form.Seats); err != nil {
				err = hmisauth.FieldError("seats", "Seats must be a whole number: 0 for no limit.")
			}
		}
		req.Seats = &seats
		// On a new agency an empty date means none; on an existing one it clears the date.
		if form.Starts != "" || !create {
			req.LicenseStarts = &form.Starts
		}
		if form.Expires != "" || !create {
			req.LicenseExpires = &form.Expires
		}
		var c auth.AgencyChange
		if err == nil {
			c, err = req.change(map[string]string{"license_starts": "The license start date", "license_expires": "The license expiry date"})
		}
		done := "agency_created"
		if err == nil && once != nil && once.Stale() {
			err = staleForm("Nothing was added: this form had expired. If you added this agency already, it is in the list. " +
				"Otherwise check the details and press “Add the agency” again.")
		}
		if err == nil {
			if create {
				var ag *hmisauth.Agency
				if ag, err = a.CreateAgency(r.Context(), c); err == nil && once != nil {
					s.done(r, once, formResult{ID: strconv.FormatInt(ag.ID, 10), Name: ag.Name})
				}
			} else {
				_, err = a.UpdateAgency(r.Context(), id, c)
				done = "agency_saved"
			}
		}
		if err != nil {
			if hmisauth.ErrorCode(err) == hmisauth.EFORBIDDEN {
				s.consoleError(w, r, a.Site(), err)
				return
			}
			v, verr := s.agenciesView(r, a, form)
			if verr != nil {
				s.consoleError(w, r, a.Site(), verr)
				return
			}
			s.consoleFormError(w, r, "admin_agencies", v, err)
			return
		}
		redirect(w, r, adminPath(a.Site(), "agencies")+"?done="+done)
	}
}
