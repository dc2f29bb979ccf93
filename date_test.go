package hmisauth_test

import (
	"testing"

	"github.com/hmisauth/hmisauth"
)

func TestParseDateTakesISOAndUSDates(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want hmisauth.Date
		ok   bool
	}{
		{"", "", true},
		{"2026-06-30", "2026-06-30", true},
		{" 2026-06-30 ", "2026-06-30", true},
		{"06/30/2026", "2026-06-30", true},
		{"6/3/2026", "2026-06-03", true},
		{"2026-02-30", "", false},
		{"30/06/2026", "", false}, // day first: no 30th month
		{"2026-6-30", "", false},
		{"06/30/26", "", false}, // a two-digit year is ambiguous
		{"tomorrow", "", false},
	} {
		got, err := hmisauth.ParseDate("expires_on", "The expiry date", tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDate(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil {
			e := hmisauth.AsError(err)
			if e == nil || e.Field != "expires_on" || e.Message != "The expiry date must be a real date, written like 2026-06-30 or 06/30/2026." {
				t.Errorf("ParseDate(%q) error %#v", tc.in, e)
			}
		}
	}
}

func TestParseISODateTakesOnlyISODates(t *testing.T) {
	if d, err := hmisauth.ParseISODate("expires_on", "2026-06-30"); err != nil || d != "2026-06-30" {
		t.Errorf("ISO date: %q %v", d, err)
	}
	_, err := hmisauth.ParseISODate("expires_on", "06/30/2026")
	if e := hmisauth.AsError(err); e == nil || e.Field != "expires_on" || e.Message != "expires_on must be a date written YYYY-MM-DD, like 2026-06-30." {
		t.Errorf("US date: %#v", e)
	}
}

// FuzzParseDate: whatever is typed, a date either parses to a valid YYYY-MM-DD that parses
// again to itself, or is refused with an error about the field.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-06-30", "6/30/2026", "", "2026-13-01", "0000-01-01", "1/1/0001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := hmisauth.ParseDate("d", "The date", s)
		if err != nil {
			if hmisauth.AsError(err) == nil || hmisauth.AsError(err).Field != "d" {
				t.Fatalf("error %v is not about the field", err)
			}
			return
		}
		again, err := hmisauth.ParseDate("d", "The date", string(d))
		if err != nil || again != d {
			t.Fatalf("%q parsed to %q, which parses to %q, %v", s, d, again, err)
		}
	})
}
