package storetest

import (
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

// Throttle parameters of the tests: attempts counted over loginWindow, lockouts of
// lockBase·2^n, at most maxLock.
const (
	loginWindow = 10 * time.Minute
	lockBase    = time.Minute
	maxLock     = 3 * time.Minute
)

func testThrottle(t *testing.T, open opener) {
	runAll(t, open, []test{
		{"ReserveUpToMax", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "a")
			for range 3 {
				expectReserve(t, st, "a", "k", 3, clock, 0, "attempt below max")
			}
			expectReserve(t, st, "a", "k", 3, clock, -1, "attempt past max")
			// Another key is counted on its own.
			expectReserve(t, st, "a", "other", 3, clock, 0, "another key")
		}},
		{"ReserveConcurrent", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			const n, limit = 20, 5
			results := Race(n, func(int) error {
				res, err := st.Throttle().Reserve(ctx, "a", "k", limit, loginWindow, clock)
				if err == nil && !res.Allowed {
					err = errDenied
				}
				return err
			})
			checkGranted(t, results, limit, "parallel ReserveAttempt")
		}},
		{"WindowRestartsCount", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "a")
			for range 3 {
				expectReserve(t, st, "a", "k", 3, clock, 0, "attempt below max")
			}
			expectReserve(t, st, "a", "k", 3, clock.Add(loginWindow-time.Millisecond), -1, "attempt within the window")
			// A refused attempt is not counted; a full window after the last counted one, the
			// count starts again.
			later := clock.Add(loginWindow + time.Millisecond)
			for range 3 {
				expectReserve(t, st, "a", "k", 3, later, 0, "attempt in a new window")
			}
			expectReserve(t, st, "a", "k", 3, later, -1, "attempt past max in the new window")
		}},
		{"FailLocksOut", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			wantErr(t, getErr(st.Throttle().Fail(ctx, "a", "none", 3, lockBase, maxLock, clock)), store.ErrNotFound, "FailAttempt of an unknown key")
			// Failures below max do not lock.
			for range 2 {
				expectReserve(t, st, "a", "k", 3, clock, 0, "attempt")
				locked, err := st.Throttle().Fail(ctx, "a", "k", 3, lockBase, maxLock, clock)
				must(t, err, "FailAttempt below max")
				if locked {
					t.Error("a failure below max reported a lockout")
				}
			}
			expectReserve(t, st, "a", "k", 3, clock, 0, "third attempt")
			locked, err := st.Throttle().Fail(ctx, "a", "k", 3, lockBase, maxLock, clock)
			must(t, err, "FailAttempt at max")
			if !locked {
				t.Error("the failure that locked the key did not report it")
			}
			// Locked for lockBase: the wait shrinks as time passes, and the lock ends on time.
			expectReserve(t, st, "a", "k", 3, clock, lockBase, "attempt right after the lockout")
			expectReserve(t, st, "a", "k", 3, clock.Add(lockBase-time.Millisecond), time.Millisecond, "attempt a millisecond before the end")
			// A failure reported while locked (a request that raced the lock) changes nothing.
			locked, err = st.Throttle().Fail(ctx, "a", "k", 3, lockBase, maxLock, clock.Add(30*time.Second))
			must(t, err, "FailAttempt while locked")
			if locked {
				t.Error("a failure while locked reported a new lockout")
			}
			expectReserve(t, st, "a", "k", 3, clock.Add(30*time.Second), 30*time.Second, "attempt after a failure while locked")

			// After the lock: max attempts again, then a lock twice as long, then capped at maxLock.
			t1 := clock.Add(lockBase)
			lockOut(t, st, "a", "k", 3, t1)
			expectReserve(t, st, "a", "k", 3, t1, 2*lockBase, "attempt after the second lockout")
			t2 := t1.Add(2 * lockBase)
			lockOut(t, st, "a", "k", 3, t2)
			expectReserve(t, st, "a", "k", 3, t2, maxLock, "attempt after the third lockout (4·lockBase, capped)")
			t3 := t2.Add(maxLock)
			lockOut(t, st, "a", "k", 3, t3)
			expectReserve(t, st, "a", "k", 3, t3, maxLock, "attempt after the fourth lockout")
		}},
		{"Release", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			must(t, st.Throttle().Release(ctx, "a", "none"), "ReleaseAttempt of an unknown key")
			for range 3 {
				expectReserve(t, st, "a", "k", 3, clock, 0, "attempt")
			}
			// A released attempt (the password was right, or never checked) can be used again.
			must(t, st.Throttle().Release(ctx, "a", "k"), "ReleaseAttempt")
			expectReserve(t, st, "a", "k", 3, clock, 0, "attempt after a release")
			expectReserve(t, st, "a", "k", 3, clock, -1, "attempt past max")

			// Releases never bank attempts: the count stops at zero.
			expectReserve(t, st, "a", "k2", 3, clock, 0, "attempt")
			for range 3 {
				must(t, st.Throttle().Release(ctx, "a", "k2"), "ReleaseAttempt")
			}
			for range 3 {
				expectReserve(t, st, "a", "k2", 3, clock, 0, "attempt after releases")
			}
			expectReserve(t, st, "a", "k2", 3, clock, -1, "attempt past max after releases")

			// A release does not lift a lockout.
			lockOut(t, st, "a", "k3", 3, clock)
			must(t, st.Throttle().Release(ctx, "a", "k3"), "ReleaseAttempt while locked")
			expectReserve(t, st, "a", "k3", 3, clock, lockBase, "attempt while locked after a release")
		}},
		{"Clear", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			for _, k := range []string{"k1", "k2", "k3"} {
				lockOut(t, st, "a", k, 3, clock)
			}
			lockOut(t, st, "b", "k1", 3, clock)
			must(t, st.Throttle().Clear(ctx, "a"), "ClearThrottle of no keys")
			must(t, st.Throttle().Clear(ctx, "a", "k1", "k2", "unknown"), "ClearThrottle")
			expectReserve(t, st, "a", "k1", 3, clock, 0, "cleared key")
			expectReserve(t, st, "a", "k2", 3, clock, 0, "cleared key")
			expectReserve(t, st, "a", "k3", 3, clock, lockBase, "key not cleared")
			expectReserve(t, st, "b", "k1", 3, clock, lockBase, "same key in another account")
			// A cleared key starts from nothing: its next lockout is lockBase again.
			for range 2 {
				expectReserve(t, st, "a", "k1", 3, clock, 0, "attempt")
			}
			must(t, getErr(st.Throttle().Fail(ctx, "a", "k1", 3, lockBase, maxLock, clock)), "FailAttempt")
			expectReserve(t, st, "a", "k1", 3, clock, lockBase, "first lockout after clearing")
		}},
		{"Tenants", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			lockOut(t, st, "a", "k", 3, clock)
			expectReserve(t, st, "b", "k", 3, clock, 0, "b's key named like a locked key of a")
		}},
	})
}

