package passwords

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// ErrBusy is returned by Pool methods when the pool is saturated: all workers
// are busy and either the wait queue is full or the caller waited longer than
// the pool's maxWait. HTTP handlers should map it to 503 with Retry-After.
var ErrBusy = errors.New("passwords: too many concurrent password hashes")

// Pool bounds concurrent argon2id work so that peak memory stays at about
// workers × Params.Memory KiB (see the package documentation).
//
// It is a semaphore (a buffered channel with one slot per worker) plus an
// atomic count of callers waiting for a slot. Work runs on the caller's
// goroutine; the pool starts no goroutines of its own. A Pool is safe for
// concurrent use.
type Pool struct {
	params  Params
	slots   chan struct{} // one element per running hash
	queue   int64         // maximum number of waiting callers
	waiting atomic.Int64  // callers currently waiting for a slot
	maxWait time.Duration
	dummy   string // hash of a random secret, for VerifyDummy

	// room hands a released slot's turn to one caller of AwaitRoom (unbuffered: a release
	// with nobody waiting sends nothing); roomWaiters counts those callers.
	room        chan struct{}
	roomWaiters atomic.Int64

	// onRun, if set (tests only), is called while holding a slot, just
	// before the hash is computed.
	onRun func()
}

// NewPool returns a pool that runs at most workers hashes at once (workers ≤ 0
// means runtime.GOMAXPROCS(0)), lets at most queue further callers wait for a
// slot (queue ≤ 0: none wait), and fails a waiting caller with ErrBusy after
// maxWait (maxWait ≤ 0: wait until the caller's context ends). p are the
// parameters for new hashes and the target for needsRehash.
//
// NewPool computes one hash with p (for VerifyDummy) and panics if p is
// invalid, as that is a configuration error.
func NewPool(workers, queue int, maxWait time.Duration, p Params) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if queue < 0 {
		queue = 0
	}
	secret := make([]byte, 32)
	rand.Read(secret) // never returns an error; panics if the OS RNG fails
	dummy, err := Hash(base64.RawStdEncoding.EncodeToString(secret), p)
	if err != nil {
		panic(fmt.Sprintf("passwords.NewPool: %v", err))
	}
	return &Pool{
		params:  p,
		slots:   make(chan struct{}, workers),
		queue:   int64(queue),
		maxWait: maxWait,
		dummy:   dummy,
		room:    make(chan struct{}),
	}
}

