package argon2

import (
	"bytes"
	"math/rand/v2"
	"testing"

	upstream "golang.org/x/crypto/argon2"
)

// TestMatchesUpstreamOnReusedMemory is why this fork may exist: on one buffer reused across
// hashes of different sizes and lanes, and filled with garbage in between, every key equals
// golang.org/x/crypto/argon2's.
func TestMatchesUpstreamOnReusedMemory(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var m Memory
	for i := range 60 {
		pw := make([]byte, r.IntN(40))
		salt := make([]byte, 8+r.IntN(24))
		for _, b := range [][]byte{pw, salt} {
			for j := range b {
				b[j] = byte(r.Uint32())
			}
		}
		time := uint32(1 + r.IntN(3))
		threads := uint8(1 + r.IntN(4))
		memory := uint32(8*int(threads) + r.IntN(2048))
		keyLen := uint32(16 + r.IntN(49))
		for b := range m.blocks { // dirty memory from "someone else"
			for w := range m.blocks[b] {
				m.blocks[b][w] = r.Uint64()
			}
		}
		got := m.IDKey(pw, salt, time, memory, threads, keyLen)
		want := upstream.IDKey(pw, salt, time, memory, threads, keyLen)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d (t=%d m=%d p=%d len=%d): key differs from upstream", i, time, memory, threads, keyLen)
		}
	}
}

// TestDefaultCostMatchesUpstream checks the server's default cost against upstream,
// on fresh and on reused memory.
func TestDefaultCostMatchesUpstream(t *testing.T) {
	pw, salt := []byte("Horse-battery-staple-7"), []byte("0123456789abcdef")
	want := upstream.IDKey(pw, salt, 2, 19456, 1, 32)
	var m Memory
	for range 2 {
		if got := m.IDKey(pw, salt, 2, 19456, 1, 32); !bytes.Equal(got, want) {
			t.Fatal("default cost differs from upstream")
		}
	}
	if got := IDKey(pw, salt, 2, 19456, 1, 32); !bytes.Equal(got, want) {
		t.Fatal("one-off IDKey differs from upstream")
	}
}

func BenchmarkUpstreamIDKey(b *testing.B) {
	for b.Loop() {
		upstream.IDKey([]byte("Horse-battery-staple-7"), []byte("0123456789abcdef"), 2, 19456, 1, 32)
	}
}

func BenchmarkReusedIDKey(b *testing.B) {
	var m Memory
	for b.Loop() {
		m.IDKey([]byte("Horse-battery-staple-7"), []byte("0123456789abcdef"), 2, 19456, 1, 32)
	}
}
