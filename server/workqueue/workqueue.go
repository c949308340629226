// Package workqueue is a bounded queue worked by one background goroutine: callers never
// wait, Flush waits until the queue is idle, and at shutdown what is still queued is worked
// within a drain deadline, the rest dropped and counted. The mail queue and the password
// reset requests both run on it. It imports only the standard library; every layer may use it.
package workqueue

import (
	"context"
	"errors"
	"sync"
	"time"
)

var (
	// ErrFull is returned by Enqueue when the queue has no room left.
	ErrFull = errors.New("workqueue: full")
	// ErrClosed is returned by Enqueue once Run has begun to drain.
	ErrClosed = errors.New("workqueue: closed")
)

// Work handles one item. stop is done when the worker should stop waiting (shutdown began,
// or the drain deadline passed); run bounds the work itself (not cancelled by shutdown while
// running, only by the drain deadline once draining).
type Work[T any] func(stop, run context.Context, item T)

// Queue holds at most its size of items for one worker.
type Queue[T any] struct {
	ch    chan T
	drain time.Duration

	mu      sync.Mutex
	pending int           // queued + being worked
	idle    chan struct{} // closed whenever pending drops to 0
	closed  bool
}

// New returns a queue of size items (minimum 1); at shutdown the items still queued are
// worked for up to drain.
func New[T any](size int, drain time.Duration) *Queue[T] {
	if size < 1 {
		size = 1
	}
	idle := make(chan struct{})
	close(idle)
	return &Queue[T]{ch: make(chan T, size), drain: drain, idle: idle}
}

// Enqueue queues item. It never blocks: ErrFull when there is no room, ErrClosed once
// shutdown began.
func (q *Queue[T]) Enqueue(item T) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	select {
	case q.ch <- item:
		if q.pending == 0 {
			q.idle = make(chan struct{})
		}
		q.pending++
		return nil
	default:
		return ErrFull
	}
}

// Flush waits until every queued item has been worked (or dropped), or ctx is done.
func (q *Queue[T]) Flush(ctx context.Context) error {
	q.mu.Lock()
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run works items with work until ctx is done, then drains: it closes the queue and works
// what is still in it until the drain deadline passes, dropping the rest, and tells dropped
// how many (when some were). Call it once.
func (q *Queue[T]) Run(ctx context.Context, work Work[T], dropped func(n int)) {
	for {
		if ctx.Err() != nil { // shutdown first, even with items waiting
			q.drainQueued(ctx, work, dropped)
			return
		}
		select {
		case <-ctx.Done():
			q.drainQueued(ctx, work, dropped)
			return
		case item := <-q.ch:
			work(ctx, context.WithoutCancel(ctx), item)
			q.done()
		}
	}
}

func (q *Queue[T]) drainQueued(ctx context.Context, work Work[T], dropped func(n int)) {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.drain)
	defer cancel()
	left := 0
	for {
		select {
		case item := <-q.ch:
			if dctx.Err() != nil {
				left++
			} else {
				work(dctx, dctx, item)
			}
			q.done()
		default:
			if left > 0 && dropped != nil {
				dropped(left)
			}
			return
		}
	}
}

func (q *Queue[T]) done() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending--
	if q.pending == 0 {
		close(q.idle)
	}
}
