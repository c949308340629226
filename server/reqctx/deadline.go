package reqctx

import (
	"context"
	"sync"
	"time"
)

// WithDeadline is context.WithDeadline for a request's deadline, without its cost on a
// request that never waits: context.WithDeadline arms a runtime timer and registers with
// the parent on every request (about 1.5% of a cached token request's CPU), while most
// requests answer from the node's caches and never ask for Done. This context arms a real
// one the first time something asks for Done or for a value this package does not keep
// (context.Cause, context.AfterFunc and every context derived from it with a cancel or a
// timeout do one of the two); Deadline, Err and this package's values answer without it.
// The returned CancelFunc must be called when the request ends.
func WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	c := &deadlineCtx{parent: parent, deadline: d}
	return c, c.stop
}

type deadlineCtx struct {
	parent   context.Context
	deadline time.Time

	mu      sync.Mutex
	armed   context.Context // the context.WithDeadline, once something needed it
	cancel  context.CancelFunc
	stopped bool
}

func (c *deadlineCtx) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *deadlineCtx) Done() <-chan struct{} { return c.arm().Done() }

func (c *deadlineCtx) Err() error {
	c.mu.Lock()
	armed, stopped := c.armed, c.stopped
	c.mu.Unlock()
	switch {
	case armed != nil:
		return armed.Err()
	case stopped:
		return context.Canceled
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value answers this package's keys from the parent (this context adds none and never
// changes them). Any other key arms the context first: the context package finds a
// context's cancellation and its cause through a Value lookup (context.Cause calls no
// Done), which must then name this context's own.
func (c *deadlineCtx) Value(k any) any {
	if _, ours := k.(key); ours {
		return c.parent.Value(k)
	}
	return c.arm().Value(k)
}

func (c *deadlineCtx) arm() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.armed == nil {
		c.armed, c.cancel = context.WithDeadline(c.parent, c.deadline)
		if c.stopped {
			c.cancel()
		}
	}
	return c.armed
}

func (c *deadlineCtx) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *deadlineCtx) String() string { return "reqctx.WithDeadline(" + c.deadline.String() + ")" }
