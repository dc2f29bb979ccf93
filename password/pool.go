package password

import (
	"context"
	"errors"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password/internal/argon2"
)

// busyMessage is what a case worker reads when the pool turns them away.
const busyMessage = "The sign-in service is very busy. Please try again in a few seconds."

// errReleased is a programming error: a Slot used after Release.
var errReleased = errors.New("password: hashing slot used after Release")

// Slot is one place in the hashing pool, held for the whole of one sign-in or password change.
// Taking it first means an overloaded server says "busy" before the attempt is counted or the
// database is asked anything, and an operation that needs several hashes (the current
// password, the history, the new hash) queues once rather than once per hash. A Slot belongs
// to one goroutine; Release it as soon as the hashing is done, since a held slot keeps other
// sign-ins waiting.
type Slot struct {
	h       *Hasher
	mem     *argon2.Memory
	release func() // nil once released
}

// Acquire takes a pool slot, waiting in the bounded queue when every slot is busy. It returns
// an EBusy error when the queue is full, QueueWait passes, or ctx ends first.
func (h *Hasher) Acquire(ctx context.Context) (*Slot, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return nil, err
	}
	s := &Slot{h: h, release: release}
	select {
	case s.mem = <-h.mems:
	default:
		s.mem = new(argon2.Memory) // allocated on first use, then kept in h.mems
	}
	return s, nil
}

// Release gives the slot back. Calling it again does nothing, so `defer s.Release()` can stand
// beside an early Release.
func (s *Slot) Release() {
	if s.release != nil {
		select {
		case s.h.mems <- s.mem:
		default: // cannot happen: no more slots than buffers are held
		}
		s.mem = nil
		s.release()
		s.release = nil
	}
}

// Hash is Hasher.Hash within the slot.
func (s *Slot) Hash(pw string) (string, error) {
	if s.release == nil {
		return "", errReleased
	}
	return s.h.hash(s.mem, pw), nil
}

// Verify is Hasher.Verify within the slot.
func (s *Slot) Verify(pw, phc string) (ok, needsRehash bool, err error) {
	if s.release == nil {
		return false, false, errReleased
	}
	p, err := ParsePHC(phc)
	if err != nil {
		return false, false, err
	}
	ok, needsRehash = s.h.verify(s.mem, pw, p)
	return ok, needsRehash, nil
}

// VerifyDummy is Hasher.VerifyDummy within the slot.
func (s *Slot) VerifyDummy(pw string) error {
	if s.release == nil {
		return errReleased
	}
	// Round-tripped through its text like a stored hash, so even the parsing costs the same
	// as Verify's.
	p, err := ParsePHC(s.h.dummy.String())
	if err != nil {
		return err
	}
	s.h.verify(s.mem, pw, p)
	return nil
}

// Stats reports how many slots are held and how many callers are waiting, for metrics.
func (h *Hasher) Stats() (running, waiting int) {
	return int(h.running.Load()), int(h.waiting.Load())
}

// Slots is how many hashes may run at once (the pool's size).
func (h *Hasher) Slots() int { return cap(h.sem) }

// ObserveWaits has f told how long each slot taken was waited for (zero when one was free),
// for the wait-time histogram. Call it before h is used; f must be safe for concurrent use.
func (h *Hasher) ObserveWaits(f func(time.Duration)) { h.onWait = f }

// MemoryBytes is the most memory the pool's hashing holds at once: one buffer of MemoryKiB
// per slot (at the current Options; see argon2id for costlier stored hashes).
func (h *Hasher) MemoryBytes() int64 {
	return int64(cap(h.sem)) * int64(h.opt.MemoryKiB) * 1024
}

// Hashes returns how many Argon2id computations h has run, for metrics and for tests that
// prove an answer cost exactly one hash (or none).
func (h *Hasher) Hashes() uint64 {
	return h.hashes.Load()
}

// acquire takes a pool slot, waiting in the bounded queue if every slot is busy. release must
// be called once the hashing is done.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	if ctx.Err() != nil {
		// The caller has gone (a closed connection, a deadline): do not spend a hash on it.
		return nil, busy()
	}
	select {
	case h.sem <- struct{}{}:
		if h.onWait != nil {
			h.onWait(0)
		}
		return h.started(), nil
	default:
	}

	// Every slot is taken: join the queue if it has room. The count is reserved before the
	// check so that two callers cannot both take the last place. Waiters are served in order:
	// a freed slot goes straight to the longest-blocked sender on sem (the runtime moves its
	// value into the buffer as part of the receive), so a newcomer cannot overtake the queue.
	if h.waiting.Add(1) > int64(h.opt.Queue) {
		h.waiting.Add(-1)
		return nil, busy()
	}
	defer h.waiting.Add(-1)
	start := time.Now()
	timer := time.NewTimer(h.opt.QueueWait)
	defer timer.Stop()
	select {
	case h.sem <- struct{}{}:
		if h.onWait != nil {
			h.onWait(time.Since(start))
		}
		return h.started(), nil
	case <-timer.C:
		return nil, busy()
	case <-ctx.Done():
		return nil, busy()
	}
}

// started counts a held slot and returns the function that gives it back.
func (h *Hasher) started() func() {
	h.running.Add(1)
	return func() {
		h.running.Add(-1)
		<-h.sem
	}
}

func busy() error {
	return &hmisauth.Error{Code: hmisauth.EBusy, Message: busyMessage}
}
