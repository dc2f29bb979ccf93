package auth_test

import (
	"bytes"
	"encoding/base64"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
)

// These tests back OWASP ASVS 5.0 rows of docs/SECURITY.md that no other test checked.

// ASVS 6.4.3: a reset through the e-mailed link sets the password and nothing else. It opens no
// session, and 2-step verification stays on: the new password alone does not sign in.
func TestAResetLeavesTwoStepVerificationOn(t *testing.T) {
	f := newFixture(t)
	u, secret, _ := f.withTOTP("Ana", "Diaz")
	f.forgot(u.Username)
	if err := f.reset(f.resetToken(), newPassword); err != nil {
		t.Fatal(err)
	}
	if !f.reload(u.Username).MFAEnabled {
		t.Fatal("the reset turned 2-step verification off")
	}
	_, err := f.loginWith(u.Username, newPassword, "")
	wantCode(t, err, hmisauth.ETOTPRequired)
	if _, err := f.loginWith(u.Username, newPassword, code(t, secret, f.clock.Now())); err != nil {
		t.Errorf("the new password with a code: %v", err)
	}
}

// ASVS 7.2.3 (and 7.2.2): every session token is 256 bits, different each time, and the
// store keeps only its SHA-256.
func TestSessionTokensAre256RandomBitsStoredHashed(t *testing.T) {
	f := newFixture(t)
	u := f.user("Ana", "Diaz")
	seen := map[string]bool{}
	for range 20 {
		res := f.login(u.Username, goodPassword)
		raw, err := base64.RawURLEncoding.DecodeString(res.Token)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q is not 32 bytes of base64url (%v)", res.Token, err)
		}
		if seen[res.Token] {
			t.Fatalf("token %q issued twice", res.Token)
		}
		seen[res.Token] = true
		if stored := res.Principal.Session.TokenHash; !bytes.Equal(stored, auth.HashToken(res.Token)) ||
			bytes.Contains(stored, []byte(res.Token)) || bytes.Contains(stored, raw) {
			t.Fatalf("the session keeps %x, not the token's SHA-256", stored)
		}
	}
}

// ASVS 6.5.3 and 7.2.3: every secret (session and reset tokens, recovery codes, salts, TOTP
// seeds, OIDC codes and tokens) comes from crypto/rand. No package that makes one imports
// math/rand, and the TOTP library keeps its default reader (crypto/rand.Reader): no call sets
// GenerateOpts.Rand.
func TestSecretsComeFromCryptoRand(t *testing.T) {
	fset := token.NewFileSet()
	for _, dir := range []string{".", "../password", "../oidc", "../web", ".."} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s (%v)", dir, err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			file, err := parser.ParseFile(fset, name, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == "math/rand" || p == "math/rand/v2" {
					t.Errorf("%s imports %s", name, p)
				}
			}
			ast.Inspect(file, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				if sel, ok := lit.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "GenerateOpts" {
					for _, e := range lit.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok && kv.Key.(*ast.Ident).Name == "Rand" {
							t.Errorf("%s: a TOTP secret from a reader of its own choosing", fset.Position(kv.Pos()))
						}
					}
				}
				return true
			})
		}
	}
}

// ASVS 6.3.2: the administrator a new site gets on first start has no default password: a
// random one for one sign-in only, which must be replaced before anything else.
func TestFirstAdministratorHasNoDefaultPassword(t *testing.T) {
	var temps []string
	for range 2 {
		f := newFixture(t)
		c, err := f.svc.EnsureAdministrator(f.ctx, "live")
		if err != nil {
			t.Fatal(err)
		}
		temps = append(temps, c.TemporaryPassword)
		p := f.login(c.User.Username, c.TemporaryPassword).Principal
		if got := actionNames(p); !slices.Contains(got, "change_password/temporary") {
			t.Errorf("first sign-in as %s asks for %v, not a new password", c.User.Username, got)
		}
		wantCode(t, p.Require(""), hmisauth.EActionRequired)
		_, err = f.svc.Login(f.ctx, auth.LoginRequest{Site: "live", Username: c.User.Username, Password: c.TemporaryPassword})
		wantCode(t, err, hmisauth.ETemporaryUsed)
	}
	if temps[0] == temps[1] || len(temps[0]) < 16 {
		t.Errorf("two installations' first administrators got %q and %q", temps[0], temps[1])
	}
}
