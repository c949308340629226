package workqueue_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinid/twinid/server/workqueue"
)

// Enqueue never blocks: past the size it is ErrFull; Flush waits for the worker; after
// shutdown Enqueue is ErrClosed.
func TestEnqueueFlushClose(t *testing.T) {
	t.Parallel()
	q := workqueue.New[int](2, time.Second)
	if err := q.Flush(t.Context()); err != nil {
		t.Fatalf("Flush of an empty queue: %v", err)
	}
	for i := range 2 {
		if err := q.Enqueue(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Enqueue(3); !errors.Is(err, workqueue.ErrFull) {
		t.Fatalf("third item of two: %v, want ErrFull", err)
	}
	short, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := q.Flush(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Flush with nobody working: %v", err)
	}
	var sum atomic.Int64
	ctx, stop := context.WithCancel(t.Context())
	ran := make(chan struct{})
	go func() {
		q.Run(ctx, func(_, _ context.Context, n int) { sum.Add(int64(n) + 1) }, nil)
		close(ran)
	}()
	if err := q.Flush(t.Context()); err != nil || sum.Load() != 3 {
		t.Fatalf("after Flush: sum %d, err %v; want 3", sum.Load(), err)
	}
	stop()
	<-ran
	if err := q.Enqueue(1); !errors.Is(err, workqueue.ErrClosed) {
		t.Fatalf("after Run returned: %v, want ErrClosed", err)
	}
}

// At shutdown the queued items are worked until the drain deadline, the rest dropped and
// counted, and Flush returns once they are.
func TestDrainWorksThenDrops(t *testing.T) {
	t.Parallel()
	q := workqueue.New[int](10, 50*time.Millisecond)
	for i := range 10 {
		if err := q.Enqueue(i); err != nil {
			t.Fatal(err)
		}
	}
	ctx, stop := context.WithCancel(t.Context())
	stop() // shutdown before the worker starts
	var worked, dropped int
	q.Run(ctx, func(_, _ context.Context, _ int) {
		worked++
		time.Sleep(30 * time.Millisecond)
	}, func(n int) { dropped = n })
	if worked < 1 || dropped < 7 || worked+dropped != 10 {
		t.Fatalf("worked %d, dropped %d; want some worked within the 50 ms drain and the rest (at least 7) dropped", worked, dropped)
	}
	if err := q.Flush(t.Context()); err != nil {
		t.Fatalf("Flush after the drain: %v", err)
	}
}
