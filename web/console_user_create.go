package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// Creating a user in the console: the form, the previewed username, and the temporary password
// shown once.

// newUserView is the create form's view.
func (s *Server) newUserView(r *http.Request, a *auth.Admin) (*consoleView, error) {
	v := s.consoleView(r, a)
	v.fields = []string{"first", "last", "email", "phone", "agency", "role", "username"}
	v.NewUser = &userForm{Role: string(hmisauth.RoleUser)}
	if a.IsSysadmin() {
		ags, err := a.Agencies(r.Context())
		if err != nil {
			return nil, err
		}
		v.NewUser.choices(a, ags)
	} else {
		v.NewUser.choices(a, nil)
	}
	return v, nil
}

// consoleNewUser shows the create form.
func (s *Server) consoleNewUser(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdmin(w, r)
	if a == nil {
		return
	}
	v, err := s.newUserView(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	s.consoleRender(w, r, http.StatusOK, "admin_user_new", v)
}

// consoleCreateUser is the create form's two steps: "preview" fills in the generated username
// for checking and editing; "create" saves the account and shows its temporary password once.
func (s *Server) consoleCreateUser(w http.ResponseWriter, r *http.Request) {
	a := s.consoleAdminForm(w, r)
	if a == nil {
		return
	}
	v, err := s.newUserView(r, a)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	f := v.NewUser
	f.First, f.Last = r.PostFormValue("first"), r.PostFormValue("last")
	f.Email, f.Phone = r.PostFormValue("email"), r.PostFormValue("phone")
	f.Agency, f.Role = r.PostFormValue("agency"), r.PostFormValue("role")
	f.Username, f.Generated = strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("generated")
	f.choices(a, s.agenciesOrNil(r, a))

	if r.PostFormValue("step") != "create" {
		switch {
		case strings.TrimSpace(f.First) == "":
			err = hmisauth.FieldError("first", "Enter the person's first name.")
		case strings.TrimSpace(f.Last) == "":
			err = hmisauth.FieldError("last", "Enter the person's last name.")
		}
		if err != nil {
			s.consoleFormError(w, r, "admin_user_new", v, err)
			return
		}
		if f.Username == "" || f.Username == f.Generated {
			if f.Username, err = a.FreeUsername(r.Context(), f.First, f.Last); err != nil {
				s.consoleFormError(w, r, "admin_user_new", v, err)
				return
			}
			f.Generated = f.Username
		}
		f.Previewed = true
		s.consoleRender(w, r, http.StatusOK, "admin_user_new", v)
		return
	}
	username := f.Username
	if username != "" && username == f.Generated && strings.HasPrefix(username, auth.BaseUsername(f.First, f.Last)) {
		// Still the generated one: let CreateUser number it should someone have taken it since.
		username = ""
	}
	c, err := a.CreateUser(r.Context(), auth.NewUser{FirstName: f.First, LastName: f.Last, Email: f.Email,
		Phone: f.Phone, Agency: f.Agency, Role: f.Role, Username: username})
	if err != nil {
		var unavailable *auth.UsernameUnavailable
		if errors.As(err, &unavailable) && unavailable.Free != "" {
			// The offer goes into the field, as a generated name: pressing "Create" again takes
			// it (or the next one free by then).
			f.Username, f.Generated = unavailable.Free, unavailable.Free
		}
		f.Previewed = f.Username != ""
		s.consoleFormError(w, r, "admin_user_new", v, err)
		return
	}
	v.Temp = s.tempView(r, a, c, true)
	v.Done = "The account " + c.User.Username + " was created."
	s.consoleRender(w, r, http.StatusCreated, "admin_temp", v)
}
