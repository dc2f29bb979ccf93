package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// The administration API (CONTRACT.md). Every handler first turns the caller into an
// *auth.Admin, which is where roles and scope are enforced: a token of another site is 401
// before that, anyone who is not an administrator 403, and an agency admin reaching outside
// their agency 403 from the Admin's own checks.

// admin authenticates the call and returns the caller's administrative powers; it answers the
// error itself and returns nil when there are none.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) *auth.Admin {
	p := s.principal(w, r)
	if p == nil {
		return nil
	}
	a, err := s.svc.Admin(p)
	if err != nil {
		s.writeJSONError(w, r, err)
		return nil
	}
	return a
}

// adminUserJSON is an account as administrators see it, with the login doctor's problems.
type adminUserJSON struct {
	Site      string `json:"site"`
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Role      string `json:"role"`
	Agency    string `json:"agency,omitempty"`
	// SecurityOfficer: an agency admin who reads their agency's audit log.
	SecurityOfficer bool       `json:"security_officer"`
	Status          string     `json:"status"`
	FailedAttempts  int        `json:"failed_attempts"`
	LockedAt        *time.Time `json:"locked_at"`
	Disabled        bool       `json:"disabled"`
	DisabledAt      *time.Time `json:"disabled_at"`
	// DisabledReason and DepartureReportedOn are why a disabled account was disabled and the
	// day its agency reported it ("" and null when not recorded).
	DisabledReason      string         `json:"disabled_reason"`
	DepartureReportedOn *hmisauth.Date `json:"departure_reported_on"`
	PasswordChangedAt   *time.Time     `json:"password_changed_at"`
	PasswordTemporary   bool           `json:"password_temporary"`
	MustChangePassword  bool           `json:"must_change_password"`
	LastLoginAt         *time.Time     `json:"last_login_at"`
	CreatedAt           *time.Time     `json:"created_at"`
	TermsVersion        int            `json:"terms_version"`
	Agreement           *agreementJSON `json:"agreement"`
	MFAEnabled          bool           `json:"mfa_enabled"`
	Problems            []problemJSON  `json:"problems"`
}

type agreementJSON struct {
	SignedOn           hmisauth.Date `json:"signed_on"`
	SupervisorSignedOn hmisauth.Date `json:"supervisor_signed_on,omitempty"`
	DirectorSignedOn   hmisauth.Date `json:"director_signed_on,omitempty"`
	ExpiresOn          hmisauth.Date `json:"expires_on,omitempty"`
}

type problemJSON struct {
	Code     string     `json:"code"`
	Since    *time.Time `json:"since"`
	Message  string     `json:"message"`
	Fix      string     `json:"fix"`
	Blocking bool       `json:"blocking"`
}

// utcPtr is t in UTC, or nil (JSON null) for "never".
func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func newAdminUserJSON(d *auth.Diagnosis) adminUserJSON {
	u := d.User
	v := adminUserJSON{
		Site: u.Site, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, Phone: u.Phone, Role: string(u.Role), SecurityOfficer: u.SecurityOfficer, Status: auth.Status(u),
		FailedAttempts: u.FailedAttempts, LockedAt: utcPtr(u.LockedAt),
		Disabled: u.Disabled, DisabledAt: utcPtr(u.DisabledAt),
		PasswordChangedAt: utcPtr(u.PasswordChangedAt), PasswordTemporary: u.PasswordTemporary,
		MustChangePassword: u.MustChangePassword, LastLoginAt: utcPtr(u.LastLoginAt),
		CreatedAt: utcPtr(u.CreatedAt), TermsVersion: u.TermsVersion, MFAEnabled: u.MFAEnabled, Problems: []problemJSON{},
	}
	if d.Agency != nil {
		v.Agency = d.Agency.Name
	}
	if dep := d.Departure; dep != nil {
		v.DisabledReason = dep.Reason
		if !dep.ReportedOn.IsZero() {
			v.DepartureReportedOn = &dep.ReportedOn
		}
	}
	if !u.AgreementSignedOn.IsZero() {
		v.Agreement = &agreementJSON{SignedOn: u.AgreementSignedOn, SupervisorSignedOn: u.AgreementSupervisorSignedOn,
			DirectorSignedOn: u.AgreementDirectorSignedOn, ExpiresOn: u.AgreementExpiresOn}
	}
	for _, p := range d.Problems {
		v.Problems = append(v.Problems, problemJSON{Code: p.Code, Since: utcPtr(p.Since), Message: p.Message,
			Fix: p.Fix, Blocking: p.Blocking})
	}
	return v
}

