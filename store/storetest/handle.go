package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

func testStore(t *testing.T, open opener) {
	runAll(t, open, []test{
		{"DialectAndPing", func(t *testing.T, st *store.Store) {
			if d := st.Dialect(); d != store.DialectSQLite && d != store.DialectPostgres {
				t.Errorf("Dialect() = %q, want %q or %q", d, store.DialectSQLite, store.DialectPostgres)
			}
			if err := st.Ping(t.Context()); err != nil {
				t.Errorf("Ping: %v", err)
			}
		}},
		{"MigrateAgainAppliesNothing", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "acct")
			applied, err := st.Migrate(t.Context())
			must(t, err, "second Migrate")
			if len(applied) != 0 {
				t.Errorf("second Migrate applied %v, want nothing", applied)
			}
			if _, err := st.Accounts().Get(t.Context(), "acct"); err != nil {
				t.Errorf("account after second Migrate: %v", err)
			}
		}},
		{"Queries", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			before := st.Queries()
			_, _ = st.Accounts().Get(ctx, "none")
			afterRead := st.Queries()
			if afterRead <= before {
				t.Errorf("Queries() did not grow over a read: %d then %d", before, afterRead)
			}
			// A transaction's statements count on the store it came from.
			must(t, st.InTx(ctx, func(tx *store.Store) error {
				_, err := tx.Accounts().IDs(ctx)
				return err
			}), "InTx")
			if st.Queries() <= afterRead {
				t.Errorf("Queries() did not grow over a transaction: %d then %d", afterRead, st.Queries())
			}
		}},
		{"InTxCommits", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			err := st.InTx(ctx, func(tx *store.Store) error {
				if err := tx.Accounts().Create(ctx, account("acct"), nil); err != nil {
					return err
				}
				// The transaction reads its own writes.
				if _, err := tx.Accounts().Get(ctx, "acct"); err != nil {
					t.Errorf("account inside its transaction: %v", err)
				}
				return tx.Scopes().Create(ctx, scope("acct", "sc1", "read"))
			})
			must(t, err, "InTx")
			if _, err := st.Accounts().Get(ctx, "acct"); err != nil {
				t.Errorf("account after commit: %v", err)
			}
			if _, err := st.Scopes().Get(ctx, "acct", "sc1"); err != nil {
				t.Errorf("scope after commit: %v", err)
			}
		}},
		{"InTxRollsBack", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			errStop := errors.New("stop")
			err := st.InTx(ctx, func(tx *store.Store) error {
				if err := tx.Accounts().Create(ctx, account("acct"), nil); err != nil {
					return err
				}
				if err := tx.Scopes().Create(ctx, scope("acct", "sc1", "read")); err != nil {
					return err
				}
				return errStop
			})
			if !errors.Is(err, errStop) {
				t.Fatalf("InTx returned %v, want the error of fn", err)
			}
			wantErr(t, getErr(st.Accounts().Get(ctx, "acct")), store.ErrNotFound, "account after rollback")
			wantErr(t, getErr(st.Scopes().Get(ctx, "acct", "sc1")), store.ErrNotFound, "scope after rollback")
			ids, err := st.Accounts().IDs(ctx)
			must(t, err, "AllAccountIDs")
			if len(ids) != 0 {
				t.Errorf("accounts after rollback: %v", ids)
			}
		}},
		{"InTxRollsBackOnStoreError", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			mkScope(t, st, "acct", "sc1", "read")
			err := st.InTx(ctx, func(tx *store.Store) error {
				if err := tx.Scopes().Create(ctx, scope("acct", "sc2", "write")); err != nil {
					return err
				}
				return tx.Scopes().Create(ctx, scope("acct", "sc3", "read")) // the scope string is taken
			})
			wantErr(t, err, store.ErrConflict, "InTx with a conflicting insert")
			wantErr(t, getErr(st.Scopes().Get(ctx, "acct", "sc2")), store.ErrNotFound, "scope written before the conflict")
		}},
		{"DB", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "a1")
			mkAccount(t, st, "a2")
			var n int64
			must(t, st.DB().WithContext(t.Context()).Table("accounts").Count(&n).Error, "count through DB")
			if n != 2 {
				t.Errorf("DB sees %d accounts, want 2", n)
			}
		}},
		{"Close", func(t *testing.T, st *store.Store) {
			must(t, st.Close(), "Close")
			if err := st.Ping(t.Context()); err == nil {
				t.Error("Ping after Close succeeded")
			}
			if _, err := st.Accounts().Get(t.Context(), "acct"); err == nil {
				t.Error("GetAccount after Close succeeded")
			}
		}},
		{"TimesComeBackEqual", testTimesEqual},
		{"TimesComeBackInUTC", testTimesUTC},
		{"ZeroPageLimit", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "acct")
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("ListAccounts(Page{}) panicked: %v", r)
				}
			}()
			if _, _, err := st.Accounts().List(t.Context(), store.Page{}); err != nil {
				t.Logf("ListAccounts(Page{}): %v", err)
			}
		}},
	})
}

