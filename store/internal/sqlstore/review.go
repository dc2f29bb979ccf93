package sqlstore

import (
	"time"

	"github.com/hmisauth/hmisauth"
)

// NotOfficerMaterial is the EINVALID answer for marking as security officer someone who is
// not an agency admin with an agency.
func NotOfficerMaterial() error {
	return &hmisauth.Error{Code: hmisauth.EINVALID, Field: "security_officer",
		Message: "Only an agency administrator can be their agency's security officer. Make them an agency administrator first."}
}

// PrepareReview stamps a review's time (now when zero) at the stored precision.
func PrepareReview(r *hmisauth.LogReview) {
	if r.At.IsZero() {
		r.At = Now()
	}
	r.At = r.At.UTC().Truncate(time.Microsecond)
}
