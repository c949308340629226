package cache_test

import (
	"errors"
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
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
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
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
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
