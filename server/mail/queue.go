package mail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/twinid/twinid/server/workqueue"
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
	q      *workqueue.Queue[Message]

	// Tunables; the tests shorten them.
	backoff      []time.Duration // wait before attempt 2, 3, ...
	attemptLimit time.Duration   // upper bound for one Send call
}

// drainTimeout is the time left to deliver queued messages once Run's context is done.
const drainTimeout = 5 * time.Second

// NewQueue returns a queue holding at most size messages (minimum 1). Call
// Run to start delivering.
func NewQueue(s Sender, size int, log *slog.Logger) *Queue {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mq := &Queue{
		sender:       s,
		log:          log,
		backoff:      []time.Duration{time.Second, 4 * time.Second},
		attemptLimit: sendTimeout + 5*time.Second,
	}
	mq.q = workqueue.New[Message](size, drainTimeout)
	return mq
}

// Enqueue schedules m for delivery. It never blocks: it returns ErrQueueFull
// when the queue is full and ErrQueueClosed after Run has returned.
func (q *Queue) Enqueue(m Message) error {
	switch err := q.q.Enqueue(m); {
	case errors.Is(err, workqueue.ErrFull):
		return ErrQueueFull
	case errors.Is(err, workqueue.ErrClosed):
		return ErrQueueClosed
	default:
		return err
	}
}

// Flush waits until every enqueued message has been delivered or given up
// on, or until ctx is done.
func (q *Queue) Flush(ctx context.Context) error { return q.q.Flush(ctx) }

// Run delivers messages until ctx is done, then tries to deliver what is
// still queued within a short deadline and returns. Later Enqueue calls fail
// with ErrQueueClosed. Run must be called once.
func (q *Queue) Run(ctx context.Context) {
	q.q.Run(ctx, q.deliver, func(n int) {
		q.log.Error("mail queue stopped: undelivered emails dropped", "count", n)
	})
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
