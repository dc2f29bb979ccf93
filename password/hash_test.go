package password

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"gopkg.in/yaml.v3"

	"github.com/hmisauth/hmisauth"
)

// fast are tiny Argon2 parameters for tests about the pool and the rehash logic, where the
// cost of the hash itself is beside the point.
func fast(o Options) Options {
	o.MemoryKiB, o.Iterations, o.Parallelism = 64, 1, 1
	return o
}

func TestDefaultOptionsAreValid(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsValidateNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		change func(*Options)
		want   string
	}{
		{func(o *Options) { o.MemoryKiB = 8191 }, "memory_kib must be at least 8192 (8 MiB)"},
		{func(o *Options) { o.MemoryKiB = 1<<20 + 1 }, "memory_kib must be at most 1048576 (1 GiB)"},
		{func(o *Options) { o.Iterations = 0 }, "iterations must be between 1 and 20"},
		{func(o *Options) { o.Iterations = 21 }, "iterations must be between 1 and 20"},
		{func(o *Options) { o.Parallelism = 0 }, "parallelism must be between 1 and 16"},
		{func(o *Options) { o.Parallelism = 17 }, "parallelism must be between 1 and 16"},
		{func(o *Options) { o.Concurrency = -1 }, "concurrency must be between 0 (one per CPU) and 1024"},
		{func(o *Options) { o.Queue = -1 }, "queue must be 0 or more"},
		{func(o *Options) { o.QueueWait = -time.Second }, "queue_wait must be 0s or more"},
	} {
		o := DefaultOptions()
		tc.change(&o)
		if err := o.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate() = %v, want %q", err, tc.want)
		}
	}
	o := DefaultOptions()
	o.MemoryKiB, o.Iterations, o.Parallelism, o.Queue, o.QueueWait = 8192, 1, 1, 0, 0
	if err := o.Validate(); err != nil {
		t.Errorf("the smallest allowed values are refused: %v", err)
	}
}

func TestOptionsReadFromTheConfigFile(t *testing.T) {
	o := DefaultOptions()
	const file = "memory_kib: 65536\niterations: 3\nparallelism: 2\nconcurrency: 4\nqueue: 10\nqueue_wait: 1500ms\n"
	if err := yaml.Unmarshal([]byte(file), &o); err != nil {
		t.Fatal(err)
	}
	want := Options{MemoryKiB: 65536, Iterations: 3, Parallelism: 2, Concurrency: 4, Queue: 10, QueueWait: 1500 * time.Millisecond}
	if o != want {
		t.Errorf("decoded %+v, want %+v", o, want)
	}
}

func TestNewHasherFillsZeroCostAndPanicsOnInvalid(t *testing.T) {
	h := NewHasher(Options{Queue: 1})
	d := DefaultOptions()
	if h.opt.MemoryKiB != d.MemoryKiB || h.opt.Iterations != d.Iterations || h.opt.Parallelism != d.Parallelism ||
		h.opt.Concurrency < 1 || h.opt.Queue != 1 {
		t.Errorf("NewHasher(Options{Queue: 1}) has options %+v", h.opt)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "memory_kib") {
			t.Errorf("NewHasher with 1 KiB: recovered %v, want a panic naming memory_kib", r)
		}
	}()
	NewHasher(Options{MemoryKiB: 1})
}

func TestHashIsPHCAtCurrentOptionsAndVerifies(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(DefaultOptions())
	phc, err := h.Hash(ctx, "Horse-battery-staple-7")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(phc) {
		t.Fatalf("Hash = %q, not a PHC string with a 16-byte salt and 32-byte key at default cost", phc)
	}
	again, _ := h.Hash(ctx, "Horse-battery-staple-7")
	if again == phc {
		t.Error("two hashes of one password are equal: the salt is not random")
	}

	for _, tc := range []struct {
		pw     string
		wantOK bool
	}{
		{"Horse-battery-staple-7", true},
		{"horse-battery-staple-7", false},
		{"Horse-battery-staple-7 ", false},
		{"", false},
	} {
		ok, rehash, err := h.Verify(ctx, tc.pw, phc)
		if err != nil || ok != tc.wantOK || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want %v, false, nil", tc.pw, ok, rehash, err, tc.wantOK)
		}
	}
}

func TestVerifyReadsHashesFromTheReferenceImplementation(t *testing.T) {
	h := newHasher(fast(DefaultOptions()))
	for _, tc := range []struct{ pw, phc string }{{refPassword1, refPHC1}, {refPassword2, refPHC2}} {
		if ok, _, err := h.Verify(context.Background(), tc.pw, tc.phc); !ok || err != nil {
			t.Errorf("Verify(%q, %s) = %v, %v; want true", tc.pw, tc.phc, ok, err)
		}
		if ok, _, _ := h.Verify(context.Background(), tc.pw+"x", tc.phc); ok {
			t.Errorf("Verify(%q) matched %s", tc.pw+"x", tc.phc)
		}
	}
}

