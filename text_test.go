package hmisauth_test

import (
	"testing"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
)

func TestNamesPeopleTypeArePrintable(t *testing.T) {
	for _, s := range []string{"", "Jane", "José Núñez", "Mary-Jo O'Brien", "李小龙", "محمد",
		"Ng\u200cuyen", "👩\u200d👩\u200d👧", "Hope & Help, Inc.", "(555) 010-0100 x12"} {
		if r, bad := hmisauth.UnprintableRune(s); bad {
			t.Errorf("%q: %U found unprintable", s, r)
		}
	}
}

func TestControlCharactersAreUnprintable(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want rune
	}{
		{"Jane\nusername: admin", '\n'},
		{"Jane\r", '\r'},
		{"Ja\x00ne", 0},
		{"\x1b[2J", 0x1b},
		{"tab\there", '\t'},
		{"del\x7f", 0x7f},
		{"next\u0085line", 0x85},
		{"c1\u009b", 0x9b},
		{"line\u2028sep", 0x2028},
		{"para\u2029sep", 0x2029},
		{"txt\u202eexe.doc", 0x202e},
		{"\u202aembed", 0x202a},
		{"isolate\u2066", 0x2066},
		{"pop\u2069", 0x2069},
		{"mark\u200e", 0x200e},
		{"mark\u200f", 0x200f},
		{"arabic\u061c", 0x061c},
		{"bad\xffbyte", utf8.RuneError},
		{"Jane\u202e\n", 0x202e}, // the first one found
	} {
		r, bad := hmisauth.UnprintableRune(tc.in)
		if !bad || r != tc.want {
			t.Errorf("%q: got %U, %v; want %U", tc.in, r, bad, tc.want)
		}
	}
	// The replacement character typed as itself is printable: only a broken byte is not.
	if r, bad := hmisauth.UnprintableRune("\uFFFD"); bad {
		t.Errorf("U+FFFD itself found unprintable (%U)", r)
	}
}
