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

// Bulk import of users from a CSV file: upload, preview (nothing is written), then create.

type importView struct {
	// Agency is the agency admin's own agency, which every imported user joins ("" for a sysadmin).
	Agency string
	Plan   *auth.ImportPlan
	OK     bool
	CSV    string // the previewed file, sent again by the create button; Import re-checks it
	N      int
}

type importCreated struct{ Username, Name, Password string }

// importPageView starts the import page's view; an agency admin is told which agency the
// file's users join.
func (s *Server) importPageView(r *http.Request, a *auth.Admin) (*consoleView, error) {
	v := s.consoleView(r, a)
	v.Import = &importView{}
	v.fields = []string{"file"}
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
	create := r.PostFormValue("step") == "create"
	if create {
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
	if !create || !plan.OK() {
		s.consoleRender(w, r, http.StatusOK, "admin_import", v)
		return
	}
	created, err := a.Import(r.Context(), plan)
	if err != nil {
		s.consoleFormError(w, r, "admin_import", v, err)
		return
	}
	v.Import = nil
	for _, c := range created {
		v.Created = append(v.Created, importCreated{Username: c.User.Username, Name: c.User.FullName(), Password: c.TemporaryPassword})
	}
	v.Done = fmt.Sprintf("%d accounts were created.", len(created))
	if len(created) == 1 {
		v.Done = "1 account was created."
	}
	w.Header().Set("Cache-Control", "no-store")
	s.consoleRender(w, r, http.StatusCreated, "admin_import", v)
}
