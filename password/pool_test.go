package password

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/hmisauth/hmisauth"
)

// blockingHasher returns a Hasher whose Argon2 calls each report on entered and then wait until
// release is closed, so a test decides exactly when pool slots free up.
func blockingHasher(o Options) (h *Hasher, entered chan struct{}, release chan struct{}) {
	h = newHasher(fast(o))
	entered, release = make(chan struct{}, 16), make(chan struct{})
	h.idKey = func(pw, salt []byte, t, m uint32, p uint8, kl uint32) []byte {
		entered <- struct{}{}
		<-release
		return argon2.IDKey(pw, salt, t, m, p, kl)
	}
	return h, entered, release
}

// waitFor polls until cond holds; the test's own timeout catches a cond that never does.
func waitFor(cond func() bool) {
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

func isBusy(t *testing.T, what string, err error) {
	t.Helper()
	e := hmisauth.AsError(err)
	if e == nil || e.Code != hmisauth.EBusy ||
		e.Message != "The sign-in service is very busy. Please try again in a few seconds." {
		t.Errorf("%s: err = %v, want EBusy with the busy message", what, err)
	}
}

func TestPoolThirdCallerIsBusyWhenQueueIsFullOrWaitIsOver(t *testing.T) {
	h, entered, release := blockingHasher(Options{Concurrency: 1, Queue: 1, QueueWait: time.Millisecond})
	ctx := context.Background()
	first := make(chan error)
	go func() { _, err := h.Hash(ctx, "first"); first <- err }()
	<-entered // the only slot is held until release

	// The second waits in the queue and gives up after QueueWait; the third finds the queue
	// full or, if the second has already given up, waits and gives up the same way. Neither
	// outcome depends on timing: the slot is not freed until both have returned.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { _, errs[i] = h.Hash(ctx, "waiting") })
	}
	wg.Wait()
	isBusy(t, "one waiting caller", errs[0])
	isBusy(t, "the other waiting caller", errs[1])

	close(release)
	if err := <-first; err != nil {
		t.Errorf("the caller holding the slot: %v", err)
	}
	if r, w := h.Stats(); r != 0 || w != 0 {
		t.Errorf("Stats after all return = %d running, %d waiting; want 0, 0", r, w)
	}
}

func TestPoolQueuedCallerRunsWhenSlotFrees(t *testing.T) {
	h, entered, release := blockingHasher(Options{Concurrency: 1, Queue: 1, QueueWait: time.Hour})
	ctx := context.Background()
	results := make(chan error, 2)
	go func() { _, err := h.Hash(ctx, "first"); results <- err }()
	<-entered
	go func() { _, _, err := h.Verify(ctx, refPassword1, refPHC1); results <- err }()
	waitFor(func() bool { _, w := h.Stats(); return w == 1 })
	if r, w := h.Stats(); r != 1 || w != 1 {
		t.Errorf("Stats = %d running, %d waiting; want 1, 1", r, w)
	}

	isBusy(t, "third caller, queue full", h.VerifyDummy(ctx, "third"))

	close(release)
	for range 2 {
		if err := <-results; err != nil {
			t.Errorf("a caller within the limits failed: %v", err)
		}
	}
}

func TestPoolCallerWhoseContextEndsIsBusy(t *testing.T) {
	h, entered, release := blockingHasher(Options{Concurrency: 1, Queue: 5, QueueWait: time.Hour})
	first := make(chan error)
	go func() { _, err := h.Hash(context.Background(), "first"); first <- err }()
	<-entered
	defer func() { close(release); <-first }()

	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error)
	go func() { _, err := h.Hash(ctx, "second"); waited <- err }()
	waitFor(func() bool { _, w := h.Stats(); return w == 1 })
	cancel()
	isBusy(t, "caller cancelled while waiting", <-waited)

	_, err := h.Hash(ctx, "already cancelled")
	isBusy(t, "caller cancelled before asking", err)
}

