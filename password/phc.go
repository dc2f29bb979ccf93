package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PHC is a parsed Argon2id hash in the PHC string format that we store:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// The parameters travel with each hash so they can be raised later and old hashes upgraded at
// the next sign-in.
type PHC struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	Salt        []byte
	Key         []byte
}

// argon2Version is Argon2 version 1.3 (0x13), the only one golang.org/x/crypto/argon2 computes.
const argon2Version = 19

// Bounds on a stored hash. They are far above anything we write (Options.Validate allows at
// most 1 GiB and 20 iterations) but stop a tampered or corrupt database row from making a single
// Verify allocate without limit or run for minutes.
const (
	maxPHCMemoryKiB   = 1 << 20 // 1 GiB, the most Options allow
	maxPHCIterations  = 100
	maxPHCParallelism = 64
	minPHCSalt        = 8
	maxPHCSalt        = 64
	minPHCKey         = 16
	maxPHCKey         = 64
)

// b64 is the PHC format's base64: standard alphabet, no padding. Strict so that the only
// accepted spelling of some bytes is the one String writes back.
func b64() *base64.Encoding { return base64.RawStdEncoding.Strict() }

// String returns p in PHC string format.
func (p PHC) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2Version,
		p.MemoryKiB, p.Iterations, p.Parallelism, b64().EncodeToString(p.Salt), b64().EncodeToString(p.Key))
}

// ParsePHC parses an Argon2id PHC string. It is strict: only the exact form String writes is
// accepted (so a parsed hash always re-serialises to the same text), and parameters outside
// sane bounds are refused before any work is done with them.
func ParsePHC(s string) (PHC, error) {
	var p PHC
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, errors.New("password hash: not in PHC format $argon2id$v=19$m=…,t=…,p=…$salt$key")
	}
	if parts[1] != "argon2id" {
		return p, fmt.Errorf("password hash: algorithm %.20q is not supported, only argon2id", parts[1])
	}
	if parts[2] != "v=19" {
		return p, fmt.Errorf("password hash: version %.20q is not supported, only v=19", parts[2])
	}

	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, errors.New("password hash: parameters must be exactly m=…,t=…,p=… in that order")
	}
	m, err := phcParam(params[0], "m", maxPHCMemoryKiB)
	if err != nil {
		return p, err
	}
	t, err := phcParam(params[1], "t", maxPHCIterations)
	if err != nil {
		return p, err
	}
	par, err := phcParam(params[2], "p", maxPHCParallelism)
	if err != nil {
		return p, err
	}
	if m < 8*par {
		// Argon2 needs 8 KiB per lane; x/crypto would silently raise m, and the hash would no
		// longer mean what its text says.
		return p, fmt.Errorf("password hash: m=%d is below the Argon2 minimum of 8 KiB per lane (p=%d)", m, par)
	}
	p.MemoryKiB, p.Iterations, p.Parallelism = m, t, uint8(par)

	if p.Salt, err = phcBytes(parts[4], "salt", minPHCSalt, maxPHCSalt); err != nil {
		return PHC{}, err
	}
	if p.Key, err = phcBytes(parts[5], "key", minPHCKey, maxPHCKey); err != nil {
		return PHC{}, err
	}
	return p, nil
}

// phcParam parses "name=N" with N a canonical decimal (no sign, no leading zero) in 1..max.
func phcParam(s, name string, max uint32) (uint32, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, fmt.Errorf("password hash: expected parameter %s= but found %.20q", name, s)
	}
	if v == "" || len(v) > 10 || (v[0] == '0' && len(v) > 1) || strings.TrimLeft(v, "0123456789") != "" {
		return 0, fmt.Errorf("password hash: %s=%.20q is not a plain number", name, v)
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n < 1 || n > uint64(max) {
		return 0, fmt.Errorf("password hash: %s=%s is outside 1..%d", name, v, max)
	}
	return uint32(n), nil
}

// phcBytes decodes unpadded standard base64 of min..max bytes. The decoder itself skips \r and
// \n, so the alphabet is checked first: otherwise two different strings would parse the same.
func phcBytes(s, name string, min, max int) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return nil, fmt.Errorf("password hash: %s is not unpadded base64", name)
		}
	}
	b, err := b64().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("password hash: %s is not canonical unpadded base64", name)
	}
	if len(b) < min || len(b) > max {
		return nil, fmt.Errorf("password hash: %s is %d bytes; expected %d to %d", name, len(b), min, max)
	}
	return b, nil
}