// lockOut reserves max attempts of key at now, fails the last one, and checks the lock.
func lockOut(t *testing.T, st *store.Store, aid, key string, max int, now time.Time) {
	t.Helper()
	for range max {
		expectReserve(t, st, aid, key, max, now, 0, "attempt before a lockout")
	}
	locked, err := st.Throttle().Fail(t.Context(), aid, key, max, lockBase, maxLock, now)
	must(t, err, "FailAttempt")
	if !locked {
		t.Errorf("%s: the failure at max reported no lockout", key)
	}
}

// expectReserve reserves an attempt and checks the outcome: wait 0 means allowed, -1 refused
// without a lockout (any positive RetryAfter), else refused with exactly that RetryAfter.
func expectReserve(t *testing.T, st *store.Store, aid, key string, max int, now time.Time, wait time.Duration, what string) {
	t.Helper()
	res, err := st.Throttle().Reserve(t.Context(), aid, key, max, loginWindow, now)
	if err != nil {
		t.Fatalf("%s: ReserveAttempt: %v", what, err)
	}
	switch {
	case wait == 0 && !res.Allowed:
		t.Errorf("%s: refused (retry after %v), want allowed", what, res.RetryAfter)
	case wait != 0 && res.Allowed:
		t.Errorf("%s: allowed, want refused", what)
	case wait < 0 && res.RetryAfter <= 0:
		t.Errorf("%s: refused with RetryAfter %v, want a positive wait", what, res.RetryAfter)
	case wait > 0 && res.RetryAfter != wait:
		t.Errorf("%s: refused with RetryAfter %v, want %v", what, res.RetryAfter, wait)
	}
}
