package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/hmisauth/hmisauth/password/internal/argon2"
)

// Options configure hashing; yaml tags are the config file keys under `password_hash:`.
type Options struct {
	// MemoryKiB, Iterations and Parallelism are the Argon2id cost of new hashes. Raising them
	// upgrades old hashes as their owners sign in (Verify reports needsRehash).
	MemoryKiB   uint32 `yaml:"memory_kib"`  // default 19456 (19 MiB, OWASP)
	Iterations  uint32 `yaml:"iterations"`  // default 2
	Parallelism uint8  `yaml:"parallelism"` // default 1

	// Concurrency, Queue and QueueWait bound the pool. Peak hashing memory is Concurrency ×
	// MemoryKiB however many sign-ins arrive; beyond Queue waiting callers, or QueueWait of
	// waiting, a caller is told the service is busy rather than left to pile up.
	Concurrency int           `yaml:"concurrency"` // hashes at once; 0 = runtime.NumCPU()
	Queue       int           `yaml:"queue"`       // callers allowed to wait; default 256
	QueueWait   time.Duration `yaml:"queue_wait"`  // longest wait; default 5s
}

// DefaultOptions returns OWASP's recommended Argon2id cost (19 MiB, 2 iterations, 1 lane) and
// a pool of one hash per CPU with up to 256 callers waiting at most 5 seconds.
func DefaultOptions() Options {
	return Options{
		MemoryKiB: 19456, Iterations: 2, Parallelism: 1,
		Concurrency: 0, Queue: 256, QueueWait: 5 * time.Second,
	}
}

// Validate reports the first impossible or unsafe value, naming its key under password_hash:.
func (o Options) Validate() error {
	switch {
	case o.MemoryKiB < 8192:
		return errors.New("memory_kib must be at least 8192 (8 MiB)")
	case o.MemoryKiB > 1<<20:
		return errors.New("memory_kib must be at most 1048576 (1 GiB)")
	case o.Iterations < 1 || o.Iterations > 20:
		return errors.New("iterations must be between 1 and 20")
	case o.Parallelism < 1 || o.Parallelism > 16:
		return errors.New("parallelism must be between 1 and 16")
	case o.Concurrency < 0 || o.Concurrency > 1024:
		return errors.New("concurrency must be between 0 (one per CPU) and 1024")
	case o.Queue < 0:
		return errors.New("queue must be 0 or more")
	case o.QueueWait < 0:
		return errors.New("queue_wait must be 0s or more")
	}
	return nil
}

// Lengths of what Hash writes. Verify takes them from the stored hash instead.
const (
	saltLen = 16
	keyLen  = 32
)

// Hasher hashes and verifies passwords with Argon2id through a bounded pool. It is safe for
// concurrent use; one per process is enough. Its Hash, Verify and VerifyDummy each queue for a
// slot on their own; an operation that needs several hashes, or needs to know it will be served
// before it does anything else, takes one Slot with Acquire instead.
type Hasher struct {
	opt Options
	sem chan struct{} // one token per held Slot
	// mems holds the Argon2 working memory of released slots for the next ones: at most
	// Concurrency buffers of MemoryKiB ever exist, and none is allocated or zeroed per hash.
	mems  chan *argon2.Memory
	dummy PHC // a hash at current Options that no password matches; see VerifyDummy

	running atomic.Int64  // slots held
	waiting atomic.Int64  // callers queued for a slot
	hashes  atomic.Uint64 // Argon2id computations ever run
	// onWait, when set (ObserveWaits), is told how long each slot taken was waited for.
	onWait func(time.Duration)

	// idKey, when set, replaces the Argon2id computation: tests use it to hold a pool slot
	// deterministically.
	idKey func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// NewHasher returns a Hasher for o. Zero MemoryKiB, Iterations or Parallelism take their
// defaults (zero is never meaningful for them) and zero Concurrency means one per CPU; Queue and
// QueueWait are used as given, so 0 means nobody waits. Options that then fail Validate are a
// programming error (the configuration is validated at start), so NewHasher panics.
func NewHasher(o Options) *Hasher {
	d := DefaultOptions()
	if o.MemoryKiB == 0 {
		o.MemoryKiB = d.MemoryKiB
	}
	if o.Iterations == 0 {
		o.Iterations = d.Iterations
	}
	if o.Parallelism == 0 {
		o.Parallelism = d.Parallelism
	}
	if err := o.Validate(); err != nil {
		panic("password.NewHasher: " + err.Error())
	}
	return newHasher(o)
}

// newHasher skips Validate so tests can use tiny, fast parameters.
func newHasher(o Options) *Hasher {
	if o.Concurrency == 0 {
		o.Concurrency = runtime.NumCPU()
	}
	h := &Hasher{opt: o, sem: make(chan struct{}, o.Concurrency), mems: make(chan *argon2.Memory, o.Concurrency)}
	// A random key from a random salt: no password hashes to it (a 2^-256 chance).
	h.dummy = PHC{
		MemoryKiB: o.MemoryKiB, Iterations: o.Iterations, Parallelism: o.Parallelism,
		Salt: randomBytes(saltLen), Key: randomBytes(keyLen),
	}
	return h
}

// Hash returns a PHC string for pw with a fresh random salt at the current Options. It returns
// an EBusy error when the pool cannot take it in time.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	s, err := h.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer s.Release()
	return s.Hash(pw)
}