// writeAdminUser answers the account as it is now, diagnosed.
func (s *Server) writeAdminUser(w http.ResponseWriter, r *http.Request, a *auth.Admin, status int, username string) {
	d, err := a.User(r.Context(), username)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, status, newAdminUserJSON(d))
}

// apiFieldNames maps the rules' field names to the API's where they differ.
var apiFieldNames = map[string]string{"first": "first_name", "last": "last_name"}

// apiFields renames the field an application error names to the API's name for it.
func apiFields(err error) error {
	if e := hmisauth.AsError(err); e != nil && apiFieldNames[e.Field] != "" {
		c := *e
		c.Field = apiFieldNames[e.Field]
		return &c
	}
	return err
}

type createUserRequest struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Agency    string `json:"agency"`
	Role      string `json:"role"`
	Username  string `json:"username"`
}

type temporaryPasswordResponse struct {
	Username          string `json:"username"`
	TemporaryPassword string `json:"temporary_password"`
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	var req createUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	c, err := a.CreateUser(r.Context(), auth.NewUser{FirstName: req.FirstName, LastName: req.LastName,
		Email: req.Email, Phone: req.Phone, Agency: req.Agency, Role: req.Role, Username: req.Username})
	if err != nil {
		s.writeJSONError(w, r, apiFields(err))
		return
	}
	w.Header().Set("Location", "/api/v1/sites/"+a.Site().Key+"/users/"+url.PathEscape(c.User.Username))
	writeJSON(w, http.StatusCreated, temporaryPasswordResponse{Username: c.User.Username, TemporaryPassword: c.TemporaryPassword})
}

type usersResponse struct {
	Users     []adminUserJSON `json:"users"`
	NextAfter string          `json:"next_after,omitempty"`
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	q := r.URL.Query()
	limit, err := queryInt(q, "limit")
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	page, err := a.Users(r.Context(), auth.UserFilter{Text: q.Get("query"), Agency: q.Get("agency"),
		Status: q.Get("status"), After: q.Get("after"), Limit: int(limit)})
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	res := usersResponse{Users: []adminUserJSON{}, NextAfter: page.Next}
	for _, d := range page.Users {
		res.Users = append(res.Users, newAdminUserJSON(d))
	}
	writeJSON(w, http.StatusOK, res)
}

// queryInt reads a positive whole number from the query string (0 when absent).
func queryInt(q url.Values, name string) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, hmisauth.FieldError(name, name+" must be a whole number above 0.")
	}
	return n, nil
}

func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) {
	if a := s.admin(w, r); a != nil {
		s.writeAdminUser(w, r, a, http.StatusOK, r.PathValue("username"))
	}
}

// updateUserRequest is PATCH /users/{username}: a field left out (or null) stays as it is.
type updateUserRequest struct {
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Email     *string `json:"email"`
	Phone     *string `json:"phone"`
	Agency    *string `json:"agency"`
	Role      *string `json:"role"`
	// SecurityOfficer (sysadmin only) is applied after the other fields, so one call can make
	// someone an agency admin and their agency's officer.
	SecurityOfficer *bool `json:"security_officer"`
}

func (s *Server) apiUpdateUser(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	var req updateUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	username := r.PathValue("username")
	if req.SecurityOfficer != nil && !a.IsSysadmin() {
		// Refused before anything changes, not after the other fields are saved.
		s.writeJSONError(w, r, hmisauth.Errorf(hmisauth.EFORBIDDEN, "Only a system administrator can choose an agency's security officer."))
		return
	}
	profile := req.FirstName != nil || req.LastName != nil || req.Email != nil || req.Phone != nil ||
		req.Agency != nil || req.Role != nil
	if profile || req.SecurityOfficer == nil {
		u, err := a.UpdateUser(r.Context(), username, auth.ProfileChange{FirstName: req.FirstName,
			LastName: req.LastName, Email: req.Email, Phone: req.Phone, Agency: req.Agency, Role: req.Role})
		if err != nil {
			s.writeJSONError(w, r, apiFields(err))
			return
		}
		username = u.Username
	}
	if req.SecurityOfficer != nil {
		u, err := a.SetSecurityOfficer(r.Context(), username, *req.SecurityOfficer)
		if err != nil {
			s.writeJSONError(w, r, apiFields(err))
			return
		}
		username = u.Username
	}
	s.writeAdminUser(w, r, a, http.StatusOK, username)
}

