package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

func testTokens(t *testing.T, open opener) {
	// withCustomer makes accounts "a" and "b" and an active customer "cu1" in a.
	withCustomer := func(t *testing.T, st *store.Store) *store.Customer {
		mkAccount(t, st, "a")
		mkAccount(t, st, "b")
		return mkCustomer(t, st, "a", "cu1", "ann@example.org", "")
	}
	runAll(t, open, []test{
		{"RefreshCreateAndFind", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			c := withCustomer(t, st)
			rt := refreshToken("a", "cu1", "rt1")
			rt.Hash = []byte{0, 0xff, 0x10, 'x'} // any bytes, not only text
			must(t, st.Tokens().CreateRefresh(ctx, rt), "CreateRefreshToken")
			got, err := st.Tokens().RefreshByHash(ctx, "a", rt.Hash)
			must(t, err, "RefreshTokenByHash")
			checkRefresh(t, got, rt)

			c.Status, c.Scopes = store.CustomerDisabled, []string{"x", "y"}
			must(t, st.Customers().Update(ctx, c, []string{"status", "scopes"}, false), "UpdateCustomer")
			got, status, scopes, err := st.Tokens().RefreshWithCustomer(ctx, "a", rt.Hash)
			must(t, err, "RefreshTokenCustomer")
			checkRefresh(t, got, rt)
			if status != store.CustomerDisabled || !slices.Equal(scopes, []string{"x", "y"}) {
				t.Errorf("RefreshTokenCustomer: customer status %q scopes %v, want %q [x y]", status, scopes, store.CustomerDisabled)
			}

			wantErr(t, getErr(st.Tokens().RefreshByHash(ctx, "b", rt.Hash)), store.ErrNotFound, "a's token through b")
			wantErr(t, getErr(st.Tokens().RefreshByHash(ctx, "a", []byte("unknown"))), store.ErrNotFound, "unknown hash")
			_, _, _, err = st.Tokens().RefreshWithCustomer(ctx, "b", rt.Hash)
			wantErr(t, err, store.ErrNotFound, "RefreshTokenCustomer of a's token through b")
			_, _, _, err = st.Tokens().RefreshWithCustomer(ctx, "a", []byte("unknown"))
			wantErr(t, err, store.ErrNotFound, "RefreshTokenCustomer of an unknown hash")
		}},
		{"FamilyEnded", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			c := withCustomer(t, st)
			ended := func(family string, want bool, what string) {
				t.Helper()
				got, err := st.Tokens().FamilyEnded(ctx, family)
				must(t, err, "FamilyEnded "+what)
				if got != want {
					t.Errorf("FamilyEnded %s = %v, want %v", what, got, want)
				}
			}
			rt1 := mkRefreshToken(t, st, "a", "cu1", "rt1")
			ended(rt1.FamilyID, false, "of a new family")
			ended("fam-unknown", true, "of an unknown family")
			// Rotation keeps the family alive through its successor.
			next := refreshToken("a", "cu1", "rt1b")
			next.FamilyID = rt1.FamilyID
			must(t, st.Tokens().Rotate(ctx, rt1, next, clock), "Rotate")
			ended(rt1.FamilyID, false, "after a rotation")
			_, err := st.Tokens().RevokeFamily(ctx, rt1.FamilyID, clock)
			must(t, err, "RevokeFamily")
			ended(rt1.FamilyID, true, "after RevokeFamily")

			rt2 := mkRefreshToken(t, st, "a", "cu1", "rt2")
			must(t, st.Customers().Update(ctx, c, []string{"status"}, true), "Update revoking tokens")
			ended(rt2.FamilyID, true, "after the customer's tokens were revoked")

			rt3 := mkRefreshToken(t, st, "a", "cu1", "rt3")
			rt4 := mkRefreshToken(t, st, "a", "cu1", "rt4")
			must(t, st.Customers().SetPassword(ctx, c, "new hash", false, clock), "SetPassword")
			ended(rt3.FamilyID, true, "after a password change")
			ended(rt4.FamilyID, true, "of a second family after a password change")

			rt5 := mkRefreshToken(t, st, "a", "cu1", "rt5")
			must(t, st.Customers().Delete(ctx, "a", "cu1"), "Delete customer")
			ended(rt5.FamilyID, true, "after the customer was deleted")
		}},
		{"RefreshConflicts", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			mkRefreshToken(t, st, "a", "cu1", "rt1")
			sameHash := refreshToken("a", "cu1", "rt2")
			sameHash.Hash = []byte("rt:rt1")
			wantErr(t, st.Tokens().CreateRefresh(ctx, sameHash), store.ErrConflict, "a token with a taken hash")
			sameID := refreshToken("a", "cu1", "rt1")
			sameID.Hash = []byte("fresh")
			wantErr(t, st.Tokens().CreateRefresh(ctx, sameID), store.ErrConflict, "a token with a taken id")
		}},
		{"Rotate", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			old := mkRefreshToken(t, st, "a", "cu1", "rt1")
			now := clock.Add(time.Minute)
			next := successor(old, "rt2", now)
			must(t, st.Tokens().Rotate(ctx, old, next, now), "RotateRefreshToken")
			if old.RotatedMS != ms(now) {
				t.Errorf("old.RotatedMS = %d after rotation, want %d", old.RotatedMS, ms(now))
			}
			if got := getRefresh(t, st, "a", "rt1"); got.RotatedMS != ms(now) || got.RevokedMS != 0 {
				t.Errorf("stored old token: rotated %d revoked %d, want %d 0", got.RotatedMS, got.RevokedMS, ms(now))
			}
			checkRefresh(t, getRefresh(t, st, "a", "rt2"), next)

			// A second rotation of the same token loses, and learns when it was rotated.
			stale := *old
			stale.RotatedMS = 0
			err := st.Tokens().Rotate(ctx, &stale, successor(old, "rt3", now.Add(time.Second)), now.Add(time.Second))
			wantErr(t, err, store.ErrRotated, "second rotation")
			if stale.RotatedMS != ms(now) {
				t.Errorf("the loser sees RotatedMS %d, want %d", stale.RotatedMS, ms(now))
			}
			wantErr(t, getErr(st.Tokens().RefreshByHash(ctx, "a", []byte("rt:rt3"))), store.ErrNotFound, "the loser's successor")

			// The successor rotates in turn.
			must(t, st.Tokens().Rotate(ctx, next, successor(next, "rt4", now.Add(time.Minute)), now.Add(time.Minute)), "rotate the successor")
		}},
		{"RotateRace", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			old := mkRefreshToken(t, st, "a", "cu1", "rt")
			const n = 16
			// Each request has its own copy of the token, its own successor and its own clock,
			// so that the losers' reloaded copy tells who won.
			copies := make([]store.RefreshToken, n)
			nows := make([]time.Time, n)
			for i := range n {
				copies[i] = *old
				nows[i] = clock.Add(time.Second + time.Duration(i)*time.Millisecond)
			}
			errs := Race(n, func(i int) error {
				return st.Tokens().Rotate(ctx, &copies[i], successor(old, fmt.Sprint("next", i), nows[i]), nows[i])
			})
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("requests %d and %d both rotated the token", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, store.ErrRotated):
					t.Errorf("request %d: %v, want %v", i, err, store.ErrRotated)
				}
			}
			if winner < 0 {
				t.Fatal("no request rotated the token")
			}
			for i := range n {
				if copies[i].RotatedMS != ms(nows[winner]) {
					t.Errorf("request %d sees RotatedMS %d, want the winner's %d", i, copies[i].RotatedMS, ms(nows[winner]))
				}
				_, err := st.Tokens().RefreshByHash(ctx, "a", []byte(fmt.Sprint("rt:next", i)))
				if i == winner && err != nil {
					t.Errorf("the winner's successor: %v", err)
				}
				if i != winner && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("loser %d's successor: %v, want %v", i, err, store.ErrNotFound)
				}
			}
			if got := getRefresh(t, st, "a", "rt"); got.RotatedMS != ms(nows[winner]) {
				t.Errorf("stored token rotated at %d, want %d", got.RotatedMS, ms(nows[winner]))
			}
		}},
		{"RotateRevokedMissingOrClashing", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			now := clock.Add(time.Minute)
			revoked := mkRefreshToken(t, st, "a", "cu1", "rt1")
			if _, err := st.Tokens().RevokeFamily(ctx, revoked.FamilyID, now); err != nil {
				t.Fatal(err)
			}
			wantErr(t, st.Tokens().Rotate(ctx, revoked, successor(revoked, "rt2", now), now), store.ErrRevoked, "rotation of a revoked token")
			wantErr(t, getErr(st.Tokens().RefreshByHash(ctx, "a", []byte("rt:rt2"))), store.ErrNotFound, "successor of a revoked token")

			missing := refreshToken("a", "cu1", "none")
			wantErr(t, st.Tokens().Rotate(ctx, missing, successor(missing, "rt3", now), now), store.ErrNotFound, "rotation of a missing token")

			// A successor that cannot be stored leaves the old token unrotated.
			old := mkRefreshToken(t, st, "a", "cu1", "rt4")
			clash := successor(old, "rt5", now)
			clash.Hash = []byte("rt:rt1")
			wantErr(t, st.Tokens().Rotate(ctx, old, clash, now), store.ErrConflict, "rotation to a successor with a taken hash")
			if got := getRefresh(t, st, "a", "rt4"); got.RotatedMS != 0 {
				t.Errorf("a failed rotation marked the token rotated at %d", got.RotatedMS)
			}
			must(t, st.Tokens().Rotate(ctx, old, successor(old, "rt6", now), now), "retry with a good successor")
		}},
		{"RevokeFamily", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			root := mkRefreshToken(t, st, "a", "cu1", "rt1")
			mkRefreshToken(t, st, "a", "cu1", "rt9") // another family
			now := clock.Add(time.Minute)
			next := successor(root, "rt2", now)
			must(t, st.Tokens().Rotate(ctx, root, next, now), "RotateRefreshToken")
			n, err := st.Tokens().RevokeFamily(ctx, root.FamilyID, now.Add(time.Second))
			must(t, err, "RevokeFamily")
			if n != 2 {
				t.Errorf("RevokeFamily revoked %d tokens, want 2 (the rotated root and its successor)", n)
			}
			for id, want := range map[string]int64{"rt1": ms(now.Add(time.Second)), "rt2": ms(now.Add(time.Second)), "rt9": 0} {
				if got := getRefresh(t, st, "a", id).RevokedMS; got != want {
					t.Errorf("token %s RevokedMS %d, want %d", id, got, want)
				}
			}
			wantErr(t, st.Tokens().Rotate(ctx, next, successor(next, "rt3", now), now), store.ErrRevoked, "rotation in a revoked family")
			n, err = st.Tokens().RevokeFamily(ctx, root.FamilyID, now.Add(time.Hour))
			must(t, err, "second RevokeFamily")
			if n != 0 {
				t.Errorf("second RevokeFamily revoked %d tokens, want 0", n)
			}
			if got := getRefresh(t, st, "a", "rt1").RevokedMS; got != ms(now.Add(time.Second)) {
				t.Errorf("a second revocation moved RevokedMS to %d", got)
			}
		}},
		{"RevokedAccessTokens", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			must(t, st.Tokens().RevokeAccess(ctx, "a", "jti1", clock.Add(time.Hour)), "RevokeAccessToken")
			// Revoking twice (a retried revocation request) is not an error.
			must(t, st.Tokens().RevokeAccess(ctx, "a", "jti1", clock.Add(time.Hour)), "second RevokeAccessToken")
			for jti, want := range map[string]bool{"jti1": true, "jti2": false} {
				got, err := st.Tokens().AccessRevoked(ctx, jti)
				must(t, err, "AccessTokenRevoked")
				if got != want {
					t.Errorf("AccessTokenRevoked(%s) = %v, want %v", jti, got, want)
				}
			}
		}},
		{"SetPassword", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			now := clock.Add(time.Minute).In(zone)
			for i, tc := range []struct {
				name         string
				status       string
				email        string
				verify       bool
				wantStatus   string
				wantVerified bool
			}{
				{"invited, verifying", store.CustomerInvited, "inv@example.org", true, store.CustomerActive, true},
				{"invited, not verifying", store.CustomerInvited, "inv2@example.org", false, store.CustomerActive, false},
				{"active, verifying", store.CustomerActive, "act@example.org", true, store.CustomerActive, true},
				{"disabled stays disabled", store.CustomerDisabled, "dis@example.org", true, store.CustomerDisabled, true},
				{"no email to verify", store.CustomerInvited, "", true, store.CustomerActive, false},
			} {
				c := customer("a", fmt.Sprint("cu", i), tc.email, "")
				c.Status = tc.status
				must(t, st.Customers().Create(ctx, c, nil), "CreateCustomer")
				mkRefreshToken(t, st, "a", c.ID, c.ID+"-rt")
				must(t, st.Customers().SetPassword(ctx, c, "hash-"+c.ID, tc.verify, now), tc.name)
				got, err := st.Customers().Get(ctx, "a", c.ID)
				must(t, err, "GetCustomer")
				if got.PasswordHash != "hash-"+c.ID || got.Status != tc.wantStatus || got.EmailVerified != tc.wantVerified {
					t.Errorf("%s: hash %q status %q verified %v, want %q %q %v", tc.name, got.PasswordHash, got.Status,
						got.EmailVerified, "hash-"+c.ID, tc.wantStatus, tc.wantVerified)
				}
				// A new password ends every session the old one opened.
				if rt := getRefresh(t, st, "a", c.ID+"-rt"); rt.RevokedMS != ms(now) {
					t.Errorf("%s: refresh token RevokedMS %d, want %d", tc.name, rt.RevokedMS, ms(now))
				}
			}
			wantErr(t, st.Customers().SetPassword(ctx, customer("a", "none", "", ""), "h", false, now), store.ErrNotFound, "SetPassword of a missing customer")
			mkAccount(t, st, "b")
			mkCustomer(t, st, "a", "victim", "", "")
			wantErr(t, st.Customers().SetPassword(ctx, customer("b", "victim", "", ""), "h", false, now), store.ErrNotFound, "a's customer through b")
			if got, _ := st.Customers().Get(ctx, "a", "victim"); got == nil || got.PasswordHash != "" {
				t.Error("b set the password of a's customer")
			}
		}},
		{"SetPasswordOnce", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			mkRefreshToken(t, st, "a", "cu1", "rt1")
			now := clock.Add(time.Minute)
			// Racing spends of one token: the database lets exactly one set the password.
			const n = 20
			results := Race(n, func(i int) error {
				c, err := st.Customers().Get(ctx, "a", "cu1")
				if err != nil {
					return err
				}
				err = st.Customers().SetPasswordOnce(ctx, c, fmt.Sprint("hash-", i), "jti1", clock.Add(time.Hour), now)
				if errors.Is(err, store.ErrUsed) {
					return errDenied
				}
				return err
			})
			checkGranted(t, results, 1, "parallel SetPasswordOnce")
			got, err := st.Customers().Get(ctx, "a", "cu1")
			must(t, err, "GetCustomer")
			winner := slices.IndexFunc(results, func(err error) bool { return err == nil })
			if winner < 0 || got.PasswordHash != fmt.Sprint("hash-", winner) || !got.EmailVerified {
				t.Errorf("after the race: hash %q verified %v, want the winner's (racer %d) and verified", got.PasswordHash, got.EmailVerified, winner)
			}
			if revoked, err := st.Tokens().AccessRevoked(ctx, "jti1"); err != nil || !revoked {
				t.Errorf("the spent token is not revoked: %v %v", revoked, err)
			}
			if rt := getRefresh(t, st, "a", "rt1"); rt.RevokedMS != ms(now) {
				t.Errorf("refresh token RevokedMS %d, want %d", rt.RevokedMS, ms(now))
			}
			// A token revoked another way (RFC 7009) cannot set a password either.
			must(t, st.Tokens().RevokeAccess(ctx, "a", "jti2", clock.Add(time.Hour)), "RevokeAccess")
			wantErr(t, st.Customers().SetPasswordOnce(ctx, got, "late", "jti2", clock.Add(time.Hour), now), store.ErrUsed, "a revoked token")
			// A refused spend changes nothing, and a missing customer spends nothing.
			wantErr(t, st.Customers().SetPasswordOnce(ctx, customer("a", "none", "", ""), "h", "jti3", clock.Add(time.Hour), now), store.ErrNotFound, "missing customer")
			if revoked, _ := st.Tokens().AccessRevoked(ctx, "jti3"); revoked {
				t.Error("a failed SetPasswordOnce spent its token")
			}
			if got, _ := st.Customers().Get(ctx, "a", "cu1"); got == nil || got.PasswordHash != fmt.Sprint("hash-", winner) {
				t.Errorf("a refused SetPasswordOnce changed the password: %+v", got)
			}
		}},
		{"SetPasswordStampsNow", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			c := withCustomer(t, st)
			now := clock.Add(time.Minute)
			must(t, st.Customers().SetPassword(ctx, c, "hash", false, now), "SetPassword")
			got, err := st.Customers().Get(ctx, "a", "cu1")
			must(t, err, "GetCustomer")
			if !got.UpdatedAt.Equal(now) || !got.UpdatedAt.Equal(c.UpdatedAt) {
				t.Errorf("UpdatedAt %v after SetPassword at %v (caller's copy %v)", got.UpdatedAt, now, c.UpdatedAt)
			}
		}},
		{"RehashPassword", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			c := withCustomer(t, st)
			must(t, st.Customers().SetPassword(ctx, c, "weak", false, clock), "SetPassword")
			must(t, st.Customers().Rehash(ctx, "cu1", "weak", "strong"), "RehashPassword")
			// A rehash computed from a password that has changed since must not win.
			must(t, st.Customers().Rehash(ctx, "cu1", "weak", "stale"), "stale RehashPassword")
			got, err := st.Customers().Get(ctx, "a", "cu1")
			must(t, err, "GetCustomer")
			if got.PasswordHash != "strong" {
				t.Errorf("password hash %q, want strong", got.PasswordHash)
			}
		}},
		{"ReplaceCode", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			mkCustomer(t, st, "a", "cu2", "bob@example.org", "")
			mkCustomer(t, st, "b", "cu3", "ann@example.org", "")
			wantErr(t, getErr(st.Codes().Latest(ctx, "cu1")), store.ErrNotFound, "LatestCode of a customer without code")

			first := code("a", "cu1", "vc1")
			must(t, st.Codes().Replace(ctx, first), "ReplaceCode")
			got, err := st.Codes().ByHash(ctx, "a", first.CodeHash)
			must(t, err, "CodeByHash")
			checkCode(t, got, first)
			second := code("a", "cu1", "vc2")
			second.CreatedMS++
			must(t, st.Codes().Replace(ctx, second), "ReplaceCode again")
			// A re-sent code invalidates the one before.
			wantErr(t, getErr(st.Codes().ByHash(ctx, "a", first.CodeHash)), store.ErrNotFound, "the replaced code")
			got, err = st.Codes().Latest(ctx, "cu1")
			must(t, err, "LatestCode")
			checkCode(t, got, second)

			// Another customer's code may not share the hash within the account...
			clash := code("a", "cu2", "vc3")
			clash.CodeHash = second.CodeHash
			must(t, st.Codes().Replace(ctx, code("a", "cu2", "vc4")), "ReplaceCode cu2")
			wantErr(t, st.Codes().Replace(ctx, clash), store.ErrConflict, "a code colliding with another customer's")
			// ...and a refused replacement keeps the code it would have replaced.
			if got, err := st.Codes().Latest(ctx, "cu2"); err != nil || got.ID != "vc4" {
				t.Errorf("cu2's code after a refused replacement: %v %v", got, err)
			}
			// In another account the same hash is fine, and invisible from a.
			other := code("b", "cu3", "vc5")
			other.CodeHash = second.CodeHash
			must(t, st.Codes().Replace(ctx, other), "same hash in another account")
			got, err = st.Codes().ByHash(ctx, "a", second.CodeHash)
			must(t, err, "CodeByHash in a")
			if got.ID != "vc2" {
				t.Errorf("CodeByHash in a found %s, want vc2", got.ID)
			}
			wantErr(t, getErr(st.Codes().ByHash(ctx, "b", first.CodeHash)), store.ErrNotFound, "a's hash through b")
		}},
		{"TryCode", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			mkCustomer(t, st, "a", "cu2", "bob@example.org", "")
			mkCustomer(t, st, "a", "cu3", "cyd@example.org", "")
			c := code("a", "cu1", "vc1")
			must(t, st.Codes().Replace(ctx, c), "ReplaceCode")
			for i := range 5 {
				ok, err := st.Codes().Try(ctx, "vc1", 3, clock)
				must(t, err, "TryCode")
				if want := i < 3; ok != want {
					t.Errorf("attempt %d with max 3: %v, want %v", i+1, ok, want)
				}
			}
			if got, _ := st.Codes().ByHash(ctx, "a", c.CodeHash); got == nil || got.Attempts != 3 {
				t.Errorf("attempts after 5 tries with max 3: %+v", got)
			}

			expired := code("a", "cu2", "vc2")
			must(t, st.Codes().Replace(ctx, expired), "ReplaceCode")
			ok, err := st.Codes().Try(ctx, "vc2", 3, time.UnixMilli(expired.ExpiresMS))
			must(t, err, "TryCode")
			if ok {
				t.Error("TryCode accepted an attempt at an expired code")
			}
			used := code("a", "cu3", "vc3")
			must(t, st.Codes().Replace(ctx, used), "ReplaceCode")
			if ok, err := st.Codes().Use(ctx, "vc3", clock); !ok || err != nil {
				t.Fatalf("UseCode: %v %v", ok, err)
			}
			if ok, err := st.Codes().Try(ctx, "vc3", 3, clock); ok || err != nil {
				t.Errorf("TryCode at a used code: %v %v", ok, err)
			}
			if ok, err := st.Codes().Try(ctx, "none", 3, clock); ok || err != nil {
				t.Errorf("TryCode at a missing code: %v %v", ok, err)
			}
		}},
		{"TryCodeConcurrent", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			must(t, st.Codes().Replace(ctx, code("a", "cu1", "vc1")), "ReplaceCode")
			const n, limit = 20, 5
			results := Race(n, func(int) error {
				ok, err := st.Codes().Try(ctx, "vc1", limit, clock)
				if err == nil && !ok {
					err = errDenied
				}
				return err
			})
			checkGranted(t, results, limit, "parallel TryCode")
		}},
		{"UseCode", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			c := code("a", "cu1", "vc1")
			must(t, st.Codes().Replace(ctx, c), "ReplaceCode")
			now := clock.Add(time.Minute)
			for i, want := range []bool{true, false} {
				ok, err := st.Codes().Use(ctx, "vc1", now.Add(time.Duration(i)*time.Second))
				must(t, err, "UseCode")
				if ok != want {
					t.Errorf("use %d: %v, want %v", i+1, ok, want)
				}
			}
			if got, _ := st.Codes().ByHash(ctx, "a", c.CodeHash); got == nil || got.UsedMS != ms(now) {
				t.Errorf("code after use: %+v, want UsedMS %d", got, ms(now))
			}
			if ok, err := st.Codes().Use(ctx, "none", now); ok || err != nil {
				t.Errorf("UseCode of a missing code: %v %v", ok, err)
			}
		}},
		{"UseCodeConcurrent", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			must(t, st.Codes().Replace(ctx, code("a", "cu1", "vc1")), "ReplaceCode")
			results := Race(16, func(int) error {
				ok, err := st.Codes().Use(ctx, "vc1", clock)
				if err == nil && !ok {
					err = errDenied
				}
				return err
			})
			checkGranted(t, results, 1, "parallel UseCode")
		}},
	})
}