// Verify reports whether pw matches the stored hash phc, comparing in constant time. The cost
// parameters come from phc itself, so hashes made under older Options still verify. needsRehash
// is true when pw matched and phc's memory, iterations or parallelism are below the current
// Options: the caller should then store a fresh Hash(pw). A malformed phc is an internal error,
// found before any pool slot is taken; a full pool is EBusy.
func (h *Hasher) Verify(ctx context.Context, pw, phc string) (ok, needsRehash bool, err error) {
	p, err := ParsePHC(phc)
	if err != nil {
		return false, false, err
	}
	s, err := h.Acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer s.Release()
	ok, needsRehash = h.verify(s.mem, pw, p)
	return ok, needsRehash, nil
}

// VerifyDummy does the work of verifying pw against a real hash at the current Options and
// throws the answer away; no password matches. Sign-in calls it for an unknown username so that
// "no such user" takes as long, and waits in the same queue, as "wrong password". It returns
// only the pool's error (EBusy), exactly as Verify would.
func (h *Hasher) VerifyDummy(ctx context.Context, pw string) error {
	s, err := h.Acquire(ctx)
	if err != nil {
		return err
	}
	defer s.Release()
	return s.VerifyDummy(pw)
}

// hash computes a new PHC string for pw in a held slot's memory.
func (h *Hasher) hash(mem *argon2.Memory, pw string) string {
	p := PHC{
		MemoryKiB: h.opt.MemoryKiB, Iterations: h.opt.Iterations, Parallelism: h.opt.Parallelism,
		Salt: randomBytes(saltLen),
	}
	p.Key = h.argon2id(mem, pw, p.Salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
	return p.String()
}

// verify checks pw against a parsed hash in a held slot's memory.
func (h *Hasher) verify(mem *argon2.Memory, pw string, p PHC) (ok, needsRehash bool) {
	key := h.argon2id(mem, pw, p.Salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(p.Key)))
	if subtle.ConstantTimeCompare(key, p.Key) != 1 {
		return false, false
	}
	return true, p.MemoryKiB < h.opt.MemoryKiB || p.Iterations < h.opt.Iterations ||
		p.Parallelism < h.opt.Parallelism
}

// argon2id runs and counts one Argon2id computation in mem. A stored hash costlier than the
// current Options (the cost was lowered since) gets one-off memory, so the pool's buffers stay
// MemoryKiB each.
func (h *Hasher) argon2id(mem *argon2.Memory, pw string, salt []byte, t, m uint32, p uint8, keyLen uint32) []byte {
	h.hashes.Add(1)
	switch {
	case h.idKey != nil:
		return h.idKey([]byte(pw), salt, t, m, p, keyLen)
	case m > h.opt.MemoryKiB:
		return argon2.IDKey([]byte(pw), salt, t, m, p, keyLen)
	}
	return mem.IDKey([]byte(pw), salt, t, m, p, keyLen)
}

// randomBytes returns n bytes from crypto/rand, which never fails on supported platforms
// (it crashes the program rather than return predictable bytes).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("password: crypto/rand: %v", err))
	}
	return b
}
