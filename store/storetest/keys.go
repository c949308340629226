package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

func testKeys(t *testing.T, open opener) {
	runAll(t, open, []test{
		{"Rotation", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			k1 := signingKey("a", "k1", when(0))
			must(t, st.Accounts().Create(ctx, account("a"), nil, k1), "CreateAccount")
			must(t, st.Accounts().Create(ctx, account("b"), nil, signingKey("b", "kb", when(0))), "CreateAccount b")
			// A generation of two keys activating together (an access token key and its ID
			// token companion) retires the keys before it.
			k2, k3 := signingKey("a", "k2", when(1)), signingKey("a", "k3", when(1))
			k3.Alg = "RS256"
			r1 := when(2)
			must(t, st.Keys().Add(ctx, r1, k2, k3), "AddSigningKeys")
			checkKeys(t, st, "a", []string{"k3", "k2", "k1"}, map[string]*time.Time{"k1": &r1, "k2": nil, "k3": nil})
			keys, err := st.Keys().List(ctx, "a")
			must(t, err, "ListSigningKeys")
			got := keys[0]
			if got.AID != "a" || got.Alg != "RS256" || !bytes.Equal(got.PrivateKey, k3.PrivateKey) || got.PublicJWK != k3.PublicJWK ||
				!got.CreatedAt.Equal(k3.CreatedAt) || !got.ActivatesAt.Equal(k3.ActivatesAt) {
				t.Errorf("key read back as %+v, want %+v", got, k3)
			}

			// The next generation retires k2 and k3; k1 keeps its earlier retirement.
			r2 := when(4)
			must(t, st.Keys().Add(ctx, r2, signingKey("a", "k4", when(3))), "AddSigningKeys again")
			checkKeys(t, st, "a", []string{"k4", "k3", "k2", "k1"}, map[string]*time.Time{"k1": &r1, "k2": &r2, "k3": &r2, "k4": nil})
			// Another account's keys are not touched.
			checkKeys(t, st, "b", []string{"kb"}, map[string]*time.Time{"kb": nil})
			keys, err = st.Keys().List(ctx, "none")
			must(t, err, "ListSigningKeys of a missing account")
			if len(keys) != 0 {
				t.Errorf("keys of a missing account: %v", keys)
			}
		}},
		{"RotationWhileOnePending", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			must(t, st.Accounts().Create(ctx, account("a"), nil, signingKey("a", "k1", when(0))), "CreateAccount")
			// k2 is pending from when(5); a later rotation brings k3 in from when(1), before it.
			r1 := when(6)
			must(t, st.Keys().Add(ctx, r1, signingKey("a", "k2", when(5))), "AddSigningKeys")
			r2 := when(2)
			must(t, st.Keys().Add(ctx, r2, signingKey("a", "k3", when(1))), "AddSigningKeys before the pending one")
			// k1 keeps its retirement; k2 never signs, so it retires when k3 activates, not
			// at r2 while it would sign from when(5).
			k3At := when(1)
			checkKeys(t, st, "a", []string{"k2", "k3", "k1"}, map[string]*time.Time{"k1": &r1, "k2": &k3At, "k3": nil})
			// A generation activating at the same time as a pending one supersedes it too.
			must(t, st.Keys().Add(ctx, when(3), signingKey("a", "k4", when(1))), "AddSigningKeys at the same activation")
			checkKeys(t, st, "a", []string{"k2", "k4", "k3", "k1"},
				map[string]*time.Time{"k1": &r1, "k2": &k3At, "k3": &k3At, "k4": nil})
		}},
		{"DeleteRetired", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			must(t, st.Accounts().Create(ctx, account("a"), nil, signingKey("a", "k1", when(0))), "CreateAccount")
			must(t, st.Accounts().Create(ctx, account("b"), nil, signingKey("b", "kb1", when(0))), "CreateAccount b")
			must(t, st.Keys().Add(ctx, when(2), signingKey("a", "k2", when(1))), "AddSigningKeys")
			must(t, st.Keys().Add(ctx, when(4), signingKey("a", "k3", when(3))), "AddSigningKeys")
			must(t, st.Keys().Add(ctx, when(4), signingKey("b", "kb2", when(3))), "AddSigningKeys b")
			// Retired at when(2) (k1) and when(4) (k2, kb1); k3 and kb2 are current.
			for _, tc := range []struct {
				now  time.Time
				want int64
			}{
				{when(2), 0}, // retiring, not yet gone
				{when(2).Add(time.Microsecond), 1},
				{when(2).Add(time.Microsecond), 0},
				{when(5), 2}, // across accounts
				{when(100), 0},
			} {
				n, err := st.Keys().DeleteRetired(ctx, tc.now)
				must(t, err, "DeleteRetiredKeys")
				if n != tc.want {
					t.Errorf("DeleteRetiredKeys(%v) = %d, want %d", tc.now, n, tc.want)
				}
			}
			checkKeys(t, st, "a", []string{"k3"}, nil)
			checkKeys(t, st, "b", []string{"kb2"}, nil)
		}},
		{"AddIsAtomic", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			must(t, st.Accounts().Create(ctx, account("a"), nil, signingKey("a", "k1", when(0))), "CreateAccount")
			wantErr(t, st.Keys().Add(ctx, when(2), signingKey("a", "k2", when(1)), signingKey("a", "k1", when(1))),
				store.ErrConflict, "AddSigningKeys with a taken kid")
			// The failed generation neither stays nor retires the current key.
			checkKeys(t, st, "a", []string{"k1"}, map[string]*time.Time{"k1": nil})
		}},
		{"AcrossZones", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			west := time.FixedZone("UTC-07:00", -7*3600)
			retire := clock.In(west) // 05:00-07:00, 12:00 UTC
			old := signingKey("a", "k1", clock.Add(-2*time.Hour).In(zone))
			must(t, st.Accounts().Create(ctx, account("a"), nil, old), "CreateAccount")
			must(t, st.Keys().Add(ctx, retire, signingKey("a", "k2", clock.Add(-time.Hour).In(west))), "AddSigningKeys")
			checkKeys(t, st, "a", []string{"k2", "k1"}, nil)
			n, err := st.Keys().DeleteRetired(ctx, clock.Add(-time.Hour)) // 11:00 UTC
			must(t, err, "DeleteRetiredKeys")
			if n != 0 {
				t.Errorf("DeleteRetiredKeys an hour before the retirement deleted %d keys", n)
			}
			n, err = st.Keys().DeleteRetired(ctx, clock.Add(time.Hour).In(zone))
			must(t, err, "DeleteRetiredKeys")
			if n != 1 {
				t.Errorf("DeleteRetiredKeys an hour after the retirement deleted %d keys, want 1", n)
			}
		}},
	})
}

// checkKeys checks an account's keys, in list order, and (when retires is not nil) when each
// retires (nil: current).
func checkKeys(t *testing.T, st *store.Store, aid string, want []string, retires map[string]*time.Time) {
	t.Helper()
	keys, err := st.Keys().List(t.Context(), aid)
	must(t, err, "ListSigningKeys")
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.KID)
		w, ok := retires[k.KID]
		switch {
		case !ok:
		case w == nil && k.RetiresAt != nil:
			t.Errorf("key %s retires at %v, want current", k.KID, *k.RetiresAt)
		case w != nil && (k.RetiresAt == nil || !k.RetiresAt.Equal(*w)):
			t.Errorf("key %s retires at %v, want %v", k.KID, k.RetiresAt, *w)
		}
	}
	if !slices.Equal(kids, want) {
		t.Errorf("keys of %s: %v, want %v (newest activation first)", aid, kids, want)
	}
}
