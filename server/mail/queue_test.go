package mail

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinid/twinid/server/mail/mailtest"
)

// recordingSender fails the first failures calls, then records messages.
type recordingSender struct {
	failures int32
	calls    atomic.Int32
	mu       sync.Mutex
	sent     []Message
	block    chan struct{} // if set, Send waits for it to be closed
	started  chan struct{} // if set, receives a value when Send starts
}

func (r *recordingSender) Send(ctx context.Context, m Message) error {
	n := r.calls.Add(1)
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.block != nil {
		<-r.block
	}
	if n <= r.failures {
		return errors.New("421 try again later")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return nil
}

func (r *recordingSender) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

func runQueue(t *testing.T, q *Queue) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Run(ctx)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
		}
	}
	t.Cleanup(stop)
	return stop
}

func flush(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func TestQueueDeliversThroughSMTP(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	s, err := New(Config{URL: srv.URL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := NewQueue(s, 10, nil)
	stop := runQueue(t, q)
	recipients := []string{"one@example.com", "two@example.com", "three@example.com"}
	for _, to := range recipients {
		if err := q.Enqueue(resetMessage(t, to, "Acme", "Acme")); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	flush(t, q)
	if srv.Count() != len(recipients) {
		t.Errorf("Count = %d after Flush, want %d", srv.Count(), len(recipients))
	}
	for _, to := range recipients {
		if got := srv.Wait(t, strings.ToUpper(to), 5*time.Second); mailtest.Code(got.Text) != testCode {
			t.Errorf("%s: code %q", to, mailtest.Code(got.Text))
		}
	}
	stop()
	if err := q.Enqueue(Message{To: "late@example.com", Text: "x"}); !errors.Is(err, ErrQueueClosed) {
		t.Errorf("Enqueue after Run returned: err = %v, want ErrQueueClosed", err)
	}
}

func TestQueueFull(t *testing.T) {
	t.Parallel()
	rs := &recordingSender{block: make(chan struct{}), started: make(chan struct{}, 1)}
	q := NewQueue(rs, 1, nil)
	runQueue(t, q)

	m := Message{To: "x@example.com", Text: "x"}
	if err := q.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	<-rs.started // the worker holds the first message
	if err := q.Enqueue(m); err != nil {
		t.Fatalf("second Enqueue (fills the buffer): %v", err)
	}
	start := time.Now()
	if err := q.Enqueue(m); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Enqueue on a full queue: err = %v, want ErrQueueFull", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Enqueue on a full queue took %v", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := q.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Flush with a blocked send: err = %v, want deadline exceeded", err)
	}

	close(rs.block)
	<-rs.started
	flush(t, q)
	if rs.count() != 2 {
		t.Errorf("delivered %d messages, want 2", rs.count())
	}
}

func TestQueueRetries(t *testing.T) {
	t.Parallel()
	log, logs := newLogger()
	rs := &recordingSender{failures: 2}
	q := NewQueue(rs, 4, log)
	q.backoff = []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}
	runQueue(t, q)

	if err := q.Enqueue(resetMessage(t, "carol@example.org", "Acme", "Acme")); err != nil {
		t.Fatal(err)
	}
	flush(t, q)
	if rs.calls.Load() != 3 || rs.count() != 1 {
		t.Errorf("calls = %d, delivered = %d; want 3 and 1", rs.calls.Load(), rs.count())
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a delivery that succeeded on retry logged an error:\n%s", logs.String())
	}
}

func TestQueueLogsFailure(t *testing.T) {
	t.Parallel()
	log, logs := newLogger()
	rs := &recordingSender{failures: 1000}
	q := NewQueue(rs, 4, log)
	q.backoff = []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}
	runQueue(t, q)

	if err := q.Enqueue(resetMessage(t, "dave@fail.example", "Acme", "Acme")); err != nil {
		t.Fatal(err)
	}
	flush(t, q)
	if rs.calls.Load() != 3 {
		t.Errorf("calls = %d, want 3", rs.calls.Load())
	}
	l := logs.String()
	var errLine string
	for line := range strings.Lines(l) {
		if strings.Contains(line, "level=ERROR") {
			errLine = line
		}
	}
	for _, want := range []string{"to_domain=fail.example", "attempts=3", "421 try again later"} {
		if !strings.Contains(errLine, want) {
			t.Errorf("error log line %q lacks %q", errLine, want)
		}
	}
	if strings.Contains(l, "dave@") || strings.Contains(l, testCode) || strings.Contains(l, "reset?code") {
		t.Errorf("log leaks the recipient, code or link:\n%s", l)
	}
}

func TestQueueDrainsOnShutdown(t *testing.T) {
	t.Parallel()
	rs := &recordingSender{}
	q := NewQueue(rs, 8, nil)
	for range 3 {
		if err := q.Enqueue(Message{To: "e@example.com", Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q.Run(ctx) // already cancelled: drains and returns
	if rs.count() != 3 {
		t.Errorf("delivered %d messages on shutdown, want 3", rs.count())
	}
	flush(t, q)
}
