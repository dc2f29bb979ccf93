package hmisauth

import (
	"strings"
	"time"
)

// Date is a calendar date (a license expiry, a signature), without a time of day or zone:
// "2026-06-30". The zero Date means "not set".
type Date string

// DateLayout is how dates are written everywhere: in the CLI, the API and the database.
const DateLayout = "2006-01-02"

// DateOf returns t's calendar date in t's own location.
func DateOf(t time.Time) Date { return Date(t.Format(DateLayout)) }

// usDateLayout is how people in the US write dates by hand (6/30/2026, 06/30/2026).
const usDateLayout = "1/2/2006"

// ParseDate parses a date from outside input: YYYY-MM-DD, or month/day/year as people in the
// US write it. "" is the zero Date. The error is about field, and names the date as label
// ("The license expiry date", "--expires").
func ParseDate(field, label, s string) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	for _, layout := range []string{DateLayout, usDateLayout} {
		if t, err := time.Parse(layout, s); err == nil {
			return DateOf(t), nil
		}
	}
	return "", FieldError(field, label+" must be a real date, written like 2026-06-30 or 06/30/2026.")
}

// ParseISODate parses YYYY-MM-DD only, for the JSON API, where a program should not have its
// dates guessed at. "" is the zero Date; the error names field.
func ParseISODate(field, s string) (Date, error) {
	if s == "" {
		return "", nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return "", FieldError(field, field+" must be a date written YYYY-MM-DD, like 2026-06-30.")
	}
	return DateOf(t), nil
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == "" }

// Before reports whether d is strictly before e. Both must be set.
func (d Date) Before(e Date) bool { return d < e }

// AddDays returns the date n days after d.
func (d Date) AddDays(n int) Date {
	t, err := time.Parse(DateLayout, string(d))
	if err != nil {
		return d
	}
	return DateOf(t.AddDate(0, 0, n))
}
