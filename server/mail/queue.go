package mail

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

var (
	// ErrQueueFull is returned by Enqueue when the queue has no room left.
	ErrQueueFull = errors.New("mail: queue is full")
	// ErrQueueClosed is returned by Enqueue once Run has returned.
	ErrQueueClosed = errors.New("mail: queue is closed")
)

// Queue delivers messages asynchronously through a Sender with one worker,
// so that callers (HTTP handlers) never wait on SMTP. Each message is tried
// up to three times; a final failure is logged with the recipient domain and
// the error, never the body.
type Queue struct {
	sender Sender
	log    *slog.Logger
	ch     chan Message

	// Tunables; the tests shorten them.
	backoff      []time.Duration // wait before attempt 2, 3, ...
	attemptLimit time.Duration   // upper bound for one Send call
	drainTimeout time.Duration   // time left to deliver queued messages after ctx is done

	mu      sync.Mutex
	pending int           // queued + in flight
	idle    chan struct{} // closed whenever pending drops to 0
	closed  bool
}

// NewQueue returns a queue holding at most size messages (minimum 1). Call
// Run to start delivering.
func NewQueue(s Sender, size int, log *slog.Logger) *Queue {
	if size < 1 {
		size = 1
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	idle := make(chan struct{})
	close(idle)
	return &Queue{
		sender:       s,
		log:          log,
		ch:           make(chan Message, size),
		backoff:      []time.Duration{time.Second, 4 * time.Second},
		attemptLimit: sendTimeout + 5*time.Second,
		drainTimeout: 5 * time.Second,
		idle:         idle,
	}
}

// Enqueue schedules m for delivery. It never blocks: it returns ErrQueueFull
// when the queue is full and ErrQueueClosed after Run has returned.
func (q *Queue) Enqueue(m Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrQueueClosed
	}
	select {
	case q.ch <- m:
		if q.pending == 0 {
			q.idle = make(chan struct{})
		}
		q.pending++
		return nil
	default:
		return ErrQueueFull
	}
}

// Flush waits until every enqueued message has been delivered or given up
// on, or until ctx is done.
func (q *Queue) Flush(ctx context.Context) error {
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

// done marks one message as finished.
func (q *Queue) done() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending--
	if q.pending == 0 {
		close(q.idle)
	}
}

// Run delivers messages until ctx is done, then tries to deliver what is
// still queued within a short deadline and returns. Later Enqueue calls fail
// with ErrQueueClosed. Run must be called once.
func (q *Queue) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			q.drain(ctx)
			return
		case m := <-q.ch:
			q.deliver(ctx, context.WithoutCancel(ctx), m)
			q.done()
		}
	}
}

// drain closes the queue and delivers the messages still in it until the
// drain deadline passes; the rest are dropped (and logged).
func (q *Queue) drain(ctx context.Context) {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()

	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.drainTimeout)
	defer cancel()
	dropped := 0
	for {
		select {
		case m := <-q.ch:
			if dctx.Err() != nil {
				dropped++
			} else {
				q.deliver(dctx, dctx, m)
			}
			q.done()
		default:
			if dropped > 0 {
				q.log.Error("mail queue stopped: undelivered emails dropped", "count", dropped)
			}
			return
		}
	}
}

// deliver tries m up to len(q.backoff)+1 times. waitCtx bounds the waits
// between attempts, sendCtx the attempts themselves.
func (q *Queue) deliver(waitCtx, sendCtx context.Context, m Message) {
	var err error
	attempts := 0
	for i := 0; i <= len(q.backoff); i++ {
		if i > 0 {
			t := time.NewTimer(q.backoff[i-1])
			select {
			case <-t.C:
			case <-waitCtx.Done():
				t.Stop()
				q.log.Error("email not sent: shutting down before retry", "to_domain", recipientDomain(m.To),
					"attempts", attempts, "err", err)
				return
			}
		}
		attempts++
		err = q.attempt(sendCtx, m)
		if err == nil {
			q.log.Debug("email sent", "to_domain", recipientDomain(m.To), "attempts", attempts)
			return
		}
		q.log.Warn("email delivery attempt failed", "to_domain", recipientDomain(m.To),
			"attempt", attempts, "err", err)
	}
	q.log.Error("email not sent", "to_domain", recipientDomain(m.To), "attempts", attempts, "err", err)
}

func (q *Queue) attempt(ctx context.Context, m Message) (err error) {
	ctx, cancel := context.WithTimeout(ctx, q.attemptLimit)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("mail: sender panicked")
		}
	}()
	return q.sender.Send(ctx, m)
}
