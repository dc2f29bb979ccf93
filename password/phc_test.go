package password

import (
	"strings"
	"testing"
)

// Made by the Argon2 reference implementation (the argon2 command of Debian's argon2 package),
// not by this package, so a match proves we read and compute the standard format.
const (
	refPHC1      = "$argon2id$v=19$m=1024,t=2,p=1$aG1pc2F1dGgtc2FsdC0xNg$SLH8YtsJkc63A2SQDnUcf7HpmM1xO2XHK4efaj5yiUQ"
	refPassword1 = "Horse-battery-staple-7"
	refPHC2      = "$argon2id$v=19$m=19456,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$EZ2c/ZaXsLnad+CxQlBZo3JISdKa7gicHlrlTOfywfA"
	refPassword2 = "correct horse"
)

func TestParsePHCRoundTrip(t *testing.T) {
	for _, s := range []string{refPHC1, refPHC2} {
		p, err := ParsePHC(s)
		if err != nil {
			t.Fatalf("ParsePHC(%q): %v", s, err)
		}
		if got := p.String(); got != s {
			t.Errorf("round trip:\n got %s\nwant %s", got, s)
		}
	}
	p, _ := ParsePHC(refPHC2)
	if p.MemoryKiB != 19456 || p.Iterations != 3 || p.Parallelism != 2 ||
		string(p.Salt) != "saltsaltsaltsalt" || len(p.Key) != 32 {
		t.Errorf("ParsePHC(refPHC2) = %+v", p)
	}
}

func TestParsePHCRejectsMalformedAndTampered(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "EZ2c/ZaXsLnad+CxQlBZo3JISdKa7gicHlrlTOfywfA"
	ok := "$argon2id$v=19$m=19456,t=3,p=2$" + salt + "$" + key
	if _, err := ParsePHC(ok); err != nil {
		t.Fatalf("the base case must parse: %v", err)
	}
	for _, tc := range []struct{ name, phc, wantErr string }{
		{"empty", "", "not in PHC format"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "not in PHC format"},
		{"no leading $", strings.TrimPrefix(ok, "$"), "not in PHC format"},
		{"trailing $", ok + "$", "not in PHC format"},
		{"argon2i", strings.Replace(ok, "argon2id", "argon2i", 1), "only argon2id"},
		{"version 16", strings.Replace(ok, "v=19", "v=16", 1), "only v=19"},
		{"no version", "$argon2id$m=19456,t=3,p=2$" + salt + "$" + key, "not in PHC format"},
		{"order", "$argon2id$v=19$t=3,m=19456,p=2$" + salt + "$" + key, "expected parameter m="},
		{"extra param", "$argon2id$v=19$m=19456,t=3,p=2,keyid=1$" + salt + "$" + key, "exactly m="},
		{"leading zero", strings.Replace(ok, "m=19456", "m=019456", 1), "not a plain number"},
		{"plus sign", strings.Replace(ok, "t=3", "t=+3", 1), "not a plain number"},
		{"negative", strings.Replace(ok, "t=3", "t=-3", 1), "not a plain number"},
		{"space", strings.Replace(ok, "t=3", "t= 3", 1), "not a plain number"},
		{"empty number", strings.Replace(ok, "t=3", "t=", 1), "not a plain number"},
		{"overflow", strings.Replace(ok, "m=19456", "m=99999999999", 1), "not a plain number"},
		{"memory over 1 GiB", strings.Replace(ok, "m=19456", "m=1048577", 1), "outside 1..1048576"},
		{"memory uint32 max", strings.Replace(ok, "m=19456", "m=4294967295", 1), "outside"},
		{"zero memory", strings.Replace(ok, "m=19456", "m=0", 1), "outside"},
		{"memory under 8 KiB per lane", strings.Replace(ok, "m=19456", "m=15", 1), "8 KiB per lane"},
		{"iterations over 100", strings.Replace(ok, "t=3", "t=101", 1), "outside 1..100"},
		{"zero iterations", strings.Replace(ok, "t=3", "t=0", 1), "outside"},
		{"zero lanes", strings.Replace(ok, "p=2", "p=0", 1), "outside"},
		{"too many lanes", strings.Replace(ok, "p=2", "p=65", 1), "outside 1..64"},
		{"padded salt", strings.Replace(ok, salt, salt+"==", 1), "not unpadded base64"},
		{"newline in salt", strings.Replace(ok, salt, salt[:4]+"\n"+salt[4:], 1), "not unpadded base64"},
		{"url base64 in key", strings.Replace(ok, key, strings.ReplaceAll(key, "/", "_"), 1), "not unpadded base64"},
		{"non-canonical salt", strings.Replace(ok, salt, salt[:len(salt)-1]+"B", 1), "not canonical"},
		{"short salt", strings.Replace(ok, salt, "c2FsdA", 1), "salt is 4 bytes"},
		{"long salt", strings.Replace(ok, salt, strings.Repeat("A", 88), 1), "salt is 66 bytes"},
		{"empty key", strings.TrimSuffix(ok, key), "key is 0 bytes"},
		{"short key", strings.Replace(ok, key, "EZ2c/ZaXsLnad+Cx", 1), "key is 12 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePHC(tc.phc)
			if err == nil {
				t.Fatalf("ParsePHC(%q) accepted", tc.phc)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func FuzzParsePHC(f *testing.F) {
	for _, s := range []string{
		refPHC1, refPHC2, "", "$", "$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=4194304,t=100,p=64$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 86),
		"$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePHC(s)
		if err != nil {
			return
		}
		if got := p.String(); got != s {
			t.Fatalf("accepted %q but it re-serialises as %q", s, got)
		}
		if p.MemoryKiB > maxPHCMemoryKiB || p.Iterations > maxPHCIterations || p.Parallelism > maxPHCParallelism {
			t.Fatalf("accepted out-of-bounds parameters %+v", p)
		}
	})
}
