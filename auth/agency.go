package auth

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
)

// AgencyChange is an agency to create, or the fields of one to change (nil: unchanged).
type AgencyChange struct {
	Name           *string
	Seats          *int
	LicenseStarts  *hmisauth.Date
	LicenseExpires *hmisauth.Date
}

// CreateAgency adds an agency to a site.
func (s *Service) CreateAgency(ctx context.Context, siteKey string, c AgencyChange) (*hmisauth.Agency, error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, err
	}
	if c.Name == nil {
		return nil, hmisauth.FieldError("name", "Enter the agency's name.")
	}
	a := &hmisauth.Agency{Site: site.Key, CreatedAt: s.clock.Now()}
	if err := applyAgencyChange(a, c); err != nil {
		return nil, err
	}
	if err := s.store.CreateAgency(s.audit(ctx, site, hmisauth.EventAgencyCreated, "", agencySummary(a)), a); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "agency created", "site", site.Key, "agency", a.Name)
	return a, nil
}

// UpdateAgency changes an agency, found by its current name.
func (s *Service) UpdateAgency(ctx context.Context, siteKey, name string, c AgencyChange) (*hmisauth.Agency, error) {
	a, err := s.FindAgency(ctx, siteKey, name)
	if err != nil {
		return nil, err
	}
	if err := applyAgencyChange(a, c); err != nil {
		return nil, err
	}
	site, _ := s.Site(siteKey)
	if err := s.store.UpdateAgency(s.audit(ctx, site, hmisauth.EventAgencyUpdated, "", agencySummary(a)), a); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "agency updated", "site", a.Site, "agency", a.Name)
	return a, nil
}

// FindAgency finds an agency by name, case-insensitively.
func (s *Service) FindAgency(ctx context.Context, siteKey, name string) (*hmisauth.Agency, error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, err
	}
	a, err := s.store.AgencyByName(ctx, site.Key, strings.TrimSpace(name))
	if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
		return nil, hmisauth.Errorf(hmisauth.ENOTFOUND, "There is no agency called %q on %s.", name, site.Name)
	}
	return a, err
}

// Agencies lists a site's agencies.
func (s *Service) Agencies(ctx context.Context, siteKey string) ([]*hmisauth.Agency, error) {
	site, err := s.Site(siteKey)
	if err != nil {
		return nil, err
	}
	return s.store.Agencies(ctx, site.Key)
}

func applyAgencyChange(a *hmisauth.Agency, c AgencyChange) error {
	if c.Name != nil {
		name := strings.TrimSpace(*c.Name)
		if err := ValidateText("name", "agency name", name); err != nil {
			return err
		}
		if name == "" || utf8.RuneCountInString(name) > 200 {
			return hmisauth.FieldError("name", "An agency name must be 1 to 200 characters.")
		}
		a.Name = name
	}
	if c.Seats != nil {
		if *c.Seats < 0 {
			return hmisauth.FieldError("seats", "Seats must be 0 (no limit) or more.")
		}
		a.Seats = *c.Seats
	}
	if c.LicenseStarts != nil {
		a.LicenseStarts = *c.LicenseStarts
	}
	if c.LicenseExpires != nil {
		a.LicenseExpires = *c.LicenseExpires
	}
	if !a.LicenseStarts.IsZero() && !a.LicenseExpires.IsZero() && a.LicenseExpires.Before(a.LicenseStarts) {
		return hmisauth.FieldError("license_expires", "The license cannot expire before it starts.")
	}
	return nil
}

// agencySummary is an agency in one line for the audit log.
func agencySummary(a *hmisauth.Agency) string {
	seats := fmt.Sprintf("%d seats", a.Seats)
	switch a.Seats {
	case 0:
		seats = "no seat limit"
	case 1:
		seats = "1 seat"
	}
	exp := "license does not expire"
	if a.LicenseExpires != "" {
		exp = "license expires " + string(a.LicenseExpires)
	}
	return a.Name + ": " + seats + ", " + exp
}
