// Package storetest is the conformance suite of package store: what every dialect must do,
// and do the same way. A dialect's test hands Run a function that opens a fresh store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) *store.Store {
//			st, err := store.Open(t.Context(), store.Config{DataDir: t.TempDir()})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { _ = st.Close() })
//			if _, err := st.Migrate(t.Context()); err != nil {
//				t.Fatal(err)
//			}
//			return st
//		})
//	}
//
// The suite checks what a caller relies on: values read back equal what was written, the
// sentinel errors, tenant isolation, cursor pagination, the conditional updates that must
// hold under concurrency, and the janitor. It does not look at how the store gets there.
// Times are compared at microseconds, the precision of Postgres.
//
// Subtests skipped with "BUG: ..." demonstrate a known store bug: they fail as written and
// are skipped until the bug is fixed; remove the skip with the fix.
//
// It is split by table group (accounts, scopes, clients, grants, customers, tokens,
// throttle, sessions, keys, sweep) so that each group can follow the store if it is ever
// split the same way.
package storetest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

// opener returns a fresh, migrated, empty store, closed when t ends.
type opener = func(t *testing.T) *store.Store

// Run runs the whole suite. open must return a fresh, migrated, empty store for each call;
// it is called from parallel subtests, once per subtest.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	groups := []struct {
		name string
		run  func(*testing.T, opener)
	}{
		{"Store", testStore},
		{"Accounts", testAccounts},
		{"Scopes", testScopes},
		{"Clients", testClients},
		{"Grants", testGrants},
		{"Customers", testCustomers},
		{"Tokens", testTokens},
		{"Throttle", testThrottle},
		{"Sessions", testSessions},
		{"Keys", testKeys},
		{"Sweep", testSweep},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, open) })
	}
}

// test is one independent subtest: it gets a store of its own.
type test struct {
	name string
	run  func(t *testing.T, st *store.Store)
}

