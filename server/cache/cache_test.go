package cache_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinid/twinid/server/cache"
)

// Concurrent misses of one key cost one load.
func TestLoadIsSingleFlight(t *testing.T) {
	t.Parallel()
	c := cache.New[int](time.Minute, time.Now)
	var loads atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.Load("k", func() (int, time.Time, error) {
				loads.Add(1)
				<-release
				return 7, time.Time{}, nil
			})
			if err != nil || v != 7 {
				t.Errorf("Load = %d, %v", v, err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond) // let the callers pile up on the one load
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for one key, want 1", n)
	}
	if v, ok := c.Get("k"); !ok || v != 7 {
		t.Fatalf("Get after Load = %d, %v", v, ok)
	}
}

// A Forget during a load keeps the loaded value out of the cache, so a slow read never
// puts back what a revocation removed; errors are not cached.
func TestForgetDuringLoadWins(t *testing.T) {
	t.Parallel()
	c := cache.New[string](time.Minute, time.Now)
	if _, err := c.Load("k", func() (string, time.Time, error) {
		c.Forget("k")
		return "stale", time.Time{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("k"); ok {
		t.Fatalf("a value loaded across a Forget was kept: %q", v)
	}
	boom := errors.New("boom")
	if _, err := c.Load("e", func() (string, time.Time, error) { return "", time.Time{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("error = %v", err)
	}
	if _, ok := c.Get("e"); ok {
		t.Fatal("an error was cached")
	}
}

// Entries live until their own expiry or the TTL, whichever is sooner, by the cache's clock.
func TestExpiryFollowsTheClock(t *testing.T) {
	t.Parallel()
	offset, now := shiftedClock()
	c := cache.New[int](time.Minute, now)
	_, _ = c.Load("ttl", func() (int, time.Time, error) { return 1, time.Time{}, nil })
	_, _ = c.Load("own", func() (int, time.Time, error) { return 2, now().Add(10 * time.Second), nil })
	_, _ = c.Load("long", func() (int, time.Time, error) { return 3, now().Add(time.Hour), nil })
	offset.Store(int64(30 * time.Second))
	if _, ok := c.Get("own"); ok {
		t.Error("an entry outlived its own expiry")
	}
	if _, ok := c.Get("ttl"); !ok {
		t.Error("an entry expired before the TTL")
	}
	offset.Store(int64(2 * time.Minute))
	if _, ok := c.Get("long"); ok {
		t.Error("an entry outlived the TTL")
	}
	c.ForgetPrefix("")
	c.Sweep()
}

// ForgetIf drops exactly the entries its match picks, by key or by value, and like Forget
// keeps a load that raced it out of the cache.
func TestForgetIfPicksByValue(t *testing.T) {
	t.Parallel()
	c := cache.New[string](time.Minute, time.Now)
	for k, v := range map[string]string{"t1": "acme", "t2": "globex", "t3": "acme"} {
		if _, err := c.Load(k, func() (string, time.Time, error) { return v, time.Time{}, nil }); err != nil {
			t.Fatal(err)
		}
	}
	c.ForgetIf(func(_ string, v string) bool { return v == "acme" })
	for k, want := range map[string]bool{"t1": false, "t2": true, "t3": false} {
		if _, ok := c.Get(k); ok != want {
			t.Errorf("%s kept: %v, want %v", k, ok, want)
		}
	}
	if _, err := c.Load("t4", func() (string, time.Time, error) {
		c.ForgetIf(func(string, string) bool { return false })
		return "acme", time.Time{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("t4"); ok {
		t.Fatal("a value loaded across a ForgetIf was kept")
	}
}

// After an expiry, many callers missing several keys at once cost one load per key, and the
// load counter says so: a caller that missed just as a load finished takes its entry.
func TestOneLoadPerKeyPerExpiry(t *testing.T) {
	t.Parallel()
	offset, now := shiftedClock()
	c := cache.New[string](5*time.Second, now)
	var counted atomic.Int32
	c.CountLoads(func() { counted.Add(1) })
	keys := []string{"a", "b", "c", "d"}
	var loads [4]atomic.Int32
	burst := func() {
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Go(func() {
				<-start
				k := i % len(keys)
				v, err := c.Load(keys[k], func() (string, time.Time, error) {
					loads[k].Add(1)
					return keys[k], time.Time{}, nil
				})
				if err != nil || v != keys[k] {
					t.Errorf("Load(%s) = %q, %v", keys[k], v, err)
				}
			})
		}
		close(start)
		wg.Wait()
	}
	for round := int32(1); round <= 3; round++ {
		burst()
		for k := range keys {
			if n := loads[k].Load(); n != round {
				t.Fatalf("round %d: key %s loaded %d times in all, want %d", round, keys[k], n, round)
			}
		}
		if n := counted.Load(); n != round*int32(len(keys)) {
			t.Fatalf("round %d: %d loads counted, want %d", round, n, round*int32(len(keys)))
		}
		offset.Add(int64(6 * time.Second)) // every entry expires
	}
}

type ctxKey struct{}

// loaders is what a RefreshAhead cache's load runs, set per key by a test before it calls
// LoadCtx (or before the background reload it expects).
type loaders[V any] struct {
	mu sync.Mutex
	f  map[string]func(context.Context) (V, time.Time, error)
}

func (l *loaders[V]) set(k string, f func(context.Context) (V, time.Time, error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		l.f = map[string]func(context.Context) (V, time.Time, error){}
	}
	l.f[k] = f
}

func (l *loaders[V]) load(ctx context.Context, k string) (V, time.Time, error) {
	l.mu.Lock()
	f := l.f[k]
	l.mu.Unlock()
	return f(ctx)
}

// shiftedClock is the wall clock moved by offset, which a test sets to age entries.
func shiftedClock() (offset *atomic.Int64, now func() time.Time) {
	offset = new(atomic.Int64)
	return offset, func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
}

// With RefreshAhead, a key asked for in the last part of its entry's life is answered from
// the cache at once while one background load replaces the entry; the load runs under the
// caller's values but not its cancellation, and is counted. Before that part nothing
// loads, and an expired entry is never returned.
func TestRefreshAheadAnswersFromTheCacheWhileOneLoadRuns(t *testing.T) {
	t.Parallel()
	offset, now := shiftedClock()
	c := cache.New[int](10*time.Second, now)
	var ls loaders[int]
	c.RefreshAhead(time.Second, ls.load)
	var counted atomic.Int32
	c.CountLoads(func() { counted.Add(1) })
	var loads atomic.Int32
	release := make(chan struct{})
	gotCtx := make(chan context.Context, 1)
	load := func(ctx context.Context) (int, time.Time, error) {
		n := loads.Add(1)
		if n > 1 {
			gotCtx <- ctx
			<-release
		}
		return int(n), time.Time{}, nil
	}
	ls.set("k", load)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "request"))
	if v, err := c.LoadCtx(ctx, "k"); err != nil || v != 1 {
		t.Fatalf("first LoadCtx = %d, %v", v, err)
	}
	// The entry lives 9.5–10s (up to half the window less, by its key), so its window
	// opens between 8.5s and 9s.
	offset.Store(int64(8400 * time.Millisecond)) // not yet
	if v, _ := c.LoadCtx(ctx, "k"); v != 1 || loads.Load() != 1 {
		t.Fatalf("before the refresh window: %d, %d loads", v, loads.Load())
	}
	offset.Store(int64(9200 * time.Millisecond)) // in the window, not expired
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if v, err := c.LoadCtx(ctx, "k"); err != nil || v != 1 {
				t.Errorf("in the refresh window: %d, %v (want the cached 1 at once)", v, err)
			}
		})
	}
	wg.Wait() // every caller answered while the reload is held
	cancel()  // the request that started it ends
	var bg context.Context
	select {
	case bg = <-gotCtx:
	case <-time.After(5 * time.Second):
		t.Fatal("no background load started in the refresh window")
	}
	if bg.Err() != nil || bg.Value(ctxKey{}) != "request" {
		t.Fatalf("background load's context: err %v, value %v", bg.Err(), bg.Value(ctxKey{}))
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, ok := c.Get("k"); ok && v == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background load did not replace the entry")
		}
		time.Sleep(time.Millisecond)
	}
	if loads.Load() != 2 || counted.Load() != 2 {
		t.Fatalf("%d loads, %d counted; want 2 and 2", loads.Load(), counted.Load())
	}
	// The new entry lives at most the TTL from its load; past it, LoadCtx waits for a load.
	offset.Store(int64(9200*time.Millisecond + 10*time.Second + 100*time.Millisecond))
	if _, ok := c.Get("k"); ok {
		t.Fatal("the refreshed entry outlived its TTL")
	}
	ls.set("k", func(context.Context) (int, time.Time, error) { return 9, time.Time{}, nil })
	v, err := c.LoadCtx(context.Background(), "k")
	if err != nil || v != 9 {
		t.Fatalf("LoadCtx of an expired entry = %d, %v; want the new 9", v, err)
	}
}

// A Forget during a background reload keeps its value out; a failed reload leaves the
// entry to expire at its time; an entry given a short life by its load (a key set until
// the next activation) is not reloaded ahead.
func TestRefreshAheadYieldsToForgetsErrorsAndShortLives(t *testing.T) {
	t.Parallel()
	offset, now := shiftedClock()
	c := cache.New[string](10*time.Second, now)
	var ls loaders[string]
	c.RefreshAhead(time.Second, ls.load)
	ctx := context.Background()
	put := func(k, v string, expires time.Time) {
		c.Forget(k)
		ls.set(k, func(context.Context) (string, time.Time, error) { return v, expires, nil })
		if _, err := c.LoadCtx(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
		}
	}
	put("forgotten", "old", time.Time{})
	put("failing", "old", time.Time{})
	put("short", "old", now().Add(1500*time.Millisecond))
	offset.Store(int64(9200 * time.Millisecond)) // in the window of both, neither expired
	done := make(chan struct{}, 2)
	ls.set("forgotten", func(context.Context) (string, time.Time, error) {
		defer func() { done <- struct{}{} }()
		c.Forget("forgotten") // a revocation while the reload reads
		return "stale", time.Time{}, nil
	})
	ls.set("failing", func(context.Context) (string, time.Time, error) {
		defer func() { done <- struct{}{} }()
		return "", time.Time{}, errors.New("database down")
	})
	c.LoadCtx(ctx, "forgotten")
	c.LoadCtx(ctx, "failing")
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("no background reload started in the refresh window")
		}
	}
	waitFor("a reload that raced a Forget put its value back", func() bool { _, ok := c.Get("forgotten"); return !ok })
	if v, ok := c.Get("failing"); !ok || v != "old" {
		t.Fatalf("after a failed reload: %q, %v; want the old entry until its expiry", v, ok)
	}
	offset.Store(int64(1000 * time.Millisecond)) // "short", put at 0 to live 1.5s, has 0.5s left
	var loaded atomic.Bool
	ls.set("short", func(context.Context) (string, time.Time, error) { loaded.Store(true); return "new", time.Time{}, nil })
	c.LoadCtx(ctx, "short")
	time.Sleep(20 * time.Millisecond)
	if v, ok := c.Get("short"); loaded.Load() || !ok || v != "old" {
		t.Fatalf("a short-lived entry was reloaded ahead (%v) or lost (%q, %v)", loaded.Load(), v, ok)
	}
}