// errDenied marks a refused conditional update in race results.
var errDenied = errors.New("denied")

// checkGranted checks that exactly want of the results are nil and the rest errDenied.
func checkGranted(t *testing.T, results []error, want int, what string) {
	t.Helper()
	granted := 0
	for _, err := range results {
		switch {
		case err == nil:
			granted++
		case !errors.Is(err, errDenied):
			t.Errorf("%s: %v", what, err)
		}
	}
	if granted != want {
		t.Errorf("%s: %d of %d granted, want %d", what, granted, len(results), want)
	}
}

// successor builds the token that replaces old at now.
func successor(old *store.RefreshToken, id string, now time.Time) *store.RefreshToken {
	return &store.RefreshToken{ID: id, AID: old.AID, FamilyID: old.FamilyID, Hash: []byte("rt:" + id),
		ClientID: old.ClientID, CustomerID: old.CustomerID, Audience: old.Audience, Scopes: old.Scopes, AMR: old.AMR,
		CreatedMS: ms(now), IdleUntilMS: ms(now.Add(time.Hour)), UntilMS: old.UntilMS}
}

func checkRefresh(t *testing.T, got, want *store.RefreshToken) {
	t.Helper()
	if got.ID != want.ID || got.AID != want.AID || got.FamilyID != want.FamilyID || !bytes.Equal(got.Hash, want.Hash) ||
		got.ClientID != want.ClientID || got.CustomerID != want.CustomerID || got.Audience != want.Audience ||
		got.Scopes != want.Scopes || got.CreatedMS != want.CreatedMS || got.IdleUntilMS != want.IdleUntilMS ||
		got.UntilMS != want.UntilMS || got.RotatedMS != want.RotatedMS || got.RevokedMS != want.RevokedMS || got.AMR != want.AMR {
		t.Errorf("token read back as %+v, want %+v", got, want)
	}
}

func checkCode(t *testing.T, got, want *store.VerificationCode) {
	t.Helper()
	if got.ID != want.ID || got.AID != want.AID || got.CustomerID != want.CustomerID || got.Purpose != want.Purpose ||
		!bytes.Equal(got.CodeHash, want.CodeHash) || got.Attempts != want.Attempts || got.CreatedMS != want.CreatedMS ||
		got.ExpiresMS != want.ExpiresMS || got.UsedMS != want.UsedMS {
		t.Errorf("code read back as %+v, want %+v", got, want)
	}
}
