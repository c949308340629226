package passwords

import (
	"context"
	"sync"
	"testing"
	"time"
)

// A full pool (every worker busy, the queue full) is reported as such, AwaitRoom waits for
// a release instead of refusing at once, and one waiter goes on per released slot.
func TestAwaitRoomWaitsForARelease(t *testing.T) {
	t.Parallel()
	p, release, _ := blockingPool(1, 1, 0)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx := context.Background()
	for range 2 { // one runs, blocked in onRun, one waits in the queue
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Hash(ctx, "password one"); err != nil {
				t.Errorf("admitted hash: %v", err)
			}
		}()
	}
	waitStats(t, p, 1, 1)
	if !p.Full() {
		t.Fatal("a pool with its worker busy and its queue full is not Full")
	}
	start := time.Now()
	if p.AwaitRoom(ctx, 50*time.Millisecond) {
		t.Fatal("AwaitRoom found room in a full pool that nothing released")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("AwaitRoom gave up after %v, before its 50ms", d)
	}
	// Two waiters, then the releases of both hashes: each goes on.
	got := make(chan bool, 2)
	for range 2 {
		go func() { got <- p.AwaitRoom(ctx, 5*time.Second) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.roomWaiters.Load() != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the AwaitRoom callers never waited")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range 2 {
		select {
		case ok := <-got:
			if !ok {
				t.Fatal("a waiter was refused after a release")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a waiter did not go on after the releases")
		}
	}
	wg.Wait()
	if !p.AwaitRoom(ctx, time.Millisecond) || p.Full() {
		t.Fatal("an idle pool has no room")
	}
}

// AwaitRoom ends with its caller's context, refusing.
func TestAwaitRoomEndsWithTheContext(t *testing.T) {
	t.Parallel()
	p, release, _ := blockingPool(1, 0, 0)
	defer close(release)
	go func() { _, _ = p.Hash(context.Background(), "password one") }()
	waitStats(t, p, 1, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if p.AwaitRoom(ctx, time.Minute) {
		t.Fatal("AwaitRoom found room in a full pool")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("AwaitRoom outlived its context by %v", d)
	}
}
