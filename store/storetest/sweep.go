package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

// keepThrottle is how long the sweep keeps idle login counters in these tests.
const keepThrottle = 24 * time.Hour

func testSweep(t *testing.T, open opener) {
	runAll(t, open, []test{
		{"DeletesWhatIsDead", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			now := clock
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			// One customer per code: a customer has one code at a time.
			for i := range 5 {
				mkCustomer(t, st, "a", fmt.Sprint("cu", i), "", "")
			}
			rt := func(id string, idleUntil time.Time, aid, cu string) {
				r := refreshToken(aid, cu, id)
				r.IdleUntilMS = ms(idleUntil)
				r.UntilMS = max(r.UntilMS, r.IdleUntilMS)
				must(t, st.Tokens().CreateRefresh(ctx, r), "CreateRefreshToken "+id)
			}
			mkCustomer(t, st, "b", "cub", "", "")
			rt("rt-dead", now.Add(-time.Millisecond), "a", "cu0")
			rt("rt-dead-b", now.Add(-time.Hour), "b", "cub") // every account is swept
			rt("rt-live", now.Add(time.Millisecond), "a", "cu0")
			// A rotated token stays while it could still be replayed: reuse detection needs it.
			rotated := refreshToken("a", "cu0", "rt-rotated")
			must(t, st.Tokens().CreateRefresh(ctx, rotated), "CreateRefreshToken")
			must(t, st.Tokens().Rotate(ctx, rotated, successor(rotated, "rt-next", now.Add(-time.Minute)), now.Add(-time.Minute)), "rotate")

			vc := func(id, cu string, expires, usedAt time.Time) {
				c := code("a", cu, id)
				c.ExpiresMS = ms(expires)
				must(t, st.Codes().Replace(ctx, c), "ReplaceCode "+id)
				if !usedAt.IsZero() {
					if ok, err := st.Codes().Use(ctx, id, usedAt); !ok || err != nil {
						t.Fatalf("UseCode %s: %v %v", id, ok, err)
					}
				}
			}
			vc("vc-expired", "cu1", now.Add(-time.Millisecond), time.Time{})
			vc("vc-used-long-ago", "cu2", now.Add(time.Hour), now.Add(-2*time.Minute))
			vc("vc-used-just-now", "cu3", now.Add(time.Hour), now.Add(-10*time.Second)) // a racing request may still read it
			vc("vc-live", "cu4", now.Add(time.Hour), time.Time{})

			must(t, st.Tokens().RevokeAccess(ctx, "a", "jti-expired", now.Add(-time.Millisecond)), "RevokeAccessToken")
			must(t, st.Tokens().RevokeAccess(ctx, "a", "jti-live", now.Add(time.Hour)), "RevokeAccessToken")

			se := func(id string, idle, until time.Time) {
				s := session("a", "cu0", id)
				s.IdleUntilMS, s.UntilMS = ms(idle), ms(until)
				must(t, st.Sessions().Create(ctx, s), "CreateSession "+id)
			}
			se("se-idle", now.Add(-time.Millisecond), now.Add(time.Hour))
			se("se-ended", now.Add(time.Hour), now.Add(-time.Millisecond))
			se("se-live", now.Add(time.Hour), now.Add(2*time.Hour))

			ac := func(id string, expires time.Time) {
				c := authCode("a", "cu0", id)
				c.ExpiresMS = ms(expires)
				must(t, st.AuthCodes().Create(ctx, c), "CreateAuthCode "+id)
			}
			// Expired codes are kept a day, to revoke what they issued if they are replayed.
			ac("ac-old", now.Add(-25*time.Hour))
			ac("ac-recent", now.Add(-time.Hour))
			ac("ac-live", now.Add(time.Minute))

			// Login counters: idle ones go, unless locked; recent ones stay.
			long := now.Add(-keepThrottle - time.Hour)
			expectReserve(t, st, "a", "idle", 3, long, 0, "attempt")
			lockOut(t, st, "a", "idle-lock-over", 3, long) // locked until long+lockBase, long past
			expectReserve(t, st, "a", "recent", 3, now.Add(-time.Hour), 0, "attempt")
			for range 3 {
				expectReserve(t, st, "a", "locked", 3, long, 0, "attempt")
			}
			must(t, getErr(st.Throttle().Fail(ctx, "a", "locked", 3, 48*time.Hour, 48*time.Hour, long)), "FailAttempt") // locked past now

			// Dead: 2 refresh tokens, 2 codes, 1 revoked token, 2 sessions, 1 auth code, 2 counters.
			n, err := st.Sweep(ctx, now, keepThrottle, 100)
			must(t, err, "Sweep")
			if n != 10 {
				t.Errorf("Sweep deleted %d rows, want 10", n)
			}
			for id, gone := range map[string]bool{"rt-dead": true, "rt-live": false, "rt-rotated": false, "rt-next": false} {
				lookup(t, getErr(st.Tokens().RefreshByHash(ctx, "a", []byte("rt:"+id))), gone, "refresh token "+id)
			}
			lookup(t, getErr(st.Tokens().RefreshByHash(ctx, "b", []byte("rt:rt-dead-b"))), true, "refresh token of b")
			for id, gone := range map[string]bool{"vc-expired": true, "vc-used-long-ago": true, "vc-used-just-now": false, "vc-live": false} {
				lookup(t, getErr(st.Codes().ByHash(ctx, "a", []byte("code:"+id))), gone, "code "+id)
			}
			for jti, revoked := range map[string]bool{"jti-expired": false, "jti-live": true} {
				if got, err := st.Tokens().AccessRevoked(ctx, jti); err != nil || got != revoked {
					t.Errorf("AccessTokenRevoked(%s) after the sweep = %v %v, want %v", jti, got, err, revoked)
				}
			}
			for id, gone := range map[string]bool{"ac-old": true, "ac-recent": false, "ac-live": false} {
				lookup(t, getErr(st.AuthCodes().ByHash(ctx, "a", []byte("authcode:"+id))), gone, "auth code "+id)
			}
			// Dead sessions cannot be looked up anyway; count what is left.
			for id, want := range map[string]int64{"se-idle": 0, "se-ended": 0, "se-live": 1} {
				if got := rows(t, st, "sessions", "id = ?", id); got != want {
					t.Errorf("session %s: %d rows after the sweep, want %d", id, got, want)
				}
			}
			for key, want := range map[string]int64{"idle": 0, "idle-lock-over": 0, "recent": 1, "locked": 1} {
				if got := rows(t, st, "login_throttle", "aid = ? AND key = ?", "a", key); got != want {
					t.Errorf("login counter %s: %d rows after the sweep, want %d", key, got, want)
				}
			}
			// The lock outlives the sweep, and the lockout history of the swept key is gone.
			expectReserve(t, st, "a", "locked", 3, now, long.Add(48*time.Hour).Sub(now), "locked key after the sweep")
			lockOut(t, st, "a", "idle-lock-over", 3, now)
			expectReserve(t, st, "a", "idle-lock-over", 3, now, lockBase, "first lockout after the sweep")

			n, err = st.Sweep(ctx, now, keepThrottle, 100)
			must(t, err, "second Sweep")
			if n != 0 {
				t.Errorf("second Sweep deleted %d rows, want 0", n)
			}
		}},
		{"Batches", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			for i := range 5 {
				cu := fmt.Sprint("cu", i)
				mkCustomer(t, st, "a", cu, "", "")
				r := refreshToken("a", cu, fmt.Sprint("rt", i))
				r.IdleUntilMS = ms(clock.Add(-time.Minute))
				must(t, st.Tokens().CreateRefresh(ctx, r), "CreateRefreshToken")
				if i < 3 {
					c := code("a", cu, fmt.Sprint("vc", i))
					c.ExpiresMS = ms(clock.Add(-time.Minute))
					must(t, st.Codes().Replace(ctx, c), "ReplaceCode")
				}
			}
			// At most batch rows per table and call: 2+2, then 2+1, then 1.
			for i, want := range []int64{4, 3, 1, 0} {
				n, err := st.Sweep(ctx, clock, keepThrottle, 2)
				must(t, err, "Sweep")
				if n != want {
					t.Errorf("sweep %d with batch 2: %d rows, want %d", i+1, n, want)
				}
				if i == 0 {
					left := 0
					for j := range 5 {
						if _, err := st.Tokens().RefreshByHash(ctx, "a", []byte(fmt.Sprint("rt:rt", j))); err == nil {
							left++
						}
					}
					if left != 3 {
						t.Errorf("after one sweep with batch 2: %d of 5 dead refresh tokens left, want 3", left)
					}
				}
			}
		}},
		{"AbsoluteLifetime", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkCustomer(t, st, "a", "cu1", "", "")
			r := refreshToken("a", "cu1", "rt1")
			r.IdleUntilMS, r.UntilMS = ms(clock.Add(time.Hour)), ms(clock.Add(-time.Minute))
			must(t, st.Tokens().CreateRefresh(ctx, r), "CreateRefreshToken")
			n, err := st.Sweep(ctx, clock, keepThrottle, 100)
			must(t, err, "Sweep")
			if n != 1 {
				t.Errorf("Sweep deleted %d rows, want the token past its absolute end", n)
			}
		}},
	})
}

// lookup checks a getter's error: ErrNotFound when the row should be gone, nil otherwise.
func lookup(t *testing.T, err error, gone bool, what string) {
	t.Helper()
	switch {
	case gone && !errors.Is(err, store.ErrNotFound):
		t.Errorf("%s after the sweep: %v, want it gone", what, err)
	case !gone && err != nil:
		t.Errorf("%s after the sweep: %v, want it kept", what, err)
	}
}