// adminStep serves the user actions that take no body and answer the account as it is after.
func (s *Server) adminStep(step func(*auth.Admin, *http.Request, string) (*hmisauth.User, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := s.admin(w, r)
		if a == nil {
			return
		}
		u, err := step(a, r, r.PathValue("username"))
		if err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		s.writeAdminUser(w, r, a, http.StatusOK, u.Username)
	}
}

func (s *Server) apiUnlock() http.HandlerFunc {
	return s.adminStep(func(a *auth.Admin, r *http.Request, username string) (*hmisauth.User, error) {
		return a.Unlock(r.Context(), username)
	})
}

func (s *Server) apiExpirePassword() http.HandlerFunc {
	return s.adminStep(func(a *auth.Admin, r *http.Request, username string) (*hmisauth.User, error) {
		return a.ExpirePassword(r.Context(), username)
	})
}

func (s *Server) apiResetMFA() http.HandlerFunc {
	return s.adminStep(func(a *auth.Admin, r *http.Request, username string) (*hmisauth.User, error) {
		return a.ResetMFA(r.Context(), username)
	})
}

func (s *Server) apiEnable() http.HandlerFunc {
	return s.adminStep(func(a *auth.Admin, r *http.Request, username string) (*hmisauth.User, error) {
		return a.SetDisabled(r.Context(), username, false)
	})
}

// disableRequest is the optional body of POST …/disable. A client that sends none (as before
// departures were kept) disables with reason "other", reported today.
type disableRequest struct {
	Reason     string `json:"reason"`
	ReportedOn string `json:"reported_on"`
}

func (s *Server) apiDisable() http.HandlerFunc {
	return s.adminStep(func(a *auth.Admin, r *http.Request, username string) (*hmisauth.User, error) {
		var req disableRequest
		if r.ContentLength != 0 {
			if err := decodeJSON(nil, r, &req); err != nil {
				return nil, err
			}
		}
		if req.Reason == "" {
			req.Reason = hmisauth.DepartureOther
		}
		d, err := hmisauth.ParseISODate("reported_on", req.ReportedOn)
		if err != nil {
			return nil, err
		}
		return a.Disable(r.Context(), username, auth.Departure{Reason: req.Reason, ReportedOn: d})
	})
}

func (s *Server) apiTemporaryPassword(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	c, err := a.SetTemporaryPassword(r.Context(), r.PathValue("username"))
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, temporaryPasswordResponse{Username: c.User.Username, TemporaryPassword: c.TemporaryPassword})
}

func (s *Server) apiEndSessions(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	if err := a.EndSessions(r.Context(), r.PathValue("username")); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type agreementRequest struct {
	SignedOn           string `json:"signed_on"`
	SupervisorSignedOn string `json:"supervisor_signed_on"`
	DirectorSignedOn   string `json:"director_signed_on"`
	ExpiresOn          string `json:"expires_on"`
}

func (s *Server) apiRecordAgreement(w http.ResponseWriter, r *http.Request) {
	a := s.admin(w, r)
	if a == nil {
		return
	}
	var req agreementRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	var ag auth.Agreement
	for _, f := range []struct {
		name, value string
		to          *hmisauth.Date
	}{{"signed_on", req.SignedOn, &ag.Signed}, {"supervisor_signed_on", req.SupervisorSignedOn, &ag.Supervisor},
		{"director_signed_on", req.DirectorSignedOn, &ag.Director}, {"expires_on", req.ExpiresOn, &ag.Expires}} {
		d, err := hmisauth.ParseISODate(f.name, f.value)
		if err != nil {
			s.writeJSONError(w, r, err)
			return
		}
		*f.to = d
	}
	u, err := a.RecordAgreement(r.Context(), r.PathValue("username"), ag)
	if err != nil {
		s.writeJSONError(w, r, err)
		return
	}
	s.writeAdminUser(w, r, a, http.StatusOK, u.Username)
}