// runAll runs each test as a parallel subtest on a fresh store. Opening after t.Parallel
// keeps the number of open stores (and Postgres connections) at the parallelism limit.
func runAll(t *testing.T, open opener, tests []test) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

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
			if _, err := st.GetAccount(t.Context(), "acct"); err != nil {
				t.Errorf("account after second Migrate: %v", err)
			}
		}},
		{"Queries", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			before := st.Queries()
			_, _ = st.GetAccount(ctx, "none")
			afterRead := st.Queries()
			if afterRead <= before {
				t.Errorf("Queries() did not grow over a read: %d then %d", before, afterRead)
			}
			// A transaction's statements count on the store it came from.
			must(t, st.InTx(ctx, func(tx *store.Store) error {
				_, err := tx.AllAccountIDs(ctx)
				return err
			}), "InTx")
			if st.Queries() <= afterRead {
				t.Errorf("Queries() did not grow over a transaction: %d then %d", afterRead, st.Queries())
			}
		}},
		{"InTxCommits", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			err := st.InTx(ctx, func(tx *store.Store) error {
				if err := tx.CreateAccount(ctx, account("acct"), nil); err != nil {
					return err
				}
				// The transaction reads its own writes.
				if _, err := tx.GetAccount(ctx, "acct"); err != nil {
					t.Errorf("account inside its transaction: %v", err)
				}
				return tx.CreateScope(ctx, scope("acct", "sc1", "read"))
			})
			must(t, err, "InTx")
			if _, err := st.GetAccount(ctx, "acct"); err != nil {
				t.Errorf("account after commit: %v", err)
			}
			if _, err := st.GetScope(ctx, "acct", "sc1"); err != nil {
				t.Errorf("scope after commit: %v", err)
			}
		}},
		{"InTxRollsBack", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			errStop := errors.New("stop")
			err := st.InTx(ctx, func(tx *store.Store) error {
				if err := tx.CreateAccount(ctx, account("acct"), nil); err != nil {
					return err
				}
				if err := tx.CreateScope(ctx, scope("acct", "sc1", "read")); err != nil {
					return err
				}
				return errStop
			})
			if !errors.Is(err, errStop) {
				t.Fatalf("InTx returned %v, want the error of fn", err)
			}
			wantErr(t, getErr(st.GetAccount(ctx, "acct")), store.ErrNotFound, "account after rollback")
			wantErr(t, getErr(st.GetScope(ctx, "acct", "sc1")), store.ErrNotFound, "scope after rollback")
			ids, err := st.AllAccountIDs(ctx)
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
				if err := tx.CreateScope(ctx, scope("acct", "sc2", "write")); err != nil {
					return err
				}
				return tx.CreateScope(ctx, scope("acct", "sc3", "read")) // the scope string is taken
			})
			wantErr(t, err, store.ErrConflict, "InTx with a conflicting insert")
			wantErr(t, getErr(st.GetScope(ctx, "acct", "sc2")), store.ErrNotFound, "scope written before the conflict")
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
			if _, err := st.GetAccount(t.Context(), "acct"); err == nil {
				t.Error("GetAccount after Close succeeded")
			}
		}},
		{"TimesComeBackEqual", testTimesEqual},
		{"TimesComeBackInUTC", testTimesUTC},
		{"ZeroPageLimit", func(t *testing.T, st *store.Store) {
			t.Skip("BUG: store.Page{} (Limit 0) panics with index out of range [-1] in pageOf (store/store.go:211) " +
				"as soon as one row exists; the zero value should give an empty page, or an error")
			mkAccount(t, st, "acct")
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("ListAccounts(Page{}) panicked: %v", r)
				}
			}()
			if _, _, err := st.ListAccounts(t.Context(), store.Page{}); err != nil {
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
	must(t, st.CreateAccount(ctx, a, nil, key), "CreateAccount")
	must(t, st.AddSigningKeys(ctx, retire, signingKey("acct", "k2", when(5))), "AddSigningKeys")
	ga, err := st.GetAccount(ctx, "acct")
	must(t, err, "GetAccount")
	out["account.created_at"] = [2]time.Time{a.CreatedAt, ga.CreatedAt}
	out["account.updated_at"] = [2]time.Time{a.UpdatedAt, ga.UpdatedAt}
	keys, err := st.ListSigningKeys(ctx, "acct")
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
	gs, err := st.GetScope(ctx, "acct", "sc1")
	must(t, err, "GetScope")
	out["scope.created_at"] = [2]time.Time{sc.CreatedAt, gs.CreatedAt}

	c := mkClient(t, st, "acct", store.KindConfidential, "c1")
	gc, err := st.GetClient(ctx, "acct", store.KindConfidential, "c1")
	must(t, err, "GetClient")
	out["client.created_at"] = [2]time.Time{c.CreatedAt, gc.CreatedAt}
	out["client.updated_at"] = [2]time.Time{c.UpdatedAt, gc.UpdatedAt}

	sec := secret("c1", "s1")
	exp, used := when(6), when(7)
	sec.ExpiresAt = &exp
	must(t, st.CreateSecret(ctx, sec, 10), "CreateSecret")
	must(t, st.TouchSecrets(ctx, map[string]time.Time{"s1": used}), "TouchSecrets")
	secs, err := st.ClientSecrets(ctx, "c1")
	must(t, err, "ClientSecrets")
	if len(secs) != 1 || secs[0].ExpiresAt == nil || secs[0].LastUsedAt == nil {
		t.Fatalf("secret read back as %+v", secs)
	}
	out["secret.created_at"] = [2]time.Time{sec.CreatedAt, secs[0].CreatedAt}
	out["secret.expires_at"] = [2]time.Time{exp, *secs[0].ExpiresAt}
	out["secret.last_used_at"] = [2]time.Time{used, *secs[0].LastUsedAt}

	g := mkGrant(t, st, "acct", "c1", "g1", "api", store.GrantPassword)
	gg, err := st.GetGrant(ctx, "acct", "g1")
	must(t, err, "GetGrant")
	out["grant.created_at"] = [2]time.Time{g.CreatedAt, gg.CreatedAt}
	out["grant.updated_at"] = [2]time.Time{g.UpdatedAt, gg.UpdatedAt}

	cu := mkCustomer(t, st, "acct", "cu1", "ann@example.org", "")
	gcu, err := st.GetCustomer(ctx, "acct", "cu1")
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
	t.Skip("BUG: times do not come back in UTC: SQLite stores the writer's offset and returns a " +
		"time.FixedZone (glebarez/go-sqlite formats t in its own location), Postgres (pgx) returns time.Local; " +
		"the store never calls .UTC() on write or read (store/models.go time fields, store/store.go:75 only covers GORM's own timestamps)")
	for col, tt := range storedTimes(t, st) {
		if tt[1].Location() != time.UTC {
			t.Errorf("%s: read back in %v, want UTC", col, tt[1].Location())
		}
	}
}

