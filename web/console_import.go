package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// Bulk import of users from a CSV file: upload, preview (nothing is written), then create. The
// preview's create button carries a one-time token (formtoken.go): sent again, by a reload of
// the answer or a double click, it shows the accounts the first sending created (without their
// passwords) and imports nothing.

type importView struct {
	// Agency is the agency admin's own agency, which every imported user joins ("" for a sysadmin).
	Agency string
	Plan   *auth.ImportPlan
	OK     bool
	CSV    string // the previewed file, sent again by the create button; Import re-checks it
	N      int
	// Repeat: the create button was sent before; Created lists what that import created, and
	// no password is shown again. Pending: that import is still at work.
	Repeat, Pending bool
}

type importCreated struct{ Username, Name, Password string }

// importPageView starts the import page's view, with a new token for its create button; an
// agency admin is told which agency the file's users join.
func (s *Server) importPageView(r *http.Request, a *auth.Admin) (*consoleView, error) {
	v := s.consoleView(r, a)
	v.Import = &importView{}
	v.fields = []string{"file"}
	var err error
	if v.FormToken, err = s.formToken(r, a.Principal(), formImport); err != nil {
		return nil, err
	}
	if !a.IsSysadmin() {
		ags, err := a.Agencies(r.Context())
		if err != nil {
			return nil, err
		}
		if len(ags) == 1 {
			v.Import.Agency = ags[0].Name
		}
	}
	return v, nil
}

// consoleImportForm shows the upload form.
func (s *Server) consoleImportForm(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v, err := s.importPageView(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_import", v)
}

// consoleImport previews an uploaded file (nothing written) or, with step=create, imports the
// file text the preview sent back, parsing and checking it again first.
func (s *Server) consoleImport(w http.ResponseWriter, r *http.Request) {
	site, ok := s.site(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 2*auth.MaxImportBytes+maxBody)
	p := s.signedIn(w, r, site)
	if p == nil || pendingElsewhere(w, r, p, "admin") {
		return
	}
	a := s.adminOf(w, r, p)
	if a == nil {
		return
	}
	v, err := s.importPageView(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		msg := "The upload could not be read. Choose the file again and try again."
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			msg = "The file is too large: at most 10 MB."
		}
		s.consoleFormError(w, r, "admin_import", v, hmisauth.FieldError("file", msg))
		return
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
	}
	var text string
	var once *formSending
	create := r.PostFormValue("step") == "create"
	if create {
		// Before the file is checked again: after the first import its usernames are taken,
		// and a repeat must say what was imported, not that the file now clashes.
		if once, err = s.useForm(r, a.Principal(), formImport); err != nil {
			s.consoleError(w, r, a.Site(), err)
			return
		}
		if once.Repeat() {
			s.importRepeat(w, r, v, once)
			return
		}
		defer s.release(r, once) // every answer below but the import's own changes nothing
		text = r.PostFormValue("csv")
	} else {
		f, _, err := r.FormFile("file")
		if err != nil {
			s.consoleFormError(w, r, "admin_import", v, hmisauth.FieldError("file", "Choose a CSV file to upload."))
			return
		}
		b, err := io.ReadAll(io.LimitReader(f, auth.MaxImportBytes+1))
		f.Close()
		if err != nil {
			s.consoleFormError(w, r, "admin_import", v, hmisauth.FieldError("file", "The upload could not be read. Choose the file again and try again."))
			return
		}
		if len(b) > auth.MaxImportBytes {
			s.consoleFormError(w, r, "admin_import", v, hmisauth.FieldError("file", "The file is too large: at most 10 MB."))
			return
		}
		text = string(b)
	}
	if len(text) > auth.MaxImportBytes {
		s.consoleFormError(w, r, "admin_import", v, hmisauth.FieldError("file", "The file is too large: at most 10 MB."))
		return
	}
	plan, err := a.ParseImport(r.Context(), strings.NewReader(text))
	if err != nil {
		if e := hmisauth.AsError(err); e != nil && e.Field == "" {
			err = hmisauth.FieldError("file", e.Message)
		}
		s.consoleFormError(w, r, "admin_import", v, err)
		return
	}
	v.Import.Plan, v.Import.OK, v.Import.CSV, v.Import.N = plan, plan.OK(), text, len(plan.Rows)
	if create && once.Stale() && plan.OK() {
		s.consoleFormError(w, r, "admin_import", v, staleForm("Nothing was imported: this page had expired. "+
			"If you imported this file already, its accounts are in the user list. Otherwise check the preview and create the users again."))
		return
	}
	if !create || !plan.OK() {
		s.consoleRender(w, r, http.StatusOK, "admin_import", v)
		return
	}
	created, err := a.Import(r.Context(), plan)
	if err != nil {
		s.consoleFormError(w, r, "admin_import", v, err)
		return
	}
	res := formResult{}
	v.Import = nil
	for _, c := range created {
		v.Created = append(v.Created, importCreated{Username: c.User.Username, Name: c.User.FullName(), Password: c.TemporaryPassword})
		res.Created = append(res.Created, formAccount{Username: c.User.Username, Name: c.User.FullName()})
	}
	s.done(r, once, res)
	v.Done = createdCount(len(created))
	w.Header().Set("Cache-Control", "no-store")
	s.consoleRender(w, r, http.StatusCreated, "admin_import", v)
}

func createdCount(n int) string {
	if n == 1 {
		return "1 account was created."
	}
	return fmt.Sprintf("%d accounts were created.", n)
}

// importRepeat answers a create button sent again: the accounts its first sending created,
// without their passwords, which were shown to that sending only.
func (s *Server) importRepeat(w http.ResponseWriter, r *http.Request, v *consoleView, once *formSending) {
	v.Import = &importView{Repeat: true, Pending: !once.Finished()}
	for _, c := range once.Result.Created {
		v.Created = append(v.Created, importCreated{Username: c.Username, Name: c.Name})
	}
	w.Header().Set("Cache-Control", "no-store")
	s.consoleRender(w, r, http.StatusOK, "admin_import", v)
}