// acquire takes a worker slot, waiting in the queue if there is room.
func (p *Pool) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Fast path: a worker is free. Blocked senders are served first by the
	// channel, so this cannot overtake callers already in the queue.
	select {
	case p.slots <- struct{}{}:
		return nil
	default:
	}
	if p.waiting.Add(1) > p.queue {
		p.waiting.Add(-1)
		return ErrBusy
	}
	defer p.waiting.Add(-1)

	var timeout <-chan time.Time
	if p.maxWait > 0 {
		t := time.NewTimer(p.maxWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case p.slots <- struct{}{}:
		// A slot and ctx.Done may be ready together; honour cancellation.
		if err := ctx.Err(); err != nil {
			p.release()
			return err
		}
		return nil
	case <-timeout:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pool) release() {
	<-p.slots
	select {
	case p.room <- struct{}{}: // one caller of AwaitRoom may go on
	default:
	}
}

func (p *Pool) run(ctx context.Context, f func()) error {
	if err := p.acquire(ctx); err != nil {
		return err
	}
	defer p.release()
	p.running()
	f()
	return nil
}

// Hash is [Hash] with the pool's parameters, run within the pool's limits.
// It returns ErrBusy or ctx.Err() if no worker became available in time.
func (p *Pool) Hash(ctx context.Context, password string) (string, error) {
	var (
		s   string
		err error
	)
	if rerr := p.run(ctx, func() { s, err = Hash(password, p.params) }); rerr != nil {
		return "", rerr
	}
	return s, err
}

// Verify is [Verify] with the pool's parameters as the rehash target, run
// within the pool's limits. It returns ErrBusy or ctx.Err() if no worker
// became available in time.
func (p *Pool) Verify(ctx context.Context, password, phc string) (ok, needsRehash bool, err error) {
	if rerr := p.run(ctx, func() { ok, needsRehash, err = Verify(password, phc, p.params) }); rerr != nil {
		return false, false, rerr
	}
	return ok, needsRehash, err
}

// VerifyDummy performs the same work as a Verify against a hash made with
// the pool's parameters, including queueing and ErrBusy, and always reports
// false. Call it when the account does not exist so that response time does
// not reveal whether it does.
func (p *Pool) VerifyDummy(ctx context.Context, password string) (bool, error) {
	_, _, err := p.Verify(ctx, password, p.dummy)
	return false, err
}

// Slot is a worker slot taken with Acquire. Holding it lets a caller decide, before it
// writes anything, that its hash will run: a login reserves its throttle attempts only
// once it knows the pool will not refuse it. A Slot is used by one goroutine.
type Slot struct {
	p    *Pool
	done bool
}

// Acquire takes a worker slot within the pool's limits (the same queue and maxWait as
// Hash and Verify). It returns ErrBusy or ctx.Err() if no worker became available in
// time. The caller must Release the slot.
func (p *Pool) Acquire(ctx context.Context) (*Slot, error) {
	if err := p.acquire(ctx); err != nil {
		return nil, err
	}
	return &Slot{p: p}, nil
}

// Verify is [Pool.Verify] on the held slot: it neither waits nor fails for a busy pool.
func (s *Slot) Verify(password, phc string) (ok, needsRehash bool, err error) {
	s.p.running()
	return Verify(password, phc, s.p.params)
}

// VerifyDummy is [Pool.VerifyDummy] on the held slot: the work of a Verify, always false.
func (s *Slot) VerifyDummy(password string) {
	_, _, _ = s.Verify(password, s.p.dummy)
}

// Hash is [Pool.Hash] on the held slot.
func (s *Slot) Hash(password string) (string, error) {
	s.p.running()
	return Hash(password, s.p.params)
}

// Release gives the slot back; later calls do nothing, so it may be deferred and also
// called early.
func (s *Slot) Release() {
	if !s.done {
		s.done = true
		s.p.release()
	}
}

func (p *Pool) running() {
	if p.onRun != nil {
		p.onRun()
	}
}

// Full reports whether an Acquire would be refused at once now: every worker is busy and
// the wait queue is full. It is a hint (the next Acquire decides), for refusing work before
// it starts.
func (p *Pool) Full() bool {
	return len(p.slots) == cap(p.slots) && p.waiting.Load() >= p.queue
}

// maxRoomWaiters bounds the callers of AwaitRoom per place (worker or queue); past it they
// are told at once that there is no room.
const maxRoomWaiters = 64

// AwaitRoom reports whether the pool has room (see Full), waiting up to d for a release when
// it has none, without doing or holding anything while it waits. Of its callers, one goes on
// per released slot, in their order. It is a hint too: a caller that goes on may still be
// refused by Acquire.
func (p *Pool) AwaitRoom(ctx context.Context, d time.Duration) bool {
	if !p.Full() {
		return true
	}
	places := int64(cap(p.slots)) + p.queue
	if p.roomWaiters.Add(1) > maxRoomWaiters*places {
		p.roomWaiters.Add(-1)
		return false
	}
	defer p.roomWaiters.Add(-1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.room:
		return true
	case <-t.C:
		return !p.Full()
	case <-ctx.Done():
		return false
	}
}

// Size is the number of workers and the length of the wait queue.
func (p *Pool) Size() (workers, queue int) { return cap(p.slots), int(p.queue) }

// Stats reports how many hashes are running and how many callers are
// waiting for a worker, for metrics.
func (p *Pool) Stats() (running, waiting int) {
	w := p.waiting.Load()
	// A rejected caller increments the counter briefly before backing out.
	w = min(max(w, 0), p.queue)
	return len(p.slots), int(w)
}