// With RefreshAhead(d), entries loaded at one moment do not all expire at one moment: they
// live between the TTL less d/2 and the TTL, spread by key.
func TestRefreshAheadSpreadsExpiries(t *testing.T) {
	t.Parallel()
	offset, now := shiftedClock()
	c := cache.New[int](10*time.Second, now)
	c.RefreshAhead(time.Second, func(context.Context, string) (int, time.Time, error) { return 0, time.Time{}, nil })
	for i := range 200 {
		c.Load(strconv.Itoa(i), func() (int, time.Time, error) { return i, time.Time{}, nil })
	}
	live := func() (n int) {
		for i := range 200 {
			if _, ok := c.Get(strconv.Itoa(i)); ok {
				n++
			}
		}
		return n
	}
	offset.Store(int64(9400 * time.Millisecond))
	if n := live(); n != 200 {
		t.Fatalf("%d of 200 entries expired before the TTL less half the window", 200-n)
	}
	offset.Store(int64(9750 * time.Millisecond))
	if n := live(); n < 40 || n > 160 {
		t.Fatalf("%d of 200 entries loaded together live at 9.75s: expiries not spread over 9.5–10s", n)
	}
	offset.Store(int64(10100 * time.Millisecond))
	if n := live(); n != 0 {
		t.Fatalf("%d entries outlived the TTL", n)
	}
}