// storedTimes writes one row of every table with time columns, all times in zone, and
// returns pairs of (what was written, what was read back).
func storedTimes(t *testing.T, st *store.Store) map[string][2]time.Time {
	ctx := t.Context()
	out := map[string][2]time.Time{}
	a := account("acct")
	key := signingKey("acct", "k1", when(3))
	retire := when(4)
	must(t, st.Accounts().Create(ctx, a, nil, key), "CreateAccount")
	must(t, st.Keys().Add(ctx, retire, signingKey("acct", "k2", when(5))), "AddSigningKeys")
	ga, err := st.Accounts().Get(ctx, "acct")
	must(t, err, "GetAccount")
	out["account.created_at"] = [2]time.Time{a.CreatedAt, ga.CreatedAt}
	out["account.updated_at"] = [2]time.Time{a.UpdatedAt, ga.UpdatedAt}
	keys, err := st.Keys().List(ctx, "acct")
	must(t, err, "ListSigningKeys")
	for _, k := range keys {
		if k.KID == "k1" {
			out["signing_key.created_at"] = [2]time.Time{key.CreatedAt, k.CreatedAt}
			out["signing_key.activates_at"] = [2]time.Time{key.ActivatesAt, k.ActivatesAt}
			if k.RetiresAt != nil {
				out["signing_key.retires_at"] = [2]time.Time{retire, *k.RetiresAt}
			} else {
				t.Error("k1 has no RetiresAt after AddSigningKeys")
			}
		}
	}

	sc := mkScope(t, st, "acct", "sc1", "read")
	gs, err := st.Scopes().Get(ctx, "acct", "sc1")
	must(t, err, "GetScope")
	out["scope.created_at"] = [2]time.Time{sc.CreatedAt, gs.CreatedAt}

	c := mkClient(t, st, "acct", store.KindConfidential, "c1")
	gc, err := st.Clients().Get(ctx, "acct", store.KindConfidential, "c1")
	must(t, err, "GetClient")
	out["client.created_at"] = [2]time.Time{c.CreatedAt, gc.CreatedAt}
	out["client.updated_at"] = [2]time.Time{c.UpdatedAt, gc.UpdatedAt}

	sec := secret("c1", "s1")
	exp, used := when(6), when(7)
	sec.ExpiresAt = &exp
	must(t, st.Secrets().Create(ctx, sec, 10), "CreateSecret")
	must(t, st.Secrets().Touch(ctx, map[string]time.Time{"s1": used}), "TouchSecrets")
	secs, err := st.Secrets().Of(ctx, "c1")
	must(t, err, "ClientSecrets")
	if len(secs) != 1 || secs[0].ExpiresAt == nil || secs[0].LastUsedAt == nil {
		t.Fatalf("secret read back as %+v", secs)
	}
	out["secret.created_at"] = [2]time.Time{sec.CreatedAt, secs[0].CreatedAt}
	out["secret.expires_at"] = [2]time.Time{exp, *secs[0].ExpiresAt}
	out["secret.last_used_at"] = [2]time.Time{used, *secs[0].LastUsedAt}

	g := mkGrant(t, st, "acct", "c1", "g1", "api", store.GrantPassword)
	gg, err := st.Grants().Get(ctx, "acct", "g1")
	must(t, err, "GetGrant")
	out["grant.created_at"] = [2]time.Time{g.CreatedAt, gg.CreatedAt}
	out["grant.updated_at"] = [2]time.Time{g.UpdatedAt, gg.UpdatedAt}

	cu := mkCustomer(t, st, "acct", "cu1", "ann@example.org", "")
	gcu, err := st.Customers().Get(ctx, "acct", "cu1")
	must(t, err, "GetCustomer")
	out["customer.created_at"] = [2]time.Time{cu.CreatedAt, gcu.CreatedAt}
	out["customer.updated_at"] = [2]time.Time{cu.UpdatedAt, gcu.UpdatedAt}
	return out
}

// testTimesEqual: a time written in any location reads back as the same instant, at the
// microsecond precision of the coarser dialect (Postgres).
func testTimesEqual(t *testing.T, st *store.Store) {
	for col, tt := range storedTimes(t, st) {
		if !tt[1].Equal(tt[0]) {
			t.Errorf("%s: wrote %v, read back %v", col, tt[0], tt[1])
		}
	}
}

// testTimesUTC: times read back are in UTC, so that callers can format and compare them
// without converting first.
func testTimesUTC(t *testing.T, st *store.Store) {
	for col, tt := range storedTimes(t, st) {
		if tt[1].Location() != time.UTC {
			t.Errorf("%s: read back in %v, want UTC", col, tt[1].Location())
		}
	}
}