func TestPoolWithNoQueueTurnsAwayAtOnce(t *testing.T) {
	h, entered, release := blockingHasher(Options{Concurrency: 1, Queue: 0, QueueWait: time.Hour})
	first := make(chan error)
	go func() { _, err := h.Hash(context.Background(), "first"); first <- err }()
	<-entered
	defer func() { close(release); <-first }()
	_, err := h.Hash(context.Background(), "second")
	isBusy(t, "Queue 0", err)
}

func TestPoolNeverRunsMoreThanConcurrency(t *testing.T) {
	h := newHasher(fast(Options{Concurrency: 2, Queue: 100, QueueWait: time.Hour}))
	var now, peak atomic.Int64
	h.idKey = func(pw, salt []byte, t, m uint32, p uint8, kl uint32) []byte {
		n := now.Add(1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		defer now.Add(-1)
		return argon2.IDKey(pw, salt, t, m, p, kl)
	}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), "pw"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("peak concurrent hashes = %d, want 1..2", p)
	}
}

func BenchmarkHashDefault(b *testing.B) {
	o := DefaultOptions()
	pw, salt := []byte("Horse-battery-staple-7"), randomBytes(saltLen)
	for b.Loop() {
		argon2.IDKey(pw, salt, o.Iterations, o.MemoryKiB, o.Parallelism, keyLen)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
}

func TestSlotCoversSeveralHashesAndReleasesOnce(t *testing.T) {
	h := newHasher(fast(Options{Concurrency: 1, Queue: 0}))
	ctx := context.Background()
	stored, _ := h.Hash(ctx, "Horse-battery-staple-7")

	before := h.Hashes()
	s, err := h.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// While the one slot is held, nobody else hashes.
	_, err = h.Hash(ctx, "other")
	isBusy(t, "Hash while the only slot is held", err)

	if ok, _, err := s.Verify("Horse-battery-staple-7", stored); !ok || err != nil {
		t.Errorf("slot Verify = %v, %v", ok, err)
	}
	if err := s.VerifyDummy("Horse-battery-staple-7"); err != nil {
		t.Errorf("slot VerifyDummy = %v", err)
	}
	newHash, err := s.Hash("Another-battery-8")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Verify("x", "not a hash"); err == nil {
		t.Error("slot Verify of a malformed hash succeeded")
	}
	if got := h.Hashes() - before; got != 3 {
		t.Errorf("Hashes() rose by %d, want 3 (verify, dummy, hash; none for a malformed hash)", got)
	}
	if r, _ := h.Stats(); r != 1 {
		t.Errorf("Stats running = %d with a slot held, want 1", r)
	}

	s.Release()
	s.Release() // a second Release must not free someone else's slot
	if r, _ := h.Stats(); r != 0 {
		t.Errorf("Stats running = %d after Release, want 0", r)
	}
	if _, err := s.Hash("late"); !errors.Is(err, errReleased) {
		t.Errorf("Hash after Release = %v, want errReleased", err)
	}
	if _, _, err := s.Verify("late", newHash); !errors.Is(err, errReleased) {
		t.Errorf("Verify after Release = %v, want errReleased", err)
	}
	if err := s.VerifyDummy("late"); !errors.Is(err, errReleased) {
		t.Errorf("VerifyDummy after Release = %v, want errReleased", err)
	}
	if ok, _, err := h.Verify(ctx, "Another-battery-8", newHash); !ok || err != nil {
		t.Errorf("the pool is not free again after Release: %v, %v", ok, err)
	}
}

func TestAcquireIsBusyWhenFull(t *testing.T) {
	h := newHasher(fast(Options{Concurrency: 2, Queue: 0}))
	a, _ := h.Acquire(context.Background())
	b, _ := h.Acquire(context.Background())
	_, err := h.Acquire(context.Background())
	isBusy(t, "third Acquire with two slots", err)
	a.Release()
	c, err := h.Acquire(context.Background())
	if err != nil {
		t.Errorf("Acquire after one Release: %v", err)
	}
	b.Release()
	c.Release()
}