// zone is east of UTC with a half-hour offset, so that a store keeping local wall clocks or
// dropping the offset shows.
var zone = time.FixedZone("UTC+05:30", 5*3600+30*60)

// when is the i-th hour after an arbitrary instant, in zone, at microsecond precision (what
// Postgres keeps; SQLite keeps more).
func when(i int) time.Time {
	return time.Date(2026, 3, 14, 15, 9, 26, 535897000, zone).Add(time.Duration(i) * time.Hour)
}

// clock is "now" for the millisecond columns (tokens, codes, sessions, throttle).
var clock = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func ms(t time.Time) int64 { return t.UnixMilli() }

// stampedDuring checks that a time the store took from its own clock (an update's
// updated_at) lies between before and after, at the microsecond Postgres keeps.
func stampedDuring(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.Before(before.Truncate(time.Microsecond)) || got.After(after) {
		t.Errorf("%s: %v, want a time between %v and %v", what, got, before, after)
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// getErr drops the value of a getter, to check its error.
func getErr[T any](_ T, err error) error { return err }

// rows counts the rows of a table that match a condition, for what no method reads back
// (idle login counters, dead sessions).
func rows(t *testing.T, st *store.Store, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	must(t, st.DB().WithContext(t.Context()).Table(table).Where(where, args...).Count(&n).Error, "count "+table)
	return n
}

// race runs f in n goroutines released at once and returns their results by index.
func race[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// checkPages walks list page by page with several page sizes and checks that every walk
// yields exactly want, in order: no duplicates, no gaps, full pages while a cursor is
// returned, and an empty cursor on the last page (never an empty page after it).
func checkPages[T any](t *testing.T, want []string, id func(T) string, list func(store.Page) ([]T, string, error)) {
	t.Helper()
	limits := []int{1, 2, 3, len(want) - 1, len(want), len(want) + 1, 100}
	slices.Sort(limits)
	for _, limit := range slices.Compact(limits) {
		if limit < 1 {
			continue
		}
		var got []string
		after, pages := "", 0
		for {
			pages++
			if pages > len(want)+1 {
				t.Fatalf("limit %d: more pages than rows (cursor %q never ends)", limit, after)
			}
			rows, next, err := list(store.Page{Limit: limit, After: after})
			if err != nil {
				t.Fatalf("limit %d, after %q: %v", limit, after, err)
			}
			if len(rows) > limit {
				t.Errorf("limit %d: page of %d rows", limit, len(rows))
			}
			for _, r := range rows {
				got = append(got, id(r))
			}
			if next == "" {
				break
			}
			if len(rows) != limit {
				t.Errorf("limit %d: page of %d rows with a next cursor", limit, len(rows))
			}
			after = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: walked %v, want %v", limit, got, want)
		}
		if wantPages := max(1, (len(want)+limit-1)/limit); pages != wantPages {
			t.Errorf("limit %d: %d pages for %d rows, want %d", limit, pages, len(want), wantPages)
		}
	}
}

// Fixtures. Each builds a valid row from a few ids; the mk* variants also insert it.

func account(aid string) *store.Account {
	return &store.Account{AID: aid, Name: "Account " + aid, CreatedAt: when(0), UpdatedAt: when(1)}
}

func mkAccount(t *testing.T, st *store.Store, aid string) *store.Account {
	t.Helper()
	a := account(aid)
	must(t, st.CreateAccount(t.Context(), a, nil), "CreateAccount "+aid)
	return a
}

func scope(aid, id, name string) *store.Scope {
	return &store.Scope{ID: id, AID: aid, ServiceName: "svc", Audience: "https://api.example.org",
		Scope: name, Description: "scope " + name, CreatedAt: when(2)}
}

func mkScope(t *testing.T, st *store.Store, aid, id, name string) *store.Scope {
	t.Helper()
	sc := scope(aid, id, name)
	must(t, st.CreateScope(t.Context(), sc), "CreateScope "+id)
	return sc
}

func client(aid, kind, id string) *store.Client {
	return &store.Client{ID: id, AID: aid, ClientID: "cid-" + id, Kind: kind, Name: "client " + id,
		RedirectURIs: []string{}, PostLogoutRedirectURIs: []string{}, CreatedAt: when(3), UpdatedAt: when(4)}
}

func mkClient(t *testing.T, st *store.Store, aid, kind, id string, scopeIDs ...string) *store.Client {
	t.Helper()
	c := client(aid, kind, id)
	must(t, st.CreateClient(t.Context(), c, scopeIDs), "CreateClient "+id)
	return c
}

func secret(clientPK, id string) *store.Secret {
	return &store.Secret{ID: id, ClientPK: clientPK, Hash: []byte("secret:" + clientPK + ":" + id),
		Hint: "ab…" + id, Description: "secret " + id, CreatedAt: when(5)}
}

func grant(aid, clientPK, id, audience, grantType string) *store.Grant {
	return &store.Grant{ID: id, AID: aid, ClientPK: clientPK, Audience: audience, GrantType: grantType,
		Scopes: []string{"read"}, CreatedAt: when(6), UpdatedAt: when(7)}
}

func mkGrant(t *testing.T, st *store.Store, aid, clientPK, id, audience, grantType string) *store.Grant {
	t.Helper()
	g := grant(aid, clientPK, id, audience, grantType)
	must(t, st.CreateGrant(t.Context(), g), "CreateGrant "+id)
	return g
}

// customer builds a customer; the email is stored as given and as its normalised key, which
// the caller computes (the store compares keys, it does not fold case itself).
func customer(aid, id, email, phone string) *store.Customer {
	c := &store.Customer{ID: id, AID: aid, Type: "customer", Name: "Customer " + id, Status: store.CustomerActive,
		Scopes: []string{}, Metadata: map[string]any{}, CreatedAt: when(8), UpdatedAt: when(9)}
	if email != "" {
		norm := strings.ToLower(email)
		c.Email, c.EmailNorm = &email, &norm
	}
	if phone != "" {
		c.PhoneNumber = &phone
	}
	return c
}

func mkCustomer(t *testing.T, st *store.Store, aid, id, email, phone string) *store.Customer {
	t.Helper()
	c := customer(aid, id, email, phone)
	must(t, st.CreateCustomer(t.Context(), c, nil), "CreateCustomer "+id)
	return c
}

func signingKey(aid, kid string, activates time.Time) *store.SigningKey {
	return &store.SigningKey{KID: kid, AID: aid, Alg: "ES256", PrivateKey: []byte("sealed:" + kid),
		PublicJWK: `{"kid":"` + kid + `"}`, CreatedAt: activates.Add(-time.Minute), ActivatesAt: activates}
}

// refreshToken builds the first token of a family, live for an hour after clock.
func refreshToken(aid, customerID, id string) *store.RefreshToken {
	return &store.RefreshToken{ID: id, AID: aid, FamilyID: "fam-" + id, Hash: []byte("rt:" + id),
		ClientID: "app", CustomerID: customerID, Audience: "https://api.example.org", Scopes: "openid read",
		CreatedMS: ms(clock), IdleUntilMS: ms(clock.Add(time.Hour)), UntilMS: ms(clock.Add(24 * time.Hour))}
}

func mkRefreshToken(t *testing.T, st *store.Store, aid, customerID, id string) *store.RefreshToken {
	t.Helper()
	rt := refreshToken(aid, customerID, id)
	must(t, st.CreateRefreshToken(t.Context(), rt), "CreateRefreshToken "+id)
	return rt
}

// code builds a reset code of a customer, live for an hour after clock.
func code(aid, customerID, id string) *store.VerificationCode {
	return &store.VerificationCode{ID: id, AID: aid, CustomerID: customerID, Purpose: store.PurposeReset,
		CodeHash: []byte("code:" + id), CreatedMS: ms(clock), ExpiresMS: ms(clock.Add(time.Hour))}
}

func session(aid, customerID, id string) *store.Session {
	return &store.Session{ID: id, AID: aid, Hash: []byte("session:" + id), CustomerID: customerID,
		AuthTimeMS: ms(clock), IdleUntilMS: ms(clock.Add(time.Hour)), UntilMS: ms(clock.Add(8 * time.Hour))}
}

func authCode(aid, customerID, id string) *store.AuthCode {
	return &store.AuthCode{ID: id, AID: aid, Hash: []byte("authcode:" + id), ClientID: "app",
		RedirectURI: "https://app.example.org/cb", CustomerID: customerID, SessionID: "se-" + id,
		Scopes: "openid profile", Audience: "https://api.example.org", Nonce: "n-" + id, CodeChallenge: "cc-" + id,
		AuthTimeMS: ms(clock), ExpiresMS: ms(clock.Add(time.Minute))}
}
