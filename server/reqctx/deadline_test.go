package reqctx

import (
	"context"
	"errors"
	"testing"
	"time"
)

type otherKey struct{}

func armed(ctx context.Context) bool {
	c := ctx.(*deadlineCtx)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.armed != nil
}

func TestWithDeadlineExpiresLikeContextWithDeadline(t *testing.T) {
	parent := context.WithValue(context.Background(), otherKey{}, "v")
	ctx, cancel := WithDeadline(parent, time.Now().Add(30*time.Millisecond))
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > 30*time.Millisecond {
		t.Fatalf("Deadline %v %v", d, ok)
	}
	if ctx.Err() != nil || armed(ctx) {
		t.Fatal("Err before the deadline: an error, or a timer armed for it")
	}
	time.Sleep(40 * time.Millisecond)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || armed(ctx) {
		t.Fatalf("Err past the deadline without Done: %v (armed %v)", ctx.Err(), armed(ctx))
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("Done past the deadline did not close")
	}
	if got := ctx.Value(otherKey{}); got != "v" {
		t.Fatalf("parent value %v", got)
	}
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Fatalf("Cause %v", context.Cause(ctx))
	}
}

func TestWithDeadlineDoneClosesAtTheDeadline(t *testing.T) {
	ctx, cancel := WithDeadline(context.Background(), time.Now().Add(20*time.Millisecond))
	defer cancel()
	// Derived the way the store derives a statement's deadline.
	stmt, cancelStmt := context.WithTimeout(ctx, time.Hour)
	defer cancelStmt()
	select {
	case <-stmt.Done():
	case <-time.After(time.Second):
		t.Fatal("a context derived from it did not end at its deadline")
	}
	if !errors.Is(stmt.Err(), context.DeadlineExceeded) {
		t.Fatalf("derived Err %v", stmt.Err())
	}
}

func TestWithDeadlineCausePastTheDeadlineWithoutDone(t *testing.T) {
	ctx, cancel := WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer cancel()
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Fatalf("Cause of an expired, never-armed context: %v", context.Cause(ctx))
	}
}

func TestWithDeadlineFollowsItsParentAndItsCancel(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.Background())
	ctx, cancel := WithDeadline(parent, time.Now().Add(time.Hour))
	defer cancel()
	cancelParent()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err after the parent's cancel: %v", ctx.Err())
	}
	<-ctx.Done()

	ctx2, cancel2 := WithDeadline(context.Background(), time.Now().Add(time.Hour))
	done := ctx2.Done() // armed, then stopped
	cancel2()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("cancel did not close Done")
	}
	ctx3, cancel3 := WithDeadline(context.Background(), time.Now().Add(time.Hour))
	cancel3() // stopped before anything armed it
	if !errors.Is(ctx3.Err(), context.Canceled) {
		t.Fatalf("Err after cancel: %v", ctx3.Err())
	}
	select {
	case <-ctx3.Done():
	case <-time.After(time.Second):
		t.Fatal("Done after cancel did not close")
	}
}

func TestWithDeadlineKeepsThisPackagesValuesWithoutArming(t *testing.T) {
	d, cancel := WithDeadline(WithInfo(context.Background(), Info{RequestID: "r1"}), time.Now().Add(time.Hour))
	defer cancel()
	ctx, _ := WithAuth(d)
	// Info is below the deadline, Auth above it, Params absent: none arms a timer.
	if InfoFrom(ctx).RequestID != "r1" || AuthFrom(ctx) == nil || ParamsFrom(ctx) != nil || armed(d) {
		t.Fatalf("info %+v, auth %v, params %v, armed %v", InfoFrom(ctx), AuthFrom(ctx), ParamsFrom(ctx), armed(d))
	}
	if ctx.Value(otherKey{}) != nil || !armed(d) {
		t.Fatal("a lookup of another package's key did not arm the deadline")
	}
}
