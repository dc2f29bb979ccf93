package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// Creating a user in the console: the form, the previewed username, and the temporary password
// shown once. The form carries a one-time token (formtoken.go): sent again, by a reload of the
// answer or a double click, it says which account the first sending created instead of
// creating another.

// newUserView is the create form's view, with a new token for the form.
func (s *Server) newUserView(r *http.Request, a *auth.Admin) (*consoleView, error) {
	v := s.consoleView(r, a)
	v.fields = []string{"first", "last", "email", "phone", "agency", "role", "username"}
	v.NewUser = &userForm{Role: string(hmisauth.RoleUser)}
	var err error
	if v.FormToken, err = s.formToken(r, a.Principal(), formCreateUser); err != nil {
		return nil, err
	}
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
// for checking and editing; "create" saves the account and shows its temporary password once,
// on the form's token's first sending only.
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
		// Both names are flagged at once when both are missing.
		if v.missing(r, required{"first", "Enter the person's first name."}, required{"last", "Enter the person's last name."}) {
			s.consoleRender(w, r, http.StatusBadRequest, "admin_user_new", v)
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
	once, err := s.useForm(r, a.Principal(), formCreateUser)
	if err != nil {
		s.consoleError(w, r, a.Site(), err)
		return
	}
	if once.Repeat() {
		v.Temp = &tempView{Created: true, Repeat: true, Pending: !once.Finished(), Username: once.Result.Username,
			Name: once.Result.Name, UserPath: userPath(a.Site(), once.Result.Username), UsersPath: adminPath(a.Site(), "users")}
		s.tempRender(w, r, http.StatusOK, v)
		return
	}
	if once.Stale() {
		f.Previewed = true
		s.consoleFormError(w, r, "admin_user_new", v, staleForm("Nothing was created: this form had expired. "+
			"If you created this account already, find it in the user list. Otherwise check the details and press “Create the account” again."))
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
		s.undo(r, once) // nothing was created: the corrected form may be sent with the same token
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
	s.done(r, once, formResult{Username: c.User.Username, Name: c.User.FullName()})
	v.Temp = s.tempView(r, a, c, true)
	v.Done = "The account " + c.User.Username + " was created."
	s.tempRender(w, r, http.StatusCreated, v)
}