func TestVerifyAsksForRehashWhenParametersRise(t *testing.T) {
	ctx := context.Background()
	old := newHasher(fast(DefaultOptions()))
	phc, err := old.Hash(ctx, "Horse-battery-staple-7")
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, _ := old.Verify(ctx, "Horse-battery-staple-7", phc); !ok || rehash {
		t.Errorf("same options: ok=%v rehash=%v; want true, false", ok, rehash)
	}
	for name, raise := range map[string]func(*Options){
		"memory":      func(o *Options) { o.MemoryKiB = 128 },
		"iterations":  func(o *Options) { o.Iterations = 2 },
		"parallelism": func(o *Options) { o.Parallelism, o.MemoryKiB = 2, 64 },
	} {
		o := fast(DefaultOptions())
		raise(&o)
		h := newHasher(o)
		// The stored hash's own parameters verify it, whatever the new options say.
		if ok, rehash, err := h.Verify(ctx, "Horse-battery-staple-7", phc); !ok || !rehash || err != nil {
			t.Errorf("%s raised: Verify = %v, %v, %v; want true, true, nil", name, ok, rehash, err)
		}
		if ok, rehash, _ := h.Verify(ctx, "wrong", phc); ok || rehash {
			t.Errorf("%s raised, wrong password: ok=%v rehash=%v; want false, false", name, ok, rehash)
		}
	}
	lower := newHasher(fast(DefaultOptions()))
	higher, _ := newHasher(Options{MemoryKiB: 128, Iterations: 2, Parallelism: 1}).Hash(ctx, "pw")
	if ok, rehash, _ := lower.Verify(ctx, "pw", higher); !ok || rehash {
		t.Errorf("a hash above the options: ok=%v rehash=%v; want true, false", ok, rehash)
	}
}

func TestVerifyRefusesMalformedHashAsInternalError(t *testing.T) {
	h := newHasher(fast(DefaultOptions()))
	ok, _, err := h.Verify(context.Background(), "pw", "$argon2id$v=19$m=4194305,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$EZ2c/ZaXsLnad+CxQlBZo3JISdKa7gicHlrlTOfywfA")
	if ok || err == nil || hmisauth.ErrorCode(err) != hmisauth.EINTERNAL {
		t.Errorf("Verify of a tampered hash = %v, %v; want false and an internal error", ok, err)
	}
}

// argonCall is what one Argon2 call was asked to do.
type argonCall struct {
	t, m   uint32
	p      uint8
	keyLen uint32
	salt   int
}

func TestVerifyDummyFailsAndCostsOneHashAtCurrentOptions(t *testing.T) {
	o := fast(DefaultOptions())
	o.MemoryKiB, o.Iterations = 96, 3
	h := newHasher(o)
	var mu sync.Mutex
	var calls []argonCall
	h.idKey = func(pw, salt []byte, tm, m uint32, p uint8, kl uint32) []byte {
		mu.Lock()
		calls = append(calls, argonCall{tm, m, p, kl, len(salt)})
		mu.Unlock()
		return argon2.IDKey(pw, salt, tm, m, p, kl)
	}
	ctx := context.Background()
	stored, _ := h.Hash(ctx, "Horse-battery-staple-7")
	h.Verify(ctx, "Horse-battery-staple-7", stored)
	for _, pw := range []string{"Horse-battery-staple-7", "", "anything"} {
		if err := h.VerifyDummy(ctx, pw); err != nil {
			t.Fatalf("VerifyDummy(%q) = %v", pw, err)
		}
	}
	want := argonCall{3, 96, 1, keyLen, saltLen}
	if len(calls) != 5 {
		t.Fatalf("%d Argon2 calls, want 5 (hash, verify, 3 dummies)", len(calls))
	}
	for i, c := range calls {
		if c != want {
			t.Errorf("call %d: %+v, want %+v: a dummy must cost what a real verify costs", i, c, want)
		}
	}
	// The dummy is a well-formed hash that the password does not match.
	if ok, _, err := h.Verify(ctx, "Horse-battery-staple-7", h.dummy.String()); ok || err != nil {
		t.Errorf("Verify against the dummy = %v, %v; want false, nil", ok, err)
	}
}

// BenchmarkHashRawParallel is the machine's raw Argon2id rate with every CPU busy, to compare
// BenchmarkHashParallel against: the pool should cost next to nothing on top.
func BenchmarkHashRawParallel(b *testing.B) {
	o := DefaultOptions()
	pw, salt := []byte("Horse-battery-staple-7"), randomBytes(saltLen)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			argon2.IDKey(pw, salt, o.Iterations, o.MemoryKiB, o.Parallelism, keyLen)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

func BenchmarkHashParallel(b *testing.B) {
	h := NewHasher(DefaultOptions())
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "Horse-battery-staple-7"); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}
